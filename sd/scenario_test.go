package sd

import (
	"math"
	"testing"
)

const operatingUnitPath = "models/operating_unit.xmile"

func loadOU(t testing.TB) *Model {
	t.Helper()
	m, err := ParseFile(operatingUnitPath)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func series(t testing.TB, r *Result, name string) []float64 {
	t.Helper()
	s, err := r.Series(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOperatingUnitRuns(t *testing.T) {
	m := loadOU(t)
	r, err := m.Run(Euler)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Times) != 361 {
		t.Fatalf("%d saved rows, want 361 (360 monthly steps)", len(r.Times))
	}
	if got := r.Times[len(r.Times)-1] - r.Times[0]; math.Abs(got-30) > 1e-9 {
		t.Fatalf("horizon %g years, want 30", got)
	}
	for i, n := range r.Names {
		for k, v := range r.Values[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s not finite at t=%g: %g", n, r.Times[k], v)
			}
		}
	}
	for _, v := range series(t, r, "Occupancy") {
		if v < 0 || v > 1 {
			t.Fatalf("occupancy %g out of [0,1]", v)
		}
	}
	for k, v := range series(t, r, "Reserve Fund") {
		if v < 0 {
			t.Fatalf("reserve fund %g < 0 at t=%g", v, r.Times[k])
		}
	}
	noi := series(t, r, "NOI")
	// base year: revenue 0.48 + 0.4 + 5.3 + 3.3 M, opex 2 M
	if rev := series(t, r, "Total Revenue")[0]; rev < 9.3e6 || rev > 9.7e6 {
		t.Errorf("base-year revenue %g, want ~9.5 M", rev)
	}
	if noi[0] < 7.3e6 || noi[0] > 7.7e6 {
		t.Errorf("base-year NOI %g, want ~7.5 M", noi[0])
	}
	// a battery replacement happens (SoH < 0.8 after ~10 years) and SoH stays in (0.75, 1]
	soh := series(t, r, "Battery SoH")
	repl := 0
	for _, v := range series(t, r, "Replacing") {
		repl += int(v)
	}
	if repl == 0 {
		t.Error("no battery replacement in 30 years")
	}
	for _, v := range soh {
		if v < 0.75 || v > 1+1e-9 {
			t.Fatalf("SoH %g out of range", v)
		}
	}
	// reinvestment grows PV beyond its degraded base
	pv := series(t, r, "PV Capacity")
	if pv[len(pv)-1] <= 500*math.Pow(1-0.005, 30) {
		t.Errorf("PV capacity %g: no reinvestment effect", pv[len(pv)-1])
	}
	t.Logf("NOI %.3g -> %.3g CNY/yr; DSCR %.3g; reserve end %.3g; distributions total %.3g",
		noi[0], noi[len(noi)-1], series(t, r, "DSCR")[0], series(t, r, "Reserve Fund")[len(r.Times)-1],
		series(t, r, "Cumulative Distributions")[len(r.Times)-1])
}

func TestBassSCurve(t *testing.T) {
	r, err := loadOU(t).Run(Euler)
	if err != nil {
		t.Fatal(err)
	}
	a, mk := series(t, r, "EV Adopters"), series(t, r, "EV Market")
	ad := series(t, r, "EV Adoption")
	peak := 0
	for k := range a {
		if k > 0 && a[k] < a[k-1] {
			t.Fatalf("adopters fall at t=%g", r.Times[k])
		}
		if a[k] > mk[k] {
			t.Fatalf("adopters %g exceed market %g", a[k], mk[k])
		}
		if ad[k] > ad[peak] {
			peak = k
		}
	}
	// S shape: adoption rate rises to an interior peak, then falls; near saturation at the end
	if peak == 0 || peak == len(ad)-1 {
		t.Fatalf("adoption peak at the edge (row %d)", peak)
	}
	if end := a[len(a)-1] / mk[len(mk)-1]; end < 0.95 || end >= 1 {
		t.Fatalf("final share %g, want saturating below 1", end)
	}
	t.Logf("adoption peaks at %g; final share %.4f", r.Times[peak], a[len(a)-1]/mk[len(mk)-1])
}

func TestSetConstantAndRunScenario(t *testing.T) {
	m := loadOU(t)
	base, _ := m.Run(Euler)
	b0, _ := base.At("NOI", 2040)
	r, err := RunScenario(m, map[string]float64{"Rent Growth": 0.02})
	if err != nil {
		t.Fatal(err)
	}
	hi, _ := r.At("NOI", 2040)
	again, _ := m.Run(Euler)
	a0, _ := again.At("NOI", 2040)
	if hi <= b0 || a0 != b0 {
		t.Fatalf("scenario NOI %g, base %g, base after scenario %g", hi, b0, a0)
	}
	if err := m.SetConstant("NOI", 1); err == nil {
		t.Error("SetConstant on a computed variable succeeded")
	}
	if err := m.SetConstant("no such", 1); err == nil {
		t.Error("SetConstant on a missing variable succeeded")
	}
	if _, err := RunScenario(m, map[string]float64{"Battery Cost": 1}); err == nil {
		t.Error("override of a non-constant succeeded")
	}
	if err := m.SetConstant("Rent Growth", 0.02); err != nil {
		t.Fatal(err)
	}
	r2, _ := m.Run(Euler)
	if v, _ := r2.At("NOI", 2040); v != hi {
		t.Fatalf("SetConstant run %g, scenario %g", v, hi)
	}
}

func TestTornado(t *testing.T) {
	m := loadOU(t)
	levers := []Lever{
		{"Rent Growth", 0.005, -0.01, 0.02},
		{"Opex Inflation", 0.025, 0.01, 0.04},
		{"Tariff Growth", 0.02, 0, 0.04},
		{"Interest Rate", 0.035, 0.025, 0.05},
		{"Target Occupancy", 0.95, 0.9, 0.98},
	}
	bars, err := Tornado(m, "Distributions", 2045, levers)
	if err != nil {
		t.Fatal(err)
	}
	if len(bars) != len(levers) {
		t.Fatalf("%d bars", len(bars))
	}
	dir := map[string]int{"Rent Growth": 1, "Opex Inflation": -1, "Tariff Growth": 1, "Interest Rate": -1, "Target Occupancy": 1}
	for i, b := range bars {
		t.Logf("%-18s low %.4g high %.4g", b.Lever, b.Low, b.High)
		if d := b.High - b.Low; d*float64(dir[b.Lever]) <= 0 {
			t.Errorf("%s moves Distributions the wrong way (%g -> %g)", b.Lever, b.Low, b.High)
		}
		if i > 0 && math.Abs(b.High-b.Low) > math.Abs(bars[i-1].High-bars[i-1].Low) {
			t.Error("bars not sorted by swing")
		}
	}
}

func TestCalibrateExponential(t *testing.T) {
	m, err := Parse(growthModel("<dt>0.125</dt>"), "growth.xmile")
	if err != nil {
		t.Fatal(err)
	}
	const trueRate = 0.37
	if err := m.SetConstant("growth rate", trueRate); err != nil {
		t.Fatal(err)
	}
	r, err := m.Run(Euler)
	if err != nil {
		t.Fatal(err)
	}
	times := []float64{0.5, 1, 1.5, 2}
	obs := make([]float64, len(times))
	for i, tm := range times {
		obs[i], _ = r.At("Population", tm)
	}
	if err := m.SetConstant("growth rate", 0.1); err != nil {
		t.Fatal(err)
	}
	fit, sse, err := Calibrate(m, []string{"growth rate"}, "Population", times, obs)
	if err != nil {
		t.Fatal(err)
	}
	if got := fit["growth rate"]; math.Abs(got-trueRate) > 1e-3 {
		t.Fatalf("fitted rate %g, want %g (sse %g)", got, trueRate, sse)
	}
	t.Logf("fitted %.6f, SSE %.3g", fit["growth rate"], sse)
}

func TestBenchmarkSensitivity(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	one, sens, err := Benchmark(loadOU(t), 1000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one 30-year run: %.3g ms; 1000-run sensitivity: %.3g s", one*1e3, sens)
}

func BenchmarkOperatingUnitRun(b *testing.B) {
	m := loadOU(b)
	for b.Loop() {
		if _, err := m.Run(Euler); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		"1 + 2 * 3 - 4 / 5 ^ 6", "-x", "a mod b", "NOT a AND b OR c", "a <> b", "a >= b <= c = d",
		"IF a > 0 THEN b ELSE c", "MIN(a, MAX(b, 2))", "SMTH1(x, 3, 1)", "DELAYN(x, 2, 3, 0)",
		"LOOKUP(tbl, TIME)", "\"quoted name\" * 2", "\"unterminated", "a[1, b]", "a[*]",
		"1e-3 + .5 + 2.", "((((", "))", ")(", "+-*/", "IF THEN ELSE", "f(,)", "", " ", "\x00\xff",
		"SUM(a[*]) / SIZE(a)", "3 ** 2", "a..b", "{comment} x", "'x'", "x ? y : z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseExpr(s)
		if err == nil && n == nil {
			t.Fatalf("nil node without error for %q", s)
		}
	})
}

func TestCoupling(t *testing.T) {
	m, err := ParseFile("models/operating_unit.xmile")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Run(Euler)
	if err != nil {
		t.Fatal(err)
	}
	d, err := AnnualDrivers(r, []string{"Occupancy", "Tariff Index", "Effective Battery Capacity", "Replacement Capex", "NOI"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Years) != 31 || len(d.Paths["Tariff Index"]) != 31 || d.Paths["Tariff Index"][30] <= d.Paths["Tariff Index"][0] {
		t.Fatalf("drivers: %d years, tariff %v", len(d.Years), d.Paths["Tariff Index"])
	}
	// By hand: (1 − 0.8 − 0.012·10) / (2.46e-5·10) = 0.08 / 2.46e-4 ≈ 325.2 cycles a year.
	if b := BatteryCycleBound(0.8, 0.012, 2.46e-5, 10); math.Abs(b-0.08/2.46e-4) > 1e-9 {
		t.Fatalf("cycle bound %g", b)
	}
	if v, err := m.Constant("Cycle Fade"); err != nil || v != 2.46e-5 {
		t.Fatalf("Constant: %g, %v", v, err)
	}
}
