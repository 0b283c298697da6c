package finance

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The C-REIT view: the distributable-amount bridge a fund discloses, the ratios it
// reports, and a versioned, sourced rule set to check them against. Facts and case
// figures are in REFERENCES.md ("Finance and C-REITs") and
// shared/data/finance/creit_cases.md (华夏北京保障房REIT, 508068).

// Adjustment is one line from EBITDA to the distributable amount, signed as it is added
// to EBITDA: capital expenditure and reserves are negative, debt drawn is positive.
type Adjustment struct {
	Name   string `json:"name"`
	Amount Fen    `json:"amount"`
}

// Adjustment names a bridge accepts (ParseAdjustment rejects any other), with the sign
// each normally carries.
const (
	AdjCapex           = "capex"             // capital expenditure paid: negative
	AdjFairValueChange = "fair_value_change" // reverses non-cash fair-value gains (negative) or losses (positive) in net profit
	AdjDebtDrawn       = "debt_drawn"        // borrowings drawn: positive
	AdjDebtRepaid      = "debt_repaid"       // principal repaid: negative
	AdjInterestPaid    = "interest_paid"     // interest paid in cash: negative
	AdjTaxPaid         = "tax_paid"          // income tax paid in cash: negative
	AdjWorkingCapital  = "working_capital"   // change in working capital: an increase is negative
	AdjReserves        = "reserves"          // cash reserved for future spending: negative (a release is positive)
	AdjOpeningCash     = "opening_cash"      // distributable cash carried in from the previous period: positive
	AdjOther           = "other"             // anything else the fund discloses, signed as added
)

var adjustmentNames = []string{AdjCapex, AdjFairValueChange, AdjDebtDrawn, AdjDebtRepaid, AdjInterestPaid,
	AdjTaxPaid, AdjWorkingCapital, AdjReserves, AdjOpeningCash, AdjOther}

// AdjustmentNames lists the adjustment names a bridge accepts, in bridge order.
func AdjustmentNames() []string { return slices.Clone(adjustmentNames) }

// ParseAdjustment reads NAME=VALUE ("capex=-1200000.00"): NAME one of AdjustmentNames
// (case-insensitive), VALUE a decimal amount in yuan read exactly (see ParseFen).
func ParseAdjustment(s string) (Adjustment, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok {
		return Adjustment{}, fmt.Errorf("adjustment %q: want NAME=VALUE, NAME one of %s", s, strings.Join(adjustmentNames, ", "))
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if !slices.Contains(adjustmentNames, name) {
		return Adjustment{}, fmt.Errorf("unknown adjustment %q: want one of %s", name, strings.Join(adjustmentNames, ", "))
	}
	v, err := ParseFen(val)
	if err != nil {
		return Adjustment{}, fmt.Errorf("adjustment %s: %w", name, err)
	}
	return Adjustment{Name: name, Amount: v}, nil
}

// BridgeInput is the income-statement figures (in fen) and the adjustments a fund's
// distributable-amount calculation starts from. IncomeTax is the income tax expense as
// reported: a tax credit is negative.
type BridgeInput struct {
	NetProfit   Fen          `json:"net_profit"`
	DA          Fen          `json:"da"`
	Interest    Fen          `json:"interest"`
	IncomeTax   Fen          `json:"income_tax"`
	Adjustments []Adjustment `json:"adjustments"`
}

// Bridge is the calculation from net profit to the distributable amount (可供分配金额),
// every figure exact to the fen.
type Bridge struct {
	NetProfit           Fen          `json:"net_profit"`
	DA                  Fen          `json:"da"`
	Interest            Fen          `json:"interest"`
	IncomeTax           Fen          `json:"income_tax"`
	EBITDA              Fen          `json:"ebitda"`
	Adjustments         []Adjustment `json:"adjustments"`
	DistributableAmount Fen          `json:"distributable_amount"`
}

// ComputeBridge computes EBITDA = net profit + D&A + interest + income tax, then the
// distributable amount = EBITDA + Σ adjustments, as C-REIT reports disclose it.
func ComputeBridge(in BridgeInput) Bridge {
	b := Bridge{
		NetProfit:   in.NetProfit,
		DA:          in.DA,
		Interest:    in.Interest,
		IncomeTax:   in.IncomeTax,
		EBITDA:      in.NetProfit + in.DA + in.Interest + in.IncomeTax,
		Adjustments: append([]Adjustment{}, in.Adjustments...), // [] not null in JSON
	}
	b.DistributableAmount = b.EBITDA
	for _, a := range in.Adjustments {
		b.DistributableAmount += a.Amount
	}
	return b
}

// DistributionRate is the cash distribution rate distribution / (price × units), with
// price in yuan per unit; 0 when price × units is not positive.
func DistributionRate(distribution Fen, price float64, units int64) float64 {
	den := price * float64(units)
	if !(den > 0) {
		return 0
	}
	return distribution.Yuan() / den
}

// AssetsToNetAssets is total assets / net assets, the leverage figure C-REIT reports
// disclose (1.1101 for 111.01 %); 0 when net assets are 0.
func AssetsToNetAssets(total, net Fen) float64 {
	if net == 0 {
		return 0
	}
	return float64(total) / float64(net)
}

// NAVPerUnit is net assets per unit in yuan; 0 when units is not positive.
func NAVPerUnit(net Fen, units int64) float64 {
	if units <= 0 {
		return 0
	}
	return net.Yuan() / float64(units)
}

// PayoutRatio is distributed / distributable; 0 when distributable is 0.
func PayoutRatio(distributed, distributable Fen) float64 {
	if distributable == 0 {
		return 0
	}
	return float64(distributed) / float64(distributable)
}

// Metric names the default rules read from Evaluate's metrics map.
const (
	MetricPayoutRatio          = "payout_ratio"           // distributed / annual distributable amount
	MetricDistributionsPerYear = "distributions_per_year" // cash distributions made in the year
	MetricInfraAssetShare      = "infra_asset_share"      // share of fund assets in infrastructure ABS
	MetricDistributionRate     = "distribution_rate"      // (expected) annual distribution / (price × units)
	MetricProjectIRR           = "project_irr"            // project IRR (franchise-type projects)
	MetricAssetsToNetAssets    = "assets_to_net_assets"   // total assets / net assets
)

// Rule is one sourced regulatory threshold: Metric Op Threshold, in force from Effective
// (inclusive) until Until (exclusive; empty while not superseded). Verified says whether
// the threshold and its source have been checked against the document; rules that are
// not are shipped disabled.
type Rule struct {
	ID          string  `json:"id"`
	Description string  `json:"description"`
	Source      string  `json:"source"`
	Effective   string  `json:"effective"`       // YYYY-MM-DD
	Until       string  `json:"until,omitempty"` // YYYY-MM-DD the rule was superseded
	Verified    bool    `json:"verified"`
	Enabled     bool    `json:"enabled"`
	Metric      string  `json:"metric"`
	Op          string  `json:"op"` // ">=" or "<="
	Threshold   float64 `json:"threshold"`
}

// Validate checks that the rule can be evaluated: an ID, a metric, a known operator, a
// finite threshold and ISO dates with Until after Effective.
func (r Rule) Validate() error {
	var errs []error
	if r.ID == "" {
		errs = append(errs, errors.New("id is required"))
	}
	if r.Metric == "" {
		errs = append(errs, errors.New("metric is required"))
	}
	if r.Op != ">=" && r.Op != "<=" {
		errs = append(errs, fmt.Errorf("op %q: want >= or <=", r.Op))
	}
	if math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
		errs = append(errs, fmt.Errorf("threshold %v is not finite", r.Threshold))
	}
	from, err := time.Parse(time.DateOnly, r.Effective)
	if err != nil {
		errs = append(errs, fmt.Errorf("effective %q: not an ISO date (YYYY-MM-DD)", r.Effective))
	}
	if r.Until != "" {
		until, err2 := time.Parse(time.DateOnly, r.Until)
		switch {
		case err2 != nil:
			errs = append(errs, fmt.Errorf("until %q: not an ISO date (YYYY-MM-DD)", r.Until))
		case err == nil && !until.After(from):
			errs = append(errs, fmt.Errorf("until %s is not after effective %s", r.Until, r.Effective))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rule %q: %w", r.ID, err)
	}
	return nil
}

// DefaultRules is the C-REIT rule set as recorded in REFERENCES.md. Rules whose
// threshold or source is not verified are disabled; enable them deliberately. Where the
// effective date is not recorded, Effective is the start of the year (approximate) and
// the Source says so.
func DefaultRules() []Rule {
	const csrc = "CSRC announcement 2020 No. 54 (guideline on publicly offered infrastructure securities investment funds); " +
		"effective date not recorded in REFERENCES.md: 2020-01-01 is the year start (approximate)"
	return []Rule{
		{
			ID: "csrc-2020-54-payout", Description: "pay out at least 90 % of the annual distributable amount",
			Source: csrc, Effective: "2020-01-01", Verified: true, Enabled: true,
			Metric: MetricPayoutRatio, Op: ">=", Threshold: 0.90,
		},
		{
			ID: "csrc-2020-54-annual-distribution", Description: "make at least one cash distribution a year",
			Source: csrc, Effective: "2020-01-01", Verified: true, Enabled: true,
			Metric: MetricDistributionsPerYear, Op: ">=", Threshold: 1,
		},
		{
			ID: "csrc-2020-54-infra-assets", Description: "hold at least 80 % of fund assets in infrastructure asset-backed securities",
			Source: csrc, Effective: "2020-01-01", Verified: true, Enabled: true,
			Metric: MetricInfraAssetShare, Op: ">=", Threshold: 0.80,
		},
		{
			ID: "ndrc-2020-pilot-distribution-rate", Description: "expected distribution rate of at least 4 % for 3 years (pilot admission; also ≥ 3 years of operation)",
			Source:    "NDRC 2020 infrastructure REIT pilot notice (document number not recorded); superseded by NDRC 2024 No. 1014, which dropped the future-return requirement",
			Effective: "2020-08-03", Until: "2024-07-26", Verified: false, Enabled: false,
			Metric: MetricDistributionRate, Op: ">=", Threshold: 0.04,
		},
		{
			ID: "ndrc-2023-236-ownership-distribution-rate", Description: "ownership-type projects: expected distribution rate of at least 3.8 % (enable for ownership-type projects only)",
			Source:    "NDRC 2023 No. 236 (unverified); effective date not recorded: 2023-01-01 is the year start (approximate); whether NDRC 2024 No. 1014 superseded it is not recorded, so no end date is set",
			Effective: "2023-01-01", Verified: false, Enabled: false,
			Metric: MetricDistributionRate, Op: ">=", Threshold: 0.038,
		},
		{
			ID: "ndrc-2023-236-franchise-irr", Description: "franchise-type projects: project IRR of at least 5 % (enable for franchise-type projects only)",
			Source:    "NDRC 2023 No. 236 (unverified); effective date not recorded: 2023-01-01 is the year start (approximate); whether NDRC 2024 No. 1014 superseded it is not recorded, so no end date is set",
			Effective: "2023-01-01", Verified: false, Enabled: false,
			Metric: MetricProjectIRR, Op: ">=", Threshold: 0.05,
		},
		{
			ID: "leverage-140", Description: "total assets at most 140 % of net assets",
			Source:    "C-REIT leverage limit as recorded in REFERENCES.md (unverified; issuing document and date not recorded: 2020-01-01 is approximate)",
			Effective: "2020-01-01", Verified: false, Enabled: false,
			Metric: MetricAssetsToNetAssets, Op: "<=", Threshold: 1.40,
		},
	}
}

// Check is the outcome of one rule. Pass is meaningful only when Applicable; Note says
// why a rule did not apply.
type Check struct {
	Rule       Rule    `json:"rule"`
	Value      float64 `json:"value"`
	Pass       bool    `json:"pass"`
	Applicable bool    `json:"applicable"`
	Note       string  `json:"note,omitempty"`
}

// ruleSlack keeps ratios computed in float64 from exact decimal figures (0.9 exactly)
// from failing a threshold on the last bit.
const ruleSlack = 1e-9

// Evaluate checks metrics against every rule, in order, on the calendar date of asOf.
// A rule applies when it is valid, enabled, in force on that date (Effective ≤ asOf <
// Until) and its metric is present and finite; otherwise the Check is not applicable
// and its Note says why.
func Evaluate(rules []Rule, metrics map[string]float64, asOf time.Time) []Check {
	day := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	out := make([]Check, 0, len(rules))
	for _, r := range rules {
		c := Check{Rule: r}
		out = append(out, c)
		ck := &out[len(out)-1]
		if err := r.Validate(); err != nil {
			ck.Note = err.Error()
			continue
		}
		if !r.Enabled {
			ck.Note = "disabled"
			if !r.Verified {
				ck.Note = "disabled: not verified"
			}
			continue
		}
		from, _ := time.Parse(time.DateOnly, r.Effective)
		if day.Before(from) {
			ck.Note = "not yet in force on " + day.Format(time.DateOnly) + " (effective " + r.Effective + ")"
			continue
		}
		if r.Until != "" {
			until, _ := time.Parse(time.DateOnly, r.Until)
			if !day.Before(until) {
				ck.Note = "no longer in force on " + day.Format(time.DateOnly) + " (superseded " + r.Until + ")"
				continue
			}
		}
		v, ok := metrics[r.Metric]
		if !ok {
			ck.Note = "metric " + r.Metric + " not supplied"
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			ck.Note = fmt.Sprintf("metric %s is not finite (%v)", r.Metric, v)
			continue
		}
		slack := ruleSlack * math.Max(1, math.Abs(r.Threshold))
		ck.Value, ck.Applicable = v, true
		if r.Op == ">=" {
			ck.Pass = v >= r.Threshold-slack
		} else {
			ck.Pass = v <= r.Threshold+slack
		}
	}
	return out
}
