package disclosure

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/lifang-community/lifang/privacy"
)

// Defaults of the private aggregate.
const (
	DefaultMechanism    = "laplace"
	DefaultEpsilon      = 0.5
	DefaultGaussDelta   = 1e-6
	DefaultBudgetEps    = 1.0
	DefaultBudgetDelta  = 1e-6
	DefaultMaxKWh       = 5000.0 // one household's total over the period
	DefaultQuantumKWh   = 0.001  // 1 Wh
	TailProbability     = 1e-9
	privateHouseholdsID = "private/household_consumption_total"
	privateAssetsID     = "private/asset_consumption_total"
)

// PrivacyOptions configure the private aggregate. The zero value means the
// defaults above, except LedgerPath, which [Build] requires.
type PrivacyOptions struct {
	// Mechanism is "laplace" (pure ε-DP) or "gaussian" ((ε, δ)-DP).
	Mechanism string
	// Epsilon and Delta are what this release costs (Delta: Gaussian only).
	Epsilon, Delta float64
	// Budget is the scope's total under basic composition; the scope is the
	// log's origin, so every pack over one dataset draws on one budget.
	Budget privacy.Budget
	// LedgerPath is the budget ledger (JSON Lines, privacy.FileStore). It must
	// outlive any one pack: keep it with the database, not in the pack.
	LedgerPath string
	// MaxKWh bounds one household's consumption over the period (clamped to
	// [0, MaxKWh]); QuantumKWh is the quantisation step of the noise.
	MaxKWh, QuantumKWh float64
	// Noise draws the noise; nil means crypto/rand. Only tests inject one.
	Noise privacy.Source
	// Skip leaves the private figure out (and spends nothing).
	Skip bool
}

func (o *PrivacyOptions) defaults() {
	if o.Mechanism == "" {
		o.Mechanism = DefaultMechanism
	}
	if o.Epsilon == 0 {
		o.Epsilon = DefaultEpsilon
	}
	if o.Mechanism == "gaussian" && o.Delta == 0 {
		o.Delta = DefaultGaussDelta
	}
	if o.Budget == (privacy.Budget{}) {
		o.Budget = privacy.Budget{Epsilon: DefaultBudgetEps, Delta: DefaultBudgetDelta}
	}
	if o.MaxKWh == 0 {
		o.MaxKWh = DefaultMaxKWh
	}
	if o.QuantumKWh == 0 {
		o.QuantumKWh = DefaultQuantumKWh
	}
}

func (o *PrivacyOptions) valid() error {
	if o.Skip {
		return nil
	}
	switch o.Mechanism {
	case "laplace":
		if o.Delta != 0 {
			return fmt.Errorf("privacy: delta %v: the Laplace mechanism is pure ε-DP; use gaussian for (ε, δ)", o.Delta)
		}
	case "gaussian":
	default:
		return fmt.Errorf("privacy: mechanism %q: want laplace or gaussian", o.Mechanism)
	}
	if o.LedgerPath == "" {
		return errors.New("privacy: a budget ledger path is required")
	}
	if !(o.MaxKWh > 0) || math.IsInf(o.MaxKWh, 0) {
		return fmt.Errorf("privacy: household bound %v kWh must be a finite number > 0", o.MaxKWh)
	}
	if !(o.QuantumKWh > 0) || o.MaxKWh/o.QuantumKWh > 1<<40 || math.Round(o.MaxKWh/o.QuantumKWh) < 1 {
		return fmt.Errorf("privacy: quantum %v kWh must be > 0, at most the bound %v and at least 2⁻⁴⁰ of it", o.QuantumKWh, o.MaxKWh)
	}
	return nil
}

func (o *PrivacyOptions) mechanism() (privacy.Mechanism, error) {
	if o.Mechanism == "gaussian" {
		return privacy.NewGaussian(o.Epsilon, o.Delta)
	}
	return privacy.NewLaplace(o.Epsilon)
}

// contributors are the per-contributor totals (kWh) the private aggregate sums:
// households when any point is household-level, else assets (first name segment).
type contributors struct {
	kind      string // "households" or "assets"
	values    map[string]*big.Rat
	selector  string
	hasHouses bool // some point is household-level (its points are then not published)
}

func selectContributors(m *metered) contributors {
	c := contributors{values: map[string]*big.Rat{}}
	for _, s := range m.series {
		if _, ok, _ := m.houses.of(s.point); ok {
			c.hasHouses = true
		}
	}
	c.kind, c.selector = "households", "household-level points in an energy unit (kWh, Wh, MWh), by household: "+HouseholdRule
	if !c.hasHouses {
		c.kind, c.selector = "assets", "no household-level points exist, so every point in an energy unit (kWh, Wh, MWh), by asset (the name's first segment)"
	}
	for _, s := range m.series {
		f, ok := energyKWh(s.unit)
		if !ok {
			continue
		}
		key, hh, _ := m.houses.of(s.point)
		if c.hasHouses && !hh {
			continue
		}
		if !c.hasHouses {
			key, _, _ = strings.Cut(s.point, "/")
		}
		v, _ := consumption(s, m.replaced[s.point])
		v.Mul(v, f)
		if c.values[key] == nil {
			c.values[key] = new(big.Rat)
		}
		c.values[key].Add(c.values[key], v)
	}
	return c
}

// floats are the contributors' totals as the float64 values Release clamps,
// in name order.
func (c contributors) floats() []float64 {
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]float64, len(keys))
	for i, k := range keys {
		out[i], _ = c.values[k].Float64()
	}
	return out
}

// quantised are a query's bounds in quantisation units, as privacy.Release
// rounds them.
func quantised(b Bounds) (lo, hi int64) {
	return int64(math.Round(b.Lo / b.Unit)), int64(math.Round(b.Hi / b.Unit))
}

// clampedSum is the exact statistic privacy.Release adds noise to.
func clampedSum(values []float64, b Bounds) int64 {
	lo, hi := quantised(b)
	var s int64
	for _, v := range values {
		s += privacy.Clamp(v, b.Unit, lo, hi)
	}
	return s
}

// tailBound is B with P[|noise| > B] ≤ TailProbability:
//   - discrete Laplace of scale t: P[|X| ≥ k] = 2e^{−k/t}/(1 + e^{−1/t}) < 2e^{−k/t},
//     so B = ⌈t ln(2/p)⌉;
//   - discrete Gaussian of parameter σ²: sub-Gaussian, P[|X| ≥ k] ≤ 2e^{−k²/(2σ²)}
//     (Canonne, Kamath & Steinke 2020), so B = ⌈σ √(2 ln(2/p))⌉.
func tailBound(scaleParam string, scale *big.Rat) (int64, error) {
	s, _ := scale.Float64()
	l := math.Log(2 / TailProbability)
	var b float64
	switch scaleParam {
	case "t":
		b = s * l
	case "sigma2":
		b = math.Sqrt(s) * math.Sqrt(2*l)
	default:
		return 0, fmt.Errorf("scale parameter %q: want t or sigma2", scaleParam)
	}
	if !(b < math.MaxInt64/2) {
		return 0, fmt.Errorf("tail bound %v out of range", b)
	}
	return int64(math.Ceil(b)), nil
}

// tail states the bound in kWh and the noise's standard deviation: discrete Laplace of
// scale t has variance 2e^{−1/t}/(1−e^{−1/t})² (≈ 2t²); the discrete Gaussian's is at
// most σ².
func tail(bound int64, scaleParam string, scale *big.Rat, quantum float64) Tail {
	s, _ := scale.Float64()
	v := s
	if scaleParam == "t" {
		e := math.Exp(-1 / s)
		v = 2 * e / ((1 - e) * (1 - e))
	}
	return Tail{Probability: TailProbability, Bound: bound, BoundKWh: decimalString(noisyValue(bound, quantum)),
		StdDevKWh: math.Round(math.Sqrt(v)*quantum*1000) / 1000}
}

func privateDerivation(kind string) string {
	who := "household"
	if kind == "assets" {
		who = "asset"
	}
	return fmt.Sprintf("Σ over each %s of clamp(its consumption in kWh, [lo, hi]) in integer quanta, plus integer noise "+
		"(discrete Laplace of scale t = Δ/ε, or discrete Gaussian of σ² from (ε, δ) via zCDP), Δ = max(|lo|, |hi|) quanta; "+
		"value = clamp(noisy quanta, 0, contributors × hi) × quantum (post-processing: never negative nor beyond every %s at the bound). "+
		"The noise is not re-derivable: verify recomputes the exact clamped sum from data/ "+
		"and checks |noisy − exact| ≤ the tail bound (stated in kWh with the noise's standard deviation), which the noise exceeds with probability ≤ %g", who, who, TailProbability)
}

// privateSkeleton is the private figure without its noisy value and privacy
// parameters: what verify re-derives and compares field by field.
func privateSkeleton(m *metered, c contributors) Figure {
	id, zh, en := privateHouseholdsID, "住户用电总量（差分隐私）", "household electricity consumption, total (differentially private)"
	if c.kind == "assets" {
		id, zh, en = privateAssetsID, "各资产用电总量（差分隐私；未发现住户计量点）", "electricity consumption of all assets, total (differentially private; no household points found)"
	}
	cp := m.cp
	return Figure{ID: id, LabelZH: zh, LabelEN: en, Unit: "kWh", Derivation: privateDerivation(c.kind),
		Provenance: Provenance{Checkpoint: &cp, Selector: c.selector, From: formatNanos(m.from), To: formatNanos(m.to)}}
}

// privateFigure charges the ledger, then releases the aggregate.
func privateFigure(m *metered, c contributors, o PrivacyOptions, now time.Time) (Figure, error) {
	mech, err := o.mechanism()
	if err != nil {
		return Figure{}, err
	}
	f := privateSkeleton(m, c)
	q := privacy.Query{Aggregate: privacy.Sum, Lo: 0, Hi: o.MaxKWh, Unit: o.QuantumKWh}
	scope := m.cp.Origin
	led, err := privacy.NewLedger(scope, o.Budget, privacy.NewFileStore(o.LedgerPath), func() time.Time { return now })
	if err != nil {
		return Figure{}, err
	}
	entry := fmt.Sprintf("%s @ %s/%d %s", f.ID, m.cp.Origin, m.cp.TreeSize, now.UTC().Format(time.RFC3339Nano))
	if err := led.Spend(entry, mech.Epsilon(), mech.Delta()); err != nil {
		return Figure{}, err
	}
	r, err := privacy.Release(c.floats(), q, mech, o.Noise)
	if err != nil {
		return Figure{}, err
	}
	st := r.Statistics[0]
	b := Bounds{Lo: r.Lo, Hi: r.Hi, Unit: r.Unit, ValueUnit: "kWh"}
	scale, ok := new(big.Rat).SetString(st.Scale)
	if !ok {
		return Figure{}, fmt.Errorf("privacy: scale %q is not a rational", st.Scale)
	}
	tb, err := tailBound(st.ScaleParam, scale)
	if err != nil {
		return Figure{}, err
	}
	spent := led.Spent()
	n := len(c.values)
	_, hiQ := quantised(b)
	pub := [2]int64{0, int64(n) * hiQ}
	f.Value = json.Number(decimalString(noisyValue(min(max(st.Noisy, pub[0]), pub[1]), b.Unit)))
	f.Privacy = &Privacy{
		Mechanism: r.Mechanism, Aggregate: string(r.Aggregate), Epsilon: r.Epsilon, Delta: r.Delta, Bounds: b,
		Sensitivity: st.Sensitivity, ScaleParam: st.ScaleParam, Scale: st.Scale, ScaleValue: st.ScaleValue, Rho: st.Rho,
		Noisy: st.Noisy, Tail: tail(tb, st.ScaleParam, scale, b.Unit), Contributors: c.kind, ContributorCount: n, Published: pub,
		Budget: Budget{Scope: scope, Ledger: LedgerFile, Entry: entry,
			TotalEpsilon: o.Budget.Epsilon, TotalDelta: o.Budget.Delta, SpentEpsilon: spent.Epsilon, SpentDelta: spent.Delta},
	}
	return f, nil
}

// noisyValue is a count of quanta in the value's unit, exactly.
func noisyValue(quanta int64, quantum float64) *big.Rat {
	return new(big.Rat).Mul(big.NewRat(quanta, 1), ratOf(quantum))
}

// checkPrivacyParams returns every inconsistency among a private figure's
// recorded parameters: what the mechanism, ε, δ and bounds imply.
func checkPrivacyParams(p *Privacy) []string {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	if p.Aggregate != string(privacy.Sum) {
		add("aggregate %q, want %q", p.Aggregate, privacy.Sum)
	}
	if !(p.Bounds.Unit > 0) || p.Bounds.Lo > p.Bounds.Hi {
		add("bounds [%v, %v] with quantum %v are not a valid range", p.Bounds.Lo, p.Bounds.Hi, p.Bounds.Unit)
		return bad
	}
	lo, hi := quantised(p.Bounds)
	if want := max(abs64(lo), abs64(hi)); p.Sensitivity != want {
		add("sensitivity %d, but max(|lo|, |hi|)/quantum = %d", p.Sensitivity, want)
	}
	scale, ok := parseRational(p.Scale)
	if !ok || scale.Sign() <= 0 {
		add("scale %q is not a rational > 0", truncate(p.Scale, 60))
		return bad
	}
	if f, _ := scale.Float64(); f != p.ScaleValue {
		add("scale_value %v, but scale %s is %v", p.ScaleValue, p.Scale, f)
	}
	switch p.Mechanism {
	case privacy.NameDiscreteLaplace:
		if p.ScaleParam != "t" {
			add("scale_param %q, want t for %s", p.ScaleParam, p.Mechanism)
		}
		if p.Delta != 0 {
			add("delta %v, but %s is pure ε-DP (δ = 0)", p.Delta, p.Mechanism)
		}
		m, err := privacy.NewLaplace(p.Epsilon)
		if err != nil {
			add("epsilon %v: %v", p.Epsilon, err)
			break
		}
		if m.Epsilon() != p.Epsilon {
			add("epsilon %v is not on the %v grid the mechanism uses (%v)", p.Epsilon, privacy.EpsilonResolution, m.Epsilon())
		}
		// t = Δ/ε exactly, ε as the decimal it prints as.
		want := new(big.Rat).Quo(big.NewRat(p.Sensitivity, 1), ratOf(p.Epsilon))
		if scale.Cmp(want) != 0 {
			add("scale t = %s, but sensitivity/epsilon = %d/%v = %s", p.Scale, p.Sensitivity, p.Epsilon, want.RatString())
		}
	case privacy.NameDiscreteGaussian:
		if p.ScaleParam != "sigma2" {
			add("scale_param %q, want sigma2 for %s", p.ScaleParam, p.Mechanism)
		}
		m, err := privacy.NewGaussian(p.Epsilon, p.Delta)
		if err != nil {
			add("(epsilon %v, delta %v): %v", p.Epsilon, p.Delta, err)
			break
		}
		g, err := m.Calibrate(max(p.Sensitivity, 1))
		if err != nil {
			add("calibrate: %v", err)
			break
		}
		if g.Sigma2().Cmp(scale) != 0 {
			add("scale σ² = %s, but (ε %v, δ %v, Δ %d) calibrate to σ² = %s", p.Scale, p.Epsilon, p.Delta, p.Sensitivity, g.Sigma2().RatString())
		}
		rho := new(big.Rat).SetFrac64(p.Sensitivity*p.Sensitivity, 1)
		rho.Quo(rho, new(big.Rat).Mul(big.NewRat(2, 1), scale))
		if f, _ := rho.Float64(); math.Abs(f-p.Rho) > 1e-12*f {
			add("rho %v, but Δ²/(2σ²) = %v", p.Rho, f)
		}
	default:
		add("mechanism %q: want %s or %s", p.Mechanism, privacy.NameDiscreteLaplace, privacy.NameDiscreteGaussian)
	}
	if p.Tail.Probability != TailProbability {
		add("tail probability %v, want %v", p.Tail.Probability, TailProbability)
	}
	if tb, err := tailBound(p.ScaleParam, scale); err != nil {
		add("tail bound: %v", err)
	} else if tb != p.Tail.Bound {
		add("tail bound %d, but %s = %s gives %d", p.Tail.Bound, p.ScaleParam, p.Scale, tb)
	}
	b := p.Budget
	if ratOf(p.Epsilon).Cmp(ratOf(b.TotalEpsilon)) > 0 || ratOf(p.Delta).Cmp(ratOf(b.TotalDelta)) > 0 {
		add("release (ε %v, δ %v) exceeds the total budget (ε %v, δ %v)", p.Epsilon, p.Delta, b.TotalEpsilon, b.TotalDelta)
	}
	return bad
}

// checkLedger checks a private figure against the pack's copy of the budget
// ledger: the charge is recorded with the figure's cost, and everything the
// scope has spent up to and including it fits the total.
func checkLedger(path string, p *Privacy) []string {
	var bad []string
	b, err := readRegular(path)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", LedgerFile, err)}
	}
	spentE, spentD := new(big.Rat), new(big.Rat)
	found := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var e privacy.Entry
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return append(bad, fmt.Sprintf("%s:%d: %v", LedgerFile, line, err))
		}
		if e.Scope != p.Budget.Scope {
			continue
		}
		spentE.Add(spentE, ratOf(e.Epsilon))
		spentD.Add(spentD, ratOf(e.Delta))
		if e.Name == p.Budget.Entry {
			found = true
			if e.Epsilon != p.Epsilon || e.Delta != p.Delta {
				bad = append(bad, fmt.Sprintf("%s:%d: entry %q charged (ε %v, δ %v), the figure says (ε %v, δ %v)",
					LedgerFile, line, e.Name, e.Epsilon, e.Delta, p.Epsilon, p.Delta))
			}
			if e, d := privacy.FloatUp(spentE), privacy.FloatUp(spentD); e != p.Budget.SpentEpsilon || d != p.Budget.SpentDelta {
				bad = append(bad, fmt.Sprintf("%s:%d: up to entry %q the scope spent (ε %v, δ %v), the figure says (ε %v, δ %v)",
					LedgerFile, line, p.Budget.Entry, e, d, p.Budget.SpentEpsilon, p.Budget.SpentDelta))
			}
			if spentE.Cmp(ratOf(p.Budget.TotalEpsilon)) > 0 || spentD.Cmp(ratOf(p.Budget.TotalDelta)) > 0 {
				bad = append(bad, fmt.Sprintf("%s:%d: with entry %q scope %q has spent (ε %s, δ %s), over its total (ε %v, δ %v)",
					LedgerFile, line, e.Name, e.Scope, decimalString(spentE), decimalString(spentD), p.Budget.TotalEpsilon, p.Budget.TotalDelta))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return append(bad, fmt.Sprintf("%s: %v", LedgerFile, err))
	}
	if !found {
		bad = append(bad, fmt.Sprintf("%s: no entry %q in scope %q: the release was not charged", LedgerFile, p.Budget.Entry, p.Budget.Scope))
	}
	return bad
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
