// Package kpi judges a run on four families — economic, resilience, social and
// financial — never on one alone (DESIGN.md §2). Each KPI's definition is the doc
// comment of its field. Comparisons with the baseline run (Δ fields) are filled when a
// baseline is given.
package kpi

import (
	"math"
	"sort"

	"github.com/lifang-community/lifang/settle"
	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// KPIs are the four families of one run.
type KPIs struct {
	Economic   Economic   `json:"economic"`
	Resilience Resilience `json:"resilience"`
	Social     Social     `json:"social"`
	Financial  Financial  `json:"financial"`
}

// Economic KPIs.
type Economic struct {
	// NOICNY is net operating income: revenue of all subsystems minus grid purchases and opex.
	NOICNY float64 `json:"noi_cny"`
	// RevenueCNY is total operating revenue.
	RevenueCNY float64 `json:"revenue_cny"`
	// GridCostCNY is the grid bill: TOU energy plus demand charges.
	GridCostCNY float64 `json:"grid_cost_cny"`
	// SavingsVsBaselineCNY is the baseline's grid bill minus this run's, net of export credit.
	SavingsVsBaselineCNY float64 `json:"grid_savings_vs_baseline_cny"`
	// NOIGainVsBaselineCNY is NOI minus the baseline's NOI: the operating value created.
	NOIGainVsBaselineCNY float64 `json:"noi_gain_vs_baseline_cny"`
	// AverageImportPriceCNYPerKWh is the grid bill over imported energy.
	AverageImportPriceCNYPerKWh float64 `json:"average_import_price_cny_per_kwh"`
	// SelfConsumption is the share of available PV used on site (not exported, not curtailed).
	SelfConsumption float64 `json:"pv_self_consumption"`
	// SelfSufficiency is the share of load met by on-site PV: 1 − import/load.
	SelfSufficiency float64 `json:"self_sufficiency"`
	// RevPARCNY is short-term rental revenue per available room-night.
	RevPARCNY float64 `json:"rental_revpar_cny"`
	// ParkingRevenuePerSpaceCNY is gross visitor parking revenue per space offered to visitors.
	ParkingRevenuePerSpaceCNY float64 `json:"parking_revenue_per_offered_space_cny"`
	// CarbonT is the tonnes of CO2 attributed to imports (0 when intensity is unknown).
	CarbonT float64 `json:"carbon_t"`
}

// Resilience KPIs.
type Resilience struct {
	// Outage: hours the critical load (a share of non-shiftable load) is carried from PV and
	// storage after a grid outage starting at each step of the year.
	Outage OutageResult `json:"outage"`
	// WaterAutonomyDays is the mean tank volume over the mean daily non-potable demand:
	// days of flushing and irrigation the store carries without rain or mains.
	WaterAutonomyDays float64 `json:"water_autonomy_days"`
	// WaterTimeReliability is the share of steps whose non-potable demand the tank met in full.
	WaterTimeReliability float64 `json:"water_time_reliability"`
	// WaterVolumetricReliability is rainwater supplied over non-potable demand.
	WaterVolumetricReliability float64 `json:"water_volumetric_reliability"`
	// PeakImportKW is the year's highest import.
	PeakImportKW float64 `json:"peak_import_kw"`
	// PeakReduction is 1 − peak import / the baseline's peak import.
	PeakReduction float64 `json:"peak_reduction_vs_baseline"`
	// LoadFactor is mean import over peak import (CityLearn's 1 − load factor is its complement).
	LoadFactor float64 `json:"load_factor"`
	// Ramping is Σ|ΔP| of the import profile, kW (CityLearn).
	RampingKW float64 `json:"ramping_kw"`
	// OverloadHours are hours with import above the transformer limit after shedding flexible load.
	OverloadHours float64 `json:"transformer_overload_hours"`
	// DetainedM3 is storm-day runoff kept out of the drains.
	DetainedM3 float64 `json:"storm_runoff_detained_m3"`
}

// Social KPIs.
type Social struct {
	// EnergyBurden: household energy and water cost over income, by income quintile
	// (> 6 % is high, > 10 % severe).
	EnergyBurden []BurdenBand `json:"energy_burden_by_quintile"`
	// HighBurdenShare is the share of households above 6 % burden.
	HighBurdenShare float64 `json:"high_burden_share"`
	// ResidentParkingAvailability is the share of owner returns that found their shared
	// space free (1 − conflicts / returns).
	ResidentParkingAvailability float64 `json:"resident_parking_availability"`
	// ResidentParkingIncomeCNY is what owners of shared spaces earned.
	ResidentParkingIncomeCNY float64 `json:"resident_parking_income_cny"`
	// VisitorsTurnedAway would pay the price but found no space.
	VisitorsTurnedAway int `json:"visitors_turned_away"`
	// VisitorsPricedOut would not pay the price asked.
	VisitorsPricedOut int `json:"visitors_priced_out"`
	// EVUnmetKWh is energy EV drivers asked for and did not get by departure.
	EVUnmetKWh float64 `json:"ev_unmet_kwh"`
	// EVSessionsUnmetShare is the share of sessions that left short.
	EVSessionsUnmetShare float64 `json:"ev_sessions_unmet_share"`
	// ApplianceDelayHours is the mean wait of a shiftable run between request and start
	// (the comfort cost of flexibility).
	ApplianceDelayHours float64 `json:"appliance_mean_delay_hours"`
	// WhoGains splits the run's gain over the baseline among the operator (NOI), owners
	// of shared spaces (parking income) and EV drivers (value of energy delivered at the
	// charging price).
	WhoGains map[string]float64 `json:"who_gains_vs_baseline_cny"`
}

// BurdenBand is one income quintile.
type BurdenBand struct {
	Quintile      int     `json:"quintile"`
	Households    int     `json:"households"`
	MeanIncomeCNY float64 `json:"mean_income_cny"`
	MeanCostCNY   float64 `json:"mean_energy_water_cost_cny"`
	MeanBurden    float64 `json:"mean_burden"`
}

// Financial KPIs (deeper metrics come with the finance engine).
type Financial struct {
	// NOICNY is net operating income of the run.
	NOICNY float64 `json:"noi_cny"`
	// OperatingMargin is NOI over revenue.
	OperatingMargin float64 `json:"operating_margin"`
	// CapexCNY is the investment in the productive assets.
	CapexCNY float64 `json:"capex_cny"`
	// SimplePaybackYears is capex over annualised NOI after the battery replacement reserve.
	SimplePaybackYears float64 `json:"simple_payback_years"`
	// NOIAfterReserveCNY is NOI minus the battery wear valued at replacement cost.
	NOIAfterReserveCNY float64 `json:"noi_after_battery_reserve_cny"`
	// YieldOnCost is annualised NOI after reserve over capex.
	YieldOnCost float64 `json:"yield_on_cost"`
}

// Run is what the KPIs are computed from.
type Run struct {
	Unit      *unit.Unit
	Model     *twin.Model
	Inputs    *twin.Inputs
	Result    *twin.Result
	Statement *settle.Statement
}

// Evaluate computes the KPIs of r; base (the baseline run, may be nil) fills the Δ fields.
func Evaluate(r Run, base *Run) KPIs {
	var k KPIs
	res, st := r.Result, r.Statement
	years := float64(res.Steps) * res.DtH / 8760
	e := &k.Economic
	a := st.Annual
	e.NOICNY, e.RevenueCNY = a.NOITotalCNY, a.TotalRevenueCNY
	e.GridCostCNY = a.GridPurchaseCNY + a.DemandChargeCNY
	if a.ImportKWh > 0 {
		e.AverageImportPriceCNYPerKWh = e.GridCostCNY / a.ImportKWh
	}
	en := res.Energy
	if en.PVKWh > 0 {
		e.SelfConsumption = (en.PVKWh - en.ExportKWh - en.CurtailedKWh) / en.PVKWh
	}
	if en.LoadKWh > 0 {
		e.SelfSufficiency = 1 - en.ImportKWh/en.LoadKWh
	}
	nights, rev := 0, 0.0
	for _, rt := range res.Rentals {
		if rt.ShortTerm {
			nights += rt.UnitNights
			rev += rt.RevenueCNY
		}
	}
	if nights > 0 {
		e.RevPARCNY = rev / float64(nights)
	}
	offered := 0
	for _, l := range r.Model.Parking.Lots {
		offered += l.PublicSpaces() + l.ShareableSpaces
	}
	if offered > 0 {
		e.ParkingRevenuePerSpaceCNY = a.ParkingGrossCNY / float64(offered)
	}
	e.CarbonT = en.CarbonKg / 1000

	k.Resilience = resilience(r)
	k.Social = social(r)

	f := &k.Financial
	f.NOICNY = a.NOITotalCNY
	if a.TotalRevenueCNY > 0 {
		f.OperatingMargin = a.NOITotalCNY / a.TotalRevenueCNY
	}
	f.CapexCNY = st.CapexCNY
	f.NOIAfterReserveCNY = a.NOITotalCNY - st.BatteryWearCNY
	if annual := f.NOIAfterReserveCNY / years; annual > 0 && f.CapexCNY > 0 {
		f.SimplePaybackYears = f.CapexCNY / annual
		f.YieldOnCost = annual / f.CapexCNY
	}

	if base != nil {
		ba := base.Statement.Annual
		e.SavingsVsBaselineCNY = (ba.GridPurchaseCNY + ba.DemandChargeCNY - ba.ExportCreditCNY) - (e.GridCostCNY - a.ExportCreditCNY)
		e.NOIGainVsBaselineCNY = a.NOITotalCNY - ba.NOITotalCNY
		if bp := base.Result.Energy.PeakImportKW; bp > 0 {
			k.Resilience.PeakReduction = 1 - res.Energy.PeakImportKW/bp
		}
		evPrice := r.Unit.Tariffs.EVCharging.EnergyCNYPerKWh + r.Unit.Tariffs.EVCharging.ServiceFeeCNYPerKWh
		k.Social.WhoGains = map[string]float64{
			"operator":            e.NOIGainVsBaselineCNY,
			"shared_space_owners": a.ResidentParkingCNY - ba.ResidentParkingCNY,
			"ev_drivers":          (base.Result.EV.UnmetKWh - res.EV.UnmetKWh) * evPrice,
			"households_bills":    0, // residents pay the regulated price under both policies
		}
	}
	return k
}

func resilience(r Run) Resilience {
	res, m := r.Result, r.Model
	var out Resilience
	s := &res.Series
	crit := make([]float64, res.Steps)
	for t := range crit {
		crit[t] = m.CriticalLoadFraction * s.LoadKW[t]
	}
	var b Backup
	start := make([]float64, res.Steps)
	init := 0.0
	for _, bs := range m.Batteries {
		b.CapacityKWh += bs.CapacityKWh
		b.MinKWh += bs.SoCMin * bs.CapacityKWh
		b.MaxKWh += bs.SoCMax * bs.CapacityKWh
		b.PowerKW += bs.PowerKW
		b.EtaCharge, b.EtaDischarge = bs.EtaCharge, bs.EtaDischarge
		init += bs.SoCInitial * bs.CapacityKWh
	}
	if len(m.Batteries) == 0 {
		b.EtaCharge, b.EtaDischarge = 1, 1
	}
	start[0] = init
	copy(start[1:], s.BatteryKWh[:res.Steps-1])
	durations := r.Unit.Resilience.OutageHours
	capH := 168.0
	for _, d := range durations {
		capH = math.Max(capH, float64(d))
	}
	out.Outage = Outage(crit, s.PVAvailKW, start, b, res.DtH, capH, durations)

	w := res.Water
	if w.DemandM3 > 0 {
		days := float64(res.Steps) * res.DtH / 24
		meanVol := 0.0
		for _, v := range s.WaterVolumeM3 {
			meanVol += v
		}
		meanVol /= float64(res.Steps)
		out.WaterAutonomyDays = meanVol / (w.DemandM3 / days)
	}
	out.WaterTimeReliability, out.WaterVolumetricReliability = w.TimeReliability, w.VolumetricReliability
	out.DetainedM3 = w.DetainedM3
	out.PeakImportKW = res.Energy.PeakImportKW
	mean := 0.0
	for t, p := range s.ImportKW {
		mean += p
		if t > 0 {
			out.RampingKW += math.Abs(p - s.ImportKW[t-1])
		}
	}
	mean /= float64(res.Steps)
	if out.PeakImportKW > 0 {
		out.LoadFactor = mean / out.PeakImportKW
	}
	out.OverloadHours = float64(res.Energy.OverloadSteps) * res.DtH
	return out
}

func social(r Run) Social {
	res, in, u := r.Result, r.Inputs, r.Unit
	var out Social
	returns, conflicts := 0, 0
	for _, l := range res.Parking {
		returns += l.ResidentReturns
		conflicts += l.ResidentConflicts
		out.ResidentParkingIncomeCNY += l.ResidentShareCNY
		out.VisitorsTurnedAway += l.TurnedAway
		out.VisitorsPricedOut += l.PricedOut
	}
	out.ResidentParkingAvailability = 1
	if returns > 0 {
		out.ResidentParkingAvailability = 1 - float64(conflicts)/float64(returns)
	}
	out.EVUnmetKWh = res.EV.UnmetKWh
	if res.EV.Sessions > 0 {
		out.EVSessionsUnmetShare = float64(res.EV.SessionsUnmet) / float64(res.EV.Sessions)
	}
	out.ApplianceDelayHours = res.Flex.MeanDelayHours
	out.EnergyBurden, out.HighBurdenShare = burden(in, u, res)
	return out
}

// burden prices each household group's electricity (its share of its building's
// non-shiftable load at the residential price, annualised) and water (tiered), over its income.
func burden(in *twin.Inputs, u *unit.Unit, res *twin.Result) ([]BurdenBand, float64) {
	if len(in.Households) == 0 {
		return nil, 0
	}
	years := float64(res.Steps) * res.DtH / 8760
	bldKWh := make([]float64, len(in.BuildingLoadKW))
	for b, s := range in.BuildingLoadKW {
		for _, v := range s {
			bldKWh[b] += v * res.DtH
		}
	}
	type hh struct {
		n            int
		income, cost float64
	}
	groups := make([]hh, 0, len(in.Households))
	for _, g := range in.Households {
		kwh := bldKWh[g.Building] * g.LoadShare / float64(g.Count) / years
		cost := kwh*u.Tariffs.Electricity.ResidentCNYPerKWh + u.Tariffs.Water.WaterBill(g.WaterM3PerYear)
		groups = append(groups, hh{n: g.Count, income: g.IncomeCNYPerYear, cost: cost})
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].income < groups[j].income })
	total := 0
	for _, g := range groups {
		total += g.n
	}
	bands := make([]BurdenBand, 5)
	high := 0
	seen := 0
	for _, g := range groups {
		q := min(seen*5/total, 4)
		seen += g.n
		b := &bands[q]
		b.Quintile = q + 1
		b.Households += g.n
		b.MeanIncomeCNY += g.income * float64(g.n)
		b.MeanCostCNY += g.cost * float64(g.n)
		if g.income > 0 && g.cost/g.income > 0.06 {
			high += g.n
		}
	}
	for i := range bands {
		b := &bands[i]
		b.Quintile = i + 1
		if b.Households > 0 {
			b.MeanIncomeCNY /= float64(b.Households)
			b.MeanCostCNY /= float64(b.Households)
			b.MeanBurden = b.MeanCostCNY / b.MeanIncomeCNY
		}
	}
	return bands, float64(high) / float64(total)
}
