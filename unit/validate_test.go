package unit

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/examples"
)

// TestValidateReportsAll checks that one file with many problems reports each of
// them, in file order, each with its own line.
func TestValidateReportsAll(t *testing.T) {
	const data = `name: ""
location: {time_zone: Mars/Olympus}
simulation: {start: "2025-13-01", step_minutes: 7}
buildings: []
batteries:
  - {name: b, capacity_kwh: 0, power_kw: 10, round_trip_efficiency: 1.2}
tariffs:
  electricity:
    seasons: []
data: {source: parquet}
`
	_, err := Parse([]byte(data), "many.yaml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error = %v (%T), want Errors", err, err)
	}
	want := []string{
		`many.yaml:1: name: required`,
		`many.yaml:2: location.time_zone: "Mars/Olympus" is not a known IANA time zone`,
		`many.yaml:3: simulation.start: "2025-13-01" is not a date`,
		`many.yaml:3: simulation.step_minutes: 7 must be one of 15, 30, 60`,
		`many.yaml:4: buildings: at least one building is required`,
		`many.yaml:6: batteries[0].capacity_kwh: 0 must be > 0`,
		`many.yaml:6: batteries[0].round_trip_efficiency: 1.2 must be in (0, 1]`,
		`many.yaml:9: tariffs.electricity.seasons: at least one season is required`,
		`many.yaml:10: data.source: "parquet" is not valid (valid: synthetic, csv, citylearn)`,
	}
	if len(errs) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i := range min(len(errs), len(want)) {
		if !strings.HasPrefix(errs[i].Error(), want[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i].Error(), want[i])
		}
	}
}

// validUnit is the documented example, decoded and defaulted.
func validUnit(t *testing.T) *Unit {
	t.Helper()
	u, err := Load("../examples/community.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestValidateWithoutParse checks Validate on units built in Go: errors carry the field
// path but no file or line.
func TestValidateWithoutParse(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(u *Unit)
		want   string // "" for valid
	}{
		{"example", func(u *Unit) {}, ""},
		{"hours too long", func(u *Unit) { u.Simulation.Hours = 100000 }, "simulation.hours: 100000 must be in 1..87840"},
		{"soc_initial below soc_min", func(u *Unit) { u.Batteries[0].SoCInitial = 0.05 }, "batteries[0].soc_initial: 0.05 must be in [soc_min 0.1, soc_max 0.95]"},
		{"soc_initial equals soc_min", func(u *Unit) { u.Batteries[0].SoCInitial = 0.1 }, ""},
		{"temperature out of range", func(u *Unit) { u.Batteries[0].Degradation.TemperatureC = 60 }, "batteries[0].degradation.temperature_c: 60 must be within 10..45"},
		{"end of life 1", func(u *Unit) { u.Batteries[0].Degradation.EndOfLifeSoH = 1 }, "end_of_life_soh: 1 must be in (0, 1)"},
		{"window shorter than run", func(u *Unit) { u.Flexible[0].WindowHours = 1 }, "flexible_loads[0].window_hours: 1 must be >= duration_hours 2"},
		{"charger power", func(u *Unit) { u.EV.Chargers[1].PowerKW = 0 }, "ev.chargers[1].power_kw: 0 must be > 0"},
		{"charger count", func(u *Unit) { u.EV.Chargers[1].Count = 20000 }, "ev.chargers[1].count: 20000 must be in [1, 10000]"},
		{"charger building", func(u *Unit) { u.EV.Chargers[0].Building = "T11" }, `ev.chargers[0].building: "T11" is not a building`},
		{"resident > spaces", func(u *Unit) { u.Parking.Lots[1].ResidentSpaces = 90 }, "parking.lots[1].resident_spaces: 90 must be <= spaces 80"},
		{"fixed above max", func(u *Unit) { u.Parking.Pricing.FixedCNYPerHour = 20 }, "parking.pricing.fixed_cny_per_hour: 20 must be within"},
		{"occupancy band", func(u *Unit) { u.Parking.Pricing.TargetOccupancyLow = 0.9 }, "want 0 < target_occupancy_low < target_occupancy_high <= 1"},
		{"bands overlap", func(u *Unit) { u.Parking.Pricing.Bands[0].Hours = []string{"0-9", "21-24"} }, "parking.pricing.bands[1].hours[0]: hours 8-9 of band morning overlap band night"},
		{"bad hour range", func(u *Unit) { u.Parking.Pricing.Bands[0].Hours = []string{"7-0"} }, `bands[0].hours[0]: hour range "7-0": want 0 <= from < to <= 24`},
		{"short_term without adr", func(u *Unit) { u.Rentals[0].ADRCNY = 0 }, "rentals[0].adr_cny: 0 must be > 0 for a short_term rental"},
		{"long_term without rent", func(u *Unit) { u.Rentals[1].RentCNYPerMonth = 0 }, "rentals[1].rent_cny_per_month: 0 must be > 0 for a long_term rental"},
		{"rental units", func(u *Unit) { u.Rentals[1].Units = 0 }, "rentals[1].units: 0 must be > 0"},
		{"tank overfull", func(u *Unit) { u.Water.Tanks[0].InitialM3 = 250 }, "water.tanks[0].initial_m3: 250 must be in [0, capacity_m3 200]"},
		{"runoff above 1", func(u *Unit) { u.Water.Catchments[0].RunoffCoefficient = 1.5 }, "water.catchments[0].runoff_coefficient: 1.5 must be in (0, 1]"},
		{"no runoff, no surface", func(u *Unit) { u.Water.Catchments[0].Surface, u.Water.Catchments[0].RunoffCoefficient = "", 0 }, "runoff_coefficient: required when surface is not given"},
		{"water model", func(u *Unit) { u.Water.Model = "spill" }, `water.model: "spill" is not valid (valid: yas, ybs)`},
		{"price per MWh", func(u *Unit) { u.Tariffs.Electricity.Seasons[1].Periods[0].PriceCNYPerKWh = 550 }, "price 550 CNY/kWh looks like fen or CNY/MWh"},
		{"negative export", func(u *Unit) { u.Tariffs.Electricity.ExportCNYPerKWh = -1 }, "export_cny_per_kwh: -1 must be >= 0"},
		{"water price in fen", func(u *Unit) { u.Tariffs.Water.Tiers[0].PriceCNYPerM3 = 300 }, "price 300 CNY/m3 looks like fen"},
		{"last tier closed", func(u *Unit) { u.Tariffs.Water.Tiers[2].UpToM3 = 400 }, "tiers[2].up_to_m3: 400: the last tier must be open-ended"},
		{"month 13", func(u *Unit) { u.Tariffs.Electricity.Seasons[0].Months[0] = 13 }, "seasons[0].months[0]: month 13 must be in 1..12"},
		{"critical load", func(u *Unit) { u.Resilience.CriticalLoadFraction = 1.5 }, "resilience.critical_load_fraction: 1.5 must be in (0, 1]"},
		{"outage hours", func(u *Unit) { u.Resilience.OutageHours[1] = 0 }, "resilience.outage_hours[1]: 0 must be > 0"},
		{"citylearn without directory", func(u *Unit) { u.Data.Source = "citylearn" }, "data.citylearn: required when source is citylearn"},
		{"csv without path", func(u *Unit) { u.Data.Source = "csv" }, "data.csv.path: required when source is csv"},
		{"negative capex", func(u *Unit) { u.Capex.PVCNYPerKW = -3 }, "capex.pv_cny_per_kw: -3 must be >= 0"},
		{"empty name in list", func(u *Unit) { u.PV[1].Name = "" }, "pv[1].name: required: a name unique in pv"},
		{"pv capacity", func(u *Unit) { u.PV[0].CapacityKW = 0 }, "pv[0].capacity_kw: 0 must be > 0"},
		{"battery power", func(u *Unit) { u.Batteries[0].PowerKW = -1 }, "batteries[0].power_kw: -1 must be > 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := validUnit(t)
			c.change(u)
			err := u.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case c.want == "":
			case err == nil:
				t.Errorf("Validate succeeded, want %q", c.want)
			case !strings.Contains(err.Error(), c.want):
				t.Errorf("Validate error\n%v\ndoes not contain %q", err, c.want)
			case strings.Contains(err.Error(), ".yaml"):
				t.Errorf("Validate error %q names a file", err)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{&Error{File: "u.yaml", Line: 42, Field: "pv[0].capacity_kw", Msg: "0 must be > 0"}, "u.yaml:42: pv[0].capacity_kw: 0 must be > 0"},
		{&Error{File: "u.yaml", Msg: "empty file"}, "u.yaml: empty file"},
		{&Error{Field: "name", Msg: "required"}, "name: required"},
		{&Error{Line: 3, Msg: "bad"}, "line 3: bad"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
	errs := Errors{{Field: "a", Msg: "x"}, {Field: "b", Msg: "y"}}
	if got, want := errs.Error(), "a: x\nb: y"; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
	var one *Error
	if !errors.As(error(errs), &one) || one.Field != "a" {
		t.Errorf("errors.As(Errors, *Error) = %v", one)
	}
}

func TestApplyDefaults(t *testing.T) {
	u := &Unit{
		Batteries:  []Battery{{SoCMax: 0.9}},
		Rentals:    []Rental{{Kind: "long_term"}, {Kind: "short_term"}, {Kind: "long_term", TargetOccupancy: 0.5}},
		Water:      Water{Catchments: []Catchment{{Surface: "green_roof"}, {Surface: "block_paving", RunoffCoefficient: 0.5}, {}}},
		EV:         EV{Chargers: []Charger{{}}},
		Flexible:   []Flexible{{}},
		Resilience: Resilience{OutageHours: []int{2}},
	}
	u.ApplyDefaults()
	u.ApplyDefaults() // idempotent
	b := u.Batteries[0]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"time zone", u.Location.TimeZone, "Asia/Shanghai"},
		{"step", u.Simulation.StepMinutes, 60},
		{"soc_min", b.SoCMin, 0.1},
		{"soc_max kept", b.SoCMax, 0.9},
		{"degradation", b.Degradation.Model, "blast_lfp"},
		{"long_term occupancy", u.Rentals[0].TargetOccupancy, 0.9},
		{"short_term occupancy", u.Rentals[1].TargetOccupancy, 0.7},
		{"occupancy kept", u.Rentals[2].TargetOccupancy, 0.5},
		{"green roof runoff", u.Water.Catchments[0].RunoffCoefficient, 0.35},
		{"runoff kept", u.Water.Catchments[1].RunoffCoefficient, 0.5},
		{"no surface, no runoff", u.Water.Catchments[2].RunoffCoefficient, 0.0},
		{"first flush", u.Water.Catchments[2].FirstFlushMM, 2.0},
		{"charger count", u.EV.Chargers[0].Count, 1},
		{"flexible kind", u.Flexible[0].Kind, "shiftable"},
		{"outage hours kept", len(u.Resilience.OutageHours), 1},
		{"pricing step", u.Parking.Pricing.StepCNYPerHour, 0.5},
		{"platform share", u.Opex.PlatformShareOfParking, 0.1},
		{"source", u.Data.Source, "synthetic"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// The default outage hours must not alias the package variable.
	v := &Unit{}
	v.ApplyDefaults()
	v.Resilience.OutageHours[0] = 99
	if DefaultOutageHours[0] != 4 {
		t.Errorf("ApplyDefaults aliases DefaultOutageHours")
	}
}

// TestEmbeddedExample parses the copy of the example embedded in the binary.
func TestEmbeddedExample(t *testing.T) {
	if _, err := Parse(examples.Community, "community.yaml"); err != nil {
		t.Fatal(err)
	}
}

// TestIsChargerName: the site check's membership test agrees with ChargerNames, which
// it replaces so that a huge count is reported rather than listed.
func TestIsChargerName(t *testing.T) {
	u := &Unit{EV: EV{Chargers: []Charger{{Name: "dc"}, {Name: "ac", Count: 3}, {Name: "x/1", Count: 1}}}}
	names := map[string]bool{}
	for _, n := range u.ChargerNames() {
		names[n] = true
	}
	for _, n := range []string{"dc", "dc/1", "ac", "ac/0", "ac/1", "ac/3", "ac/4", "ac/01", "ac/+1", "ac/", "x/1", "x", ""} {
		if got := u.isChargerName(n); got != names[n] {
			t.Errorf("isChargerName(%q) = %v, ChargerNames has it: %v", n, got, names[n])
		}
	}
}

// TestParseHugeChargerCount: a site section naming chargers of a group with an absurd
// count is an error, not two billion names in memory.
func TestParseHugeChargerCount(t *testing.T) {
	data, err := os.ReadFile("testdata/site-charger.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "count: 2,", "count: 2000000000,", 1))
	_, err = Parse(data, "x.yaml")
	if want := "x.yaml:11: ev.chargers[0].count: 2000000000 must be in [1, 10000]"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Parse error = %v, want it to contain %q", err, want)
	}
}
