package unit

// Unit is the whole description of one community operating unit. Every quantity
// carries its unit in its name; zero values are replaced by the documented defaults
// in ApplyDefaults before validation.
type Unit struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`

	Location   Location   `yaml:"location"`
	Simulation Simulation `yaml:"simulation"`

	Buildings  []Building `yaml:"buildings"`
	Households Households `yaml:"households"`
	Grid       Grid       `yaml:"grid"`
	PV         []PVArray  `yaml:"pv,omitempty"`
	Batteries  []Battery  `yaml:"batteries,omitempty"`
	EV         EV         `yaml:"ev,omitempty"`
	Flexible   []Flexible `yaml:"flexible_loads,omitempty"`
	Parking    Parking    `yaml:"parking,omitempty"`
	Rentals    []Rental   `yaml:"rentals,omitempty"`
	Water      Water      `yaml:"water,omitempty"`
	Tariffs    Tariffs    `yaml:"tariffs"`
	Opex       Opex       `yaml:"opex,omitempty"`
	Capex      Capex      `yaml:"capex,omitempty"`
	Resilience Resilience `yaml:"resilience,omitempty"`
	Finance    Finance    `yaml:"finance,omitempty"`
	Data       DataSource `yaml:"data"`
	// Site commissions the unit for live operation (nil: simulation only).
	Site *Site `yaml:"site,omitempty"`
}

// Finance are the levers of the C-REIT structure the finance engine gives the operated
// year (finance.CommunityDeal). A field left out (zero) takes the engine's default,
// shown in brackets.
type Finance struct {
	HorizonYears     int     `yaml:"horizon_years,omitempty"`      // the operating right [30]
	DiscountRate     float64 `yaml:"discount_rate,omitempty"`      // DCF and purchase price [0.06]
	TerminalCapRate  float64 `yaml:"terminal_cap_rate,omitempty"`  // value after the horizon [none]
	PayoutRatio      float64 `yaml:"payout_ratio,omitempty"`       // of the distributable amount [0.95]
	IssuePriceCNY    float64 `yaml:"issue_price_cny,omitempty"`    // per REIT unit [2.50]
	SeniorRate       float64 `yaml:"senior_rate,omitempty"`        // floating coupon [0.035]
	SeniorTargetDSCR float64 `yaml:"senior_target_dscr,omitempty"` // sculpting target [1.35]
	SeniorMaxLTV     float64 `yaml:"senior_max_ltv,omitempty"`     // [0.20]
	SeniorTenorYears int     `yaml:"senior_tenor_years,omitempty"` // [15]
	MezzanineShare   float64 `yaml:"mezzanine_share,omitempty"`    // of the asset value [0.05]
	MezzanineRate    float64 `yaml:"mezzanine_rate,omitempty"`     // [0.06]
	ReinvestShare    float64 `yaml:"reinvest_share,omitempty"`     // of equity cash [0.05]
	MonteCarloPaths  int     `yaml:"monte_carlo_paths,omitempty"`  // [2000]
}

// Location places the unit; TimeZone is an IANA name (default Asia/Shanghai).
type Location struct {
	City         string  `yaml:"city,omitempty"`
	LatitudeDeg  float64 `yaml:"latitude_deg"`
	LongitudeDeg float64 `yaml:"longitude_deg"`
	TimeZone     string  `yaml:"time_zone,omitempty"`
}

// Simulation sets the horizon: Start is a local date (YYYY-MM-DD), Hours the length
// (default 8760) and StepMinutes the step (default 60; 15 and 30 are allowed).
type Simulation struct {
	Start       string `yaml:"start"`
	Hours       int    `yaml:"hours,omitempty"`
	StepMinutes int    `yaml:"step_minutes,omitempty"`
}

// Building is one residential building; its households share its meter-level load.
type Building struct {
	Name        string  `yaml:"name"`
	Households  int     `yaml:"households"`
	FloorAreaM2 float64 `yaml:"floor_area_m2,omitempty"`
	RoofAreaM2  float64 `yaml:"roof_area_m2,omitempty"`
	// AnnualLoadKWh scales the synthetic load of the building (0: derived from households).
	AnnualLoadKWh float64 `yaml:"annual_load_kwh,omitempty"`
}

// Households describes resident income for energy burden and fairness KPIs.
type Households struct {
	// MedianIncomeCNYPerYear is the median disposable income of a household.
	MedianIncomeCNYPerYear float64 `yaml:"median_income_cny_per_year,omitempty"`
	// IncomeSigma is the log-normal shape of household income (default 0.6).
	IncomeSigma float64 `yaml:"income_sigma,omitempty"`
	// AnnualLoadKWh is the mean household electricity use per year (default 2,400 kWh).
	AnnualLoadKWh float64 `yaml:"annual_load_kwh,omitempty"`
	// WaterM3PerYear is the mean household water use (default 120 m³).
	WaterM3PerYear float64 `yaml:"water_m3_per_year,omitempty"`
}

// Grid is the point of common coupling. TransformerKVA × PowerFactor bounds import and
// export unless explicit limits are given.
type Grid struct {
	TransformerKVA float64 `yaml:"transformer_kva"`
	PowerFactor    float64 `yaml:"power_factor,omitempty"`
	ImportLimitKW  float64 `yaml:"import_limit_kw,omitempty"`
	ExportLimitKW  float64 `yaml:"export_limit_kw,omitempty"`
}

// PVArray is a rooftop or carport array. Output per kW installed comes from the data
// source (CityLearn: solar_generation/1000; synthetic: irradiance × PerformanceRatio).
type PVArray struct {
	Name             string  `yaml:"name"`
	Building         string  `yaml:"building,omitempty"`
	CapacityKW       float64 `yaml:"capacity_kw"`
	TiltDeg          float64 `yaml:"tilt_deg,omitempty"`
	AzimuthDeg       float64 `yaml:"azimuth_deg,omitempty"`
	PerformanceRatio float64 `yaml:"performance_ratio,omitempty"`
}

// Battery is a stationary store. RoundTripEfficiency splits as η_c = η_d = √RTE.
type Battery struct {
	Name                 string      `yaml:"name"`
	Building             string      `yaml:"building,omitempty"`
	CapacityKWh          float64     `yaml:"capacity_kwh"`
	PowerKW              float64     `yaml:"power_kw"`
	RoundTripEfficiency  float64     `yaml:"round_trip_efficiency,omitempty"`
	SoCMin               float64     `yaml:"soc_min,omitempty"`
	SoCMax               float64     `yaml:"soc_max,omitempty"`
	SoCInitial           float64     `yaml:"soc_initial,omitempty"`
	SelfDischargePerHour float64     `yaml:"self_discharge_per_hour,omitempty"`
	Degradation          Degradation `yaml:"degradation,omitempty"`
}

// Degradation selects the ageing model: "blast_lfp" (NREL BLAST-Lite LFP-Gr 250 Ah,
// default) or "none". TemperatureC fixes the cell temperature; 0 means ambient clamped
// to the model's validity range (10–45 °C).
type Degradation struct {
	Model                string  `yaml:"model,omitempty"`
	TemperatureC         float64 `yaml:"temperature_c,omitempty"`
	EndOfLifeSoH         float64 `yaml:"end_of_life_soh,omitempty"`
	ReplacementCNYPerKWh float64 `yaml:"replacement_cny_per_kwh,omitempty"`
}

// EV holds the chargers and the fleet that uses them.
type EV struct {
	Chargers []Charger `yaml:"chargers,omitempty"`
	Fleet    Fleet     `yaml:"fleet,omitempty"`
}

// Charger is a group of identical chargers (Count of them).
type Charger struct {
	Name       string  `yaml:"name"`
	Building   string  `yaml:"building,omitempty"`
	Count      int     `yaml:"count,omitempty"`
	PowerKW    float64 `yaml:"power_kw"`
	Efficiency float64 `yaml:"efficiency,omitempty"`
}

// Fleet parameterises synthetic EV sessions (ignored for imported sessions).
type Fleet struct {
	Vehicles        int     `yaml:"vehicles,omitempty"`
	BatteryKWh      float64 `yaml:"battery_kwh,omitempty"`
	KWhPer100Km     float64 `yaml:"kwh_per_100km,omitempty"`
	DailyKmMean     float64 `yaml:"daily_km_mean,omitempty"`
	SessionsPerWeek float64 `yaml:"sessions_per_week,omitempty"`
	MaxChargeKW     float64 `yaml:"max_charge_kw,omitempty"`
}

// Flexible is a population of shiftable appliances (washing machines, pumps): each run
// draws CycleKWh over DurationHours and may start anywhere in a window of WindowHours
// after it is requested.
type Flexible struct {
	Name          string  `yaml:"name"`
	Building      string  `yaml:"building,omitempty"`
	Kind          string  `yaml:"kind,omitempty"`
	Count         int     `yaml:"count,omitempty"`
	CycleKWh      float64 `yaml:"cycle_kwh"`
	DurationHours int     `yaml:"duration_hours"`
	WindowHours   int     `yaml:"window_hours"`
	RunsPerWeek   float64 `yaml:"runs_per_week,omitempty"`
}

// Parking describes the lots and how shared spaces are priced.
type Parking struct {
	Lots    []Lot          `yaml:"lots,omitempty"`
	Pricing ParkingPricing `yaml:"pricing,omitempty"`
	// ResidentShare is the share of shared-space revenue paid to the owning resident.
	ResidentShare float64 `yaml:"resident_share,omitempty"`
	// BufferMinutes is kept free before an owner's declared return.
	BufferMinutes int `yaml:"buffer_minutes,omitempty"`
	// VisitorRequestsPerDay is the mean number of visitor parking requests per day over
	// all lots, shared by the spaces visitors can use (synthetic data).
	VisitorRequestsPerDay float64 `yaml:"visitor_requests_per_day,omitempty"`
}

// Lot is one car park: Spaces in total, of which ResidentSpaces are owned by residents
// and ShareableSpaces of those are offered in declared free windows; the rest are public.
type Lot struct {
	Name            string `yaml:"name"`
	Spaces          int    `yaml:"spaces"`
	ResidentSpaces  int    `yaml:"resident_spaces"`
	ShareableSpaces int    `yaml:"shareable_spaces"`
}

// ParkingPricing: the fixed price and the occupancy-targeting (SFpark-style) steps.
type ParkingPricing struct {
	FixedCNYPerHour     float64 `yaml:"fixed_cny_per_hour,omitempty"`
	MinCNYPerHour       float64 `yaml:"min_cny_per_hour,omitempty"`
	MaxCNYPerHour       float64 `yaml:"max_cny_per_hour,omitempty"`
	StepCNYPerHour      float64 `yaml:"step_cny_per_hour,omitempty"`
	TargetOccupancyLow  float64 `yaml:"target_occupancy_low,omitempty"`
	TargetOccupancyHigh float64 `yaml:"target_occupancy_high,omitempty"`
	// Bands are the time bands prices are reviewed in, as hour ranges "7-19".
	Bands []PriceBand `yaml:"bands,omitempty"`
}

// PriceBand is a named set of hour ranges ("0-7", "19-24").
type PriceBand struct {
	Name  string   `yaml:"name"`
	Hours []string `yaml:"hours"`
}

// Rental is a group of rentable sub-units: short_term (nightly, ADR) or long_term (monthly rent).
type Rental struct {
	Name            string  `yaml:"name"`
	Kind            string  `yaml:"kind"`
	Units           int     `yaml:"units"`
	ADRCNY          float64 `yaml:"adr_cny,omitempty"`
	RentCNYPerMonth float64 `yaml:"rent_cny_per_month,omitempty"`
	// TargetOccupancy is the mean occupancy the synthetic demand is calibrated to.
	TargetOccupancy     float64 `yaml:"target_occupancy,omitempty"`
	OpexCNYPerUnitMonth float64 `yaml:"opex_cny_per_unit_month,omitempty"`
}

// Water is the rainwater harvesting system.
type Water struct {
	Tanks      []Tank      `yaml:"tanks,omitempty"`
	Catchments []Catchment `yaml:"catchments,omitempty"`
	// NonPotableDemandM3PerDay is flushing + irrigation served from the tanks.
	NonPotableDemandM3PerDay float64 `yaml:"non_potable_demand_m3_per_day,omitempty"`
	// Model is "yas" (yield after spillage, default) or "ybs".
	Model string `yaml:"model,omitempty"`
	// PreReleaseRainMM: forecast 24-h rain above which the rule-based policy empties
	// room for the storm (detention).
	PreReleaseRainMM float64 `yaml:"pre_release_rain_mm,omitempty"`
	// AnnualRainMM scales synthetic rainfall.
	AnnualRainMM float64 `yaml:"annual_rain_mm,omitempty"`
}

// Tank is one rainwater store.
type Tank struct {
	Name       string  `yaml:"name"`
	CapacityM3 float64 `yaml:"capacity_m3"`
	InitialM3  float64 `yaml:"initial_m3,omitempty"`
}

// Catchment drains into the tanks: inflow = C · A · max(rain − first flush, 0).
type Catchment struct {
	Name              string  `yaml:"name"`
	AreaM2            float64 `yaml:"area_m2"`
	Surface           string  `yaml:"surface,omitempty"`
	RunoffCoefficient float64 `yaml:"runoff_coefficient,omitempty"`
	FirstFlushMM      float64 `yaml:"first_flush_mm,omitempty"`
}

// Tariffs are every price the unit pays or charges.
type Tariffs struct {
	Electricity Electricity `yaml:"electricity"`
	Water       WaterTariff `yaml:"water,omitempty"`
	EVCharging  EVCharging  `yaml:"ev_charging,omitempty"`
}

// Electricity is a seasonal time-of-use tariff. Seasons must cover months 1–12 once;
// each season's periods must cover hours 0–24 once.
type Electricity struct {
	Seasons                   []Season `yaml:"seasons"`
	ExportCNYPerKWh           float64  `yaml:"export_cny_per_kwh,omitempty"`
	DemandChargeCNYPerKWMonth float64  `yaml:"demand_charge_cny_per_kw_month,omitempty"`
	// ResidentCNYPerKWh is what households pay per kWh (the regulated residential price).
	ResidentCNYPerKWh float64 `yaml:"resident_cny_per_kwh,omitempty"`
}

// Season is a set of months with its TOU periods.
type Season struct {
	Name    string   `yaml:"name"`
	Months  []int    `yaml:"months"`
	Periods []Period `yaml:"periods"`
}

// Period is a TOU period: a price and hour ranges "10-12" (start inclusive, end exclusive).
type Period struct {
	Name           string   `yaml:"name"`
	PriceCNYPerKWh float64  `yaml:"price_cny_per_kwh"`
	Hours          []string `yaml:"hours"`
}

// WaterTariff is a tiered potable water price (by household annual use).
type WaterTariff struct {
	Tiers []WaterTier `yaml:"tiers,omitempty"`
	// NonResidentialCNYPerM3 prices common-area use (irrigation, flushing in shared areas).
	NonResidentialCNYPerM3 float64 `yaml:"non_residential_cny_per_m3,omitempty"`
	// DetentionCreditCNYPerM3 is paid per m³ of storm runoff detained.
	DetentionCreditCNYPerM3 float64 `yaml:"detention_credit_cny_per_m3,omitempty"`
}

// WaterTier: price applies to annual use up to UpToM3 (0 = no upper bound, last tier).
type WaterTier struct {
	UpToM3        float64 `yaml:"up_to_m3,omitempty"`
	PriceCNYPerM3 float64 `yaml:"price_cny_per_m3"`
}

// EVCharging is the charging service fee on top of the energy price.
type EVCharging struct {
	ServiceFeeCNYPerKWh float64 `yaml:"service_fee_cny_per_kwh,omitempty"`
	// EnergyCNYPerKWh is the energy price charged to drivers (0: the resident price).
	EnergyCNYPerKWh float64 `yaml:"energy_cny_per_kwh,omitempty"`
}

// Opex is the operating cost of the unit, per year unless named otherwise.
type Opex struct {
	FixedCNYPerYear        float64 `yaml:"fixed_cny_per_year,omitempty"`
	PVCNYPerKWYear         float64 `yaml:"pv_cny_per_kw_year,omitempty"`
	BatteryCNYPerKWhYear   float64 `yaml:"battery_cny_per_kwh_year,omitempty"`
	ChargerCNYPerYear      float64 `yaml:"charger_cny_per_year,omitempty"`
	ParkingCNYPerSpaceYear float64 `yaml:"parking_cny_per_space_year,omitempty"`
	WaterCNYPerYear        float64 `yaml:"water_cny_per_year,omitempty"`
	PlatformShareOfParking float64 `yaml:"platform_share_of_parking,omitempty"`
}

// Capex is the investment in the unit's productive assets (for payback).
type Capex struct {
	PVCNYPerKW             float64 `yaml:"pv_cny_per_kw,omitempty"`
	BatteryCNYPerKWh       float64 `yaml:"battery_cny_per_kwh,omitempty"`
	ChargerCNYPerKW        float64 `yaml:"charger_cny_per_kw,omitempty"`
	ParkingSystemCNY       float64 `yaml:"parking_system_cny,omitempty"`
	WaterCNYPerM3          float64 `yaml:"water_cny_per_m3,omitempty"`
	RentalFitOutCNYPerUnit float64 `yaml:"rental_fit_out_cny_per_unit,omitempty"`
}

// Resilience sets what must be kept alive in a grid outage.
type Resilience struct {
	// CriticalLoadFraction of the non-shiftable load that must be served (default 0.3).
	CriticalLoadFraction float64 `yaml:"critical_load_fraction,omitempty"`
	// OutageHours are the durations for which survival probability is reported.
	OutageHours []int `yaml:"outage_hours,omitempty"`
}

// DataSource says where the unit's time series come from: "synthetic" (seeded models),
// "csv" (one file of series) or "citylearn" (a CityLearn dataset directory).
type DataSource struct {
	Source    string    `yaml:"source"`
	Seed      uint64    `yaml:"seed,omitempty"`
	CSV       CSVSource `yaml:"csv,omitempty"`
	CityLearn string    `yaml:"citylearn,omitempty"`
}

// CSVSource maps columns of one hourly CSV file to series.
type CSVSource struct {
	Path       string `yaml:"path,omitempty"`
	TimeColumn string `yaml:"time_column,omitempty"`
	// LoadColumns are building load columns in kW, in the order of Buildings.
	LoadColumns []string `yaml:"load_columns,omitempty"`
	// PVColumn is PV output per kW installed (kW/kWp).
	PVColumn   string `yaml:"pv_column,omitempty"`
	TempColumn string `yaml:"temp_column,omitempty"`
	RainColumn string `yaml:"rain_column,omitempty"`
}
