package settle

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/unit"
)

// Readings is what metered settlement reads from the store.
type Readings interface {
	Range(ctx context.Context, point string, from, to time.Time) ([]reading.Reading, error)
	Events(ctx context.Context, kind reading.EventKind) ([]reading.Event, error)
}

// Checkpoint names the ledger state a settled figure derives from: the log's origin,
// its size and its root hash (base64), as a signed checkpoint states them.
type Checkpoint struct {
	Origin   string `json:"origin"`
	TreeSize int64  `json:"tree_size"`
	RootHash string `json:"root_hash"`
}

// Derivation says where a settled line comes from.
type Derivation struct {
	Points []string `json:"points,omitempty"`
	Events []string `json:"events,omitempty"` // event kinds
	From   string   `json:"from"`             // RFC 3339, local time of the unit
	To     string   `json:"to"`
	// Method in words: which intervals, which prices.
	Method    string `json:"method"`
	Intervals int    `json:"intervals,omitempty"`
	Quantity  string `json:"quantity,omitempty"` // exact decimal, with its unit
}

// MeteredLine is one line of a metered statement.
type MeteredLine struct {
	Subsystem  string     `json:"subsystem"` // energy, ev, rentals, parking, water, operations
	Item       string     `json:"item"`
	AmountCNY  string     `json:"amount_cny"` // exact decimal to the fen; costs negative
	Derivation Derivation `json:"derivation"`
	Checkpoint Checkpoint `json:"checkpoint"`
}

// Flag marks an interval that was missing or estimated under the VEE rules.
type Flag struct {
	Point  string `json:"point"`
	From   string `json:"from"`
	To     string `json:"to"`
	Kind   string `json:"kind"` // missing | estimated | incomplete_month
	Detail string `json:"detail"`
}

// MeteredStatement is a month settled from the ledger.
type MeteredStatement struct {
	Unit       string        `json:"unit"`
	Month      string        `json:"month"` // YYYY-MM, local time of the unit
	Lines      []MeteredLine `json:"lines"`
	NOICNY     string        `json:"noi_cny"`
	Flags      []Flag        `json:"flags"`
	Checkpoint Checkpoint    `json:"checkpoint"`
	// Unsettled names what the ledger holds nothing for this month (no meter, no events).
	Unsettled []string `json:"unsettled,omitempty"`
	// CoveredFrom and CoveredTo bound the grid import register's intervals in the month
	// (RFC 3339): the period a projection must cover to compare with this statement.
	CoveredFrom string `json:"covered_from,omitempty"`
	CoveredTo   string `json:"covered_to,omitempty"`
}

// Event kinds an operator records for money that no meter measures: payments received
// (rent, parking, services) and expenses (opex). Attrs: amount_cny (exact decimal),
// subsystem, item; an expense also category and document_sha256 (the invoice's hash).
const (
	EventPayment reading.EventKind = "payment"
	EventExpense reading.EventKind = "expense"
)

// Metered settles month (YYYY-MM) of a commissioned unit from the store:
//
//   - grid import cost by TOU period: each interval between consecutive readings of the
//     grid meter's cumulative import register that starts in the month, its advance ×
//     the import price in force at the interval's start (local time); export credit the
//     same with the export price;
//   - demand charge: the month's highest interval mean import power × the demand price;
//   - resident electricity sales: the advance of the household meters' import registers
//     (or, where none is commissioned, the load meters') × the resident price;
//   - EV charging: sessions (ev_session_start/stop) stopped in the month, energy
//     (meter stop − meter start) × (energy price + service fee);
//   - payments and expenses recorded as events, line by line.
//
// VEE: an interval longer than the unit's step is a gap; its advance is kept (the
// register measured it) and priced at the interval's start, and the gap is flagged
// "estimated" — the split across tariff periods is the estimate. A month whose first
// or last register reading is not on its boundary is flagged "incomplete_month".
// Money is exact (big.Rat on the decimals the ledger commits to), rounded half up to
// the fen per line.
func Metered(ctx context.Context, st Readings, u *unit.Unit, month string, cp Checkpoint) (*MeteredStatement, error) {
	if u.Site == nil {
		return nil, fmt.Errorf("settle: unit %s has no site: section: metered settlement needs to know which meter is which", u.Name)
	}
	loc, err := time.LoadLocation(u.Location.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("settle: %w", err)
	}
	m0, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil {
		return nil, fmt.Errorf("settle: month %q: want YYYY-MM", month)
	}
	m1 := m0.AddDate(0, 1, 0)
	step := time.Duration(u.Simulation.StepMinutes) * time.Minute
	s := &MeteredStatement{Unit: u.Name, Month: month, Checkpoint: cp, Flags: []Flag{}}
	el := &u.Tariffs.Electricity
	rfc := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	add := func(sub, item string, amount *big.Rat, d Derivation) {
		if d.From == "" {
			d.From, d.To = rfc(m0), rfc(m1)
		}
		s.Lines = append(s.Lines, MeteredLine{Subsystem: sub, Item: item, AmountCNY: fen(amount), Derivation: d, Checkpoint: cp})
	}

	// Grid: import by TOU period, export, demand.
	var grid *unit.SiteMeter
	for i := range u.Site.Meters {
		if u.Site.Meters[i].Role == "grid" {
			grid = &u.Site.Meters[i]
		}
	}
	if grid == nil {
		return nil, fmt.Errorf("settle: unit %s: no grid meter in site.meters", u.Name)
	}
	imp, err := intervals(ctx, st, grid.ImportPoint(), m0, m1, step, loc, &s.Flags)
	if err != nil {
		return nil, err
	}
	byPeriod := map[string]*big.Rat{}
	kwhByPeriod := map[string]*big.Rat{}
	nByPeriod := map[string]int{}
	peak := new(big.Rat)
	for _, iv := range imp {
		p, period := el.ImportPrice(iv.from.In(loc))
		if period == "" {
			period = "unpriced"
		}
		if byPeriod[period] == nil {
			byPeriod[period], kwhByPeriod[period] = new(big.Rat), new(big.Rat)
		}
		byPeriod[period].Add(byPeriod[period], new(big.Rat).Mul(iv.kwh, rat(p)))
		kwhByPeriod[period].Add(kwhByPeriod[period], iv.kwh)
		nByPeriod[period]++
		hours := new(big.Rat).SetFrac64(int64(iv.to.Sub(iv.from)/time.Second), 3600)
		if kw := new(big.Rat).Quo(iv.kwh, hours); kw.Cmp(peak) > 0 {
			peak = kw
		}
	}
	periods := make([]string, 0, len(byPeriod))
	for p := range byPeriod {
		periods = append(periods, p)
	}
	sort.Strings(periods)
	for _, p := range periods {
		add("energy", "grid import, "+p, new(big.Rat).Neg(byPeriod[p]), Derivation{Points: []string{grid.ImportPoint()},
			Method:    "Σ energy of each interval starting in the month in the " + p + " period (register advance, or interval data) × its import price at the interval's start",
			Intervals: nByPeriod[p], Quantity: dec(kwhByPeriod[p]) + " kWh"})
	}
	if len(imp) == 0 {
		s.Unsettled = append(s.Unsettled, "grid import: no register readings of "+grid.ImportPoint()+" in the month")
	} else {
		s.CoveredFrom, s.CoveredTo = rfc(imp[0].from), rfc(imp[len(imp)-1].to)
	}
	exp, err := intervals(ctx, st, grid.ExportPoint(), m0, m1, step, loc, &s.Flags)
	if err != nil {
		return nil, err
	}
	if len(exp) > 0 {
		kwh := new(big.Rat)
		for _, iv := range exp {
			kwh.Add(kwh, iv.kwh)
		}
		add("energy", "export credit", new(big.Rat).Mul(kwh, rat(el.ExportCNYPerKWh)), Derivation{Points: []string{grid.ExportPoint()},
			Method: "Σ energy of each interval starting in the month (register advance, or interval data) × the export price", Intervals: len(exp), Quantity: dec(kwh) + " kWh"})
	}
	if el.DemandChargeCNYPerKWMonth > 0 && len(imp) > 0 {
		add("energy", "demand charge", new(big.Rat).Neg(new(big.Rat).Mul(peak, rat(el.DemandChargeCNYPerKWMonth))), Derivation{Points: []string{grid.ImportPoint()},
			Method: "the month's highest interval mean import power × the demand price", Quantity: dec(peak) + " kW"})
	}

	// Resident electricity sales.
	var sold []string
	for _, role := range []string{"household", "load"} {
		for _, m := range u.Site.Meters {
			if m.Role == role {
				sold = append(sold, m.ImportPoint())
			}
		}
		if len(sold) > 0 {
			break
		}
	}
	if len(sold) > 0 && el.ResidentCNYPerKWh > 0 {
		kwh, n := new(big.Rat), 0
		for _, p := range sold {
			ivs, err := intervals(ctx, st, p, m0, m1, step, loc, &s.Flags)
			if err != nil {
				return nil, err
			}
			for _, iv := range ivs {
				kwh.Add(kwh, iv.kwh)
			}
			n += len(ivs)
		}
		if n > 0 {
			add("energy", "resident electricity sales", new(big.Rat).Mul(kwh, rat(el.ResidentCNYPerKWh)), Derivation{Points: sold,
				Method: "Σ register advance of the residents' meters × the resident price", Intervals: n, Quantity: dec(kwh) + " kWh"})
		}
	}

	// EV charging sessions stopped in the month.
	if err := evLines(ctx, st, u, m0, m1, add); err != nil {
		return nil, err
	}
	// Payments and expenses.
	for _, k := range []reading.EventKind{EventPayment, EventExpense} {
		evs, err := st.Events(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("settle: %s events: %w", k, err)
		}
		for _, e := range evs {
			if e.Time.Before(m0) || !e.Time.Before(m1) {
				continue
			}
			v, ok := parseRat(e.Attrs["amount_cny"])
			if !ok {
				s.Flags = append(s.Flags, Flag{From: rfc(e.Time), To: rfc(e.Time), Kind: "missing", Detail: fmt.Sprintf("%s event from %s at %s: amount_cny %q is not a decimal: not settled", k, e.Source, rfc(e.Time), e.Attrs["amount_cny"])})
				continue
			}
			if k == EventExpense {
				v.Neg(v)
			}
			sub := cmpOr(e.Attrs["subsystem"], "operations")
			item := cmpOr(e.Attrs["item"], e.Attrs["category"], string(k))
			add(sub, item, v, Derivation{Events: []string{string(k)}, From: rfc(e.Time), To: rfc(e.Time),
				Method: fmt.Sprintf("%s recorded by %s%s", k, e.Source, docNote(e.Attrs["document_sha256"]))})
		}
	}

	noi := new(big.Rat)
	for _, l := range s.Lines {
		v, _ := new(big.Rat).SetString(l.AmountCNY)
		noi.Add(noi, v)
	}
	s.NOICNY = fen(noi)
	return s, nil
}

func docNote(h string) string {
	if h == "" {
		return ""
	}
	return "; document sha256 " + h
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// evLines settles the EV sessions that stopped in [m0, m1).
func evLines(ctx context.Context, st Readings, u *unit.Unit, m0, m1 time.Time, add func(string, string, *big.Rat, Derivation)) error {
	starts, err := st.Events(ctx, reading.EVSessionStart)
	if err != nil {
		return fmt.Errorf("settle: EV sessions: %w", err)
	}
	stops, err := st.Events(ctx, reading.EVSessionStop)
	if err != nil {
		return fmt.Errorf("settle: EV sessions: %w", err)
	}
	begin := map[string]float64{} // "<source>#<tx>" → meter start (Wh)
	for _, e := range starts {
		if v, err := strconv.ParseFloat(e.Attrs["meter_start_wh"], 64); err == nil {
			begin[e.Attrs["transaction_id"]+"#"+chargePoint(e.Source)] = v
		}
	}
	wh, n := new(big.Rat), 0
	for _, e := range stops {
		if e.Time.Before(m0) || !e.Time.Before(m1) {
			continue
		}
		b, ok := begin[e.Attrs["transaction_id"]+"#"+chargePoint(e.Source)]
		end, err := strconv.ParseFloat(e.Attrs["meter_stop_wh"], 64)
		if !ok || err != nil || end < b {
			continue
		}
		wh.Add(wh, new(big.Rat).Sub(rat(end), rat(b)))
		n++
	}
	if n == 0 {
		return nil
	}
	kwh := new(big.Rat).Quo(wh, big.NewRat(1000, 1))
	ev := u.Tariffs.EVCharging
	price := new(big.Rat).Add(rat(ev.EnergyCNYPerKWh), rat(ev.ServiceFeeCNYPerKWh))
	add("ev", "charging sales", new(big.Rat).Mul(kwh, price), Derivation{Events: []string{string(reading.EVSessionStart), string(reading.EVSessionStop)},
		Method: fmt.Sprintf("%d sessions stopped in the month: Σ (meter stop − meter start) × (energy price + service fee)", n), Quantity: dec(kwh) + " kWh"})
	return nil
}

// chargePoint is the charge point of an event source "<cp>" or "<cp>/<connector>".
func chargePoint(src string) string {
	cp, _, _ := strings.Cut(src, "/")
	return cp
}

type interval struct {
	from, to time.Time
	kwh      *big.Rat
}

// intervals are the advances of a cumulative register between consecutive readings,
// for the intervals starting in [m0, m1); gaps and an incomplete month are flagged.
func intervals(ctx context.Context, st Readings, point string, m0, m1 time.Time, step time.Duration, loc *time.Location, flags *[]Flag) ([]interval, error) {
	// One step either side: the reading that closes the month's last interval.
	rs, err := st.Range(ctx, point, m0.Add(-step), m1.Add(31*24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("settle: %s: %w", point, err)
	}
	rfc := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	regs := slices.DeleteFunc(slices.Clone(rs), func(r reading.Reading) bool { return r.Unit != "kWh" && r.Unit != "Wh" && r.Unit != "MWh" })
	if len(regs) == 0 { // no register: interval data, if the meter reports that
		return intervalData(rs, point, m0, m1, step, rfc, flags), nil
	}
	rs = regs
	var out []interval
	for i := 1; i < len(rs); i++ {
		a, b := rs[i-1], rs[i]
		if a.Time.Before(m0) || !a.Time.Before(m1) {
			continue
		}
		d := new(big.Rat).Sub(kwhOf(b), kwhOf(a))
		if d.Sign() < 0 { // the pipeline quarantines a register going backwards; a rollover passes
			*flags = append(*flags, Flag{Point: point, From: rfc(a.Time), To: rfc(b.Time), Kind: "missing",
				Detail: "the register went down (a meter replacement or rollover): the interval is not settled"})
			continue
		}
		if b.Time.Sub(a.Time) > step {
			*flags = append(*flags, Flag{Point: point, From: rfc(a.Time), To: rfc(b.Time), Kind: "estimated",
				Detail: fmt.Sprintf("no reading for %v: the register's advance over the gap is kept and priced at the gap's start (the split across tariff periods is estimated)", b.Time.Sub(a.Time)-step)})
		}
		out = append(out, interval{from: a.Time, to: b.Time, kwh: d})
	}
	if len(out) > 0 {
		if first := out[0].from; first.After(m0) {
			*flags = append(*flags, Flag{Point: point, From: rfc(m0), To: rfc(first), Kind: "incomplete_month", Detail: "no register reading at the month's start: energy before the first reading is not settled"})
		}
		if last := out[len(out)-1].to; last.Before(m1) {
			*flags = append(*flags, Flag{Point: point, From: rfc(last), To: rfc(m1), Kind: "incomplete_month", Detail: "no register reading at the month's end: energy after the last reading is not settled"})
		}
	}
	return out, nil
}

// intervalData reads interval data (unit kWh/interval: the energy of the step that ends
// at the reading's time) as intervals starting in [m0, m1). VEE: an interval with no
// reading is missing — its energy is unknown, so it is not settled — and flagged.
func intervalData(rs []reading.Reading, point string, m0, m1 time.Time, step time.Duration, rfc func(time.Time) string, flags *[]Flag) []interval {
	var out []interval
	var prev time.Time
	for _, r := range rs {
		if r.Unit != "kWh/interval" {
			continue
		}
		from := r.Time.Add(-step)
		if from.Before(m0) || !from.Before(m1) {
			continue
		}
		if !prev.IsZero() && from.After(prev) {
			*flags = append(*flags, Flag{Point: point, From: rfc(prev), To: rfc(from), Kind: "missing",
				Detail: fmt.Sprintf("no interval reading for %v: the energy of those intervals is unknown and not settled", from.Sub(prev))})
		}
		out = append(out, interval{from: from, to: r.Time, kwh: rat(r.Value)})
		prev = r.Time
	}
	if len(out) > 0 {
		if first := out[0].from; first.After(m0) {
			*flags = append(*flags, Flag{Point: point, From: rfc(m0), To: rfc(first), Kind: "incomplete_month", Detail: "no interval reading from the month's start: energy before the first interval is not settled"})
		}
		if last := out[len(out)-1].to; last.Before(m1) {
			*flags = append(*flags, Flag{Point: point, From: rfc(last), To: rfc(m1), Kind: "incomplete_month", Detail: "no interval reading up to the month's end: energy after the last interval is not settled"})
		}
	}
	return out
}

// kwhOf is a register reading in kWh, exactly as the ledger commits to it.
func kwhOf(r reading.Reading) *big.Rat {
	v := rat(r.Value)
	switch r.Unit {
	case "Wh":
		v.Quo(v, big.NewRat(1000, 1))
	case "MWh":
		v.Mul(v, big.NewRat(1000, 1))
	}
	return v
}

// rat is the exact decimal a float prints as (the value the ledger and the unit file
// state), never the binary float behind it.
func rat(v float64) *big.Rat {
	if r, ok := reading.Exact(v); ok {
		return r
	}
	return new(big.Rat)
}

// parseRat reads a recorded amount: an exact decimal of at most 10¹⁵ in magnitude.
func parseRat(s string) (*big.Rat, bool) {
	r, ok := reading.ParseDecimal(s)
	if !ok || new(big.Rat).Abs(r).Cmp(big.NewRat(1e15, 1)) > 0 {
		return nil, false
	}
	return r, true
}

// fen rounds half away from zero to the fen and prints two decimals.
func fen(r *big.Rat) string {
	x := new(big.Rat).Mul(r, big.NewRat(100, 1))
	n, d := x.Num(), x.Denom()
	q, m := new(big.Int).QuoRem(new(big.Int).Abs(n), d, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(d) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if n.Sign() < 0 && q.Sign() != 0 {
		q.Neg(q)
	}
	s := q.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for len(s) < 3 {
		s = "0" + s
	}
	out := s[:len(s)-2] + "." + s[len(s)-2:]
	if neg {
		out = "-" + out
	}
	return out
}

// dec prints r exactly when it is a decimal with at most 6 places, else to 6 places.
func dec(r *big.Rat) string {
	for k := 0; k <= 6; k++ {
		p := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)))
		if p.IsInt() {
			return r.FloatString(k)
		}
	}
	return r.FloatString(6)
}

// Grid is the grid meter's totals over a period, as the statement's grid lines sum
// them: import and export energy and the import cost at each interval's TOU price.
type Grid struct {
	ImportKWh, ExportKWh, ImportCostCNY *big.Rat
	// Intervals of the import register; Flags as in a statement (gaps, ends).
	Intervals int
	Flags     []Flag
}

// GridTotals meters the unit's grid meter over the intervals starting in [from, to).
func GridTotals(ctx context.Context, st Readings, u *unit.Unit, from, to time.Time) (*Grid, error) {
	if u.Site == nil {
		return nil, fmt.Errorf("settle: unit %s has no site: section", u.Name)
	}
	loc, err := time.LoadLocation(u.Location.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("settle: %w", err)
	}
	var grid *unit.SiteMeter
	for i := range u.Site.Meters {
		if u.Site.Meters[i].Role == "grid" {
			grid = &u.Site.Meters[i]
		}
	}
	if grid == nil {
		return nil, fmt.Errorf("settle: unit %s: no grid meter in site.meters", u.Name)
	}
	step := time.Duration(u.Simulation.StepMinutes) * time.Minute
	g := &Grid{ImportKWh: new(big.Rat), ExportKWh: new(big.Rat), ImportCostCNY: new(big.Rat)}
	imp, err := intervals(ctx, st, grid.ImportPoint(), from, to, step, loc, &g.Flags)
	if err != nil {
		return nil, err
	}
	for _, iv := range imp {
		p, _ := u.Tariffs.Electricity.ImportPrice(iv.from.In(loc))
		g.ImportKWh.Add(g.ImportKWh, iv.kwh)
		g.ImportCostCNY.Add(g.ImportCostCNY, new(big.Rat).Mul(iv.kwh, rat(p)))
	}
	g.Intervals = len(imp)
	exp, err := intervals(ctx, st, grid.ExportPoint(), from, to, step, loc, &g.Flags)
	if err != nil {
		return nil, err
	}
	for _, iv := range exp {
		g.ExportKWh.Add(g.ExportKWh, iv.kwh)
	}
	return g, nil
}
