package finance

import (
	"fmt"
	"math"
)

// OperatingYear is what the twin's settled year hands the finance engine.
type OperatingYear struct {
	Name       string
	Start      string             // first projected month, YYYY-MM
	RevenueCNY map[string]float64 // annual, by subsystem
	OpexCNY    map[string]float64 // annual, by cost line
	// MonthlyRevenueCNY gives the seasonality (twelve months, January first).
	MonthlyRevenueCNY []float64
	// Assets
	CapexCNY         float64 // productive assets' cost (PV, batteries, chargers, …)
	BatteryKWh       float64
	BatterySoHAfter  float64 // state of health after the simulated year (fade = 1 − it)
	BatteryCNYPerKWh float64
	// Terms of the structure (nil: DefaultTerms).
	Terms *Terms
}

// Terms are the levers of the default C-REIT structure a unit may set.
type Terms struct {
	HorizonMonths     int     // the operating right
	DiscountRate      float64 // DCF, also the price the asset is bought at
	TerminalCapRate   float64 // 0: the value ends with the operating right
	PayoutRatio       float64
	IssuePrice        float64 // 元 per REIT unit
	SeniorRate        float64 // floating, moved by the interest_rate driver
	SeniorDSCR        float64 // sculpting target
	SeniorMaxLTV      float64
	SeniorTenorMonths int
	MezzanineShare    float64 // of the asset value
	MezzanineRate     float64
	ReinvestShare     float64 // of equity cash
	Paths             int     // Monte Carlo
}

// DefaultTerms are the structure's defaults: a 30-year right valued at 6 %, 95 %
// payout, units at 2.50 元, a senior loan at 3.5 % sculpted to DSCR 1.35 over 15 years
// capped at 20 % LTV, a 5 % mezzanine at 6 %, 5 % of equity cash reinvested.
func DefaultTerms() Terms {
	return Terms{HorizonMonths: 360, DiscountRate: 0.06, PayoutRatio: 0.95, IssuePrice: 2.5, SeniorRate: 0.035, SeniorDSCR: 1.35,
		SeniorMaxLTV: 0.20, SeniorTenorMonths: 180, MezzanineShare: 0.05, MezzanineRate: 0.06, ReinvestShare: 0.05, Paths: 2000}
}

// CommunityDeal is the default C-REIT structure for a community operating unit, with
// the levers in op.Terms (DefaultTerms when nil): an operating right priced at its DCF
// value, funded by a senior loan sculpted to a target DSCR (capped by LTV), a mezzanine
// shareholder loan and REIT units; a six-month DSRA, a capex reserve for the batteries,
// a liquidity facility, a cash trap below DSCR 1.15 and a sequential switch below 1.05;
// payout once a year; eight correlated risk drivers.
func CommunityDeal(op OperatingYear) (*Deal, error) {
	if len(op.RevenueCNY) == 0 {
		return nil, fmt.Errorf("finance: the operating year has no revenue")
	}
	t := DefaultTerms()
	if op.Terms != nil {
		t = *op.Terms
	}
	if t.HorizonMonths < 24 || t.SeniorTenorMonths < 12 || t.SeniorTenorMonths > t.HorizonMonths {
		return nil, fmt.Errorf("finance: terms: horizon %d months and senior tenor %d months: need 24 ≤ horizon and 12 ≤ tenor ≤ horizon", t.HorizonMonths, t.SeniorTenorMonths)
	}
	d := &Deal{Name: op.Name, Start: op.Start, Months: t.HorizonMonths}
	o := &Operating{RevenueCNY: op.RevenueCNY, OpexCNY: op.OpexCNY, OpexInflation: 0.025,
		Growth: map[string]float64{"rentals": 0.02, "parking": 0.015, "ev_charging": 0.04, "*": 0.01}}
	if len(op.MonthlyRevenueCNY) == 12 {
		sum := 0.0
		for _, v := range op.MonthlyRevenueCNY {
			sum += math.Max(0, v)
		}
		if sum > 0 {
			o.Seasonality = make([]float64, 12)
			for i, v := range op.MonthlyRevenueCNY {
				o.Seasonality[i] = math.Max(0, v) / sum
			}
			fixSum(o.Seasonality)
		}
	}
	if op.BatteryKWh > 0 {
		fade := 1 - op.BatterySoHAfter
		if fade <= 0 || fade > 0.2 {
			fade = 0.02
		}
		o.Battery = &BatteryPlan{CapacityKWh: op.BatteryKWh, StartSoH: 1, FadePerYear: fade, ReplaceAtSoH: 0.8,
			CostCNYPerKWh: op.BatteryCNYPerKWh, CostDeclinePerYear: 0.03}
	}
	d.Operating = o
	// China: 6 % VAT on services as input, 12 % surcharges, 25 % income tax.
	d.Tax = Tax{InputVATRate: 0.06, SurchargeRate: 0.12, IncomeTaxRate: 0.25}
	d.Capex = Capex{InvestmentCNY: op.CapexCNY, DepreciationYears: 25, MaintenancePct: 0.02}
	d.WorkingCapital = WorkingCapital{ReceivableDays: 30, PayableDays: 30}
	d.Reinvestment = Reinvestment{Share: t.ReinvestShare, YieldPerYear: 0.12, Subsystem: "energy"}
	dr := t.DiscountRate
	d.Valuation = ValuationTerms{DiscountRate: dr, TerminalCapRate: t.TerminalCapRate, GridDiscount: []float64{dr - 0.01, dr, dr + 0.01}, GridGrowth: []float64{-0.01, 0, 0.01}}
	d.CREIT.PayoutRatio = t.PayoutRatio
	d.Risk = Risk{Paths: t.Paths, Seed: 1, CFaRYears: 3, Drivers: defaultDrivers(), Correlation: defaultCorrelation()}
	d.Tranches = []TrancheSpec{
		{Name: "senior", Kind: "debt", Rate: t.SeniorRate, Floating: true, Amortization: "sculpted"},
		{Name: "mezzanine", Kind: "debt", Rate: t.MezzanineRate, Amortization: "level", TermMonths: min(240, t.HorizonMonths)},
		{Name: "reit_units", Kind: "equity"},
	}
	d.Debt = &DebtSizing{Tranche: "senior", Method: "sculpted", TargetDSCR: t.SeniorDSCR, TenorMonths: t.SeniorTenorMonths, MaxLTV: t.SeniorMaxLTV, CovenantDSCR: 1.1}
	d.Reserves = []ReserveSpec{
		{Name: "dsra", Target: ReserveTarget{Kind: "months_of_debt_service", Months: 6, Tranches: []string{"senior"}}, Covers: []string{"senior"}},
		{Name: "trap", Target: ReserveTarget{Kind: "none"}, Trap: true, Covers: []string{"senior", "mezzanine"}},
	}
	if o.Battery != nil && op.BatteryCNYPerKWh > 0 {
		// A capex reserve holding the batteries' replacement cost at today's price,
		// funded at close and refilled from equity cash; it also covers the mezzanine.
		c := FenFromYuan(op.BatteryKWh * op.BatteryCNYPerKWh)
		d.Reserves = append(d.Reserves, ReserveSpec{Name: "capex", Initial: c, Target: ReserveTarget{Kind: "fixed", Amount: c},
			Covers: []string{"operating", "mezzanine"}})
	}
	d.Fees = []FeeSpec{{Name: "manager", Monthly: 0, RateOnDebt: 0.002}}
	d.Triggers = []TriggerSpec{
		{Name: "cash_trap", Metric: "dscr", Op: "<", Value: 1.15, Action: "trap_cash", CurePeriods: 6},
		{Name: "sequential", Metric: "dscr", Op: "<", Value: 1.05, Action: "sequential", CurePeriods: 12},
	}
	d.Waterfall = []Step{
		{Pay: "fee", Fee: "manager"},
		{Pay: "liquidity"},
		{Pay: "interest", Tranches: []string{"senior"}},
		{Pay: "principal", Tranches: []string{"senior"}, Mode: "sequential"},
		{Pay: "reserve", Reserve: "dsra"},
		{Pay: "interest", Tranches: []string{"mezzanine"}},
		{Pay: "principal", Tranches: []string{"mezzanine"}, Mode: "sequential"},
	}
	if len(d.Reserves) > 2 {
		d.Waterfall = append(d.Waterfall, Step{Pay: "reserve", Reserve: "capex"})
	}
	d.Waterfall = append(d.Waterfall, Step{Pay: "equity"})
	d.Defaults()
	// Price the asset at its DCF value (unlevered, no structure), then size the debt on it.
	plain := *d
	plain.Tranches = []TrancheSpec{{Name: "equity", Kind: "equity"}}
	plain.Debt, plain.Reserves, plain.Fees, plain.Triggers, plain.Liquidity = nil, nil, nil, nil, nil
	plain.Waterfall = []Step{{Pay: "equity"}}
	plain.Capex.InvestmentCNY = 0
	m, err := compile(&plain)
	if err != nil {
		return nil, err
	}
	s := newSim(m, false)
	if err := s.run(nil); err != nil {
		return nil, err
	}
	value := math.Round(s.out.value)
	if value <= 0 {
		return nil, fmt.Errorf("finance: the operating year's cash flow has no positive value (DCF %.0f)", value)
	}
	// The price sets the depreciation, whose tax shield changes the value: iterate.
	for range 4 {
		plain.Capex.InvestmentCNY = value
		if m, err = compile(&plain); err != nil {
			return nil, err
		}
		s = newSim(m, false)
		if err := s.run(nil); err != nil {
			return nil, err
		}
		value = math.Round(s.out.value)
	}
	// The asset is bought at its value; the productive capex sets the depreciable base
	// when it is known, else the price does.
	d.Capex.InvestmentCNY = value
	// Size the senior now to fix the equity raise and the facility.
	sized := cloneDeal(d)
	ms, err := compile(sized)
	if err != nil {
		return nil, err
	}
	if _, err := ms.schedules(); err != nil {
		return nil, err
	}
	senior := ms.tr[0].bal0
	mezz := FenFromYuan(value * t.MezzanineShare)
	d.Tranches[1].Balance = mezz
	// The DSRA is funded at close with six months of the senior's first debt service.
	ds := senior.MulRate(ms.tr[0].rate/12) + senior - ms.tr[0].sched[0]
	d.Reserves[0].Initial = ds * 6
	equity := FenFromYuan(value) - senior - mezz
	for _, r := range d.Reserves {
		equity += r.Initial
	}
	if equity <= 0 {
		return nil, fmt.Errorf("finance: debt leaves no equity")
	}
	price := t.IssuePrice
	d.CREIT.IssuePrice = price
	d.CREIT.Units = int64(math.Round(equity.Yuan() / price))
	d.Tranches[2].Balance = equity
	d.Liquidity = &LiquiditySpec{Limit: senior.MulRate(0.03), Rate: 0.04, Covers: []string{"senior"}}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("finance: default deal: %w", err)
	}
	return d, nil
}

func fixSum(v []float64) {
	s := 0.0
	for _, x := range v[:len(v)-1] {
		s += x
	}
	v[len(v)-1] = 1 - s
}

// defaultDrivers are the eight risk drivers with marginals from the references where
// they give one (occupancy 95.9–97.0 % observed around a 93.6 % forecast for 京保REIT;
// the rest are stated assumptions a user should replace with their own).
func defaultDrivers() []DriverSpec {
	return []DriverSpec{
		{Name: "occupancy", Marginal: Marginal{Dist: "triangular", Min: 0.9, Mode: 1.0, Max: 1.04}, Persistence: 0.7},
		{Name: "rent_growth", Marginal: Marginal{Dist: "normal", Mean: 0, SD: 0.01}, Persistence: 0.5},
		{Name: "spread", Marginal: Marginal{Dist: "lognormal", Mean: 1, SD: 0.15}, Persistence: 0.6},
		{Name: "parking_demand", Marginal: Marginal{Dist: "lognormal", Mean: 1, SD: 0.08}, Persistence: 0.6},
		{Name: "ev_adoption", Marginal: Marginal{Dist: "normal", Mean: 0, SD: 0.03}, Persistence: 0.5},
		{Name: "outage", Marginal: Marginal{Dist: "bernoulli", P: 0.05, Size: 0.08}},
		{Name: "degradation", Marginal: Marginal{Dist: "uniform", Min: 0.8, Max: 1.3}, Persistence: 0.8},
		{Name: "interest_rate", Marginal: Marginal{Dist: "normal", Mean: 0, SD: 0.006}, Persistence: 0.9},
	}
}

// defaultCorrelation: occupancy, rent growth and parking demand move together (local
// demand); the spread and EV adoption together (electrification); rates against demand.
func defaultCorrelation() [][]float64 {
	c := [][]float64{
		{1, 0.5, 0, 0.4, 0.1, 0, 0, -0.2},
		{0.5, 1, 0, 0.3, 0.1, 0, 0, 0.2},
		{0, 0, 1, 0, 0.3, 0, 0, 0},
		{0.4, 0.3, 0, 1, 0.2, 0, 0, -0.1},
		{0.1, 0.1, 0.3, 0.2, 1, 0, 0, 0},
		{0, 0, 0, 0, 0, 1, 0, 0},
		{0, 0, 0, 0, 0, 0, 1, 0},
		{-0.2, 0.2, 0, -0.1, 0, 0, 0, 1},
	}
	return c
}
