// Package scenario runs one community operating unit end to end: it builds the inputs
// a unit's data source describes, runs the twin under each policy on the same inputs,
// settles every run into a monthly operating statement and judges it on the four KPI
// families against the business-as-usual baseline. It is what `lifang demo` and
// `lifang simulate` call; it does no printing.
package scenario

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/lifang-community/lifang/demo"
	"github.com/lifang-community/lifang/forecast"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/kpi"
	"github.com/lifang-community/lifang/policy"
	"github.com/lifang-community/lifang/series"
	"github.com/lifang-community/lifang/settle"
	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Policies known to the CLI, baseline first.
var Policies = []string{"business_as_usual", "rule_based", "mpc"}

// Baseline is the policy every other is compared with.
const Baseline = "business_as_usual"

// CheckPolicy reports whether name is a known policy.
func CheckPolicy(name string) error {
	switch name {
	case "business_as_usual", "bau", "rule_based", "rb", "mpc":
		return nil
	}
	return fmt.Errorf("unknown policy %q (valid: %v)", name, Policies)
}

// Forecasters the policies use, by registry name (forecast.Lookup): the PV surplus of
// the coming day for the rule-based layer; the household load and PV for the MPC.
const (
	SurplusForecaster = "median7"
	// Quantiles chosen on the CityLearn dispatch benchmark: planning on a lower load
	// and a higher PV quantile avoids grid charging that surplus then wastes.
	LoadForecaster = "q40_7"
	PVForecaster   = "q80_7"
)

// NewPolicy makes a fresh policy by name for the model's rules; the caller closes it
// when it has a Close method (the MPC's solver).
func NewPolicy(name string, m *twin.Model) (policy.Policy, error) {
	switch name {
	case "business_as_usual", "bau":
		return policy.NewBusinessAsUsual(m.Rules()), nil
	case "rule_based", "rb":
		rb := policy.NewRuleBased(m.Rules())
		rb.Surplus = forecast.MustLookup(SurplusForecaster)
		return rb, nil
	case "mpc":
		return policy.NewMPC(m.Rules(), forecast.MustLookup(LoadForecaster), forecast.MustLookup(PVForecaster), forecast.MustLookup(SurplusForecaster))
	}
	return nil, fmt.Errorf("unknown policy %q (valid: %v)", name, Policies)
}

// Case is a unit ready to simulate: its engine model and inputs.
type Case struct {
	Unit   *unit.Unit
	Model  *twin.Model
	Inputs *twin.Inputs
	// Source says where the inputs came from ("synthetic", "csv", "citylearn").
	Source string
	Seed   uint64
}

// FromUnit builds the inputs of a defaulted, validated unit from its data source.
// Synthetic units are generated with seed; CSV units take the measured series the file
// has and the seeded models for everything else (EV sessions, parking, rentals).
//
// A unit whose source is citylearn takes its buildings, assets and series from the
// dataset (sized by opt where the dataset autosizes) and its name, location, tariffs,
// costs and resilience settings from the unit; where the dataset has no prices of its
// own, the unit's TOU tariff prices imports.
func FromUnit(u *unit.Unit, seed uint64, baseDir string, opt citylearn.Options) (*Case, error) {
	if u.Data.Source == "citylearn" {
		dir := u.Data.CityLearn
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(baseDir, dir)
		}
		opt.TimeZone = u.Location.TimeZone
		c, err := FromCityLearn(dir, opt)
		if err != nil {
			return nil, err
		}
		cu := c.Unit
		cu.Name, cu.Location = u.Name, u.Location
		cu.Tariffs, cu.Opex, cu.Capex, cu.Resilience = u.Tariffs, u.Opex, u.Capex, u.Resilience
		if c.Model, err = twin.FromUnit(cu); err != nil {
			return nil, err
		}
		return c, nil
	}
	m, err := twin.FromUnit(u)
	if err != nil {
		return nil, err
	}
	in, err := demo.Generate(u, m, seed)
	if err != nil {
		return nil, fmt.Errorf("scenario: synthetic inputs: %w", err)
	}
	if u.Data.Source == "csv" {
		path := u.Data.CSV.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		if err := overlayCSV(in, u, path); err != nil {
			return nil, err
		}
	}
	return &Case{Unit: u, Model: m, Inputs: in, Source: u.Data.Source, Seed: seed}, nil
}

// overlayCSV replaces the synthetic building loads, PV, temperature and rain with the
// columns a CSV file provides.
func overlayCSV(in *twin.Inputs, u *unit.Unit, path string) error {
	c := u.Data.CSV
	tab, err := series.ReadCSVFile(path, c.TimeColumn)
	if err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	if tab.Rows() != in.Steps {
		return fmt.Errorf("scenario: %s has %d rows, the unit simulates %d steps", path, tab.Rows(), in.Steps)
	}
	for b, name := range c.LoadColumns {
		col, err := tab.Column(name)
		if err != nil {
			return fmt.Errorf("scenario: data.csv.load_columns[%d]: %w", b, err)
		}
		for t, v := range col {
			if v < 0 {
				return fmt.Errorf("scenario: %s:%d: column %q: load %g kW is negative", path, t+2, name, v)
			}
		}
		in.BuildingLoadKW[b] = col
	}
	replace := func(field, name string, dst *[]float64) error {
		if name == "" {
			return nil
		}
		col, err := tab.Column(name)
		if err != nil {
			return fmt.Errorf("scenario: data.csv.%s: %w", field, err)
		}
		*dst = col
		return nil
	}
	if c.PVColumn != "" {
		var pv []float64
		if err := replace("pv_column", c.PVColumn, &pv); err != nil {
			return err
		}
		for a := range in.PVKWPerKWp {
			in.PVKWPerKWp[a] = pv
		}
	}
	if err := replace("temp_column", c.TempColumn, &in.TempC); err != nil {
		return err
	}
	return replace("rain_column", c.RainColumn, &in.RainMM)
}

// FromCityLearn imports a CityLearn dataset as a case.
func FromCityLearn(dir string, opt citylearn.Options) (*Case, error) {
	u, in, _, err := citylearn.Import(dir, opt)
	if err != nil {
		return nil, err
	}
	u.ApplyDefaults()
	if err := u.Validate(); err != nil {
		return nil, fmt.Errorf("scenario: imported unit from %s: %w", dir, err)
	}
	// CityLearn buildings pay their own bills: sell to them at the mean tariff price,
	// so the energy statement shows what dispatch saves rather than a made-up margin.
	if el := &u.Tariffs.Electricity; el.ResidentCNYPerKWh == 0 && len(el.Seasons) > 0 && len(el.Seasons[0].Periods) > 0 {
		el.ResidentCNYPerKWh = el.Seasons[0].Periods[0].PriceCNYPerKWh
	}
	m, err := twin.FromUnit(u)
	if err != nil {
		return nil, err
	}
	return &Case{Unit: u, Model: m, Inputs: in, Source: "citylearn"}, nil
}

// PolicyRun is one policy's run, statement and KPIs.
type PolicyRun struct {
	Name      string
	Result    *twin.Result
	Statement *settle.Statement
	KPIs      kpi.KPIs
}

// Progress is told which stage a run is in and how far it got.
type Progress func(stage string, done, total int)

// Run simulates the case under the named policies (the baseline is always run, first,
// because every KPI delta is measured against it).
func (c *Case) Run(policies []string, progress Progress) ([]*PolicyRun, error) {
	return c.RunContext(context.Background(), policies, progress)
}

// RunContext is Run that stops (within a simulated day) when ctx ends, returning ctx's
// error.
func (c *Case) RunContext(ctx context.Context, policies []string, progress Progress) ([]*PolicyRun, error) {
	names := []string{Baseline}
	for _, p := range policies {
		if p == "bau" {
			p = Baseline
		}
		if p == "rb" {
			p = "rule_based"
		}
		if !slices.Contains(names, p) {
			names = append(names, p)
		}
	}
	var runs []*PolicyRun
	var base *kpi.Run
	for _, name := range names {
		pol, err := NewPolicy(name, c.Model)
		if err != nil {
			return nil, err
		}
		var pr twin.Progress
		if progress != nil {
			pr = func(done, total int) { progress("simulate "+name, done, total) }
		}
		res, err := twin.RunContext(ctx, c.Model, c.Inputs, pol, pr)
		if cl, ok := pol.(interface{ Close() }); ok {
			cl.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("scenario: %s: %w", name, err)
		}
		st, err := settle.Settle(c.Unit, c.Model, res)
		if err != nil {
			return nil, fmt.Errorf("scenario: %s: %w", name, err)
		}
		kr := kpi.Run{Unit: c.Unit, Model: c.Model, Inputs: c.Inputs, Result: res, Statement: st}
		k := kpi.Evaluate(kr, base)
		if base == nil {
			b := kr
			base = &b
		}
		runs = append(runs, &PolicyRun{Name: name, Result: res, Statement: st, KPIs: k})
	}
	return runs, nil
}

// Window returns the case cut to days days from start (a local midnight inside the
// unit's period): `lifang simulate --start --days`, and the period a site emulator runs.
func (c *Case) Window(start time.Time, days int) (*Case, error) {
	in := c.Inputs
	off := start.Sub(in.Start)
	if off < 0 || off%in.Step != 0 {
		return nil, fmt.Errorf("scenario: start %s is not a step of the unit's period (from %s, every %v)", start.Format(time.RFC3339), in.Start.Format(time.RFC3339), in.Step)
	}
	if days <= 0 {
		return nil, fmt.Errorf("scenario: %d days: want at least 1", days)
	}
	from, n := int(off/in.Step), int(time.Duration(days)*24*time.Hour/in.Step)
	if from+n > in.Steps {
		return nil, fmt.Errorf("scenario: %d days from %s run past the unit's period, which ends %s", days, start.Format(time.RFC3339),
			in.Start.Add(time.Duration(in.Steps)*in.Step).Format(time.RFC3339))
	}
	w, err := in.Window(from, n)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	out := *c
	out.Inputs = w
	return &out, nil
}
