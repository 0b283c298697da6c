package privacy

import (
	"fmt"
	"math"
)

// Aggregate names the statistic a [Release] publishes.
type Aggregate string

// Supported aggregates.
const (
	// Sum of the clamped household values.
	Sum Aggregate = "sum"
	// Count of households.
	Count Aggregate = "count"
	// Mean of the clamped household values: noisy sum / noisy count, each
	// using half the mechanism's budget.
	Mean Aggregate = "mean"
)

// maxBoundUnits bounds |lo| and |hi| in quantisation units so that bounds are
// exact in float64 and a sum over millions of households fits an int64.
const maxBoundUnits = 1 << 40

// Query describes one aggregate over per-household values.
type Query struct {
	Aggregate Aggregate `json:"aggregate"`
	// Lo and Hi bound one household's contribution, in the values' unit
	// (e.g. kWh). Each value is clamped into [Lo, Hi] before aggregation.
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
	// Unit is the quantisation step in the values' unit (e.g. 0.001 for Wh
	// when values are kWh); values and bounds are rounded to multiples of it
	// and the noise is integer in these units.
	Unit float64 `json:"unit"`
}

func (q Query) validate() error {
	switch q.Aggregate {
	case Sum, Count, Mean:
	default:
		return fmt.Errorf("%w: aggregate %q is not one of %q, %q, %q", ErrInvalidParameter, q.Aggregate, Sum, Count, Mean)
	}
	if !isFinite(q.Unit) || q.Unit <= 0 {
		return fmt.Errorf("%w: unit must be a finite number > 0, got %v", ErrInvalidParameter, q.Unit)
	}
	if !isFinite(q.Lo) || !isFinite(q.Hi) {
		return fmt.Errorf("%w: bounds must be finite, got [%v, %v]", ErrInvalidParameter, q.Lo, q.Hi)
	}
	if q.Lo > q.Hi {
		return fmt.Errorf("%w: lower bound %v exceeds upper bound %v", ErrInvalidParameter, q.Lo, q.Hi)
	}
	if math.Abs(q.Lo/q.Unit) > maxBoundUnits || math.Abs(q.Hi/q.Unit) > maxBoundUnits {
		return fmt.Errorf("%w: bounds [%v, %v] exceed 2^40 units of %v; use a coarser unit", ErrInvalidParameter, q.Lo, q.Hi, q.Unit)
	}
	return nil
}

// Result is a released aggregate with the privacy parameters it was produced
// under; it marshals to the JSON a disclosure embeds next to the figure.
// The true number of households is deliberately absent.
type Result struct {
	Aggregate Aggregate `json:"aggregate"`
	// Value is the noisy aggregate in the values' unit (households for Count).
	Value     float64 `json:"value"`
	Mechanism string  `json:"mechanism"`
	// Epsilon and Delta are the total cost of this release under basic
	// composition of its statistics.
	Epsilon float64 `json:"epsilon"`
	Delta   float64 `json:"delta"`
	// Lo and Hi are the clamping bounds actually applied (rounded to Unit).
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
	Unit float64 `json:"unit"`
	// Statistics lists each noisy integer statistic the value is computed
	// from: one for Sum and Count, two (sum, count) for Mean.
	Statistics []Statistic `json:"statistics"`
}

// Statistic is one noisy integer statistic and the noise it received.
type Statistic struct {
	Name string `json:"name"` // "sum" or "count"
	// Noisy is the released integer: quantisation units for a sum,
	// households for a count.
	Noisy int64 `json:"noisy"`
	// Sensitivity is the most one household can change the statistic, in
	// the same units as Noisy (add/remove-one neighbouring).
	Sensitivity int64 `json:"sensitivity"`
	// ScaleParam is "t" (discrete Laplace scale) or "sigma2" (discrete
	// Gaussian σ²), Scale its exact rational value and ScaleValue its float.
	ScaleParam string  `json:"scale_param"`
	Scale      string  `json:"scale"`
	ScaleValue float64 `json:"scale_value"`
	Epsilon    float64 `json:"epsilon"`
	Delta      float64 `json:"delta"`
	// Rho is the zCDP ρ = Δ²/(2σ²) of a discrete Gaussian statistic.
	Rho float64 `json:"rho,omitempty"`
}

// Clamp returns v in integer multiples of unit, rounded to nearest and
// clamped to [lo, hi] (in units): the per-household contribution bound.
// ±Inf clamps to the nearer bound; NaN, which [Release] rejects, maps to lo.
func Clamp(v, unit float64, lo, hi int64) int64 {
	x := math.Round(v / unit)
	switch {
	case math.IsNaN(x) || x <= float64(lo):
		return lo
	case x >= float64(hi):
		return hi
	}
	return int64(x)
}

// Release clamps each household value into q's bounds, aggregates in integer
// units and adds noise from m drawn with src (nil means [CryptoSource]).
// Charge the ledger with m.Epsilon() and m.Delta() before calling it: a
// figure is private only if its cost is recorded first.
//
// Sensitivity is under add/remove-one-household neighbouring: a sum moves by
// at most max(|lo|, |hi|) units, a count by 1. Mean spends half of m's budget
// on each and is clamped to [lo, hi]; a noisy count below 1 is taken as 1.
func Release(values []float64, q Query, m Mechanism, src Source) (Result, error) {
	if err := q.validate(); err != nil {
		return Result{}, err
	}
	if m == nil {
		return Result{}, fmt.Errorf("%w: nil mechanism", ErrInvalidParameter)
	}
	src = orCrypto(src)
	lo, hi := int64(math.Round(q.Lo/q.Unit)), int64(math.Round(q.Hi/q.Unit))
	sensitivity := max(abs64(lo), abs64(hi))
	if q.Aggregate != Count && sensitivity == 0 {
		return Result{}, fmt.Errorf("%w: bounds [%v, %v] round to zero units of %v", ErrInvalidParameter, q.Lo, q.Hi, q.Unit)
	}

	var sum int64
	for i, v := range values {
		if math.IsNaN(v) {
			return Result{}, fmt.Errorf("%w: household value %d is NaN", ErrInvalidParameter, i)
		}
		var overflow bool
		if sum, overflow = add64(sum, Clamp(v, q.Unit, lo, hi)); overflow {
			return Result{}, fmt.Errorf("%w: sum of %d households overflows int64 at unit %v", ErrInvalidParameter, len(values), q.Unit)
		}
	}
	count := int64(len(values))

	r := Result{
		Aggregate: q.Aggregate,
		Mechanism: m.Name(),
		Epsilon:   m.Epsilon(),
		Delta:     m.Delta(),
		Lo:        float64(lo) * q.Unit,
		Hi:        float64(hi) * q.Unit,
		Unit:      q.Unit,
	}
	switch q.Aggregate {
	case Sum:
		s, err := noisy(m, "sum", sum, sensitivity, src)
		if err != nil {
			return Result{}, err
		}
		r.Statistics = []Statistic{s}
		r.Value = float64(s.Noisy) * q.Unit
	case Count:
		c, err := noisy(m, "count", count, 1, src)
		if err != nil {
			return Result{}, err
		}
		r.Statistics = []Statistic{c}
		r.Value = float64(c.Noisy)
	case Mean:
		half, err := m.halve()
		if err != nil {
			return Result{}, err
		}
		s, err := noisy(half, "sum", sum, sensitivity, src)
		if err != nil {
			return Result{}, err
		}
		c, err := noisy(half, "count", count, 1, src)
		if err != nil {
			return Result{}, err
		}
		r.Statistics = []Statistic{s, c}
		mean := float64(s.Noisy) * q.Unit / float64(max(c.Noisy, 1))
		r.Value = min(max(mean, r.Lo), r.Hi)
	}
	return r, nil
}

func noisy(m Mechanism, name string, value, sensitivity int64, src Source) (Statistic, error) {
	n, err := m.calibrate(sensitivity)
	if err != nil {
		return Statistic{}, fmt.Errorf("%s: %w", name, err)
	}
	z, ok := n.sample(src)
	if !ok {
		return Statistic{}, fmt.Errorf("privacy: %s: noise draw overflowed int64; nothing released", name)
	}
	out, overflow := add64(value, z)
	if overflow {
		return Statistic{}, fmt.Errorf("privacy: %s: noisy value overflowed int64; nothing released", name)
	}
	scale, _ := n.scale.Float64()
	return Statistic{
		Name:        name,
		Noisy:       out,
		Sensitivity: sensitivity,
		ScaleParam:  n.scaleParam,
		Scale:       n.scale.RatString(),
		ScaleValue:  scale,
		Epsilon:     m.Epsilon(),
		Delta:       m.Delta(),
		Rho:         n.rho,
	}, nil
}

func add64(a, b int64) (int64, bool) {
	r := a + b // wraps; Go defines signed overflow
	// Signed overflow iff both operands share a sign the result lacks.
	return r, (a >= 0) == (b >= 0) && (r >= 0) != (a >= 0)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
