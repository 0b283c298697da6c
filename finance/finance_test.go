package finance

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden deal outputs")

func loadDeal(t *testing.T, name string) *Deal {
	t.Helper()
	d, err := LoadDeal(filepath.Join("testdata", "deals", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func runDeal(t *testing.T, d *Deal, opt Options) *Result {
	t.Helper()
	opt.Monthly = true
	r, err := Run(context.Background(), d, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r.Conservation.Violations != 0 {
		t.Fatalf("%d months violate cash conservation", r.Conservation.Violations)
	}
	return r
}

// TestGoldenDeals runs each small deal and compares result.json with its golden file;
// the hand checks below say why each golden is right.
func TestGoldenDeals(t *testing.T) {
	for _, name := range []string{"sequential", "pro_rata", "trigger_switch", "reserve_draw", "liquidity_draw"} {
		t.Run(name, func(t *testing.T) {
			r := runDeal(t, loadDeal(t, name), Options{})
			got, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "deals", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenDeals -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("result differs from %s (if intended, rerun with -update and review the diff)", path)
			}
		})
	}
}

func TestSequentialByHand(t *testing.T) {
	r := runDeal(t, loadDeal(t, "sequential"), Options{})
	// Month 1: interest 1 % of 100,000 on each = 1,000 + 1,000; the other 28,000 repay A.
	m := r.Monthly[0]
	if m.Interest[0] != 100000 || m.Interest[1] != 100000 || m.Principal[0] != 2800000 || m.Principal[1] != 0 {
		t.Fatalf("month 1: interest %v principal %v", m.Interest, m.Principal)
	}
	// B receives no principal while A is outstanding.
	for _, m := range r.Monthly {
		if m.Principal[1] > 0 && m.Balance[0]+m.Principal[0] > m.Principal[0] && m.Balance[0] > 0 {
			t.Fatalf("month %d: B repaid while A still owes %s", m.Month, m.Balance[0])
		}
	}
	// Month 2: A owes 72,000 → interest 720; B 1,000; A gets 28,280.
	if m := r.Monthly[1]; m.Interest[0] != 72000 || m.Principal[0] != 2828000 {
		t.Fatalf("month 2: %v %v", m.Interest, m.Principal)
	}
	if r.Monthly[11].Balance[0] != 0 || r.Monthly[11].Balance[1] != 0 {
		t.Fatalf("not repaid in 12 months: %v", r.Monthly[11].Balance)
	}
}

func TestProRataByHand(t *testing.T) {
	r := runDeal(t, loadDeal(t, "pro_rata"), Options{})
	// Month 1: interest 1,000 + 500; 28,500 split 2:1 by balance.
	m := r.Monthly[0]
	if m.Principal[0] != 1900000 || m.Principal[1] != 950000 {
		t.Fatalf("month 1 principal %v, want 19000.00 and 9500.00", m.Principal)
	}
	for _, m := range r.Monthly {
		if m.Balance[0] > 0 && m.Balance[1] > 0 {
			ratio := m.Balance[0].Yuan() / m.Balance[1].Yuan()
			if math.Abs(ratio-2) > 1e-3 {
				t.Fatalf("month %d: balances %v not 2:1", m.Month, m.Balance)
			}
		}
	}
}

func TestTriggerSwitchByHand(t *testing.T) {
	r := runDeal(t, loadDeal(t, "trigger_switch"), Options{})
	// Month 4 has 800 of cash: interest due is 1 % of both balances, so B falls short
	// and the sticky trigger makes principal sequential from month 5.
	if r.Monthly[3].Shortfall[1] == 0 {
		t.Fatalf("month 4: no shortfall on B: %+v", r.Monthly[3])
	}
	for _, m := range r.Monthly[:4] {
		if len(m.Triggers) != 0 {
			t.Fatalf("month %d: trigger on before the shortfall", m.Month)
		}
	}
	for _, m := range r.Monthly[4:] {
		if len(m.Triggers) != 1 {
			t.Fatalf("month %d: trigger off after the shortfall", m.Month)
		}
		if m.Balance[0]+m.Principal[0] > m.Principal[0] && m.Principal[1] > 0 && m.Balance[0] > 0 {
			t.Fatalf("month %d: B repaid while A owes %s under the sequential switch", m.Month, m.Balance[0])
		}
	}
	// Before the switch both were repaid pro rata (equal balances: equal principal).
	if m := r.Monthly[0]; m.Principal[0] != m.Principal[1] {
		t.Fatalf("month 1: %v not pro rata", m.Principal)
	}
	if !r.Tranches[1].BaseShortfall || r.Tranches[1].PD != 1 {
		t.Fatal("B's shortfall not reported")
	}
}

func TestReserveDrawByHand(t *testing.T) {
	r := runDeal(t, loadDeal(t, "reserve_draw"), Options{})
	// Level payment on 100,000 at 1 % a month over 12 months: 8,884.88.
	pay := 100000 * 0.01 / (1 - math.Pow(1.01, -12))
	m1 := r.Monthly[0]
	if got := (m1.Interest[0] + m1.Principal[0]).Yuan(); math.Abs(got-pay) > 0.02 {
		t.Fatalf("month 1 debt service %.2f, want %.2f", got, pay)
	}
	m5 := r.Monthly[4] // no cash: the DSRA pays the whole debt service
	if m5.ReserveDraw[0] == 0 || m5.Interest[0]+m5.Principal[0] != m5.ReserveDraw[0] {
		t.Fatalf("month 5: draw %s, paid %s", m5.ReserveDraw[0], m5.Interest[0]+m5.Principal[0])
	}
	if m5.Shortfall[0] != 0 || r.Tranches[0].BaseShortfall {
		t.Fatal("the reserve should have covered month 5")
	}
	if r.Monthly[5].ReserveDeposit[0] == 0 {
		t.Fatal("month 6 did not refill the reserve")
	}
	if r.Monthly[11].Balance[0] != 0 {
		t.Fatalf("not amortised: %s left", r.Monthly[11].Balance[0])
	}
}

func TestLiquidityDrawByHand(t *testing.T) {
	r := runDeal(t, loadDeal(t, "liquidity_draw"), Options{})
	// Months 3 and 4 have no cash: the facility pays A's 1,000 interest (the trustee's
	// fee is not covered and falls into arrears); month 5 repays facility and interest.
	if m := r.Monthly[2]; m.LiquidityDraw != 100000 || m.Interest[0] != 100000 || m.Fees != 0 {
		t.Fatalf("month 3: draw %s interest %s fees %s", m.LiquidityDraw, m.Interest[0], m.Fees)
	}
	if m := r.Monthly[3]; m.LiquidityDrawn != 201000 { // 2,000 drawn + 10 of interest capitalised
		t.Fatalf("month 4: drawn %s, want 2010.00", m.LiquidityDrawn)
	}
	if m := r.Monthly[4]; m.LiquidityDrawn != 0 || m.LiquidityRepay == 0 {
		t.Fatalf("month 5: not repaid: %+v", m)
	}
	if r.Tranches[0].BaseShortfall || r.Tranches[0].EL != 0 {
		t.Fatalf("A should be whole: %+v", r.Tranches[0])
	}
}

// TestCashConservationProperty builds random deals (cash flows with losses, random
// structures, reserves, facilities, triggers) and checks that every month of every path
// balances to the fen and that the C-REIT bridge reconciles to the distributable amount.
func TestCashConservationProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	for k := 0; k < 150; k++ {
		d := randomDeal(r, k)
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(d); err != nil {
			t.Fatal(err)
		}
		dd, err := DecodeDeal(&buf)
		if err != nil {
			t.Fatalf("deal %d: %v\n%s", k, err, buf.String())
		}
		paths := 0
		if dd.Operating != nil {
			paths = 20
		}
		res := runDeal(t, dd, Options{Paths: paths, Seed: uint64(k + 1)})
		for _, m := range res.Monthly {
			for i, b := range m.Balance {
				if b < 0 {
					t.Fatalf("deal %d month %d: tranche %d balance %s", k, m.Month, i, b)
				}
			}
			for i, b := range m.ReserveBalance {
				if b < 0 {
					t.Fatalf("deal %d month %d: reserve %d balance %s", k, m.Month, i, b)
				}
			}
			if m.LiquidityDrawn < 0 || (dd.Liquidity != nil && m.LiquidityDraw > dd.Liquidity.Limit) {
				t.Fatalf("deal %d month %d: facility %s", k, m.Month, m.LiquidityDrawn)
			}
		}
		for _, y := range res.Projection[:len(res.Projection)-1] {
			if y.Bridge.DistributableAmount != y.Distributable {
				t.Fatalf("deal %d year %d: bridge gives %s, the waterfall %s", k, y.Year, y.Bridge.DistributableAmount, y.Distributable)
			}
			if dd.Operating != nil && y.Bridge.EBITDA != y.EBITDA {
				t.Fatalf("deal %d year %d: bridge EBITDA %s ≠ %s", k, y.Year, y.Bridge.EBITDA, y.EBITDA)
			}
		}
	}
}

func randomDeal(r *rand.Rand, k int) *Deal {
	months := 12 * (1 + r.IntN(5))
	d := &Deal{Name: "random", Start: "2027-01", Months: months}
	if k%2 == 0 {
		for i := 0; i < months; i++ {
			c := Fen(r.Int64N(6_000_000)) - 500_000
			if r.IntN(10) == 0 {
				c = -Fen(r.Int64N(3_000_000))
			}
			d.CashFlows = append(d.CashFlows, c)
		}
	} else {
		d.Operating = &Operating{RevenueCNY: map[string]float64{"energy": 2e5 + r.Float64()*1e6, "rentals": r.Float64() * 1e6, "parking": r.Float64() * 5e5},
			OpexCNY: map[string]float64{"community": r.Float64() * 5e5}, OpexInflation: 0.03, Growth: map[string]float64{"*": 0.02}}
		if r.IntN(2) == 0 {
			d.Operating.Battery = &BatteryPlan{CapacityKWh: 500, StartSoH: 1, FadePerYear: 0.05 + r.Float64()*0.05, ReplaceAtSoH: 0.8, CostCNYPerKWh: 800}
		}
		d.Tax = Tax{VATRate: map[string]float64{"*": 0.09}, InputVATRate: 0.06, SurchargeRate: 0.12, IncomeTaxRate: 0.25}
		d.Capex = Capex{InvestmentCNY: 5e6, DepreciationYears: 10, MaintenancePct: 0.02}
		d.WorkingCapital = WorkingCapital{ReceivableDays: 30, PayableDays: 20}
		d.Reinvestment = Reinvestment{Share: r.Float64() * 0.3, YieldPerYear: 0.1}
		d.Risk = Risk{Drivers: defaultDrivers(), Correlation: defaultCorrelation()}
	}
	amort := []string{"level", "sculpted", "bullet", "pass_through"}
	nt := 1 + r.IntN(3)
	var names []string
	for i := 0; i < nt; i++ {
		n := string(rune('A' + i))
		names = append(names, n)
		term := 12 + r.IntN(months-11)
		d.Tranches = append(d.Tranches, TrancheSpec{Name: n, Kind: "debt", Balance: Fen(r.Int64N(150_000_000)), Rate: r.Float64() * 0.1,
			Floating: r.IntN(2) == 0, Amortization: amort[r.IntN(4)], TermMonths: term, LegalMonths: term + r.IntN(months-term+1)})
	}
	d.Tranches = append(d.Tranches, TrancheSpec{Name: "E", Kind: "equity"})
	d.Fees = []FeeSpec{{Name: "fee", Monthly: Fen(r.Int64N(50_000)), RateOnDebt: 0.002}}
	d.Reserves = []ReserveSpec{{Name: "dsra", Initial: Fen(r.Int64N(5_000_000)), Target: ReserveTarget{Kind: "months_of_debt_service", Months: 1 + r.IntN(6), Tranches: names[:1]}, Covers: names[:1]},
		{Name: "trap", Trap: true, Covers: names},
		{Name: "ops", Initial: Fen(r.Int64N(2_000_000)), Target: ReserveTarget{Kind: "fixed", Amount: 1_000_000}, Covers: []string{"operating"}}}
	if r.IntN(2) == 0 {
		d.Liquidity = &LiquiditySpec{Limit: Fen(r.Int64N(3_000_000)), Rate: 0.05, Covers: names}
	}
	d.Waterfall = []Step{{Pay: "fee", Fee: "fee"}}
	if d.Liquidity != nil {
		d.Waterfall = append(d.Waterfall, Step{Pay: "liquidity"})
	}
	mode := []string{"sequential", "pro_rata"}[r.IntN(2)]
	d.Waterfall = append(d.Waterfall, Step{Pay: "interest", Tranches: names}, Step{Pay: "principal", Tranches: names, Mode: mode},
		Step{Pay: "reserve", Reserve: "dsra"}, Step{Pay: "reserve", Reserve: "ops"}, Step{Pay: "equity"})
	d.Triggers = []TriggerSpec{{Name: "lock", Metric: "dscr", Op: "<", Value: 1.2, Action: "trap_cash", CurePeriods: 1 + r.IntN(3)},
		{Name: "seq", Metric: "trigger:lock", Op: ">=", Value: 1, Action: "sequential"},
		{Name: "short", Metric: "cumulative_shortfall", Op: ">", Value: 0, Action: "sequential", Sticky: true}}
	d.CREIT.DistributionsPerYear = []int{1, 2, 4, 12}[r.IntN(4)]
	return d
}

func TestBadDeals(t *testing.T) {
	base := func() map[string]any {
		var m map[string]any
		b, _ := os.ReadFile(filepath.Join("testdata", "deals", "sequential.json"))
		_ = json.Unmarshal(b, &m)
		return m
	}
	cases := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"negative balance", func(m map[string]any) { tr(m, 0)["balance"] = -5 }, "tranches[0].balance: -5.00 must not be negative"},
		{"tranches larger than the asset", func(m map[string]any) { m["capex"] = map[string]any{"investment_cny": 150000} }, "tranches: debt of 200000.00 exceeds the asset (investment 150000.00)"},
		{"circular triggers", func(m map[string]any) {
			m["triggers"] = []any{map[string]any{"name": "a", "metric": "trigger:b", "op": ">", "value": 0, "action": "sequential"},
				map[string]any{"name": "b", "metric": "trigger:a", "op": ">", "value": 0, "action": "sequential"}}
		}, "triggers: circular: a → b → a"},
		{"unknown field", func(m map[string]any) { m["tranchez"] = 1 }, `unknown field "tranchez"`},
		{"unknown tranche in waterfall", func(m map[string]any) {
			m["waterfall"] = []any{map[string]any{"pay": "interest", "tranches": []any{"Z"}}}
		}, `waterfall[0].tranches: "Z" is not a tranche`},
		{"cash flows short", func(m map[string]any) { m["months"] = 24 }, "cash_flows: 12 months given, months is 24"},
		{"bad amount", func(m map[string]any) { tr(m, 0)["balance"] = "12x" }, `"12x" is not a decimal amount`},
		{"trap without account", func(m map[string]any) {
			m["triggers"] = []any{map[string]any{"name": "a", "metric": "dscr", "op": "<", "value": 1, "action": "trap_cash"}}
		}, `trap_cash needs a reserve with "trap": true`},
		{"missing driver paths", func(m map[string]any) {
			delete(m, "cash_flows")
			m["operating"] = map[string]any{"revenue_cny": map[string]any{"rentals": 1e6}, "driver_paths": map[string]any{"occupancy": []any{0.95}}}
			m["months"] = 36
		}, "operating.driver_paths.occupancy: 1 years given, the projection needs 3"},
		{"unknown driver", func(m map[string]any) {
			m["risk"] = map[string]any{"drivers": []any{map[string]any{"name": "inflation", "marginal": map[string]any{"dist": "normal", "sd": 0.1}}}}
		}, `risk.drivers[0].name: "inflation" is not a driver`},
		{"correlation not PSD", func(m map[string]any) {
			nd := func(n string) any {
				return map[string]any{"name": n, "marginal": map[string]any{"dist": "normal", "sd": 0.1}}
			}
			m["risk"] = map[string]any{"drivers": []any{nd("occupancy"), nd("spread"), nd("outage")},
				"correlation": []any{[]any{1, 0.9, -0.9}, []any{0.9, 1, 0.9}, []any{-0.9, 0.9, 1}}}
		}, "risk.correlation: not positive semi-definite"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := base()
			c.edit(m)
			b, _ := json.MarshalIndent(m, "", "  ")
			_, err := DecodeDeal(bytes.NewReader(b))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
	// A syntax error names the line.
	_, err := DecodeDeal(strings.NewReader("{\n  \"name\": \"x\",\n  \"months\": 12,\n  oops\n}"))
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("syntax error %v, want line 4", err)
	}
}

func tr(m map[string]any, i int) map[string]any { return m["tranches"].([]any)[i].(map[string]any) }

func TestCommunityDeal(t *testing.T) {
	d, err := CommunityDeal(BenchOperatingYear())
	if err != nil {
		t.Fatal(err)
	}
	r := runDeal(t, d, Options{Paths: 400, Seed: 5})
	// Priced at its DCF value: NPV near zero (depreciation iterated to a fixed point).
	if npv := math.Abs(r.Valuation.NPV.Yuan()) / r.Valuation.Value.Yuan(); npv > 0.02 {
		t.Fatalf("NPV %s is %.1f %% of the value", r.Valuation.NPV, 100*npv)
	}
	if dr := r.CREIT.DistributionRate; dr < 0.02 || dr > 0.12 {
		t.Fatalf("distribution rate %.4f", dr)
	}
	// The payout rule holds: 95 % of the distributable amount is paid.
	if p := r.CREIT.PayoutRatio; math.Abs(p-0.95) > 1e-6 {
		t.Fatalf("payout %.6f", p)
	}
	for _, c := range r.CREIT.Checks {
		if c.Applicable && !c.Pass {
			t.Errorf("check %s fails: %v", c.Rule.ID, c.Value)
		}
	}
	// Sculpted sizing at DSCR 1.35 capped by LTV: the base case clears the target.
	if r.Debt == nil || r.Debt.MinDSCR < 1.35-1e-6 {
		t.Fatalf("debt sizing %+v", r.Debt)
	}
	if r.Risk == nil || r.Risk.CFaR95 <= 0 || r.Risk.CFaR99 < r.Risk.CFaR95 {
		t.Fatalf("risk %+v", r.Risk)
	}
	if !(r.Risk.DistributionRateP5 <= r.Risk.DistributionRateP50 && r.Risk.DistributionRateP50 <= r.Risk.DistributionRateP95) {
		t.Fatalf("rate percentiles out of order: %+v", r.Risk)
	}
	if r.Securitisation == nil || r.Securitisation.BreakevenHaircut == nil {
		t.Fatal("no breakeven haircut")
	}
	// The breakeven haircut is a root: just below it the senior is whole, at it short.
	h := *r.Securitisation.BreakevenHaircut
	for _, c := range []struct {
		h     float64
		short bool
	}{{h - 0.001, false}, {h + 0.001, true}} {
		m, _ := compile(cloneDeal(d))
		if _, err := m.schedules(); err != nil {
			t.Fatal(err)
		}
		m.revenueHaircut = c.h
		s := newSim(m, false)
		if err := s.run(nil); err != nil {
			t.Fatal(err)
		}
		if s.out.shortfall[0] != c.short {
			t.Fatalf("haircut %.4f: senior short %v, want %v", c.h, s.out.shortfall[0], c.short)
		}
	}
}

// TestSculptedSizing: without an LTV cap, sculpting at a target DSCR makes every
// month's CFADS (net of fees) exactly target × debt service in the base case.
func TestSculptedSizing(t *testing.T) {
	d, err := CommunityDeal(BenchOperatingYear())
	if err != nil {
		t.Fatal(err)
	}
	d.Debt.MaxLTV = 0
	d.Debt.TargetDSCR = 1.6
	r := runDeal(t, d, Options{Paths: 0})
	if r.Debt.LTVCapped {
		t.Fatal("capped")
	}
	for _, y := range r.Projection[:14] { // the senior's tenor is 15 years; the mezzanine also pays
		if y.DSCR == nil {
			t.Fatalf("year %d: no DSCR", y.Year)
		}
	}
	// Annual DSCR counts the mezzanine too, so it is below 1.6; the senior alone is at
	// it: its balance is the PV at its coupon of the unlevered CFADS (net of fees) / 1.6.
	m, _ := compile(cloneDeal(d))
	cash, err := m.baseCash()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.schedules(); err != nil {
		t.Fatal(err)
	}
	b := m.tr[0].bal0.Yuan()
	pv := 0.0
	for k := 0; k < 180; k++ {
		pv += math.Max(0, cash[k]) / 1.6 * math.Pow(1+0.035/12, -float64(k+1))
	}
	if math.Abs(pv-b) > 0.01 {
		t.Fatalf("senior %0.2f, PV of CFADS/1.6 %0.2f", b, pv)
	}
}

// TestMonteCarloReproducible: the same seed gives the same figures whatever the number
// of workers; another seed gives others.
func TestMonteCarloReproducible(t *testing.T) {
	d, err := CommunityDeal(BenchOperatingYear())
	if err != nil {
		t.Fatal(err)
	}
	d.Valuation.GridDiscount = nil
	a := runDeal(t, d, Options{Paths: 300, Seed: 9, Workers: 1})
	b := runDeal(t, d, Options{Paths: 300, Seed: 9, Workers: 3})
	c := runDeal(t, d, Options{Paths: 300, Seed: 10, Workers: 2})
	a.Risk.Workers, b.Risk.Workers = 0, 0
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatal("1 and 3 workers differ")
	}
	if a.Risk.CFaR95 == c.Risk.CFaR95 {
		t.Fatal("another seed gave the same CFaR")
	}
}

// TestCopula: sampled normal scores have the target correlation, and marginals their
// moments.
func TestCopula(t *testing.T) {
	r := &Risk{Drivers: defaultDrivers(), Correlation: defaultCorrelation()}
	for i := range r.Drivers {
		r.Drivers[i].Persistence = 0
	}
	c, err := newCopula(r)
	if err != nil {
		t.Fatal(err)
	}
	n, k := 40000, c.n
	vals := make([]float64, n*k)
	z, e := make([]float64, k), make([]float64, k)
	rng := pathRand(3, 0)
	for i := 0; i < n; i++ {
		c.sample(rng, 1, vals[i*k:(i+1)*k], z, e)
	}
	col := func(j int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = vals[i*k+j]
		}
		return v
	}
	// occupancy (triangular) vs rent growth (normal): rank correlation near the normal
	// scores' 0.5 (Spearman of a Gaussian copula: 6/π·asin(ρ/2) = 0.483).
	if rho := spearman(col(0), col(1)); math.Abs(rho-6/math.Pi*math.Asin(0.25)) > 0.02 {
		t.Fatalf("spearman %.3f", rho)
	}
	// spread: lognormal with mean 1, sd 0.15.
	sp := col(2)
	if m := meanOf(sp); math.Abs(m-1) > 0.005 {
		t.Fatalf("lognormal mean %.4f", m)
	}
	// outage: bernoulli p = 0.05.
	hits := 0
	for _, v := range col(5) {
		if v > 0 {
			hits++
		}
	}
	if p := float64(hits) / float64(n); math.Abs(p-0.05) > 0.005 {
		t.Fatalf("bernoulli p %.4f", p)
	}
	// triangular(0.9, 1, 1.04): mean (a+b+c)/3.
	if m := meanOf(col(0)); math.Abs(m-(0.9+1+1.04)/3) > 0.002 {
		t.Fatalf("triangular mean %.4f", m)
	}
}

func spearman(a, b []float64) float64 {
	ra, rb := ranks(a), ranks(b)
	ma, mb := meanOf(ra), meanOf(rb)
	var sab, saa, sbb float64
	for i := range ra {
		sab += (ra[i] - ma) * (rb[i] - mb)
		saa += (ra[i] - ma) * (ra[i] - ma)
		sbb += (rb[i] - mb) * (rb[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	s := sortedCopy(v)
	r := make([]float64, len(v))
	for i, x := range v {
		lo, hi := 0, len(s)
		for lo < hi {
			m := (lo + hi) / 2
			if s[m] < x {
				lo = m + 1
			} else {
				hi = m
			}
		}
		r[i] = float64(lo)
	}
	return r
}

// TestCFaRDefinition recomputes CFaR from the paths independently.
func TestCFaRDefinition(t *testing.T) {
	d, err := CommunityDeal(BenchOperatingYear())
	if err != nil {
		t.Fatal(err)
	}
	m, _ := compile(cloneDeal(d))
	if _, err := m.schedules(); err != nil {
		t.Fatal(err)
	}
	mc, err := m.monteCarlo(context.Background(), 500, 4, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := mc.view(m, 4)
	cf := append([]float64(nil), mc.cf...)
	// Independent: mean minus the 5th percentile by sorting (type-7 interpolation).
	s := sortedCopy(cf)
	h := 0.05 * float64(len(s)-1)
	q := s[int(h)] + (h-math.Floor(h))*(s[int(h)+1]-s[int(h)])
	sum := 0.0
	for _, x := range cf {
		sum += x
	}
	if want := FenFromYuan(sum/float64(len(cf)) - q); v.CFaR95 != want {
		t.Fatalf("CFaR95 %s, recomputed %s", v.CFaR95, want)
	}
}

func TestMaxSeniorForEL(t *testing.T) {
	d, err := CommunityDeal(BenchOperatingYear())
	if err != nil {
		t.Fatal(err)
	}
	// A harsher world so the senior can lose: deep revenue shocks.
	d.Risk.Drivers[2].Marginal = Marginal{Dist: "lognormal", Mean: 0.7, SD: 0.5}
	d.Risk.Drivers[0].Marginal = Marginal{Dist: "triangular", Min: 0.3, Mode: 0.9, Max: 1}
	d.Risk.TargetSeniorEL = 0.0001
	d.Valuation.GridDiscount = nil
	r := runDeal(t, d, Options{Paths: 200, Seed: 2})
	s := r.Securitisation
	if s == nil || s.MaxSeniorForEL == nil {
		t.Fatal("no senior size")
	}
	// Check the root: EL at the size ≤ target; 10 % more breaches it (or the size is the cap).
	m, _ := compile(cloneDeal(d))
	if _, err := m.schedules(); err != nil {
		t.Fatal(err)
	}
	el := func(b Fen) float64 {
		mm, err := m.recompile(m.d, 0, b)
		if err != nil {
			t.Fatal(err)
		}
		mc, err := mm.monteCarlo(context.Background(), 200, 2, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, e := mc.trancheRisk(0, len(mm.tr))
		return e
	}
	if e := el(*s.MaxSeniorForEL); e > 0.0001 {
		t.Fatalf("EL %.5f at the size %s exceeds the target", e, *s.MaxSeniorForEL)
	}
	bigger := *s.MaxSeniorForEL * 11 / 10
	if bigger+m.tr[1].bal0 > FenFromYuan(d.Capex.InvestmentCNY) {
		t.Fatalf("size %s is at the asset cap: the stress is too mild to test the root", *s.MaxSeniorForEL)
	}
	if e := el(bigger); e <= 0.0001 {
		t.Fatalf("EL %.5f at 110 %% of the size is still within the target", e)
	}
}

// TestExampleDeal keeps testdata/deals/community.json (the example for `lifang finance
// run`) the default community deal, and runs it.
func TestExampleDeal(t *testing.T) {
	path := filepath.Join("testdata", "deals", "community.json")
	if *update {
		d, err := CommunityDeal(BenchOperatingYear())
		if err != nil {
			t.Fatal(err)
		}
		d.Risk.Paths = 2000
		b, _ := json.MarshalIndent(d, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := LoadDeal(path)
	if err != nil {
		t.Fatal(err)
	}
	r := runDeal(t, d, Options{Paths: 100})
	if len(r.Projection) != 30 || r.Risk == nil || len(r.Tranches) != 3 {
		t.Fatalf("projection %d years, risk %v, %d tranches", len(r.Projection), r.Risk != nil, len(r.Tranches))
	}
}

// BenchmarkMonteCarlo: one path of 360 months with the full waterfall per iteration.
func BenchmarkMonteCarlo(b *testing.B) {
	d, err := CommunityDeal(BenchOperatingYear())
	if err != nil {
		b.Fatal(err)
	}
	m, _ := compile(cloneDeal(d))
	if _, err := m.schedules(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if _, err := m.monteCarlo(context.Background(), b.N, 1, 1, nil); err != nil {
		b.Fatal(err)
	}
}

// TestDriverPaths: an SD occupancy path of the rentals' level moves rentals revenue by
// its ratio to year 1; a short path is refused.
func TestDriverPaths(t *testing.T) {
	d, err := LoadDeal(filepath.Join("testdata", "deals", "community.json"))
	if err != nil {
		t.Fatal(err)
	}
	d.Reinvestment.Share = 0 // (a re-sized debt would otherwise move year 1's reinvestment)
	occ := make([]float64, 31)
	for i := range occ {
		occ[i] = 0.9
	}
	occ[1] = 0.45 // year 2 at half the first year's occupancy
	if _, err := d.ApplyDriverPaths(map[string][]float64{"Occupancy": occ[:10]}); err == nil || !strings.Contains(err.Error(), "10 years given, the projection needs 30") {
		t.Fatalf("short path: %v", err)
	}
	base := runDeal(t, d, Options{})
	set, err := d.ApplyDriverPaths(map[string][]float64{"Occupancy": occ, "Unrelated": {1}})
	if err != nil || len(set) != 1 || set[0] != "occupancy" {
		t.Fatalf("set %v, %v", set, err)
	}
	r := runDeal(t, d, Options{})
	rent := d.Operating.RevenueCNY["rentals"] * (1 + d.Operating.Growth["rentals"]) // year 2
	drop := base.Projection[1].Revenue.Yuan() - r.Projection[1].Revenue.Yuan()
	if math.Abs(drop-rent/2) > 1 {
		t.Fatalf("year-2 revenue fell by %.2f, want half the rentals %.2f", drop, rent/2)
	}
	if base.Projection[2].Revenue != r.Projection[2].Revenue {
		t.Fatal("year 3 should be unchanged")
	}
}

// TestIRRWithoutSignChange: a tranche that receives nothing has no IRR, and says why.
func TestIRRWithoutSignChange(t *testing.T) {
	d := loadDeal(t, "sequential")
	d.CashFlows = make([]Fen, 12)
	r := runDeal(t, d, Options{})
	a := r.Tranches[0]
	if a.IRR != nil || !strings.Contains(a.IRRNote, "no sign change") || a.EL != 1 || a.PD != 1 {
		t.Fatalf("%+v", a)
	}
}
