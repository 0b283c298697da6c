package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lifang-community/lifang/forecast"
)

// runNAB scores the anomaly detector on NAB files with the standard profile.
func runNAB(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("forecast nab", "--dir NAB_DIR [--long N] [--short N] [--seasons N] [--json]", stderr)
	dir := fs.String("dir", filepath.Join("..", "shared", "data", "forecast", "NAB"), "NAB directory (data/, labels/)")
	d := forecast.DefaultDetector
	fs.IntVar(&d.Long, "long", d.Long, "trailing window of the level baseline (steps)")
	fs.IntVar(&d.Short, "short", d.Short, "recent values averaged before comparing")
	fs.IntVar(&d.Seasons, "seasons", d.Seasons, "past days in the seasonal baseline")
	fs.IntVar(&d.Likelihood, "likelihood", d.Likelihood, "history (steps) the anomaly likelihood compares with (0: raw scores)")
	fs.IntVar(&d.Average, "average", d.Average, "recent raw scores averaged for the likelihood")
	fs.IntVar(&d.Holdoff, "holdoff", d.Holdoff, "report only scores above every score of this many steps before (0: all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if _, err := os.Stat(*dir); err != nil {
		return err
	}
	files, err := forecast.LoadNAB(*dir, forecast.StagedNAB)
	if err != nil {
		return err
	}
	scores := make([][]float64, len(files))
	for i, f := range files {
		scores[i] = d.Scores(f.Times, f.Values)
	}
	res := forecast.ScoreNAB(files, scores, forecast.StandardProfile)
	if *asJSON {
		return printJSON(stdout, map[string]any{"detector": d, "profile": "standard", "result": res})
	}
	fmt.Fprintf(stdout, "NAB standard profile: %.1f (threshold %.4f, %d of %d windows detected)\n", res.Score, res.Threshold, res.Detected, res.Windows)
	for name, raw := range res.Files {
		fmt.Fprintf(stdout, "  %-55s raw %.3f\n", name, raw)
	}
	return nil
}
