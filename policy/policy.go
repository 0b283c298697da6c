// Package policy holds the operating policies — business as usual, rule-based and MPC —
// behind one interface that the digital twin (package twin) and the live site (package
// site) both drive: "the same controller runs against the twin or the real devices".
//
// A policy sees only an Observation, keyed by the unit's asset ids (battery, charging
// point, car park and rental names; appliance runs by the plant's request id), holding
// what is knowable at the start of a step, and returns Setpoints in device terms keyed the
// same way: battery AC power (kW, + charge) per battery, charging power (kW) per charging
// point (the site turns it into a limit in W or A with phases), start permissions for
// waiting appliance runs, a release per tank, a price per car park. A plant resolves
// setpoints by id and clips them to physical limits; an id it does not know is ignored.
package policy

import (
	"math"
	"time"
)

// Forecaster predicts h steps of a series from its history up to t0 (exclusive); the
// forecast package's models implement it.
type Forecaster interface {
	Predict(hist []float64, t0 time.Time, h int) []float64
}

// A Policy decides the setpoints of one step from what can be observed at its start.
// Policies may keep state between steps; make a new one for every run.
type Policy interface {
	Name() string
	Decide(o *Observation) Setpoints
}

// Observation is what a controller can know at the start of a step: the measured
// load and PV of the step (a fast inverter sees them), device states, published
// prices ahead, and forecasts — never realised future values.
type Observation struct {
	Step int
	Time time.Time
	DtH  float64 // step length in hours

	LoadKW float64 // non-shiftable load of the step, measured
	PVKW   float64 // available PV of the step, measured
	// FlexKW is the load of shiftable runs already started (committed for this step).
	FlexKW float64

	ImportCNYPerKWh float64
	ExportCNYPerKWh float64
	Period          string
	// PriceAhead[k] is the import price expected k steps ahead (k = 0 is now) over the
	// next 48 h: the published tariff, or a persistence forecast (the price one day
	// earlier) when prices come from data.
	PriceAhead []float64

	Batteries []BatteryState
	Chargers  []ChargerState
	// Jobs are the shiftable runs whose window is open and which have not started.
	Jobs []JobState

	Lots    []LotState
	Rentals []RentalState
	Water   WaterState

	ImportLimitKW float64
	ExportLimitKW float64
}

// BatteryState is a battery at the start of the step.
type BatteryState struct {
	ID                        string // the unit's battery name
	EnergyKWh, MinKWh, MaxKWh float64
	PowerKW                   float64
	EtaCharge, EtaDischarge   float64
}

// ChargerState is a charging point; Connected is false when no EV is plugged in.
type ChargerState struct {
	ID        string // the charging point's name: the unit's charger group, "/k" when the group has several
	Connected bool
	PowerKW   float64 // max AC power for this EV now
	// NeedKWh is the energy still to deliver to the EV's battery.
	NeedKWh    float64
	Efficiency float64
	// StepsLeft until departure (≥ 1 while connected).
	StepsLeft int
}

// JobState is a pending shiftable run.
type JobState struct {
	// ID names the run for the plant that announced it (the twin's input index, the
	// site's appliance request id); StartJobs answers with it.
	ID int
	// LatestStart is the last step it may start and still finish in its window.
	LatestStart int
	Len         int
	EnergyKWh   float64
}

// LotState is a car park's state at the start of the step.
type LotState struct {
	ID string // the unit's lot name
	// Occupancy of the spaces offered to visitors at the previous step (0–1).
	Occupancy    float64
	PriceCNYPerH float64
}

// RentalState is a short- or long-term rental group.
type RentalState struct {
	ID string // the unit's rental name
	// OccupancyLast7Days is the share of unit-nights sold over the last seven days.
	OccupancyLast7Days float64
	// SoldLastNight is the share of units sold on the night before this day.
	SoldLastNight float64
	ADRCNY        float64
}

// WaterState is the rainwater store.
type WaterState struct {
	VolumeM3, CapacityM3 float64
	RainForecast24hMM    float64
	// EffectiveAreaM2 is Σ C·A over the catchments: expected inflow ≈ area × rain/1000.
	EffectiveAreaM2 float64
}

// Setpoints are a policy's decisions for one step, keyed by asset id. The plant clips
// every setpoint to physical limits; what was actually applied is the plant's record.
// A policy may reuse the maps: Setpoints are valid until its next Decide.
type Setpoints struct {
	// BatteryKW is AC power per battery id: + charge, − discharge.
	BatteryKW map[string]float64
	// ChargerKW is AC charging power per charging-point id.
	ChargerKW map[string]float64
	// StartJobs are the ids of waiting runs to start now.
	StartJobs []int
	// LotPriceCNYPerH is the visitor price per lot id for arrivals in this step.
	LotPriceCNYPerH map[string]float64
	// ParkingBestFit assigns visitors to the shared space whose free window ends
	// soonest after the stay (least slack); otherwise first fit.
	ParkingBestFit bool
	// ParkingBufferSteps is kept free before an owner's return (at least the unit's).
	ParkingBufferSteps int
	// RentalADRCNY is tonight's price per short-term rental group id.
	RentalADRCNY map[string]float64
	// TankReleaseM3 is water let out of the tank to the drain before the step.
	TankReleaseM3 float64
	// CurtailPV asks the plant to curtail PV that would be exported (negative export prices).
	CurtailPV bool
}

// Rules is what a policy needs to know of the unit beyond each step's observation: the
// parking price rules and the tank's pre-release threshold.
type Rules struct {
	Parking Parking
	// PreReleaseRainMM: forecast rain over 24 h above which the tank makes room.
	PreReleaseRainMM float64
}

// Parking is the car parks' pricing rules (SFpark-style, REFERENCES: shared parking).
type Parking struct {
	FixedCNYPerH, MinCNYPerH, MaxCNYPerH, StepCNYPerH float64
	TargetLow, TargetHigh                             float64
	// BandOfHour maps a local hour to its price band (−1: none).
	BandOfHour  [24]int
	Bands       []string
	BufferSteps int
}

// clearMap empties m, making it when nil.
func clearMap[V any](m *map[string]V) {
	if *m == nil {
		*m = map[string]V{}
	}
	clear(*m)
}

func stepDuration(dtH float64) time.Duration { return time.Duration(dtH * float64(time.Hour)) }

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }
