package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/examples"
)

const sharedData = "../../../shared/data"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// writeUnit writes the example unit with one line replaced (old → new) into dir.
func writeUnit(t *testing.T, dir, old, new string) string {
	t.Helper()
	src := string(examples.Community)
	if old != "" {
		if !strings.Contains(src, old) {
			t.Fatalf("example unit has no %q", old)
		}
		src = strings.Replace(src, old, new, 1)
	}
	path := filepath.Join(dir, "community.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDemoWritesSummary(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "demo", "--out", out, "--seed", "7", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "rule_based") {
		t.Errorf("headline lacks the policies: %q", stdout)
	}
	var s struct {
		Unit     struct{ Name string }
		Hours    int
		Policies map[string]struct {
			NOICNY float64 `json:"noi_cny"`
			Energy map[string]float64
			KPI    map[string]json.RawMessage
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Hours != 8760 || s.Unit.Name == "" || len(s.Policies) != 3 {
		t.Fatalf("summary: hours %d, name %q, %d policies", s.Hours, s.Unit.Name, len(s.Policies))
	}
	for name, p := range s.Policies {
		e := p.Energy
		lhs := e["import_kwh"] - e["export_kwh"]
		rhs := e["load_kwh"] - e["pv_kwh"] + e["battery_loss_kwh"] + e["curtailed_kwh"] + e["battery_stored_change_kwh"]
		if d := lhs - rhs; d > 1e-6*lhs || d < -1e-6*lhs {
			t.Errorf("%s: energy balance off by %g kWh", name, d)
		}
		for _, fam := range []string{"economic", "resilience", "social", "financial"} {
			if _, ok := p.KPI[fam]; !ok {
				t.Errorf("%s: no %s KPIs", name, fam)
			}
		}
	}
	if s.Policies["mpc"].NOICNY < s.Policies["rule_based"].NOICNY {
		t.Errorf("MPC NOI %.0f below the rule-based %.0f", s.Policies["mpc"].NOICNY, s.Policies["rule_based"].NOICNY)
	}
	for _, f := range []string{"timeseries.csv", "report.html"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty", f)
		}
	}
}

func TestSimulateUnitFile(t *testing.T) {
	dir := t.TempDir()
	path := writeUnit(t, dir, "", "")
	code, _, stderr := runCLI(t, "simulate", "--unit", path, "--policy", "rule_based", "--out", filepath.Join(dir, "out"), "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// Bad input exits non-zero with a message naming the place and the problem.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"unknown key", "  power_factor: 0.95", "  power_factr: 0.95", []string{"community.yaml:", "grid.power_factr", "unknown field"}},
		{"negative capacity", "    capacity_kwh: 1000", "    capacity_kwh: -1000", []string{"community.yaml:", "batteries[0].capacity_kwh", "must be > 0"}},
		{"TOU gap", `{name: valley, price_cny_per_kwh: 0.247, hours: ["0-8"]}`, `{name: valley, price_cny_per_kwh: 0.247, hours: ["0-7"]}`, []string{"community.yaml:", "hour 7 is not covered"}},
		{"TOU overlap", `{name: valley, price_cny_per_kwh: 0.247, hours: ["0-8"]}`, `{name: valley, price_cny_per_kwh: 0.247, hours: ["0-9"]}`, []string{"community.yaml:", "overlap"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeUnit(t, dir, c.old, c.new)
			for _, args := range [][]string{{"validate", path}, {"simulate", "--unit", path, "--out", filepath.Join(dir, "out"), "--quiet"}} {
				code, _, stderr := runCLI(t, args...)
				if code == 0 {
					t.Fatalf("%v: exit 0, want failure", args[0])
				}
				for _, w := range c.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%v: stderr %q lacks %q", args[0], stderr, w)
					}
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "out", "summary.json")); err == nil {
				t.Errorf("a failed run wrote summary.json")
			}
		})
	}
}

func TestBadCityLearn(t *testing.T) {
	src := filepath.Join(sharedData, "citylearn", "2022_all_plus_evs")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("shared data not present (%v); CI has it", err)
	}
	cases := []struct {
		name    string
		breakIt func(dir string) error
		want    []string
	}{
		{"missing file", func(dir string) error { return os.Remove(filepath.Join(dir, "Building_5.csv")) }, []string{"Building_5.csv"}},
		{"malformed row", func(dir string) error {
			p := filepath.Join(dir, "Building_3.csv")
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lines := strings.Split(string(b), "\n")
			f := strings.Split(lines[56], ",")
			f[7] = "abc" // non_shiftable_load of line 57
			lines[56] = strings.Join(f, ",")
			return os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
		}, []string{"Building_3.csv:57", "non_shiftable_load", "abc"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ents, err := os.ReadDir(src)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				b, err := os.ReadFile(filepath.Join(src, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.breakIt(dir); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCLI(t, "simulate", "--citylearn", dir, "--out", filepath.Join(dir, "out"), "--quiet")
			if code == 0 {
				t.Fatal("exit 0, want failure")
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"nonsense"},
		{"simulate"},
		{"simulate", "--unit", "x.yaml", "--policy", "magic"},
		{"demo", "--seed", "minus-one"},
	} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d (want %d), stderr %q", args, code, exitUsage, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "simulate", "--unit", "/nonexistent/unit.yaml", "--quiet"); code != exitFail || !strings.Contains(stderr, "unit.yaml") {
		t.Errorf("missing unit file: exit %d, stderr %q", code, stderr)
	}
}

// The neighbourhood set sizes nothing: flags size batteries and PV, and a unit file
// prices it (the set has no pricing.csv).
func TestNeighbourhoodPricedByUnit(t *testing.T) {
	src := filepath.Join(sharedData, "citylearn", "ca_alameda_neighborhood")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("shared data not present (%v); CI has it", err)
	}
	dir := t.TempDir()
	path := writeUnit(t, dir, "", "")
	out := filepath.Join(dir, "out")
	code, _, stderr := runCLI(t, "simulate", "--unit", path, "--citylearn", src, "--battery-kwh-per-building", "10", "--pv-kw-per-building", "5", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s struct {
		Inputs   map[string]float64
		Policies map[string]struct {
			KPI struct {
				Economic map[string]float64
			}
		}
	}
	raw, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Inputs["battery_capacity_kwh"] != 300 || s.Inputs["pv_capacity_kw"] != 150 {
		t.Fatalf("sizing by flags: %v", s.Inputs)
	}
	if g := s.Policies["rule_based"].KPI.Economic["grid_savings_vs_baseline_cny"]; g <= 0 {
		t.Fatalf("the TOU tariff from the unit should make the batteries pay: savings %g", g)
	}
}

// bench dispatch reproduces the reference no-storage and perfect-foresight bills of
// Building_1 (HiGHS LP, η = √efficiency, SoC₀ = 0, export 0) and the MPC stays between them.
func TestBenchDispatchBuilding1(t *testing.T) {
	dir := filepath.Join(sharedData, "citylearn", "2022_all_plus_evs")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data not present (%v); CI has it", err)
	}
	code, out, stderr := runCLI(t, "bench", "dispatch", "--citylearn", dir, "--limit", "1")
	if code != 0 {
		t.Fatal(stderr)
	}
	var r struct {
		Buildings []struct {
			Name      string
			NoStorage float64 `json:"cost_no_storage"`
			Perfect   float64 `json:"cost_perfect"`
			MPC       float64 `json:"cost_mpc"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	b := r.Buildings[0]
	if b.Name != "Building_1" || math.Abs(b.NoStorage-1064.1948486528256) > 1e-6 || math.Abs(b.Perfect-625.7595745025749) > 1e-6 {
		t.Fatalf("%+v, want no-storage 1064.1948486528256 and perfect 625.7595745025749", b)
	}
	if b.MPC < b.Perfect-1e-9 || b.MPC > b.NoStorage {
		t.Fatalf("MPC cost %g outside [perfect, no storage]", b.MPC)
	}
}

func TestSDConformanceCLI(t *testing.T) {
	dir := filepath.Join(sharedData, "sd-test-models")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data not present (%v); CI has it", err)
	}
	code, out, stderr := runCLI(t, "sd", "conformance", "--dir", dir, "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var c struct {
		Total, Passed int
		Failed        []struct{ Model, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c.Total == 0 || c.Passed+len(c.Failed) != c.Total {
		t.Fatalf("total %d, passed %d, %d failures listed", c.Total, c.Passed, len(c.Failed))
	}
	for _, f := range c.Failed {
		if f.Reason == "" {
			t.Errorf("%s failed without a reason", f.Model)
		}
	}
}

func TestSDScenarios(t *testing.T) {
	dir := t.TempDir()
	levers := filepath.Join(dir, "levers.yaml")
	os.WriteFile(levers, []byte("output: NOI\nat: 2045\nlevers:\n  - {name: Tariff Growth, base: 0.02, low: 0.0, high: 0.04}\nscenarios:\n  - {name: flat, set: {Tariff Growth: 0.0}}\n"), 0o644)
	code, out, stderr := runCLI(t, "sd", "scenarios", "--model", "../../sd/models/operating_unit.xmile", "--levers", levers, "--out", dir)
	if code != 0 {
		t.Fatal(stderr)
	}
	var r struct {
		Scenarios map[string]float64
		Tornado   []struct {
			Lever     string
			Low, High float64
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Tornado) != 1 || r.Tornado[0].High <= r.Tornado[0].Low || r.Scenarios["flat"] != r.Tornado[0].Low {
		t.Fatalf("%+v", r)
	}
	os.WriteFile(levers, []byte("output: NOI\nbogus: 1\n"), 0o644)
	if code, _, stderr := runCLI(t, "sd", "scenarios", "--model", "../../sd/models/operating_unit.xmile", "--levers", levers, "--out", dir); code == 0 || !strings.Contains(stderr, "levers.yaml") {
		t.Fatalf("unknown key accepted: %d %s", code, stderr)
	}
}

func TestSDDrivers(t *testing.T) {
	code, out, stderr := runCLI(t, "sd", "drivers", "--model", "../../sd/models/operating_unit.xmile")
	if code != 0 {
		t.Fatal(stderr)
	}
	var d struct {
		Drivers struct {
			Years []float64
			Paths map[string][]float64
		}
		Bounds map[string]float64 `json:"strategic_bounds"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Drivers.Years) != 31 || len(d.Drivers.Paths["NOI"]) != 31 || d.Bounds["battery_max_cycles_per_year"] <= 0 {
		t.Fatalf("%d years, bounds %v", len(d.Drivers.Years), d.Bounds)
	}
}
