package finance

import (
	"context"
	"fmt"
	"math"
	"strconv"
)

// Options control a run.
type Options struct {
	Paths    int    // Monte Carlo paths (0: the deal's risk.paths; no risk block if both 0)
	Seed     uint64 // master seed (0: the deal's risk.seed)
	Workers  int    // 0: all cores
	Monthly  bool   // include every month of the base case in the result
	Progress func(stage string, done, total int)
}

// Result is result.json.
type Result struct {
	Deal           string          `json:"deal"`
	Start          string          `json:"start"`
	Months         int             `json:"months"`
	Projection     []YearRow       `json:"projection"`
	Valuation      Valuation       `json:"valuation"`
	CREIT          CREITView       `json:"creit"`
	Debt           *DebtView       `json:"debt_sizing,omitempty"`
	Risk           *RiskView       `json:"risk,omitempty"`
	Tranches       []TrancheView   `json:"tranches"`
	Securitisation *Securitisation `json:"securitisation,omitempty"`
	// Conservation: every month of the base case (and of every Monte Carlo path, where
	// a violation stops the run) balanced to the fen.
	Conservation Conservation `json:"conservation"`
	Monthly      []Month      `json:"monthly,omitempty"`
}

// Conservation reports the cash identity check.
type Conservation struct {
	Periods    int `json:"periods_checked"`
	Violations int `json:"violations"`
}

// YearRow is one year of the base-case projection.
type YearRow struct {
	Year                 int      `json:"year"`
	Period               string   `json:"period"`
	Revenue              Fen      `json:"revenue"`
	Opex                 Fen      `json:"opex"`
	EBITDA               Fen      `json:"ebitda"`
	DA                   Fen      `json:"depreciation"`
	InterestExpense      Fen      `json:"interest_expense"`
	IncomeTax            Fen      `json:"income_tax"`
	NetProfit            Fen      `json:"net_profit"`
	Capex                Fen      `json:"capex"`
	WorkingCapitalChange Fen      `json:"working_capital_change"`
	CFADS                Fen      `json:"cfads"`
	Fees                 Fen      `json:"fees"`
	DebtService          Fen      `json:"debt_service"`
	Distributable        Fen      `json:"distributable"`
	Distribution         Fen      `json:"distribution"`
	Reinvested           Fen      `json:"reinvested"`
	DSCR                 *float64 `json:"dscr"`
	ClosingDebt          Fen      `json:"closing_debt"`
	Bridge               Bridge   `json:"bridge"`
}

// Valuation is the DCF income approach.
type Valuation struct {
	DiscountRate    float64 `json:"discount_rate"`
	TerminalCapRate float64 `json:"terminal_cap_rate"`
	Value           Fen     `json:"asset_value"`
	Investment      Fen     `json:"investment"`
	NPV             Fen     `json:"npv"`
	NAV             Fen     `json:"nav"`
	NAVPerUnit      float64 `json:"nav_per_unit"`
	// IRR is the unitholders' IRR on the issue amount; ProjectIRR the asset's unlevered
	// IRR on the investment.
	IRR        *float64 `json:"irr"`
	ProjectIRR *float64 `json:"project_irr"`
	// IRRNote says why an IRR is null (no sign change, no convergence).
	IRRNote     string       `json:"irr_note,omitempty"`
	Sensitivity *Sensitivity `json:"sensitivity,omitempty"`
}

// Sensitivity is the asset value over discount rates × annual growth shifts.
type Sensitivity struct {
	DiscountRates []float64 `json:"discount_rates"`
	GrowthShifts  []float64 `json:"growth_shifts"`
	Value         [][]Fen   `json:"value"`
}

// CREITView is the fund's first full year as a C-REIT reports it.
type CREITView struct {
	Year                int     `json:"year"`
	DistributableAmount Fen     `json:"distributable_amount"`
	Distribution        Fen     `json:"distribution"`
	IssueAmount         Fen     `json:"issue_amount"`
	Units               int64   `json:"units"`
	IssuePrice          float64 `json:"issue_price"`
	DistributionRate    float64 `json:"distribution_rate"`
	DistributionRateNAV float64 `json:"distribution_rate_on_nav"`
	NAVPerUnit          float64 `json:"nav_per_unit"`
	TotalAssets         Fen     `json:"total_assets"`
	NetAssets           Fen     `json:"net_assets"`
	AssetsToNetAssets   float64 `json:"assets_to_net_assets"`
	PayoutRatio         float64 `json:"payout_ratio"`
	Bridge              Bridge  `json:"bridge"`
	Checks              []Check `json:"checks"`
}

// TrancheView is a tranche's base-case cash flows and Monte Carlo risk.
type TrancheView struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Balance  Fen      `json:"balance"`
	Rate     float64  `json:"rate"`
	Received Fen      `json:"received"`
	WALYears float64  `json:"wal_years"`
	IRR      *float64 `json:"irr"`
	IRRNote  string   `json:"irr_note,omitempty"`
	PD       float64  `json:"pd"`
	EL       float64  `json:"el"`
	// BaseShortfall is true when the base case itself leaves the tranche short.
	BaseShortfall bool `json:"base_case_shortfall"`
}

// Securitisation holds the root finders' answers.
type Securitisation struct {
	// BreakevenHaircut is the revenue haircut at which the senior tranche first falls
	// short in the base case.
	BreakevenHaircut *float64 `json:"breakeven_revenue_haircut"`
	SeniorTranche    string   `json:"senior_tranche"`
	// MaxSeniorForEL is the largest senior balance whose Monte Carlo EL is at most the
	// target (same paths and seed for every size).
	TargetEL       float64 `json:"target_el,omitempty"`
	MaxSeniorForEL *Fen    `json:"max_senior_for_el,omitempty"`
}

// Run projects, values, sizes, stresses and structures a deal. The deal must have been
// decoded (defaults applied and validated); Run does not modify it.
func Run(ctx context.Context, d *Deal, opt Options) (*Result, error) {
	dd := cloneDeal(d)
	m, err := compile(dd)
	if err != nil {
		return nil, err
	}
	progress := func(stage string, done, total int) {
		if opt.Progress != nil {
			opt.Progress(stage, done, total)
		}
	}
	progress("projection", 0, 1)
	debtView, err := m.schedules()
	if err != nil {
		return nil, err
	}
	base := newSim(m, true)
	if err := base.run(nil); err != nil {
		return nil, err
	}
	res := &Result{Deal: d.Name, Start: d.Start, Months: d.Months, Debt: debtView}
	res.Conservation.Periods = len(base.out.rows)
	for _, r := range base.out.rows {
		if r.In-r.Out != r.Delta {
			res.Conservation.Violations++
		}
	}
	res.Projection = m.annualRows(base)
	if opt.Monthly {
		res.Monthly = base.out.rows
	}
	if debtView != nil {
		debtView.MinDSCR = base.out.minDSCR
		if math.IsInf(debtView.MinDSCR, 1) {
			debtView.MinDSCR = 0
		}
	}
	res.Valuation = m.valuation(base)
	if len(d.Valuation.GridDiscount) > 0 {
		if res.Valuation.Sensitivity, err = m.sensitivity(dd); err != nil {
			return nil, err
		}
	}
	res.CREIT = m.creitView(res)
	res.Tranches = m.trancheViews(base)
	progress("projection", 1, 1)

	paths, seed := opt.Paths, opt.Seed
	if paths == 0 {
		paths = d.Risk.Paths
	}
	if seed == 0 {
		seed = d.Risk.Seed
	}
	if paths > 0 {
		mc, err := m.monteCarlo(ctx, paths, seed, opt.Workers, func(done, total int) { progress("monte_carlo", done, total) })
		if err != nil {
			return nil, err
		}
		res.Risk = mc.view(m, seed)
		for i := range res.Tranches {
			if !m.tr[i].equity {
				res.Tranches[i].PD, res.Tranches[i].EL = mc.trancheRisk(i, len(m.tr))
			}
		}
	}
	if sec, err := m.securitise(ctx, dd, paths, seed, opt.Workers, progress); err != nil {
		return nil, err
	} else {
		res.Securitisation = sec
	}
	return res, nil
}

func cloneDeal(d *Deal) *Deal {
	c := *d
	c.Tranches = append([]TrancheSpec(nil), d.Tranches...)
	if d.Debt != nil {
		x := *d.Debt
		c.Debt = &x
	}
	return &c
}

// years folds the base case's months into annual rows with the C-REIT bridge.
func (m *model) annualRows(base *sim) []YearRow {
	o := base.out
	var rows []YearRow
	for y := 0; y < m.years; y++ {
		r := YearRow{Year: y + 1, Period: strconv.Itoa(m.d.StartTime().Year() + y)}
		if m.startMoY != 0 {
			r.Period = m.d.StartTime().AddDate(y, 0, 0).Format("2006-01") + "+12m"
		}
		var intPaid, prinPaid, draws, deposits, liqDraw, liqRepay, sponsor, opening Fen
		for t := y * 12; t < (y+1)*12 && t < len(o.rows); t++ {
			mo := o.rows[t]
			r.Revenue += mo.Revenue
			r.Opex += mo.Opex
			r.EBITDA += mo.EBITDA
			r.DA += mo.DA
			r.InterestExpense += mo.InterestExpense
			r.IncomeTax += mo.Tax
			r.NetProfit += mo.NetProfit
			r.Capex += mo.Capex
			r.WorkingCapitalChange += mo.WorkingCapitalChange
			r.CFADS += mo.CFADS
			r.Fees += mo.Fees
			r.Distributable += mo.ToEquity - mo.Reinvested
			r.Distribution += mo.Distributed
			r.Reinvested += mo.Reinvested
			for i := range mo.Interest {
				intPaid += mo.Interest[i]
				prinPaid += mo.Principal[i]
			}
			for i := range mo.ReserveDraw {
				draws += mo.ReserveDraw[i]
				deposits += mo.ReserveDeposit[i]
			}
			liqDraw += mo.LiquidityDraw
			liqRepay += mo.LiquidityRepay
			sponsor += mo.Sponsor
			opening += mo.OpeningCash
		}
		if last := min((y+1)*12, len(o.rows)) - 1; last >= 0 {
			for _, i := range m.debtIdx {
				r.ClosingDebt += o.rows[last].Balance[i]
			}
		}
		r.DebtService = intPaid + prinPaid
		if !math.IsNaN(o.dscr[y]) {
			v := math.Round(o.dscr[y]*1e4) / 1e4
			r.DSCR = &v
		}
		in := BridgeInput{NetProfit: r.NetProfit, DA: r.DA, Interest: r.InterestExpense, IncomeTax: r.IncomeTax}
		if m.cash != nil { // given cash flows: the bridge starts from them
			in = BridgeInput{NetProfit: r.CFADS}
		} else {
			in.Adjustments = []Adjustment{
				{Name: AdjCapex, Amount: -r.Capex},
				{Name: AdjWorkingCapital, Amount: -r.WorkingCapitalChange},
				{Name: AdjTaxPaid, Amount: -r.IncomeTax},
			}
		}
		in.Adjustments = append(in.Adjustments,
			Adjustment{Name: AdjInterestPaid, Amount: -(intPaid + r.Fees)},
			Adjustment{Name: AdjDebtRepaid, Amount: -(prinPaid + liqRepay)},
			Adjustment{Name: AdjDebtDrawn, Amount: liqDraw},
			Adjustment{Name: AdjReserves, Amount: draws - deposits},
			Adjustment{Name: AdjOpeningCash, Amount: opening},
			Adjustment{Name: AdjOther, Amount: sponsor},
			Adjustment{Name: "reinvestment", Amount: -r.Reinvested})
		r.Bridge = ComputeBridge(in)
		rows = append(rows, r)
	}
	return rows
}

func (m *model) valuation(base *sim) Valuation {
	d := m.d
	v := Valuation{DiscountRate: d.Valuation.DiscountRate, TerminalCapRate: d.Valuation.TerminalCapRate,
		Value: FenFromYuan(base.out.value), Investment: FenFromYuan(d.Capex.InvestmentCNY)}
	v.NPV = v.Value - v.Investment
	v.NAV = FenFromYuan(base.out.value + m.nav0())
	if d.CREIT.Units > 0 {
		v.NAVPerUnit = math.Round(v.NAV.Yuan()/float64(d.CREIT.Units)*1e4) / 1e4
	}
	if issue := m.issueAmount(); issue > 0 && base.out.equityCash != nil {
		cash := append([]float64{-issue.Yuan()}, base.out.equityCash...)
		cash[len(cash)-1] += m.terminalValue(base)
		if irr, err := IRRMonthly(cash); err == nil {
			v.IRR = &irr
		} else {
			v.IRRNote = "unitholders' IRR: " + err.Error()
		}
	}
	if inv := d.Capex.InvestmentCNY; inv > 0 {
		cash := []float64{-inv}
		for _, r := range base.out.rows {
			cash = append(cash, r.CFADS.Yuan())
		}
		cash[len(cash)-1] += m.terminalValue(base)
		if irr, err := IRRMonthly(cash); err == nil {
			v.ProjectIRR = &irr
		} else {
			v.IRRNote += "; project IRR: " + err.Error()
		}
	}
	return v
}

// terminalValue is the asset's value at the horizon: the last twelve months' CFADS
// capitalised at the terminal cap rate, or nothing when the operating right ends. It is
// also the unitholders' claim then: debt is repaid, or lost, by its legal final.
func (m *model) terminalValue(base *sim) float64 {
	c := m.d.Valuation.TerminalCapRate
	if c <= 0 {
		return 0
	}
	rows := base.out.rows
	s := 0.0
	for _, r := range rows[max(0, len(rows)-12):] {
		s += r.CFADS.Yuan()
	}
	return s / c
}

func (m *model) sensitivity(d *Deal) (*Sensitivity, error) {
	shifts := d.Valuation.GridGrowth
	if len(shifts) == 0 {
		shifts = []float64{0}
	}
	s := &Sensitivity{DiscountRates: d.Valuation.GridDiscount, GrowthShifts: shifts}
	for _, r := range d.Valuation.GridDiscount {
		if r <= 0 || r >= 1 {
			return nil, fmt.Errorf("valuation.grid_discount_rates: %g must be in (0, 1)", r)
		}
		var row []Fen
		for _, g := range shifts {
			c := cloneDeal(d)
			c.Valuation.DiscountRate = r
			c.Valuation.GridDiscount = nil
			if c.Operating != nil {
				op := *c.Operating
				op.Growth = map[string]float64{}
				for _, k := range sortedKeys(op.RevenueCNY) {
					op.Growth[k] = lookup(d.Operating.Growth, k) + g
				}
				c.Operating = &op
			}
			mm, err := compile(c)
			if err != nil {
				return nil, err
			}
			if _, err := mm.schedules(); err != nil {
				return nil, err
			}
			sm := newSim(mm, false)
			if err := sm.run(nil); err != nil {
				return nil, err
			}
			row = append(row, FenFromYuan(sm.out.value))
		}
		s.Value = append(s.Value, row)
	}
	return s, nil
}

func (m *model) creitView(res *Result) CREITView {
	d := m.d
	y1 := res.Projection[0]
	c := CREITView{Year: 1, DistributableAmount: y1.Distributable, Distribution: y1.Distribution, IssueAmount: m.issueAmount(),
		Units: d.CREIT.Units, IssuePrice: d.CREIT.IssuePrice, Bridge: y1.Bridge}
	if c.IssueAmount > 0 {
		c.DistributionRate = y1.Distribution.Yuan() / c.IssueAmount.Yuan()
	}
	nav := res.Valuation.NAV
	if nav > 0 {
		c.DistributionRateNAV = y1.Distribution.Yuan() / nav.Yuan()
	}
	c.NAVPerUnit = res.Valuation.NAVPerUnit
	var reserves, debt Fen
	for _, r := range m.res {
		reserves += r.spec.Initial
	}
	for _, i := range m.debtIdx {
		debt += m.tr[i].bal0
	}
	c.TotalAssets = res.Valuation.Value + reserves
	c.NetAssets = c.TotalAssets - debt
	c.AssetsToNetAssets = AssetsToNetAssets(c.TotalAssets, c.NetAssets)
	c.PayoutRatio = PayoutRatio(y1.Distribution, y1.Distributable)
	metrics := map[string]float64{
		MetricPayoutRatio:          c.PayoutRatio,
		MetricDistributionsPerYear: float64(d.CREIT.DistributionsPerYear),
		MetricInfraAssetShare:      d.CREIT.InfraAssetShare,
		MetricDistributionRate:     c.DistributionRate,
		MetricAssetsToNetAssets:    c.AssetsToNetAssets,
	}
	if res.Valuation.ProjectIRR != nil {
		metrics[MetricProjectIRR] = *res.Valuation.ProjectIRR
	}
	rules := append([]Rule(nil), d.CREIT.Rules...)
	for i := range rules {
		for _, id := range d.CREIT.EnableRules {
			if rules[i].ID == id {
				rules[i].Enabled = true
			}
		}
	}
	c.Checks = Evaluate(rules, metrics, d.StartTime())
	return c
}

func (m *model) trancheViews(base *sim) []TrancheView {
	var out []TrancheView
	for i, t := range m.tr {
		tv := TrancheView{Name: t.name, Kind: m.d.Tranches[i].Kind, Balance: t.bal0, Rate: t.rate, BaseShortfall: base.out.shortfall[i]}
		if t.equity {
			tv.Balance = m.issueAmount()
			var sum Fen
			for _, r := range base.out.rows {
				sum += r.Distributed
			}
			tv.Received = sum
			if tv.Balance > 0 {
				cash := append([]float64{-tv.Balance.Yuan()}, base.out.equityCash...)
				cash[len(cash)-1] += m.terminalValue(base)
				if irr, err := IRRMonthly(cash); err == nil {
					tv.IRR = &irr
				}
			}
			out = append(out, tv)
			continue
		}
		cash := []float64{-t.bal0.Yuan()}
		var wsum, psum float64
		var recv Fen
		for k, r := range base.out.rows {
			c := r.Interest[i] + r.Principal[i]
			recv += c
			cash = append(cash, c.Yuan())
			wsum += float64(k+1) * r.Principal[i].Yuan()
			psum += r.Principal[i].Yuan()
		}
		tv.Received = recv
		if psum > 0 {
			tv.WALYears = math.Round(wsum/psum/12*1e4) / 1e4
		}
		if t.bal0 > 0 {
			if irr, err := IRRMonthly(cash); err == nil {
				tv.IRR = &irr
			} else {
				tv.IRRNote = err.Error()
			}
			if base.out.shortfall[i] {
				tv.PD = 1
			}
			tv.EL = lossFraction(base.out.pvRecv[i], t.bal0.Yuan())
		}
		out = append(out, tv)
	}
	return out
}

// lossFraction is a tranche's PV loss over its balance, with float noise below 1e-9 of
// the balance treated as none.
func lossFraction(pv, bal float64) float64 {
	l := 1 - pv/bal
	if l < 1e-9 {
		return 0
	}
	return l
}
