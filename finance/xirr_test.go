package finance

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func flowDay(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// irregularFlows is a bond-like series on irregular dates.
var irregularFlows = []Flow{
	{flowDay("2023-02-10"), -500000},
	{flowDay("2023-09-01"), 20000},
	{flowDay("2024-03-15"), 21000},
	{flowDay("2024-12-31"), 22500},
	{flowDay("2025-08-20"), 23000},
	{flowDay("2026-06-30"), 540000},
}

// refXIRR is an independent reference: plain bisection on [lo, hi] of the NPV written
// with exp/log1p and day counts from Sub, 200 halvings.
func refXIRR(flows []Flow, lo, hi float64) float64 {
	d0 := flows[0].Date
	for _, f := range flows {
		if f.Date.Before(d0) {
			d0 = f.Date
		}
	}
	npv := func(r float64) float64 {
		s := 0.0
		for _, f := range flows {
			days := math.Round(f.Date.Sub(d0).Hours() / 24)
			s += f.Amount * math.Exp(-days/365*math.Log1p(r))
		}
		return s
	}
	flo := npv(lo)
	for range 200 {
		mid := (lo + hi) / 2
		fm := npv(mid)
		if (fm < 0) == (flo < 0) {
			lo, flo = mid, fm
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

func TestXIRRIrregularMatchesReference(t *testing.T) {
	got, err := XIRR(irregularFlows)
	if err != nil {
		t.Fatal(err)
	}
	want := refXIRR(irregularFlows, -0.9, 1)
	if math.Abs(got-want) > 1e-6 {
		t.Fatalf("XIRR = %.10f, reference bisection %.10f", got, want)
	}
	// Order must not matter.
	rev := make([]Flow, len(irregularFlows))
	for i, f := range irregularFlows {
		rev[len(rev)-1-i] = f
	}
	if got2, err := XIRR(rev); err != nil || got2 != got {
		t.Fatalf("reversed flows: %v, %v; want %v", got2, err, got)
	}
	t.Logf("XIRR = %.10f", got)
}

// TestXIRRRecoversKnownRoot builds random irregular series whose NPV is zero at a
// chosen rate (one sign change, so the root is unique) and recovers the rate.
func TestXIRRRecoversKnownRoot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := flowDay("2020-01-01")
	cases := 0
	for cases < 500 {
		n := 2 + rng.IntN(30)
		rate := -0.3 + 0.9*rng.Float64()
		flows := make([]Flow, n)
		d := start
		for i := range flows {
			flows[i].Date = d
			d = d.AddDate(0, 0, 1+rng.IntN(400))
		}
		principal := 1e3 + 1e7*rng.Float64()
		flows[0].Amount = -principal
		pv := -principal
		for i := 1; i < n-1; i++ {
			flows[i].Amount = principal * 0.1 * rng.Float64()
			pv += flows[i].Amount * math.Pow(1+rate, -float64(civilDay(flows[i].Date)-civilDay(start))/365)
		}
		tn := float64(civilDay(flows[n-1].Date)-civilDay(start)) / 365
		flows[n-1].Amount = -pv * math.Pow(1+rate, tn)
		if flows[n-1].Amount <= 0 {
			continue // more than one sign change: not this test
		}
		rng.Shuffle(n, func(i, j int) { flows[i], flows[j] = flows[j], flows[i] })
		got, err := XIRR(flows)
		if err != nil {
			t.Fatalf("case %d (rate %g, %d flows): %v", cases, rate, n, err)
		}
		if math.Abs(got-rate) > 1e-6 {
			t.Fatalf("case %d (%d flows): XIRR = %.10f, constructed with %.10f", cases, n, got, rate)
		}
		cases++
	}
}

func TestXIRRErrors(t *testing.T) {
	tests := []struct {
		name  string
		flows []Flow
		is    error
		want  string
	}{
		{"one flow", irregularFlows[:1], nil, "at least 2 cash flows"},
		{"all positive", []Flow{{flowDay("2023-01-01"), 100}, {flowDay("2024-01-01"), 110}}, ErrNoSignChange, "no sign change"},
		{"all negative", []Flow{{flowDay("2023-01-01"), -100}, {flowDay("2024-01-01"), 0}, {flowDay("2025-01-01"), -5}}, ErrNoSignChange, "an IRR does not exist"},
		{"NaN", []Flow{{flowDay("2023-01-01"), -100}, {flowDay("2024-01-01"), math.NaN()}}, nil, "not finite"},
		// Pay 100, get 300, pay 250: NPV = −100 + 300x − 250x² < 0 for every x.
		{"no root", []Flow{{flowDay("2023-01-01"), -100}, {flowDay("2024-01-01"), 300}, {flowDay("2025-01-01"), -250}}, ErrNoConvergence, "IRR did not converge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := XIRR(tt.flows)
			if err == nil {
				t.Fatalf("XIRR = %v, want an error", r)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

// TestXIRRSeveralRootsClosestToZero: −100, +230, −132 at yearly steps has roots at
// 10 % and 20 % (x = 1/(1+r) solves 132x² − 230x + 100 = 0); the one nearer 0 wins.
func TestXIRRSeveralRootsClosestToZero(t *testing.T) {
	flows := []Flow{{flowDay("2021-01-01"), -100}, {flowDay("2022-01-01"), 230}, {flowDay("2023-01-01"), -132}}
	// 2021 and 2022 have 365 days each, so the year fractions are exactly 1 and 2.
	got, err := XIRR(flows)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-0.10) > 1e-9 {
		t.Fatalf("XIRR = %.12f, want the root 0.10 (not 0.20)", got)
	}
}

func TestXIRRMonthlyFlows(t *testing.T) {
	// A level 12-month annuity at a 1 % monthly rate: price = 100 × (1 − 1.01^−12)/0.01.
	m := 0.01
	price := 100 * (1 - math.Pow(1+m, -12)) / m
	cash := []float64{-price}
	for range 12 {
		cash = append(cash, 100)
	}
	got, err := IRRMonthly(cash)
	if err != nil {
		t.Fatal(err)
	}
	if want := math.Pow(1+m, 12) - 1; math.Abs(got-want) > 1e-9 {
		t.Fatalf("IRRMonthly = %.12f, want %.12f", got, want)
	}
	if _, err := IRRMonthly([]float64{0, 5, 6}); !errors.Is(err, ErrNoSignChange) {
		t.Fatalf("all-positive cash: error %v, want ErrNoSignChange", err)
	}
}

func TestXIRRReadFlowsCSV(t *testing.T) {
	in := "Note,Amount,DATE\nissue,-500000,2023-02-10\n,20000.5, 2023-09-01\n\n\"x\",540000,2026-06-30\n"
	flows, err := ReadFlowsCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 3 || flows[1].Amount != 20000.5 || !flows[2].Date.Equal(flowDay("2026-06-30")) {
		t.Fatalf("flows = %+v", flows)
	}
}

func TestXIRRReadFlowsCSVBadLines(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty input"},
		{"date,value\n2023-01-01,5\n", `no "amount" column`},
		{"amount\n5\n", `no "date" column`},
		{"date,amount\n2023-01-01,-5\n2023-02-01,1\n2023-13-01,4\n", `line 4: date "2023-13-01": not an ISO date (YYYY-MM-DD)`},
		{"date,amount\n2023-01-01,-5\n2023-02-01,abc\n", `line 3: amount "abc": not a number`},
		{"date,amount\n2023-01-01,NaN\n", `line 2: amount "NaN": not a finite number`},
		{"date,amount\n01/02/2023,5\n", `line 2: date "01/02/2023"`},
		{"date,note,amount\n2023-01-01,x\n", "line 2: 2 fields"},
	}
	for _, tt := range tests {
		_, err := ReadFlowsCSV(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadFlowsCSV(%q): error %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}
