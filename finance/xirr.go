package finance

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Flow is one dated cash flow; Amount is in yuan, negative for money paid in.
type Flow struct {
	Date   time.Time
	Amount float64
}

// Errors an IRR computation reports; callers branch on them with errors.Is.
var (
	// ErrNoSignChange: all flows are of one sign (or zero), so no rate makes the NPV zero.
	ErrNoSignChange = errors.New("cash flows have no sign change: an IRR does not exist")
	// ErrNoConvergence: no rate in the scanned range brackets a root, or the solver
	// did not settle.
	ErrNoConvergence = errors.New("IRR did not converge")
)

// Scan range and solver tolerance. The lower end stays just above −100 % where the
// discount factor blows up; the upper end covers rates no real investment reaches.
const (
	irrMinRate = -0.999999
	irrMaxRate = 1e6
	irrTol     = 1e-12 // on the rate: well inside the 1e-10 the reports need
	irrMaxIter = 200
)

// irrGrid is the sorted set of rates the bracket scan evaluates the NPV at: dense near
// zero where real IRRs live, geometric towards the ends.
var irrGrid = func() []float64 {
	g := []float64{0, 0.025, -0.025, -0.975, -0.99, -0.999, -0.9999, -0.99999, irrMinRate,
		1.25, 1.5, 2, 3, 4, 5, 7.5, 10, 20, 50, 100, 1e3, 1e4, 1e5, irrMaxRate}
	for k := 1; k <= 20; k++ {
		r := float64(k) * 0.05
		g = append(g, r)
		if k < 20 {
			g = append(g, -r)
		}
	}
	slices.Sort(g)
	return slices.Compact(g)
}()

// XIRR is the annual effective rate r at which the flows' net present value is zero:
//
//	Σ amount_i / (1+r)^(days_i/365) = 0,  days_i = calendar days from the earliest date
//
// (ACT/365, as spreadsheet XIRR). The flows need not be in date order.
//
// The rate is found by scanning a fixed grid of rates in (−0.999999, 1e6) for a sign
// change of the NPV, starting next to 0 and working outwards, then refining the bracket
// with Brent's method to 1e-12. When the flows change sign more than once the NPV may
// have several roots: XIRR returns the one closest to 0 among those the grid brackets
// (two roots between neighbouring grid points cancel and are not seen).
//
// It fails with fewer than two flows, a non-finite amount, flows of one sign
// (ErrNoSignChange) or when no root is bracketed (ErrNoConvergence).
func XIRR(flows []Flow) (float64, error) {
	if len(flows) < 2 {
		return 0, fmt.Errorf("need at least 2 cash flows, got %d", len(flows))
	}
	fs := slices.Clone(flows)
	slices.SortStableFunc(fs, func(a, b Flow) int { return a.Date.Compare(b.Date) })
	d0 := civilDay(fs[0].Date)
	t := make([]float64, len(fs))
	a := make([]float64, len(fs))
	for i, f := range fs {
		if math.IsNaN(f.Amount) || math.IsInf(f.Amount, 0) {
			return 0, fmt.Errorf("flow on %s: amount %v is not finite", f.Date.Format(time.DateOnly), f.Amount)
		}
		t[i] = float64(civilDay(f.Date)-d0) / 365
		a[i] = f.Amount
	}
	return solveIRR(t, a)
}

// IRRMonthly is the annual effective rate (1+m)^12 − 1 of evenly spaced monthly flows
// cash[0], cash[1], … whose monthly IRR is m (as for a tranche's cash flows per period).
// Root selection and errors are those of XIRR.
func IRRMonthly(cash []float64) (float64, error) {
	if len(cash) < 2 {
		return 0, fmt.Errorf("need at least 2 cash flows, got %d", len(cash))
	}
	t := make([]float64, len(cash))
	for i, c := range cash {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return 0, fmt.Errorf("flow %d: amount %v is not finite", i, c)
		}
		// In years, so the root is already the annual effective rate.
		t[i] = float64(i) / 12
	}
	return solveIRR(t, cash)
}

// civilDay numbers the calendar date of t (in t's own location) in days since 1970-01-01,
// so that times of day and zones do not make fractional days.
func civilDay(t time.Time) int64 {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// solveIRR finds the annual rate r with Σ a_i (1+r)^(−t_i) = 0, t_i in years.
func solveIRR(t, a []float64) (float64, error) {
	var pos, neg bool
	for _, v := range a {
		pos = pos || v > 0
		neg = neg || v < 0
	}
	if !pos || !neg {
		return 0, ErrNoSignChange
	}
	npv := func(r float64) float64 {
		s := 0.0
		for i, v := range a {
			s += v * math.Pow(1+r, -t[i])
		}
		return s
	}
	g := irrGrid
	v := make([]float64, len(g))
	for i, r := range g {
		v[i] = npv(r)
	}
	// Intervals between neighbouring grid points, nearest to 0 first (positive side
	// first on a tie).
	idx := make([]int, len(g)-1)
	for i := range idx {
		idx[i] = i
	}
	dist := func(i int) float64 { return math.Min(math.Abs(g[i]), math.Abs(g[i+1])) }
	slices.SortStableFunc(idx, func(i, j int) int {
		if c := cmpFloat(dist(i), dist(j)); c != 0 {
			return c
		}
		return cmpFloat(-g[i], -g[j])
	})
	best, found, failed := 0.0, false, false
	consider := func(r float64) {
		if !found || math.Abs(r) < math.Abs(best) {
			best, found = r, true
		}
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	for _, i := range idx {
		if found && dist(i) >= math.Abs(best) {
			break
		}
		lo, hi, flo, fhi := g[i], g[i+1], v[i], v[i+1]
		if !finite(flo) || !finite(fhi) {
			continue
		}
		switch {
		case flo == 0:
			consider(lo)
		case fhi == 0:
			consider(hi)
		case (flo < 0) != (fhi < 0):
			r, ok := brent(npv, lo, hi, flo, fhi)
			if !ok {
				failed = true
				continue
			}
			consider(r)
		}
	}
	if found {
		return best, nil
	}
	if failed {
		return 0, fmt.Errorf("%w: the solver did not settle within %d iterations", ErrNoConvergence, irrMaxIter)
	}
	return 0, fmt.Errorf("%w: no rate between %g and %g changes the sign of the NPV", ErrNoConvergence, irrMinRate, irrMaxRate)
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// brent refines a bracket [a, b] with f(a), f(b) of opposite signs to a root within
// irrTol (Brent 1973; the formulation of Numerical Recipes' zbrent).
func brent(f func(float64) float64, a, b, fa, fb float64) (float64, bool) {
	const eps = 0x1p-52
	c, fc := b, fb
	var d, e float64
	for range irrMaxIter {
		if (fb > 0) == (fc > 0) {
			c, fc = a, fa
			d = b - a
			e = d
		}
		if math.Abs(fc) < math.Abs(fb) {
			a, b, c = b, c, b
			fa, fb, fc = fb, fc, fb
		}
		tol1 := 2*eps*math.Abs(b) + 0.5*irrTol
		xm := 0.5 * (c - b)
		if math.Abs(xm) <= tol1 || fb == 0 {
			return b, true
		}
		if math.Abs(e) >= tol1 && math.Abs(fa) > math.Abs(fb) {
			// Inverse quadratic interpolation, or secant when only two points differ.
			s := fb / fa
			var p, q float64
			if a == c {
				p = 2 * xm * s
				q = 1 - s
			} else {
				q = fa / fc
				r := fb / fc
				p = s * (2*xm*q*(q-r) - (b-a)*(r-1))
				q = (q - 1) * (r - 1) * (s - 1)
			}
			if p > 0 {
				q = -q
			}
			p = math.Abs(p)
			if 2*p < math.Min(3*xm*q-math.Abs(tol1*q), math.Abs(e*q)) {
				e = d
				d = p / q
			} else {
				d, e = xm, xm // interpolation would be too slow: bisect
			}
		} else {
			d, e = xm, xm
		}
		a, fa = b, fb
		if math.Abs(d) > tol1 {
			b += d
		} else {
			b += math.Copysign(tol1, xm)
		}
		fb = f(b)
		if math.IsNaN(fb) || math.IsInf(fb, 0) {
			return 0, false
		}
	}
	return 0, false
}

// ReadFlowsCSV reads dated cash flows from CSV with a header row naming the columns
// "date" and "amount" (case-insensitive, in any order; other columns are ignored).
// Dates are ISO (2006-01-02); amounts are decimal numbers in yuan. Errors name the
// line and the field: `line 4: date "2023-13-01": not an ISO date (YYYY-MM-DD)`.
func ReadFlowsCSV(r io.Reader) ([]Flow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty input: want a header row with columns date,amount")
	}
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	for _, want := range []string{"date", "amount"} {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("line 1: header has no %q column (have %s; want date,amount)", want, strings.Join(header, ","))
		}
	}
	di, ai := col["date"], col["amount"]
	var flows []Flow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return flows, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if di >= len(rec) || ai >= len(rec) {
			return nil, fmt.Errorf("line %d: %d fields, want date and amount (columns %d and %d)", line, len(rec), di+1, ai+1)
		}
		ds, as := strings.TrimSpace(rec[di]), strings.TrimSpace(rec[ai])
		d, err := time.Parse(time.DateOnly, ds)
		if err != nil {
			return nil, fmt.Errorf("line %d: date %q: not an ISO date (YYYY-MM-DD)", line, ds)
		}
		v, err := strconv.ParseFloat(as, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: amount %q: not a number", line, as)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("line %d: amount %q: not a finite number", line, as)
		}
		flows = append(flows, Flow{Date: d, Amount: v})
	}
}
