package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/scenario"
	"github.com/lifang-community/lifang/unit"
)

// runBench times whole runs and prints JSON, so anyone can reproduce a figure with
// one command.
func runBench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "ingest" {
		return benchIngest(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "dispatch" {
		return benchDispatch(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "sd" {
		return benchSD(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "serve" {
		return benchServe(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "finance" {
		return benchFinance(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "milp" {
		return benchMILP(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "demo" {
		return usageError{"usage: lifang bench (demo|ingest|dispatch|milp|sd|finance|serve) [flags]; run `lifang bench NAME -h` for its flags"}
	}
	fs := newFlags("bench demo", "[--runs N] [--seed N]", stderr)
	runs := fs.Int("runs", 3, "repetitions (the fastest and the mean are reported)")
	seed := fs.Uint64("seed", 7, "seed of the synthetic community")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *runs < 1 {
		return usageError{"--runs must be >= 1"}
	}
	var gen, sim []float64
	for range *runs {
		t0 := time.Now()
		u, err := unit.Parse(examples.Community, "examples/community.yaml")
		if err != nil {
			return err
		}
		c, err := scenario.FromUnit(u, *seed, ".", citylearn.Options{})
		if err != nil {
			return err
		}
		t1 := time.Now()
		if _, err := c.Run(scenario.Policies, nil); err != nil {
			return err
		}
		gen = append(gen, t1.Sub(t0).Seconds())
		sim = append(sim, time.Since(t1).Seconds())
	}
	out := map[string]any{
		"benchmark": "demo", "runs": *runs, "seed": *seed, "hours": 8760, "policies": len(scenario.Policies),
		"generate_seconds": stats(gen), "simulate_seconds": stats(sim),
		"go": runtime.Version(), "cpus": runtime.NumCPU(),
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

func stats(xs []float64) map[string]float64 {
	lo, sum := xs[0], 0.0
	for _, x := range xs {
		lo = min(lo, x)
		sum += x
	}
	return map[string]float64{"min": lo, "mean": sum / float64(len(xs))}
}
