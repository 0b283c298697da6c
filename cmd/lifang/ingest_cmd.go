package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runIngest(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "http":
			return ingestHTTP(args[1:], stdout, stderr)
		case "mqtt":
			return ingestMQTT(args[1:], stdout, stderr)
		case "ocpp":
			return ingestOCPP(args[1:], stdout, stderr)
		case "modbus":
			return ingestModbus(args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "csv" {
		return usageError{"usage: lifang ingest (csv --db PATH FILE… | http | mqtt | ocpp | modbus) --db PATH …"}
	}
	fs := newFlags("ingest csv", "--db PATH [--origin NAME] [--batch N] FILE…", stderr)
	db := fs.String("db", "", "SQLite database (created if missing)")
	origin := fs.String("origin", "", "log origin for a new database (the unit's id; default "+DefaultOrigin+")")
	batch := fs.Int("batch", ingest.DefaultCSVBatch, "rows per batch (one ledger leaf each)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() == 0 {
		return usageError{"no CSV files given"}
	}
	ctx := context.Background()
	d, err := openData(ctx, *db, *origin, sqliteOptions())
	if err != nil {
		return err
	}
	defer d.Close()
	p := d.pipeline(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	total := ingest.Result{LeafIndex: -1}
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		err = ingest.ReadCSV(f, "csv:"+filepath.Base(path), *batch, func(in ingest.Input) error {
			res, err := p.Ingest(ctx, in)
			if err != nil {
				return err
			}
			total.Add(res)
			return nil
		})
		f.Close()
		if err != nil {
			return err
		}
	}
	total.TreeSize = d.log.Size()
	if total.Checkpoint == "" {
		if _, note, err := d.st.LatestCheckpoint(ctx); err == nil {
			total.Checkpoint = string(note)
		}
	}
	return printJSON(stdout, total)
}

func runLedger(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: lifang ledger (checkpoint|prove|consistency|leaf|rotate-key) --db PATH …"}
	}
	sub := args[0]
	fs := newFlags("ledger "+sub, "--db PATH …", stderr)
	db := fs.String("db", "", "SQLite database")
	index := fs.Int64("index", -1, "leaf index (prove, leaf)")
	size := fs.Int64("size", 0, "tree size to prove against (prove; default: the latest checkpoint's)")
	from := fs.Int64("from", 0, "older tree size (consistency)")
	to := fs.Int64("to", 0, "newer tree size (consistency)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openData(ctx, *db, "", sqliteOptions())
	if err != nil {
		return err
	}
	defer d.Close()
	b64 := func(h [32]byte) string { return base64.StdEncoding.EncodeToString(h[:]) }
	switch sub {
	case "checkpoint":
		_, note, err := d.st.LatestCheckpoint(ctx)
		if err != nil {
			return fmt.Errorf("no checkpoint yet (ingest something first): %w", err)
		}
		_, err = stdout.Write(note)
		return err
	case "prove":
		n := *size
		if n == 0 {
			if n, _, err = d.st.LatestCheckpoint(ctx); err != nil {
				return err
			}
		}
		if *index < 0 || *index >= n {
			return usageError{fmt.Sprintf("--index %d outside [0, %d)", *index, n)}
		}
		leaf, err := d.st.Leaf(ctx, *index)
		if err != nil {
			return err
		}
		proof, err := d.log.InclusionProof(*index, n)
		if err != nil {
			return err
		}
		root, err := d.log.Root(n)
		if err != nil {
			return err
		}
		ps := make([]string, len(proof))
		for i, h := range proof {
			ps[i] = b64(h)
		}
		return printJSON(stdout, map[string]any{"leaf_index": *index, "tree_size": n, "leaf_hash": b64(ledger.LeafHash(leaf)), "proof": ps, "root": b64(root)})
	case "consistency":
		if *from <= 0 || *to < *from || *to > d.log.Size() {
			return usageError{fmt.Sprintf("want 0 < --from <= --to <= %d", d.log.Size())}
		}
		proof, err := d.log.ConsistencyProof(*from, *to)
		if err != nil {
			return err
		}
		r1, err := d.log.Root(*from)
		if err != nil {
			return err
		}
		r2, err := d.log.Root(*to)
		if err != nil {
			return err
		}
		ps := make([]string, len(proof))
		for i, h := range proof {
			ps[i] = b64(h)
		}
		return printJSON(stdout, map[string]any{"from": *from, "to": *to, "proof": ps, "root1": b64(r1), "root2": b64(r2)})
	case "leaf":
		if *index < 0 {
			return usageError{"--index is required"}
		}
		leaf, err := d.st.Leaf(ctx, *index)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"leaf_index": *index, "leaf": base64.StdEncoding.EncodeToString(leaf), "leaf_hash": b64(ledger.LeafHash(leaf))})
	case "rotate-key":
		sk, vk, err := ledger.GenerateKey(d.origin)
		if err != nil {
			return err
		}
		if err := d.st.SaveKey(ctx, d.origin, sk, vk, time.Now()); err != nil {
			return err
		}
		fmt.Fprintln(stdout, vk)
		return nil
	}
	return usageError{"unknown ledger command " + strconv.Quote(sub)}
}

// ingestHTTP serves the JSON batch endpoint until interrupted.
func ingestHTTP(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest http", "--db PATH [--addr HOST:PORT]", stderr)
	db := fs.String("db", "", "SQLite database (created if missing)")
	addr := fs.String("addr", "127.0.0.1:8081", "listen address (port 0: any free port)")
	origin := fs.String("origin", "", "log origin for a new database")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := openData(ctx, *db, *origin, sqliteOptions())
	if err != nil {
		return err
	}
	defer d.Close()
	lg := slog.New(slog.NewTextHandler(stderr, nil))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/readings", ingest.Handler(d.pipeline(lg), lg))
	mux.Handle("/log/", http.StripPrefix("/log", ledger.TilesHandler(d.log, d.st, d.st)))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening on http://%s (POST /api/v1/readings, GET /log/checkpoint)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
