package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
)

// benchIngest measures end-to-end ingest (validation, dedupe, store, ledger, signed
// checkpoint per batch) against the same store without the ledger, on fresh databases.
func benchIngest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench ingest", "--db PATH --readings N [--batch N] [--points N]", stderr)
	db := fs.String("db", "", "database path (created; PATH.raw is used for the run without ledger)")
	n := fs.Int("readings", 1000000, "readings to ingest")
	batch := fs.Int("batch", 10000, "readings per batch (one leaf each)")
	points := fs.Int("points", 200, "distinct points (meters)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the ledger run to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" || *n <= 0 || *batch <= 0 || *batch > ingest.MaxBatch || *points <= 0 {
		return usageError{"want --db, --readings > 0, 0 < --batch <= " + fmt.Sprint(ingest.MaxBatch) + ", --points > 0"}
	}
	raw := *db + ".raw"
	for _, p := range []string{*db, raw} {
		for _, suf := range []string{"", "-wal", "-shm"} {
			os.Remove(p + suf)
		}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The inputs are built before timing: the benchmark measures ingest, not generation.
	var inputs []ingest.Input
	{
		in := ingest.Input{Source: "bench"}
		for i := range *n {
			p, step := i%*points, i / *points
			in.Readings = append(in.Readings, reading.Reading{
				Point: fmt.Sprintf("meter%04d/elec/active_energy", p),
				Time:  t0.Add(time.Duration(step) * 15 * time.Minute),
				Value: 1000 + float64(step)*0.25 + float64(p), Unit: "kWh"})
			if len(in.Readings) == *batch || i == *n-1 {
				inputs = append(inputs, in)
				in = ingest.Input{Source: "bench"}
			}
		}
	}
	now := func() time.Time { return t0.Add(100 * 365 * 24 * time.Hour) }
	run := func(path string, noLedger bool) (float64, int64, error) {
		ctx := context.Background()
		d, err := openData(ctx, path, "lifang.local/bench", sqliteOptions())
		if err != nil {
			return 0, 0, err
		}
		defer d.Close()
		p := ingest.NewPipeline(d.st, d.log, now, nil)
		p.NoLedger = noLedger
		start := time.Now()
		accepted := 0
		for _, in := range inputs {
			res, err := p.Ingest(ctx, in)
			if err != nil {
				return 0, 0, err
			}
			accepted += res.Accepted
		}
		secs := time.Since(start).Seconds()
		if accepted != *n {
			return 0, 0, fmt.Errorf("accepted %d of %d", accepted, *n)
		}
		return secs, d.log.Size(), nil
	}
	secsRaw, _, err := run(raw, true)
	if err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	secs, leaves, err := run(*db, false)
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{
		"benchmark": "ingest", "readings": *n, "batch": *batch, "points": *points, "leaves": leaves,
		"seconds": secs, "readings_per_second": float64(*n) / secs,
		"raw_seconds": secsRaw, "raw_insert_readings_per_second": float64(*n) / secsRaw,
		"ledger_overhead": secs / secsRaw, "store": "sqlite (WAL, synchronous=FULL)",
		"go": runtime.Version(), "cpus": runtime.NumCPU(),
	})
}
