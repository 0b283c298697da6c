package twin

import "time"

// Result is everything a run produced: per-step series for plots, KPIs and settlement,
// and totals per subsystem. Energies in kWh, volumes in m³, money in CNY.
type Result struct {
	Policy string
	Start  time.Time
	Step   time.Duration
	Steps  int
	DtH    float64

	Series Series

	Energy    EnergyTotals
	Batteries []BatteryTotals
	EV        EVTotals
	Flex      FlexTotals
	Parking   []LotTotals
	Rentals   []RentalTotals
	Water     WaterTotals
}

// Series are per-step values (mean kW over the step for powers).
type Series struct {
	LoadKW      []float64 // non-shiftable load
	EVKW        []float64 // EV charging, AC
	FlexKW      []float64 // shiftable runs
	PVAvailKW   []float64
	PVUsedKW    []float64
	BatteryKW   []float64 // net AC: + charge, − discharge
	BatteryKWh  []float64 // stored energy at the end of the step, all batteries
	ImportKW    []float64
	ExportKW    []float64
	ImportPrice []float64 // CNY/kWh
	ExportPrice []float64
	CarbonKg    []float64 // kg CO2 of imports (0 when intensity unknown)

	ParkingOccupancy []float64 // visitor-offered spaces occupied, all lots (0–1)
	ParkingPrice     []float64 // mean visitor price over lots, CNY/h
	WaterVolumeM3    []float64
	WaterSuppliedM3  []float64
	WaterDemandM3    []float64
	WaterSpillM3     []float64
}

// EnergyTotals balance by construction:
// import − export = load − pv + battery loss + curtailed + Δstored.
type EnergyTotals struct {
	ImportKWh          float64 `json:"import_kwh"`
	ExportKWh          float64 `json:"export_kwh"`
	PVKWh              float64 `json:"pv_kwh"`   // available PV
	LoadKWh            float64 `json:"load_kwh"` // all consumers: non-shiftable + EV + shiftable
	NonShiftableKWh    float64 `json:"non_shiftable_kwh"`
	EVKWh              float64 `json:"ev_kwh"`
	FlexKWh            float64 `json:"flexible_kwh"`
	BatteryLossKWh     float64 `json:"battery_loss_kwh"`
	BatteryStoredDelta float64 `json:"battery_stored_change_kwh"`
	CurtailedKWh       float64 `json:"curtailed_kwh"`
	PeakImportKW       float64 `json:"peak_import_kw"`
	// OverloadKWh is import above the transformer limit that no flexible device could shed.
	OverloadKWh   float64 `json:"overload_kwh"`
	OverloadSteps int     `json:"overload_steps"`
	CarbonKg      float64 `json:"carbon_kg"`
}

// BatteryTotals summarise one battery's year.
type BatteryTotals struct {
	Name             string  `json:"name"`
	ChargedKWh       float64 `json:"charged_kwh"`
	DischargedKWh    float64 `json:"discharged_kwh"`
	EquivalentCycles float64 `json:"equivalent_full_cycles"`
	StateOfHealth    float64 `json:"state_of_health"`
	LossKWh          float64 `json:"loss_kwh"`
}

// EVTotals summarise charging.
type EVTotals struct {
	Sessions      int     `json:"sessions"`
	RequestedKWh  float64 `json:"requested_kwh"` // to EV batteries
	DeliveredKWh  float64 `json:"delivered_kwh"` // to EV batteries
	ACKWh         float64 `json:"ac_kwh"`        // drawn from the bus (billed)
	UnmetKWh      float64 `json:"unmet_kwh"`
	SessionsUnmet int     `json:"sessions_unmet"`
	// PendingKWh is what EVs still plugged in when the run ends (their departure is
	// after it) have yet to receive: not unmet, but energy a policy that defers
	// charging has not bought yet — count it when comparing costs over a short window.
	PendingKWh      float64 `json:"pending_kwh"`
	SessionsPending int     `json:"sessions_pending"`
}

// FlexTotals summarise shiftable runs.
type FlexTotals struct {
	Jobs int `json:"jobs"`
	// MeanDelaySteps is the mean wait between a run's request and its start.
	MeanDelayHours float64 `json:"mean_delay_hours"`
	// Forced counts runs the plant had to start at their deadline.
	Forced int     `json:"forced_starts"`
	KWh    float64 `json:"kwh"`
}

// LotTotals summarise a car park.
type LotTotals struct {
	Name              string  `json:"name"`
	Requests          int     `json:"requests"`
	Accepted          int     `json:"accepted"`
	PricedOut         int     `json:"priced_out"`  // would not pay the price
	TurnedAway        int     `json:"turned_away"` // would pay, no space
	OnSharedSpaces    int     `json:"on_shared_spaces"`
	VisitorHours      float64 `json:"visitor_hours"`
	RevenueCNY        float64 `json:"revenue_cny"`
	ResidentShareCNY  float64 `json:"resident_share_cny"`
	OperatorShareCNY  float64 `json:"operator_share_cny"`
	ResidentReturns   int     `json:"resident_returns"`
	ResidentConflicts int     `json:"resident_conflicts"` // owner returned to an occupied space
	MeanOccupancy     float64 `json:"mean_occupancy"`
	MeanPriceCNYPerH  float64 `json:"mean_price_cny_per_h"`
	// MonthlyRevenueCNY / MonthlyResidentCNY by month index of the run.
	MonthlyRevenueCNY  []float64 `json:"-"`
	MonthlyResidentCNY []float64 `json:"-"`
}

// RentalTotals summarise a rental group.
type RentalTotals struct {
	Name          string    `json:"name"`
	ShortTerm     bool      `json:"short_term"`
	UnitNights    int       `json:"unit_nights_available"`
	SoldNights    int       `json:"unit_nights_sold"`
	RevenueCNY    float64   `json:"revenue_cny"`
	Occupancy     float64   `json:"occupancy"`
	ADRCNY        float64   `json:"adr_cny"`
	RevPARCNY     float64   `json:"revpar_cny"`
	Requests      int       `json:"requests"`
	Refused       int       `json:"refused"`
	MonthlyRevCNY []float64 `json:"-"`
}

// WaterTotals summarise the rainwater system.
type WaterTotals struct {
	RainMM                float64   `json:"rain_mm"`
	InflowM3              float64   `json:"inflow_m3"`
	DemandM3              float64   `json:"demand_m3"`
	SuppliedM3            float64   `json:"supplied_m3"`
	SpillM3               float64   `json:"spill_m3"`
	ReleasedM3            float64   `json:"released_m3"`
	DetainedM3            float64   `json:"detained_m3"` // storm-day runoff kept out of the drains
	VolumetricReliability float64   `json:"volumetric_reliability"`
	TimeReliability       float64   `json:"time_reliability"`
	MonthlySuppliedM3     []float64 `json:"-"`
	MonthlyDetainedM3     []float64 `json:"-"`
}
