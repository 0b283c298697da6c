package finance

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// Figures of 华夏北京保障房REIT (京保REIT, 508068) from shared/data/finance/creit_cases.md.

func creitFen(t *testing.T, s string) Fen {
	t.Helper()
	f, err := ParseFen(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCreitBridgeJingbaoH12023(t *testing.T) {
	b := ComputeBridge(BridgeInput{
		NetProfit: creitFen(t, "15503130.26"),
		DA:        creitFen(t, "11747711.58"),
		Interest:  0,
		IncomeTax: creitFen(t, "-1071810.17"),
	})
	if want := creitFen(t, "26179031.67"); b.EBITDA != want {
		t.Fatalf("EBITDA = %s, want %s", b.EBITDA, want)
	}
	if b.DistributableAmount != b.EBITDA {
		t.Errorf("no adjustments: distributable %s, want EBITDA %s", b.DistributableAmount, b.EBITDA)
	}
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ebitda":26179031.67`, `"net_profit":15503130.26`, `"income_tax":-1071810.17`, `"adjustments":[]`, `"distributable_amount":26179031.67`, `"da":11747711.58`, `"interest":0.00`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("JSON %s lacks %s", raw, want)
		}
	}
}

func TestCreitBridgeAdjustments(t *testing.T) {
	var adj []Adjustment
	for _, s := range []string{"capex=-1200000.50", "working_capital=-300000", "opening_cash=250000.25"} {
		a, err := ParseAdjustment(s)
		if err != nil {
			t.Fatal(err)
		}
		adj = append(adj, a)
	}
	b := ComputeBridge(BridgeInput{NetProfit: 1000000000, DA: 500000000, Interest: 100000000, IncomeTax: 50000000, Adjustments: adj})
	if b.EBITDA != 1650000000 {
		t.Fatalf("EBITDA = %s", b.EBITDA)
	}
	// 16,500,000.00 − 1,200,000.50 − 300,000.00 + 250,000.25 = 15,249,999.75
	if want := creitFen(t, "15249999.75"); b.DistributableAmount != want {
		t.Fatalf("distributable = %s, want %s", b.DistributableAmount, want)
	}
}

func TestCreitParseAdjustmentErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"capx=5", `unknown adjustment "capx": want one of capex, fair_value_change, debt_drawn`},
		{"capex", "want NAME=VALUE"},
		{"capex=abc", `adjustment capex: "abc" is not a decimal amount`},
	}
	for _, tt := range tests {
		_, err := ParseAdjustment(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseAdjustment(%q): error %v, want %q", tt.in, err, tt.want)
		}
	}
	if a, err := ParseAdjustment(" Reserves = -1000.005 "); err != nil || a.Name != AdjReserves || a.Amount != -100000 {
		t.Errorf("ParseAdjustment with spaces and case: %+v, %v", a, err)
	}
}

func creitRound(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func TestCreitJingbaoRatios(t *testing.T) {
	forecast := creitFen(t, "49600249.29")
	if got := creitRound(100*DistributionRate(forecast, 2.510, 500_000_000), 2); got != 3.95 {
		t.Errorf("forecast distribution rate = %v %%, want 3.95 %%", got)
	}
	if got := creitRound(100*DistributionRate(forecast, 2.795, 500_000_000), 2); got != 3.55 {
		t.Errorf("distribution rate at 2.795 = %v %%, want 3.55 %%", got)
	}
	net := creitFen(t, "1264573812.36")
	lev := AssetsToNetAssets(creitFen(t, "1403816126.14"), net)
	if got := creitRound(100*lev, 2); got != 111.01 {
		t.Errorf("assets / net assets = %v %%, want 111.01 %%", got)
	}
	if got := creitRound(NAVPerUnit(net, 500_000_000), 4); got != 2.5291 {
		t.Errorf("NAV/unit = %v, want 2.5291", got)
	}
	if got := creitRound(100*PayoutRatio(creitFen(t, "41270000"), forecast), 1); got != 83.2 {
		t.Errorf("1-9M distributable / forecast = %v %%, want 83.2 %%", got)
	}
	if got := Ratio(creitFen(t, "41270000"), forecast, 3); got != 0.832 {
		t.Errorf("Ratio = %v, want 0.832", got)
	}
	if DistributionRate(forecast, 0, 5) != 0 || NAVPerUnit(net, 0) != 0 || AssetsToNetAssets(1, 0) != 0 || PayoutRatio(1, 0) != 0 {
		t.Error("zero denominators must give 0")
	}
}

func TestRulePayoutJingbao2022(t *testing.T) {
	asOf := time.Date(2023, 3, 31, 0, 0, 0, 0, time.UTC)
	payout := PayoutRatio(creitFen(t, "19125000.00"), creitFen(t, "19126725.22"))
	if got := creitRound(100*payout, 2); got != 99.99 {
		t.Errorf("2022 payout = %v %%, want 99.99 %%", got)
	}
	tests := []struct {
		payout float64
		pass   bool
	}{{payout, true}, {0.90, true}, {0.85, false}}
	for _, tt := range tests {
		c := creitCheck(t, Evaluate(DefaultRules(), map[string]float64{MetricPayoutRatio: tt.payout}, asOf), "csrc-2020-54-payout")
		if !c.Applicable || c.Pass != tt.pass || c.Value != tt.payout {
			t.Errorf("payout %v: %+v, want applicable, pass %v", tt.payout, c, tt.pass)
		}
	}
}

func creitCheck(t *testing.T, cs []Check, id string) Check {
	t.Helper()
	for _, c := range cs {
		if c.Rule.ID == id {
			return c
		}
	}
	t.Fatalf("no check for rule %s", id)
	return Check{}
}

func TestRuleDefaults(t *testing.T) {
	rules := DefaultRules()
	ids := map[string]bool{}
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if ids[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		ids[r.ID] = true
		if r.Source == "" || r.Description == "" {
			t.Errorf("%s: no source or description", r.ID)
		}
		if !r.Verified && r.Enabled {
			t.Errorf("%s: unverified rule is enabled by default", r.ID)
		}
	}
	for _, id := range []string{"csrc-2020-54-payout", "csrc-2020-54-annual-distribution", "csrc-2020-54-infra-assets"} {
		if r := creitRule(t, rules, id); !r.Verified || !r.Enabled {
			t.Errorf("%s: want verified and enabled", id)
		}
	}
	for _, id := range []string{"ndrc-2020-pilot-distribution-rate", "ndrc-2023-236-ownership-distribution-rate", "leverage-140"} {
		if r := creitRule(t, rules, id); r.Verified || r.Enabled {
			t.Errorf("%s: want unverified and disabled", id)
		}
	}
	ndrc := creitRule(t, rules, "ndrc-2020-pilot-distribution-rate")
	if ndrc.Effective != "2020-08-03" || ndrc.Until != "2024-07-26" || ndrc.Threshold != 0.04 {
		t.Errorf("NDRC 2020 rule: %+v", ndrc)
	}
}

func creitRule(t *testing.T, rules []Rule, id string) Rule {
	t.Helper()
	for _, r := range rules {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no rule %s", id)
	return Rule{}
}

func TestRuleEvaluateWindowsAndMissingMetrics(t *testing.T) {
	rules := DefaultRules()
	for i := range rules {
		rules[i].Enabled = true // switch the unverified ones on to test the windows
	}
	metrics := map[string]float64{
		MetricPayoutRatio:       0.9999,
		MetricDistributionRate:  0.0395,
		MetricAssetsToNetAssets: 1.1101,
	}
	y2025 := time.Date(2025, 6, 30, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	cs := Evaluate(rules, metrics, y2025)
	if len(cs) != len(rules) {
		t.Fatalf("%d checks for %d rules", len(cs), len(rules))
	}
	if c := creitCheck(t, cs, "ndrc-2020-pilot-distribution-rate"); c.Applicable || !strings.Contains(c.Note, "superseded 2024-07-26") {
		t.Errorf("2025: superseded NDRC 2020 rule: %+v", c)
	}
	if c := creitCheck(t, cs, "ndrc-2023-236-ownership-distribution-rate"); !c.Applicable || !c.Pass {
		t.Errorf("2025: 3.95 %% ≥ 3.8 %%: %+v", c)
	}
	if c := creitCheck(t, cs, "leverage-140"); !c.Applicable || !c.Pass {
		t.Errorf("2025: 111.01 %% ≤ 140 %%: %+v", c)
	}
	if c := creitCheck(t, cs, "csrc-2020-54-infra-assets"); c.Applicable || !strings.Contains(c.Note, "infra_asset_share not supplied") {
		t.Errorf("missing metric: %+v", c)
	}
	// In 2022 the pilot rule was in force, and 3.95 % < 4 % fails it; the 2023 rule was not yet.
	cs = Evaluate(rules, metrics, time.Date(2022, 8, 22, 0, 0, 0, 0, time.UTC))
	if c := creitCheck(t, cs, "ndrc-2020-pilot-distribution-rate"); !c.Applicable || c.Pass {
		t.Errorf("2022: NDRC 2020 rule at 3.95 %%: %+v", c)
	}
	if c := creitCheck(t, cs, "ndrc-2023-236-ownership-distribution-rate"); c.Applicable || !strings.Contains(c.Note, "not yet in force") {
		t.Errorf("2022: NDRC 2023 rule: %+v", c)
	}
	// The day a rule is superseded it no longer applies; the day before it does.
	for _, tt := range []struct {
		date  string
		apply bool
	}{{"2024-07-25", true}, {"2024-07-26", false}} {
		d, _ := time.Parse(time.DateOnly, tt.date)
		if c := creitCheck(t, Evaluate(rules, metrics, d), "ndrc-2020-pilot-distribution-rate"); c.Applicable != tt.apply {
			t.Errorf("%s: applicable %v, want %v", tt.date, c.Applicable, tt.apply)
		}
	}
	// Defaults: unverified rules are off and say so.
	cs = Evaluate(DefaultRules(), metrics, y2025)
	if c := creitCheck(t, cs, "leverage-140"); c.Applicable || c.Note != "disabled: not verified" {
		t.Errorf("default leverage rule: %+v", c)
	}
	// An invalid rule is reported, not evaluated.
	bad := Rule{ID: "bad", Metric: MetricPayoutRatio, Op: ">", Threshold: 1, Effective: "2020-13-01", Enabled: true}
	if c := Evaluate([]Rule{bad}, metrics, y2025)[0]; c.Applicable || !strings.Contains(c.Note, `op ">"`) || !strings.Contains(c.Note, "effective") {
		t.Errorf("invalid rule: %+v", c)
	}
	if _, err := json.Marshal(cs); err != nil {
		t.Fatal(err)
	}
}
