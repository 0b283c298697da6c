package unit

// Defaults for omitted fields. Zero means "not given": ApplyDefaults cannot tell an
// omitted field from an explicit 0, so an explicit 0 is replaced too. Where 0 would be
// meaningful (a battery's soc_min, a catchment's first_flush_mm) write a small positive
// value instead, e.g. soc_min: 0.001.
const (
	DefaultTimeZone    = "Asia/Shanghai" // location.time_zone
	DefaultHours       = 8760            // simulation.hours: one non-leap year
	DefaultStepMinutes = 60              // simulation.step_minutes

	DefaultIncomeSigma            = 0.6    // households.income_sigma: log-normal shape
	DefaultMedianIncomeCNYPerYear = 120000 // households.median_income_cny_per_year
	DefaultHouseholdLoadKWh       = 2400   // households.annual_load_kwh
	DefaultWaterM3PerYear         = 120    // households.water_m3_per_year

	DefaultPowerFactor = 0.95 // grid.power_factor

	DefaultPerformanceRatio = 0.8 // pv[].performance_ratio
	DefaultTiltDeg          = 20  // pv[].tilt_deg
	DefaultAzimuthDeg       = 180 // pv[].azimuth_deg: due south

	DefaultRoundTripEfficiency = 0.9         // batteries[].round_trip_efficiency
	DefaultSoCMin              = 0.1         // batteries[].soc_min (an explicit 0 becomes 0.1)
	DefaultSoCMax              = 0.95        // batteries[].soc_max
	DefaultSoCInitial          = 0.5         // batteries[].soc_initial
	DefaultDegradationModel    = "blast_lfp" // batteries[].degradation.model
	DefaultEndOfLifeSoH        = 0.8         // batteries[].degradation.end_of_life_soh

	DefaultChargerCount      = 1    // ev.chargers[].count
	DefaultChargerEfficiency = 0.95 // ev.chargers[].efficiency

	DefaultKWhPer100Km     = 15  // ev.fleet.kwh_per_100km
	DefaultDailyKmMean     = 35  // ev.fleet.daily_km_mean
	DefaultSessionsPerWeek = 2.5 // ev.fleet.sessions_per_week
	DefaultEVBatteryKWh    = 60  // ev.fleet.battery_kwh
	DefaultMaxChargeKW     = 60  // ev.fleet.max_charge_kw

	DefaultFlexibleKind  = "shiftable" // flexible_loads[].kind
	DefaultFlexibleRuns  = 3           // flexible_loads[].runs_per_week
	DefaultFlexibleCount = 1           // flexible_loads[].count

	DefaultResidentShare       = 0.6 // parking.resident_share: Beijing pilot
	DefaultBufferMinutes       = 30  // parking.buffer_minutes
	DefaultFixedCNYPerHour     = 6   // parking.pricing.fixed_cny_per_hour
	DefaultMinCNYPerHour       = 2   // parking.pricing.min_cny_per_hour
	DefaultMaxCNYPerHour       = 12  // parking.pricing.max_cny_per_hour
	DefaultStepCNYPerHour      = 0.5 // parking.pricing.step_cny_per_hour
	DefaultTargetOccupancyLow  = 0.6 // parking.pricing.target_occupancy_low: SFpark band
	DefaultTargetOccupancyHigh = 0.8 // parking.pricing.target_occupancy_high

	DefaultLongTermOccupancy  = 0.9 // rentals[].target_occupancy for kind long_term
	DefaultShortTermOccupancy = 0.7 // rentals[].target_occupancy for kind short_term

	DefaultWaterModel       = "yas" // water.model: yield after spillage
	DefaultFirstFlushMM     = 2     // water.catchments[].first_flush_mm
	DefaultPreReleaseRainMM = 30    // water.pre_release_rain_mm

	DefaultCriticalLoadFraction = 0.3         // resilience.critical_load_fraction
	DefaultDataSource           = "synthetic" // data.source

	DefaultPlatformShareOfParking = 0.1 // opex.platform_share_of_parking
)

// DefaultOutageHours are the outage durations reported when resilience.outage_hours is empty.
var DefaultOutageHours = []int{4, 8, 12, 24}

// runoffBySurface gives a catchment's runoff coefficient from its surface when
// runoff_coefficient is omitted: mid-points of GB 50400-2016 table 3.1.3.
var runoffBySurface = map[string]float64{
	"hard_roof":    0.85,
	"green_roof":   0.35,
	"concrete":     0.85,
	"asphalt":      0.85,
	"block_paving": 0.55,
	"green_space":  0.15,
}

// ApplyDefaults replaces omitted (zero) fields with the defaults above. It is
// idempotent and never overwrites a non-zero value.
func (u *Unit) ApplyDefaults() {
	if u.Site != nil {
		defer func() { u.Site.applyDefaults(u.Simulation.StepMinutes) }()
	}
	orStr(&u.Location.TimeZone, DefaultTimeZone)
	orInt(&u.Simulation.Hours, DefaultHours)
	orInt(&u.Simulation.StepMinutes, DefaultStepMinutes)

	h := &u.Households
	orNum(&h.IncomeSigma, DefaultIncomeSigma)
	orNum(&h.MedianIncomeCNYPerYear, DefaultMedianIncomeCNYPerYear)
	orNum(&h.AnnualLoadKWh, DefaultHouseholdLoadKWh)
	orNum(&h.WaterM3PerYear, DefaultWaterM3PerYear)
	orNum(&u.Grid.PowerFactor, DefaultPowerFactor)

	for i := range u.PV {
		u.PV[i].applyDefaults()
	}
	for i := range u.Batteries {
		u.Batteries[i].applyDefaults()
	}
	u.EV.applyDefaults()
	for i := range u.Flexible {
		f := &u.Flexible[i]
		orStr(&f.Kind, DefaultFlexibleKind)
		orInt(&f.Count, DefaultFlexibleCount)
		orNum(&f.RunsPerWeek, DefaultFlexibleRuns)
	}
	u.Parking.applyDefaults()
	for i := range u.Rentals {
		u.Rentals[i].applyDefaults()
	}
	u.Water.applyDefaults()

	orNum(&u.Resilience.CriticalLoadFraction, DefaultCriticalLoadFraction)
	if len(u.Resilience.OutageHours) == 0 {
		u.Resilience.OutageHours = append([]int(nil), DefaultOutageHours...)
	}
	orStr(&u.Data.Source, DefaultDataSource)
	orNum(&u.Opex.PlatformShareOfParking, DefaultPlatformShareOfParking)
}

func (p *PVArray) applyDefaults() {
	orNum(&p.PerformanceRatio, DefaultPerformanceRatio)
	orNum(&p.TiltDeg, DefaultTiltDeg)
	orNum(&p.AzimuthDeg, DefaultAzimuthDeg)
}

func (b *Battery) applyDefaults() {
	orNum(&b.RoundTripEfficiency, DefaultRoundTripEfficiency)
	orNum(&b.SoCMin, DefaultSoCMin)
	orNum(&b.SoCMax, DefaultSoCMax)
	orNum(&b.SoCInitial, DefaultSoCInitial)
	orStr(&b.Degradation.Model, DefaultDegradationModel)
	orNum(&b.Degradation.EndOfLifeSoH, DefaultEndOfLifeSoH)
}

func (e *EV) applyDefaults() {
	for i := range e.Chargers {
		orInt(&e.Chargers[i].Count, DefaultChargerCount)
		orNum(&e.Chargers[i].Efficiency, DefaultChargerEfficiency)
	}
	f := &e.Fleet
	orNum(&f.KWhPer100Km, DefaultKWhPer100Km)
	orNum(&f.DailyKmMean, DefaultDailyKmMean)
	orNum(&f.SessionsPerWeek, DefaultSessionsPerWeek)
	orNum(&f.BatteryKWh, DefaultEVBatteryKWh)
	orNum(&f.MaxChargeKW, DefaultMaxChargeKW)
}

func (p *Parking) applyDefaults() {
	orNum(&p.ResidentShare, DefaultResidentShare)
	orInt(&p.BufferMinutes, DefaultBufferMinutes)
	pr := &p.Pricing
	orNum(&pr.FixedCNYPerHour, DefaultFixedCNYPerHour)
	orNum(&pr.MinCNYPerHour, DefaultMinCNYPerHour)
	orNum(&pr.MaxCNYPerHour, DefaultMaxCNYPerHour)
	orNum(&pr.StepCNYPerHour, DefaultStepCNYPerHour)
	orNum(&pr.TargetOccupancyLow, DefaultTargetOccupancyLow)
	orNum(&pr.TargetOccupancyHigh, DefaultTargetOccupancyHigh)
}

// applyDefaults sets the target occupancy by kind; an unknown kind gets none and is
// reported by Validate.
func (r *Rental) applyDefaults() {
	switch r.Kind {
	case "long_term":
		orNum(&r.TargetOccupancy, DefaultLongTermOccupancy)
	case "short_term":
		orNum(&r.TargetOccupancy, DefaultShortTermOccupancy)
	}
}

// applyDefaults derives a catchment's runoff coefficient from its surface; with neither
// given the coefficient stays 0 and Validate asks for one.
func (w *Water) applyDefaults() {
	orStr(&w.Model, DefaultWaterModel)
	orNum(&w.PreReleaseRainMM, DefaultPreReleaseRainMM)
	for i := range w.Catchments {
		c := &w.Catchments[i]
		orNum(&c.RunoffCoefficient, runoffBySurface[c.Surface])
		orNum(&c.FirstFlushMM, DefaultFirstFlushMM)
	}
}

func orNum(p *float64, v float64) {
	if *p == 0 {
		*p = v
	}
}

func orInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func orStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}
