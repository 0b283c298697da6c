package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/finance"
	"github.com/lifang-community/lifang/forecast"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/scenario"
	"github.com/lifang-community/lifang/unit"
)

// operation is the community as the server runs it: the year simulated at start and
// its summary (with the finance block), from which the dashboard's pages are drawn.
type operation struct {
	cfg Config

	mu   sync.RWMutex
	c    *scenario.Case
	runs []*scenario.PolicyRun
	sum  *scenario.Summary
	err  error
	// The summary and finance block never change after boot: encoded once, the
	// summary also without its finance block (for roles without read:finance).
	sumJSON, sumOpsJSON, finJSON []byte
}

var errNotReady = errors.New("the start-up simulation is still running")

func newOperation(cfg Config) *operation { return &operation{cfg: cfg} }

func (o *operation) unit() (*unit.Unit, error) {
	if o.cfg.Unit != nil {
		return o.cfg.Unit, nil
	}
	return unit.Parse(examples.Community, "examples/community.yaml")
}

// simulate runs a unit's year under the policies and values the operated one.
func simulate(ctx context.Context, u *unit.Unit, seed uint64, policies []string, paths int, fin func(*finance.Deal), progress scenario.Progress) (*scenario.Case, []*scenario.PolicyRun, *scenario.Summary, error) {
	if seed == 0 {
		seed = u.Data.Seed
	}
	progress("generate community", 0, 1)
	c, err := scenario.FromUnit(u, seed, ".", citylearn.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	runs, err := c.RunContext(ctx, policies, progress)
	if err != nil {
		return nil, nil, nil, err
	}
	sum := scenario.Summarise(c, runs)
	d, err := finance.CommunityDeal(scenario.OperatingYear(c, scenario.OptimisedRun(runs)))
	if err != nil {
		sum.FinanceError = err.Error()
		return c, runs, sum, nil
	}
	if fin != nil {
		fin(d)
		if err := d.Validate(); err != nil {
			return nil, nil, nil, fmt.Errorf("finance: %w", err)
		}
	}
	sum.Finance, err = finance.Run(ctx, d, finance.Options{Paths: paths, Seed: seed + 1, Progress: func(stage string, done, total int) {
		progress("finance "+stage, done, total)
	}})
	if err != nil {
		return nil, nil, nil, err
	}
	return c, runs, sum, nil
}

// boot simulates the unit; the result is served from then on.
func (o *operation) boot(ctx context.Context, progress scenario.Progress) (any, error) {
	return o.resimulate(ctx, SimulateParams{Seed: o.cfg.Seed, Policies: o.cfg.Policies}, true, progress)
}

// SimulateParams re-run the served year: another seed of the synthetic series, other
// policies.
type SimulateParams struct {
	Seed     uint64   `json:"seed"`
	Policies []string `json:"policies"`
}

func (p *SimulateParams) validate() error {
	if len(p.Policies) == 0 {
		return fmt.Errorf("params.policies: none given")
	}
	for _, name := range p.Policies {
		if err := scenario.CheckPolicy(name); err != nil {
			return fmt.Errorf("params.policies: %w", err)
		}
	}
	return nil
}

// resimulate simulates the unit and, once done, serves the new year (the old one
// until then).
func (o *operation) resimulate(ctx context.Context, p SimulateParams, boot bool, progress scenario.Progress) (any, error) {
	u, err := o.unit()
	if err != nil {
		if boot {
			o.setErr(err)
		}
		return nil, err
	}
	c, runs, sum, err := simulate(ctx, u, p.Seed, p.Policies, o.cfg.FinancePaths, nil, progress)
	if err != nil {
		if boot {
			o.setErr(err)
		}
		return nil, err
	}
	sj, err := json.Marshal(sum)
	if err != nil {
		return nil, err
	}
	var fj []byte
	if sum.Finance != nil {
		if fj, err = json.Marshal(sum.Finance); err != nil {
			return nil, err
		}
	}
	oj, err := withoutFinance(sj)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.c, o.runs, o.sum, o.err = c, runs, sum, nil
	o.sumJSON, o.sumOpsJSON, o.finJSON = append(sj, '\n'), append(oj, '\n'), append(fj, '\n')
	o.mu.Unlock()
	return map[string]any{"unit": sum.Unit.Name, "policies": len(runs), "hours": sum.Hours}, nil
}

func (o *operation) setErr(err error) {
	o.mu.Lock()
	o.err = err
	o.mu.Unlock()
}

// Views of the encoded summary.
const (
	viewSummary = iota
	viewSummaryNoFinance
	viewFinance
)

// encoded is a view of the summary as JSON.
func (o *operation) encoded(view int) ([]byte, error) {
	if _, err := o.summary(); err != nil {
		return nil, err
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	switch view {
	case viewFinance:
		return o.finJSON, nil
	case viewSummaryNoFinance:
		return o.sumOpsJSON, nil
	}
	return o.sumJSON, nil
}

// summary is the run summary, or errNotReady / the start-up error.
func (o *operation) summary() (*scenario.Summary, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.sum == nil {
		if o.err != nil {
			return nil, fmt.Errorf("the start-up simulation failed: %w", o.err)
		}
		return nil, errNotReady
	}
	return o.sum, nil
}

// Timeseries is an hourly window of one policy's plant series.
type Timeseries struct {
	Policy      string      `json:"policy"`
	Start       string      `json:"start"`
	StepMinutes int         `json:"step_minutes"`
	Columns     []string    `json:"columns"`
	Rows        [][]float64 `json:"rows"`
}

func (o *operation) timeseries(policy string, from, hours int) (*Timeseries, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.c == nil {
		return nil, errNotReady
	}
	var run *scenario.PolicyRun
	var names []string
	for _, r := range o.runs {
		names = append(names, r.Name)
		if r.Name == policy {
			run = r
		}
	}
	if run == nil {
		return nil, fmt.Errorf("policy %q was not run (have %v)", policy, names)
	}
	res := run.Result
	steps := res.Steps
	if from < 0 || from >= steps {
		return nil, fmt.Errorf("from %d outside [0, %d)", from, steps)
	}
	end := min(steps, from+hours)
	ts := &Timeseries{Policy: policy, Start: res.Start.Add(time.Duration(from) * res.Step).In(o.c.Model.Loc).Format(time.RFC3339),
		StepMinutes: int(res.Step.Minutes()),
		Columns:     []string{"hour", "import_kw", "export_kw", "pv_kw", "load_kw", "soc_kwh", "price_cny_per_kwh"}}
	s := &res.Series
	for t := from; t < end; t++ {
		ts.Rows = append(ts.Rows, []float64{float64(t), r3(s.ImportKW[t]), r3(s.ExportKW[t]), r3(s.PVUsedKW[t]), r3(s.LoadKW[t]), r3(s.BatteryKWh[t]), r3(s.ImportPrice[t])})
	}
	return ts, nil
}

func r3(v float64) float64 { return math.Round(v*1000) / 1000 }

// Forecast is a load forecast from a day-type profile with split-conformal intervals,
// shown against the history before it and the actual load after it.
type Forecast struct {
	Series   string   `json:"series"`
	Model    string   `json:"model"`
	Origin   string   `json:"origin"`
	History  [][2]any `json:"history"`
	Forecast [][4]any `json:"forecast"` // time, p50, p10, p90
	Actual   [][2]any `json:"actual"`
	Coverage float64  `json:"coverage"` // share of actuals inside [p10, p90]
	Level    float64  `json:"level"`
	Note     string   `json:"note"`
}

// forecastLoad forecasts the community's load `days` days ahead from an origin 300
// days into the simulated year, with 80 % split-conformal intervals calibrated on the
// 28 days before the origin (each calibration day forecast from data before it only).
func (o *operation) forecastLoad(days int) (*Forecast, error) {
	o.mu.RLock()
	c, runs := o.c, o.runs
	o.mu.RUnlock()
	if c == nil {
		return nil, errNotReady
	}
	res := runs[0].Result
	load := res.Series.LoadKW
	perDay := int(24 * time.Hour / res.Step)
	origin := 300 * perDay
	if origin+days*perDay > len(load) {
		return nil, fmt.Errorf("days %d runs past the simulated year", days)
	}
	at := func(i int) time.Time { return res.Start.Add(time.Duration(i) * res.Step).In(c.Model.Loc) }
	m := forecast.MustLookup("daytype_wmedian10")
	// Calibration: absolute errors of day-ahead forecasts, by hour of day.
	errs := make([][]float64, perDay)
	for d := origin/perDay - 28; d < origin/perDay; d++ {
		p := m.Predict(load[:d*perDay], at(d*perDay), perDay)
		for h := 0; h < perDay; h++ {
			errs[h] = append(errs[h], math.Abs(load[d*perDay+h]-p[h]))
		}
	}
	const level = 0.8
	q := make([]float64, perDay)
	for h := range errs {
		e := append([]float64(nil), errs[h]...)
		sort.Float64s(e)
		// Split-conformal quantile: the ⌈(n+1)·level⌉-th smallest residual.
		k := int(math.Ceil(float64(len(e)+1)*level)) - 1
		q[h] = e[min(k, len(e)-1)]
	}
	f := &Forecast{Series: "load_kw", Model: m.Name() + " (day-type weighted median of 10 days)", Origin: at(origin).Format(time.RFC3339), Level: level,
		Note: "simulated year; the forecast sees only the load before its origin"}
	for i := origin - 7*perDay; i < origin; i++ {
		f.History = append(f.History, [2]any{at(i).Format(time.RFC3339), r3(load[i])})
	}
	in := 0
	// Every day is forecast from the load before the origin only (no peeking).
	p := m.Predict(load[:origin], at(origin), days*perDay)
	for k := range p {
		i, h := origin+k, k%perDay
		lo, hi := math.Max(0, p[k]-q[h]), p[k]+q[h]
		f.Forecast = append(f.Forecast, [4]any{at(i).Format(time.RFC3339), r3(p[k]), r3(lo), r3(hi)})
		f.Actual = append(f.Actual, [2]any{at(i).Format(time.RFC3339), r3(load[i])})
		if load[i] >= lo && load[i] <= hi {
			in++
		}
	}
	f.Coverage = float64(in) / float64(days*perDay)
	return f, nil
}

// ScenarioParams are the levers of a scenario job.
type ScenarioParams struct {
	BatteryScale float64 `json:"battery_scale"`
	PVScale      float64 `json:"pv_scale"`
	DiscountRate float64 `json:"discount_rate"`
	PayoutRatio  float64 `json:"payout_ratio"`
}

func (p *ScenarioParams) validate() error {
	switch {
	case !(p.BatteryScale >= 0 && p.BatteryScale <= 3):
		return fmt.Errorf("params.battery_scale: %g must be in [0, 3]", p.BatteryScale)
	case !(p.PVScale >= 0 && p.PVScale <= 3):
		return fmt.Errorf("params.pv_scale: %g must be in [0, 3]", p.PVScale)
	case !(p.DiscountRate >= 0.01 && p.DiscountRate <= 0.2):
		return fmt.Errorf("params.discount_rate: %g must be in [0.01, 0.2]", p.DiscountRate)
	case !(p.PayoutRatio >= 0.5 && p.PayoutRatio <= 1):
		return fmt.Errorf("params.payout_ratio: %g must be in [0.5, 1]", p.PayoutRatio)
	}
	return nil
}

// ScenarioMetrics are what a scenario is compared on.
type ScenarioMetrics struct {
	NOICNY           float64 `json:"noi_cny"`
	PeakImportKW     float64 `json:"peak_import_kw"`
	DistributionRate float64 `json:"distribution_rate"`
	CFaR95           float64 `json:"cfar95"`
	AssetValue       float64 `json:"asset_value"`
}

// ScenarioResult compares the scenario with the unit as it is, both under the
// rule-based policy (fast enough for an interactive job).
type ScenarioResult struct {
	Policy   string          `json:"policy"`
	Base     ScenarioMetrics `json:"base"`
	Scenario ScenarioMetrics `json:"scenario"`
}

func (o *operation) scenario(ctx context.Context, p ScenarioParams, progress scenario.Progress) (*ScenarioResult, error) {
	u, err := o.unit()
	if err != nil {
		return nil, err
	}
	const policy = "rule_based"
	const paths = 500
	run := func(label string, uu *unit.Unit, fin func(*finance.Deal)) (ScenarioMetrics, error) {
		_, runs, sum, err := simulate(ctx, uu, o.cfg.Seed, []string{policy}, paths, fin, func(stage string, done, total int) {
			progress(label+": "+stage, done, total)
		})
		if err != nil {
			return ScenarioMetrics{}, err
		}
		r := runs[len(runs)-1]
		m := ScenarioMetrics{NOICNY: r.Statement.Annual.NOITotalCNY, PeakImportKW: r.Result.Energy.PeakImportKW}
		if f := sum.Finance; f != nil {
			m.DistributionRate = f.CREIT.DistributionRate
			m.AssetValue = f.Valuation.Value.Yuan()
			if f.Risk != nil {
				m.CFaR95 = f.Risk.CFaR95.Yuan()
			}
		}
		return m, nil
	}
	base, err := run("base", u, nil)
	if err != nil {
		return nil, err
	}
	su := *u
	su.Batteries = append([]unit.Battery(nil), u.Batteries...)
	for i := range su.Batteries {
		su.Batteries[i].CapacityKWh *= p.BatteryScale
		su.Batteries[i].PowerKW *= p.BatteryScale
	}
	su.PV = append([]unit.PVArray(nil), u.PV...)
	for i := range su.PV {
		su.PV[i].CapacityKW *= p.PVScale
	}
	su.Batteries = slices.DeleteFunc(su.Batteries, func(b unit.Battery) bool { return b.CapacityKWh <= 0 })
	su.PV = slices.DeleteFunc(su.PV, func(p unit.PVArray) bool { return p.CapacityKW <= 0 })
	sc, err := run("scenario", &su, func(d *finance.Deal) {
		d.Valuation.DiscountRate = p.DiscountRate
		d.CREIT.PayoutRatio = p.PayoutRatio
	})
	if err != nil {
		return nil, err
	}
	return &ScenarioResult{Policy: policy, Base: base, Scenario: sc}, nil
}

// householdValues is each household's electricity use over the simulated year (kWh):
// its building's load × its group's share ÷ the group's households.
func (o *operation) householdValues() ([]float64, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.c == nil {
		return nil, errNotReady
	}
	in := o.c.Inputs
	hours := in.Step.Hours()
	bld := make([]float64, len(in.BuildingLoadKW))
	for b, s := range in.BuildingLoadKW {
		for _, v := range s {
			bld[b] += v * hours
		}
	}
	var out []float64
	for _, g := range in.Households {
		if g.Count <= 0 || g.Building < 0 || g.Building >= len(bld) {
			continue
		}
		per := bld[g.Building] * g.LoadShare / float64(g.Count)
		for range g.Count {
			out = append(out, per)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the unit has no household-level data")
	}
	return out, nil
}

// MonteCarloParams re-run the finance block's Monte Carlo.
type MonteCarloParams struct {
	Paths int    `json:"paths"`
	Seed  uint64 `json:"seed"`
}

// monteCarlo re-runs the optimised operation's finance with more paths or another seed.
func (o *operation) monteCarlo(ctx context.Context, p MonteCarloParams, progress scenario.Progress) (any, error) {
	o.mu.RLock()
	c, runs := o.c, o.runs
	o.mu.RUnlock()
	if c == nil {
		return nil, errNotReady
	}
	d, err := finance.CommunityDeal(scenario.OperatingYear(c, scenario.OptimisedRun(runs)))
	if err != nil {
		return nil, err
	}
	res, err := finance.Run(ctx, d, finance.Options{Paths: p.Paths, Seed: p.Seed, Progress: func(stage string, done, total int) { progress(stage, done, total) }})
	if err != nil {
		return nil, err
	}
	return map[string]any{"risk": res.Risk, "tranches": res.Tranches}, nil
}

// withoutFinance is the summary for roles without read:finance (the auditor): the
// operation — energy, devices, resilience and social KPIs — without a single money
// figure of the operating result: NOI, revenue, opex, the statement, monthly money, the
// economic and financial KPI families, the NOI and bill deltas against the baseline,
// and the finance block.
func withoutFinance(summary []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(summary, &m); err != nil {
		return nil, err
	}
	delete(m, "finance")
	m["finance_error"] = "withheld: this role cannot read finance"
	if ps, ok := m["policies"].(map[string]any); ok {
		for _, p := range ps {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			for _, k := range []string{"noi_cny", "revenue_cny", "opex_cny", "noi_by_subsystem_cny", "statement"} {
				delete(pm, k)
			}
			if ms, ok := pm["monthly"].([]any); ok {
				for _, ml := range ms {
					if mm, ok := ml.(map[string]any); ok {
						delete(mm, "revenue_cny")
						delete(mm, "opex_cny")
						delete(mm, "noi_cny")
					}
				}
			}
			if k, ok := pm["kpi"].(map[string]any); ok {
				delete(k, "economic")
				delete(k, "financial")
			}
			for _, group := range []string{"parking", "rentals"} { // their takings, not their operation
				if xs, ok := pm[group].([]any); ok {
					for _, x := range xs {
						if xm, ok := x.(map[string]any); ok {
							for _, k := range []string{"revenue_cny", "resident_share_cny", "operator_share_cny", "revpar_cny"} {
								delete(xm, k)
							}
						}
					}
				}
			}
		}
	}
	if cs, ok := m["comparison_vs_baseline"].(map[string]any); ok {
		for _, c := range cs {
			if cm, ok := c.(map[string]any); ok {
				for k := range cm {
					if strings.HasSuffix(k, "_cny") || strings.Contains(k, "noi") {
						delete(cm, k)
					}
				}
			}
		}
	}
	return json.Marshal(m)
}
