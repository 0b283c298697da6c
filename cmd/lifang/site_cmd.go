package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/ingest/modbus"
	"github.com/lifang-community/lifang/ingest/mqtt"
	"github.com/lifang-community/lifang/ingest/ocpp"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/scenario"
	"github.com/lifang-community/lifang/settle"
	"github.com/lifang-community/lifang/site"
	"github.com/lifang-community/lifang/sitesim"
	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// policyVersion is ledgered with every decision: bump it when a policy's logic changes.
const policyVersion = "2026-12-04"

// loadSiteUnit reads a unit file, or the embedded demo-site, and checks it is commissioned.
func loadSiteUnit(path string) (*unit.Unit, string, error) {
	var u *unit.Unit
	var err error
	base := "."
	switch path {
	case "":
		return nil, "", usageError{"--unit FILE.yaml (or demo-site) is required"}
	case "demo-site":
		u, err = unit.Parse(examples.Site, "examples/site.yaml")
	default:
		u, err = unit.Load(path)
		base = filepath.Dir(path)
	}
	if err != nil {
		return nil, "", err
	}
	if u.Site == nil {
		return nil, "", fmt.Errorf("%s: no site: section: the unit is not commissioned for live operation (see examples/site.yaml)", path)
	}
	return u, base, nil
}

func parseStart(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageError{fmt.Sprintf("--start %q: want RFC 3339, e.g. 2025-07-14T00:00:00+08:00", s)}
	}
	return t, nil
}

func runSitesim(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sitesim", "--unit FILE|demo-site --start RFC3339 --days N --speed X [--mqtt URL] [--modbus HOST:PORT] [--ocpp ws://HOST:PORT] [--fault SPEC]…", stderr)
	unitFile := fs.String("unit", "", "commissioned unit (YAML with a site: section) or demo-site")
	startText := fs.String("start", "", "first simulated instant (RFC 3339, a local midnight inside the unit's period)")
	days := fs.Int("days", 1, "simulated days")
	speed := fs.Float64("speed", 3600, "simulated seconds per wall second (at most: each step also waits for the controller)")
	mqttURL := fs.String("mqtt", "", "MQTT broker (default: the unit's site.mqtt.broker)")
	modbusAddr := fs.String("modbus", "", "host:port of the first battery's Modbus TCP server (default: the unit's)")
	ocppURL := fs.String("ocpp", "", "the controller's OCPP central system, ws://HOST:PORT (default: the unit's site.ocpp.listen)")
	ackTimeout := fs.Duration("ack-timeout", 0, "wall time a step waits for the controller (default max(10s, 2 steps))")
	startTimeout := fs.Duration("start-timeout", 2*time.Minute, "wall time to wait for the controller and chargers before the first step")
	quiet := fs.Bool("quiet", false, "log warnings only")
	meterLag := fs.Bool("meter-lag", false, "meters report the previous step's mean power at a step's start (what a real controller sees), not the step's own")
	var faults []sitesim.Fault
	fs.Func("fault", "inject a fault (repeatable): modbus-down:BATTERY@FROM/DUR, stale:METER@FROM/DUR, reject-profiles:OCPP_ID, mqtt-drop:SHARE", func(s string) error {
		f, err := sitesim.ParseFault(s)
		if err == nil {
			faults = append(faults, f)
		}
		return err
	})
	if err := parse(fs, args); err != nil {
		return err
	}
	if *startText == "" {
		return usageError{"--start RFC3339 is required"}
	}
	start, err := parseStart(*startText)
	if err != nil {
		return err
	}
	if *days < 1 {
		return usageError{"--days must be >= 1"}
	}
	if !(*speed > 0) {
		return usageError{"--speed must be > 0"}
	}
	u, base, err := loadSiteUnit(*unitFile)
	if err != nil {
		return err
	}
	c, err := scenario.FromUnit(u, u.Data.Seed, base, citylearn.Options{})
	if err != nil {
		return err
	}
	if c, err = c.Window(start, *days); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	lg := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := serveContext()
	defer stop()
	rep, err := sitesim.Run(ctx, sitesim.Config{Unit: u, Model: c.Model, Inputs: c.Inputs, Speed: *speed, MQTTURL: *mqttURL, ModbusAddr: *modbusAddr,
		OCPPURL: *ocppURL, Faults: faults, AckTimeout: *ackTimeout, StartTimeout: *startTimeout, Seed: u.Data.Seed, MeterLag: *meterLag, Log: lg})
	if err != nil {
		return err
	}
	return printJSON(stdout, rep)
}

// metered is the grid bill of the run from the grid meter's ledgered registers
// (settle.GridTotals: each register interval's advance × the TOU price at its start).
type metered struct {
	ImportKWh   float64 `json:"import_kwh"`
	ExportKWh   float64 `json:"export_kwh"`
	GridCostCNY float64 `json:"grid_cost_cny"`
	// Readings of the import register that bound its intervals, and the flagged gaps.
	Readings int `json:"register_readings"`
	Gaps     int `json:"gaps"`
}

// operateReport is what `lifang operate --json` prints.
type operateReport struct {
	Unit     string    `json:"unit"`
	Policy   string    `json:"policy"`
	Run      string    `json:"run"`
	Start    time.Time `json:"start"`
	Until    time.Time `json:"until,omitzero"`
	DryRun   bool      `json:"dry_run"`
	Steps    int       `json:"steps"`
	Commands struct {
		Sent     int `json:"sent"`
		Acked    int `json:"acked"`
		Rejected int `json:"rejected"`
		TimedOut int `json:"timed_out"`
		DryRun   int `json:"dry_run,omitempty"`
		NotSent  int `json:"not_sent"`
	} `json:"commands"`
	Fallbacks   int            `json:"fallbacks"`
	Alarms      int            `json:"alarms"`
	OpenAlarms  []string       `json:"open_alarms"`
	Interrupted int            `json:"steps_interrupted"`
	Missed      int            `json:"steps_missed"`
	Metered     metered        `json:"metered"`
	ByDevice    map[string]int `json:"commands_by_protocol"`
	TreeSize    int64          `json:"tree_size"`
	Checkpoint  string         `json:"checkpoint,omitempty"`
}

func runOperate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("operate", "--unit FILE --db PATH --policy business_as_usual|rule_based|mpc [--clock wall|sim --start RFC3339 --speed X] [--until RFC3339] [--dry-run] [--json]", stderr)
	unitFile := fs.String("unit", "", "commissioned unit (YAML with a site: section) or demo-site")
	db := fs.String("db", "", "database (SQLite file or postgres:// DSN): readings, ledger and the controller's evidence")
	policy := fs.String("policy", "rule_based", "business_as_usual, rule_based or mpc")
	clock := fs.String("clock", "wall", "wall: steps on the wall clock; sim: steps on the emulator's simulated clock (lifang/<unit>/clock)")
	startText := fs.String("start", "", "the run's first step (RFC 3339); required with --clock sim; default: today's local midnight")
	speed := fs.Float64("speed", 1, "with --clock sim: the emulator's speed, for wall-time budgets")
	untilText := fs.String("until", "", "stop when this time is reached and print the report (RFC 3339)")
	dryRun := fs.Bool("dry-run", false, "decide and log every command without sending it")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	mqttURL := fs.String("mqtt", "", "MQTT broker (default: the unit's site.mqtt.broker)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on HOST:PORT/metrics")
	quiet := fs.Bool("quiet", false, "log warnings only")
	if len(args) > 0 && args[0] == "override" {
		return runOverride(args[1:], stdout, stderr)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := scenario.CheckPolicy(*policy); err != nil {
		return usageError{"--policy: " + err.Error()}
	}
	if *clock != "wall" && *clock != "sim" {
		return usageError{fmt.Sprintf("--clock %q: want wall or sim", *clock)}
	}
	u, _, err := loadSiteUnit(*unitFile)
	if err != nil {
		return err
	}
	m, err := twin.FromUnit(u)
	if err != nil {
		return err
	}
	var start, until time.Time
	if *startText != "" {
		if start, err = parseStart(*startText); err != nil {
			return err
		}
	} else if *clock == "sim" {
		return usageError{"--clock sim needs --start RFC3339 (the emulator's first step)"}
	} else {
		n := time.Now().In(m.Loc)
		start = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, m.Loc)
	}
	if *untilText != "" {
		if until, err = parseStart(*untilText); err != nil {
			return usageError{"--until: " + err.Error()}
		}
		if !until.After(start) {
			return usageError{"--until must be after --start"}
		}
	}
	if !(*speed > 0) {
		return usageError{"--speed must be > 0"}
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	lg := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := serveContext()
	defer stop()
	op := &operation{u: u, m: m, start: start, until: until, speed: *speed, sim: *clock == "sim", policy: *policy, dryRun: *dryRun, log: lg,
		broker: *mqttURL, metricsAddr: *metricsAddr, step: time.Duration(u.Simulation.StepMinutes) * time.Minute}
	rep, err := op.run(ctx, *db)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "%s: %d steps of %s; commands sent %d (acked %d, rejected %d, timed out %d); %d fallbacks, %d alarms\n",
		rep.Run, rep.Steps, rep.Policy, rep.Commands.Sent, rep.Commands.Acked, rep.Commands.Rejected, rep.Commands.TimedOut, rep.Fallbacks, rep.Alarms)
	fmt.Fprintf(stdout, "metered: import %.1f kWh, export %.1f kWh, grid cost %.2f CNY\n", rep.Metered.ImportKWh, rep.Metered.ExportKWh, rep.Metered.GridCostCNY)
	return nil
}

type operation struct {
	u            *unit.Unit
	m            *twin.Model
	start, until time.Time
	speed        float64
	sim          bool
	policy       string
	dryRun       bool
	broker       string
	metricsAddr  string
	step         time.Duration
	log          *slog.Logger

	mu     sync.Mutex
	simNow time.Time
}

func (op *operation) now() time.Time {
	if !op.sim {
		return time.Now()
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.simNow
}

func (op *operation) run(ctx context.Context, db string) (*operateReport, error) {
	u, s := op.u, op.u.Site
	d, err := openData(ctx, db, "", sqliteOptions())
	if err != nil {
		return nil, err
	}
	defer d.Close()
	op.simNow = op.start
	pipe := ingest.NewPipeline(d.st, d.log, op.now, op.log)
	if op.sim {
		// A step's readings are published at its start, just before its tick: the
		// simulated clock may still be at the previous step when they arrive.
		pipe.MaxSkew = 2*op.step + ingest.DefaultMaxSkew
	}
	broker := op.broker
	if broker == "" {
		broker = s.MQTT.Broker
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Sense: meters over MQTT into the ledger.
	subscribed := make(chan struct{})
	var once sync.Once
	ingestDone := make(chan error, 1)
	go func() {
		ingestDone <- mqtt.Run(runCtx, mqtt.Config{BrokerURL: broker, Unit: u.Name, ClientID: "lifang-operate-" + u.Name,
			Subscribed: func() { once.Do(func() { close(subscribed) }) }}, pipe, op.log)
	}()
	// Chargers: the OCPP central system.
	var cs *ocpp.CentralSystem
	if len(s.Chargers) > 0 {
		lu, err := url.Parse(s.OCPP.Listen)
		if err != nil {
			return nil, fmt.Errorf("site.ocpp.listen: %w", err)
		}
		cs = ocpp.NewCentralSystem(ocpp.Config{Addr: lu.Host}, pipe, op.log)
		var evs []reading.Event
		for _, k := range []reading.EventKind{reading.EVSessionStart, reading.EVSessionStop, ocpp.EventSessionLost, ocpp.EventSessionIntent} {
			e, err := d.st.Events(ctx, k)
			if err != nil {
				return nil, err
			}
			evs = append(evs, e...)
		}
		cs.Restore(evs) // a restart keeps the chargers' open sessions and transaction ids
		if err := cs.Start(); err != nil {
			return nil, fmt.Errorf("OCPP central system on %s: %w", lu.Host, err)
		}
		defer cs.Stop()
	}
	timeout := time.Duration(s.Safety.CommandTimeoutS) * time.Second
	bats := map[string]site.Battery{}
	for _, sb := range s.Batteries {
		bc, err := modbus.NewBatteryClient(modbus.BatteryConfig{URL: "tcp://" + sb.Modbus, UnitID: uint8(sb.UnitID), Timeout: min(timeout, 2*time.Second), Log: op.log})
		if err != nil {
			return nil, fmt.Errorf("site.batteries %s: %w", sb.Battery, err)
		}
		defer bc.Close()
		bats[sb.Battery] = bc
	}
	offline, _ := json.Marshal(site.Presence{Status: "offline"})
	mq, err := mqtt.Dial(ctx, mqtt.ClientConfig{BrokerURL: broker, ClientID: "lifang-control-" + u.Name, Log: op.log,
		Will: &mqtt.Will{Topic: site.TopicController(u.Name), Payload: offline, Retain: true}})
	if err != nil {
		return nil, err
	}
	defer mq.Close()
	cmd := &site.MQTTCommander{Client: mq, Unit: u.Name, Timeout: timeout, Retries: 2, Log: op.log}
	if err := cmd.Start(ctx); err != nil {
		return nil, err
	}
	pol, err := scenario.NewPolicy(op.policy, op.m)
	if err != nil {
		return nil, err
	}
	if cl, ok := pol.(interface{ Close() }); ok {
		defer cl.Close()
	}
	runID := op.policy + "@" + op.start.UTC().Format("20060102T150405Z")
	cfg := site.Config{Unit: u, Model: op.m, Policy: pol, PolicyName: op.policy, PolicyVersion: policyVersion, Store: d.st, Sink: pipe,
		Batteries: bats, Commands: cmd, Start: op.start, RunID: runID, DryRun: op.dryRun, Log: op.log, Metrics: site.NewMetrics()}
	if op.metricsAddr != "" {
		ln, err := net.Listen("tcp", op.metricsAddr)
		if err != nil {
			return nil, fmt.Errorf("--metrics %s: %w", op.metricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			cfg.Metrics.WriteTo(w)
		})
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go hs.Serve(ln)
		defer hs.Close()
		op.log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	}
	if cs != nil {
		cfg.Chargers = cs
	}
	ctl, err := site.New(cfg)
	if err != nil {
		return nil, err
	}
	last, err := ctl.Resume(ctx)
	if err != nil {
		return nil, err
	}
	if last >= 0 {
		op.log.Info("resumed from the ledger", "run", runID, "last_step", last)
	}

	ticks := make(chan site.Tick, 16)
	if op.sim {
		if err := mq.Subscribe(ctx, site.TopicClock(u.Name), 1, func(_ string, payload []byte) {
			var t site.Tick
			if err := json.Unmarshal(payload, &t); err != nil {
				op.log.Warn("bad clock tick", "err", err)
				return
			}
			select {
			case ticks <- t:
			default:
				op.log.Warn("clock tick dropped: the controller is behind", "step", t.Step)
			}
		}); err != nil {
			return nil, err
		}
	}
	select {
	case <-subscribed:
	case err := <-ingestDone:
		return nil, fmt.Errorf("MQTT ingest: %w", err)
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("MQTT ingest: not subscribed to %s within 30 s", broker)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	presence := func(status string) {
		b, _ := json.Marshal(site.Presence{Status: status, Since: time.Now().UTC()})
		pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := mq.Publish(pctx, site.TopicController(u.Name), b, 1, true); err != nil {
			op.log.Warn("publish presence", "err", err)
		}
	}
	presence("online")
	defer presence("offline")

	stepWall := time.Duration(float64(op.step) / op.speed)
	// How long a step waits for its meters: on the emulator's clock, long enough that a
	// loaded machine does not change what the controller sees (the emulator waits for the
	// step's acknowledgement meanwhile); on the wall clock, a short grace.
	freshWait := min(max(stepWall/2, 500*time.Millisecond), 5*time.Second)
	if op.sim {
		freshWait = 3 * time.Second
	}
	done := false
	handle := func(at time.Time, k int, final bool) error {
		op.mu.Lock()
		op.simNow = at
		op.mu.Unlock()
		reached := !op.until.IsZero() && !at.Before(op.until)
		if final || reached {
			// The registers at the end close the period.
			grid := gridMeter(s)
			ctl.WaitReadings(ctx, []string{grid.ImportPoint(), grid.ExportPoint()}, at, time.Now().Add(freshWait+2*time.Second), true)
			done = true
			return nil
		}
		if k <= ctl.LastStep() {
			return nil // decided before a restart
		}
		ctl.WaitFresh(ctx, at, time.Now().Add(freshWait))
		t0 := time.Now()
		rep, err := ctl.Step(ctx, at)
		if err != nil {
			return err
		}
		op.log.Debug("step", "step", k, "time", at, "commands", len(rep.Outcomes), "took", time.Since(t0))
		return nil
	}
	ack := func(t site.Tick) {
		b, _ := json.Marshal(site.TickAck{Step: t.Step, Time: t.Time})
		if err := mq.Publish(ctx, site.TopicClockAck(u.Name), b, 1, false); err != nil {
			op.log.Warn("publish tick ack", "err", err)
		}
	}
	for !done {
		if op.sim {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case err := <-ingestDone:
				return nil, fmt.Errorf("MQTT ingest stopped: %w", err)
			case t := <-ticks:
				k := ctl.StepOf(t.Time)
				if err := handle(t.Time, k, t.Final); err != nil {
					return nil, err
				}
				ack(t)
			}
			continue
		}
		next := ctl.TimeOf(ctl.StepOf(time.Now()) + 1)
		if ctl.LastStep() < ctl.StepOf(time.Now()) {
			next = ctl.TimeOf(ctl.StepOf(time.Now()))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Until(next)):
			if err := handle(next, ctl.StepOf(next), false); err != nil {
				return nil, err
			}
		}
	}
	cancel()
	<-ingestDone
	return op.report(context.Background(), d, ctl, runID)
}

func gridMeter(s *unit.Site) unit.SiteMeter {
	for _, m := range s.Meters {
		if m.Role == "grid" {
			return m
		}
	}
	return unit.SiteMeter{}
}

// report counts the run's evidence in the ledger (so it is right across restarts) and
// meters the grid from the ledgered registers.
func (op *operation) report(ctx context.Context, d *dataset, ctl *site.Controller, runID string) (*operateReport, error) {
	r := &operateReport{Unit: op.u.Name, Policy: op.policy, Run: runID, Start: op.start, Until: op.until, DryRun: op.dryRun, ByDevice: map[string]int{}}
	answers, err := d.st.Events(ctx, reading.EventKind(site.EventAnswer))
	if err != nil {
		return nil, err
	}
	steps := map[string]bool{}
	for _, e := range answers {
		a := e.Attrs
		if a["run"] != runID {
			continue
		}
		if a["kind"] == "step_done" {
			steps[a["step"]] = true
			continue
		}
		switch a["status"] {
		case site.Acked:
			r.Commands.Acked++
		case site.Rejected:
			r.Commands.Rejected++
		case site.TimedOut:
			r.Commands.TimedOut++
		case site.DryRun:
			r.Commands.DryRun++
			continue
		case site.NotSent:
			r.Commands.NotSent++
			continue
		}
		r.Commands.Sent++
		r.ByDevice[a["protocol"]]++
	}
	r.Steps = len(steps)
	decisions, err := d.st.Events(ctx, reading.EventKind(site.EventDecision))
	if err != nil {
		return nil, err
	}
	for _, e := range decisions {
		if e.Attrs["run"] == runID && e.Attrs["fallbacks"] != "" {
			r.Fallbacks++
		}
	}
	alarms, err := d.st.Events(ctx, reading.EventKind(site.EventAlarm))
	if err != nil {
		return nil, err
	}
	for _, e := range alarms {
		if e.Attrs["run"] != runID {
			continue
		}
		switch e.Attrs["kind"] {
		case "alarm":
			if e.Attrs["state"] == "raised" {
				r.Alarms++
			}
		case "step_interrupted":
			r.Interrupted++
		case "steps_missed":
			r.Missed++
		}
	}
	for k := range ctl.Alarms() {
		r.OpenAlarms = append(r.OpenAlarms, k)
	}
	end := op.until
	if end.IsZero() {
		end = ctl.TimeOf(ctl.LastStep() + 1)
	}
	g, err := settle.GridTotals(ctx, d.st, op.u, op.start, end)
	if err != nil {
		return nil, err
	}
	f := func(x *big.Rat, places int) float64 {
		v, _ := strconv.ParseFloat(x.FloatString(places), 64)
		return v
	}
	r.Metered = metered{ImportKWh: f(g.ImportKWh, 3), ExportKWh: f(g.ExportKWh, 3), GridCostCNY: f(g.ImportCostCNY, 2)}
	if g.Intervals > 0 {
		r.Metered.Readings = g.Intervals + 1
	}
	for _, fl := range g.Flags {
		if fl.Kind == "estimated" {
			r.Metered.Gaps++
		}
	}
	r.TreeSize = d.log.Size()
	if _, note, err := d.st.LatestCheckpoint(ctx); err == nil {
		r.Checkpoint = string(note)
	}
	return r, nil
}

// runOverride pins a battery's or charger's setpoint until a time: one control_override
// event in the ledger, which the running controller applies from its next step.
func runOverride(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("operate override", "--unit FILE --db PATH --device ID --kw V --until RFC3339 --by NAME --reason TEXT [--from RFC3339]", stderr)
	unitFile := fs.String("unit", "", "the commissioned unit")
	db := fs.String("db", "", "the operated database")
	device := fs.String("device", "", "battery or charging point id (the unit's names)")
	kw := fs.Float64("kw", math.NaN(), "setpoint in kW (battery: + charge, − discharge; charger: charging power)")
	untilText := fs.String("until", "", "the override expires at this time (RFC 3339)")
	fromText := fs.String("from", "", "in force from this time (default: the latest decision's time, so from the next step)")
	by := fs.String("by", os.Getenv("USER"), "who sets it (ledgered)")
	reason := fs.String("reason", "", "why (ledgered)")
	if err := parse(fs, args); err != nil {
		return err
	}
	u, _, err := loadSiteUnit(*unitFile)
	if err != nil {
		return err
	}
	limit := math.NaN()
	for _, b := range u.Batteries {
		if b.Name == *device {
			limit = b.PowerKW
			if !(math.Abs(*kw) <= limit) {
				return usageError{fmt.Sprintf("--kw %g: battery %s takes −%g … %g kW", *kw, b.Name, limit, limit)}
			}
		}
	}
	for _, c := range u.EV.Chargers {
		for _, n := range u.ChargerNames() {
			if n == *device && (n == c.Name || strings.HasPrefix(n, c.Name+"/")) {
				limit = c.PowerKW
				if !(*kw >= 0 && *kw <= limit) {
					return usageError{fmt.Sprintf("--kw %g: charging point %s takes 0 … %g kW", *kw, n, limit)}
				}
			}
		}
	}
	if math.IsNaN(limit) {
		return usageError{fmt.Sprintf("--device %q: not a battery or charging point of %s", *device, u.Name)}
	}
	until, err := parseStart(*untilText)
	if err != nil {
		return usageError{"--until: " + err.Error()}
	}
	if *by == "" || *reason == "" || strings.ContainsAny(*by+*reason, "=;\t\n") {
		return usageError{"--by and --reason are required (no '=', ';', tabs or newlines): an override is evidence"}
	}
	ctx := context.Background()
	d, err := openData(ctx, *db, "", sqliteOptions())
	if err != nil {
		return err
	}
	defer d.Close()
	from := time.Now()
	if *fromText != "" {
		if from, err = parseStart(*fromText); err != nil {
			return usageError{"--from: " + err.Error()}
		}
	} else if decs, err := d.st.Events(ctx, reading.EventKind(site.EventDecision)); err == nil && len(decs) > 0 {
		from = decs[len(decs)-1].Time
	}
	if !until.After(from) {
		return usageError{fmt.Sprintf("--until %s is not after %s, when the override starts", until.Format(time.RFC3339), from.Format(time.RFC3339))}
	}
	ev := reading.Event{Kind: reading.EventKind(site.EventOverride), Source: *by, Time: from, Attrs: map[string]string{
		"device": *device, "value_kw": strconv.FormatFloat(*kw, 'g', -1, 64), "until": until.Format(time.RFC3339), "by": *by, "reason": *reason}}
	p := ingest.NewPipeline(d.st, d.log, func() time.Time { return from }, nil)
	res, err := p.Ingest(ctx, ingest.Input{Source: "cli:operate-override", Events: []reading.Event{ev}})
	if err != nil {
		return err
	}
	if res.Events != 1 {
		return fmt.Errorf("override not ledgered: %+v", res.Reasons)
	}
	fmt.Fprintf(stdout, "override: %s at %g kW from %s until %s by %s (leaf %d)\n", *device, *kw, from.Format(time.RFC3339), until.Format(time.RFC3339), *by, res.LeafIndex)
	return nil
}
