package finance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"
)

// Deal is a finance case: the operating cash flow (projected from an operating year, or
// given month by month), taxes, capex, the capital structure and its waterfall, the
// C-REIT terms, the valuation basis and the risk drivers. It is read from JSON.
type Deal struct {
	Name   string `json:"name"`
	Start  string `json:"start"`  // first month, YYYY-MM
	Months int    `json:"months"` // projection length, 12–600

	// Operating projects the cash flow from an operating year. CashFlows instead gives
	// the cash available to the waterfall month by month (small, hand-checkable deals).
	Operating *Operating `json:"operating,omitempty"`
	CashFlows []Fen      `json:"cash_flows,omitempty"`

	Tax            Tax            `json:"tax"`
	Capex          Capex          `json:"capex"`
	WorkingCapital WorkingCapital `json:"working_capital"`
	Reinvestment   Reinvestment   `json:"reinvestment"`

	CREIT     CREITTerms     `json:"creit"`
	Valuation ValuationTerms `json:"valuation"`
	Debt      *DebtSizing    `json:"debt_sizing,omitempty"`

	Tranches  []TrancheSpec  `json:"tranches"`
	Reserves  []ReserveSpec  `json:"reserves,omitempty"`
	Liquidity *LiquiditySpec `json:"liquidity_facility,omitempty"`
	Fees      []FeeSpec      `json:"fees,omitempty"`
	Waterfall []Step         `json:"waterfall"`
	Triggers  []TriggerSpec  `json:"triggers,omitempty"`

	Risk Risk `json:"risk"`
}

// Operating is the base operating year and how it evolves.
type Operating struct {
	// RevenueCNY and OpexCNY are the base year's annual amounts (gross of VAT) by
	// subsystem or cost line, e.g. from the twin's settled statement.
	RevenueCNY map[string]float64 `json:"revenue_cny"`
	OpexCNY    map[string]float64 `json:"opex_cny"`
	// Seasonality is twelve monthly shares of annual revenue, January first (default flat).
	Seasonality []float64 `json:"seasonality,omitempty"`
	// Growth is the annual revenue growth by subsystem ("*" for the rest; default 0).
	Growth        map[string]float64 `json:"growth,omitempty"`
	OpexInflation float64            `json:"opex_inflation"`
	// DriverPaths gives a driver's base value year by year (e.g. from a system-dynamics
	// scenario, `lifang sd drivers`); it must cover every projected year.
	DriverPaths map[string][]float64 `json:"driver_paths,omitempty"`
	// Battery is the storage fleet whose replacement is capex.
	Battery *BatteryPlan `json:"battery,omitempty"`
}

// BatteryPlan replaces the batteries when their state of health reaches a threshold.
type BatteryPlan struct {
	CapacityKWh        float64 `json:"capacity_kwh"`
	StartSoH           float64 `json:"start_soh"`
	FadePerYear        float64 `json:"fade_per_year"` // state-of-health loss a year (calendar + cycling)
	ReplaceAtSoH       float64 `json:"replace_at_soh"`
	CostCNYPerKWh      float64 `json:"cost_cny_per_kwh"`
	CostDeclinePerYear float64 `json:"cost_decline_per_year"`
}

// Tax is explicit: VAT on revenue by subsystem with surcharges on the VAT, input VAT on
// opex, and corporate income tax with loss carry-forward.
type Tax struct {
	VATRate       map[string]float64 `json:"vat_rate"` // by subsystem, "*" for the rest
	InputVATRate  float64            `json:"input_vat_rate"`
	SurchargeRate float64            `json:"surcharge_rate"` // on VAT payable (7 % + 3 % + 2 %)
	IncomeTaxRate float64            `json:"income_tax_rate"`
}

// Capex is the investment and the capital spending that keeps the assets running.
type Capex struct {
	InvestmentCNY     float64 `json:"investment_cny"`     // asset cost at close (depreciated)
	DepreciationYears float64 `json:"depreciation_years"` // straight line
	MaintenancePct    float64 `json:"maintenance_pct"`    // of revenue, spent monthly
}

// WorkingCapital ties cash up in receivables and frees it in payables.
type WorkingCapital struct {
	ReceivableDays float64 `json:"receivable_days"`
	PayableDays    float64 `json:"payable_days"`
}

// Reinvestment puts a share of the equity cash back into the assets, which earn a yield
// on it from the next year.
type Reinvestment struct {
	Share        float64 `json:"share"`
	YieldPerYear float64 `json:"yield"` // annual revenue per yuan reinvested
	Subsystem    string  `json:"subsystem"`
}

// CREITTerms are the fund's units and payout.
type CREITTerms struct {
	Units                int64    `json:"units"`
	IssuePrice           float64  `json:"issue_price"`
	PayoutRatio          float64  `json:"payout_ratio"`
	DistributionsPerYear int      `json:"distributions_per_year"` // 1, 2, 4 or 12
	InfraAssetShare      float64  `json:"infra_asset_share"`      // share of fund assets in infrastructure ABS
	Rules                []Rule   `json:"rules,omitempty"`        // default DefaultRules()
	EnableRules          []string `json:"enable_rules,omitempty"`
}

// ValuationTerms is the DCF basis.
type ValuationTerms struct {
	DiscountRate    float64   `json:"discount_rate"`
	TerminalCapRate float64   `json:"terminal_cap_rate"` // 0: value ends with the operating right
	GridDiscount    []float64 `json:"grid_discount_rates,omitempty"`
	GridGrowth      []float64 `json:"grid_growth_shifts,omitempty"`
}

// DebtSizing sizes one debt tranche from the base-case cash flow.
type DebtSizing struct {
	Tranche     string  `json:"tranche"`
	Method      string  `json:"method"` // "sculpted" or "level"
	TargetDSCR  float64 `json:"target_dscr"`
	TenorMonths int     `json:"tenor_months"`
	MaxLTV      float64 `json:"max_ltv"` // of the investment (0: no cap)
	// CovenantDSCR is the annual DSCR below which the debt is in breach.
	CovenantDSCR float64 `json:"covenant_dscr"`
}

// TrancheSpec is a class of the capital structure.
type TrancheSpec struct {
	Name     string  `json:"name"`
	Kind     string  `json:"kind"` // "debt" or "equity"
	Balance  Fen     `json:"balance"`
	Rate     float64 `json:"rate"`     // annual coupon
	Floating bool    `json:"floating"` // coupon moves with the interest_rate driver
	// Amortization of a debt tranche: "level", "sculpted", "bullet" or "pass_through".
	Amortization string `json:"amortization"`
	TermMonths   int    `json:"term_months"`
	LegalMonths  int    `json:"legal_final_months"` // unpaid balance at this month is a loss
}

// ReserveSpec is a reserve account with a formula target.
type ReserveSpec struct {
	Name    string        `json:"name"`
	Initial Fen           `json:"initial"`
	Target  ReserveTarget `json:"target"`
	// Covers lists the tranches whose interest and scheduled principal it pays when cash
	// falls short; "operating" makes it cover a negative operating month.
	Covers []string `json:"covers,omitempty"`
	// Trap marks the account that receives equity cash while a trap_cash trigger holds.
	Trap bool `json:"trap,omitempty"`
}

// ReserveTarget is the balance a reserve is topped up to.
type ReserveTarget struct {
	Kind     string   `json:"kind"` // "months_of_debt_service", "fixed", "pct_of_balance", "none"
	Months   int      `json:"months,omitempty"`
	Amount   Fen      `json:"amount,omitempty"`
	Pct      float64  `json:"pct,omitempty"`
	Tranches []string `json:"tranches,omitempty"`
}

// LiquiditySpec is a facility drawn to pay interest on the tranches it covers.
type LiquiditySpec struct {
	Limit  Fen      `json:"limit"`
	Rate   float64  `json:"rate"`
	Covers []string `json:"covers"`
}

// FeeSpec is a senior expense: a fixed monthly amount plus an annual rate on the
// outstanding debt.
type FeeSpec struct {
	Name       string  `json:"name"`
	Monthly    Fen     `json:"monthly"`
	RateOnDebt float64 `json:"rate_on_debt"`
}

// Step is one line of the waterfall, applied in order to the cash available.
type Step struct {
	Pay      string   `json:"pay"` // fee, interest, principal, reserve, liquidity, equity
	Fee      string   `json:"fee,omitempty"`
	Tranches []string `json:"tranches,omitempty"`
	Mode     string   `json:"mode,omitempty"` // principal: "sequential" or "pro_rata"
	Reserve  string   `json:"reserve,omitempty"`
}

// TriggerSpec switches the waterfall while its condition holds.
type TriggerSpec struct {
	Name string `json:"name"`
	// Metric: "dscr" (trailing twelve months), "cumulative_shortfall" (yuan of interest
	// unpaid so far), "reserve_shortfall" (share of reserve targets unfunded) or
	// "trigger:NAME" (1 while that trigger holds).
	Metric string  `json:"metric"`
	Op     string  `json:"op"` // "<", "<=", ">", ">="
	Value  float64 `json:"value"`
	// Action: "sequential" (pro-rata principal becomes sequential) or "trap_cash"
	// (equity cash goes to the trap reserve).
	Action      string `json:"action"`
	CurePeriods int    `json:"cure_periods"` // months the condition must be false to lift it (0: one)
	Sticky      bool   `json:"sticky"`       // once on, stays on
}

// Risk is the Monte Carlo model: drivers with marginals, correlated through a Gaussian
// copula, persistent year to year.
type Risk struct {
	Drivers     []DriverSpec `json:"drivers,omitempty"`
	Correlation [][]float64  `json:"correlation,omitempty"`
	Paths       int          `json:"paths"`
	Seed        uint64       `json:"seed"`
	CFaRYears   int          `json:"cfar_years"` // distributable averaged over the first N years
	// TargetSeniorEL, when > 0, asks for the largest senior balance whose EL is at most it.
	TargetSeniorEL float64 `json:"target_senior_el,omitempty"`
}

// DriverSpec is a risk driver's marginal and its year-to-year persistence.
type DriverSpec struct {
	Name        string   `json:"name"`
	Marginal    Marginal `json:"marginal"`
	Persistence float64  `json:"persistence"` // AR(1) coefficient of the normal score
}

// Driver names and how they act on the projection. Factor drivers multiply (neutral 1),
// shift drivers add (neutral 0).
var driverNames = []string{"occupancy", "rent_growth", "spread", "parking_demand", "ev_adoption", "outage", "degradation", "interest_rate"}

const (
	dOccupancy = iota
	dRentGrowth
	dSpread
	dParking
	dEVAdoption
	dOutage
	dDegradation
	dInterest
	nDrivers
)

var driverIsFactor = [nDrivers]bool{dOccupancy: true, dSpread: true, dParking: true, dDegradation: true}

func driverIndex(name string) int {
	for i, n := range driverNames {
		if n == name {
			return i
		}
	}
	return -1
}

// LoadDeal reads and checks a deal file.
func LoadDeal(path string) (*Deal, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := DecodeDeal(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// DecodeDeal reads a deal strictly (unknown fields are errors, with the line), applies
// defaults and validates it.
func DecodeDeal(r io.Reader) (*Deal, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Deal
	if err := dec.Decode(&d); err != nil {
		return nil, jsonError(b, dec, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("line %d: data after the deal object", lineOf(b, dec.InputOffset()))
	}
	d.Defaults()
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

func jsonError(b []byte, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("line %d: %v", lineOf(b, se.Offset), err)
	case errors.As(err, &te):
		return fmt.Errorf("line %d: %s: %s is not a %s", lineOf(b, te.Offset), te.Field, te.Value, te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return fmt.Errorf("line %d: %s", lineOf(b, dec.InputOffset()), strings.TrimPrefix(err.Error(), "json: "))
	}
	return fmt.Errorf("line %d: %v", lineOf(b, dec.InputOffset()), err)
}

func lineOf(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return bytes.Count(b[:off], []byte("\n")) + 1
}

// Defaults fills what a deal leaves out.
func (d *Deal) Defaults() {
	if d.Start == "" {
		d.Start = "2027-01"
	}
	if d.Months == 0 {
		if len(d.CashFlows) > 0 {
			d.Months = len(d.CashFlows)
		} else {
			d.Months = 360
		}
	}
	if d.Tax.VATRate == nil && d.Operating != nil {
		// Electricity and charging 13 %, leasing and services 9 % (China VAT schedule).
		d.Tax.VATRate = map[string]float64{"energy": 0.13, "ev_charging": 0.13, "*": 0.09}
	}
	if d.CREIT.PayoutRatio == 0 {
		d.CREIT.PayoutRatio = 0.95
	}
	if d.CREIT.DistributionsPerYear == 0 {
		d.CREIT.DistributionsPerYear = 1
	}
	if d.CREIT.InfraAssetShare == 0 {
		d.CREIT.InfraAssetShare = 1
	}
	if d.CREIT.Rules == nil {
		d.CREIT.Rules = DefaultRules()
	}
	if d.Valuation.DiscountRate == 0 {
		d.Valuation.DiscountRate = 0.06
	}
	if d.Capex.DepreciationYears == 0 {
		d.Capex.DepreciationYears = 25
	}
	if d.Risk.CFaRYears == 0 {
		d.Risk.CFaRYears = 3
	}
	for i := range d.Tranches {
		t := &d.Tranches[i]
		if t.Kind == "" {
			t.Kind = "debt"
		}
		if t.Kind == "debt" && t.Amortization == "" {
			t.Amortization = "level"
		}
		if t.TermMonths == 0 {
			t.TermMonths = d.Months
		}
		if t.LegalMonths == 0 {
			t.LegalMonths = d.Months
		}
	}
	if d.Debt != nil {
		if d.Debt.Method == "" {
			d.Debt.Method = "sculpted"
		}
		if d.Debt.CovenantDSCR == 0 {
			d.Debt.CovenantDSCR = 1.1
		}
	}
	for i := range d.Triggers {
		if d.Triggers[i].CurePeriods == 0 {
			d.Triggers[i].CurePeriods = 1
		}
	}
}

// CovenantDSCR is the DSCR covenant used for P(min DSCR < covenant).
func (d *Deal) CovenantDSCR() float64 {
	if d.Debt != nil {
		return d.Debt.CovenantDSCR
	}
	return 1.1
}

// StartTime is the first month.
func (d *Deal) StartTime() time.Time {
	t, _ := time.Parse("2006-01", d.Start)
	return t
}

// Validate reports the first problem, naming the field.
func (d *Deal) Validate() error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if _, err := time.Parse("2006-01", d.Start); err != nil {
		bad("start: %q is not a month (YYYY-MM)", d.Start)
	}
	if d.Months < 12 || d.Months > 600 {
		bad("months: %d must be between 12 and 600", d.Months)
	}
	switch {
	case d.Operating == nil && len(d.CashFlows) == 0:
		bad("operating: missing (or give cash_flows)")
	case d.Operating != nil && len(d.CashFlows) > 0:
		bad("cash_flows: give either operating or cash_flows, not both")
	case len(d.CashFlows) > 0 && len(d.CashFlows) != d.Months:
		bad("cash_flows: %d months given, months is %d", len(d.CashFlows), d.Months)
	}
	for i, c := range d.CashFlows {
		if c > maxFen || c < -maxFen {
			bad("cash_flows[%d]: %s is out of range", i, c)
		}
	}
	if o := d.Operating; o != nil {
		validateOperating(o, d.Months, bad)
	}
	rate := func(field string, v, lo, hi float64) {
		if math.IsNaN(v) || v < lo || v > hi {
			bad("%s: %g must be in [%g, %g]", field, v, lo, hi)
		}
	}
	for k, v := range d.Tax.VATRate {
		rate("tax.vat_rate."+k, v, 0, 0.5)
	}
	rate("tax.input_vat_rate", d.Tax.InputVATRate, 0, 0.5)
	rate("tax.surcharge_rate", d.Tax.SurchargeRate, 0, 0.5)
	rate("tax.income_tax_rate", d.Tax.IncomeTaxRate, 0, 0.6)
	rate("capex.investment_cny", d.Capex.InvestmentCNY, 0, 1e15)
	rate("capex.depreciation_years", d.Capex.DepreciationYears, 1, 100)
	rate("capex.maintenance_pct", d.Capex.MaintenancePct, 0, 1)
	rate("working_capital.receivable_days", d.WorkingCapital.ReceivableDays, 0, 365)
	rate("working_capital.payable_days", d.WorkingCapital.PayableDays, 0, 365)
	rate("reinvestment.share", d.Reinvestment.Share, 0, 1)
	rate("reinvestment.yield", d.Reinvestment.YieldPerYear, 0, 1)
	rate("creit.payout_ratio", d.CREIT.PayoutRatio, 0, 1)
	rate("creit.infra_asset_share", d.CREIT.InfraAssetShare, 0, 1)
	switch d.CREIT.DistributionsPerYear {
	case 1, 2, 4, 12:
	default:
		bad("creit.distributions_per_year: %d must be 1, 2, 4 or 12", d.CREIT.DistributionsPerYear)
	}
	if d.CREIT.Units < 0 || d.CREIT.IssuePrice < 0 || math.IsNaN(d.CREIT.IssuePrice) {
		bad("creit: units and issue_price must not be negative")
	}
	rate("valuation.discount_rate", d.Valuation.DiscountRate, 0.0001, 1)
	rate("valuation.terminal_cap_rate", d.Valuation.TerminalCapRate, 0, 1)
	d.validateStructure(bad)
	validateRisk(&d.Risk, bad)
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func validateOperating(o *Operating, months int, bad func(string, ...any)) {
	if len(o.RevenueCNY) == 0 {
		bad("operating.revenue_cny: missing")
	}
	for _, k := range sortedKeys(o.RevenueCNY) {
		if v := o.RevenueCNY[k]; math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			bad("operating.revenue_cny.%s: %g must be a non-negative amount", k, v)
		}
	}
	for _, k := range sortedKeys(o.OpexCNY) {
		if v := o.OpexCNY[k]; math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			bad("operating.opex_cny.%s: %g must be a non-negative amount", k, v)
		}
	}
	if o.Seasonality != nil {
		if len(o.Seasonality) != 12 {
			bad("operating.seasonality: %d values, want 12", len(o.Seasonality))
		} else {
			s := 0.0
			for i, v := range o.Seasonality {
				if v < 0 || math.IsNaN(v) {
					bad("operating.seasonality[%d]: %g must be ≥ 0", i, v)
				}
				s += v
			}
			if math.Abs(s-1) > 1e-6 {
				bad("operating.seasonality: shares sum to %.6f, want 1", s)
			}
		}
	}
	for _, k := range sortedKeys(o.Growth) {
		if v := o.Growth[k]; v <= -1 || v > 1 || math.IsNaN(v) {
			bad("operating.growth.%s: %g must be in (-1, 1]", k, v)
		}
	}
	if o.OpexInflation <= -1 || o.OpexInflation > 1 {
		bad("operating.opex_inflation: %g must be in (-1, 1]", o.OpexInflation)
	}
	years := (months + 11) / 12
	for _, k := range sortedKeys(o.DriverPaths) {
		if driverIndex(k) < 0 {
			bad("operating.driver_paths.%s: unknown driver (valid: %s)", k, strings.Join(driverNames, ", "))
			continue
		}
		p := o.DriverPaths[k]
		if len(p) < years {
			bad("operating.driver_paths.%s: %d years given, the projection needs %d", k, len(p), years)
		}
		for i, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				bad("operating.driver_paths.%s[%d]: not a number", k, i)
			}
		}
	}
	if b := o.Battery; b != nil {
		if b.CapacityKWh < 0 || b.CostCNYPerKWh < 0 || b.FadePerYear < 0 || b.FadePerYear > 0.5 {
			bad("operating.battery: capacity, cost and fade must be ≥ 0 (fade ≤ 0.5 a year)")
		}
		if b.ReplaceAtSoH <= 0 || b.ReplaceAtSoH >= 1 || b.StartSoH <= b.ReplaceAtSoH || b.StartSoH > 1 {
			bad("operating.battery: need 0 < replace_at_soh < start_soh ≤ 1, got %g and %g", b.ReplaceAtSoH, b.StartSoH)
		}
	}
}

func (d *Deal) validateStructure(bad func(string, ...any)) {
	names := map[string]int{}
	equity := 0
	var debt Fen
	for i, t := range d.Tranches {
		at := fmt.Sprintf("tranches[%d]", i)
		if t.Name == "" {
			bad("%s.name: missing", at)
		} else if _, dup := names[t.Name]; dup {
			bad("%s.name: %q is used twice", at, t.Name)
		}
		names[t.Name] = i
		if t.Balance < 0 {
			bad("%s.balance: %s must not be negative", at, t.Balance)
		}
		if math.IsNaN(t.Rate) || t.Rate < 0 || t.Rate > 1 {
			bad("%s.rate: %g must be in [0, 1]", at, t.Rate)
		}
		switch t.Kind {
		case "equity":
			equity++
		case "debt":
			debt += t.Balance
			switch t.Amortization {
			case "level", "sculpted", "bullet", "pass_through":
			default:
				bad("%s.amortization: %q must be level, sculpted, bullet or pass_through", at, t.Amortization)
			}
			if t.TermMonths < 1 || t.TermMonths > d.Months {
				bad("%s.term_months: %d must be between 1 and months (%d)", at, t.TermMonths, d.Months)
			}
			if t.LegalMonths < t.TermMonths || t.LegalMonths > d.Months {
				bad("%s.legal_final_months: %d must be between term_months and months", at, t.LegalMonths)
			}
		default:
			bad("%s.kind: %q must be debt or equity", at, t.Kind)
		}
	}
	if equity > 1 {
		bad("tranches: %d equity tranches, at most one receives the residual", equity)
	}
	if len(d.Tranches) == 0 {
		bad("tranches: none given")
	}
	if d.Capex.InvestmentCNY > 0 && debt.Yuan() > d.Capex.InvestmentCNY {
		bad("tranches: debt of %s exceeds the asset (investment %s)", debt, FenFromYuan(d.Capex.InvestmentCNY))
	}
	if s := d.Debt; s != nil {
		i, ok := names[s.Tranche]
		if !ok {
			bad("debt_sizing.tranche: %q is not a tranche", s.Tranche)
		} else if d.Tranches[i].Kind != "debt" {
			bad("debt_sizing.tranche: %q is not a debt tranche", s.Tranche)
		}
		if s.Method != "sculpted" && s.Method != "level" {
			bad("debt_sizing.method: %q must be sculpted or level", s.Method)
		}
		if s.TargetDSCR < 1 || s.TargetDSCR > 10 {
			bad("debt_sizing.target_dscr: %g must be in [1, 10]", s.TargetDSCR)
		}
		if s.TenorMonths < 12 || s.TenorMonths > d.Months {
			bad("debt_sizing.tenor_months: %d must be between 12 and months", s.TenorMonths)
		}
		if s.MaxLTV < 0 || s.MaxLTV > 1 {
			bad("debt_sizing.max_ltv: %g must be in [0, 1]", s.MaxLTV)
		}
	}
	checkTranches := func(at string, list []string, allowOperating bool) {
		for _, n := range list {
			if allowOperating && n == "operating" {
				continue
			}
			if i, ok := names[n]; !ok {
				bad("%s: %q is not a tranche", at, n)
			} else if d.Tranches[i].Kind != "debt" {
				bad("%s: %q is not a debt tranche", at, n)
			}
		}
	}
	reserves := map[string]bool{}
	traps := 0
	for i, r := range d.Reserves {
		at := fmt.Sprintf("reserves[%d]", i)
		if r.Name == "" || reserves[r.Name] {
			bad("%s.name: missing or used twice", at)
		}
		reserves[r.Name] = true
		if r.Initial < 0 {
			bad("%s.initial: %s must not be negative", at, r.Initial)
		}
		if r.Trap {
			traps++
		}
		switch r.Target.Kind {
		case "", "none":
		case "fixed":
			if r.Target.Amount < 0 {
				bad("%s.target.amount: must not be negative", at)
			}
		case "months_of_debt_service":
			if r.Target.Months < 1 {
				bad("%s.target.months: %d must be ≥ 1", at, r.Target.Months)
			}
			checkTranches(at+".target.tranches", r.Target.Tranches, false)
		case "pct_of_balance":
			if r.Target.Pct <= 0 || r.Target.Pct > 1 {
				bad("%s.target.pct: %g must be in (0, 1]", at, r.Target.Pct)
			}
			checkTranches(at+".target.tranches", r.Target.Tranches, false)
		default:
			bad("%s.target.kind: %q must be months_of_debt_service, fixed, pct_of_balance or none", at, r.Target.Kind)
		}
		checkTranches(at+".covers", r.Covers, true)
	}
	if traps > 1 {
		bad("reserves: %d trap accounts, at most one", traps)
	}
	if l := d.Liquidity; l != nil {
		if l.Limit < 0 || l.Rate < 0 || l.Rate > 1 {
			bad("liquidity_facility: limit and rate must not be negative")
		}
		checkTranches("liquidity_facility.covers", l.Covers, false)
	}
	fees := map[string]bool{}
	for i, f := range d.Fees {
		if f.Name == "" || fees[f.Name] {
			bad("fees[%d].name: missing or used twice", i)
		}
		fees[f.Name] = true
		if f.Monthly < 0 || f.RateOnDebt < 0 || f.RateOnDebt > 1 {
			bad("fees[%d]: amounts and rates must not be negative", i)
		}
	}
	if len(d.Waterfall) == 0 {
		bad("waterfall: no steps")
	}
	for i, s := range d.Waterfall {
		at := fmt.Sprintf("waterfall[%d]", i)
		switch s.Pay {
		case "fee":
			if !fees[s.Fee] {
				bad("%s.fee: %q is not a fee", at, s.Fee)
			}
		case "interest":
			checkTranches(at+".tranches", s.Tranches, false)
			if len(s.Tranches) == 0 {
				bad("%s.tranches: none given", at)
			}
		case "principal":
			checkTranches(at+".tranches", s.Tranches, false)
			if len(s.Tranches) == 0 {
				bad("%s.tranches: none given", at)
			}
			if s.Mode != "sequential" && s.Mode != "pro_rata" {
				bad("%s.mode: %q must be sequential or pro_rata", at, s.Mode)
			}
		case "reserve":
			if !reserves[s.Reserve] {
				bad("%s.reserve: %q is not a reserve", at, s.Reserve)
			}
		case "liquidity":
			if d.Liquidity == nil {
				bad("%s: no liquidity_facility to repay", at)
			}
		case "equity":
		default:
			bad("%s.pay: %q must be fee, interest, principal, reserve, liquidity or equity", at, s.Pay)
		}
	}
	d.validateTriggers(bad, traps > 0)
}

func (d *Deal) validateTriggers(bad func(string, ...any), hasTrap bool) {
	idx := map[string]int{}
	for i, t := range d.Triggers {
		at := fmt.Sprintf("triggers[%d]", i)
		if t.Name == "" {
			bad("%s.name: missing", at)
		} else if _, dup := idx[t.Name]; dup {
			bad("%s.name: %q is used twice", at, t.Name)
		}
		idx[t.Name] = i
		switch t.Op {
		case "<", "<=", ">", ">=":
		default:
			bad("%s.op: %q must be <, <=, > or >=", at, t.Op)
		}
		switch t.Action {
		case "sequential":
		case "trap_cash":
			if !hasTrap {
				bad("%s.action: trap_cash needs a reserve with \"trap\": true", at)
			}
		default:
			bad("%s.action: %q must be sequential or trap_cash", at, t.Action)
		}
		if t.CurePeriods < 1 || t.CurePeriods > 120 {
			bad("%s.cure_periods: %d must be between 1 and 120", at, t.CurePeriods)
		}
	}
	// Dependencies: trigger:NAME metrics; a cycle has no order to evaluate in.
	deps := map[string]string{}
	for i, t := range d.Triggers {
		switch {
		case t.Metric == "dscr", t.Metric == "cumulative_shortfall", t.Metric == "reserve_shortfall":
		case strings.HasPrefix(t.Metric, "trigger:"):
			dep := strings.TrimPrefix(t.Metric, "trigger:")
			if _, ok := idx[dep]; !ok {
				bad("triggers[%d].metric: %q names no trigger", i, t.Metric)
			} else {
				deps[t.Name] = dep
			}
		default:
			bad("triggers[%d].metric: %q must be dscr, cumulative_shortfall, reserve_shortfall or trigger:NAME", i, t.Metric)
		}
	}
	for _, t := range d.Triggers {
		seen := []string{t.Name}
		for cur, ok := deps[t.Name]; ok; cur, ok = deps[cur] {
			seen = append(seen, cur)
			if cur == t.Name {
				bad("triggers: circular: %s", strings.Join(seen, " → "))
				return
			}
			if len(seen) > len(d.Triggers)+1 {
				break
			}
		}
	}
}

func validateRisk(r *Risk, bad func(string, ...any)) {
	if r.Paths < 0 || r.Paths > 10_000_000 {
		bad("risk.paths: %d must be between 0 and 10,000,000", r.Paths)
	}
	if r.CFaRYears < 1 || r.CFaRYears > 50 {
		bad("risk.cfar_years: %d must be between 1 and 50", r.CFaRYears)
	}
	seen := map[string]bool{}
	for i, dr := range r.Drivers {
		at := fmt.Sprintf("risk.drivers[%d]", i)
		if driverIndex(dr.Name) < 0 {
			bad("%s.name: %q is not a driver (valid: %s)", at, dr.Name, strings.Join(driverNames, ", "))
		}
		if seen[dr.Name] {
			bad("%s.name: %q is given twice", at, dr.Name)
		}
		seen[dr.Name] = true
		if err := dr.Marginal.Validate(); err != nil {
			bad("%s.marginal: %v", at, err)
		}
		if dr.Persistence < 0 || dr.Persistence >= 1 {
			bad("%s.persistence: %g must be in [0, 1)", at, dr.Persistence)
		}
	}
	if r.Correlation != nil {
		if err := checkCorrelation(r.Correlation, len(r.Drivers)); err != nil {
			bad("risk.correlation: %v", err)
		}
	}
	if r.TargetSeniorEL < 0 || r.TargetSeniorEL >= 1 {
		bad("risk.target_senior_el: %g must be in [0, 1)", r.TargetSeniorEL)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
