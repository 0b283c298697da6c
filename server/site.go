package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
	"github.com/lifang-community/lifang/unit"
)

// The live loop's evidence as package site writes it (site/protocol.go, site/controller.go,
// site/actuate.go). The server reads it back from the store and does not import package
// site: its actuation adapters (OCPP, Modbus, MQTT) have no business in the API process.
const (
	kindDecision    reading.EventKind = "control_decision"
	kindCommand     reading.EventKind = "control_command"
	kindAnswer      reading.EventKind = "control_answer"
	kindAlarm       reading.EventKind = "control_alarm"
	kindOverride    reading.EventKind = "control_override"
	kindFlexRequest reading.EventKind = "flex_request"

	answerAcked    = "acked"
	answerRejected = "rejected"
	answerTimedOut = "timed_out"
)

// Point names of the site's devices (units in the comments), as in site/protocol.go.
func pointPower(id string) string       { return id + "/elec/active_power" }          // kW
func pointImport(id string) string      { return id + "/elec/active_energy_import" }  // kWh register
func pointExport(id string) string      { return id + "/elec/active_energy_export" }  // kWh register
func pointSoC(battery string) string    { return battery + "/battery/soc" }           // %
func pointStored(battery string) string { return battery + "/battery/energy_stored" } // kWh
func pointTankLevel(dev string) string  { return dev + "/water/level" }               // %
func pointOccupancy(dev string) string  { return dev + "/parking/occupancy" }         // %
func chargerPrefix(c unit.SiteCharger) string {
	return c.OCPPID + "/" + strconv.Itoa(c.Connector) + "/"
}

// Device statuses of the site view.
const (
	statusOnline  = "online"
	statusStale   = "stale"
	statusOffline = "offline"
)

// Where the view's reference time comes from.
const (
	clockStep   = "latest_step" // the latest control_decision: the site's own clock (simulated or not)
	clockServer = "server"      // no decision yet: the server's clock
)

// errNoSite: the served unit has no site: section.
var errNoSite = errors.New("no site")

// SiteView is GET /api/v1/site: the commissioned devices with their status, the alarms,
// the latest decision, command counts and overrides, as of the latest step.
type SiteView struct {
	Unit     string `json:"unit"`
	TimeZone string `json:"time_zone"`
	// AsOf is the reference time: the latest step decided (Clock latest_step) or, before
	// the first, the server's clock (Clock server). NextStep is AsOf + one step.
	AsOf                string         `json:"as_of"`
	Clock               string         `json:"clock"`
	NextStep            string         `json:"next_step"`
	StepMinutes         int            `json:"step_minutes"`
	MaxStalenessMinutes int            `json:"max_staleness_minutes"`
	TreeSize            int64          `json:"tree_size"`
	Devices             []SiteDevice   `json:"devices"`
	Alarms              SiteAlarms     `json:"alarms"`
	Decision            *SiteDecision  `json:"decision"`
	Commands            []CommandCount `json:"commands"`
	Overrides           SiteOverrides  `json:"overrides"`
}

// SiteDevice is one commissioned device. Status: online when it was last heard (a
// reading, an acked or rejected answer, an appliance request) within max_staleness of
// AsOf; stale when longer ago; offline when it never reported, or when the last
// command to it timed out and nothing was heard from it since.
type SiteDevice struct {
	ID       string  `json:"id"`
	Kind     string  `json:"kind"` // meter | battery | charger | tank | appliance | lot
	Role     string  `json:"role,omitempty"`
	Protocol string  `json:"protocol"` // mqtt | modbus | ocpp
	Status   string  `json:"status"`
	Reason   string  `json:"reason"`
	LastSeen *string `json:"last_seen"`
	// AgeSeconds is AsOf − LastSeen (negative when heard after the step).
	AgeSeconds  *float64     `json:"age_seconds"`
	LastReading *SiteReading `json:"last_reading"`
	LastCommand *SiteCommand `json:"last_command"`
	Alarms      []string     `json:"alarms"` // open alarms about this device
	// HouseholdLevel meters measure one dwelling: their readings are withheld here
	// (unit.SiteMeter: reported only in aggregates); the status is still shown.
	HouseholdLevel bool           `json:"household_level,omitempty"`
	Override       *OverrideRange `json:"override,omitempty"` // batteries and chargers
}

// OverrideRange is the setpoint an override may pin, from the asset's nameplate (kW;
// for a battery + charges and − discharges).
type OverrideRange struct {
	MinKW float64 `json:"min_kw"`
	MaxKW float64 `json:"max_kw"`
}

// SiteReading is a device's latest reading.
type SiteReading struct {
	Point string  `json:"point"`
	Time  string  `json:"time"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// SiteCommand is a control_command with its control_answer (nil until answered).
type SiteCommand struct {
	ID       string      `json:"id"`
	Run      string      `json:"run"`
	Step     int         `json:"step"`
	Protocol string      `json:"protocol"`
	Action   string      `json:"action"`
	Value    string      `json:"value"`
	Time     string      `json:"time"`
	Clamp    string      `json:"clamp"`
	Answer   *SiteAnswer `json:"answer"`
}

// SiteAnswer is a command's outcome: acked, rejected, timed_out, dry_run or not_sent.
type SiteAnswer struct {
	Status   string `json:"status"`
	Detail   string `json:"detail"`
	Attempts int    `json:"attempts"`
	Time     string `json:"time"`
}

// SiteAlarms: alarms raised and not cleared, the last 50 cleared (newest first) and the
// last 50 incidents (steps missed or interrupted, newest first).
type SiteAlarms struct {
	Open      []SiteAlarm    `json:"open"`
	Cleared   []SiteAlarm    `json:"cleared"`
	Incidents []SiteIncident `json:"incidents"`
}

// SiteAlarm is one alarm; RaisedAt is empty for a clear whose raise is not in the store.
type SiteAlarm struct {
	Alarm     string `json:"alarm"`
	Message   string `json:"message"`
	Run       string `json:"run"`
	RaisedAt  string `json:"raised_at"`
	ClearedAt string `json:"cleared_at,omitempty"`
}

// SiteIncident is a steps_missed or step_interrupted alarm.
type SiteIncident struct {
	Kind   string `json:"kind"`
	Time   string `json:"time"`
	Run    string `json:"run"`
	Steps  string `json:"steps"` // "k" or "from–to"
	Reason string `json:"reason"`
}

// SiteDecision is the latest control_decision (its observation is in the ledger).
type SiteDecision struct {
	Run          string   `json:"run"`
	Step         int      `json:"step"`
	Attempt      int      `json:"attempt"`
	Time         string   `json:"time"`
	Policy       string   `json:"policy"`
	Version      string   `json:"version"`
	InputsSHA256 string   `json:"inputs_sha256"`
	Setpoints    string   `json:"setpoints"`
	Fallbacks    []string `json:"fallbacks"`
	DryRun       bool     `json:"dry_run"`
	HasPlan      bool     `json:"has_plan"`
}

// CommandCount counts a device's commands by protocol and the status of their answer
// ("unanswered" for a command whose step was interrupted).
type CommandCount struct {
	Device   string `json:"device"`
	Protocol string `json:"protocol"`
	Status   string `json:"status"`
	Count    int    `json:"count"`
}

// SiteOverrides: in force at the next step (or starting later), and the last 50 past
// ones (expired, superseded by a later override of the device, or unreadable).
type SiteOverrides struct {
	Active []SiteOverride `json:"active"`
	Past   []SiteOverride `json:"past"`
}

// SiteOverride is a control_override event. State: active, pending, superseded,
// expired or invalid (the controller ignores it).
type SiteOverride struct {
	Device  string  `json:"device"`
	ValueKW float64 `json:"value_kw"`
	Time    string  `json:"time"`
	Until   string  `json:"until"`
	By      string  `json:"by"`
	Reason  string  `json:"reason"`
	Source  string  `json:"source"`
	State   string  `json:"state"`
}

// siteData is what the site endpoints and metrics read, built from the store and kept
// while the ledger's tree size does not change (readings and events are only ever
// stored with a leaf, so a new leaf is the only way the answer can change).
type siteData struct {
	u         *unit.Unit
	treeSize  int64
	asOf      time.Time
	clock     string
	step      time.Duration
	decisions []reading.Event // without their observation
	commands  []reading.Event
	answers   []reading.Event // without step_done
	fallbacks int             // Σ fallbacks over all decisions
	view      *SiteView
}

// siteState is the server's cache of siteData.
type siteState struct {
	once sync.Once
	u    *unit.Unit // the served unit when it has a site: section

	mu   sync.Mutex
	data *siteData
}

// siteUnit is the served unit if it is commissioned, else nil.
func (s *Server) siteUnit() *unit.Unit {
	s.site.once.Do(func() {
		if u, err := s.op.unit(); err == nil && u.Site != nil {
			s.site.u = u
		}
	})
	return s.site.u
}

// siteData returns the site's evidence, read again when the tree has grown.
func (s *Server) siteData(ctx context.Context) (*siteData, error) {
	u := s.siteUnit()
	if u == nil {
		return nil, errNoSite
	}
	size, err := s.cfg.Store.TreeSize(ctx)
	if err != nil {
		return nil, err
	}
	s.site.mu.Lock()
	defer s.site.mu.Unlock()
	if d := s.site.data; d != nil && d.treeSize == size && d.clock == clockStep {
		return d, nil
	}
	d, err := readSite(ctx, s.cfg.Store, u, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	d.treeSize, d.view.TreeSize = size, size
	s.site.data = d
	return d, nil
}

// noSite answers 404 for a unit without a site: section.
func (s *Server) noSite(w http.ResponseWriter) {
	name := "the demo community"
	if s.cfg.Unit != nil {
		name = "unit " + strconv.Quote(s.cfg.Unit.Name)
	}
	writeError(w, http.StatusNotFound, "no_site", name+" has no site: section: it is simulated, not operated (serve a commissioned unit: lifang serve --unit examples/site.yaml)")
}

func (s *Server) siteView(w http.ResponseWriter, r *http.Request) {
	if d, ok := s.siteOr(w, r); ok {
		writeJSON(w, d.view)
	}
}

// siteOr is the site's snapshot, or false once it has answered the request with the
// error (404 without a site: section, 500 otherwise).
func (s *Server) siteOr(w http.ResponseWriter, r *http.Request) (*siteData, bool) {
	d, err := s.siteData(r.Context())
	if errors.Is(err, errNoSite) {
		s.noSite(w)
		return nil, false
	}
	if err != nil {
		s.internal(w, r, "site", err)
		return nil, false
	}
	return d, true
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// farFuture is past every stored reading: Neighbours(point, farFuture) is the latest.
var farFuture = time.Unix(0, math.MaxInt64)

// readSite reads the site's events and its devices' latest readings and builds the view.
func readSite(ctx context.Context, st store.Store, u *unit.Unit, now time.Time) (*siteData, error) {
	d := &siteData{u: u, step: time.Duration(u.Simulation.StepMinutes) * time.Minute}
	kinds := []reading.EventKind{kindDecision, kindCommand, kindAnswer, kindAlarm, kindOverride, kindFlexRequest}
	evs := make([][]reading.Event, len(kinds))
	for i, k := range kinds {
		e, err := st.Events(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("site: %w", err)
		}
		evs[i] = e
	}
	alarms, overrides, flex := evs[3], evs[4], evs[5]
	for _, e := range evs[0] {
		delete(e.Attrs, "observation") // the largest attribute, and the view never shows it
		d.decisions = append(d.decisions, e)
		d.fallbacks += len(splitList(e.Attrs["fallbacks"]))
	}
	d.commands = evs[1]
	for _, e := range evs[2] {
		if e.Attrs["kind"] != "step_done" {
			d.answers = append(d.answers, e)
		}
	}
	d.asOf, d.clock = now.UTC().Truncate(time.Second), clockServer
	if n := len(d.decisions); n > 0 {
		d.asOf, d.clock = d.decisions[n-1].Time, clockStep
	}
	site := u.Site
	v := &SiteView{Unit: u.Name, TimeZone: u.Location.TimeZone, AsOf: rfc(d.asOf), Clock: d.clock, NextStep: rfc(d.asOf.Add(d.step)),
		StepMinutes: u.Simulation.StepMinutes, MaxStalenessMinutes: site.Safety.MaxStalenessMinutes}
	d.view = v

	// Commands with their answers, by id.
	answerOf := map[string]reading.Event{}
	for _, e := range d.answers {
		answerOf[e.Attrs["id"]] = e
	}
	lastCmd := map[string]*SiteCommand{}
	counts := map[[3]string]int{}
	for _, e := range d.commands {
		c := siteCommand(e)
		if a, ok := answerOf[c.ID]; ok {
			c.Answer = &SiteAnswer{Status: a.Attrs["status"], Detail: a.Attrs["detail"], Attempts: atoi(a.Attrs["attempts"], 0), Time: rfc(a.Time)}
		}
		lastCmd[e.Source] = c
		status := "unanswered"
		if c.Answer != nil {
			status = c.Answer.Status
		}
		counts[[3]string{e.Source, c.Protocol, status}]++
	}
	v.Commands = []CommandCount{}
	for k, n := range counts {
		v.Commands = append(v.Commands, CommandCount{Device: k[0], Protocol: k[1], Status: k[2], Count: n})
	}
	sort.Slice(v.Commands, func(i, j int) bool {
		a, b := v.Commands[i], v.Commands[j]
		return a.Device+"\x00"+a.Protocol+"\x00"+a.Status < b.Device+"\x00"+b.Protocol+"\x00"+b.Status
	})

	// When each device was last heard from, besides its readings.
	heard := map[string]time.Time{}
	for _, e := range d.answers {
		if s := e.Attrs["status"]; (s == answerAcked || s == answerRejected) && e.Time.After(heard[e.Source]) {
			heard[e.Source] = e.Time
		}
	}
	for _, e := range flex {
		if e.Time.After(heard[e.Source]) {
			heard[e.Source] = e.Time
		}
	}

	v.Alarms = siteAlarms(alarms)
	stored, err := st.Points(ctx)
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	have := make(map[string]bool, len(stored))
	for _, p := range stored {
		have[p] = true
	}
	v.Devices = []SiteDevice{}
	for _, sp := range siteDevices(u) {
		dev := sp.SiteDevice
		r, err := latestReading(ctx, st, stored, have, sp.prefixes, sp.points)
		if err != nil {
			return nil, err
		}
		seen := heard[dev.ID]
		if r != nil && r.Time.After(seen) {
			seen = r.Time
		}
		if r != nil && !dev.HouseholdLevel {
			dev.LastReading = &SiteReading{Point: r.Point, Time: rfc(r.Time), Value: r.Value, Unit: r.Unit}
		}
		dev.LastCommand = lastCmd[dev.ID]
		if !seen.IsZero() {
			ls, age := rfc(seen), d.asOf.Sub(seen).Seconds()
			dev.LastSeen, dev.AgeSeconds = &ls, &age
		}
		dev.Status, dev.Reason = deviceStatus(seen, dev.LastCommand, d.asOf, site.MaxStaleness())
		dev.Alarms = []string{}
		for _, a := range v.Alarms.Open {
			if strings.HasPrefix(a.Alarm, sp.alarmPrefix) {
				dev.Alarms = append(dev.Alarms, a.Alarm)
			}
		}
		v.Devices = append(v.Devices, dev)
	}

	if n := len(d.decisions); n > 0 {
		e := d.decisions[n-1]
		v.Decision = &SiteDecision{Run: e.Attrs["run"], Step: atoi(e.Attrs["step"], -1), Attempt: atoi(e.Attrs["attempt"], 0), Time: rfc(e.Time),
			Policy: e.Attrs["policy"], Version: e.Attrs["version"], InputsSHA256: e.Attrs["inputs_sha256"], Setpoints: e.Attrs["setpoints"],
			Fallbacks: splitList(e.Attrs["fallbacks"]), DryRun: e.Attrs["dry_run"] == "true", HasPlan: e.Attrs["plan_battery_kw"] != ""}
	}
	v.Overrides = siteOverrides(overrides, d.asOf.Add(d.step))
	return d, nil
}

func atoi(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// splitList splits a comma list, dropping empty items.
func splitList(s string) []string {
	out := []string{}
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func siteCommand(e reading.Event) *SiteCommand {
	a := e.Attrs
	return &SiteCommand{ID: a["id"], Run: a["run"], Step: atoi(a["step"], -1), Protocol: a["protocol"], Action: a["action"], Value: a["value"],
		Time: rfc(e.Time), Clamp: a["clamp"]}
}

// deviceStatus applies the rule documented on SiteDevice.
func deviceStatus(seen time.Time, last *SiteCommand, asOf time.Time, maxStale time.Duration) (string, string) {
	if last != nil && last.Answer != nil && last.Answer.Status == answerTimedOut {
		if at, err := time.Parse(time.RFC3339Nano, last.Time); err == nil && !seen.After(at) {
			return statusOffline, fmt.Sprintf("the last command (%s %s, %s) timed out: %s", last.Action, last.Value, last.ID, last.Answer.Detail)
		}
	}
	if seen.IsZero() {
		return statusOffline, "never reported"
	}
	age := asOf.Sub(seen)
	if age <= maxStale {
		return statusOnline, fmt.Sprintf("last heard %s before %s (max staleness %s)", age, rfc(asOf), maxStale)
	}
	return statusStale, fmt.Sprintf("last heard %s before %s, over the max staleness of %s", age, rfc(asOf), maxStale)
}

// deviceSpec is a device of the site with where its readings are.
type deviceSpec struct {
	SiteDevice
	prefixes    []string // point-name prefixes of its readings
	points      []string // its usual points, most telling first (ties of time go to the first)
	alarmPrefix string   // the controller's alarm keys about it: "<kind>/<id>: "
}

// siteDevices lists the site's devices in the order of the unit's site: section.
func siteDevices(u *unit.Unit) []deviceSpec {
	s := u.Site
	var out []deviceSpec
	add := func(id, kind, role, protocol string, points ...string) *deviceSpec {
		out = append(out, deviceSpec{SiteDevice: SiteDevice{ID: id, Kind: kind, Role: role, Protocol: protocol},
			prefixes: []string{id + "/"}, points: points, alarmPrefix: kind + "/" + id + ": "})
		return &out[len(out)-1]
	}
	for _, m := range s.Meters {
		add(m.ID, "meter", m.Role, "mqtt", pointPower(m.ID), pointImport(m.ID), pointExport(m.ID)).HouseholdLevel = m.HouseholdLevel
	}
	nameplate := map[string]float64{}
	for _, b := range u.Batteries {
		nameplate[b.Name] = b.PowerKW
	}
	for _, b := range s.Batteries {
		d := add(b.Battery, "battery", "", "modbus", pointSoC(b.Battery), pointPower(b.Battery), pointStored(b.Battery), pointImport(b.Battery), pointExport(b.Battery))
		d.Override = &OverrideRange{MinKW: -nameplate[b.Battery], MaxKW: nameplate[b.Battery]}
	}
	for _, c := range s.Chargers {
		p := chargerPrefix(c)
		d := add(c.Charger, "charger", fmt.Sprintf("%s #%d", c.OCPPID, c.Connector), "ocpp", p+"power_active_import", p+"energy_active_import_register")
		d.prefixes = []string{p}
		d.Override = &OverrideRange{MaxKW: chargerNameplateKW(u, c.Charger)}
	}
	for _, t := range s.Tanks {
		add(t.Device, "tank", "", "mqtt", pointTankLevel(t.Device))
	}
	for _, a := range s.Appliances {
		add(a.Device, "appliance", a.Group, "mqtt")
	}
	for _, l := range s.Lots {
		add(l.Device, "lot", l.Lot, "mqtt", pointOccupancy(l.Device))
	}
	return out
}

// chargerNameplateKW is the power_kw of the charger group a charging point belongs to
// ("<group>/<k>", or the group itself when its count is 1).
func chargerNameplateKW(u *unit.Unit, name string) float64 {
	for _, g := range u.EV.Chargers {
		if name == g.Name || strings.HasPrefix(name, g.Name+"/") {
			return g.PowerKW
		}
	}
	return 0
}

// latestReading is the newest reading among a device's points: its usual points and
// any stored point under its prefixes.
func latestReading(ctx context.Context, st store.Store, stored []string, have map[string]bool, prefixes, points []string) (*reading.Reading, error) {
	cand := []string{}
	seen := map[string]bool{}
	for _, p := range points {
		if have[p] && !seen[p] {
			cand, seen[p] = append(cand, p), true
		}
	}
	for _, p := range stored {
		for _, pre := range prefixes {
			if strings.HasPrefix(p, pre) && !seen[p] {
				cand, seen[p] = append(cand, p), true
			}
		}
	}
	var best *reading.Reading
	for _, p := range cand {
		r, _, err := st.Neighbours(ctx, p, farFuture)
		if err != nil {
			return nil, fmt.Errorf("site: latest reading of %s: %w", p, err)
		}
		if r != nil && (best == nil || r.Time.After(best.Time)) {
			best = r
		}
	}
	return best, nil
}

// siteAlarms folds the alarm events, in time order, into open and cleared alarms.
func siteAlarms(evs []reading.Event) SiteAlarms {
	out := SiteAlarms{Open: []SiteAlarm{}, Cleared: []SiteAlarm{}, Incidents: []SiteIncident{}}
	type raised struct {
		a SiteAlarm
		i int // the raise's place in time order
	}
	open := map[string]raised{}
	for i, e := range evs {
		a := e.Attrs
		switch a["kind"] {
		case "alarm":
			key := a["alarm"]
			switch a["state"] {
			case "raised":
				if _, ok := open[key]; !ok { // raised again while open: the first raise stands
					open[key] = raised{SiteAlarm{Alarm: key, Message: a["message"], Run: a["run"], RaisedAt: rfc(e.Time)}, i}
				}
			case "cleared":
				c, ok := open[key]
				if !ok {
					c.a = SiteAlarm{Alarm: key, Run: a["run"]}
				}
				c.a.ClearedAt = rfc(e.Time)
				out.Cleared = append(out.Cleared, c.a)
				delete(open, key)
			}
		case "steps_missed", "step_interrupted":
			steps := a["step"]
			if a["from_step"] != "" {
				steps = a["from_step"] + "–" + a["to_step"]
			}
			out.Incidents = append(out.Incidents, SiteIncident{Kind: a["kind"], Time: rfc(e.Time), Run: a["run"], Steps: steps, Reason: a["reason"]})
		}
	}
	rs := make([]raised, 0, len(open))
	for _, r := range open {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].i < rs[j].i })
	for _, r := range rs {
		out.Open = append(out.Open, r.a)
	}
	out.Cleared = lastN(out.Cleared, 50)
	out.Incidents = lastN(out.Incidents, 50)
	return out
}

// lastN is the last n elements, newest first.
func lastN[T any](xs []T, n int) []T {
	xs = xs[max(0, len(xs)-n):]
	out := make([]T, len(xs))
	for i, x := range xs {
		out[len(xs)-1-i] = x
	}
	return out
}

// siteOverrides classifies the override events as the controller will see them at the
// step starting at next: in force while event time <= next < until, the latest event of
// a device winning.
func siteOverrides(evs []reading.Event, next time.Time) SiteOverrides {
	all := make([]SiteOverride, len(evs))
	winner := map[string]int{}
	for i, e := range evs {
		a := e.Attrs
		o := SiteOverride{Device: a["device"], Time: rfc(e.Time), Until: a["until"], By: a["by"], Reason: a["reason"], Source: e.Source}
		until, err1 := time.Parse(time.RFC3339, a["until"])
		v, err2 := strconv.ParseFloat(a["value_kw"], 64)
		switch {
		case err1 != nil || err2 != nil || math.IsNaN(v) || math.IsInf(v, 0):
			o.State = "invalid"
		case e.Time.After(next):
			o.State = "pending"
		case !next.Before(until):
			o.State = "expired"
		default:
			o.State = "active"
			if j, ok := winner[o.Device]; ok {
				all[j].State = "superseded"
			}
			winner[o.Device] = i
		}
		if err2 == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			o.ValueKW = v
		}
		all[i] = o
	}
	out := SiteOverrides{Active: []SiteOverride{}, Past: []SiteOverride{}}
	for _, o := range all {
		if o.State == "active" || o.State == "pending" {
			out.Active = append(out.Active, o)
		} else {
			out.Past = append(out.Past, o)
		}
	}
	out.Past = lastN(out.Past, 50)
	return out
}
