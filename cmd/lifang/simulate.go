package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/report"
	"github.com/lifang-community/lifang/scenario"
	"github.com/lifang-community/lifang/unit"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[--out DIR] [--seed N]", stderr)
	out := fs.String("out", "lifang-demo", "directory for summary.json, timeseries.csv, statement.csv and report.html")
	seed := fs.Uint64("seed", 7, "seed of the synthetic community (same seed ⇒ byte-identical files)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	u, err := unit.Parse(examples.Community, "examples/community.yaml")
	if err != nil {
		return err
	}
	u.Data.Seed = *seed
	prog := progress(stderr, *quiet)
	prog("generate synthetic community", 0, 1)
	c, err := scenario.FromUnit(u, *seed, ".", citylearn.Options{})
	if err != nil {
		return err
	}
	return simulateAndWrite(c, scenario.Policies, *out, stdout, prog)
}

func runSimulate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("simulate", "(--unit FILE.yaml | --citylearn DIR | both) [--policy NAME[,NAME]] [--out DIR]", stderr)
	unitFile := fs.String("unit", "", "unit file (YAML); see examples/community.yaml")
	clDir := fs.String("citylearn", "", "CityLearn dataset directory (schema.json, building CSVs, …)")
	policy := fs.String("policy", "all", "policies to run: business_as_usual, rule_based, or all (the baseline always runs for comparison)")
	out := fs.String("out", "lifang-run", "output directory")
	seed := fs.Uint64("seed", 0, "seed for synthetic series (0: the unit's data.seed)")
	pvKW := fs.Float64("pv-kw-per-building", 0, "CityLearn: PV kW for each building whose PV is autosize")
	batKWh := fs.Float64("battery-kwh-per-building", 0, "CityLearn: battery kWh for each building whose battery is autosize")
	batKW := fs.Float64("battery-kw-per-building", 0, "CityLearn: battery kW (0: kWh / 2)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	startText := fs.String("start", "", "simulate only from this time (RFC 3339, a local midnight inside the unit's period)")
	days := fs.Int("days", 0, "with --start: how many days to simulate")
	if err := parse(fs, args); err != nil {
		return err
	}
	var start time.Time
	if *startText != "" {
		var err error
		if start, err = time.Parse(time.RFC3339, *startText); err != nil {
			return usageError{fmt.Sprintf("--start %q: want RFC 3339, e.g. 2025-07-14T00:00:00+08:00", *startText)}
		}
		if *days <= 0 {
			return usageError{"--start needs --days N (N >= 1)"}
		}
	} else if *days != 0 {
		return usageError{"--days needs --start"}
	}
	if *unitFile == "" && *clDir == "" {
		return usageError{"give --unit FILE.yaml, --citylearn DIR, or both (the unit then prices the dataset)"}
	}
	policies := scenario.Policies
	if *policy != "all" {
		policies = strings.Split(*policy, ",")
		for _, p := range policies {
			if err := scenario.CheckPolicy(p); err != nil {
				return usageError{"--policy: " + err.Error()}
			}
		}
	}
	prog := progress(stderr, *quiet)
	opt := citylearn.Options{PVKWPerBuilding: *pvKW, BatteryKWhPerBuilding: *batKWh, BatteryKWPerBuilding: *batKW}
	var c *scenario.Case
	var err error
	if *unitFile == "" {
		prog("import CityLearn dataset", 0, 1)
		c, err = scenario.FromCityLearn(*clDir, opt)
	} else {
		var u *unit.Unit
		if u, err = unit.Load(*unitFile); err != nil {
			return err
		}
		s := u.Data.Seed
		if *seed != 0 {
			s = *seed
		}
		base := filepath.Dir(*unitFile)
		if *clDir != "" {
			u.Data.Source, u.Data.CityLearn, base = "citylearn", *clDir, "."
		}
		prog("build inputs ("+u.Data.Source+")", 0, 1)
		c, err = scenario.FromUnit(u, s, base, opt)
	}
	if err != nil {
		return err
	}
	if !start.IsZero() {
		if c, err = c.Window(start, *days); err != nil {
			return err
		}
	}
	return simulateAndWrite(c, policies, *out, stdout, prog)
}

func runValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", "FILE.yaml", stderr)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{"want one unit file"}
	}
	if _, err := unit.Load(fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", fs.Arg(0))
	return nil
}

func simulateAndWrite(c *scenario.Case, policies []string, out string, stdout io.Writer, prog scenario.Progress) error {
	runs, err := c.Run(policies, prog)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	sum := scenario.Summarise(c, runs)
	if span := time.Duration(c.Inputs.Steps) * c.Inputs.Step; span < 365*24*time.Hour {
		// A C-REIT is valued on an operating year; a shorter window would be scaled up
		// from one season.
		sum.FinanceError = fmt.Sprintf("not valued: the run covers %v, finance needs a year", span)
	} else if sum.Finance, err = scenario.Finance(context.Background(), c, runs, 2000, prog); err != nil {
		// The operation is reported either way; the finance block says why it is absent.
		sum.FinanceError = err.Error()
		prog("finance skipped: "+err.Error(), 0, 1)
	}
	write := func(name string, f func(io.Writer) error) error {
		path := filepath.Join(out, name)
		fh, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := f(fh); err != nil {
			fh.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		return fh.Close()
	}
	prog("write outputs", 0, 1)
	if err := write("summary.json", func(w io.Writer) error { return scenario.WriteJSON(w, sum) }); err != nil {
		return err
	}
	if err := write("timeseries.csv", func(w io.Writer) error { return scenario.WriteTimeseries(w, c, runs) }); err != nil {
		return err
	}
	if err := write("statement.csv", func(w io.Writer) error { return scenario.WriteStatement(w, runs) }); err != nil {
		return err
	}
	if err := write("report.html", func(w io.Writer) error { return report.Write(w, scenario.Page(c, runs, sum)) }); err != nil {
		return err
	}
	prog("done", 1, 1)
	printHeadline(stdout, sum, out)
	return nil
}

func printHeadline(w io.Writer, s *scenario.Summary, out string) {
	fmt.Fprintf(w, "%s: %d buildings, %d households, %d h (%s data)\n", s.Unit.Name, s.Unit.Buildings, s.Unit.Households, s.Hours, s.Unit.Source)
	for _, name := range scenario.Policies {
		p, ok := s.Policies[name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "  %-18s NOI %14s  revenue %14s  import %12.0f kWh  peak %8.1f kW\n", name,
			report.FormatCNY(p.NOICNY), report.FormatCNY(p.RevenueCNY["total"]), p.Energy.ImportKWh, p.Energy.PeakImportKW)
	}
	for _, name := range scenario.Policies {
		c, ok := s.Comparison[name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "  %s vs baseline: NOI %+.0f CNY, grid bill %+.0f CNY, peak %+.1f %%\n", name, c.NOIGainCNY, -c.GridSavingsCNY, -100*c.PeakReduction)
	}
	if f := s.Finance; f != nil {
		fmt.Fprintf(w, "  as a C-REIT: asset value %s, distribution rate %.2f %%, NAV/unit %.4f", report.FormatCNY(f.Valuation.Value.Yuan()),
			100*f.CREIT.DistributionRate, f.CREIT.NAVPerUnit)
		if f.Risk != nil {
			fmt.Fprintf(w, ", CFaR95 %s (%d paths)", report.FormatCNY(f.Risk.CFaR95.Yuan()), f.Risk.Paths)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "wrote %s/{summary.json,timeseries.csv,statement.csv,report.html}\n", out)
}

// progress prints stage progress to stderr, one line per stage change or 25 % step.
func progress(w io.Writer, quiet bool) scenario.Progress {
	if quiet {
		return func(string, int, int) {}
	}
	last, lastPct := "", -1
	return func(stage string, done, total int) {
		pct := 100 * done / max(total, 1)
		if stage == last && pct/25 == lastPct/25 {
			return
		}
		last, lastPct = stage, pct
		if total > 1 {
			fmt.Fprintf(w, "lifang: %s %3d%%\n", stage, pct)
		} else {
			fmt.Fprintf(w, "lifang: %s\n", stage)
		}
	}
}
