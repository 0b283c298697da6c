// Package sitesim is lifang's hardware-in-the-loop site emulator: it runs the twin's
// physics for a commissioned unit and exposes every device over its real protocol, so
// that `lifang operate` is tested end to end between separate processes:
//
//   - meters publish power and cumulative registers to the MQTT broker
//     (lifang/<unit>/readings, one batch per step at the step's start);
//   - each battery is a Modbus TCP server with lifang's register map (sitesim/bess),
//     whose state of charge follows the commanded power through the twin's battery model;
//   - each charger is an OCPP 1.6J charge point (sitesim/evse) that connects to the
//     controller's central system, starts a transaction when an EV of the data arrives,
//     follows the charging profiles it is sent and reports MeterValues;
//   - the tank, the appliance groups and the car-park gates take MQTT commands and answer
//     on lifang/<unit>/acks/<device>.
//
// One clock for both processes: the emulator publishes its simulated time on
// lifang/<unit>/clock at each step (site.Tick) and runs the step once the controller
// acknowledged it (site.TickAck) or a wall-time timeout passed, pacing steps at Speed ×
// real time at most. A run's result therefore does not depend on how loaded the machine
// is, as long as the controller answers within the timeout.
//
// Idealisation (disclosed): the twin's data are hourly means, so a meter's power at the
// start of a step is the step's mean power; a real controller sees the last measured
// power instead.
package sitesim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lifang-community/lifang/ingest/mqtt"
	"github.com/lifang-community/lifang/policy"
	"github.com/lifang-community/lifang/site"
	"github.com/lifang-community/lifang/sitesim/bess"
	"github.com/lifang-community/lifang/sitesim/evse"
	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Config configures Run.
type Config struct {
	Unit   *unit.Unit
	Model  *twin.Model
	Inputs *twin.Inputs // the period to emulate (scenario.Case.Window)
	// Speed is simulated seconds per wall second (at most: a step also waits for the
	// controller's acknowledgement).
	Speed float64
	// MQTTURL overrides the unit's broker; ModbusAddr the first battery's host:port (the
	// next batteries take the following ports); OCPPURL the central system.
	MQTTURL    string
	ModbusAddr string
	OCPPURL    string
	Faults     []Fault
	// AckTimeout is how long (wall) a step waits for the controller (default 10 s, at
	// least two step durations at Speed).
	AckTimeout time.Duration
	// StartTimeout is how long (wall) the emulator waits for the controller and every
	// charger to connect before the first step (default 2 min); it runs on without
	// them after that.
	StartTimeout time.Duration
	Seed         uint64
	// MeterLag makes the meters report, at a step's start, the mean power of the step
	// before (what a real controller sees) instead of the step's own mean power (the
	// twin's idealisation of a fast inverter seeing the hour's load).
	MeterLag bool
	Log      *slog.Logger
}

// Report is what the devices saw and did.
type Report struct {
	Unit       string    `json:"unit"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Steps      int       `json:"steps"`
	Speed      float64   `json:"speed"`
	WallS      float64   `json:"wall_seconds"`
	StepsAcked int       `json:"steps_acked"`
	// StepsUnacked ran without the controller's acknowledgement (it was down or late).
	StepsUnacked int `json:"steps_unacked"`
	Grid         struct {
		ImportKWh float64 `json:"import_kwh"`
		ExportKWh float64 `json:"export_kwh"`
		// CostCNY is import × the unit's TOU price: the site's own truth, to compare with
		// what the controller metered.
		CostCNY float64 `json:"cost_cny"`
		PeakKW  float64 `json:"peak_kw"`
	} `json:"grid"`
	Batteries []BatteryReport `json:"batteries"`
	Chargers  []ChargerReport `json:"chargers"`
	EV        struct {
		Sessions     int     `json:"sessions"`
		RequestedKWh float64 `json:"requested_kwh"`
		DeliveredKWh float64 `json:"delivered_kwh"`
		UnmetKWh     float64 `json:"unmet_kwh"`
	} `json:"ev"`
	MQTT struct {
		Published int `json:"published"`
		Dropped   int `json:"dropped"`
		Commands  int `json:"commands"`
		Rejected  int `json:"rejected"`
	} `json:"mqtt"`
	Appliances struct {
		Requests int `json:"requests"`
		Started  int `json:"started_on_command"`
		Forced   int `json:"forced_at_deadline"`
	} `json:"appliances"`
	TankReleasedM3 float64  `json:"tank_released_m3"`
	Faults         []string `json:"faults,omitempty"`
}

// BatteryReport is one BESS.
type BatteryReport struct {
	ID            string  `json:"id"`
	Modbus        string  `json:"modbus"`
	ChargedKWh    float64 `json:"charged_kwh"`
	DischargedKWh float64 `json:"discharged_kwh"`
	StandbySteps  int     `json:"standby_steps"`
	DownSteps     int     `json:"down_steps"`
	FinalSoCPct   float64 `json:"final_soc_pct"`
}

// ChargerReport is one charge point connector.
type ChargerReport struct {
	ID           string  `json:"id"`
	OCPPID       string  `json:"ocpp_id"`
	Connector    int     `json:"connector"`
	Sessions     int     `json:"sessions"`
	DeliveredKWh float64 `json:"delivered_kwh"`
	Profiles     int     `json:"profiles_received"`
	Rejected     int     `json:"profiles_rejected"`
	DefaultSteps int     `json:"steps_at_default_limit"`
}

type emu struct {
	cfg   Config
	u     *unit.Unit
	s     *unit.Site
	m     *twin.Model
	in    *twin.Inputs
	sim   *twin.Sim
	log   *slog.Logger
	name  string
	rng   *rand.Rand
	rep   Report
	now   atomic.Int64 // simulated time, unix ns
	mq    *mqtt.Client
	acks  chan site.TickAck
	ready chan struct{}
	once  sync.Once

	bats   []*batteryDev
	evs    []*chargerDev
	cps    map[string]*evse.ChargePoint
	meters map[string]*meterRegs

	mu       sync.Mutex
	jobsNow  map[int]bool // jobs a start command asked for, pending the step
	pending  map[int]bool // jobs announced and not started
	release  float64
	lotPrice map[int]lotSetting
	lastKWh  []float64          // stored energy per battery after the last step
	lastKW   map[string]float64 // each meter's mean power over the last step (MeterLag)
}

type batteryDev struct {
	idx      int
	spec     unit.SiteBattery
	srv      *bess.Server
	addr     string
	imp, exp float64 // kWh registers
	rep      *BatteryReport
}

type chargerDev struct {
	idx     int
	spec    unit.SiteCharger
	cp      *evse.ChargePoint
	tx      int
	session bool
	rep     *ChargerReport
}

type meterRegs struct{ imp, exp float64 }

type lotSetting struct {
	price   float64
	bestFit bool
	buffer  int
}

// Run emulates the site until the period ends (or ctx does) and returns the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Unit == nil || cfg.Unit.Site == nil {
		return nil, errors.New("sitesim: the unit has no site: section (see examples/site.yaml)")
	}
	if !(cfg.Speed > 0) || math.IsInf(cfg.Speed, 0) {
		return nil, fmt.Errorf("sitesim: speed %g: want a positive number of simulated seconds per second", cfg.Speed)
	}
	e := &emu{cfg: cfg, u: cfg.Unit, s: cfg.Unit.Site, m: cfg.Model, in: cfg.Inputs, name: cfg.Unit.Name,
		log: cfg.Log, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5173)), acks: make(chan site.TickAck, 64), ready: make(chan struct{}),
		cps: map[string]*evse.ChargePoint{}, meters: map[string]*meterRegs{}, jobsNow: map[int]bool{}, pending: map[int]bool{}, lotPrice: map[int]lotSetting{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	sim, err := twin.NewSim(cfg.Model, cfg.Inputs, "site")
	if err != nil {
		return nil, fmt.Errorf("sitesim: %w", err)
	}
	e.sim = sim
	e.lastKWh = make([]float64, len(cfg.Model.Batteries))
	e.lastKW = map[string]float64{}
	e.now.Store(cfg.Inputs.Start.UnixNano())
	e.rep.Unit, e.rep.Start, e.rep.Speed = e.name, cfg.Inputs.Start, cfg.Speed
	e.rep.End = cfg.Inputs.Start.Add(time.Duration(cfg.Inputs.Steps) * cfg.Inputs.Step)
	for _, f := range cfg.Faults {
		e.rep.Faults = append(e.rep.Faults, fmt.Sprintf("%s:%s", f.Kind, f.Device))
	}
	if err := e.checkFaults(); err != nil {
		return nil, err
	}
	defer e.close()
	if err := e.start(ctx); err != nil {
		return nil, err
	}
	wall0 := time.Now()
	if err := e.loop(ctx); err != nil {
		return nil, err
	}
	e.rep.WallS = math.Round(time.Since(wall0).Seconds()*10) / 10
	e.finish()
	return &e.rep, nil
}

func (e *emu) clock() time.Time { return time.Unix(0, e.now.Load()).In(e.m.Loc) }

func (e *emu) start(ctx context.Context) error {
	broker := e.cfg.MQTTURL
	if broker == "" {
		broker = e.s.MQTT.Broker
	}
	var err error
	e.mq, err = mqtt.Dial(ctx, mqtt.ClientConfig{BrokerURL: broker, ClientID: "lifang-sitesim-" + e.name, Log: e.log})
	if err != nil {
		return fmt.Errorf("sitesim: %w", err)
	}
	if err := e.mq.Subscribe(ctx, site.TopicClockAck(e.name), 1, e.onTickAck); err != nil {
		return err
	}
	if err := e.mq.Subscribe(ctx, site.TopicController(e.name), 1, e.onController); err != nil {
		return err
	}
	if err := e.mq.Subscribe(ctx, "lifang/"+e.name+"/commands/+", 1, e.onCommand); err != nil {
		return err
	}
	// Batteries.
	host, port := "127.0.0.1", 0
	if e.cfg.ModbusAddr != "" {
		h, p, err := net.SplitHostPort(e.cfg.ModbusAddr)
		if err != nil {
			return fmt.Errorf("sitesim: --modbus %q: want host:port", e.cfg.ModbusAddr)
		}
		host, port = h, atoiOr(p, 0)
	}
	bidx := map[string]int{}
	for i, b := range e.m.Batteries {
		bidx[b.Name] = i
	}
	for k, sb := range e.s.Batteries {
		addr := sb.Modbus
		if e.cfg.ModbusAddr != "" {
			addr = net.JoinHostPort(host, strconv.Itoa(port+k))
		}
		srv, err := bess.Start(bess.Config{Addr: addr, UnitID: uint8(sb.UnitID), Clock: e.clock, Log: e.log})
		if err != nil {
			return fmt.Errorf("sitesim: battery %s: Modbus server on %s: %w", sb.Battery, addr, err)
		}
		rep := &BatteryReport{ID: sb.Battery, Modbus: srv.Addr()}
		e.bats = append(e.bats, &batteryDev{idx: bidx[sb.Battery], spec: sb, srv: srv, addr: srv.Addr(), imp: 0, rep: rep})
	}
	// Chargers: one charge point per ocpp_id with as many connectors as bound.
	cidx := map[string]int{}
	for i, c := range e.m.Chargers {
		cidx[c.Name] = i
	}
	conns := map[string]int{}
	var order []string
	for _, sc := range e.s.Chargers {
		if conns[sc.OCPPID] == 0 {
			order = append(order, sc.OCPPID)
		}
		conns[sc.OCPPID] = max(conns[sc.OCPPID], sc.Connector)
	}
	url := e.cfg.OCPPURL
	if url == "" {
		url = e.s.OCPP.Listen
	}
	for _, sc := range e.s.Chargers {
		e.evs = append(e.evs, &chargerDev{idx: cidx[sc.Charger], spec: sc, rep: &ChargerReport{ID: sc.Charger, OCPPID: sc.OCPPID, Connector: sc.Connector}})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var dialErr error
	sctx, cancel := context.WithTimeout(ctx, e.startTimeout())
	defer cancel()
	for _, id := range order {
		var spec unit.SiteCharger
		for _, sc := range e.s.Chargers {
			if sc.OCPPID == id {
				spec = sc
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cp, err := evse.Dial(sctx, evse.Config{URL: url, ID: id, Connectors: conns[id], MaxCurrentA: spec.MaxCurrentA, Phases: spec.Phases,
				VoltageV: spec.VoltageV, Clock: e.clock, RejectProfiles: e.rejects(id), Log: e.log})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				dialErr = errors.Join(dialErr, fmt.Errorf("charger %s: %w", id, err))
				return
			}
			e.cps[id] = cp
		}()
	}
	// Wait for the controller to say it is online (retained), then for the chargers.
	select {
	case <-e.ready:
	case <-sctx.Done():
		e.log.Warn("no controller online before the first step; running without it")
	case <-ctx.Done():
		return ctx.Err()
	}
	wg.Wait()
	if dialErr != nil {
		e.log.Warn("chargers not connected before the first step", "err", dialErr)
	}
	for _, ev := range e.evs {
		ev.cp = e.cps[ev.spec.OCPPID]
	}
	return ctx.Err()
}

// checkFaults rejects a fault naming a device the site does not have: a typo would
// otherwise inject nothing and the run would look like a passed fault test.
func (e *emu) checkFaults() error {
	for _, f := range e.cfg.Faults {
		var known []string
		switch f.Kind {
		case "modbus-down":
			for _, b := range e.s.Batteries {
				known = append(known, b.Battery)
			}
		case "stale":
			for _, m := range e.s.Meters {
				known = append(known, m.ID)
			}
			for _, t := range e.s.Tanks {
				known = append(known, t.Device)
			}
		case "reject-profiles":
			for _, c := range e.s.Chargers {
				known = append(known, c.OCPPID)
			}
		default:
			continue
		}
		if !slices.Contains(known, f.Device) {
			return fmt.Errorf("sitesim: fault %s:%s: the site has no such device (valid: %s)", f.Kind, f.Device, strings.Join(known, ", "))
		}
	}
	return nil
}

func (e *emu) startTimeout() time.Duration {
	if e.cfg.StartTimeout > 0 {
		return e.cfg.StartTimeout
	}
	return 2 * time.Minute
}

func (e *emu) rejects(ocppID string) bool {
	for _, f := range e.cfg.Faults {
		if f.Kind == "reject-profiles" && f.Device == ocppID {
			return true
		}
	}
	return false
}

func (e *emu) fault(kind, device string, t time.Time) bool {
	for _, f := range e.cfg.Faults {
		if f.Kind == kind && f.Device == device && f.Active(t) {
			return true
		}
	}
	return false
}

func (e *emu) onController(_ string, payload []byte) {
	var c site.Presence
	if err := json.Unmarshal(payload, &c); err == nil && c.Status == "online" {
		e.once.Do(func() { close(e.ready) })
	}
}

func (e *emu) onTickAck(_ string, payload []byte) {
	var a site.TickAck
	if err := json.Unmarshal(payload, &a); err != nil {
		e.log.Warn("bad tick ack", "err", err)
		return
	}
	select {
	case e.acks <- a:
	default:
	}
}

func (e *emu) ackTimeout() time.Duration {
	if e.cfg.AckTimeout > 0 {
		return e.cfg.AckTimeout
	}
	stepWall := time.Duration(float64(e.in.Step) / e.cfg.Speed)
	return max(10*time.Second, 2*stepWall)
}

func (e *emu) loop(ctx context.Context) error {
	stepWall := time.Duration(float64(e.in.Step) / e.cfg.Speed)
	wall0 := time.Now()
	for !e.sim.Done() {
		k := e.sim.Step()
		at := e.in.Start.Add(time.Duration(k) * e.in.Step)
		e.now.Store(at.UnixNano())
		o, err := e.sim.Observe(ctx, at)
		if err != nil {
			return err
		}
		e.beforeStep(ctx, k, at, o)
		e.publishTick(ctx, site.Tick{Step: k, Time: at})
		if e.waitAck(ctx, k) {
			e.rep.StepsAcked++
		} else {
			e.rep.StepsUnacked++
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sp := e.setpoints(at, o)
		out, err := e.sim.Run(ctx, at, sp)
		if err != nil {
			return err
		}
		e.afterStep(ctx, k, at, out)
		// Pace: step k ends no sooner than (k+1) steps of wall time after the start.
		if d := time.Until(wall0.Add(time.Duration(k+1) * stepWall)); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
	}
	end := e.in.Start.Add(time.Duration(e.in.Steps) * e.in.Step)
	e.now.Store(end.UnixNano())
	e.publishMeters(ctx, end, nil)
	e.publishTick(ctx, site.Tick{Step: e.in.Steps, Time: end, Final: true})
	e.waitAck(ctx, e.in.Steps)
	return nil
}

func (e *emu) waitAck(ctx context.Context, k int) bool {
	timer := time.NewTimer(e.ackTimeout())
	defer timer.Stop()
	for {
		select {
		case a := <-e.acks:
			if a.Step >= k {
				return true
			}
		case <-timer.C:
			e.log.Warn("no controller acknowledgement; the step runs on the setpoints in force", "step", k)
			return false
		case <-ctx.Done():
			return false
		}
	}
}

func (e *emu) publishTick(ctx context.Context, t site.Tick) {
	b, _ := json.Marshal(t)
	if err := e.mq.Publish(ctx, site.TopicClock(e.name), b, 1, true); err != nil {
		e.log.Warn("publish tick", "err", err)
	}
}

// beforeStep brings the devices to the state at the start of step k: batteries'
// registers, EV arrivals and departures, appliance requests, meters.
func (e *emu) beforeStep(ctx context.Context, k int, at time.Time, o *policy.Observation) {
	for _, b := range e.bats {
		down := e.fault("modbus-down", b.spec.Battery, at)
		if err := b.srv.SetDown(down); err != nil {
			e.log.Warn("modbus fault toggle", "battery", b.spec.Battery, "err", err)
		}
		if down {
			b.rep.DownSteps++
		}
		st := o.Batteries[b.idx]
		spec := e.m.Batteries[b.idx]
		c := math.Min(spec.PowerKW, math.Max(0, st.MaxKWh-st.EnergyKWh)/(spec.EtaCharge*o.DtH))
		d := math.Min(spec.PowerKW, math.Max(0, st.EnergyKWh-st.MinKWh)*spec.EtaDischarge/o.DtH)
		b.srv.Update(bess.State{ImportKWh: b.imp, ExportKWh: b.exp, SoCPct: 100 * st.EnergyKWh / spec.CapacityKWh, TemperatureC: 25,
			GridVoltageV: 230, EnergyKWh: st.EnergyKWh, MaxChargeKW: c, MaxDischargeKW: d})
	}
	for _, ev := range e.evs {
		cs := o.Chargers[ev.idx]
		if ev.cp == nil {
			continue
		}
		if ev.session && !cs.Connected {
			if err := ev.cp.Unplug(ctx, ev.spec.Connector); err != nil {
				e.log.Warn("unplug", "charger", ev.spec.Charger, "err", err)
			}
			ev.session = false
		}
		if !ev.session && cs.Connected {
			dep := at.Add(time.Duration(cs.StepsLeft) * e.in.Step)
			tx, err := ev.cp.PlugEV(ctx, ev.spec.Connector, "EV-"+strings.ReplaceAll(ev.spec.Charger, "/", "-"),
				evse.EV{Departure: dep, NeedKWh: cs.NeedKWh, MaxPowerKW: cs.PowerKW})
			if err != nil {
				e.log.Warn("plug", "charger", ev.spec.Charger, "err", err)
			}
			ev.tx, ev.session = tx, true
			ev.rep.Sessions++
		}
	}
	// Appliance runs whose window opened: announce them.
	var events []map[string]any
	e.mu.Lock()
	for _, j := range o.Jobs {
		if e.pending[j.ID] {
			continue
		}
		e.pending[j.ID] = true
		e.rep.Appliances.Requests++
		job := e.in.Jobs[j.ID]
		dev := e.applianceDevice(job.Flexible)
		prof := make([]string, len(job.ProfileKW))
		for i, p := range job.ProfileKW {
			prof[i] = strconv.FormatFloat(p, 'g', 6, 64)
		}
		events = append(events, map[string]any{"kind": site.EventFlexRequest, "source": dev, "timestamp": at.Format(time.RFC3339),
			"attrs": map[string]string{"job": strconv.Itoa(j.ID), "latest_start": at.Add(time.Duration(j.LatestStart-k) * e.in.Step).Format(time.RFC3339),
				"steps": strconv.Itoa(j.Len), "energy_kwh": strconv.FormatFloat(j.EnergyKWh, 'f', 4, 64), "profile_kw": strings.Join(prof, ",")}})
	}
	e.mu.Unlock()
	if len(events) > 0 {
		for i := 0; i < len(events); i += 500 {
			b, _ := json.Marshal(map[string]any{"events": events[i:min(i+500, len(events))]})
			e.publish(ctx, site.TopicEvents(e.name), b)
		}
	}
	e.publishMeters(ctx, at, o)
}

func (e *emu) applianceDevice(flex int) string {
	name := ""
	if flex >= 0 && flex < len(e.m.Flexible) {
		name = e.m.Flexible[flex]
	}
	for _, a := range e.s.Appliances {
		if a.Group == name {
			return a.Device
		}
	}
	return "appliances"
}

// publish sends one message unless the mqtt-drop fault drops it.
func (e *emu) publish(ctx context.Context, topic string, payload []byte) {
	for _, f := range e.cfg.Faults {
		if f.Kind == "mqtt-drop" && e.rng.Float64() < f.Share {
			e.rep.MQTT.Dropped++
			return
		}
	}
	if err := e.mq.Publish(ctx, topic, payload, 1, false); err != nil {
		e.log.Warn("publish", "topic", topic, "err", err)
		return
	}
	e.rep.MQTT.Published++
}

type jsonReading struct {
	Point     string  `json:"point"`
	Timestamp string  `json:"timestamp"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit"`
}

// publishMeters publishes every meter's registers at t and, with o, the powers of the
// step starting at t.
func (e *emu) publishMeters(ctx context.Context, t time.Time, o *policy.Observation) {
	ts := t.Format(time.RFC3339)
	var rs []jsonReading
	add := func(point string, v float64, u string) {
		rs = append(rs, jsonReading{Point: point, Timestamp: ts, Value: v, Unit: u})
	}
	for _, m := range e.s.Meters {
		if e.fault("stale", m.ID, t) {
			continue
		}
		regs := e.meter(m.ID)
		add(m.ImportPoint(), round2(regs.imp), "kWh")
		add(m.ExportPoint(), round2(regs.exp), "kWh")
		if o == nil {
			continue
		}
		if m.Role != "grid" && m.Role != "load" && m.Role != "pv" && m.Role != "flex" {
			continue
		}
		p := math.NaN() // the grid meter's power is known once the step has run
		if m.Role != "grid" {
			p = e.stepKW(m, o.Step, o.FlexKW)
		}
		if last, ok := e.lastKW[m.ID]; ok && (e.cfg.MeterLag || m.Role == "grid") {
			p = last // the grid meter's power is known once the step has run
		}
		if !math.IsNaN(p) {
			add(site.PointPower(m.ID), round3(p), "kW")
		}
	}
	if o != nil {
		for _, t := range e.s.Tanks {
			if !e.fault("stale", t.Device, o.Time) && e.m.Water.CapacityM3 > 0 {
				add(site.PointTankLevel(t.Device), round3(100*o.Water.VolumeM3/e.m.Water.CapacityM3), "%")
			}
		}
		for _, l := range e.s.Lots {
			for li, ls := range e.m.Parking.Lots {
				if ls.Name == l.Lot {
					add(site.PointLotOccupancy(l.Device), round3(100*o.Lots[li].Occupancy), "%")
				}
			}
		}
		add(site.PointRainForecast, round3(o.Water.RainForecast24hMM), "mm")
	}
	if len(rs) == 0 {
		return
	}
	b, _ := json.Marshal(map[string]any{"readings": rs})
	e.publish(ctx, site.TopicReadings(e.name), b)
}

// stepKW is a load, PV or appliance meter's mean power over step k (+ consumption,
// − generation); flexKW is the step's shiftable load.
func (e *emu) stepKW(m unit.SiteMeter, k int, flexKW float64) float64 {
	p := 0.0
	switch m.Role {
	case "load":
		for i, bs := range e.m.Buildings {
			if slices.Contains(m.Buildings, bs.Name) {
				p += e.in.BuildingLoadKW[i][k]
			}
		}
	case "pv":
		for a, pv := range e.m.PV {
			if slices.Contains(m.PV, pv.Name) {
				p -= pv.CapacityKW * e.in.PVKWPerKWp[a][k]
			}
		}
	case "flex":
		p = flexKW
	}
	return p
}

func (e *emu) meter(id string) *meterRegs {
	r := e.meters[id]
	if r == nil {
		r = &meterRegs{}
		e.meters[id] = r
	}
	return r
}

// setpoints collects what the devices were told, in the twin's terms.
func (e *emu) setpoints(at time.Time, o *policy.Observation) policy.Setpoints {
	sp := policy.Setpoints{BatteryKW: map[string]float64{}, ChargerKW: map[string]float64{}, LotPriceCNYPerH: map[string]float64{}}
	for _, b := range e.bats {
		// The BESS's own watchdog is judged at the step's end: one that expires inside the
		// step stops the battery for all of it (the emulator's steps are constant power).
		kw, mode, _ := b.srv.Command(at.Add(e.in.Step))
		if mode == 0 {
			kw = 0
			b.rep.StandbySteps++
		}
		sp.BatteryKW[b.spec.Battery] = kw
	}
	for _, ev := range e.evs {
		if ev.cp == nil {
			continue
		}
		sp.ChargerKW[ev.spec.Charger] = ev.cp.LimitW(ev.spec.Connector) / 1000
	}
	e.mu.Lock()
	for j := range e.jobsNow {
		sp.StartJobs = append(sp.StartJobs, j)
		delete(e.pending, j)
		e.rep.Appliances.Started++
	}
	slices.Sort(sp.StartJobs)
	clear(e.jobsNow)
	sp.TankReleaseM3, e.release = e.release, 0
	e.rep.TankReleasedM3 += sp.TankReleaseM3
	for li, l := range e.m.Parking.Lots {
		if s, ok := e.lotPrice[li]; ok {
			sp.LotPriceCNYPerH[l.Name] = s.price
			sp.ParkingBestFit = sp.ParkingBestFit || s.bestFit
			sp.ParkingBufferSteps = max(sp.ParkingBufferSteps, s.buffer)
		} else {
			sp.LotPriceCNYPerH[l.Name] = e.m.Parking.FixedCNYPerH
		}
	}
	// Runs past their latest start were started by the appliances themselves.
	for _, j := range o.Jobs {
		if o.Step >= j.LatestStart && !slices.Contains(sp.StartJobs, j.ID) && e.pending[j.ID] {
			delete(e.pending, j.ID)
			e.rep.Appliances.Forced++
		}
	}
	e.mu.Unlock()
	return sp
}

// afterStep accumulates the registers and reports what was delivered.
func (e *emu) afterStep(ctx context.Context, k int, at time.Time, out twin.StepOutcome) {
	dt := e.in.Step.Hours()
	price, _ := e.m.Tariff.ImportPrice(at)
	e.rep.Steps++
	e.rep.Grid.ImportKWh += out.ImportKW * dt
	e.rep.Grid.ExportKWh += out.ExportKW * dt
	e.rep.Grid.CostCNY += out.ImportKW * dt * price
	e.rep.Grid.PeakKW = math.Max(e.rep.Grid.PeakKW, out.ImportKW)
	for _, m := range e.s.Meters {
		r := e.meter(m.ID)
		p := e.stepKW(m, k, out.FlexKW)
		switch m.Role {
		case "grid":
			r.imp += out.ImportKW * dt
			r.exp += out.ExportKW * dt
			p = out.ImportKW - out.ExportKW
		case "load", "flex":
			r.imp += p * dt
		case "pv":
			r.exp += out.PVUsedKW * dt
		}
		e.lastKW[m.ID] = p
	}
	for i, bo := range out.Batteries {
		e.lastKWh[i] = bo.EnergyKWh
	}
	for _, b := range e.bats {
		p := out.Batteries[b.idx].PowerKW
		if p > 0 {
			b.imp += p * dt
			b.rep.ChargedKWh += p * dt
		} else {
			b.exp -= p * dt
			b.rep.DischargedKWh -= p * dt
		}
	}
	for _, ev := range e.evs {
		kw := out.ChargerKW[ev.idx]
		if ev.cp == nil || !ev.session {
			continue
		}
		if kw > 0 {
			if err := ev.cp.Deliver(ctx, ev.spec.Connector, kw*dt, kw*1000); err != nil {
				e.log.Warn("meter values", "charger", ev.spec.Charger, "err", err)
			}
		}
		ev.rep.DeliveredKWh += kw * dt
	}
}

func (e *emu) finish() {
	res := e.sim.Finish()
	e.rep.EV.Sessions, e.rep.EV.RequestedKWh = res.EV.Sessions, res.EV.RequestedKWh
	e.rep.EV.DeliveredKWh, e.rep.EV.UnmetKWh = res.EV.DeliveredKWh, res.EV.UnmetKWh
	for _, b := range e.bats {
		b.rep.FinalSoCPct = round3(100 * e.lastKWh[b.idx] / math.Max(e.m.Batteries[b.idx].CapacityKWh, 1e-9))
		e.rep.Batteries = append(e.rep.Batteries, *b.rep)
	}
	for _, ev := range e.evs {
		if ev.cp != nil {
			st := ev.cp.Stats()
			ev.rep.Profiles, ev.rep.Rejected = st.ProfilesReceived, st.ProfilesRejected
		}
		e.rep.Chargers = append(e.rep.Chargers, *ev.rep)
	}
	r := &e.rep.Grid
	r.ImportKWh, r.ExportKWh, r.CostCNY, r.PeakKW = round3(r.ImportKWh), round3(r.ExportKWh), round2(r.CostCNY), round3(r.PeakKW)
}

func (e *emu) close() {
	for _, cp := range e.cps {
		cp.Close()
	}
	for _, b := range e.bats {
		b.srv.Close()
	}
	if e.mq != nil {
		e.mq.Close()
	}
}

// onCommand takes a device command, applies it to the device's next step and answers.
func (e *emu) onCommand(topic string, payload []byte) {
	dev := topic[strings.LastIndex(topic, "/")+1:]
	var c site.Command
	ack := site.Ack{Status: "accepted"}
	if err := site.DecodeStrict(payload, &c); err != nil {
		ack = site.Ack{Status: "rejected", Detail: "bad command: " + err.Error()}
	} else {
		ack.ID = c.ID
		if detail := e.apply(dev, c); detail != "" {
			ack.Status, ack.Detail = "rejected", detail
		}
	}
	e.mu.Lock()
	e.rep.MQTT.Commands++
	if ack.Status != "accepted" {
		e.rep.MQTT.Rejected++
	}
	e.mu.Unlock()
	b, _ := json.Marshal(ack)
	go func() { // answer off the receive goroutine
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.publish(ctx, site.TopicAck(e.name, dev), b)
	}()
}

// apply records a command for the next step; it returns why it was rejected, or "".
func (e *emu) apply(dev string, c site.Command) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.s.Appliances {
		if a.Device != dev {
			continue
		}
		if c.Action != "start" {
			return fmt.Sprintf("action %q: an appliance group takes start", c.Action)
		}
		// Starting is idempotent, as a repeated command after a controller restart needs:
		// a run that already started (or was never announced) is left as it is.
		for _, j := range c.Jobs {
			if e.pending[j] {
				e.jobsNow[j] = true
			}
		}
		return ""
	}
	for _, t := range e.s.Tanks {
		if t.Device != dev {
			continue
		}
		if c.Action != "release" || !(c.ReleaseM3 >= 0) || math.IsInf(c.ReleaseM3, 0) {
			return fmt.Sprintf("action %q release %g: a tank takes release with release_m3 >= 0", c.Action, c.ReleaseM3)
		}
		e.release = c.ReleaseM3
		return ""
	}
	for _, l := range e.s.Lots {
		if l.Device != dev {
			continue
		}
		if c.Action != "set_price" || !(c.PriceCNYPerH > 0) || c.PriceCNYPerH > 1000 || c.BufferSteps < 0 {
			return fmt.Sprintf("action %q price %g: a gate takes set_price with 0 < price_cny_per_h <= 1000", c.Action, c.PriceCNYPerH)
		}
		for li, ls := range e.m.Parking.Lots {
			if ls.Name == l.Lot {
				e.lotPrice[li] = lotSetting{price: c.PriceCNYPerH, bestFit: c.BestFit, buffer: c.BufferSteps}
			}
		}
		return ""
	}
	return fmt.Sprintf("no device %q at this site", dev)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}
