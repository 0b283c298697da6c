package citylearn

import (
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestImport2022(t *testing.T) {
	d := dataset(t, "2022_all_plus_evs")
	t0 := time.Now()
	u, in, tot, err := Import(d, Options{})
	took := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	want := expect(t, d, Options{})
	checkImport(t, u, in, tot, want)
	t.Logf("imported in %v: %+v", took, *tot)
	if took > time.Second {
		t.Errorf("import took %v, want well under 1 s", took)
	}

	if u.Name != "citylearn-2022_all_plus_evs" || u.Data.Source != "citylearn" || u.Data.CityLearn != d {
		t.Errorf("name %q, data %+v", u.Name, u.Data)
	}
	if u.Simulation.Start != "2024-08-01" || u.Simulation.StepMinutes != 60 || in.Step != time.Hour {
		t.Errorf("simulation %+v, step %v", u.Simulation, in.Step)
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	if !in.Start.Equal(time.Date(2024, 8, 1, 0, 0, 0, 0, shanghai)) || in.Start.Location().String() != "Asia/Shanghai" {
		t.Errorf("inputs start %v", in.Start)
	}
	if want.pv != 17 || want.batteries != 17 || want.chargers != 8 {
		t.Errorf("the 2022 set changed: %+v", want)
	}
	if len(in.EVSessions) == 0 || len(in.Jobs) == 0 || len(u.Flexible) != 1 {
		t.Fatalf("%d sessions, %d jobs, %d flexible loads", len(in.EVSessions), len(in.Jobs), len(u.Flexible))
	}
	f := u.Flexible[0]
	if f.Name != "Building_1/washing_machine_1" || f.Building != "Building_1" || f.Kind != "shiftable" || f.CycleKWh <= 0 || f.DurationHours < 1 || f.WindowHours < f.DurationHours {
		t.Errorf("flexible %+v", f)
	}
	// Battery mapping: no depth_of_discharge or initial_soc in the file, so CityLearn's
	// empty-battery defaults become the smallest expressible SoC.
	b := u.Batteries[0]
	if b.CapacityKWh != 6.4 || b.PowerKW != 5 || b.RoundTripEfficiency != 0.9 || b.SoCMin != socFloor || b.SoCInitial != socFloor || b.SoCMax != 1 {
		t.Errorf("battery %+v", b)
	}
	c := u.EV.Chargers[0]
	if c.Name != "charger_1_1" || c.Building != "Building_1" || c.PowerKW != 11 || c.Efficiency != 0.95 || c.Count != 1 {
		t.Errorf("charger %+v", c)
	}
	p := readCSV(t, filepath.Join(d, "pricing.csv"))
	meanPrice := p.sum(t, "electricity_pricing", 8760) / 8760
	if got := u.Tariffs.Electricity.Seasons[0].Periods[0].PriceCNYPerKWh; !near(got, meanPrice) {
		t.Errorf("tariff price %v, want the mean %v", got, meanPrice)
	}
	if len(in.ImportPriceCNYPerKWh) != 8760 || len(in.CarbonKgPerKWh) != 8760 || len(in.TempC) != 8760 {
		t.Errorf("price, carbon, temperature lengths %d %d %d", len(in.ImportPriceCNYPerKWh), len(in.CarbonKgPerKWh), len(in.TempC))
	}
	if in.TempC[0] != 20.0 || in.TempC[1] != 20.1 {
		t.Errorf("temperature starts %v", in.TempC[:2])
	}
	if in.RainMM != nil || in.RainForecast24hMM != nil || in.WaterDemandM3 != nil {
		t.Error("water series should be nil")
	}
	// Options size only what the file leaves to autosize.
	u2, _, tot2, err := Import(d, Options{PVKWPerBuilding: 99, BatteryKWhPerBuilding: 99})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(u2.PV, u.PV) || !reflect.DeepEqual(u2.Batteries, u.Batteries) || *tot2 != *tot {
		t.Error("options changed the sizes of a set that gives them")
	}
}

func TestImportNeighbourhood(t *testing.T) {
	d := dataset(t, "ca_alameda_neighborhood")
	u, in, tot, err := Import(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := expect(t, d, Options{})
	checkImport(t, u, in, tot, want)
	t.Logf("%+v", *tot)
	if want.buildings != 30 || want.pv != 0 || want.batteries != 0 || want.chargers != 0 {
		t.Errorf("the neighbourhood set changed: %+v", want)
	}
	if u.Simulation.Start != "2018-01-01" || in.ImportPriceCNYPerKWh != nil || in.CarbonKgPerKWh != nil {
		t.Errorf("start %q, prices %v, carbon %v", u.Simulation.Start, in.ImportPriceCNYPerKWh != nil, in.CarbonKgPerKWh != nil)
	}
	if p := u.Tariffs.Electricity.Seasons[0].Periods[0]; p.PriceCNYPerKWh != 0 || !slices.Equal(p.Hours, []string{"0-24"}) {
		t.Errorf("tariff %+v", p)
	}
}

func TestImportNeighbourhoodSized(t *testing.T) {
	d := dataset(t, "ca_alameda_neighborhood")
	opt := Options{PVKWPerBuilding: 5, BatteryKWhPerBuilding: 10, BatteryKWPerBuilding: 4, TimeZone: "America/Los_Angeles"}
	u, in, tot, err := Import(d, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := expect(t, d, opt)
	checkImport(t, u, in, tot, want)
	if len(u.PV) != 30 || len(u.Batteries) != 30 {
		t.Fatalf("%d PV arrays, %d batteries, want 30 each", len(u.PV), len(u.Batteries))
	}
	// PVKWh = 5 × Σ solar_generation / 1000 over the homes. The set ships
	// solar_generation as zeros (CityLearn sizes autosize PV from an EPW file that is not
	// part of the set), so this is 0: the arrays exist but produce nothing.
	solar := 0.0
	for _, b := range u.Buildings {
		f := readCSV(t, filepath.Join(d, b.Name+".csv"))
		solar += f.sum(t, "solar_generation", 8760)
	}
	if !near(tot.PVKWh, 5*solar/1000) {
		t.Errorf("PVKWh %v, want %v", tot.PVKWh, 5*solar/1000)
	}
	for _, b := range u.Batteries {
		if b.CapacityKWh != 10 || b.PowerKW != 4 || b.SoCMin != socFloor {
			t.Fatalf("battery %+v", b)
		}
	}
	if u.Location.TimeZone != "America/Los_Angeles" || in.Start.Location().String() != "America/Los_Angeles" || in.Start.Hour() != 0 {
		t.Errorf("time zone %q, start %v", u.Location.TimeZone, in.Start)
	}
}

// The *_predicted_* columns are perfect foresight: moving them to the front and
// scrambling them must not change anything the importer returns.
func TestPredictedColumnsIgnored(t *testing.T) {
	src := dataset(t, "2022_all_plus_evs")
	u1, in1, tot1, err := Import(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := linkDataset(t, src)
	scrambled := 0
	for _, name := range []string{"weather.csv", "pricing.csv"} {
		rewrite(t, d, name, func(lines []string) []string {
			head := strings.Split(lines[0], ",")
			var pred, rest []int
			for i, h := range head {
				if strings.Contains(h, "_predicted_") {
					pred = append(pred, i)
				} else {
					rest = append(rest, i)
				}
			}
			order := append(pred, rest...)
			out := make([]string, len(lines))
			for r, l := range lines {
				f := strings.Split(l, ",")
				g := make([]string, 0, len(f))
				for k, i := range order {
					switch {
					case r == 0 || k >= len(pred):
						g = append(g, f[i])
					default:
						other := strings.Split(lines[len(lines)-r], ",") // rows reversed
						v, _ := strconv.ParseFloat(other[i], 64)
						g = append(g, strconv.FormatFloat(-3*v+float64(r), 'g', -1, 64))
						scrambled++
					}
				}
				out[r] = strings.Join(g, ",")
			}
			return out
		})
	}
	if scrambled == 0 {
		t.Fatal("no predicted columns found to scramble")
	}
	u2, in2, tot2, err := Import(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !in1.Start.Equal(in2.Start) {
		t.Fatalf("start %v vs %v", in1.Start, in2.Start)
	}
	in2.Start = in1.Start
	u2.Name, u2.Data = u1.Name, u1.Data
	if !reflect.DeepEqual(in1, in2) || !reflect.DeepEqual(u1, u2) || *tot1 != *tot2 {
		t.Error("scrambling *_predicted_* columns changed the import")
	}
}

func BenchmarkImport(b *testing.B) {
	for _, set := range []string{"2022_all_plus_evs", "ca_alameda_neighborhood"} {
		b.Run(set, func(b *testing.B) {
			d := dataset(b, set)
			for b.Loop() {
				if _, _, _, err := Import(d, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
