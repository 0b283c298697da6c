package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lifang-community/lifang/auth"
	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/unit"
)

// siteT0 is step 0 of the seeded run (local midnight in Shanghai); the run decided steps
// 0…12, so the latest step is siteT0 + 12 h. The server's clock is a year later: the
// site runs on a simulated clock, as under sitesim.
var (
	siteT0    = time.Date(2025, 3, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	siteLast  = siteT0.Add(12 * time.Hour)
	siteClock = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
)

// siteBatKW is the battery setpoint of step k: −10, 0, 10, −10, …
func siteBatKW(k int) float64 { return float64(10*(k%3) - 10) }

// siteHarness is a server without the start-up simulation on testdata/site.yaml, with 13
// steps of a controller run ledgered through its ingest pipeline:
//
//   - grid-main: import register every step (online); feeder-a: power until step 9, 3 h
//     before the latest step (stale, max staleness 90 min); flat-101: household meter;
//   - bess-1: SoC and power each step, a set_power command acked each step (online);
//   - ev/1: a 16 A limit acked at step 8, energy register steps 8–11, a 32 A limit that
//     timed out at step 12 (offline); ev/2 and gate-a never report (offline);
//   - cistern: level at step 11 (online); laundry: a request at step 5 (stale);
//   - alarms: bess-1 unreachable raised at 3 and cleared at 4; feeder-a stale raised at
//     11 and charger ev/1 offline raised at 12 (open); steps 5–5 missed;
//   - an override of bess-1 set at step 1 until step 3 (expired).
func siteHarness(t *testing.T) *harness {
	t.Helper()
	u, err := unit.Load("testdata/site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{NoBoot: true, Unit: u, Now: func() time.Time { return siteClock }})
	t.Cleanup(h.ts.Close)
	ctx := context.Background()
	obs := base64.RawURLEncoding.EncodeToString([]byte(`{"step":0}`))
	ev := func(kind reading.EventKind, source string, at time.Time, kv ...string) reading.Event {
		e := reading.Event{Kind: kind, Source: source, Time: at, Attrs: map[string]string{"run": "r1"}}
		for i := 0; i+1 < len(kv); i += 2 {
			e.Attrs[kv[i]] = kv[i+1]
		}
		return e
	}
	kw := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	for k := 0; k <= 12; k++ {
		at := siteT0.Add(time.Duration(k) * time.Hour)
		step := strconv.Itoa(k)
		rs := []reading.Reading{
			{Point: "grid-main/elec/active_energy_import", Time: at, Value: 1000 + 30*float64(k), Unit: "kWh"},
			{Point: "flat-101/elec/active_power", Time: at, Value: 0.4, Unit: "kW"},
			{Point: "bess-1/battery/soc", Time: at, Value: 50 + float64(k), Unit: "%"},
			{Point: "bess-1/elec/active_power", Time: at, Value: siteBatKW(k - 1), Unit: "kW"},
		}
		if k <= 9 {
			rs = append(rs, reading.Reading{Point: "feeder-a/elec/active_power", Time: at, Value: 120, Unit: "kW"})
		}
		if k >= 8 && k <= 11 {
			rs = append(rs, reading.Reading{Point: "CP-1/1/energy_active_import_register", Time: at, Value: []float64{0, 3000, 6500, 9000}[k-8], Unit: "Wh"})
		}
		if k == 11 {
			rs = append(rs, reading.Reading{Point: "cistern/water/level", Time: at, Value: 40, Unit: "%"})
		}
		fallbacks, plan := "", kw(siteBatKW(k))+",0"
		if k >= 10 {
			fallbacks = "feeder-a:persistence_24h"
		}
		if k == 12 {
			plan = "-20,-20,0,10,25"
		}
		bat := "r1-" + step + "-0-bess-1"
		evs := []reading.Event{
			ev(kindDecision, "controller", at, "step", step, "attempt", "0", "policy", "mpc", "version", "1", "inputs_sha256", fmt.Sprintf("%064x", k+1),
				"observation", obs, "setpoints", "bat0:"+kw(siteBatKW(k)), "fallbacks", fallbacks, "dry_run", "false", "plan_battery_kw", plan),
			ev(kindCommand, "bess-1", at, "step", step, "id", bat, "protocol", "modbus", "action", "set_power", "value", kw(siteBatKW(k)), "clamp", ""),
		}
		answers := []reading.Event{
			ev(kindAnswer, "bess-1", at, "step", step, "id", bat, "protocol", "modbus", "action", "set_power", "value", kw(siteBatKW(k)), "status", "acked", "detail", "", "attempts", "1"),
		}
		switch k {
		case 1:
			evs = append(evs, ev(kindOverride, "test operator", at, "device", "bess-1", "value_kw", "-10", "until", siteT0.Add(3*time.Hour).UTC().Format(time.RFC3339),
				"by", "test operator", "reason", "commissioning check"))
		case 3:
			answers = append(answers, ev(kindAlarm, "controller", at, "step", step, "kind", "alarm", "alarm", "battery/bess-1: unreachable", "state", "raised", "message", "Modbus read failed"))
		case 4:
			answers = append(answers, ev(kindAlarm, "controller", at, "step", step, "kind", "alarm", "alarm", "battery/bess-1: unreachable", "state", "cleared", "message", ""))
		case 5:
			evs = append(evs, ev(kindFlexRequest, "laundry", at, "job", "1", "latest_start", at.Add(6*time.Hour).UTC().Format(time.RFC3339), "steps", "2", "energy_kwh", "1.8", "profile_kw", "0.9,0.9"))
		case 6:
			evs = append(evs, ev(kindAlarm, "controller", at, "kind", "steps_missed", "from_step", "5", "to_step", "5", "reason", "the controller was not running"))
		case 8:
			evs = append(evs, ev(kindCommand, "ev/1", at, "step", step, "id", "r1-8-0-CP-1.1", "protocol", "ocpp", "action", "set_charging_profile", "value", "16 A", "clamp", ""))
			answers = append(answers, ev(kindAnswer, "ev/1", at, "step", step, "id", "r1-8-0-CP-1.1", "protocol", "ocpp", "action", "set_charging_profile", "value", "16 A", "status", "acked", "detail", "", "attempts", "1"))
		case 11:
			answers = append(answers, ev(kindAlarm, "controller", at, "step", step, "kind", "alarm", "alarm", "meter/feeder-a: stale", "state", "raised", "message", "no reading"))
		case 12:
			evs = append(evs, ev(kindCommand, "ev/1", at, "step", step, "id", "r1-12-0-CP-1.1", "protocol", "ocpp", "action", "set_charging_profile", "value", "32 A", "clamp", "import limit 100 kW: EV charging shed by 0 %"))
			answers = append(answers,
				ev(kindAnswer, "ev/1", at, "step", step, "id", "r1-12-0-CP-1.1", "protocol", "ocpp", "action", "set_charging_profile", "value", "32 A", "status", "timed_out", "detail", "no answer in 10s", "attempts", "3"),
				ev(kindAlarm, "controller", at, "step", step, "kind", "alarm", "alarm", "charger/ev/1: offline", "state", "raised", "message", "charge point CP-1 is not connected"))
		}
		answers = append(answers, ev(kindAnswer, "controller", at, "step", step, "kind", "step_done", "commands", "1"))
		for _, in := range []ingest.Input{{Source: "modbus:controller", Readings: rs}, {Source: "controller:r1", Events: evs}, {Source: "controller:r1", Events: answers}} {
			res, err := h.srv.Ingest(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Quarantined > 0 || res.Accepted != len(in.Readings) || res.Events != len(in.Events) {
				t.Fatalf("step %d: seeding %s: %+v", k, in.Source, res)
			}
		}
	}
	return h
}

// getJSON GETs path as role, wants 200 and a response valid against the OpenAPI schema.
func getJSON(t *testing.T, h *harness, v *validator, role auth.Role, pattern, path string, out any) {
	t.Helper()
	st, ct, b := h.do(t, role, "GET", path, nil)
	if st != 200 {
		t.Fatalf("GET %s as %s: %d %s", path, role, st, b)
	}
	checkSchema(t, v, pattern, "GET", st, ct, b)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

func checkSchema(t *testing.T, v *validator, pattern, method string, st int, ct string, b []byte) {
	t.Helper()
	schema, err := v.responseSchema(pattern, method, st, ct)
	if err != nil {
		t.Fatalf("%s %s: %v", method, pattern, err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatalf("%s %s: %v", method, pattern, err)
	}
	if err := v.validate(x, schema, "response"); err != nil {
		t.Errorf("%s %s → %d: %v\n%s", method, pattern, st, err, truncate(b))
	}
}

func TestSiteView(t *testing.T) {
	h := siteHarness(t)
	v, err := newValidator(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	var site SiteView
	getJSON(t, h, v, auth.Auditor, "/api/v1/site", "/api/v1/site", &site)
	if site.Clock != clockStep || site.AsOf != rfc(siteLast) || site.NextStep != rfc(siteLast.Add(time.Hour)) || site.MaxStalenessMinutes != 90 {
		t.Errorf("as of %s (%s), next %s, staleness %d", site.AsOf, site.Clock, site.NextStep, site.MaxStalenessMinutes)
	}
	devs := map[string]SiteDevice{}
	for _, d := range site.Devices {
		devs[d.ID] = d
	}
	for id, want := range map[string]string{
		"grid-main": statusOnline, "feeder-a": statusStale, "flat-101": statusOnline, "bess-1": statusOnline,
		"ev/1": statusOffline, "ev/2": statusOffline, "cistern": statusOnline, "laundry": statusStale, "gate-a": statusOffline,
	} {
		if d, ok := devs[id]; !ok || d.Status != want {
			t.Errorf("%s: status %q (%s), want %s", id, d.Status, d.Reason, want)
		}
	}
	if len(site.Devices) != 9 {
		t.Errorf("%d devices, want 9", len(site.Devices))
	}
	if r := devs["ev/1"].Reason; !strings.Contains(r, "timed out") || !strings.Contains(r, "r1-12-0-CP-1.1") {
		t.Errorf("ev/1 reason %q", r)
	}
	if r := devs["ev/2"].Reason; r != "never reported" {
		t.Errorf("ev/2 reason %q", r)
	}
	if a := devs["feeder-a"].AgeSeconds; a == nil || *a != 3*3600 {
		t.Errorf("feeder-a age %v", a)
	}
	// Last reading, command and answer.
	b := devs["bess-1"]
	if r := b.LastReading; r == nil || r.Point != "bess-1/battery/soc" || r.Value != 62 || r.Unit != "%" || r.Time != rfc(siteLast) {
		t.Errorf("bess-1 last reading %+v", r)
	}
	if c := b.LastCommand; c == nil || c.ID != "r1-12-0-bess-1" || c.Action != "set_power" || c.Value != "-10.000" || c.Step != 12 ||
		c.Answer == nil || c.Answer.Status != "acked" {
		t.Errorf("bess-1 last command %+v", c)
	}
	if o := b.Override; o == nil || o.MinKW != -50 || o.MaxKW != 50 {
		t.Errorf("bess-1 override range %+v", o)
	}
	c := devs["ev/1"].LastCommand
	if c == nil || c.Value != "32 A" || c.Clamp == "" || c.Answer == nil || c.Answer.Status != answerTimedOut || c.Answer.Detail != "no answer in 10s" || c.Answer.Attempts != 3 {
		t.Errorf("ev/1 last command %+v", c)
	}
	if r := devs["ev/1"].LastReading; r == nil || r.Point != "CP-1/1/energy_active_import_register" || r.Value != 9000 {
		t.Errorf("ev/1 last reading %+v", r)
	}
	if o := devs["ev/1"].Override; o == nil || o.MinKW != 0 || o.MaxKW != 7 {
		t.Errorf("ev/1 override range %+v", o)
	}
	if d := devs["flat-101"]; d.LastReading != nil || !d.HouseholdLevel || d.LastSeen == nil {
		t.Errorf("household meter: the reading must be withheld, the status kept: %+v", d)
	}
	if d := devs["grid-main"]; d.LastReading == nil || d.LastReading.Value != 1360 || d.LastCommand != nil {
		t.Errorf("grid meter %+v", d)
	}
	if got := devs["ev/1"].Alarms; len(got) != 1 || got[0] != "charger/ev/1: offline" {
		t.Errorf("ev/1 alarms %v", got)
	}
	// Alarms: open vs cleared.
	var open []string
	for _, a := range site.Alarms.Open {
		open = append(open, a.Alarm)
	}
	if strings.Join(open, "|") != "meter/feeder-a: stale|charger/ev/1: offline" {
		t.Errorf("open alarms %v", open)
	}
	if cl := site.Alarms.Cleared; len(cl) != 1 || cl[0].Alarm != "battery/bess-1: unreachable" || cl[0].RaisedAt != rfc(siteT0.Add(3*time.Hour)) ||
		cl[0].ClearedAt != rfc(siteT0.Add(4*time.Hour)) || cl[0].Message != "Modbus read failed" {
		t.Errorf("cleared alarms %+v", cl)
	}
	if in := site.Alarms.Incidents; len(in) != 1 || in[0].Kind != "steps_missed" || in[0].Steps != "5–5" {
		t.Errorf("incidents %+v", in)
	}
	// The latest decision.
	if d := site.Decision; d == nil || d.Step != 12 || d.Policy != "mpc" || d.InputsSHA256 != fmt.Sprintf("%064x", 13) ||
		strings.Join(d.Fallbacks, ",") != "feeder-a:persistence_24h" || !d.HasPlan || d.Time != rfc(siteLast) {
		t.Errorf("decision %+v", d)
	}
	// Counts by device and status.
	counts := map[string]int{}
	for _, c := range site.Commands {
		counts[c.Device+"/"+c.Protocol+"/"+c.Status] = c.Count
	}
	if counts["bess-1/modbus/acked"] != 13 || counts["ev/1/ocpp/acked"] != 1 || counts["ev/1/ocpp/timed_out"] != 1 || len(counts) != 3 {
		t.Errorf("command counts %v", counts)
	}
	if len(site.Overrides.Active) != 0 || len(site.Overrides.Past) != 1 || site.Overrides.Past[0].State != "expired" || site.Overrides.Past[0].ValueKW != -10 {
		t.Errorf("overrides %+v", site.Overrides)
	}
	// Investors read no operations.
	if st, _, b := h.do(t, auth.Investor, "GET", "/api/v1/site", nil); st != 403 {
		t.Errorf("investor: %d %s", st, b)
	}
}

func TestSitePlan(t *testing.T) {
	h := siteHarness(t)
	v, err := newValidator(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	var p SitePlan
	getJSON(t, h, v, auth.Operator, "/api/v1/site/plan", "/api/v1/site/plan?hours=3", &p)
	f := func(xs ...any) string { // expected arrays: numbers, nil for null
		var s []string
		for _, x := range xs {
			if x == nil {
				s = append(s, "null")
			} else {
				s = append(s, fmt.Sprint(x))
			}
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	g := func(xs []*float64) string {
		var s []string
		for _, x := range xs {
			if x == nil {
				s = append(s, "null")
			} else {
				s = append(s, fmt.Sprint(*x))
			}
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	if p.Now != 3 || len(p.Time) != 6 || p.Time[3] != rfc(siteLast) || p.Time[0] != rfc(siteT0.Add(9*time.Hour)) || p.PlanStep == nil || *p.PlanStep != 12 {
		t.Fatalf("window: now %d, time %v, plan step %v", p.Now, p.Time, p.PlanStep)
	}
	for _, c := range []struct {
		name string
		got  []*float64
		want string
	}{
		// Steps 9, 10, 11 (behind), 12 (the latest), 13, 14 (ahead).
		{"battery_planned_kw", p.BatteryPlannedKW, f(-10, 0, 10, -20, -20, 0)},
		{"battery_commanded_kw", p.BatteryCommandedKW, f(-10, 0, 10, -10, nil, nil)},
		{"battery_actual_kw", p.BatteryActualKW, f(-10, 0, 10, nil, nil, nil)},
		{"grid_import_kwh", p.GridImportKWh, f(30, 30, 30, nil, nil, nil)},
		{"ev_limit_kw", p.EVLimitKW, f(3.68, 3.68, 3.68, 7.36, nil, nil)},
		{"ev_delivered_kwh", p.EVDeliveredKWh, f(3.5, 2.5, nil, nil, nil, nil)},
	} {
		if got := g(c.got); got != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
	}
	if st, _, b := h.do(t, auth.Operator, "GET", "/api/v1/site/plan?hours=999", nil); st != 400 || !strings.Contains(string(b), "hours") {
		t.Errorf("hours=999: %d %s", st, b)
	}
}

func TestSiteOverride(t *testing.T) {
	h := siteHarness(t)
	v, err := newValidator(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	until := func(d time.Duration) string { return siteLast.Add(d).UTC().Format(time.RFC3339) }
	body := func(device string, value any, u, reason string) []byte {
		b, _ := json.Marshal(map[string]any{"device": device, "value_kw": value, "until": u, "reason": reason})
		return b
	}
	post := func(role auth.Role, b []byte) (int, []byte) {
		t.Helper()
		st, ct, out := h.do(t, role, "POST", "/api/v1/site/overrides", b)
		checkSchema(t, v, "/api/v1/site/overrides", "POST", st, ct, out)
		return st, out
	}
	good := body("bess-1", -25, until(4*time.Hour), "grid works on feeder B")
	for _, c := range []struct {
		name string
		role auth.Role
		body []byte
		code int
		want string
	}{
		{"investor", auth.Investor, good, 403, "lacks permission configure"},
		{"auditor", auth.Auditor, good, 403, "lacks permission configure"},
		{"unknown device", auth.Operator, body("ev/9", 1, until(4*time.Hour), "x"), 400, `device "ev/9" is not a battery or charger of the site; valid: bess-1, ev/1, ev/2`},
		{"a meter", auth.Operator, body("grid-main", 1, until(4*time.Hour), "x"), 400, "not a battery or charger"},
		{"NaN as a string", auth.Operator, body("bess-1", "NaN", until(4*time.Hour), "x"), 400, `value_kw: "NaN" is a string; want a finite number of kW in [-50, 50]`},
		{"NaN literal", auth.Operator, []byte(`{"device":"bess-1","value_kw":NaN,"until":"` + until(4*time.Hour) + `","reason":"x"}`), 400, "JSON has no NaN or Infinity"},
		{"huge", auth.Operator, body("bess-1", 1e308, until(4*time.Hour), "x"), 400, "value_kw: 1e+308 kW is outside bess-1's range [-50, 50] kW"},
		{"beyond float64", auth.Operator, []byte(`{"device":"bess-1","value_kw":1e400,"until":"` + until(4*time.Hour) + `","reason":"x"}`), 400, "value_kw: 1e400 is not a finite number"},
		{"charger discharging", auth.Operator, body("ev/1", -1, until(4*time.Hour), "x"), 400, "outside ev/1's range [0, 7] kW"},
		{"no value", auth.Operator, []byte(`{"device":"bess-1","until":"` + until(4*time.Hour) + `","reason":"x"}`), 400, "value_kw: required"},
		{"until in the past", auth.Operator, body("bess-1", 5, until(-time.Hour), "x"), 400, "is not after the next step"},
		{"until before the next step", auth.Operator, body("bess-1", 5, until(30*time.Minute), "x"), 400, "the override would never apply"},
		{"until past 7 days", auth.Operator, body("bess-1", 5, until(8*24*time.Hour), "x"), 400, "more than 168h0m0s after the latest step"},
		{"until not a time", auth.Operator, body("bess-1", 5, "tomorrow", "x"), 400, `until: "tomorrow" is not an RFC 3339 time`},
		{"unknown field", auth.Operator, []byte(`{"device":"bess-1","value_kw":1,"until":"` + until(4*time.Hour) + `","reason":"x","force":true}`), 400, `unknown field "force"`},
		{"no reason", auth.Operator, body("bess-1", 5, until(4*time.Hour), " "), 400, "reason: required"},
		{"reason with a separator", auth.Operator, body("bess-1", 5, until(4*time.Hour), "soc=20"), 400, "may not contain '='"},
		{"trailing data", auth.Operator, append(append([]byte{}, good...), []byte(` {}`)...), 400, "data after the JSON object"},
	} {
		st, b := post(c.role, c.body)
		var e auth.ErrorBody
		if st != c.code || json.Unmarshal(b, &e) != nil || e.Error.Status != c.code || !strings.Contains(e.Error.Message, c.want) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, st, b, c.code, c.want)
		}
	}
	size0 := h.log.Size()
	st, b := post(auth.Operator, good)
	if st != 201 {
		t.Fatalf("operator: %d %s", st, b)
	}
	var created OverrideCreated
	json.Unmarshal(b, &created)
	a := created.Attrs
	if created.Kind != "control_override" || created.Time != rfc(siteLast) || created.Source != "test operator" || a["by"] != "test operator" ||
		a["device"] != "bess-1" || a["value_kw"] != "-25" || a["until"] != until(4*time.Hour) || a["reason"] != "grid works on feeder B" ||
		a["requested_at"] != siteClock.Format(time.RFC3339) || created.LeafIndex != size0 {
		t.Errorf("created %s", b)
	}
	// Admins may too; a charger takes its own nameplate.
	if st, b := post(auth.Admin, body("ev/1", 7, until(2*time.Hour), "fleet leaves early")); st != 201 {
		t.Errorf("admin: %d %s", st, b)
	}
	// In the store, as the controller reads it, and in the ledger under a proof.
	evs, err := h.st.Events(context.Background(), kindOverride)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-2]
	if len(evs) != 3 || last.Attrs["device"] != "bess-1" || last.Attrs["value_kw"] != "-25" || !last.Time.Equal(siteLast) {
		t.Fatalf("override events %+v", evs)
	}
	st, _, b = h.do(t, auth.Auditor, "GET", fmt.Sprintf("/api/v1/ledger/proof?index=%d", created.LeafIndex), nil)
	var proof struct {
		Leaf string `json:"leaf"`
	}
	json.Unmarshal(b, &proof)
	leaf, _ := base64.StdEncoding.DecodeString(proof.Leaf)
	if st != 200 || !strings.Contains(string(leaf), "control_override") || !strings.Contains(string(leaf), "grid works on feeder B") {
		t.Errorf("ledger leaf %d: %d %q", created.LeafIndex, st, leaf)
	}
	// The site view shows both in force at the next step.
	var site SiteView
	getJSON(t, h, v, auth.Operator, "/api/v1/site", "/api/v1/site", &site)
	if ov := site.Overrides.Active; len(ov) != 2 || ov[0].Device != "bess-1" || ov[0].State != "active" || ov[0].ValueKW != -25 || ov[0].By != "test operator" {
		t.Errorf("active overrides %+v", ov)
	}
	// A second override of the battery supersedes the first.
	if st, b := post(auth.Operator, body("bess-1", 0, until(6*time.Hour), "hold at zero")); st != 201 {
		t.Fatalf("second: %d %s", st, b)
	}
	getJSON(t, h, v, auth.Operator, "/api/v1/site", "/api/v1/site", &site)
	states := map[string]string{}
	for _, o := range append(site.Overrides.Active, site.Overrides.Past...) {
		states[o.Device+" "+strconv.FormatFloat(o.ValueKW, 'g', -1, 64)] = o.State
	}
	if states["bess-1 -25"] != "superseded" || states["bess-1 0"] != "active" || states["bess-1 -10"] != "expired" || states["ev/1 7"] != "active" {
		t.Errorf("override states %v", states)
	}
}

// TestSiteNotCommissioned: a unit without a site: section answers 404 in the error shape
// on every site endpoint, and /metrics has no site series.
func TestSiteNotCommissioned(t *testing.T) {
	h := newHarness(t, Config{NoBoot: true})
	defer h.ts.Close()
	v, err := newValidator(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, pattern, path string }{
		{"GET", "/api/v1/site", "/api/v1/site"}, {"GET", "/api/v1/site/plan", "/api/v1/site/plan"}, {"POST", "/api/v1/site/overrides", "/api/v1/site/overrides"},
	} {
		st, ct, b := h.do(t, auth.Admin, c.method, c.path, []byte(`{}`))
		var e auth.ErrorBody
		if st != 404 || json.Unmarshal(b, &e) != nil || e.Error.Code != "no_site" || !strings.Contains(e.Error.Message, "no site: section") {
			t.Errorf("%s %s: %d %s", c.method, c.path, st, b)
		}
		checkSchema(t, v, c.pattern, c.method, st, ct, b)
	}
	if _, _, b := h.do(t, "", "GET", "/metrics", nil); strings.Contains(string(b), "lifang_site_") {
		t.Errorf("site metrics without a site")
	}
}

func TestSiteMetrics(t *testing.T) {
	h := siteHarness(t)
	st, _, b := h.do(t, "", "GET", "/metrics", nil)
	if st != 200 {
		t.Fatalf("%d", st)
	}
	m := string(b)
	for _, want := range []string{
		`lifang_site_commands_total{device="bess-1",protocol="modbus",status="acked"} 13`,
		`lifang_site_commands_total{device="ev/1",protocol="ocpp",status="timed_out"} 1`,
		`lifang_site_data_staleness_seconds{device="feeder-a"} 10800`,
		`lifang_site_data_staleness_seconds{device="bess-1"} 0`,
		`lifang_site_data_staleness_seconds{device="gate-a"} +Inf`,
		"lifang_site_alarms_open 2",
		"lifang_site_fallbacks_total 3",
		"# TYPE lifang_site_commands_total counter",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, line := range strings.Split(m, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "lifang_") {
			t.Errorf("metric without the lifang_ prefix: %s", line)
		}
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(line, "#") {
			if _, err := strconv.ParseFloat(f[1], 64); err != nil {
				t.Errorf("sample %q: %v", line, err)
			}
		}
	}
	// The view is re-read when the ledger grows: a new alarm shows at the next scrape.
	at := siteLast
	if _, err := h.srv.Ingest(context.Background(), ingest.Input{Source: "controller:r1", Events: []reading.Event{{Kind: kindAlarm, Source: "controller", Time: at,
		Attrs: map[string]string{"run": "r1", "kind": "alarm", "alarm": "tank/cistern: stale", "state": "raised", "message": "no level"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, _, b := h.do(t, "", "GET", "/metrics", nil); !strings.Contains(string(b), "lifang_site_alarms_open 3") {
		t.Errorf("open alarms not refreshed after an ingest")
	}
}

func TestDeviceStatus(t *testing.T) {
	at := siteLast
	timedOut := &SiteCommand{ID: "c", Action: "set_power", Value: "5", Time: rfc(at.Add(-time.Hour)), Answer: &SiteAnswer{Status: answerTimedOut}}
	acked := &SiteCommand{ID: "c", Time: rfc(at), Answer: &SiteAnswer{Status: answerAcked}}
	for _, c := range []struct {
		name string
		seen time.Time
		last *SiteCommand
		want string
	}{
		{"never", time.Time{}, nil, statusOffline},
		{"never, command acked", time.Time{}, acked, statusOffline},
		{"fresh", at.Add(-30 * time.Minute), nil, statusOnline},
		{"at the limit", at.Add(-90 * time.Minute), nil, statusOnline},
		{"past the limit", at.Add(-91 * time.Minute), nil, statusStale},
		{"heard after the step", at.Add(time.Minute), nil, statusOnline},
		{"timed out, nothing since", at.Add(-time.Hour), timedOut, statusOffline},
		{"timed out, heard since", at.Add(-30 * time.Minute), timedOut, statusOnline},
		{"timed out, heard since but long ago", at.Add(-59 * time.Minute), &SiteCommand{Time: rfc(at.Add(-3 * time.Hour)), Answer: &SiteAnswer{Status: answerTimedOut}}, statusOnline},
		{"timed out long ago, heard since, stale", at.Add(-2 * time.Hour), &SiteCommand{Time: rfc(at.Add(-3 * time.Hour)), Answer: &SiteAnswer{Status: answerTimedOut}}, statusStale},
	} {
		if got, why := deviceStatus(c.seen, c.last, at, 90*time.Minute); got != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, got, why, c.want)
		}
	}
}

// TestSiteAlarmsFold: an alarm cleared and raised again is open from its new raise; a
// clear without its raise in the store is listed cleared with no raise time.
func TestSiteAlarmsFold(t *testing.T) {
	at := func(h int) time.Time { return siteT0.Add(time.Duration(h) * time.Hour) }
	ev := func(h int, key, state string) reading.Event {
		return reading.Event{Kind: kindAlarm, Source: "controller", Time: at(h), Attrs: map[string]string{"kind": "alarm", "alarm": key, "state": state, "message": key + " " + state}}
	}
	a := siteAlarms([]reading.Event{ev(0, "a", "raised"), ev(1, "b", "raised"), ev(2, "a", "cleared"), ev(3, "a", "raised"), ev(4, "b", "raised"), ev(5, "c", "cleared")})
	if len(a.Open) != 2 || a.Open[0].Alarm != "b" || a.Open[0].RaisedAt != rfc(at(1)) || a.Open[1].Alarm != "a" || a.Open[1].RaisedAt != rfc(at(3)) {
		t.Errorf("open %+v", a.Open)
	}
	if len(a.Cleared) != 2 || a.Cleared[0].Alarm != "c" || a.Cleared[0].RaisedAt != "" || a.Cleared[1].Alarm != "a" || a.Cleared[1].RaisedAt != rfc(at(0)) {
		t.Errorf("cleared (newest first) %+v", a.Cleared)
	}
}
