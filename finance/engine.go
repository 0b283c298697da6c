package finance

import (
	"fmt"
	"math"
	"strings"
)

// Subsystem kinds, by which drivers act on revenue.
const (
	kGeneric = iota
	kEnergy
	kEV
	kParking
	kRentals
)

type subsys struct {
	name   string
	base   float64 // monthly base revenue (yuan, gross of VAT)
	growth float64
	vat    float64
	kind   int
}

type trancheM struct {
	name     string
	equity   bool
	bal0     Fen
	rate     float64 // annual coupon
	floating bool
	pass     bool  // pass_through: all available cash is principal due
	sched    []Fen // scheduled balance at the end of each month
	legal    int   // month index at whose end any balance left is a loss
	covers   []int // reserves covering it, in order
	liq      bool  // covered by the liquidity facility
}

type reserveM struct {
	spec      ReserveSpec
	tranches  []int
	operating bool
}

type stepM struct {
	kind     int
	fee      int
	tranches []int
	proRata  bool
	reserve  int
}

const (
	sFee = iota
	sInterest
	sPrincipal
	sReserve
	sLiquidity
	sEquity
)

type trigM struct {
	spec   TriggerSpec
	dep    int // trigger index for trigger:NAME, else −1
	metric int
}

const (
	mDSCR = iota
	mShortfall
	mReserve
	mTrigger
)

// model is a deal compiled for fast, allocation-free runs.
type model struct {
	d              *Deal
	months, years  int
	startMoY       int
	cash           []Fen
	subs           []subsys
	season         [12]float64
	opex           float64
	infl           float64
	vatIn, sur     float64
	cit            float64
	depMonthly     float64
	depMonths      int
	maint          float64
	recv, pay      float64
	reinvShare     float64
	reinvYield     float64
	reinvSub       int
	battery        *BatteryPlan
	tr             []trancheM
	debtIdx        []int
	equity         int
	res            []reserveM
	trap           int
	liq            *LiquiditySpec
	fees           []FeeSpec
	steps          []stepM
	trig           []trigM // evaluation order
	baseDrivers    []float64
	riskIdx        []int
	distEvery      int
	payout         float64
	revenueHaircut float64 // breakeven stress: revenue × (1 − haircut)
}

func compile(d *Deal) (*model, error) {
	m := &model{d: d, months: d.Months, years: (d.Months + 11) / 12, equity: -1, trap: -1}
	m.startMoY = int(d.StartTime().Month()) - 1
	m.cash = d.CashFlows
	if o := d.Operating; o != nil {
		for _, name := range sortedKeys(o.RevenueCNY) {
			s := subsys{name: name, base: o.RevenueCNY[name] / 12, growth: lookup(o.Growth, name), vat: lookup(d.Tax.VATRate, name)}
			switch name {
			case "energy":
				s.kind = kEnergy
			case "ev_charging":
				s.kind = kEV
			case "parking":
				s.kind = kParking
			case "rentals":
				s.kind = kRentals
			}
			m.subs = append(m.subs, s)
		}
		for i := range m.season {
			m.season[i] = 1
			if o.Seasonality != nil {
				m.season[i] = o.Seasonality[i] * 12
			}
		}
		for _, v := range o.OpexCNY {
			m.opex += v / 12
		}
		m.infl = o.OpexInflation
		m.battery = o.Battery
		m.reinvSub = -1
		for i, s := range m.subs {
			if s.name == d.Reinvestment.Subsystem || (d.Reinvestment.Subsystem == "" && s.kind == kEnergy) {
				m.reinvSub = i
			}
		}
		if m.reinvSub < 0 && len(m.subs) > 0 {
			m.reinvSub = 0
		}
	}
	m.vatIn, m.sur, m.cit = d.Tax.InputVATRate, d.Tax.SurchargeRate, d.Tax.IncomeTaxRate
	m.depMonths = int(math.Round(d.Capex.DepreciationYears * 12))
	m.depMonthly = d.Capex.InvestmentCNY / float64(m.depMonths)
	m.maint = d.Capex.MaintenancePct
	m.recv = d.WorkingCapital.ReceivableDays * 12 / 365
	m.pay = d.WorkingCapital.PayableDays * 12 / 365
	m.reinvShare, m.reinvYield = d.Reinvestment.Share, d.Reinvestment.YieldPerYear
	m.payout = d.CREIT.PayoutRatio
	m.distEvery = 12 / d.CREIT.DistributionsPerYear

	tidx := map[string]int{}
	for i, t := range d.Tranches {
		tidx[t.Name] = i
		tm := trancheM{name: t.Name, equity: t.Kind == "equity", bal0: t.Balance, rate: t.Rate, floating: t.Floating,
			pass: t.Amortization == "pass_through", legal: t.LegalMonths - 1}
		if tm.equity {
			m.equity = i
		} else {
			m.debtIdx = append(m.debtIdx, i)
		}
		m.tr = append(m.tr, tm)
	}
	ridx := map[string]int{}
	for i, r := range d.Reserves {
		ridx[r.Name] = i
		rm := reserveM{spec: r}
		for _, n := range r.Target.Tranches {
			rm.tranches = append(rm.tranches, tidx[n])
		}
		for _, n := range r.Covers {
			if n == "operating" {
				rm.operating = true
				continue
			}
			m.tr[tidx[n]].covers = append(m.tr[tidx[n]].covers, i)
		}
		if r.Trap {
			m.trap = i
		}
		m.res = append(m.res, rm)
	}
	if l := d.Liquidity; l != nil {
		m.liq = l
		for _, n := range l.Covers {
			m.tr[tidx[n]].liq = true
		}
	}
	m.fees = d.Fees
	fidx := map[string]int{}
	for i, f := range d.Fees {
		fidx[f.Name] = i
	}
	for _, s := range d.Waterfall {
		sm := stepM{}
		switch s.Pay {
		case "fee":
			sm.kind, sm.fee = sFee, fidx[s.Fee]
		case "interest":
			sm.kind = sInterest
		case "principal":
			sm.kind, sm.proRata = sPrincipal, s.Mode == "pro_rata"
		case "reserve":
			sm.kind, sm.reserve = sReserve, ridx[s.Reserve]
		case "liquidity":
			sm.kind = sLiquidity
		case "equity":
			sm.kind = sEquity
		}
		for _, n := range s.Tranches {
			sm.tranches = append(sm.tranches, tidx[n])
		}
		m.steps = append(m.steps, sm)
	}
	if err := m.orderTriggers(); err != nil {
		return nil, err
	}
	m.baseDrivers = make([]float64, m.years*nDrivers)
	for y := 0; y < m.years; y++ {
		for k := 0; k < nDrivers; k++ {
			v := 0.0
			if driverIsFactor[k] {
				v = 1
			}
			if d.Operating != nil {
				if p, ok := d.Operating.DriverPaths[driverNames[k]]; ok {
					if y >= len(p) {
						return nil, fmt.Errorf("operating.driver_paths.%s: no value for year %d", driverNames[k], y+1)
					}
					v = p[y]
				}
			}
			m.baseDrivers[y*nDrivers+k] = v
		}
	}
	for _, dr := range d.Risk.Drivers {
		m.riskIdx = append(m.riskIdx, driverIndex(dr.Name))
	}
	for i := range m.tr {
		if !m.tr[i].equity {
			m.tr[i].sched = make([]Fen, m.months)
		}
	}
	return m, nil
}

func lookup(m map[string]float64, k string) float64 {
	if v, ok := m[k]; ok {
		return v
	}
	return m["*"]
}

func (m *model) orderTriggers() error {
	specs := m.d.Triggers
	idx := map[string]int{}
	for i, t := range specs {
		idx[t.Name] = i
	}
	state := make([]int, len(specs)) // 0 new, 1 visiting, 2 done
	var visit func(i int, path []string) error
	visit = func(i int, path []string) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("triggers: circular: %s → %s", strings.Join(path, " → "), specs[i].Name)
		case 2:
			return nil
		}
		state[i] = 1
		t := trigM{spec: specs[i], dep: -1}
		switch {
		case t.spec.Metric == "dscr":
			t.metric = mDSCR
		case t.spec.Metric == "cumulative_shortfall":
			t.metric = mShortfall
		case t.spec.Metric == "reserve_shortfall":
			t.metric = mReserve
		default:
			t.metric = mTrigger
			dep := idx[strings.TrimPrefix(t.spec.Metric, "trigger:")]
			if err := visit(dep, append(path, specs[i].Name)); err != nil {
				return err
			}
		}
		state[i] = 2
		m.trig = append(m.trig, t)
		return nil
	}
	for i := range specs {
		if err := visit(i, nil); err != nil {
			return err
		}
	}
	// Resolve trigger:NAME to positions in evaluation order.
	pos := map[string]int{}
	for i, t := range m.trig {
		pos[t.spec.Name] = i
	}
	for i := range m.trig {
		if m.trig[i].metric == mTrigger {
			m.trig[i].dep = pos[strings.TrimPrefix(m.trig[i].spec.Metric, "trigger:")]
		}
	}
	return nil
}

// Month is one period of a recorded run: the projection, the waterfall and the balances
// after it. Amounts are exact fen.
type Month struct {
	Month                int    `json:"month"`
	Period               string `json:"period"`
	Revenue              Fen    `json:"revenue"`
	Opex                 Fen    `json:"opex"`
	EBITDA               Fen    `json:"ebitda"`
	DA                   Fen    `json:"depreciation"`
	Tax                  Fen    `json:"income_tax"`
	Capex                Fen    `json:"capex"`
	WorkingCapitalChange Fen    `json:"working_capital_change"`
	CFADS                Fen    `json:"cfads"`
	Sponsor              Fen    `json:"sponsor_support"`

	Fees      Fen   `json:"fees_paid"`
	Interest  []Fen `json:"interest_paid"`
	Principal []Fen `json:"principal_paid"`
	Shortfall []Fen `json:"interest_shortfall"`
	Loss      []Fen `json:"principal_loss"`
	Balance   []Fen `json:"balance"`

	ReserveDraw    []Fen `json:"reserve_draw"`
	ReserveDeposit []Fen `json:"reserve_deposit"`
	ReserveBalance []Fen `json:"reserve_balance"`
	LiquidityDraw  Fen   `json:"liquidity_draw"`
	LiquidityRepay Fen   `json:"liquidity_repay"`
	LiquidityDrawn Fen   `json:"liquidity_drawn"`

	ToEquity    Fen      `json:"to_equity"`
	Reinvested  Fen      `json:"reinvested"`
	Distributed Fen      `json:"distributed"`
	Cash        Fen      `json:"cash"`
	OpeningCash Fen      `json:"opening_cash"`
	DistAccount Fen      `json:"distribution_account"`
	Triggers    []string `json:"triggers_on,omitempty"`

	// In and Out are the period's external cash in and out; Delta the change in the
	// deal's cash balances (reserves, operating cash, distribution account).
	In    Fen `json:"cash_in"`
	Out   Fen `json:"cash_out"`
	Delta Fen `json:"balance_change"`

	// Accounting lines for the C-REIT bridge.
	InterestExpense Fen `json:"interest_expense"`
	NetProfit       Fen `json:"net_profit"`
	DebtService     Fen `json:"debt_service_due"`
}

// pathOut is what one path yields.
type pathOut struct {
	distributable []float64 // by year: cash reaching equity (incl. opening cash)
	distributed   []float64
	cfads         []float64
	dscr          []float64 // NaN where no debt service is due
	minDSCR       float64
	shortfall     []bool    // per tranche: any interest shortfall or loss
	pvRecv        []float64 // per tranche: PV at its coupon of what it received
	loss          []float64
	value         float64   // PV of CFADS plus terminal value (the asset)
	equityCash    []float64 // monthly cash to equity holders (distributions)
	rows          []Month   // when recording
}

func newPathOut(m *model, record bool) *pathOut {
	n := len(m.tr)
	p := &pathOut{distributable: make([]float64, m.years), distributed: make([]float64, m.years), cfads: make([]float64, m.years),
		dscr: make([]float64, m.years), shortfall: make([]bool, n), pvRecv: make([]float64, n), loss: make([]float64, n)}
	if record {
		p.equityCash = make([]float64, m.months)
		p.rows = make([]Month, 0, m.months)
	}
	return p
}

func (p *pathOut) reset() {
	clear(p.distributable)
	clear(p.distributed)
	clear(p.cfads)
	clear(p.dscr)
	clear(p.shortfall)
	clear(p.pvRecv)
	clear(p.loss)
	p.value, p.minDSCR = 0, math.Inf(1)
	p.rows = p.rows[:0]
}
