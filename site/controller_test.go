package site

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ingest/modbus"
	"github.com/lifang-community/lifang/ingest/ocpp"
	"github.com/lifang-community/lifang/policy"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/scenario"
	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// memStore is an in-memory store and sink: what the controller reads and writes.
type memStore struct {
	mu     sync.Mutex
	rs     map[string][]reading.Reading
	events []reading.Event
}

func newMem() *memStore { return &memStore{rs: map[string][]reading.Reading{}} }

func (s *memStore) Ingest(_ context.Context, in ingest.Input) (ingest.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range in.Readings {
		s.rs[r.Point] = append(s.rs[r.Point], r)
		slices.SortFunc(s.rs[r.Point], func(a, b reading.Reading) int { return a.Time.Compare(b.Time) })
	}
	s.events = append(s.events, in.Events...)
	return ingest.Result{Accepted: len(in.Readings), Events: len(in.Events)}, nil
}

func (s *memStore) Neighbours(_ context.Context, point string, t time.Time) (prev, next *reading.Reading, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.rs[point] {
		r := s.rs[point][i]
		if r.Time.Before(t) {
			prev = &r
		} else if r.Time.After(t) && next == nil {
			next = &r
		}
	}
	return prev, next, nil
}

func (s *memStore) Range(_ context.Context, point string, from, to time.Time) ([]reading.Reading, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []reading.Reading
	for _, r := range s.rs[point] {
		if !r.Time.Before(from) && r.Time.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *memStore) Events(_ context.Context, kind reading.EventKind) ([]reading.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []reading.Event
	for _, e := range s.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out, nil
}

type fakeBattery struct {
	st   modbus.BatteryStatus
	err  error
	sent []float64
	idle int
}

func (b *fakeBattery) Read(context.Context, time.Time) (modbus.BatteryStatus, error) {
	return b.st, b.err
}
func (b *fakeBattery) SetPower(_ context.Context, kw float64, _ uint16) modbus.CommandResult {
	b.sent = append(b.sent, kw)
	return modbus.CommandResult{Status: modbus.StatusAccepted, Attempts: 1, ReadBackKW: kw}
}
func (b *fakeBattery) Standby(context.Context) modbus.CommandResult {
	b.idle++
	if b.err != nil {
		return modbus.CommandResult{Status: modbus.StatusTimeout, Attempts: 3, Detail: b.err.Error()}
	}
	return modbus.CommandResult{Status: modbus.StatusAccepted, Attempts: 1}
}

type fakeChargers struct {
	conns  []ocpp.ConnectorState
	limits map[string][]ocpp.Limit
	reject bool
}

func (f *fakeChargers) Connectors() []ocpp.ConnectorState { return f.conns }
func (f *fakeChargers) SetLimit(_ context.Context, cp string, conn int, _ time.Time, l ocpp.Limit) ocpp.CommandResult {
	k := cp + "#" + strconv.Itoa(conn)
	f.limits[k] = append(f.limits[k], l)
	if f.reject {
		return ocpp.CommandResult{Status: "Rejected", Attempts: 1}
	}
	return ocpp.CommandResult{Status: "Accepted", Attempts: 1, Confirmed: true}
}

type fakeMQTT struct{ sent []Command }

func (f *fakeMQTT) Send(_ context.Context, device string, c Command) Outcome {
	f.sent = append(f.sent, c)
	return Outcome{ID: c.ID, Device: device, Status: Acked, Attempts: 1}
}

func siteUnit(t *testing.T) *unit.Unit {
	t.Helper()
	u, err := unit.Parse(examples.Site, "examples/site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type rig struct {
	u    *unit.Unit
	m    *twin.Model
	mem  *memStore
	bat  *fakeBattery
	evs  *fakeChargers
	mq   *fakeMQTT
	ctl  *Controller
	pol  policy.Policy
	t0   time.Time
	name string
}

func newRig(t *testing.T, policy string) *rig {
	t.Helper()
	u := siteUnit(t)
	m, err := twin.FromUnit(u)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := scenario.NewPolicy(policy, m)
	if err != nil {
		t.Fatal(err)
	}
	if cl, ok := pol.(interface{ Close() }); ok {
		t.Cleanup(cl.Close)
	}
	r := &rig{u: u, m: m, mem: newMem(), bat: &fakeBattery{}, evs: &fakeChargers{limits: map[string][]ocpp.Limit{}}, mq: &fakeMQTT{}, pol: pol,
		t0: time.Date(2025, 7, 14, 0, 0, 0, 0, m.Loc), name: policy}
	r.ctl, err = New(Config{Unit: u, Model: m, Policy: pol, PolicyName: policy, PolicyVersion: "test", Store: r.mem, Sink: r.mem,
		Chargers: r.evs, Batteries: map[string]Battery{"community-bess": r.bat}, Commands: r.mq, Start: r.t0, RunID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// feed writes the meters of step k and sets the devices to a random state.
func (r *rig) feed(rng *rand.Rand, at time.Time) {
	var rs []reading.Reading
	for _, m := range r.u.Site.Meters {
		v := 0.0
		switch m.Role {
		case "load":
			v = 50 + 600*rng.Float64()
		case "pv":
			v = -750 * rng.Float64()
		case "flex":
			v = 100 * rng.Float64()
		default:
			continue
		}
		rs = append(rs, reading.Reading{Point: PointPower(m.ID), Time: at, Value: v, Unit: "kW"})
	}
	for _, tk := range r.u.Site.Tanks {
		rs = append(rs, reading.Reading{Point: PointTankLevel(tk.Device), Time: at, Value: 100 * rng.Float64(), Unit: "%"})
	}
	for _, l := range r.u.Site.Lots {
		rs = append(rs, reading.Reading{Point: PointLotOccupancy(l.Device), Time: at, Value: 100 * rng.Float64(), Unit: "%"})
	}
	r.mem.Ingest(context.Background(), ingest.Input{Readings: rs})
	e := 1000 * rng.Float64()
	r.bat.st = modbus.BatteryStatus{At: at, EnergyKWh: e, SoCPct: e / 10, MaxChargeKW: 600 * rng.Float64(), MaxDischargeKW: 600 * rng.Float64()}
	r.evs.conns = nil
	for i, sc := range r.u.Site.Chargers {
		st := ocpp.ConnectorState{ChargePoint: sc.OCPPID, Connector: sc.Connector, Online: true}
		if rng.Float64() < 0.6 {
			st.Transaction = i + 1
			st.MeterStartWh = 1000
			st.MeterWh = 1000 + 20000*rng.Float64()
			st.EnergyNeedKWh = 80 * rng.Float64()
			st.DepartureTime = at.Add(time.Duration(1+rng.IntN(20)) * time.Hour)
		}
		r.evs.conns = append(r.evs.conns, st)
	}
}

// TestNoSetpointBeyondLimits: for random observations, whatever each policy decides,
// nothing passes the adapter beyond the asset's limits.
func TestNoSetpointBeyondLimits(t *testing.T) {
	for _, policy := range []string{"business_as_usual", "rule_based", "mpc"} {
		t.Run(policy, func(t *testing.T) {
			r := newRig(t, policy)
			rng := rand.New(rand.NewPCG(11, uint64(len(policy))))
			spec := r.u.Batteries[0]
			for k := range 200 {
				at := r.t0.Add(time.Duration(k) * time.Hour)
				r.feed(rng, at)
				st := r.bat.st
				before := len(r.bat.sent)
				if _, err := r.ctl.Step(context.Background(), at); err != nil {
					t.Fatal(err)
				}
				if len(r.bat.sent) != before+1 {
					t.Fatalf("step %d: %d battery commands, want 1", k, len(r.bat.sent)-before)
				}
				kw := r.bat.sent[len(r.bat.sent)-1]
				room := (spec.SoCMax*spec.CapacityKWh - st.EnergyKWh) / math.Sqrt(spec.RoundTripEfficiency)
				avail := (st.EnergyKWh - spec.SoCMin*spec.CapacityKWh) * math.Sqrt(spec.RoundTripEfficiency)
				hi := math.Max(0, math.Min(math.Min(spec.PowerKW, st.MaxChargeKW), room))
				lo := math.Max(0, math.Min(math.Min(spec.PowerKW, st.MaxDischargeKW), avail))
				if kw > hi+1e-3 || kw < -lo-1e-3 {
					t.Fatalf("step %d: battery told %.3f kW, limits [-%.3f, %.3f] (energy %.1f kWh)", k, kw, lo, hi, st.EnergyKWh)
				}
				for _, sc := range r.u.Site.Chargers {
					ls := r.evs.limits[sc.OCPPID+"#"+strconv.Itoa(sc.Connector)]
					if len(ls) == 0 {
						continue
					}
					l := ls[len(ls)-1]
					w := l.Value
					if l.Unit == "A" {
						w = l.Value * sc.VoltageV * float64(sc.Phases)
					}
					if w > sc.MaxCurrentA*sc.VoltageV*float64(sc.Phases)+1 || w < 0 || math.IsNaN(w) {
						t.Fatalf("step %d: charger %s told %g %s, max %g A", k, sc.Charger, l.Value, l.Unit, sc.MaxCurrentA)
					}
				}
			}
		})
	}
}

// A battery that cannot be read goes to standby, raises an alarm once and clears it
// when it answers again.
func TestBatteryUnreachableSafeState(t *testing.T) {
	r := newRig(t, "rule_based")
	rng := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	var alarms []string
	for k := range 6 {
		at := r.t0.Add(time.Duration(k) * time.Hour)
		r.feed(rng, at)
		r.bat.err = nil
		if k == 2 || k == 3 {
			r.bat.err = errTest("connection refused")
		}
		rep, err := r.ctl.Step(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		alarms = append(alarms, rep.Alarms...)
		if (k == 2 || k == 3) && r.bat.idle != k-1 {
			t.Fatalf("step %d: standby sent %d times, want %d", k, r.bat.idle, k-1)
		}
	}
	want := []string{"raised battery/community-bess: unreachable", "cleared battery/community-bess: unreachable"}
	if !slices.Equal(alarms, want) {
		t.Fatalf("alarms %q, want %q", alarms, want)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// A stale meter falls back to its reading 24 h earlier, with an alarm.
func TestStaleMeterFallback(t *testing.T) {
	r := newRig(t, "rule_based")
	ctx := context.Background()
	day := r.t0.Add(-24 * time.Hour)
	r.mem.Ingest(ctx, ingest.Input{Readings: []reading.Reading{{Point: PointPower("feeder-a"), Time: day.Add(5 * time.Hour), Value: 321, Unit: "kW"}}})
	at := r.t0.Add(5 * time.Hour)
	v, fb, fresh := r.ctl.meterPower(ctx, "feeder-a", at)
	if fresh || v != 321 || fb != "feeder-a:persistence_24h" {
		t.Fatalf("stale meter: %g %q fresh=%v, want 321 from 24 h earlier", v, fb, fresh)
	}
	if _, ok := r.ctl.Alarms()["meter/feeder-a: stale"]; !ok {
		t.Fatal("no stale alarm")
	}
	r.mem.Ingest(ctx, ingest.Input{Readings: []reading.Reading{{Point: PointPower("feeder-a"), Time: at.Add(-30 * time.Minute), Value: 400, Unit: "kW"}}})
	if v, _, fresh := r.ctl.meterPower(ctx, "feeder-a", at); !fresh || v != 400 {
		t.Fatalf("fresh reading: %g fresh=%v", v, fresh)
	}
	if _, ok := r.ctl.Alarms()["meter/feeder-a: stale"]; ok {
		t.Fatal("stale alarm not cleared")
	}
}

// Every step ledgers a decision whose inputs hash is reproducible from the ledgered
// observation, and every command has exactly one answer with the same id.
func TestEvidence(t *testing.T) {
	r := newRig(t, "mpc")
	rng := rand.New(rand.NewPCG(5, 6))
	ctx := context.Background()
	for k := range 30 {
		at := r.t0.Add(time.Duration(k) * time.Hour)
		r.feed(rng, at)
		if _, err := r.ctl.Step(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	decs, _ := r.mem.Events(ctx, EventDecision)
	if len(decs) != 30 {
		t.Fatalf("%d decisions, want 30", len(decs))
	}
	for _, d := range decs {
		o, err := decodeObservation(d.Attrs["observation"])
		if err != nil {
			t.Fatal(err)
		}
		_, sum := encodeObservation(o, d.Attrs["policy"], d.Attrs["version"], d.Attrs["plan_battery_kw"])
		if sum != d.Attrs["inputs_sha256"] {
			t.Fatalf("step %s: inputs hash does not re-derive from the ledgered observation", d.Attrs["step"])
		}
	}
	cmds, _ := r.mem.Events(ctx, EventCommand)
	answers, _ := r.mem.Events(ctx, EventAnswer)
	ids := map[string]int{}
	for _, c := range cmds {
		ids[c.Attrs["id"]]++
	}
	answered := map[string]int{}
	for _, a := range answers {
		if a.Attrs["kind"] != "step_done" {
			answered[a.Attrs["id"]]++
		}
	}
	for id, n := range ids {
		if n != 1 || answered[id] != 1 {
			t.Fatalf("command %s: %d command events, %d answers; want 1 and 1", id, n, answered[id])
		}
	}
	if len(ids) < 30 || len(answered) != len(ids) {
		t.Fatalf("%d commands, %d answered", len(ids), len(answered))
	}
}

// A restarted controller replays the ledgered observations into a fresh policy: its
// decisions then equal those of a controller that never stopped.
func TestResumeReplaysPolicy(t *testing.T) {
	ctx := context.Background()
	a := newRig(t, "rule_based")
	rngA := rand.New(rand.NewPCG(9, 9))
	for k := range 40 {
		at := a.t0.Add(time.Duration(k) * time.Hour)
		a.feed(rngA, at)
		if _, err := a.ctl.Step(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	// b runs 25 steps, "dies", and a new controller over the same store resumes.
	b := newRig(t, "rule_based")
	rngB := rand.New(rand.NewPCG(9, 9))
	for k := range 25 {
		at := b.t0.Add(time.Duration(k) * time.Hour)
		b.feed(rngB, at)
		if _, err := b.ctl.Step(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	pol, _ := scenario.NewPolicy("rule_based", b.m)
	ctl, err := New(Config{Unit: b.u, Model: b.m, Policy: pol, PolicyName: "rule_based", PolicyVersion: "test", Store: b.mem, Sink: b.mem,
		Chargers: b.evs, Batteries: map[string]Battery{"community-bess": b.bat}, Commands: b.mq, Start: b.t0, RunID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	last, err := ctl.Resume(ctx)
	if err != nil || last != 24 {
		t.Fatalf("resume: last step %d, %v; want 24", last, err)
	}
	for k := 25; k < 40; k++ {
		at := b.t0.Add(time.Duration(k) * time.Hour)
		b.feed(rngB, at)
		if _, err := ctl.Step(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	da, _ := a.mem.Events(ctx, EventDecision)
	db, _ := b.mem.Events(ctx, EventDecision)
	if len(da) != len(db) {
		t.Fatalf("%d vs %d decisions", len(da), len(db))
	}
	for i := range da {
		if da[i].Attrs["setpoints"] != db[i].Attrs["setpoints"] || da[i].Attrs["inputs_sha256"] != db[i].Attrs["inputs_sha256"] {
			t.Fatalf("step %s: resumed controller decided %q, uninterrupted %q", da[i].Attrs["step"], db[i].Attrs["setpoints"], da[i].Attrs["setpoints"])
		}
	}
	ids := map[string]bool{}
	cmds, _ := b.mem.Events(ctx, EventCommand)
	for _, c := range cmds {
		if ids[c.Attrs["id"]] {
			t.Fatalf("command id %s used twice", c.Attrs["id"])
		}
		ids[c.Attrs["id"]] = true
	}
	_ = strings.Contains
}

// An operator override pins the battery's setpoint until it expires, within the limits.
func TestOverride(t *testing.T) {
	r := newRig(t, "business_as_usual")
	rng := rand.New(rand.NewPCG(7, 7))
	ctx := context.Background()
	r.mem.Ingest(ctx, ingest.Input{Events: []reading.Event{{Kind: EventOverride, Source: "alice", Time: r.t0.Add(2 * time.Hour),
		Attrs: map[string]string{"device": "community-bess", "value_kw": "-150", "until": r.t0.Add(4 * time.Hour).Format(time.RFC3339), "by": "alice"}}}})
	for k := range 6 {
		at := r.t0.Add(time.Duration(k) * time.Hour)
		r.feed(rng, at)
		r.bat.st.EnergyKWh, r.bat.st.MaxDischargeKW, r.bat.st.MaxChargeKW = 600, 500, 500
		if _, err := r.ctl.Step(ctx, at); err != nil {
			t.Fatal(err)
		}
		want := 0.0
		if k == 2 || k == 3 {
			want = -150
		}
		if got := r.bat.sent[len(r.bat.sent)-1]; got != want {
			t.Fatalf("step %d: battery told %g kW, want %g", k, got, want)
		}
	}
	cmds, _ := r.mem.Events(ctx, EventCommand)
	found := false
	for _, c := range cmds {
		if c.Attrs["step"] == "2" && strings.Contains(c.Attrs["clamp"], "override by alice") {
			found = true
		}
	}
	if !found {
		t.Fatal("the override is not named in the ledgered command")
	}
}

func TestMetricsExposition(t *testing.T) {
	r := newRig(t, "rule_based")
	r.ctl.cfg.Metrics = NewMetrics()
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 3 {
		at := r.t0.Add(time.Duration(k) * time.Hour)
		r.feed(rng, at)
		if _, err := r.ctl.Step(context.Background(), at); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	r.ctl.cfg.Metrics.WriteTo(&b)
	out := b.String()
	for _, want := range []string{
		`lifang_operate_commands_total{device="community-bess",protocol="modbus",status="acked"} 3`,
		"lifang_operate_steps_total 3", "lifang_operate_last_step 2", "lifang_operate_step_seconds_count 3",
		`lifang_operate_data_staleness_seconds{point="feeder-a/elec/active_power"} 0`,
		"# TYPE lifang_operate_step_seconds summary",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
}
