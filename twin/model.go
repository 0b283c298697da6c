package twin

import (
	"fmt"
	"math"
	"time"

	"github.com/lifang-community/lifang/policy"
	"github.com/lifang-community/lifang/unit"
)

// Tariff prices grid imports at a local time.
type Tariff interface {
	// ImportPrice returns CNY/kWh and the TOU period name in force at t.
	ImportPrice(t time.Time) (float64, string)
}

// Model is the static description of a unit in the engine's terms: indices instead of
// names, efficiencies split, charger groups expanded. Build it with FromUnit.
type Model struct {
	Name      string
	Loc       *time.Location
	Buildings []BuildingSpec
	PV        []PVSpec
	Batteries []BatterySpec
	Chargers  []ChargerSpec
	Flexible  []string

	ImportLimitKW float64 // 0: unlimited
	ExportLimitKW float64 // 0: unlimited

	Tariff                    Tariff
	ExportCNYPerKWh           float64
	DemandChargeCNYPerKWMonth float64

	Parking ParkingSpec
	Rentals []RentalSpec
	Water   WaterSpec

	CriticalLoadFraction float64
}

// BuildingSpec is a building and its households.
type BuildingSpec struct {
	Name       string
	Households int
}

// PVSpec is a PV array of CapacityKW installed.
type PVSpec struct {
	Name       string
	Building   int
	CapacityKW float64
}

// BatterySpec is a battery in engine terms (η split, limits as energies).
type BatterySpec struct {
	Name                 string
	Building             int
	CapacityKWh          float64
	PowerKW              float64
	EtaCharge            float64
	EtaDischarge         float64
	SoCMin, SoCMax       float64
	SoCInitial           float64
	SelfDischargePerHour float64
	// Ageing: "blast_lfp" or "none"; TemperatureC 0 = ambient clamped to 10–45 °C.
	Ageing       string
	TemperatureC float64
}

// ChargerSpec is one charging point.
type ChargerSpec struct {
	Name       string
	Building   int
	PowerKW    float64
	Efficiency float64
}

// ParkingSpec is the car parks and their pricing rules.
type ParkingSpec struct {
	Lots          []LotSpec
	FixedCNYPerH  float64
	MinCNYPerH    float64
	MaxCNYPerH    float64
	StepCNYPerH   float64
	TargetLow     float64
	TargetHigh    float64
	BandOfHour    [24]int
	Bands         []string
	ResidentShare float64
	PlatformShare float64
	BufferSteps   int
}

// LotSpec is one car park.
type LotSpec struct {
	Name            string
	Spaces          int
	ResidentSpaces  int
	ShareableSpaces int
}

// PublicSpaces are the spaces neither owned by residents nor shared: visitors only.
func (l LotSpec) PublicSpaces() int { return l.Spaces - l.ResidentSpaces }

// RentalSpec is a group of rentable sub-units.
type RentalSpec struct {
	Name            string
	ShortTerm       bool
	Units           int
	ADRCNY          float64
	RentCNYPerMonth float64
}

// WaterSpec is the rainwater system lumped into one store.
type WaterSpec struct {
	CapacityM3 float64
	InitialM3  float64
	// Catchments as (C·A in m², first flush in mm).
	Catchments []CatchmentSpec
	YBS        bool
	// PreReleaseRainMM: forecast rain over 24 h above which the rule empties room.
	PreReleaseRainMM float64
}

// CatchmentSpec is one catchment's effective area C·A (m²) and first flush (mm).
type CatchmentSpec struct {
	EffectiveAreaM2 float64
	FirstFlushMM    float64
}

// FromUnit builds the engine model of a defaulted, validated unit.
func FromUnit(u *unit.Unit) (*Model, error) {
	loc, err := time.LoadLocation(u.Location.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("twin: time zone %q: %w", u.Location.TimeZone, err)
	}
	m := &Model{Name: u.Name, Loc: loc, Tariff: &u.Tariffs.Electricity,
		ExportCNYPerKWh:           u.Tariffs.Electricity.ExportCNYPerKWh,
		DemandChargeCNYPerKWMonth: u.Tariffs.Electricity.DemandChargeCNYPerKWMonth,
		CriticalLoadFraction:      u.Resilience.CriticalLoadFraction,
	}
	bidx := map[string]int{}
	for i, b := range u.Buildings {
		bidx[b.Name] = i
		m.Buildings = append(m.Buildings, BuildingSpec{Name: b.Name, Households: b.Households})
	}
	building := func(name string) int {
		if i, ok := bidx[name]; ok {
			return i
		}
		return -1 // community-level asset
	}
	for _, p := range u.PV {
		m.PV = append(m.PV, PVSpec{Name: p.Name, Building: building(p.Building), CapacityKW: p.CapacityKW})
	}
	for _, b := range u.Batteries {
		eta := math.Sqrt(b.RoundTripEfficiency)
		m.Batteries = append(m.Batteries, BatterySpec{Name: b.Name, Building: building(b.Building),
			CapacityKWh: b.CapacityKWh, PowerKW: b.PowerKW, EtaCharge: eta, EtaDischarge: eta,
			SoCMin: b.SoCMin, SoCMax: b.SoCMax, SoCInitial: b.SoCInitial, SelfDischargePerHour: b.SelfDischargePerHour,
			Ageing: b.Degradation.Model, TemperatureC: b.Degradation.TemperatureC})
	}
	for _, c := range u.EV.Chargers {
		n := max(c.Count, 1)
		for k := range n {
			name := c.Name
			if n > 1 {
				name = fmt.Sprintf("%s/%d", c.Name, k+1)
			}
			m.Chargers = append(m.Chargers, ChargerSpec{Name: name, Building: building(c.Building), PowerKW: c.PowerKW, Efficiency: c.Efficiency})
		}
	}
	for _, f := range u.Flexible {
		m.Flexible = append(m.Flexible, f.Name)
	}
	g := u.Grid
	m.ImportLimitKW, m.ExportLimitKW = g.ImportLimitKW, g.ExportLimitKW
	if g.TransformerKVA > 0 {
		lim := g.TransformerKVA * g.PowerFactor
		if m.ImportLimitKW == 0 {
			m.ImportLimitKW = lim
		}
		if m.ExportLimitKW == 0 {
			m.ExportLimitKW = lim
		}
	}

	p := u.Parking
	ps := ParkingSpec{FixedCNYPerH: p.Pricing.FixedCNYPerHour, MinCNYPerH: p.Pricing.MinCNYPerHour, MaxCNYPerH: p.Pricing.MaxCNYPerHour,
		StepCNYPerH: p.Pricing.StepCNYPerHour, TargetLow: p.Pricing.TargetOccupancyLow, TargetHigh: p.Pricing.TargetOccupancyHigh,
		ResidentShare: p.ResidentShare, PlatformShare: u.Opex.PlatformShareOfParking}
	ps.BufferSteps = int(math.Ceil(float64(p.BufferMinutes) / float64(u.Simulation.StepMinutes)))
	var lists [][]string
	for _, b := range p.Pricing.Bands {
		ps.Bands = append(ps.Bands, b.Name)
		lists = append(lists, b.Hours)
	}
	if len(lists) == 0 {
		ps.Bands = []string{"all day"}
		lists = [][]string{{"0-24"}}
	}
	if ps.BandOfHour, err = unit.HourTable(lists); err != nil {
		return nil, fmt.Errorf("twin: parking bands: %w", err)
	}
	for _, l := range p.Lots {
		ps.Lots = append(ps.Lots, LotSpec{Name: l.Name, Spaces: l.Spaces, ResidentSpaces: l.ResidentSpaces, ShareableSpaces: l.ShareableSpaces})
	}
	m.Parking = ps

	for _, r := range u.Rentals {
		m.Rentals = append(m.Rentals, RentalSpec{Name: r.Name, ShortTerm: r.Kind == "short_term", Units: r.Units, ADRCNY: r.ADRCNY, RentCNYPerMonth: r.RentCNYPerMonth})
	}
	w := u.Water
	ws := WaterSpec{YBS: w.Model == "ybs", PreReleaseRainMM: w.PreReleaseRainMM}
	for _, t := range w.Tanks {
		ws.CapacityM3 += t.CapacityM3
		ws.InitialM3 += t.InitialM3
	}
	for _, c := range w.Catchments {
		ws.Catchments = append(ws.Catchments, CatchmentSpec{EffectiveAreaM2: c.AreaM2 * c.RunoffCoefficient, FirstFlushMM: c.FirstFlushMM})
	}
	m.Water = ws
	return m, nil
}

// Rules is what the operating policies need to know of the unit beyond each step's
// observation.
func (m *Model) Rules() policy.Rules {
	pk := m.Parking
	return policy.Rules{PreReleaseRainMM: m.Water.PreReleaseRainMM, Parking: policy.Parking{
		FixedCNYPerH: pk.FixedCNYPerH, MinCNYPerH: pk.MinCNYPerH, MaxCNYPerH: pk.MaxCNYPerH, StepCNYPerH: pk.StepCNYPerH,
		TargetLow: pk.TargetLow, TargetHigh: pk.TargetHigh, BandOfHour: pk.BandOfHour, Bands: pk.Bands, BufferSteps: pk.BufferSteps}}
}
