package sd

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

func growthModel(dt string) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0"?>
<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">
  <sim_specs method="Euler"><start>0</start><stop>2</stop>%s</sim_specs>
  <model><variables>
    <stock name="Population"><eqn>100</eqn><inflow>births</inflow></stock>
    <flow name="births"><eqn>growth_rate * Population</eqn></flow>
    <aux name="growth rate"><eqn>0.5</eqn></aux>
  </variables></model>
</xmile>`, dt))
}

func finalPop(t *testing.T, dt string, method Method) float64 {
	t.Helper()
	m, err := Parse(growthModel(dt), "growth.xmile")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Run(method)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range r.Names {
		if n == "Population" {
			if got := r.Times[len(r.Times)-1]; math.Abs(got-2) > 1e-9 {
				t.Fatalf("last time %g, want 2", got)
			}
			return r.Values[i][len(r.Values[i])-1]
		}
	}
	t.Fatal("Population not in result")
	return 0
}

func TestConvergenceOrder(t *testing.T) {
	exact := 100 * math.Exp(1)
	for _, c := range []struct {
		method   Method
		name     string
		lo, hi   float64
		dt1, dt2 string
	}{
		{Euler, "Euler", 1.8, 2.2, "<dt>0.01</dt>", "<dt>0.005</dt>"},
		{RK2, "RK2", 3.6, 4.4, "<dt>0.05</dt>", "<dt>0.025</dt>"},
		// reciprocal form: dt = 1/10 and 1/20
		{RK4, "RK4", 14.5, 17.5, `<dt reciprocal="true">10</dt>`, `<dt reciprocal="true">20</dt>`},
	} {
		e1 := math.Abs(finalPop(t, c.dt1, c.method) - exact)
		e2 := math.Abs(finalPop(t, c.dt2, c.method) - exact)
		ratio := e1 / e2
		t.Logf("%s: err %.3g -> %.3g, ratio %.3f", c.name, e1, e2, ratio)
		if ratio < c.lo || ratio > c.hi {
			t.Errorf("%s: error ratio %.3f not in [%g,%g]", c.name, ratio, c.lo, c.hi)
		}
	}
}

func TestSavePer(t *testing.T) {
	src := strings.Replace(string(growthModel("<dt>0.25</dt>")), "</sim_specs>", "<save_step>0.5</save_step></sim_specs>", 1)
	m, err := Parse([]byte(src), "save.xmile")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Run(Euler)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.5, 1, 1.5, 2}
	if len(r.Times) != len(want) {
		t.Fatalf("times %v, want %v", r.Times, want)
	}
	for i := range want {
		if math.Abs(r.Times[i]-want[i]) > 1e-12 {
			t.Fatalf("times %v, want %v", r.Times, want)
		}
	}
}

func evalConst(t *testing.T, src string) float64 {
	t.Helper()
	n, err := parseExpr(src)
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	s := &sim{m: &Model{dt: 1, stop: 10}, t: 3}
	return s.eval(n)
}

func TestPrecedence(t *testing.T) {
	cases := map[string]float64{
		"1+2*3":                         7,
		"(1+2)*3":                       9,
		"2^3^2":                         512,
		"-2^2":                          -4,
		"10/5/2":                        1,
		"10-4-3":                        3,
		"2*3^2":                         18,
		"1+2 > 2 AND 3 < 4":             1,
		"NOT 0 OR 0":                    1,
		"NOT (1 = 1)":                   0,
		"1 <> 2":                        1,
		"2 >= 2 AND 1 <= 0":             0,
		"IF 1 = 2 THEN 5 ELSE 6":        6,
		"IF TIME > 2 THEN 1 ELSE 0":     1,
		"MAX(1, 5, 3) + MIN(4, -1)":     4,
		"STEP(2, 3) + RAMP(1, 1, 2)":    3,
		"SAFEDIV(1, 0, 7)":              7,
		"ABS(-3) + SQRT(16) + INT(2.7)": 9,
		"7 MOD 3":                       1,
		"1e2 + .5":                      100.5,
	}
	for src, want := range cases {
		if got := evalConst(t, src); math.Abs(got-want) > 1e-12 {
			t.Errorf("%q = %g, want %g", src, got, want)
		}
	}
}

func TestGraphicalFunctions(t *testing.T) {
	g := &gf{xs: []float64{0, 1, 2}, ys: []float64{0, 10, 0}}
	for x, want := range map[float64]float64{-1: 0, 0.5: 5, 1.5: 5, 3: 0} {
		if got := g.eval(x); got != want {
			t.Errorf("continuous gf(%g) = %g, want %g", x, got, want)
		}
	}
	g.discrete = true
	if got := g.eval(0.5); got != 0 {
		t.Errorf("discrete gf(0.5) = %g, want 0", got)
	}
	g.discrete, g.extrap = false, true
	if got := g.eval(3); got != -10 {
		t.Errorf("extrapolated gf(3) = %g, want -10", got)
	}
}

func TestBadInput(t *testing.T) {
	wrap := func(vars string) []byte {
		return []byte(`<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"><sim_specs><start>0</start><stop>1</stop><dt>1</dt></sim_specs><model><variables>` + vars + `</variables></model></xmile>`)
	}
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"malformed", []byte(`<xmile><model><variables><aux name="a"><eqn>1</eqn></aux>`), []string{"bad.xmile", "malformed XML"}},
		{"unknown function", wrap(`<aux name="alpha"><eqn>FROB(1)</eqn></aux>`), []string{"bad.xmile", `"alpha"`, "FROB"}},
		{"circular", wrap(`<aux name="a"><eqn>b+1</eqn></aux><aux name="b"><eqn>a*2</eqn></aux>`), []string{"circular", `"a"`, `"b"`}},
		{"undefined", wrap(`<aux name="a"><eqn>ghost*2</eqn></aux>`), []string{`"a"`, `"ghost"`}},
		{"syntax", wrap(`<aux name="broken"><eqn>1 + * 2</eqn></aux>`), []string{`"broken"`, "parse error"}},
		{"undefined dimension", wrap(`<aux name="arr"><dimensions><dim name="D"/></dimensions><eqn>1</eqn></aux>`), []string{"bad.xmile", `"arr"`, "undefined dimension", `"D"`}},
		{"element without dimensions", wrap(`<aux name="s"><eqn>arr * 2</eqn></aux><aux name="arr"><element subscript="1"><eqn>1</eqn></element></aux>`), []string{"unsupported: arrays", `"arr"`}},
	}
	for _, c := range cases {
		_, err := Parse(c.data, "bad.xmile")
		if err == nil {
			t.Errorf("%s: expected error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
	if _, err := ParseFile("does-not-exist.xmile"); err == nil || !strings.Contains(err.Error(), "does-not-exist.xmile") {
		t.Errorf("missing file error: %v", err)
	}
}

func TestIseePrefixAndOldNamespace(t *testing.T) {
	src := `<xmile xmlns="http://www.systemdynamics.org/XMILE"><isee:prefs foo="1"/>
<sim_specs isee:x="1"><start>0</start><stop>3</stop><dt>1</dt></sim_specs>
<model><variables><stock name="s"><eqn>0</eqn><inflow>"in flow"</inflow></stock>
<flow name="in flow"><eqn>"lookup tbl"(TIME)</eqn></flow>
<gf name="lookup tbl"><xscale min="0" max="4"/><ypts>0,1,2,3,4</ypts></gf></variables></model></xmile>`
	m, err := Parse([]byte(src), "isee.xmile")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Run(Euler)
	if err != nil {
		t.Fatal(err)
	}
	// s(3) = 0+1+2
	if got := r.Values[0][3]; got != 3 {
		t.Errorf("s(3) = %g, want 3", got)
	}
}

const conformanceDir = "../../shared/data/sd-test-models"

func TestConformance(t *testing.T) {
	if _, err := os.Stat(conformanceDir); err != nil {
		t.Skip("conformance models not present")
	}
	c, err := RunConformance(conformanceDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("conformance: %d/%d passed", c.Passed, c.Total)
	for _, f := range c.Failed {
		t.Logf("FAIL %s: %s", f.Model, f.Reason)
	}
	if c.Passed < 78 {
		t.Errorf("passed %d/%d, want >= 77", c.Passed, c.Total)
	}
}

func TestArrays(t *testing.T) {
	src := `<xmile version="1.0">
<sim_specs><start>0</start><stop>2</stop><dt>1</dt></sim_specs>
<dimensions>
  <dim name="Region"><elem name="North"/><elem name="South Side"/></dim>
  <dim name="N" size="3"/>
</dimensions>
<model><variables>
  <stock name="Pop"><dimensions><dim name="Region"/></dimensions>
    <element subscript="North"><eqn>100</eqn></element>
    <element subscript="South Side"><eqn>50</eqn></element>
    <inflow>births</inflow></stock>
  <flow name="births"><dimensions><dim name="Region"/></dimensions><eqn>rate[Region] * Pop</eqn></flow>
  <aux name="rate"><dimensions><dim name="Region"/></dimensions>
    <element subscript="North"><eqn>0.1</eqn></element>
    <element subscript="South_Side"><eqn>0.2</eqn></element></aux>
  <aux name="total"><eqn>SUM(Pop[*])</eqn></aux>
  <aux name="south share"><eqn>Pop[Region.South_Side] / total</eqn></aux>
  <aux name="w"><dimensions><dim name="N"/></dimensions><eqn>N * 10</eqn></aux>
  <aux name="w stats"><eqn>MEAN(w[*]) + MAX(w[*]) + SIZE(w[*]) + w[2]</eqn></aux>
</variables></model></xmile>`
	m, err := Parse([]byte(src), "arr.xmile")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Run(Euler)
	if err != nil {
		t.Fatal(err)
	}
	col := map[string][]float64{}
	for i, n := range r.Names {
		col[n] = r.Values[i]
	}
	// North: 100 -> 110 -> 121; South Side: 50 -> 60 -> 72.
	want := map[string][]float64{
		"Pop[North]":         {100, 110, 121},
		"Pop[South Side]":    {50, 60, 72},
		"births[North]":      {10, 11, 12.1},
		"births[South Side]": {10, 12, 14.4},
		"total":              {150, 170, 193},
		"south share":        {50.0 / 150, 60.0 / 170, 72.0 / 193},
		"w[1]":               {10, 10, 10},
		"w[3]":               {30, 30, 30},
		"w stats":            {20 + 30 + 3 + 20, 73, 73},
	}
	for n, w := range want {
		g, ok := col[n]
		if !ok {
			t.Errorf("missing column %q (have %v)", n, r.Names)
			continue
		}
		for i := range w {
			if math.Abs(g[i]-w[i]) > 1e-9 {
				t.Errorf("%s at row %d = %g, want %g", n, i, g[i], w[i])
			}
		}
	}
}

func TestMacro(t *testing.T) {
	src := `<xmile version="1.0">
<sim_specs><start>0</start><stop>3</stop><dt>1</dt></sim_specs>
<model><variables>
  <aux name="a"><eqn>ACC(2, 10) + ACC(1, 0)</eqn></aux>
</variables></model>
<macro name="ACC"><eqn>ACC</eqn><parm>rate</parm><parm>start</parm>
  <variables>
    <flow name="rate"/>
    <stock name="ACC"><eqn>start</eqn><inflow>rate</inflow></stock>
  </variables>
</macro></xmile>`
	m, err := Parse([]byte(src), "macro.xmile")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Run(Euler)
	if err != nil {
		t.Fatal(err)
	}
	// each call has its own stock: (10+2t) + (0+t)
	for i, want := range []float64{10, 13, 16, 19} {
		if got := r.Values[0][i]; got != want {
			t.Errorf("a(%d) = %g, want %g", i, got, want)
		}
	}
}

// INT rounds down in XMILE (Stella) files and truncates toward zero in files written by
// Vensim, as each vendor's engine does.
func TestIntByVendor(t *testing.T) {
	model := func(vendor string) string {
		return `<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0"><header><vendor>` + vendor + `</vendor></header>
<sim_specs><start>0</start><stop>1</stop><dt>1</dt></sim_specs><model><variables>
<aux name="x"><eqn>INT(-9.5)</eqn></aux></variables></model></xmile>`
	}
	for vendor, want := range map[string]float64{"isee systems, inc.": -10, "Ventana Systems, Inc.": -9} {
		m, err := Parse([]byte(model(vendor)), "int.xmile")
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.Run(Euler)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range r.Names {
			if n == "x" && r.Values[i][0] != want {
				t.Errorf("%s: INT(-9.5) = %g, want %g", vendor, r.Values[i][0], want)
			}
		}
	}
}

func TestParseErrorPosition(t *testing.T) {
	_, err := parseExpr("x + * 3")
	if err == nil || !strings.Contains(err.Error(), `unexpected "*" at column 5`) {
		t.Fatalf("error %v, want the column of the stray operator", err)
	}
}
