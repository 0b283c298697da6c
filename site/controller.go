package site

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ingest/modbus"
	"github.com/lifang-community/lifang/ingest/ocpp"
	"github.com/lifang-community/lifang/policy"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Readings is what the controller reads from the store.
type Readings interface {
	// Neighbours returns the readings of point just before and after t.
	Neighbours(ctx context.Context, point string, t time.Time) (prev, next *reading.Reading, err error)
	Range(ctx context.Context, point string, from, to time.Time) ([]reading.Reading, error)
	Events(ctx context.Context, kind reading.EventKind) ([]reading.Event, error)
}

// Charging is the OCPP central system's command side.
type Charging interface {
	Connectors() []ocpp.ConnectorState
	SetLimit(ctx context.Context, cp string, connector int, at time.Time, l ocpp.Limit) ocpp.CommandResult
}

// Battery is one BESS over Modbus.
type Battery interface {
	Read(ctx context.Context, at time.Time) (modbus.BatteryStatus, error)
	SetPower(ctx context.Context, kw float64, commTimeoutS uint16) modbus.CommandResult
	Standby(ctx context.Context) modbus.CommandResult
}

// Commander sends an MQTT command to a device and waits for its answer.
type Commander interface {
	Send(ctx context.Context, device string, c Command) Outcome
}

// Outcome statuses: every sent command ends in exactly one of the first three.
const (
	Acked    = "acked"
	Rejected = "rejected"
	TimedOut = "timed_out" // no answer in time, the device unreachable, or a transport error
	DryRun   = "dry_run"   // decided and logged, not sent
	NotSent  = "not_sent"  // held back by the rate limit
)

// Outcome is one command's result, as ledgered.
type Outcome struct {
	ID       string `json:"id"`
	Device   string `json:"device"`
	Protocol string `json:"protocol"` // ocpp | modbus | mqtt
	Action   string `json:"action"`
	Value    string `json:"value"`
	Status   string `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Attempts int    `json:"attempts"`
}

// Config configures a Controller.
type Config struct {
	Unit  *unit.Unit
	Model *twin.Model
	// Policy decides; PolicyName and PolicyVersion are ledgered with each decision.
	Policy        policy.Policy
	PolicyName    string
	PolicyVersion string
	Store         Readings
	Sink          ingest.Sink
	Chargers      Charging           // nil: no chargers commissioned
	Batteries     map[string]Battery // by unit battery name
	Commands      Commander          // MQTT devices
	// Start is the run's first step (step 0); steps are counted from it.
	Start  time.Time
	RunID  string
	DryRun bool
	Log    *slog.Logger
	// Metrics, when set, is updated after every step.
	Metrics *Metrics
}

// Controller runs the live loop one step at a time.
type Controller struct {
	cfg  Config
	site *unit.Site
	dt   time.Duration
	log  *slog.Logger

	lastLimit map[string]float64 // connector → last limit sent (W), for change detection
	sentAt    map[string][]time.Time
	alarms    map[string]string // open alarms: key → message
	requests  map[int]flexRequest
	started   map[int]bool
	seenFlex  int
	lastStep  int
	attempts  map[int]int // step → decisions already ledgered for it
	answered  map[int]bool
	chargeIdx map[string]int
	lotPrice  map[string]float64
	changes   []alarmChange
	bats      map[string]modbus.BatteryStatus // this step's reads
	batErr    map[string]error
	conns     map[string]ocpp.ConnectorState // this step's, by charger asset id
	lotSent   map[string]string
	cur       *current    // the step between Observe and Apply
	last      *StepReport // the last step applied
}

type flexRequest struct {
	job         int
	device      string
	earliest    time.Time
	latestStart time.Time
	steps       int
	energyKWh   float64
	profile     []float64
}

// New makes a controller; Resume brings it to where the ledger says it stopped.
func New(cfg Config) (*Controller, error) {
	if cfg.Unit == nil || cfg.Unit.Site == nil {
		return nil, errors.New("site: the unit has no site: section")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, site: cfg.Unit.Site, dt: time.Duration(cfg.Unit.Simulation.StepMinutes) * time.Minute, log: cfg.Log,
		lastLimit: map[string]float64{}, sentAt: map[string][]time.Time{}, alarms: map[string]string{}, requests: map[int]flexRequest{},
		started: map[int]bool{}, lastStep: -1, attempts: map[int]int{}, answered: map[int]bool{}, chargeIdx: map[string]int{},
		lotPrice: map[string]float64{}, lotSent: map[string]string{}}
	for i, ch := range cfg.Model.Chargers {
		c.chargeIdx[ch.Name] = i
	}
	return c, nil
}

// StepOf is the index of the step that starts at t.
func (c *Controller) StepOf(t time.Time) int { return int(t.Sub(c.cfg.Start) / c.dt) }

// TimeOf is the start of step k.
func (c *Controller) TimeOf(k int) time.Time { return c.cfg.Start.Add(time.Duration(k) * c.dt) }

// LastStep is the last step decided (−1 before the first).
func (c *Controller) LastStep() int { return c.lastStep }

// Alarms are the open alarms, by key.
func (c *Controller) Alarms() map[string]string { return c.alarms }

// Resume replays the run's ledgered decisions: the policy sees every observation it saw
// before (so its memory — peaks, forecasts' history — is what it was), the controller
// learns which commands it sent and which steps were interrupted. It returns the last
// step decided.
func (c *Controller) Resume(ctx context.Context) (int, error) {
	evs, err := c.cfg.Store.Events(ctx, reading.EventKind(EventDecision))
	if err != nil {
		return -1, fmt.Errorf("site: resume: %w", err)
	}
	type dec struct {
		step, attempt int
		obs           *policy.Observation
	}
	var ds []dec
	for _, e := range evs {
		if e.Attrs["run"] != c.cfg.RunID {
			continue
		}
		k, err1 := strconv.Atoi(e.Attrs["step"])
		a, err2 := strconv.Atoi(e.Attrs["attempt"])
		if err1 != nil || err2 != nil {
			return -1, fmt.Errorf("site: resume: decision event at %s: bad step %q or attempt %q", e.Time, e.Attrs["step"], e.Attrs["attempt"])
		}
		o, err := decodeObservation(e.Attrs["observation"])
		if err != nil {
			return -1, fmt.Errorf("site: resume: decision of step %d: %w", k, err)
		}
		ds = append(ds, dec{k, a, o})
		c.attempts[k] = max(c.attempts[k], a+1)
	}
	answers, err := c.cfg.Store.Events(ctx, reading.EventKind(EventAnswer))
	if err != nil {
		return -1, fmt.Errorf("site: resume: %w", err)
	}
	for _, e := range answers {
		if e.Attrs["run"] == c.cfg.RunID && e.Attrs["kind"] == "step_done" {
			k, _ := strconv.Atoi(e.Attrs["step"])
			c.answered[k] = true
		}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].step != ds[j].step {
			return ds[i].step < ds[j].step
		}
		return ds[i].attempt < ds[j].attempt
	})
	// The last attempt of each completed step is what the policy saw and acted on.
	last := -1
	for i, d := range ds {
		if i+1 < len(ds) && ds[i+1].step == d.step {
			continue
		}
		if !c.answered[d.step] {
			continue // interrupted: it is decided again
		}
		c.cfg.Policy.Decide(d.obs)
		last = d.step
	}
	// What the devices were told: jobs started, car-park prices in force.
	for _, e := range answers {
		a := e.Attrs
		if a["run"] != c.cfg.RunID || a["status"] != Acked {
			continue
		}
		switch a["action"] {
		case "start":
			for _, s := range strings.Split(a["value"], ",") {
				if j, err := strconv.Atoi(s); err == nil {
					c.started[j] = true
				}
			}
		case "set_price":
			for _, sl := range c.site.Lots {
				if sl.Device != e.Source {
					continue
				}
				c.lotSent[sl.Device] = a["value"]
				if p, err := strconv.ParseFloat(strings.SplitN(a["value"], "/", 2)[0], 64); err == nil {
					c.lotPrice[sl.Lot] = p
				}
			}
		}
	}
	// Alarms open when the process stopped.
	alarms, err := c.cfg.Store.Events(ctx, reading.EventKind(EventAlarm))
	if err != nil {
		return -1, fmt.Errorf("site: resume: %w", err)
	}
	for _, e := range alarms {
		if e.Attrs["run"] != c.cfg.RunID || e.Attrs["kind"] != "alarm" {
			continue
		}
		if e.Attrs["state"] == "raised" {
			c.alarms[e.Attrs["alarm"]] = e.Attrs["message"]
		} else {
			delete(c.alarms, e.Attrs["alarm"])
		}
	}
	c.lastStep = last
	return last, nil
}

// StepReport is what one step did.
type StepReport struct {
	Step     int
	Time     time.Time
	Outcomes []Outcome
	Alarms   []string // raised or cleared in this step
	Fallback []string // observation fallbacks used
	InputSHA string
}

// Step decides step k (starting at at) and carries the decision out.
func (c *Controller) Step(ctx context.Context, at time.Time) (*StepReport, error) {
	t0 := time.Now()
	rep, err := c.step(ctx, at)
	if err == nil && c.cfg.Metrics != nil {
		c.cfg.Metrics.step(rep, time.Since(t0), len(c.alarms), c.staleness(ctx, at))
	}
	return rep, err
}

// staleness is the age of each meter's newest power reading at at, in seconds.
func (c *Controller) staleness(ctx context.Context, at time.Time) map[string]float64 {
	out := map[string]float64{}
	for _, m := range c.site.Meters {
		p := PointPower(m.ID)
		prev, _, err := c.cfg.Store.Neighbours(ctx, p, at.Add(time.Nanosecond))
		if err != nil {
			continue
		}
		if prev == nil {
			out[p] = math.Inf(1)
		} else {
			out[p] = at.Sub(prev.Time).Seconds()
		}
	}
	return out
}

func (c *Controller) step(ctx context.Context, at time.Time) (*StepReport, error) {
	if _, err := policy.Step(ctx, c, c.cfg.Policy, at); err != nil {
		return nil, err
	}
	return c.last, nil
}

// current is the step between Observe and Apply.
type current struct {
	k, attempt int
	at         time.Time
	obs        *policy.Observation
	alarms     []reading.Event
	rep        *StepReport
}

// Observe implements policy.Plant: step k's observation from the store and the devices.
// It first logs steps missed and interrupted since the last one decided.
func (c *Controller) Observe(ctx context.Context, at time.Time) (*policy.Observation, error) {
	k := c.StepOf(at)
	if !c.TimeOf(k).Equal(at) {
		return nil, fmt.Errorf("site: %s is not the start of a step (every %v from %s)", at.Format(time.RFC3339), c.dt, c.cfg.Start.Format(time.RFC3339))
	}
	rep := &StepReport{Step: k, Time: at}
	if k > c.lastStep+1 && c.lastStep >= -1 {
		from := c.lastStep + 1
		// A skipped step whose decision was ledgered without its answers was cut short by
		// the process stopping: some of its commands may have reached the devices.
		for j := from; j < k; j++ {
			if c.attempts[j] > 0 && !c.answered[j] {
				c.event(ctx, EventAlarm, at, map[string]string{"kind": "step_interrupted", "step": strconv.Itoa(j), "attempt": strconv.Itoa(c.attempts[j] - 1),
					"reason": "a decision of this step was ledgered but not its answers (the process stopped), and the clock moved past the step before the restart; some of its commands may have reached the devices"})
			}
		}
		c.event(ctx, EventAlarm, at, map[string]string{"kind": "steps_missed", "from_step": strconv.Itoa(from), "to_step": strconv.Itoa(k - 1),
			"reason": "no step decided by the controller for these steps (it was not running, or the clock moved on); the devices ran on their last setpoints or their own watchdogs"})
	}
	if c.attempts[k] > 0 && !c.answered[k] {
		c.event(ctx, EventAlarm, at, map[string]string{"kind": "step_interrupted", "step": strconv.Itoa(k), "attempt": strconv.Itoa(c.attempts[k] - 1),
			"reason": "a decision of this step was ledgered but not its answers (the process stopped); the step is decided again under new command ids"})
	}
	attempt := c.attempts[k]
	c.attempts[k]++

	obs, fallbacks, alarms := c.observe(ctx, k, at)
	rep.Fallback = fallbacks
	c.cur = &current{k: k, attempt: attempt, at: at, obs: obs, alarms: alarms, rep: rep}
	return obs, nil
}

// Apply implements policy.Plant: it ledgers the decision taken on the step's
// observation with the commands it implies (after the safety layer), sends them, and
// ledgers every answer.
func (c *Controller) Apply(ctx context.Context, at time.Time, sp policy.Setpoints) (policy.Applied, error) {
	cur := c.cur
	if cur == nil || !cur.at.Equal(at) {
		return policy.Applied{}, fmt.Errorf("site: apply %s without its observation", at.Format(time.RFC3339))
	}
	c.cur = nil
	k, attempt, obs, alarms, rep := cur.k, cur.attempt, cur.obs, cur.alarms, cur.rep
	fallbacks := rep.Fallback
	plan := c.plan(ctx, k, at, obs, sp, attempt)
	planText := ""
	if pl, ok := c.cfg.Policy.(interface{ LastPlan() []float64 }); ok {
		txt := make([]string, len(pl.LastPlan()))
		for i, v := range pl.LastPlan() {
			txt[i] = strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
		}
		planText = strings.Join(txt, ",")
	}
	obsText, sum := encodeObservation(obs, c.cfg.PolicyName, c.cfg.PolicyVersion, planText)
	rep.InputSHA = sum

	// 1. The decision and the commands about to go out, in one batch.
	evs := []reading.Event{{Kind: reading.EventKind(EventDecision), Source: "controller", Time: at, Attrs: map[string]string{
		"run": c.cfg.RunID, "step": strconv.Itoa(k), "attempt": strconv.Itoa(attempt), "policy": c.cfg.PolicyName, "version": c.cfg.PolicyVersion,
		"inputs_sha256": sum, "observation": obsText, "setpoints": summarise(obs, sp), "fallbacks": strings.Join(fallbacks, ","),
		"dry_run": strconv.FormatBool(c.cfg.DryRun)}}}
	for _, p := range plan {
		evs = append(evs, reading.Event{Kind: reading.EventKind(EventCommand), Source: p.out.Device, Time: at, Attrs: map[string]string{
			"run": c.cfg.RunID, "step": strconv.Itoa(k), "id": p.out.ID, "protocol": p.out.Protocol, "action": p.out.Action, "value": p.out.Value,
			"clamp": p.clamp}})
	}
	if planText != "" {
		evs[0].Attrs["plan_battery_kw"] = planText
	}
	evs = append(evs, alarms...)
	if err := c.ingest(ctx, evs); err != nil {
		return policy.Applied{}, err
	}
	// 2. Send, then ledger the answers.
	var answers []reading.Event
	for _, p := range plan {
		out := p.out
		switch {
		case c.cfg.DryRun:
			out.Status = DryRun
		case !c.allowed(out.Device, at):
			out.Status, out.Detail = NotSent, fmt.Sprintf("rate limit: %d commands an hour for this device", c.site.Safety.MaxCommandsPerHour)
		default:
			out = p.send(ctx, out)
			c.sentAt[out.Device] = append(c.sentAt[out.Device], at)
		}
		if p.after != nil {
			p.after(out)
		}
		rep.Outcomes = append(rep.Outcomes, out)
		answers = append(answers, reading.Event{Kind: reading.EventKind(EventAnswer), Source: out.Device, Time: at, Attrs: map[string]string{
			"run": c.cfg.RunID, "step": strconv.Itoa(k), "id": out.ID, "protocol": out.Protocol, "action": out.Action, "value": out.Value,
			"status": out.Status, "detail": clean(out.Detail), "attempts": strconv.Itoa(out.Attempts)}})
	}
	answers = append(answers, c.alarmEvents(at, rep)...)
	answers = append(answers, reading.Event{Kind: reading.EventKind(EventAnswer), Source: "controller", Time: at, Attrs: map[string]string{
		"run": c.cfg.RunID, "step": strconv.Itoa(k), "kind": "step_done", "commands": strconv.Itoa(len(plan))}})
	if err := c.ingest(ctx, answers); err != nil {
		return policy.Applied{}, err
	}
	c.answered[k] = true
	c.lastStep = k
	c.last = rep
	return applied(rep.Outcomes), nil
}

// applied is what the devices acknowledged, in the policy's terms.
func applied(outs []Outcome) policy.Applied {
	a := policy.Applied{BatteryKW: map[string]float64{}, ChargerKW: map[string]float64{}}
	for _, o := range outs {
		if o.Status != Acked {
			if o.Status != DryRun {
				a.Refused = append(a.Refused, o.Device+" "+o.Action+": "+o.Status+" "+o.Detail)
			}
			continue
		}
		switch o.Action {
		case "set_power":
			if v, err := strconv.ParseFloat(o.Value, 64); err == nil {
				a.BatteryKW[o.Device] = v
			}
		case "standby":
			a.BatteryKW[o.Device] = 0
		case "start":
			for _, j := range strings.Split(o.Value, ",") {
				if n, err := strconv.Atoi(j); err == nil {
					a.StartedJobs = append(a.StartedJobs, n)
				}
			}
		}
	}
	return a
}

var _ policy.Plant = (*Controller)(nil)

func (c *Controller) ingest(ctx context.Context, evs []reading.Event) error {
	if len(evs) == 0 {
		return nil
	}
	if _, err := c.cfg.Sink.Ingest(ctx, ingest.Input{Source: "controller:" + c.cfg.RunID, Events: evs}); err != nil {
		return fmt.Errorf("site: ledger the step's evidence: %w", err)
	}
	return nil
}

func (c *Controller) event(ctx context.Context, kind string, at time.Time, attrs map[string]string) {
	attrs["run"] = c.cfg.RunID
	for k, v := range attrs {
		attrs[k] = clean(v)
	}
	if err := c.ingest(ctx, []reading.Event{{Kind: reading.EventKind(kind), Source: "controller", Time: at, Attrs: attrs}}); err != nil {
		c.log.Error("ledger event", "kind", kind, "err", err)
	}
}

// allowed applies the per-device rate limit over the last hour.
func (c *Controller) allowed(device string, at time.Time) bool {
	ts := c.sentAt[device]
	keep := ts[:0]
	for _, t := range ts {
		if at.Sub(t) < time.Hour {
			keep = append(keep, t)
		}
	}
	c.sentAt[device] = keep
	return len(keep) < c.site.Safety.MaxCommandsPerHour
}

// raise opens (or keeps) an alarm; clear closes it. Both are evidence.
func (c *Controller) raise(key, msg string) bool {
	_, open := c.alarms[key]
	c.alarms[key] = msg
	return !open
}

func (c *Controller) clear(key string) bool {
	_, open := c.alarms[key]
	delete(c.alarms, key)
	return open
}

// pendingAlarms collects alarm transitions during a step.
type alarmChange struct {
	key, msg string
	raised   bool
}

func (c *Controller) alarmEvents(at time.Time, rep *StepReport) []reading.Event {
	var out []reading.Event
	for _, ch := range c.changes {
		state := "cleared"
		if ch.raised {
			state = "raised"
		}
		rep.Alarms = append(rep.Alarms, state+" "+ch.key)
		out = append(out, reading.Event{Kind: reading.EventKind(EventAlarm), Source: "controller", Time: at, Attrs: map[string]string{
			"run": c.cfg.RunID, "step": strconv.Itoa(rep.Step), "kind": "alarm", "alarm": ch.key, "state": state, "message": clean(ch.msg)}})
	}
	c.changes = c.changes[:0]
	return out
}

func (c *Controller) alarm(key, msg string) {
	if c.raise(key, msg) {
		c.changes = append(c.changes, alarmChange{key, msg, true})
		c.log.Warn("alarm raised", "alarm", key, "message", msg)
	}
}

func (c *Controller) ok(key string) {
	if c.clear(key) {
		c.changes = append(c.changes, alarmChange{key, "", false})
		c.log.Info("alarm cleared", "alarm", key)
	}
}

// clean makes a string safe as an event attribute (no '=', ';', tabs or newlines).
func clean(s string) string { return reading.AttrText(s, 1000) }

// encodeObservation is the observation as ledgered (base64url JSON: no '=' padding)
// and the SHA-256 of the decision's inputs: policy, version, observation (with the
// prices ahead) and the plan.
func encodeObservation(o *policy.Observation, policy, version, plan string) (string, string) {
	b, _ := json.Marshal(o)
	h := sha256.New()
	h.Write([]byte(policy + "\x00" + version + "\x00"))
	h.Write(b)
	h.Write([]byte("\x00" + plan))
	return base64.RawURLEncoding.EncodeToString(b), hex.EncodeToString(h.Sum(nil))
}

func decodeObservation(s string) (*policy.Observation, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("observation: %w", err)
	}
	var o policy.Observation
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("observation: %w", err)
	}
	return &o, nil
}

func summarise(o *policy.Observation, sp policy.Setpoints) string {
	var parts []string
	for _, b := range o.Batteries {
		parts = append(parts, fmt.Sprintf("%s:%.3f", b.ID, sp.BatteryKW[b.ID]))
	}
	ev := 0.0
	for _, ch := range o.Chargers {
		ev += sp.ChargerKW[ch.ID]
	}
	parts = append(parts, fmt.Sprintf("ev:%.3f", ev), fmt.Sprintf("jobs:%d", len(sp.StartJobs)), fmt.Sprintf("tank:%.3f", sp.TankReleaseM3))
	return strings.Join(parts, " ")
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
