package demo

import (
	"errors"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// community returns the demo unit (fully specified, so no defaults are needed), after
// mod, and its model.
func community(tb testing.TB, mod func(*unit.Unit)) (*unit.Unit, *twin.Model) {
	tb.Helper()
	var u unit.Unit
	if err := yaml.Unmarshal(examples.Community, &u); err != nil {
		tb.Fatal(err)
	}
	if mod != nil {
		mod(&u)
	}
	m, err := twin.FromUnit(&u)
	if err != nil {
		tb.Fatal(err)
	}
	return &u, m
}

// generated caches the demo year for seed 7 across tests.
var generated = map[uint64]*twin.Inputs{}

func demoYear(tb testing.TB, seed uint64) (*unit.Unit, *twin.Model, *twin.Inputs) {
	tb.Helper()
	u, m := community(tb, nil)
	in, ok := generated[seed]
	if !ok {
		var err error
		if in, err = Generate(u, m, seed); err != nil {
			tb.Fatal(err)
		}
		generated[seed] = in
	}
	return u, m, in
}

// demoGen returns the generator state of the demo year (weather, calendar) for the
// checks that need the model's internals.
func demoGen(tb testing.TB, seed uint64) *gen {
	tb.Helper()
	u, m := community(tb, nil)
	g, err := newGen(u, m, seed)
	if err != nil {
		tb.Fatal(err)
	}
	g.w = g.weather()
	return g
}

func TestDeterminism(t *testing.T) {
	u, m := community(t, nil)
	a, err := Generate(u, m, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(u, m, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("seed 7 twice: inputs differ")
	}
	c, err := Generate(u, m, 8)
	if err != nil {
		t.Fatal(err)
	}
	fields := []struct {
		name string
		a, c any
	}{
		{"BuildingLoadKW", a.BuildingLoadKW, c.BuildingLoadKW}, {"PVKWPerKWp", a.PVKWPerKWp, c.PVKWPerKWp},
		{"TempC", a.TempC, c.TempC}, {"RainMM", a.RainMM, c.RainMM}, {"RainForecast24hMM", a.RainForecast24hMM, c.RainForecast24hMM},
		{"WaterDemandM3", a.WaterDemandM3, c.WaterDemandM3}, {"EVSessions", a.EVSessions, c.EVSessions}, {"Jobs", a.Jobs, c.Jobs},
		{"ParkingRequests", a.ParkingRequests, c.ParkingRequests}, {"ResidentWindows", a.ResidentWindows, c.ResidentWindows},
		{"RentalRequests", a.RentalRequests, c.RentalRequests}, {"Tenancies", a.Tenancies, c.Tenancies}, {"Households", a.Households, c.Households},
	}
	for _, f := range fields {
		if reflect.DeepEqual(f.a, f.c) {
			t.Errorf("seeds 7 and 8 give the same %s", f.name)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, step := range []int{60, 30, 15} {
		u, m := community(t, func(u *unit.Unit) { u.Simulation.StepMinutes = step })
		in, err := Generate(u, m, 7)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if err := in.Validate(m); err != nil {
			t.Errorf("step %d: %v", step, err)
		}
		if want := 8760 * 60 / step; in.Steps != want || len(in.TempC) != want || len(in.WaterDemandM3) != want || len(in.CarbonKgPerKWh) != want {
			t.Errorf("step %d: %d steps, want %d", step, in.Steps, want)
		}
		if in.ImportPriceCNYPerKWh != nil {
			t.Errorf("step %d: import prices set; the tariff prices imports", step)
		}
		if got := in.Start.Format("2006-01-02 15:04 MST"); got != "2025-01-01 00:00 CST" {
			t.Errorf("start = %s, want local midnight 2025-01-01 CST", got)
		}
	}
}

// TestSubHourlyConserves checks that 15-minute steps carry the same energy and rain as
// hourly ones.
func TestSubHourlyConserves(t *testing.T) {
	_, _, h := demoYear(t, 7)
	u, m := community(t, func(u *unit.Unit) { u.Simulation.StepMinutes = 15 })
	q, err := Generate(u, m, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		hourly []float64
		quart  []float64
		dtH    float64 // weight of a quarter-hour value relative to an hour
	}{
		{"load", h.BuildingLoadKW[0], q.BuildingLoadKW[0], 0.25},
		{"pv", h.PVKWPerKWp[0], q.PVKWPerKWp[0], 0.25},
		{"rain", h.RainMM, q.RainMM, 1},
		{"water", h.WaterDemandM3, q.WaterDemandM3, 1},
	} {
		a, b := sum(c.hourly), sum(c.quart)*c.dtH
		if !near(a, b, 1e-9) {
			t.Errorf("%s: hourly total %g, 15-min total %g", c.name, a, b)
		}
	}
}

// TestPrefix checks that a one-week run is the first week of the year run.
func TestPrefix(t *testing.T) {
	_, _, year := demoYear(t, 7)
	u, m := community(t, func(u *unit.Unit) { u.Simulation.Hours = 168 })
	week, err := Generate(u, m, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := week.Validate(m); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(week.TempC, year.TempC[:168]) || !reflect.DeepEqual(week.BuildingLoadKW[3], year.BuildingLoadKW[3][:168]) ||
		!reflect.DeepEqual(week.PVKWPerKWp[1], year.PVKWPerKWp[1][:168]) || !reflect.DeepEqual(week.RainForecast24hMM, year.RainForecast24hMM[:168]) {
		t.Error("week series are not the year's first week")
	}
	inWeek := func(ss []twin.EVSession) []twin.EVSession {
		var out []twin.EVSession
		for _, s := range ss {
			if s.Depart < 168 {
				out = append(out, s)
			}
		}
		return out
	}
	if a, b := inWeek(week.EVSessions), inWeek(year.EVSessions); len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Errorf("week EV sessions (%d) are not the year's first-week sessions (%d)", len(a), len(b))
	}
}

func TestErrors(t *testing.T) {
	for name, mod := range map[string]func(*unit.Unit){
		"step 7 min":   func(u *unit.Unit) { u.Simulation.StepMinutes = 7 },
		"bad start":    func(u *unit.Unit) { u.Simulation.Start = "1 Jan 2025" },
		"bad flexible": func(u *unit.Unit) { u.Flexible[0].Building = "T99" },
	} {
		u, m := community(t, mod)
		if _, err := Generate(u, m, 1); !errors.Is(err, ErrUnit) {
			t.Errorf("%s: err = %v, want ErrUnit", name, err)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	u, m := community(b, nil)
	for b.Loop() {
		if _, err := Generate(u, m, 7); err != nil {
			b.Fatal(err)
		}
	}
}

func sum(s []float64) float64 {
	t := 0.0
	for _, v := range s {
		t += v
	}
	return t
}

func near(a, b, rel float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= rel*max(abs(a), abs(b), 1e-12)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestEventOrder checks that every event list is in time order, as the engine reads it.
func TestEventOrder(t *testing.T) {
	_, _, in := demoYear(t, 7)
	for _, c := range []struct {
		name string
		n    int
		at   func(i int) int
	}{
		{"EV sessions", len(in.EVSessions), func(i int) int { return in.EVSessions[i].Arrive }},
		{"jobs", len(in.Jobs), func(i int) int { return in.Jobs[i].Earliest }},
		{"parking requests", len(in.ParkingRequests), func(i int) int { return in.ParkingRequests[i].Arrive }},
		{"resident windows", len(in.ResidentWindows), func(i int) int { return in.ResidentWindows[i].From }},
		{"rental requests", len(in.RentalRequests), func(i int) int { return in.RentalRequests[i].Day }},
	} {
		for i := 1; i < c.n; i++ {
			if c.at(i) < c.at(i-1) {
				t.Errorf("%s: event %d at %d after event %d at %d", c.name, i, c.at(i), i-1, c.at(i-1))
				break
			}
		}
	}
}
