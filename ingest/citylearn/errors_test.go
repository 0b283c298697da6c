package citylearn

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setField sets column col of data line n (1-based, the header is line 1) to v.
func setField(t *testing.T, col string, n int, v string) func([]string) []string {
	return func(lines []string) []string {
		head := strings.Split(lines[0], ",")
		i := -1
		for k, h := range head {
			if h == col {
				i = k
			}
		}
		if i < 0 {
			t.Fatalf("no column %q", col)
		}
		f := strings.Split(lines[n-1], ",")
		f[i] = v
		lines[n-1] = strings.Join(f, ",")
		return lines
	}
}

func TestImportErrors(t *testing.T) {
	src := dataset(t, "2022_all_plus_evs")
	remove := func(name string) func(t *testing.T, d string) {
		return func(t *testing.T, d string) {
			if err := os.Remove(filepath.Join(d, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	edit := func(name string, f func(t *testing.T) func([]string) []string) func(t *testing.T, d string) {
		return func(t *testing.T, d string) { rewrite(t, d, name, f(t)) }
	}
	cases := []struct {
		name     string
		break_   func(t *testing.T, d string)
		want     []string
		notExist bool
	}{
		{"missing schema", remove("schema.json"), []string{"citylearn: ", "schema.json"}, true},
		{"missing building file", remove("Building_5.csv"), []string{"Building_5.csv"}, true},
		{"missing charger file", remove("charger_4_1.csv"), []string{"charger_4_1.csv"}, true},
		{"missing weather file", remove("weather.csv"), []string{"weather.csv"}, true},
		{"missing washing machine file", remove("Washing_Machine_1.csv"), []string{"Washing_Machine_1.csv"}, true},
		{"malformed schema", edit("schema.json", func(*testing.T) func([]string) []string {
			return func(l []string) []string { l[5] = `  "simulation_end_time_step": 87 59,`; return l }
		}), []string{"schema.json:6:"}, false},
		{"no end step", edit("schema.json", func(*testing.T) func([]string) []string {
			return func(l []string) []string { l[5] = ``; return l }
		}), []string{"schema.json", "simulation_end_time_step"}, false},
		{"malformed number", edit("Building_3.csv", func(t *testing.T) func([]string) []string {
			return setField(t, "non_shiftable_load", 57, "abc")
		}), []string{`citylearn: Building_3.csv:57: non_shiftable_load: "abc" is not a number`}, false},
		{"empty load", edit("Building_3.csv", func(t *testing.T) func([]string) []string {
			return setField(t, "non_shiftable_load", 8761, "")
		}), []string{`Building_3.csv:8761: non_shiftable_load: missing value`}, false},
		{"negative load", edit("Building_6.csv", func(t *testing.T) func([]string) []string {
			return setField(t, "non_shiftable_load", 100, "-0.5")
		}), []string{`Building_6.csv:100: non_shiftable_load: -0.5 is negative`}, false},
		{"malformed solar", edit("Building_2.csv", func(t *testing.T) func([]string) []string {
			return setField(t, "solar_generation", 2, "NaN")
		}), []string{`Building_2.csv:2: solar_generation: "NaN" is not a finite number`}, false},
		{"malformed price", edit("pricing.csv", func(t *testing.T) func([]string) []string {
			return setField(t, "electricity_pricing", 300, "0,15")
		}), []string{`pricing.csv:300: wrong number of fields`}, false},
		{"missing column", edit("Building_2.csv", func(*testing.T) func([]string) []string {
			return func(l []string) []string {
				l[0] = strings.Replace(l[0], "non_shiftable_load", "non_shiftable_load_kwh", 1)
				return l
			}
		}), []string{`Building_2.csv:1: missing column "non_shiftable_load"`}, false},
		{"missing weather column", edit("weather.csv", func(*testing.T) func([]string) []string {
			return func(l []string) []string {
				l[0] = strings.Replace(l[0], "outdoor_dry_bulb_temperature,", "temp,", 1)
				return l
			}
		}), []string{`weather.csv:1: missing column "outdoor_dry_bulb_temperature"`}, false},
		{"truncated building", edit("Building_4.csv", func(*testing.T) func([]string) []string {
			return func(l []string) []string { return l[:101] }
		}), []string{"Building_4.csv", "too few rows: 100 data rows, want at least 8760"}, false},
		{"truncated carbon", edit("carbon_intensity.csv", func(*testing.T) func([]string) []string {
			return func(l []string) []string { return l[:1] }
		}), []string{"carbon_intensity.csv", "too few rows: 0 data rows"}, false},
		{"empty file", edit("weather.csv", func(*testing.T) func([]string) []string {
			return func([]string) []string { return nil }
		}), []string{"weather.csv", "want a header line"}, false},
		{"malformed SoC", edit("charger_7_1.csv", func(t *testing.T) func([]string) []string {
			return setField(t, "current_soc", 2, "high")
		}), []string{`charger_7_1.csv:2: current_soc: "high" is not a number`}, false},
		{"missing required SoC", edit("charger_1_1.csv", func(t *testing.T) func([]string) []string {
			return setField(t, "electric_vehicle_required_soc_departure", 2, "")
		}), []string{`charger_1_1.csv:2: electric_vehicle_required_soc_departure: missing value`}, false},
		{"malformed load profile", edit("Washing_Machine_1.csv", func(*testing.T) func([]string) []string {
			return func(l []string) []string { l[2] = `1,1,1,3,"[3.157, x]"`; return l }
		}), []string{`Washing_Machine_1.csv:3: load_profile:`, `"x" is not a non-negative number`}, false},
		{"window ends before it starts", edit("Washing_Machine_1.csv", func(*testing.T) func([]string) []string {
			return func(l []string) []string { l[2] = `1,1,3,1,[3.157]`; return l }
		}), []string{`Washing_Machine_1.csv:3: wm_end_time_step 1 is before wm_start_time_step 3`}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := linkDataset(t, src)
			c.break_(t, d)
			_, _, _, err := Import(d, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if c.notExist != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = %v", err, !c.notExist)
			}
		})
	}
	if _, _, _, err := Import(src, Options{TimeZone: "Mars/Olympus_Mons"}); err == nil || !strings.Contains(err.Error(), "Mars/Olympus_Mons") {
		t.Errorf("bad time zone: %v", err)
	}
}
