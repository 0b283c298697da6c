package unit

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestLoadCommunityExample(t *testing.T) {
	u, err := Load("../examples/community.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	households := 0
	for _, b := range u.Buildings {
		households += b.Households
	}
	pvKW := 0.0
	for _, p := range u.PV {
		pvKW += p.CapacityKW
	}
	loc, _ := time.LoadLocation(u.Location.TimeZone)
	price, period := u.Tariffs.Electricity.ImportPrice(time.Date(2025, 8, 1, 11, 30, 0, 0, loc))
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"name", u.Name, "lifang-demo-guangzhou"},
		{"buildings", len(u.Buildings), 10},
		{"households", households, 1000},
		{"pv kW", pvKW, 750.0},
		{"battery kWh", u.Batteries[0].CapacityKWh, 1000.0},
		{"battery model", u.Batteries[0].Degradation.Model, "blast_lfp"},
		{"chargers", len(u.EV.Chargers), 2},
		{"shareable spaces", u.Parking.Lots[0].ShareableSpaces, 220},
		{"seasons", len(u.Tariffs.Electricity.Seasons), 2},
		{"August 11:30 period", period, "critical"},
		{"August 11:30 price", price, 1.3813},
		{"water bill 200 m3", u.Tariffs.Water.WaterBill(200), 180*3.0 + 20*4.5},
		{"outage hours", len(u.Resilience.OutageHours), 4},
		{"source", u.Data.Source, "synthetic"},
		{"seed", u.Data.Seed, uint64(7)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestGoodFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	if len(files) < 3 {
		t.Fatalf("found %d good files, want at least 3", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Errorf("Load: %v", err)
			}
		})
	}
}

func TestMinimalTakesDefaults(t *testing.T) {
	u, err := Load("testdata/minimal.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if u.Simulation.Hours != 8760 || u.Simulation.StepMinutes != 60 || u.Location.TimeZone != "Asia/Shanghai" ||
		u.Data.Source != "synthetic" || u.Grid.PowerFactor != 0.95 {
		t.Errorf("defaults not applied: %+v %+v %+v", u.Simulation, u.Location, u.Data)
	}
}

func TestAnchorsMerge(t *testing.T) {
	u, err := Load("testdata/anchors.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := []Building{u.Buildings[1], u.Buildings[2]}
	want := []Building{{Name: "T2", Households: 100, RoofAreaM2: 1200}, {Name: "T3", Households: 80, RoofAreaM2: 1200}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("building %d = %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

// TestBadFiles loads each testdata/*.bad.yaml and checks the error against the
// "# want: <substring>" comment on its first line, written as <file>:<line>: <field>: <msg>.
func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) < 12 {
		t.Fatalf("found %d bad files, want at least 12", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("first line %q: want \"# want: <substring>\"", first)
			}
			_, err = Load(f)
			if err == nil {
				t.Fatalf("Load succeeded, want error containing %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error\n%v\ndoes not contain %q", err, want)
			}
			located := regexp.MustCompile(regexp.QuoteMeta(f) + `:[1-9][0-9]*: `)
			if !located.MatchString(err.Error()) {
				t.Errorf("error\n%v\ndoes not name %s:<line>", err, f)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Errorf("error is %T, want Errors", err)
			}
		})
	}
}

func TestParseDocumentErrors(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
	}{
		{"empty", "", "x.yaml: empty file"},
		{"comments only", "# nothing\n", "x.yaml: empty file"},
		{"null document", "---\n", "x.yaml:2: empty document"},
		{"third document", "name: x\n---\n---\nname: y\n", "x.yaml:3: a second YAML document starts here"},
		{"list at top", "- a\n- b\n", "x.yaml:1: want a mapping"},
		{"scalar for mapping", "name: x\ngrid: 400\n", `x.yaml:2: grid: want a mapping with keys transformer_kva, power_factor`},
		{"mapping for list", "name: x\nbuildings: {name: A}\n", "x.yaml:2: buildings: want a list, got a mapping"},
		{"fraction for int", "name: x\nsimulation: {hours: 1.5}\n", `x.yaml:2: simulation.hours: "1.5" is not a whole number`},
		{"quoted number", "name: x\ngrid: {transformer_kva: \"400\"}\n", `"400" is not a number (write it without quotes)`},
		{"negative seed", "name: x\ndata: {seed: -1}\n", `x.yaml:2: data.seed: "-1" is not a whole number >= 0`},
		{"nan", "name: x\ngrid: {transformer_kva: .nan}\n", `grid.transformer_kva: ".nan" is not a number`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.data), "x.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load error = %v, want os.ErrNotExist", err)
	}
}

func TestLinesLookup(t *testing.T) {
	l := lines{"": 1, "batteries": 10, "batteries[1]": 14, "batteries[1].degradation": 17}
	for path, want := range map[string]int{
		"batteries[1].degradation":       17,
		"batteries[1].degradation.model": 17,
		"batteries[1].soc_min":           14,
		"batteries[2].name":              10,
		"tariffs.electricity":            1,
	} {
		if got := l.lookup(path); got != want {
			t.Errorf("lookup(%q) = %d, want %d", path, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"capacty_kw", "capacity_kw", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"same", "same", 0}} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
