package twin

import (
	"fmt"
	"time"
)

// Inputs are the exogenous series and events the twin is driven by: what nature, the
// residents and the market do regardless of the policy. They come from the synthetic
// generator (package demo), a CityLearn import or CSV files. Every per-step slice has
// length Steps; energies are mean power over the step in kW.
type Inputs struct {
	Start time.Time     // first step, local time of the unit
	Step  time.Duration // step length (1 h by default)
	Steps int

	// BuildingLoadKW[b][t] is building b's non-shiftable load.
	BuildingLoadKW [][]float64
	// PVKWPerKWp[a][t] is PV array a's AC output per kW installed.
	PVKWPerKWp [][]float64
	// TempC is the outdoor dry-bulb temperature.
	TempC []float64
	// RainMM is the rainfall in the step.
	RainMM []float64
	// RainForecast24hMM[t] is the rain forecast issued at step t for the next 24 h: a
	// weather-service product with its own error, never the realised rain.
	RainForecast24hMM []float64
	// ImportPriceCNYPerKWh overrides the TOU tariff when the data brings its own prices
	// (CityLearn pricing.csv); nil uses the tariff.
	ImportPriceCNYPerKWh []float64
	// CarbonKgPerKWh is the grid's marginal carbon intensity (nil: unknown).
	CarbonKgPerKWh []float64
	// WaterDemandM3[t] is the non-potable demand (flushing, irrigation) the tanks can serve.
	WaterDemandM3 []float64

	EVSessions      []EVSession
	Jobs            []Job
	ParkingRequests []ParkingRequest
	ResidentWindows []ResidentWindow
	RentalRequests  []RentalRequest
	Tenancies       []Tenancy
	Households      []HouseholdGroup
}

// EVSession is one plug-in: the vehicle is at Charger from step Arrive to step Depart
// (exclusive) and wants EnergyKWh delivered to its battery by then.
type EVSession struct {
	Charger   int
	Vehicle   string
	Arrive    int
	Depart    int
	EnergyKWh float64
	// MaxKW is the vehicle's own acceptance limit (0: the charger's).
	MaxKW float64
}

// Job is one run of a shiftable appliance: it may start at any step in
// [Earliest, Latest−len(ProfileKW)] and then draws ProfileKW step by step.
type Job struct {
	Flexible  int
	Building  int
	Earliest  int
	Latest    int // the run must have finished before this step
	ProfileKW []float64
}

// ParkingRequest is a visitor who wants to park in Lot from Arrive to Depart (steps,
// Depart exclusive) and will pay up to WTPCNYPerHour.
type ParkingRequest struct {
	Lot           int
	Arrive        int
	Depart        int
	WTPCNYPerHour float64
	// OverstaySteps is how long the visitor actually stays beyond Depart.
	OverstaySteps int
}

// ResidentWindow is a resident-owned space in Lot declared free from From to To (steps);
// the owner returns at To.
type ResidentWindow struct {
	Lot   int
	Space int
	From  int
	To    int
}

// RentalRequest is a guest asking for Nights nights from day Day in short-term rental R,
// willing to pay up to WTPCNY per night.
type RentalRequest struct {
	Rental int
	Day    int
	Nights int
	WTPCNY float64
}

// Tenancy is a long-term lease of one unit of rental R from day From to day To (exclusive).
type Tenancy struct {
	Rental int
	Unit   int
	From   int
	To     int
}

// HouseholdGroup is Count similar households of one building with one income: the
// resolution at which energy burden and "who gains" are reported.
type HouseholdGroup struct {
	Building         int
	Count            int
	IncomeCNYPerYear float64
	// LoadShare is the share of the building's load used by the whole group.
	LoadShare float64
	// WaterM3PerYear is one household's potable use.
	WaterM3PerYear float64
}

// Validate checks the shapes the engine relies on, naming the first bad field.
func (in *Inputs) Validate(m *Model) error {
	if in.Steps <= 0 {
		return fmt.Errorf("inputs: steps = %d, want > 0", in.Steps)
	}
	if in.Step <= 0 {
		return fmt.Errorf("inputs: step = %v, want > 0", in.Step)
	}
	if len(in.BuildingLoadKW) != len(m.Buildings) {
		return fmt.Errorf("inputs: %d building load series for %d buildings", len(in.BuildingLoadKW), len(m.Buildings))
	}
	for b, s := range in.BuildingLoadKW {
		if len(s) != in.Steps {
			return fmt.Errorf("inputs: building %q load has %d steps, want %d", m.Buildings[b].Name, len(s), in.Steps)
		}
	}
	if len(in.PVKWPerKWp) != len(m.PV) {
		return fmt.Errorf("inputs: %d PV series for %d arrays", len(in.PVKWPerKWp), len(m.PV))
	}
	for a, s := range in.PVKWPerKWp {
		if len(s) != in.Steps {
			return fmt.Errorf("inputs: PV array %q has %d steps, want %d", m.PV[a].Name, len(s), in.Steps)
		}
	}
	for _, f := range []struct {
		name string
		s    []float64
	}{{"temp_c", in.TempC}, {"rain_mm", in.RainMM}, {"rain_forecast_24h_mm", in.RainForecast24hMM},
		{"import_price", in.ImportPriceCNYPerKWh}, {"carbon", in.CarbonKgPerKWh}, {"water_demand_m3", in.WaterDemandM3}} {
		if f.s != nil && len(f.s) != in.Steps {
			return fmt.Errorf("inputs: %s has %d steps, want %d", f.name, len(f.s), in.Steps)
		}
	}
	for i, s := range in.EVSessions {
		if s.Charger < 0 || s.Charger >= len(m.Chargers) {
			return fmt.Errorf("inputs: EV session %d: charger %d out of range", i, s.Charger)
		}
		if s.Arrive < 0 || s.Depart <= s.Arrive || s.EnergyKWh < 0 {
			return fmt.Errorf("inputs: EV session %d: arrive %d depart %d energy %g", i, s.Arrive, s.Depart, s.EnergyKWh)
		}
	}
	for i, j := range in.Jobs {
		if j.Earliest < 0 || j.Latest-j.Earliest < len(j.ProfileKW) || len(j.ProfileKW) == 0 {
			return fmt.Errorf("inputs: job %d: window [%d,%d) too short for a %d-step profile", i, j.Earliest, j.Latest, len(j.ProfileKW))
		}
	}
	for i, r := range in.ParkingRequests {
		if r.Lot < 0 || r.Lot >= len(m.Parking.Lots) || r.Depart <= r.Arrive {
			return fmt.Errorf("inputs: parking request %d: lot %d, [%d,%d)", i, r.Lot, r.Arrive, r.Depart)
		}
	}
	for i, w := range in.ResidentWindows {
		if w.Lot < 0 || w.Lot >= len(m.Parking.Lots) || w.To <= w.From || w.Space < 0 || w.Space >= m.Parking.Lots[w.Lot].ShareableSpaces {
			return fmt.Errorf("inputs: resident window %d: lot %d space %d, [%d,%d)", i, w.Lot, w.Space, w.From, w.To)
		}
	}
	for i, r := range in.RentalRequests {
		if r.Rental < 0 || r.Rental >= len(m.Rentals) || r.Nights <= 0 {
			return fmt.Errorf("inputs: rental request %d: rental %d, %d nights", i, r.Rental, r.Nights)
		}
	}
	for i, h := range in.Households {
		if h.Building < 0 || h.Building >= len(m.Buildings) || h.Count <= 0 {
			return fmt.Errorf("inputs: household group %d: building %d, count %d", i, h.Building, h.Count)
		}
	}
	return nil
}
