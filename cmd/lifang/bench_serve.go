package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifang-community/lifang/auth"
	apiserver "github.com/lifang-community/lifang/server"
)

// benchServe loads `lifang serve` over loopback: read endpoints at a concurrency, then
// ingest, then checks that every acknowledged reading is stored.
func benchServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench serve", "[--concurrency N] [--seconds S] [--batch N] [--json]", stderr)
	conc := fs.Int("concurrency", 16, "concurrent clients")
	secs := fs.Float64("seconds", 3, "seconds per endpoint")
	batch := fs.Int("batch", 100, "readings per ingest batch (0: no ingest load)")
	paths := fs.String("paths", "/healthz,/api/v1/me,/api/v1/ledger/checkpoint,/api/v1/finance,/api/v1/summary,/api/v1/timeseries?hours=24", "read endpoints, comma-separated")
	_ = fs.Bool("json", true, "print JSON (the only format)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *conc < 1 || *conc > 1024 || !(*secs > 0) || *batch < 0 {
		return usageError{"want 1 <= --concurrency <= 1024, --seconds > 0, --batch >= 0"}
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "lifang-bench-serve")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "bench.db")
	d, err := openData(ctx, db, "", sqliteOptions())
	if err != nil {
		return err
	}
	defer d.Close()
	tokens, err := openTokens(ctx, db, true)
	if err != nil {
		return err
	}
	defer tokens.Close()
	plain, rec, err := auth.Issue(auth.Admin, "bench")
	if err != nil {
		return err
	}
	if err := tokens.Create(ctx, rec); err != nil {
		return err
	}
	lg := slog.New(slog.DiscardHandler)
	srv, err := apiserver.New(apiserver.Config{Policies: []string{"business_as_usual", "rule_based"}, FinancePaths: 500,
		Store: d.st, Log: d.log, PublicKeys: d.vkeys, Pipeline: d.pipeline(lg), Tokens: tokens, Logger: lg})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go srv.Serve(sctx, ln)
	srv.Start()
	url := "http://" + ln.Addr().String()
	fmt.Fprintln(stderr, "lifang: bench serve: waiting for the start-up simulation")
	if err := srv.WaitReady(ctx, 5*time.Minute); err != nil {
		return err
	}
	// One batch first so the ledger endpoints have a checkpoint to serve.
	if _, err := apiserver.Bench(ctx, apiserver.BenchOptions{URL: url, Token: plain, Concurrency: 1, Duration: 50 * time.Millisecond, BatchSize: 10}); err != nil {
		return err
	}
	res, err := apiserver.Bench(ctx, apiserver.BenchOptions{URL: url, Token: plain, Paths: strings.Split(*paths, ","), Concurrency: *conc,
		Duration: time.Duration(*secs * float64(time.Second)), BatchSize: *batch,
		Count: func(ctx context.Context, point string) (int, error) {
			rs, err := d.st.Range(ctx, point, time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
			return len(rs), err
		}})
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"benchmark": "serve", "result": res})
}
