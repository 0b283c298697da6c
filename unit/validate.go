package unit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Error is one problem in a unit file. Line is 0 when the unit did not come from a
// file (Validate on a Unit built in Go); Field is a path such as "pv[0].capacity_kw".
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the problem as "file:line: field: msg", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are all the problems found in one unit, in file order.
type Errors []*Error

// Error lists the problems one per line.
func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// locate sets the file and line of each error from the field-path table and sorts
// the errors by line.
func (es Errors) locate(file string, l lines) Errors {
	for _, e := range es {
		e.File, e.Line = file, l.lookup(e.Field)
	}
	slices.SortStableFunc(es, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	return es
}

// Plausibility bounds that catch unit mistakes (fen for yuan, per MWh for per kWh).
// The highest Chinese critical-peak energy prices are about 2 CNY/kWh and tiered
// water prices about 15 CNY/m³.
const (
	maxCNYPerKWh = 10
	maxCNYPerM3  = 100
	maxHours     = 10 * 8784 // ten leap years
)

// maxChargerCount is the most charging points in one charger group, far beyond a
// community's car park: ChargerNames and the twin list each point one by one.
const maxChargerCount = 10_000

// Validate checks a defaulted unit (see ApplyDefaults) and returns Errors listing every
// problem, or nil. Without Parse the errors carry no file or line.
func (u *Unit) Validate() error {
	if errs := u.validate(); len(errs) > 0 {
		return errs
	}
	return nil
}

func (u *Unit) validate() Errors {
	c := &check{buildings: map[string]bool{}}
	for _, b := range u.Buildings {
		c.buildings[b.Name] = true
	}
	if strings.TrimSpace(u.Name) == "" {
		c.errf("name", "required: a short name for the unit, e.g. lifang-demo")
	}
	c.location(&u.Location)
	c.simulation(&u.Simulation)
	c.buildingList(u.Buildings)
	c.householdsAndGrid(&u.Households, &u.Grid)
	c.pv(u.PV)
	c.batteries(u.Batteries)
	c.ev(&u.EV)
	c.flexible(u.Flexible)
	c.parking(&u.Parking)
	c.rentals(u.Rentals)
	c.water(&u.Water)
	c.electricity(&u.Tariffs.Electricity)
	c.waterTariff(&u.Tariffs.Water)
	c.costs(u)
	c.finance(&u.Finance)
	c.data(&u.Data, len(u.Buildings))
	c.site(u)
	return c.errs
}

// check collects problems; each method checks one section.
type check struct {
	errs      Errors
	buildings map[string]bool
}

func (c *check) errf(field, format string, args ...any) {
	c.errs = append(c.errs, &Error{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (c *check) positive(field string, v float64) {
	if !(v > 0) {
		c.errf(field, "%g must be > 0", v)
	}
}

func (c *check) nonNegative(field string, v float64) {
	if !(v >= 0) {
		c.errf(field, "%g must be >= 0", v)
	}
}

// fraction checks v in (0, 1].
func (c *check) fraction(field string, v float64) {
	if !(v > 0 && v <= 1) {
		c.errf(field, "%g must be in (0, 1]", v)
	}
}

// share checks v in [0, 1].
func (c *check) share(field string, v float64) {
	if !(v >= 0 && v <= 1) {
		c.errf(field, "%g must be in [0, 1]", v)
	}
}

func (c *check) oneOf(field, v string, valid ...string) bool {
	if slices.Contains(valid, v) {
		return true
	}
	c.errf(field, "%q is not valid (valid: %s)", v, strings.Join(valid, ", "))
	return false
}

// names checks that every item of a list has a name used once.
func (c *check) names(list string, names []string) {
	first := map[string]int{}
	for i, n := range names {
		f := at(list, i) + ".name"
		if strings.TrimSpace(n) == "" {
			c.errf(f, "required: a name unique in %s", list)
		} else if j, dup := first[n]; dup {
			c.errf(f, "%q is already used by %s (names must be unique)", n, at(list, j))
		} else {
			first[n] = i
		}
	}
}

// building checks a building reference: empty (community level) or an existing building.
func (c *check) building(field, name string) {
	if name == "" || c.buildings[name] {
		return
	}
	valid := make([]string, 0, len(c.buildings))
	for b := range c.buildings {
		valid = append(valid, b)
	}
	slices.Sort(valid)
	c.errf(field, "%q is not a building (valid: %s, or omit for community level)", name, strings.Join(valid, ", "))
}

func (c *check) location(l *Location) {
	if l.LatitudeDeg < -90 || l.LatitudeDeg > 90 {
		c.errf("location.latitude_deg", "%g must be in [-90, 90]", l.LatitudeDeg)
	}
	if l.LongitudeDeg < -180 || l.LongitudeDeg > 180 {
		c.errf("location.longitude_deg", "%g must be in [-180, 180]", l.LongitudeDeg)
	}
	if _, err := time.LoadLocation(l.TimeZone); err != nil || l.TimeZone == "Local" {
		c.errf("location.time_zone", "%q is not a known IANA time zone (e.g. Asia/Shanghai)", l.TimeZone)
	}
}

func (c *check) simulation(s *Simulation) {
	if _, err := time.Parse(time.DateOnly, s.Start); err != nil {
		c.errf("simulation.start", "%q is not a date: want YYYY-MM-DD, e.g. \"2025-01-01\"", s.Start)
	}
	if s.Hours <= 0 || s.Hours > maxHours {
		c.errf("simulation.hours", "%d must be in 1..%d (at most 10 years)", s.Hours, maxHours)
	}
	if !slices.Contains([]int{15, 30, 60}, s.StepMinutes) {
		c.errf("simulation.step_minutes", "%d must be one of 15, 30, 60", s.StepMinutes)
	}
}

func (c *check) buildingList(bs []Building) {
	if len(bs) == 0 {
		c.errf("buildings", "at least one building is required, e.g. - {name: T01, households: 100}")
	}
	c.names("buildings", collect(bs, func(b *Building) string { return b.Name }))
	for i, b := range bs {
		f := at("buildings", i)
		if b.Households < 0 {
			c.errf(f+".households", "%d must be >= 0", b.Households)
		}
		c.nonNegative(f+".floor_area_m2", b.FloorAreaM2)
		c.nonNegative(f+".roof_area_m2", b.RoofAreaM2)
		c.nonNegative(f+".annual_load_kwh", b.AnnualLoadKWh)
	}
}

func (c *check) householdsAndGrid(h *Households, g *Grid) {
	c.positive("households.median_income_cny_per_year", h.MedianIncomeCNYPerYear)
	c.positive("households.income_sigma", h.IncomeSigma)
	c.nonNegative("households.annual_load_kwh", h.AnnualLoadKWh)
	c.nonNegative("households.water_m3_per_year", h.WaterM3PerYear)
	c.nonNegative("grid.transformer_kva", g.TransformerKVA)
	c.fraction("grid.power_factor", g.PowerFactor)
	c.nonNegative("grid.import_limit_kw", g.ImportLimitKW)
	c.nonNegative("grid.export_limit_kw", g.ExportLimitKW)
}

func (c *check) pv(ps []PVArray) {
	c.names("pv", collect(ps, func(p *PVArray) string { return p.Name }))
	for i, p := range ps {
		f := at("pv", i)
		c.building(f+".building", p.Building)
		c.positive(f+".capacity_kw", p.CapacityKW)
		c.fraction(f+".performance_ratio", p.PerformanceRatio)
		if p.TiltDeg < 0 || p.TiltDeg > 90 {
			c.errf(f+".tilt_deg", "%g must be in [0, 90]", p.TiltDeg)
		}
		if p.AzimuthDeg < 0 || p.AzimuthDeg >= 360 {
			c.errf(f+".azimuth_deg", "%g must be in [0, 360) (180 = south)", p.AzimuthDeg)
		}
	}
}

func (c *check) batteries(bs []Battery) {
	c.names("batteries", collect(bs, func(b *Battery) string { return b.Name }))
	for i := range bs {
		b := &bs[i]
		f := at("batteries", i)
		c.building(f+".building", b.Building)
		c.positive(f+".capacity_kwh", b.CapacityKWh)
		c.positive(f+".power_kw", b.PowerKW)
		c.fraction(f+".round_trip_efficiency", b.RoundTripEfficiency)
		if !(b.SelfDischargePerHour >= 0 && b.SelfDischargePerHour < 1) {
			c.errf(f+".self_discharge_per_hour", "%g must be in [0, 1)", b.SelfDischargePerHour)
		}
		c.soc(f, b)
		c.degradation(f+".degradation", &b.Degradation)
	}
}

// soc checks 0 <= soc_min < soc_max <= 1 and soc_min <= soc_initial <= soc_max.
func (c *check) soc(f string, b *Battery) {
	switch {
	case b.SoCMin < 0:
		c.errf(f+".soc_min", "%g must be >= 0", b.SoCMin)
	case b.SoCMax > 1:
		c.errf(f+".soc_max", "%g must be <= 1", b.SoCMax)
	case b.SoCMin >= b.SoCMax:
		c.errf(f+".soc_min", "%g must be < soc_max %g", b.SoCMin, b.SoCMax)
	case b.SoCInitial < b.SoCMin || b.SoCInitial > b.SoCMax:
		c.errf(f+".soc_initial", "%g must be in [soc_min %g, soc_max %g]", b.SoCInitial, b.SoCMin, b.SoCMax)
	}
}

func (c *check) degradation(f string, d *Degradation) {
	c.oneOf(f+".model", d.Model, "blast_lfp", "none")
	if d.TemperatureC != 0 && (d.TemperatureC < 10 || d.TemperatureC > 45) {
		c.errf(f+".temperature_c", "%g must be within 10..45 (the model's validity range), or 0 for ambient", d.TemperatureC)
	}
	if !(d.EndOfLifeSoH > 0 && d.EndOfLifeSoH < 1) {
		c.errf(f+".end_of_life_soh", "%g must be in (0, 1), e.g. 0.8", d.EndOfLifeSoH)
	}
	c.nonNegative(f+".replacement_cny_per_kwh", d.ReplacementCNYPerKWh)
}

func (c *check) ev(e *EV) {
	c.names("ev.chargers", collect(e.Chargers, func(ch *Charger) string { return ch.Name }))
	for i, ch := range e.Chargers {
		f := at("ev.chargers", i)
		c.building(f+".building", ch.Building)
		if ch.Count < 1 || ch.Count > maxChargerCount {
			c.errf(f+".count", "%d must be in [1, %d]", ch.Count, maxChargerCount)
		}
		c.positive(f+".power_kw", ch.PowerKW)
		c.fraction(f+".efficiency", ch.Efficiency)
	}
	fl := &e.Fleet
	if fl.Vehicles < 0 {
		c.errf("ev.fleet.vehicles", "%d must be >= 0", fl.Vehicles)
	}
	c.positive("ev.fleet.battery_kwh", fl.BatteryKWh)
	c.positive("ev.fleet.kwh_per_100km", fl.KWhPer100Km)
	c.nonNegative("ev.fleet.daily_km_mean", fl.DailyKmMean)
	c.nonNegative("ev.fleet.sessions_per_week", fl.SessionsPerWeek)
	c.positive("ev.fleet.max_charge_kw", fl.MaxChargeKW)
}

func (c *check) flexible(fs []Flexible) {
	c.names("flexible_loads", collect(fs, func(fl *Flexible) string { return fl.Name }))
	for i, fl := range fs {
		f := at("flexible_loads", i)
		c.building(f+".building", fl.Building)
		if fl.Count < 1 {
			c.errf(f+".count", "%d must be >= 1", fl.Count)
		}
		c.positive(f+".cycle_kwh", fl.CycleKWh)
		if fl.DurationHours < 1 {
			c.errf(f+".duration_hours", "%d must be >= 1", fl.DurationHours)
		}
		if fl.WindowHours < fl.DurationHours {
			c.errf(f+".window_hours", "%d must be >= duration_hours %d", fl.WindowHours, fl.DurationHours)
		}
		c.nonNegative(f+".runs_per_week", fl.RunsPerWeek)
	}
}

func (c *check) parking(p *Parking) {
	c.names("parking.lots", collect(p.Lots, func(l *Lot) string { return l.Name }))
	for i, l := range p.Lots {
		f := at("parking.lots", i)
		switch {
		case l.ShareableSpaces < 0:
			c.errf(f+".shareable_spaces", "%d must be >= 0", l.ShareableSpaces)
		case l.ShareableSpaces > l.ResidentSpaces:
			c.errf(f+".shareable_spaces", "%d must be <= resident_spaces %d", l.ShareableSpaces, l.ResidentSpaces)
		case l.ResidentSpaces > l.Spaces:
			c.errf(f+".resident_spaces", "%d must be <= spaces %d", l.ResidentSpaces, l.Spaces)
		}
	}
	c.share("parking.resident_share", p.ResidentShare)
	if p.BufferMinutes < 0 {
		c.errf("parking.buffer_minutes", "%d must be >= 0", p.BufferMinutes)
	}
	c.nonNegative("parking.visitor_requests_per_day", p.VisitorRequestsPerDay)
	c.pricing("parking.pricing", &p.Pricing)
}

func (c *check) pricing(f string, pr *ParkingPricing) {
	c.nonNegative(f+".min_cny_per_hour", pr.MinCNYPerHour)
	if pr.FixedCNYPerHour < pr.MinCNYPerHour || pr.FixedCNYPerHour > pr.MaxCNYPerHour {
		c.errf(f+".fixed_cny_per_hour", "%g must be within min_cny_per_hour %g and max_cny_per_hour %g",
			pr.FixedCNYPerHour, pr.MinCNYPerHour, pr.MaxCNYPerHour)
	}
	c.positive(f+".step_cny_per_hour", pr.StepCNYPerHour)
	lo, hi := pr.TargetOccupancyLow, pr.TargetOccupancyHigh
	if !(lo > 0 && lo < hi && hi <= 1) {
		c.errf(f+".target_occupancy_low", "want 0 < target_occupancy_low < target_occupancy_high <= 1, got %g and %g", lo, hi)
	}
	if len(pr.Bands) == 0 {
		return // one all-day band
	}
	c.names(f+".bands", collect(pr.Bands, func(b *PriceBand) string { return b.Name }))
	c.cover(f+".bands", "band", collect(pr.Bands, func(b *PriceBand) string { return b.Name }),
		collectLists(pr.Bands, func(b *PriceBand) []string { return b.Hours }))
}

func (c *check) rentals(rs []Rental) {
	c.names("rentals", collect(rs, func(r *Rental) string { return r.Name }))
	for i, r := range rs {
		f := at("rentals", i)
		if r.Units <= 0 {
			c.errf(f+".units", "%d must be > 0", r.Units)
		}
		c.nonNegative(f+".opex_cny_per_unit_month", r.OpexCNYPerUnitMonth)
		if !c.oneOf(f+".kind", r.Kind, "short_term", "long_term") {
			continue
		}
		if r.Kind == "short_term" && !(r.ADRCNY > 0) {
			c.errf(f+".adr_cny", "%g must be > 0 for a short_term rental (the nightly rate)", r.ADRCNY)
		}
		if r.Kind == "long_term" && !(r.RentCNYPerMonth > 0) {
			c.errf(f+".rent_cny_per_month", "%g must be > 0 for a long_term rental", r.RentCNYPerMonth)
		}
		c.fraction(f+".target_occupancy", r.TargetOccupancy)
	}
}

func (c *check) water(w *Water) {
	c.names("water.tanks", collect(w.Tanks, func(t *Tank) string { return t.Name }))
	for i, t := range w.Tanks {
		f := at("water.tanks", i)
		c.positive(f+".capacity_m3", t.CapacityM3)
		if t.InitialM3 < 0 || t.InitialM3 > t.CapacityM3 {
			c.errf(f+".initial_m3", "%g must be in [0, capacity_m3 %g]", t.InitialM3, t.CapacityM3)
		}
	}
	c.names("water.catchments", collect(w.Catchments, func(ca *Catchment) string { return ca.Name }))
	for i, ca := range w.Catchments {
		c.catchment(at("water.catchments", i), &ca)
	}
	c.oneOf("water.model", w.Model, "yas", "ybs")
	c.nonNegative("water.non_potable_demand_m3_per_day", w.NonPotableDemandM3PerDay)
	c.nonNegative("water.pre_release_rain_mm", w.PreReleaseRainMM)
	c.nonNegative("water.annual_rain_mm", w.AnnualRainMM)
}

func (c *check) catchment(f string, ca *Catchment) {
	c.positive(f+".area_m2", ca.AreaM2)
	c.nonNegative(f+".first_flush_mm", ca.FirstFlushMM)
	_, known := runoffBySurface[ca.Surface]
	switch {
	case ca.Surface != "" && !known:
		c.errf(f+".surface", "%q is not valid (valid: %s)", ca.Surface, strings.Join(surfaces(), ", "))
	case ca.RunoffCoefficient == 0:
		c.errf(f+".runoff_coefficient", "required when surface is not given (or give surface: one of %s)", strings.Join(surfaces(), ", "))
	default:
		c.fraction(f+".runoff_coefficient", ca.RunoffCoefficient)
	}
}

func surfaces() []string {
	s := make([]string, 0, len(runoffBySurface))
	for k := range runoffBySurface {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

func (c *check) electricity(e *Electricity) {
	const f = "tariffs.electricity"
	if len(e.Seasons) == 0 {
		c.errf(f+".seasons", "at least one season is required, e.g. {name: all, months: [1, ..., 12], periods: [...]}")
	} else {
		c.months(f+".seasons", e.Seasons)
	}
	c.names(f+".seasons", collect(e.Seasons, func(s *Season) string { return s.Name }))
	for i := range e.Seasons {
		s := &e.Seasons[i]
		sf := at(f+".seasons", i) + ".periods"
		if len(s.Periods) == 0 {
			c.errf(sf, "at least one period is required, e.g. {name: flat, price_cny_per_kwh: 0.65, hours: [\"0-24\"]}")
			continue
		}
		names := collect(s.Periods, func(p *Period) string { return p.Name })
		c.names(sf, names)
		for j, p := range s.Periods {
			c.kwhPrice(at(sf, j)+".price_cny_per_kwh", p.PriceCNYPerKWh)
		}
		c.cover(sf, "period", names, collectLists(s.Periods, func(p *Period) []string { return p.Hours }))
	}
	c.kwhPrice(f+".export_cny_per_kwh", e.ExportCNYPerKWh)
	c.kwhPrice(f+".resident_cny_per_kwh", e.ResidentCNYPerKWh)
	c.nonNegative(f+".demand_charge_cny_per_kw_month", e.DemandChargeCNYPerKWMonth)
}

// months checks that the seasons cover months 1–12 exactly once.
func (c *check) months(f string, seasons []Season) {
	var owner [13]int // season index + 1; 0 = in no season
	for i, s := range seasons {
		for j, m := range s.Months {
			mf := fmt.Sprintf("%s.months[%d]", at(f, i), j)
			switch {
			case m < 1 || m > 12:
				c.errf(mf, "month %d must be in 1..12", m)
			case owner[m] != 0:
				c.errf(mf, "month %d is in both season %s and season %s", m, seasons[owner[m]-1].Name, s.Name)
			default:
				owner[m] = i + 1
			}
		}
	}
	var missing []string
	for m := 1; m <= 12; m++ {
		if owner[m] == 0 {
			missing = append(missing, fmt.Sprint(m))
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		c.errf(f, "month %s is not in any season (seasons must cover months 1-12 exactly once)", missing[0])
	default:
		c.errf(f, "months %s are not in any season (seasons must cover months 1-12 exactly once)", strings.Join(missing, ", "))
	}
}

// cover checks that the hour ranges of the lists (named by names, of the kind what)
// cover hours 0–24 exactly once, naming each overlap and gap.
func (c *check) cover(f, what string, names []string, lists [][]string) {
	var owner [24]int // list index + 1; 0 = uncovered
	for i, l := range lists {
		for j, r := range l {
			hf := fmt.Sprintf("%s.hours[%d]", at(f, i), j)
			from, to, err := ParseHourRange(r)
			if err != nil {
				c.errf(hf, "%v", err)
				continue
			}
			for h := from; h < to; {
				o, end := owner[h], h+1
				for end < to && owner[end] == o {
					end++
				}
				if o != 0 {
					c.errf(hf, "hours %d-%d of %s %s overlap %s %s", h, end, what, names[i], what, names[o-1])
				} else {
					for k := h; k < end; k++ {
						owner[k] = i + 1
					}
				}
				h = end
			}
		}
	}
	for h := 0; h < 24; {
		if owner[h] != 0 {
			h++
			continue
		}
		end := h + 1
		for end < 24 && owner[end] == 0 {
			end++
		}
		if end == h+1 {
			c.errf(f, "hour %d is not covered by any %s (%ss must cover hours 0-24 exactly once)", h, what, what)
		} else {
			c.errf(f, "hours %d-%d are not covered by any %s (%ss must cover hours 0-24 exactly once)", h, end, what, what)
		}
		h = end
	}
}

// kwhPrice checks an electricity price in CNY/kWh.
func (c *check) kwhPrice(f string, v float64) {
	switch {
	case v < 0:
		c.errf(f, "%g must be >= 0", v)
	case v >= maxCNYPerKWh:
		c.errf(f, "price %g CNY/kWh looks like fen or CNY/MWh (want CNY/kWh below %d, e.g. 0.65)", v, maxCNYPerKWh)
	}
}

// m3Price checks a water price in CNY/m³.
func (c *check) m3Price(f string, v float64) {
	switch {
	case v < 0:
		c.errf(f, "%g must be >= 0", v)
	case v >= maxCNYPerM3:
		c.errf(f, "price %g CNY/m3 looks like fen (want CNY/m3 below %d, e.g. 3.5)", v, maxCNYPerM3)
	}
}

func (c *check) waterTariff(w *WaterTariff) {
	const f = "tariffs.water"
	prev := 0.0
	for i, t := range w.Tiers {
		tf := at(f+".tiers", i)
		last := i == len(w.Tiers)-1
		switch {
		case last && t.UpToM3 != 0:
			c.errf(tf+".up_to_m3", "%g: the last tier must be open-ended (omit up_to_m3)", t.UpToM3)
		case !last && t.UpToM3 <= prev:
			c.errf(tf+".up_to_m3", "%g must be > %g (tiers ascend; only the last tier omits up_to_m3)", t.UpToM3, prev)
		}
		prev = max(prev, t.UpToM3)
		c.m3Price(tf+".price_cny_per_m3", t.PriceCNYPerM3)
	}
	c.m3Price(f+".non_residential_cny_per_m3", w.NonResidentialCNYPerM3)
	c.nonNegative(f+".detention_credit_cny_per_m3", w.DetentionCreditCNYPerM3)
}

// costs checks the EV charging prices, opex, capex and resilience.
func (c *check) costs(u *Unit) {
	c.kwhPrice("tariffs.ev_charging.service_fee_cny_per_kwh", u.Tariffs.EVCharging.ServiceFeeCNYPerKWh)
	c.kwhPrice("tariffs.ev_charging.energy_cny_per_kwh", u.Tariffs.EVCharging.EnergyCNYPerKWh)
	o, k := &u.Opex, &u.Capex
	for _, x := range []struct {
		field string
		v     float64
	}{
		{"opex.fixed_cny_per_year", o.FixedCNYPerYear}, {"opex.pv_cny_per_kw_year", o.PVCNYPerKWYear},
		{"opex.battery_cny_per_kwh_year", o.BatteryCNYPerKWhYear}, {"opex.charger_cny_per_year", o.ChargerCNYPerYear},
		{"opex.parking_cny_per_space_year", o.ParkingCNYPerSpaceYear}, {"opex.water_cny_per_year", o.WaterCNYPerYear},
		{"capex.pv_cny_per_kw", k.PVCNYPerKW}, {"capex.battery_cny_per_kwh", k.BatteryCNYPerKWh},
		{"capex.charger_cny_per_kw", k.ChargerCNYPerKW}, {"capex.parking_system_cny", k.ParkingSystemCNY},
		{"capex.water_cny_per_m3", k.WaterCNYPerM3}, {"capex.rental_fit_out_cny_per_unit", k.RentalFitOutCNYPerUnit},
	} {
		c.nonNegative(x.field, x.v)
	}
	c.share("opex.platform_share_of_parking", o.PlatformShareOfParking)
	c.fraction("resilience.critical_load_fraction", u.Resilience.CriticalLoadFraction)
	for i, h := range u.Resilience.OutageHours {
		if h <= 0 {
			c.errf(at("resilience.outage_hours", i), "%d must be > 0", h)
		}
	}
}

// finance checks the structure's levers; zero means the engine's default.
func (c *check) finance(f *Finance) {
	rng := func(field string, v, lo, hi float64) {
		if v != 0 && !(v >= lo && v <= hi) {
			c.errf(field, "%g must be in [%g, %g]", v, lo, hi)
		}
	}
	rng("finance.discount_rate", f.DiscountRate, 0.005, 0.3)
	rng("finance.terminal_cap_rate", f.TerminalCapRate, 0.01, 0.3)
	rng("finance.payout_ratio", f.PayoutRatio, 0.5, 1)
	rng("finance.issue_price_cny", f.IssuePriceCNY, 0.01, 1000)
	rng("finance.senior_rate", f.SeniorRate, 0.0001, 0.3)
	rng("finance.senior_target_dscr", f.SeniorTargetDSCR, 1, 10)
	rng("finance.senior_max_ltv", f.SeniorMaxLTV, 0.01, 0.9)
	rng("finance.mezzanine_share", f.MezzanineShare, 0.001, 0.5)
	rng("finance.mezzanine_rate", f.MezzanineRate, 0.0001, 0.5)
	rng("finance.reinvest_share", f.ReinvestShare, 0.001, 1)
	if f.HorizonYears != 0 && (f.HorizonYears < 2 || f.HorizonYears > 50) {
		c.errf("finance.horizon_years", "%d must be between 2 and 50", f.HorizonYears)
	}
	horizon := f.HorizonYears
	if horizon == 0 {
		horizon = 30
	}
	if f.SeniorTenorYears != 0 && (f.SeniorTenorYears < 1 || f.SeniorTenorYears > horizon) {
		c.errf("finance.senior_tenor_years", "%d must be between 1 and the horizon (%d years)", f.SeniorTenorYears, horizon)
	}
	if f.MonteCarloPaths != 0 && (f.MonteCarloPaths < 1 || f.MonteCarloPaths > 1_000_000) {
		c.errf("finance.monte_carlo_paths", "%d must be between 1 and 1,000,000", f.MonteCarloPaths)
	}
	if f.SeniorMaxLTV+f.MezzanineShare > 0.9 {
		c.errf("finance.mezzanine_share", "senior_max_ltv + mezzanine_share = %g leaves under 10 %% equity", f.SeniorMaxLTV+f.MezzanineShare)
	}
}

func (c *check) data(d *DataSource, buildings int) {
	if !c.oneOf("data.source", d.Source, "synthetic", "csv", "citylearn") {
		return
	}
	switch d.Source {
	case "csv":
		if d.CSV.Path == "" {
			c.errf("data.csv.path", "required when source is csv: the CSV file of series")
		}
		if n := len(d.CSV.LoadColumns); n != buildings {
			c.errf("data.csv.load_columns", "%d columns for %d buildings: give one per building, in the order of buildings", n, buildings)
		}
	case "citylearn":
		if d.CityLearn == "" {
			c.errf("data.citylearn", "required when source is citylearn: the CityLearn dataset directory")
		}
	}
}

func at(list string, i int) string { return fmt.Sprintf("%s[%d]", list, i) }

func collect[T any](xs []T, f func(*T) string) []string {
	s := make([]string, len(xs))
	for i := range xs {
		s[i] = f(&xs[i])
	}
	return s
}

func collectLists[T any](xs []T, f func(*T) []string) [][]string {
	s := make([][]string, len(xs))
	for i := range xs {
		s[i] = f(&xs[i])
	}
	return s
}
