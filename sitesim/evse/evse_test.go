package evse_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ingest/ocpp"
	"github.com/lifang-community/lifang/sitesim/evse"
)

// These tests run lifang's real central system and the emulator over real websockets.

// sink accepts everything.
type sink struct {
	mu sync.Mutex
	n  int
}

func (s *sink) Ingest(_ context.Context, in ingest.Input) (ingest.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return ingest.Result{Accepted: len(in.Readings), Events: len(in.Events), LeafIndex: int64(s.n - 1)}, nil
}

// clock is the simulated time the site emulator and the controller share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func startCS(t *testing.T, cfg ocpp.Config) *ocpp.CentralSystem {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	cs := ocpp.NewCentralSystem(cfg, &sink{}, testLogger(t).With("side", "cs"))
	if err := cs.Start(); err != nil {
		t.Fatal(err)
	}
	return cs
}

// dial connects a two-connector 32 A three-phase charger (22 080 W).
func dial(t *testing.T, cs *ocpp.CentralSystem, clk *clock, id string, mod func(*evse.Config)) *evse.ChargePoint {
	t.Helper()
	cfg := evse.Config{
		URL: "ws://" + cs.Addr(), ID: id, Connectors: 2, MaxCurrentA: 32, Phases: 3,
		Clock: clk.Now, Log: testLogger(t).With("side", "evse"), Backoff: 50 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cp, err := evse.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Close() })
	waitFor(t, id+" known", func() bool {
		st, ok := cs.Connector(id, cfg.Connectors)
		return ok && st.Online && st.Status == "Available"
	})
	return cp
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// The whole loop: an EV plugs in and declares its need, the controller limits it in W
// then in A, the charger applies and confirms each, energy flows, the EV leaves.
func TestSteering(t *testing.T) {
	cs := startCS(t, ocpp.Config{})
	t.Cleanup(cs.Stop)
	clk := newClock()
	cp := dial(t, cs, clk, "EVSE1", nil)
	ctx := context.Background()

	departure := clk.Now().Add(7 * time.Hour)
	tx, err := cp.Plug(ctx, 1, "DRIVER01", departure, 23.5)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := cs.Connector("EVSE1", 1)
	if st.Transaction != tx || st.Status != "Charging" || !st.DepartureTime.Equal(departure) || st.EnergyNeedKWh != 23.5 ||
		st.MeterWh != 0 || !st.MeterTime.Equal(clk.Now()) {
		t.Fatalf("after plug: %+v", st)
	}
	if got := cp.LimitW(1); got != 22080 {
		t.Errorf("limit before any profile: %v W, want the maximum", got)
	}

	clk.Add(time.Minute)
	res := cs.SetLimit(ctx, "EVSE1", 1, clk.Now(), ocpp.Limit{Value: 7000, Unit: "W"})
	if res.Status != ocpp.StatusAccepted || !res.Confirmed || res.Attempts != 1 {
		t.Fatalf("SetLimit 7000 W: %+v", res)
	}
	if got := cp.LimitW(1); got != 7000 {
		t.Errorf("LimitW %v, want 7000", got)
	}
	if got := cp.LimitW(2); got != 22080 {
		t.Errorf("other connector: LimitW %v", got)
	}

	res = cs.SetLimit(ctx, "EVSE1", 1, clk.Now(), ocpp.Limit{Value: 16, Unit: "A", Phases: 3})
	if res.Status != ocpp.StatusAccepted || !res.Confirmed {
		t.Fatalf("SetLimit 16 A: %+v", res)
	}
	if got := cp.LimitW(1); !near(got, 11040) {
		t.Errorf("LimitW %v, want 16 A × 3 × 230 V = 11040", got)
	}
	if s := cp.Stats(); s.ProfilesAccepted != 2 || s.ProfilesReceived != 2 || s.LastLimit != 16 || s.LastLimitUnit != "A" {
		t.Errorf("stats %+v", s)
	}

	clk.Add(15 * time.Minute)
	if err := cp.Deliver(ctx, 1, 2.5, 10000); err != nil {
		t.Fatal(err)
	}
	if s := cp.Stats(); s.MeterWh[1] != 2500 || s.MeterWh[2] != 0 {
		t.Errorf("register %+v", s.MeterWh)
	}
	st, _ = cs.Connector("EVSE1", 1)
	if st.MeterWh != 2500 || st.PowerW != 10000 || !st.MeterTime.Equal(clk.Now()) {
		t.Errorf("after deliver: %+v", st)
	}
	clk.Add(15 * time.Minute)
	if err := cp.Deliver(ctx, 1, 2.75, 11000); err != nil {
		t.Fatal(err)
	}
	if st, _ := cs.Connector("EVSE1", 1); st.MeterWh != 5250 {
		t.Errorf("register grows: %+v", st)
	}

	clk.Add(time.Minute)
	if err := cp.Unplug(ctx, 1); err != nil {
		t.Fatal(err)
	}
	st, _ = cs.Connector("EVSE1", 1)
	if st.Transaction != 0 || st.Status != "Available" || !st.DepartureTime.IsZero() || st.EnergyNeedKWh != 0 || st.MeterWh != 5250 {
		t.Errorf("after unplug: %+v", st)
	}
	// The TxProfile ended with its transaction.
	if got := cp.LimitW(1); got != 22080 {
		t.Errorf("after the transaction: LimitW %v", got)
	}
	// The next session starts from the register.
	if _, err := cp.Plug(ctx, 1, "DRIVER02", time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	if st, _ := cs.Connector("EVSE1", 1); st.MeterWh != 5250 || st.EnergyNeedKWh != 0 {
		t.Errorf("second session: %+v", st)
	}
}

// A limit set with no transaction is a TxDefaultProfile: in force at once and for the
// next EV; clearing it falls back to the charger's default.
func TestTxDefaultAndClear(t *testing.T) {
	cs := startCS(t, ocpp.Config{})
	t.Cleanup(cs.Stop)
	clk := newClock()
	cp := dial(t, cs, clk, "EVSE2", func(c *evse.Config) { c.DefaultLimitW = 3680 })
	ctx := context.Background()
	if got := cp.LimitW(1); got != 3680 {
		t.Fatalf("default: %v", got)
	}
	res := cs.SetLimit(ctx, "EVSE2", 1, clk.Now(), ocpp.Limit{Value: 5000, Unit: "W"})
	if res.Status != ocpp.StatusAccepted || !res.Confirmed || !strings.Contains(res.Detail, "TxDefaultProfile") {
		t.Fatalf("%+v", res)
	}
	clk.Add(time.Hour)
	if _, err := cp.Plug(ctx, 1, "DRIVER03", time.Time{}, 12); err != nil {
		t.Fatal(err)
	}
	if got := cp.LimitW(1); got != 5000 {
		t.Errorf("limit of the next session: %v, want 5000", got)
	}
	if got := cp.LimitW(2); got != 3680 {
		t.Errorf("the other connector: %v", got)
	}
	if res := cs.ClearLimit(ctx, "EVSE2", 1); res.Status != ocpp.StatusAccepted || res.Attempts != 1 {
		t.Fatalf("clear: %+v", res)
	}
	if got := cp.LimitW(1); got != 3680 {
		t.Errorf("after clear: %v, want the default", got)
	}
	if res := cs.ClearLimit(ctx, "EVSE2", 1); res.Status != ocpp.StatusUnknown {
		t.Errorf("clear again: %+v", res)
	}
	if s := cp.Stats(); s.ProfilesCleared != 1 {
		t.Errorf("stats %+v", s)
	}
	// A zero limit suspends charging.
	if res := cs.SetLimit(ctx, "EVSE2", 1, clk.Now(), ocpp.Limit{Value: 0, Unit: "W"}); res.Status != ocpp.StatusAccepted || !res.Confirmed {
		t.Fatalf("zero: %+v", res)
	}
	waitFor(t, "SuspendedEVSE", func() bool { st, _ := cs.Connector("EVSE2", 1); return st.Status == "SuspendedEVSE" })
	cs.ClearLimit(ctx, "EVSE2", 1)
	waitFor(t, "Charging again", func() bool { st, _ := cs.Connector("EVSE2", 1); return st.Status == "Charging" })
}

// A charger that refuses profiles keeps its default; the refusal is final.
func TestRejectProfiles(t *testing.T) {
	cs := startCS(t, ocpp.Config{})
	t.Cleanup(cs.Stop)
	clk := newClock()
	cp := dial(t, cs, clk, "EVSE3", func(c *evse.Config) { c.RejectProfiles, c.DefaultLimitW = true, 7360 })
	ctx := context.Background()
	if _, err := cp.Plug(ctx, 1, "DRIVER04", time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	res := cs.SetLimit(ctx, "EVSE3", 1, clk.Now(), ocpp.Limit{Value: 3000, Unit: "W"})
	if res.Status != ocpp.StatusRejected || res.Confirmed || res.Attempts != 1 {
		t.Errorf("%+v", res)
	}
	if got := cp.LimitW(1); got != 7360 {
		t.Errorf("LimitW %v, want the default", got)
	}
	if s := cp.Stats(); s.ProfilesRejected != 1 || s.ProfilesAccepted != 0 {
		t.Errorf("stats %+v", s)
	}
}

// A limit above what the charger can do is accepted but not confirmed.
func TestLimitAboveMaximum(t *testing.T) {
	cs := startCS(t, ocpp.Config{})
	t.Cleanup(cs.Stop)
	clk := newClock()
	cp := dial(t, cs, clk, "EVSE4", func(c *evse.Config) { c.Phases, c.MaxCurrentA = 1, 16 })
	res := cs.SetLimit(context.Background(), "EVSE4", 2, clk.Now(), ocpp.Limit{Value: 32, Unit: "A", Phases: 1})
	if res.Status != ocpp.StatusAccepted || res.Confirmed || !strings.Contains(res.Detail, "16 A in force") {
		t.Errorf("%+v", res)
	}
	if got := cp.LimitW(2); got != 3680 {
		t.Errorf("LimitW %v", got)
	}
}

func TestOfflineAfterClose(t *testing.T) {
	cs := startCS(t, ocpp.Config{})
	t.Cleanup(cs.Stop)
	clk := newClock()
	cp := dial(t, cs, clk, "EVSE5", nil)
	if err := cp.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "offline", func() bool { return !cs.Online("EVSE5") })
	begin := time.Now()
	res := cs.SetLimit(context.Background(), "EVSE5", 1, clk.Now(), ocpp.Limit{Value: 1000, Unit: "W"})
	if res.Status != ocpp.StatusOffline || res.Attempts != 0 || time.Since(begin) > time.Second {
		t.Errorf("%+v after %v", res, time.Since(begin))
	}
	if _, err := cp.Plug(context.Background(), 1, "T", time.Time{}, 0); !errors.Is(err, evse.ErrOffline) {
		t.Errorf("plug after close: %v", err)
	}
}

// The central system goes away and comes back: the charger reconnects by itself,
// boots and reports its connectors again, and can be steered.
func TestReconnect(t *testing.T) {
	first := startCS(t, ocpp.Config{})
	addr := first.Addr()
	clk := newClock()
	cp := dial(t, first, clk, "EVSE6", nil)
	ctx := context.Background()
	if _, err := cp.Plug(ctx, 2, "DRIVER05", time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	first.Stop()
	waitFor(t, "disconnected", func() bool { return !cp.Stats().Connected })

	second := startCS(t, ocpp.Config{Addr: addr})
	t.Cleanup(second.Stop)
	waitFor(t, "statuses again", func() bool {
		a, okA := second.Connector("EVSE6", 1)
		b, okB := second.Connector("EVSE6", 2)
		// The charger counts itself connected once its boot's last answer is in.
		return okA && okB && a.Online && a.Status == "Available" && b.Status == "Charging" && cp.Stats().Connected
	})
	if s := cp.Stats(); s.Boots != 2 || !s.Connected {
		t.Errorf("stats %+v", s)
	}
	res := second.SetLimit(ctx, "EVSE6", 1, clk.Now(), ocpp.Limit{Value: 4000, Unit: "W"})
	if res.Status != ocpp.StatusAccepted || !res.Confirmed || cp.LimitW(1) != 4000 {
		t.Errorf("%+v, LimitW %v", res, cp.LimitW(1))
	}
}

func TestRemoteStartStop(t *testing.T) {
	cs := startCS(t, ocpp.Config{})
	t.Cleanup(cs.Stop)
	clk := newClock()
	cp := dial(t, cs, clk, "EVSE7", nil)
	ctx := context.Background()
	if res := cs.RemoteStart(ctx, "EVSE7", 2, "DRIVER06"); res.Status != ocpp.StatusAccepted {
		t.Fatalf("start: %+v", res)
	}
	var tx int
	waitFor(t, "remote transaction", func() bool {
		st, _ := cs.Connector("EVSE7", 2)
		tx = st.Transaction
		return tx != 0 && st.Status == "Charging"
	})
	if res := cs.RemoteStart(ctx, "EVSE7", 2, "DRIVER07"); res.Status != ocpp.StatusRejected {
		t.Errorf("start on a busy connector: %+v", res)
	}
	if res := cs.RemoteStop(ctx, "EVSE7", tx+1000); res.Status != ocpp.StatusRejected {
		t.Errorf("stop of an unknown transaction: %+v", res)
	}
	if res := cs.RemoteStop(ctx, "EVSE7", tx); res.Status != ocpp.StatusAccepted {
		t.Fatalf("stop: %+v", res)
	}
	waitFor(t, "remote stop", func() bool {
		st, _ := cs.Connector("EVSE7", 2)
		return st.Transaction == 0 && st.Status == "Finishing"
	})
	if err := cp.Unplug(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if st, _ := cs.Connector("EVSE7", 2); st.Status != "Available" {
		t.Errorf("%+v", st)
	}
	if res := cs.Trigger(ctx, "EVSE7", 0, "FirmwareStatusNotification"); res.Status != ocpp.StatusNotSupported {
		t.Errorf("trigger firmware: %+v", res)
	}
	if res := cs.Trigger(ctx, "EVSE7", 1, "MeterValues"); res.Status != ocpp.StatusAccepted {
		t.Errorf("trigger meter values: %+v", res)
	}
}

func TestEVErrors(t *testing.T) {
	cs := startCS(t, ocpp.Config{AllowedIDTags: []string{"GOOD"}})
	t.Cleanup(cs.Stop)
	clk := newClock()
	cp := dial(t, cs, clk, "EVSE8", nil)
	ctx := context.Background()
	if _, err := cp.Plug(ctx, 1, "BAD", time.Time{}, 0); !errors.Is(err, evse.ErrNotAuthorized) {
		t.Errorf("refused tag: %v", err)
	}
	if st, _ := cs.Connector("EVSE8", 1); st.Transaction != 0 || st.Status != "Available" {
		t.Errorf("after a refused tag: %+v", st)
	}
	if _, err := cp.Plug(ctx, 1, "GOOD", time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Plug(ctx, 1, "GOOD", time.Time{}, 0); !errors.Is(err, evse.ErrBusy) {
		t.Errorf("plug twice: %v", err)
	}
	if err := cp.Unplug(ctx, 2); !errors.Is(err, evse.ErrNotPlugged) {
		t.Errorf("unplug an empty connector: %v", err)
	}
	if err := cp.Deliver(ctx, 2, 1, 1000); !errors.Is(err, evse.ErrNoTransaction) {
		t.Errorf("energy without a transaction: %v", err)
	}
	for name, err := range map[string]error{
		"connector 3":  cp.Deliver(ctx, 3, 1, 1000),
		"negative kWh": cp.Deliver(ctx, 1, -1, 1000),
		"NaN W":        cp.Deliver(ctx, 1, 1, math.NaN()),
		"long tag":     func() error { _, err := cp.Plug(ctx, 2, strings.Repeat("x", 21), time.Time{}, 0); return err }(),
		"negative kWh need": func() error {
			_, err := cp.Plug(ctx, 2, "GOOD", time.Time{}, -1)
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if got := cp.LimitW(0); got != 0 {
		t.Errorf("LimitW(0) = %v", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]evse.Config{
		"url":        {URL: "http://x", ID: "A", Connectors: 1, MaxCurrentA: 16, Phases: 1},
		"id":         {URL: "ws://x", ID: "a/b", Connectors: 1, MaxCurrentA: 16, Phases: 1},
		"connectors": {URL: "ws://x", ID: "A", Connectors: 0, MaxCurrentA: 16, Phases: 1},
		"current":    {URL: "ws://x", ID: "A", Connectors: 1, MaxCurrentA: 0, Phases: 1},
		"phases":     {URL: "ws://x", ID: "A", Connectors: 1, MaxCurrentA: 16, Phases: 2},
		"default":    {URL: "ws://x", ID: "A", Connectors: 1, MaxCurrentA: 16, Phases: 1, DefaultLimitW: -1},
	} {
		if _, err := evse.Dial(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "evse config") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Nothing listening: Dial retries until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := evse.Dial(ctx, evse.Config{URL: "ws://127.0.0.1:1", ID: "A", Connectors: 1, MaxCurrentA: 16, Phases: 1,
		Backoff: 20 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dial nowhere: %v", err)
	}
}
