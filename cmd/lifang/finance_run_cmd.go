package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/finance"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/scenario"
	"github.com/lifang-community/lifang/unit"
)

func init() {
	financeCommands["run"] = runFinanceRun
}

// runFinanceRun projects, values, stresses and structures a deal file.
func runFinanceRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("finance run", "--deal FILE.json [--paths N] [--seed S] [--workers N] [--monthly] --out DIR", stderr)
	dealFile := fs.String("deal", "", "deal file (JSON; see finance/testdata/deals)")
	paths := fs.Int("paths", -1, "Monte Carlo paths (default: the deal's risk.paths; 0: none)")
	seed := fs.Uint64("seed", 0, "master seed (0: the deal's risk.seed)")
	workers := fs.Int("workers", 0, "parallel workers (0: all cores)")
	monthly := fs.Bool("monthly", false, "include every month of the base case in result.json")
	out := fs.String("out", "", "output directory for result.json")
	drivers := fs.String("drivers", "", "annual driver paths from `lifang sd drivers --out FILE.json` (Occupancy, Tariff Index, Parking Price Index)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dealFile == "" || *out == "" {
		return usageError{"finance run needs --deal FILE and --out DIR"}
	}
	if *paths < -1 {
		return usageError{"--paths must be >= 0"}
	}
	d, err := finance.LoadDeal(*dealFile)
	if err != nil {
		return err
	}
	if *drivers != "" {
		b, err := os.ReadFile(*drivers)
		if err != nil {
			return err
		}
		var dp struct { // sd.Drivers, alone or inside `lifang sd drivers` output
			Paths   map[string][]float64 `json:"paths"`
			Drivers struct {
				Paths map[string][]float64 `json:"paths"`
			} `json:"drivers"`
		}
		if err := json.Unmarshal(b, &dp); err != nil {
			return fmt.Errorf("%s: %w", *drivers, err)
		}
		if dp.Paths == nil {
			dp.Paths = dp.Drivers.Paths
		}
		set, err := d.ApplyDriverPaths(dp.Paths)
		if err != nil {
			return fmt.Errorf("%s: %w", *drivers, err)
		}
		fmt.Fprintf(stderr, "lifang: driver paths from %s: %v\n", *drivers, set)
	}
	opt := finance.Options{Paths: *paths, Seed: *seed, Workers: *workers, Monthly: *monthly, Progress: progress(stderr, *quiet)}
	if *paths == -1 {
		opt.Paths = d.Risk.Paths
	} else if *paths == 0 {
		d.Risk.Paths = 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := finance.Run(ctx, d, opt)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(*out, "result.json")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := printJSON(f, res); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	c := res.CREIT
	fmt.Fprintf(stdout, "%s: %d months from %s\n", res.Deal, res.Months, res.Start)
	fmt.Fprintf(stdout, "  asset value %s, NPV %s, NAV %s\n", res.Valuation.Value, res.Valuation.NPV, res.Valuation.NAV)
	fmt.Fprintf(stdout, "  year 1: distributable %s, distribution %s, rate %.2f %% on issue, assets/net assets %.2f %%\n",
		c.DistributableAmount, c.Distribution, 100*c.DistributionRate, 100*c.AssetsToNetAssets)
	if r := res.Risk; r != nil {
		fmt.Fprintf(stdout, "  risk (%d paths): CFaR95 %s, distribution rate p5/p50/p95 %.2f/%.2f/%.2f %%, P(min DSCR < %.2f) %.3f\n",
			r.Paths, r.CFaR95, 100*r.DistributionRateP5, 100*r.DistributionRateP50, 100*r.DistributionRateP95, r.CovenantDSCR, r.PDSCRBreach)
	}
	for _, t := range res.Tranches {
		fmt.Fprintf(stdout, "  tranche %-12s %-6s balance %16s  WAL %5.2f y  PD %.4f  EL %.6f\n", t.Name, t.Kind, t.Balance, t.WALYears, t.PD, t.EL)
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// benchFinance times the Monte Carlo with the full waterfall on the default community
// deal stretched to --months.
func benchFinance(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench finance", "[--paths N] [--months M] [--workers N] [--json]", stderr)
	paths := fs.Int("paths", 10000, "Monte Carlo paths")
	months := fs.Int("months", 360, "months per path (12–600)")
	workers := fs.Int("workers", 0, "parallel workers (0: all cores)")
	_ = fs.Bool("json", true, "print JSON (the only format)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *paths < 1 {
		return usageError{"--paths must be >= 1"}
	}
	d, err := finance.CommunityDeal(finance.BenchOperatingYear())
	if err != nil {
		return err
	}
	if err := finance.Stretch(d, *months); err != nil {
		return usageError{err.Error()}
	}
	t0 := time.Now()
	secs, err := finance.BenchMonteCarlo(d, *paths, *workers)
	if err != nil {
		return err
	}
	w := *workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return printJSON(stdout, map[string]any{"benchmark": "finance", "paths": *paths, "months": *months, "workers": w,
		"seconds": secs, "paths_per_second": float64(*paths) / secs, "path_months_per_second": float64(*paths) * float64(*months) / secs,
		"wall_seconds_incl_setup": time.Since(t0).Seconds(), "waterfall_steps": len(d.Waterfall), "tranches": len(d.Tranches), "drivers": len(d.Risk.Drivers)})
}

func init() {
	financeCommands["deal"] = runFinanceDeal
}

// runFinanceDeal writes the default structure of a unit's operated year as a deal file,
// to be edited and run with `finance run --deal`.
func runFinanceDeal(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("finance deal", "[--unit FILE.yaml] [--seed N] [--policy NAME] --out DEAL.json", stderr)
	unitFile := fs.String("unit", "", "unit file (default: the embedded demo community)")
	seed := fs.Uint64("seed", 0, "seed of the synthetic series (0: the unit's data.seed)")
	policy := fs.String("policy", "mpc", "the operated policy whose year is structured")
	out := fs.String("out", "", "deal file to write (JSON)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"finance deal needs --out DEAL.json"}
	}
	if err := scenario.CheckPolicy(*policy); err != nil {
		return usageError{"--policy: " + err.Error()}
	}
	var u *unit.Unit
	var err error
	if *unitFile == "" {
		u, err = unit.Parse(examples.Community, "examples/community.yaml")
	} else {
		u, err = unit.Load(*unitFile)
	}
	if err != nil {
		return err
	}
	s := *seed
	if s == 0 {
		s = u.Data.Seed
	}
	c, err := scenario.FromUnit(u, s, filepath.Dir(*unitFile), citylearn.Options{})
	if err != nil {
		return err
	}
	runs, err := c.Run([]string{*policy}, progress(stderr, *quiet))
	if err != nil {
		return err
	}
	d, err := finance.CommunityDeal(scenario.OperatingYear(c, runs[len(runs)-1]))
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := printJSON(f, d); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %d months, %d tranches; run it with: lifang finance run --deal %s --out DIR\n", *out, d.Name, d.Months, len(d.Tranches), *out)
	return nil
}
