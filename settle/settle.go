// Package settle turns a twin run into money: the community's grid bill under its TOU
// tariff (and demand charge), export credit, sales of electricity to residents and of
// charging to EV drivers, parking revenue split between owners and the operator, rents,
// the value of rainwater used and detained, and operating costs — as a monthly
// operating statement with net operating income (NOI) by subsystem.
//
// The settlement model is the one a community operator on a single grid connection
// works under: it buys at the connection's tariff and sells to households at the
// regulated residential price, so dispatch changes its margin, not residents' bills.
package settle

import (
	"fmt"
	"math"
	"time"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Subsystems in report order.
var Subsystems = []string{"energy", "ev_charging", "parking", "rentals", "water"}

// OpexLines are the cost lines: each subsystem's and the community's unallocated costs.
var OpexLines = append(append([]string{}, Subsystems...), "community")

// Lines is one period's statement. Revenue and NOI are by subsystem; community-wide
// fixed costs are in OpexCNY["community"] and reduce only the total NOI.
type Lines struct {
	Period string `json:"period"`

	RevenueCNY map[string]float64 `json:"revenue_cny"`
	OpexCNY    map[string]float64 `json:"opex_cny"`
	NOICNY     map[string]float64 `json:"noi_by_subsystem_cny"`

	GridPurchaseCNY  float64 `json:"grid_purchase_cny"`
	DemandChargeCNY  float64 `json:"demand_charge_cny"`
	ExportCreditCNY  float64 `json:"export_credit_cny"`
	ResidentSalesCNY float64 `json:"resident_sales_cny"`
	PeakImportKW     float64 `json:"peak_import_kw"`
	ImportKWh        float64 `json:"import_kwh"`
	ExportKWh        float64 `json:"export_kwh"`

	ParkingGrossCNY    float64 `json:"parking_gross_cny"`
	ResidentParkingCNY float64 `json:"resident_parking_income_cny"`
	WaterSuppliedM3    float64 `json:"water_supplied_m3"`
	WaterDetainedM3    float64 `json:"water_detained_m3"`

	TotalRevenueCNY float64 `json:"total_revenue_cny"`
	TotalOpexCNY    float64 `json:"total_opex_cny"`
	NOITotalCNY     float64 `json:"noi_cny"`
}

// Statement is a run's monthly statements and their sum.
type Statement struct {
	Months []Lines `json:"months"`
	Annual Lines   `json:"annual"`
	// BatteryWearCNY values the capacity lost in the run at the replacement price
	// (a reserve below NOI, not a cash cost of the period).
	BatteryWearCNY float64 `json:"battery_wear_cny"`
	// CapexCNY is the investment in the productive assets (for payback).
	CapexCNY float64 `json:"capex_cny"`
}

// Settle prices a run. u must be the defaulted unit the model was built from.
func Settle(u *unit.Unit, m *twin.Model, res *twin.Result) (*Statement, error) {
	if res.Steps == 0 {
		return nil, fmt.Errorf("settle: empty run")
	}
	loc := m.Loc
	months := monthIndex(res, loc)
	nm := months[len(months)-1] + 1
	st := &Statement{Months: make([]Lines, nm)}
	first := res.Start.In(loc)
	for i := range st.Months {
		st.Months[i] = newLines(first.AddDate(0, i, 0).Format("2006-01"))
	}

	el := u.Tariffs.Electricity
	evPrice := u.Tariffs.EVCharging.EnergyCNYPerKWh
	if evPrice == 0 {
		evPrice = el.ResidentCNYPerKWh
	}
	evPrice += u.Tariffs.EVCharging.ServiceFeeCNYPerKWh
	s, dt := &res.Series, res.DtH
	hours := make([]float64, nm)
	for t := range res.Steps {
		l := &st.Months[months[t]]
		hours[months[t]] += dt
		imp, exp := s.ImportKW[t]*dt, s.ExportKW[t]*dt
		buy := imp * s.ImportPrice[t]
		l.GridPurchaseCNY += buy
		l.ImportKWh += imp
		l.ExportKWh += exp
		l.PeakImportKW = math.Max(l.PeakImportKW, s.ImportKW[t])
		credit := exp * s.ExportPrice[t]
		l.ExportCreditCNY += credit
		resident := (s.LoadKW[t] + s.FlexKW[t]) * dt * el.ResidentCNYPerKWh
		l.ResidentSalesCNY += resident
		ev := s.EVKW[t] * dt * evPrice
		l.RevenueCNY["energy"] += resident + credit
		l.RevenueCNY["ev_charging"] += ev
		// The grid bill is shared between households' energy and EV charging by their
		// share of the step's load.
		load := s.LoadKW[t] + s.FlexKW[t] + s.EVKW[t]
		evShare := 0.0
		if load > 0 {
			evShare = s.EVKW[t] / load
		}
		l.OpexCNY["ev_charging"] += buy * evShare
		l.OpexCNY["energy"] += buy * (1 - evShare)
	}
	for i := range st.Months {
		l := &st.Months[i]
		l.DemandChargeCNY = l.PeakImportKW * el.DemandChargeCNYPerKWMonth
		l.OpexCNY["energy"] += l.DemandChargeCNY
	}
	for _, p := range res.Parking {
		for i := range nm {
			l := &st.Months[i]
			l.ParkingGrossCNY += p.MonthlyRevenueCNY[i]
			l.ResidentParkingCNY += p.MonthlyResidentCNY[i]
			l.RevenueCNY["parking"] += p.MonthlyRevenueCNY[i] - p.MonthlyResidentCNY[i]
		}
	}
	for _, r := range res.Rentals {
		for i := range nm {
			st.Months[i].RevenueCNY["rentals"] += r.MonthlyRevCNY[i]
		}
	}
	wt := u.Tariffs.Water
	for i := range nm {
		l := &st.Months[i]
		if res.Water.MonthlySuppliedM3 != nil {
			l.WaterSuppliedM3 = res.Water.MonthlySuppliedM3[i]
			l.WaterDetainedM3 = res.Water.MonthlyDetainedM3[i]
		}
		l.RevenueCNY["water"] = l.WaterSuppliedM3*wt.NonResidentialCNYPerM3 + l.WaterDetainedM3*wt.DetentionCreditCNYPerM3
	}

	// Operating costs accrue by the hour from annual rates.
	o := u.Opex
	nChargers := 0
	for _, c := range u.EV.Chargers {
		nChargers += max(c.Count, 1)
	}
	pvKW, batKWh, spaces := 0.0, 0.0, 0
	for _, p := range u.PV {
		pvKW += p.CapacityKW
	}
	for _, b := range u.Batteries {
		batKWh += b.CapacityKWh
	}
	for _, l := range u.Parking.Lots {
		spaces += l.Spaces - l.ResidentSpaces + l.ShareableSpaces
	}
	rentalOpex := 0.0
	for _, r := range u.Rentals {
		rentalOpex += r.OpexCNYPerUnitMonth * float64(r.Units) * 12
	}
	for i := range nm {
		l := &st.Months[i]
		f := hours[i] / 8760
		l.OpexCNY["community"] += o.FixedCNYPerYear * f
		l.OpexCNY["energy"] += (o.PVCNYPerKWYear*pvKW + o.BatteryCNYPerKWhYear*batKWh) * f
		l.OpexCNY["ev_charging"] += o.ChargerCNYPerYear * float64(nChargers) * f
		l.OpexCNY["parking"] += o.ParkingCNYPerSpaceYear*float64(spaces)*f + o.PlatformShareOfParking*l.ParkingGrossCNY
		l.OpexCNY["water"] += o.WaterCNYPerYear * f
		l.OpexCNY["rentals"] += rentalOpex * f
		l.close()
		st.Annual.add(l)
	}
	st.Annual.Period = fmt.Sprintf("%s..%s", st.Months[0].Period, st.Months[nm-1].Period)
	st.Annual.close()

	for i, b := range res.Batteries {
		st.BatteryWearCNY += (1 - b.StateOfHealth) * u.Batteries[i].CapacityKWh * u.Batteries[i].Degradation.ReplacementCNYPerKWh
	}
	c := u.Capex
	chargerKW := 0.0
	for _, ch := range u.EV.Chargers {
		chargerKW += ch.PowerKW * float64(max(ch.Count, 1))
	}
	tankM3, rentalUnits := 0.0, 0
	for _, t := range u.Water.Tanks {
		tankM3 += t.CapacityM3
	}
	for _, r := range u.Rentals {
		rentalUnits += r.Units
	}
	st.CapexCNY = c.PVCNYPerKW*pvKW + c.BatteryCNYPerKWh*batKWh + c.ChargerCNYPerKW*chargerKW + c.ParkingSystemCNY +
		c.WaterCNYPerM3*tankM3 + c.RentalFitOutCNYPerUnit*float64(rentalUnits)
	return st, nil
}

func newLines(period string) Lines {
	l := Lines{Period: period, RevenueCNY: map[string]float64{}, OpexCNY: map[string]float64{"community": 0}, NOICNY: map[string]float64{}}
	for _, s := range Subsystems {
		l.RevenueCNY[s] = 0
		l.OpexCNY[s] = 0
	}
	return l
}

// close derives the totals and NOI of a period from its revenue and cost lines.
func (l *Lines) close() {
	l.TotalRevenueCNY, l.TotalOpexCNY = 0, 0
	for _, s := range Subsystems {
		l.NOICNY[s] = l.RevenueCNY[s] - l.OpexCNY[s]
		l.TotalRevenueCNY += l.RevenueCNY[s]
	}
	// Sum in a fixed order: float addition is not associative, and map order is random.
	for _, k := range OpexLines {
		l.TotalOpexCNY += l.OpexCNY[k]
	}
	l.NOITotalCNY = l.TotalRevenueCNY - l.TotalOpexCNY
}

// add accumulates a month into an annual total (peaks take the maximum).
func (l *Lines) add(m *Lines) {
	if l.RevenueCNY == nil {
		*l = newLines("")
	}
	for _, k := range Subsystems {
		l.RevenueCNY[k] += m.RevenueCNY[k]
	}
	for _, k := range OpexLines {
		l.OpexCNY[k] += m.OpexCNY[k]
	}
	l.GridPurchaseCNY += m.GridPurchaseCNY
	l.DemandChargeCNY += m.DemandChargeCNY
	l.ExportCreditCNY += m.ExportCreditCNY
	l.ResidentSalesCNY += m.ResidentSalesCNY
	l.PeakImportKW = math.Max(l.PeakImportKW, m.PeakImportKW)
	l.ImportKWh += m.ImportKWh
	l.ExportKWh += m.ExportKWh
	l.ParkingGrossCNY += m.ParkingGrossCNY
	l.ResidentParkingCNY += m.ResidentParkingCNY
	l.WaterSuppliedM3 += m.WaterSuppliedM3
	l.WaterDetainedM3 += m.WaterDetainedM3
}

// monthIndex gives each step its month number from the run's first month.
func monthIndex(res *twin.Result, loc *time.Location) []int {
	first := res.Start.In(loc)
	out := make([]int, res.Steps)
	for t := range out {
		ts := res.Start.Add(time.Duration(t) * res.Step).In(loc)
		out[t] = (ts.Year()-first.Year())*12 + int(ts.Month()) - int(first.Month())
	}
	return out
}
