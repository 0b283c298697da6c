package citylearn

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// dataRoot is the shared data folder, read in place (never copied into the repository).
const dataRoot = "../../../shared/data/citylearn"

// dataset is the path of a shared CityLearn set, or skips the test when it is absent.
func dataset(t testing.TB, name string) string {
	t.Helper()
	d := filepath.Join(dataRoot, name)
	if _, err := os.Stat(filepath.Join(d, "schema.json")); err != nil {
		t.Skipf("CityLearn set %s not found (shared data folder absent): %v", d, err)
	}
	return d
}

// linkDataset makes a scratch copy of a set in t.TempDir() with every file a symlink
// to the original; rewrite replaces the files a test breaks.
func linkDataset(t *testing.T, src string) string {
	t.Helper()
	abs, err := filepath.Abs(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	ents, err := os.ReadDir(abs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.Symlink(filepath.Join(abs, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// rewrite replaces file name in dir by edit applied to its lines (without line ends).
func rewrite(t *testing.T, dir, name string, edit func(lines []string) []string) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	out := strings.Join(edit(lines), "\n") + "\n"
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// csvFile is a whole CSV file read the plain way, for expectations computed
// independently of the importer.
type csvFile struct {
	col  map[string]int
	rows [][]string
}

func readCSV(t testing.TB, path string) csvFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	c := csvFile{col: map[string]int{}, rows: recs[1:]}
	for i, h := range recs[0] {
		c.col[h] = i
	}
	return c
}

func (c csvFile) sum(t testing.TB, col string, rows int) float64 {
	t.Helper()
	s := 0.0
	for _, r := range c.rows[:rows] {
		v, err := strconv.ParseFloat(r[c.col[col]], 64)
		if err != nil {
			t.Fatal(err)
		}
		s += v
	}
	return s
}

// expected is what a set should import as, worked out from schema.json and the
// building files without the importer's code.
type expected struct {
	buildings, pv, batteries, chargers int
	loadKWh, pvKWh                     float64
	steps                              int
}

func expect(t testing.TB, dir string, opt Options) expected {
	t.Helper()
	var s struct {
		Start     int                       `json:"simulation_start_time_step"`
		End       int                       `json:"simulation_end_time_step"`
		Buildings map[string]map[string]any `json:"buildings"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	num := func(m map[string]any, keys ...string) float64 {
		var v any = m
		for _, k := range keys {
			mm, ok := v.(map[string]any)
			if !ok {
				return 0
			}
			v = mm[k]
		}
		f, _ := v.(float64)
		return f
	}
	isAuto := func(m map[string]any, key string) bool {
		d, ok := m[key].(map[string]any)
		return !ok || d["autosize"] == true
	}
	e := expected{steps: s.End - s.Start + 1}
	for _, bd := range s.Buildings {
		if inc, ok := bd["include"].(bool); ok && !inc {
			continue
		}
		e.buildings++
		f := readCSV(t, filepath.Join(dir, bd["energy_simulation"].(string)))
		if len(f.rows) != e.steps {
			// contract-check sums whole files; the importer sums the simulated steps.
			t.Fatalf("%s has %d rows, %d steps: the totals would be ambiguous", bd["energy_simulation"], len(f.rows), e.steps)
		}
		e.loadKWh += f.sum(t, "non_shiftable_load", e.steps)
		kw := num(bd, "pv", "attributes", "nominal_power")
		if kw == 0 && isAuto(bd, "pv") {
			kw = opt.PVKWPerBuilding
		}
		if kw > 0 {
			e.pv++
			e.pvKWh += f.sum(t, "solar_generation", e.steps) * kw / 1000
		}
		if num(bd, "electrical_storage", "attributes", "capacity") > 0 || (isAuto(bd, "electrical_storage") && opt.BatteryKWhPerBuilding > 0) {
			e.batteries++
		}
		if ch, ok := bd["chargers"].(map[string]any); ok {
			e.chargers += len(ch)
		}
	}
	return e
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// checkImport asserts what must hold of every import: counts and totals as expected,
// series sums equal to the totals, inputs valid for the unit's model, sessions sane.
func checkImport(t *testing.T, u *unit.Unit, in *twin.Inputs, tot *Totals, want expected) *twin.Model {
	t.Helper()
	if got := [4]int{len(u.Buildings), len(u.PV), len(u.Batteries), len(u.EV.Chargers)}; got != [4]int{want.buildings, want.pv, want.batteries, want.chargers} {
		t.Errorf("buildings, PV, batteries, chargers = %v, want %v", got, [4]int{want.buildings, want.pv, want.batteries, want.chargers})
	}
	if tot.Buildings != want.buildings || tot.Chargers != want.chargers || tot.EVSessions != len(in.EVSessions) || tot.Jobs != len(in.Jobs) {
		t.Errorf("totals counts %+v disagree with the unit and inputs", *tot)
	}
	if in.Steps != want.steps || u.Simulation.Hours != want.steps {
		t.Errorf("steps %d, hours %d, want %d", in.Steps, u.Simulation.Hours, want.steps)
	}
	if !near(tot.NonShiftableLoadKWh, want.loadKWh) {
		t.Errorf("Totals.NonShiftableLoadKWh = %.9f, want %.9f", tot.NonShiftableLoadKWh, want.loadKWh)
	}
	if !near(tot.PVKWh, want.pvKWh) {
		t.Errorf("Totals.PVKWh = %.9f, want %.9f", tot.PVKWh, want.pvKWh)
	}
	h := in.Step.Hours()
	load := 0.0
	for _, s := range in.BuildingLoadKW {
		for _, v := range s {
			load += v * h
		}
	}
	if !near(load, want.loadKWh) {
		t.Errorf("Σ BuildingLoadKW = %.9f kWh, want %.9f", load, want.loadKWh)
	}
	pv := 0.0
	for a, s := range in.PVKWPerKWp {
		for _, v := range s {
			pv += v * h * u.PV[a].CapacityKW
		}
	}
	if !near(pv, want.pvKWh) {
		t.Errorf("Σ PV output = %.9f kWh, want %.9f", pv, want.pvKWh)
	}

	m, err := twin.FromUnit(u)
	if err != nil {
		t.Fatalf("FromUnit: %v", err)
	}
	if err := in.Validate(m); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	// What a caller does next: defaults, then validation. Checked through an interface
	// so that this package compiles whatever package unit offers; on a copy, so that
	// the test sees the unit as imported.
	var cp unit.Unit
	if b, err := json.Marshal(u); err != nil || json.Unmarshal(b, &cp) != nil {
		t.Fatalf("copying the unit: %v", err)
	}
	if v, ok := any(&cp).(interface {
		ApplyDefaults()
		Validate() error
	}); ok {
		v.ApplyDefaults()
		if err := v.Validate(); err != nil {
			t.Errorf("the imported unit does not validate once defaulted: %v", err)
		}
	}
	byCharger := map[int][]twin.EVSession{}
	for i, s := range in.EVSessions {
		if s.Charger < 0 || s.Charger >= len(m.Chargers) || s.Depart <= s.Arrive || s.Arrive < 0 || s.Depart > in.Steps || s.EnergyKWh < 0 || s.Vehicle == "" {
			t.Fatalf("session %d: %+v", i, s)
		}
		byCharger[s.Charger] = append(byCharger[s.Charger], s)
	}
	for c, ss := range byCharger {
		sort.Slice(ss, func(i, j int) bool { return ss[i].Arrive < ss[j].Arrive })
		for i := 1; i < len(ss); i++ {
			if ss[i].Arrive < ss[i-1].Depart {
				t.Fatalf("charger %d: sessions %+v and %+v overlap", c, ss[i-1], ss[i])
			}
		}
	}
	return m
}
