package citylearn

import (
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// DefaultTimeZone is the unit's time zone when Options.TimeZone is empty: lifang's
// default. CityLearn rows carry no zone, only a nominal local clock, which is taken as
// the unit's.
const DefaultTimeZone = "Asia/Shanghai"

// socFloor stands for a minimum state of charge of 0, which unit.Battery cannot hold
// (0 selects the default).
const socFloor = 1e-4

// Options fill in what a dataset leaves to the user.
type Options struct {
	// PVKWPerBuilding is the PV capacity in kW given to every building whose PV is
	// autosize or absent (0: none). Its output per kW installed is the building file's
	// solar_generation, as for sized PV; note that the neighbourhood sets ship that
	// column as zeros, so such arrays produce nothing.
	PVKWPerBuilding float64
	// BatteryKWhPerBuilding is the battery capacity in kWh given to every building whose
	// electrical_storage is autosize or absent (0: none); BatteryKWPerBuilding is its
	// power (0: capacity / 2 h).
	BatteryKWhPerBuilding, BatteryKWPerBuilding float64
	// TimeZone is the unit's IANA time zone (default DefaultTimeZone).
	TimeZone string
}

// Totals are sums taken while reading, for the inputs block of a run summary.
type Totals struct {
	// NonShiftableLoadKWh is Σ non_shiftable_load over the included buildings and steps.
	NonShiftableLoadKWh float64 `json:"non_shiftable_load_kwh"`
	// PVKWh is Σ over PV arrays of capacity_kw × Σ solar_generation / 1000.
	PVKWh      float64 `json:"pv_kwh"`
	Buildings  int     `json:"buildings"`
	Chargers   int     `json:"chargers"`
	EVSessions int     `json:"ev_sessions"`
	Jobs       int     `json:"jobs"`
	// JobsExtended counts jobs whose load profile was longer than their window: their
	// Latest was moved out until the profile fits.
	JobsExtended int `json:"jobs_extended"`
}

// Import reads the CityLearn dataset in dir: a unit with one building per included
// building of schema.json (with its PV, battery, chargers and washing machines) and
// the inputs that drive it over the schema's time steps.
//
// The unit is not defaulted or validated: the caller runs unit.ApplyDefaults and
// Validate. Every building shares the first included building's weather, pricing and
// carbon files, as in the published sets. Prices are CityLearn's USD/kWh, carried
// as-is in the CNY-named fields; the unit's tariff is one flat period at their mean
// (0 without pricing), for whatever still reads the tariff.
func Import(dir string, opt Options) (*unit.Unit, *twin.Inputs, *Totals, error) {
	s, err := readSchema(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	im := &importer{dir: dir, opt: opt, s: s, tot: &Totals{}}
	if err := im.horizon(); err != nil {
		return nil, nil, nil, err
	}
	if err := im.run(); err != nil {
		return nil, nil, nil, err
	}
	return im.u, im.in, im.tot, nil
}

type importer struct {
	dir string
	opt Options
	s   *schema

	skip      int     // data rows before the first simulated step
	steps     int     // simulated steps
	stepHours float64 // step length in hours
	vehicles  map[string]float64

	u   *unit.Unit
	in  *twin.Inputs
	tot *Totals
}

func (im *importer) horizon() error {
	s := im.s
	if s.EndStep == nil {
		return fmt.Errorf("citylearn: schema.json: simulation_end_time_step is missing")
	}
	im.skip, im.steps = s.StartStep, *s.EndStep-s.StartStep+1
	if im.skip < 0 || im.steps <= 0 {
		return fmt.Errorf("citylearn: schema.json: time steps %d to %d: want 0 <= start <= end", s.StartStep, *s.EndStep)
	}
	if s.SecondsPerStep <= 0 || math.Mod(s.SecondsPerStep, 60) != 0 {
		return fmt.Errorf("citylearn: schema.json: seconds_per_time_step %v: want a positive whole number of minutes", s.SecondsPerStep)
	}
	im.stepHours = s.SecondsPerStep / 3600
	im.vehicles = map[string]float64{}
	for name, v := range s.Vehicles {
		im.vehicles[name] = val(v.Battery.Attributes.Capacity)
	}
	return nil
}

func (im *importer) run() error {
	tz := im.opt.TimeZone
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("citylearn: time zone %q: %w", tz, err)
	}
	abs, err := filepath.Abs(im.dir)
	if err != nil {
		return fmt.Errorf("citylearn: %w", err)
	}
	im.u = &unit.Unit{
		Name:       "citylearn-" + filepath.Base(abs),
		Location:   unit.Location{TimeZone: tz},
		Simulation: unit.Simulation{Hours: im.steps, StepMinutes: int(im.s.SecondsPerStep / 60)},
		Data:       unit.DataSource{Source: "citylearn", CityLearn: im.dir},
	}
	im.in = &twin.Inputs{Step: time.Duration(im.s.SecondsPerStep) * time.Second, Steps: im.steps}

	var first *entry[building]
	firstMonth := 0
	for i := range im.s.Buildings {
		e := &im.s.Buildings[i]
		if !e.Value.included() {
			continue
		}
		month, err := im.building(e.Name, &e.Value)
		if err != nil {
			return err
		}
		if first == nil {
			first, firstMonth = e, month
		}
	}
	if first == nil {
		return fmt.Errorf("citylearn: schema.json: no included buildings")
	}
	im.tot.Buildings = len(im.u.Buildings)
	im.tot.Chargers = len(im.u.EV.Chargers)
	im.tot.EVSessions = len(im.in.EVSessions)
	im.tot.Jobs = len(im.in.Jobs)

	start, err := im.startDate(firstMonth)
	if err != nil {
		return err
	}
	im.u.Simulation.Start = start.Format(time.DateOnly)
	im.in.Start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)

	fb := &first.Value
	if fb.Weather == "" {
		return fmt.Errorf("citylearn: schema.json: building %q has no weather file", first.Name)
	}
	if im.in.TempC, err = im.column(fb.Weather, "outdoor_dry_bulb_temperature"); err != nil {
		return err
	}
	if fb.Pricing != "" {
		if im.in.ImportPriceCNYPerKWh, err = im.column(fb.Pricing, "electricity_pricing"); err != nil {
			return err
		}
	}
	if fb.CarbonIntensity != "" {
		if im.in.CarbonKgPerKWh, err = im.column(fb.CarbonIntensity, "carbon_intensity"); err != nil {
			return err
		}
	}
	im.u.Tariffs.Electricity.Seasons = []unit.Season{{
		Name:    "all year",
		Months:  []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
		Periods: []unit.Period{{Name: "flat", PriceCNYPerKWh: mean(im.in.ImportPriceCNYPerKWh), Hours: []string{"0-24"}}},
	}}
	return nil
}

// startDate is the local date of the first simulated step: schema start_date moved on
// by simulation_start_time_step, else the 1st of the first row's month in 2018 (the
// nominal year of the neighbourhood sets, which carry no date).
func (im *importer) startDate(firstMonth int) (time.Time, error) {
	if im.s.StartDate == "" {
		if firstMonth < 1 || firstMonth > 12 {
			firstMonth = 1
		}
		return time.Date(2018, time.Month(firstMonth), 1, 0, 0, 0, 0, time.UTC), nil
	}
	d, err := time.Parse(time.DateOnly, im.s.StartDate)
	if err != nil {
		return time.Time{}, fmt.Errorf("citylearn: schema.json: start_date %q: want YYYY-MM-DD", im.s.StartDate)
	}
	offset := time.Duration(im.skip) * time.Duration(im.s.SecondsPerStep) * time.Second
	if offset%(24*time.Hour) != 0 {
		return time.Time{}, fmt.Errorf("citylearn: schema.json: simulation_start_time_step %d is not at midnight; lifang simulations start on a date", im.skip)
	}
	return d.Add(offset), nil
}

// building adds one building and its assets; it returns the month of its first
// simulated row (0 if the file has no month column).
func (im *importer) building(name string, b *building) (int, error) {
	if b.EnergySimulation == "" {
		return 0, fmt.Errorf("citylearn: schema.json: building %q has no energy_simulation file", name)
	}
	bi := len(im.u.Buildings)
	im.u.Buildings = append(im.u.Buildings, unit.Building{Name: name, Households: 1})

	pvKW := 0.0
	switch {
	case b.PV != nil && val(b.PV.Attributes.NominalPower) > 0:
		pvKW = *b.PV.Attributes.NominalPower
	case b.PV == nil || b.PV.Autosize:
		pvKW = im.opt.PVKWPerBuilding
	}
	e, err := im.readEnergy(b.EnergySimulation, pvKW > 0)
	if err != nil {
		return 0, err
	}
	im.in.BuildingLoadKW = append(im.in.BuildingLoadKW, e.loadKW)
	im.tot.NonShiftableLoadKWh += e.loadKWh
	if pvKW > 0 {
		im.u.PV = append(im.u.PV, unit.PVArray{Name: "pv-" + name, Building: name, CapacityKW: pvKW})
		im.in.PVKWPerKWp = append(im.in.PVKWPerKWp, e.pvKWPerKWp)
		im.tot.PVKWh += pvKW * e.solarSum / 1000
	}
	if bat, ok := im.battery(name, b.Storage); ok {
		im.u.Batteries = append(im.u.Batteries, bat)
	}

	for _, c := range b.Chargers {
		if c.Value.File == "" {
			return 0, fmt.Errorf("citylearn: schema.json: building %q charger %q has no charger_simulation file", name, c.Name)
		}
		a := c.Value.Attributes
		power := val(a.MaxChargingPower)
		if power <= 0 {
			power = val(a.NominalPower)
		}
		ci := len(im.u.EV.Chargers)
		im.u.EV.Chargers = append(im.u.EV.Chargers, unit.Charger{Name: c.Name, Building: name, Count: 1, PowerKW: power, Efficiency: val(a.Efficiency)})
		sessions, err := im.readSessions(c.Value.File, ci)
		if err != nil {
			return 0, err
		}
		im.in.EVSessions = append(im.in.EVSessions, sessions...)
	}

	for _, w := range b.WashingMachines {
		if w.Value.File == "" {
			return 0, fmt.Errorf("citylearn: schema.json: building %q washing machine %q has no washing_machine_energy_simulation file", name, w.Name)
		}
		fi := len(im.u.Flexible)
		jobs, extended, err := im.readJobs(w.Value.File, fi, bi)
		if err != nil {
			return 0, err
		}
		im.u.Flexible = append(im.u.Flexible, im.flexible(name+"/"+w.Name, name, jobs))
		im.in.Jobs = append(im.in.Jobs, jobs...)
		im.tot.JobsExtended += extended
	}
	return e.month, nil
}

// battery maps a building's electrical_storage, or sizes one from the options when it
// is autosize or absent.
func (im *importer) battery(name string, st *device) (unit.Battery, bool) {
	b := unit.Battery{Name: "battery-" + name, Building: name, SoCMax: 1, SoCMin: socFloor, SoCInitial: socFloor}
	if st != nil && val(st.Attributes.Capacity) > 0 {
		a := st.Attributes
		b.CapacityKWh = *a.Capacity
		b.PowerKW = val(a.NominalPower)
		b.RoundTripEfficiency = val(a.Efficiency)
		if a.DepthOfDischarge != nil {
			b.SoCMin = max(1-*a.DepthOfDischarge, socFloor)
		}
		b.SoCInitial = max(val(a.InitialSoC), b.SoCMin)
		// loss_coefficient is CityLearn's standby loss per time step.
		b.SelfDischargePerHour = val(a.LossCoefficient) / im.stepHours
		return b, true
	}
	if (st == nil || st.Autosize) && im.opt.BatteryKWhPerBuilding > 0 {
		b.CapacityKWh = im.opt.BatteryKWhPerBuilding
		b.PowerKW = im.opt.BatteryKWPerBuilding
		if b.PowerKW <= 0 {
			b.PowerKW = b.CapacityKWh / 2
		}
		return b, true
	}
	return b, false
}

// flexible describes a washing machine by its jobs: mean cycle energy, mean run length
// and mean window, rounded to whole hours.
func (im *importer) flexible(name, building string, jobs []twin.Job) unit.Flexible {
	f := unit.Flexible{Name: name, Building: building, Kind: "shiftable", Count: 1}
	if len(jobs) == 0 {
		return f
	}
	var kwh, steps, window float64
	for _, j := range jobs {
		for _, p := range j.ProfileKW {
			kwh += p * im.stepHours
		}
		steps += float64(len(j.ProfileKW))
		window += float64(j.Latest - j.Earliest)
	}
	n := float64(len(jobs))
	f.CycleKWh = kwh / n
	f.DurationHours = max(1, int(math.Round(steps/n*im.stepHours)))
	f.WindowHours = max(f.DurationHours, int(math.Round(window/n*im.stepHours)))
	f.RunsPerWeek = n / (float64(im.steps) * im.stepHours / (7 * 24))
	return f
}

// energy is what one building file contributes.
type energy struct {
	loadKW     []float64
	pvKWPerKWp []float64 // nil unless asked for
	loadKWh    float64   // Σ non_shiftable_load
	solarSum   float64   // Σ solar_generation (Wh per kW installed)
	month      int       // month of the first simulated row, 0 if unknown
}

func (im *importer) readEnergy(file string, pv bool) (e energy, err error) {
	t, err := openTable(im.dir, file)
	if err != nil {
		return e, err
	}
	defer t.Close()
	cl, err := t.col("non_shiftable_load")
	if err != nil {
		return e, err
	}
	cs := -1
	if pv {
		if cs, err = t.col("solar_generation"); err != nil {
			return e, err
		}
		e.pvKWPerKWp = make([]float64, im.steps)
	}
	cm := t.optCol("month")
	e.loadKW = make([]float64, im.steps)
	n := im.skip + im.steps
	for r := range n {
		if err := t.next(n); err != nil {
			return e, err
		}
		if r < im.skip {
			continue
		}
		i := r - im.skip
		l, err := t.float(cl, "non_shiftable_load")
		if err != nil {
			return e, err
		}
		if l < 0 {
			return e, t.errorf("non_shiftable_load: %v is negative", l)
		}
		e.loadKWh += l
		e.loadKW[i] = l / im.stepHours
		if cs >= 0 {
			s, err := t.float(cs, "solar_generation")
			if err != nil {
				return e, err
			}
			e.solarSum += s
			e.pvKWPerKWp[i] = s / 1000 / im.stepHours
		}
		if i == 0 && cm >= 0 {
			if e.month, err = t.step(cm, "month"); err != nil {
				return e, err
			}
		}
	}
	return e, nil
}

// column reads one numeric column over the simulated steps.
func (im *importer) column(file, col string) ([]float64, error) {
	t, err := openTable(im.dir, file)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	c, err := t.col(col)
	if err != nil {
		return nil, err
	}
	out := make([]float64, im.steps)
	n := im.skip + im.steps
	for r := range n {
		if err := t.next(n); err != nil {
			return nil, err
		}
		if r < im.skip {
			continue
		}
		if out[r-im.skip], err = t.float(c, col); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
