package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lifang-community/lifang/bus"
	"github.com/lifang-community/lifang/ingest/mqtt"
	"github.com/lifang-community/lifang/privacy"
	"github.com/lifang-community/lifang/scenario"
	apiserver "github.com/lifang-community/lifang/server"
	"github.com/lifang-community/lifang/unit"
)

// runServe runs the API, the dashboard and the jobs until interrupted.
func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[--addr HOST:PORT] [--db PATH|postgres://…] [--unit FILE.yaml] [--seed N]", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0: any free port)")
	db := fs.String("db", "", "SQLite database (created if absent) or postgres:// DSN (default $LIFANG_POSTGRES_DSN, else lifang.db)")
	unitFile := fs.String("unit", "", "unit file (default: the embedded demo community)")
	seed := fs.Uint64("seed", 0, "seed of the synthetic series (0: the unit's data.seed)")
	policies := fs.String("policies", "business_as_usual,rule_based,mpc", "policies simulated at start")
	paths := fs.Int("finance-paths", 2000, "Monte Carlo paths of the finance block")
	budget := fs.Float64("privacy-epsilon", 10, "privacy budget (ε) of the released aggregates, kept in PRIVACY-LEDGER")
	privFile := fs.String("privacy-ledger", "", "file of the privacy budget ledger (default: next to a SQLite database; in memory for PostgreSQL)")
	mqttURL := fs.String("mqtt", os.Getenv("LIFANG_MQTT_URL"), "MQTT broker to ingest from, tcp://host:port (default $LIFANG_MQTT_URL)")
	mqttEmbedded := fs.String("mqtt-embedded", "", "start an embedded MQTT broker on this address and ingest from it")
	natsURL := fs.String("nats", os.Getenv("LIFANG_NATS_URL"), "NATS server to publish committed batches and job changes on (JetStream stream LIFANG; default $LIFANG_NATS_URL)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{"--log-level: " + err.Error()}
	}
	if *db == "" {
		*db = os.Getenv("LIFANG_POSTGRES_DSN")
		if *db == "" {
			*db = "lifang.db"
		}
	}
	for _, p := range strings.Split(*policies, ",") {
		if err := scenario.CheckPolicy(p); err != nil {
			return usageError{"--policies: " + err.Error()}
		}
	}
	if !(*budget > 0) {
		return usageError{"--privacy-epsilon must be > 0"}
	}
	lg := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var u *unit.Unit
	if *unitFile != "" {
		var err error
		if u, err = unit.Load(*unitFile); err != nil {
			return err
		}
	}
	d, err := openData(ctx, *db, "", sqliteOptions())
	if err != nil {
		return err
	}
	defer d.Close()
	tokens, err := openTokens(ctx, *db, true)
	if err != nil {
		return err
	}
	defer tokens.Close()
	pstore := privacy.Store(&privacy.MemoryStore{})
	isPG := strings.HasPrefix(*db, "postgres")
	if *privFile == "" && !isPG {
		*privFile = *db + ".privacy.jsonl"
	}
	if *privFile != "" {
		pstore = privacy.NewFileStore(*privFile)
	}
	pl, err := privacy.NewLedger("household-energy", privacy.Budget{Epsilon: *budget, Delta: 1e-6}, pstore, time.Now)
	if err != nil {
		return fmt.Errorf("privacy ledger: %w", err)
	}
	cfg := apiserver.Config{Unit: u, UnitName: *unitFile, Seed: *seed, Policies: strings.Split(*policies, ","), FinancePaths: *paths,
		Store: d.st, Log: d.log, PublicKeys: d.vkeys, Pipeline: d.pipeline(lg), Tokens: tokens, Privacy: pl, Logger: lg}
	if *natsURL != "" {
		b, err := bus.Connect(*natsURL, "lifang serve")
		if err != nil {
			return err
		}
		defer b.Close()
		cfg.Events = b
		fmt.Fprintf(stdout, "publishing events on %s (stream %s)\n", *natsURL, bus.StreamName)
	}
	srv, err := apiserver.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *mqttEmbedded != "" {
		b, err := mqtt.StartBroker(*mqttEmbedded, lg)
		if err != nil {
			return err
		}
		defer b.Close()
		*mqttURL = "tcp://" + b.Addr()
		fmt.Fprintf(stdout, "embedded MQTT broker on %s\n", b.Addr())
	}
	if *mqttURL != "" {
		go func() {
			if err := mqtt.Run(ctx, mqtt.Config{BrokerURL: *mqttURL, Unit: "+"}, srv, lg); err != nil && !errors.Is(err, context.Canceled) {
				lg.Error("mqtt ingest stopped", "err", err)
			}
		}()
		fmt.Fprintf(stdout, "ingesting lifang/+/readings/# from %s\n", *mqttURL)
	}
	srv.Start()
	fmt.Fprintf(stdout, "lifang serve: http://%s/ (API /api/v1, OpenAPI /api/openapi.json, metrics /metrics); database %s\n", ln.Addr(), redactDSN(*db))
	fmt.Fprintf(stdout, "create a token: lifang token create --db %s --role operator\n", redactDSN(*db))
	return srv.Serve(ctx, ln)
}

// redactDSN hides a password in a DSN for printing.
func redactDSN(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.Index(s[i+3:], "@"); at >= 0 {
			cred := s[i+3 : i+3+at]
			if c := strings.Index(cred, ":"); c >= 0 {
				return s[:i+3] + cred[:c] + ":***" + s[i+3+at:]
			}
		}
	}
	return s
}
