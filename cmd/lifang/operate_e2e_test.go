package main

// End-to-end tests of `lifang operate` against `lifang sitesim`: two child processes
// (the test binary doubling as lifang, see TestMain in kill_test.go), real sockets
// (Modbus TCP, OCPP 1.6J over WebSocket) and the real MQTT broker at $LIFANG_MQTT_URL.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lifang-community/lifang/ingest/mqtt"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/site"
	"github.com/lifang-community/lifang/sitesim"
	"github.com/lifang-community/lifang/store"
	"github.com/lifang-community/lifang/store/sqlite"
)

// e2eStart is the first simulated instant of every run here (a local midnight in July:
// the summer tariff with its critical peak).
const e2eStart = "2025-07-14T00:00:00+08:00"

func e2eTime(t *testing.T, hours int) time.Time {
	t.Helper()
	t0, err := time.Parse(time.RFC3339, e2eStart)
	if err != nil {
		t.Fatal(err)
	}
	return t0.Add(time.Duration(hours) * time.Hour)
}

// e2eSite is a private copy of examples/site.yaml: a unique name (the MQTT topic level
// and the persistent session ids, so parallel runs on one broker never mix) and free
// ports for the battery's Modbus server and the OCPP central system.
type e2eSite struct {
	name, unit, dir string
	broker          string
	modbus          string // host:port
	ocpp            string // ws://host:port
}

func newE2ESite(t *testing.T, test string) *e2eSite {
	t.Helper()
	broker := os.Getenv("LIFANG_MQTT_URL")
	if broker == "" {
		t.Skip("LIFANG_MQTT_URL is not set (e.g. tcp://127.0.0.1:1883): the operate/sitesim end-to-end tests need a real MQTT broker")
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	var rb [4]byte
	if _, err := rand.Read(rb[:]); err != nil {
		t.Fatal(err)
	}
	s := &e2eSite{name: fmt.Sprintf("lifang-site-e2e-%s-%d-%s", test, os.Getpid(), hex.EncodeToString(rb[:])), dir: t.TempDir(), broker: broker}
	ports := freePorts(t, 2)
	s.modbus = "127.0.0.1:" + strconv.Itoa(ports[0])
	s.ocpp = "ws://127.0.0.1:" + strconv.Itoa(ports[1])

	src, err := os.ReadFile("../../examples/site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, r := range []struct{ re, repl string }{
		{`(?m)^name: lifang-site$`, "name: " + s.name},
		{`modbus: 127\.0\.0\.1:1502`, "modbus: " + s.modbus},
		{`listen: ws://127\.0\.0\.1:8887`, "listen: " + s.ocpp},
	} {
		re := regexp.MustCompile(r.re)
		if n := len(re.FindAllStringIndex(text, -1)); n != 1 {
			t.Fatalf("examples/site.yaml: %d matches of %s, want 1 (the file changed shape?)", n, r.re)
		}
		text = re.ReplaceAllLiteralString(text, r.repl)
	}
	s.unit = filepath.Join(s.dir, "site.yaml")
	if err := os.WriteFile(s.unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs after every child is dead: leave no retained
	// messages and no persistent session for this unique name on the shared broker.
	t.Cleanup(func() { s.cleanBroker(t) })
	return s
}

func (s *e2eSite) cleanBroker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mqtt.Dial(ctx, mqtt.ClientConfig{BrokerURL: s.broker, ClientID: "lifang-e2e-clean-" + s.name})
	if err != nil {
		t.Logf("broker clean-up: %v", err)
		return
	}
	for _, topic := range []string{site.TopicClock(s.name), site.TopicController(s.name)} {
		if err := c.Publish(ctx, topic, nil, 1, true); err != nil {
			t.Logf("broker clean-up: clear retained %s: %v", topic, err)
		}
	}
	c.Close()
	// A clean-start connection with the ingest's client id ends its persistent session.
	if c, err := mqtt.Dial(ctx, mqtt.ClientConfig{BrokerURL: s.broker, ClientID: "lifang-operate-" + s.name}); err == nil {
		c.Close()
	}
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func (s *e2eSite) sitesimArgs(days int, speed string, extra ...string) []string {
	return append([]string{"sitesim", "--unit", s.unit, "--start", e2eStart, "--days", strconv.Itoa(days), "--speed", speed,
		"--mqtt", s.broker, "--modbus", s.modbus, "--ocpp", s.ocpp}, extra...)
}

func (s *e2eSite) operateArgs(db, policy, speed, until string) []string {
	return []string{"operate", "--unit", s.unit, "--db", db, "--policy", policy, "--clock", "sim", "--start", e2eStart,
		"--speed", speed, "--until", until, "--json", "--mqtt", s.broker}
}

// waitListening polls until addr accepts TCP connections (the emulator is up).
func waitListening(t *testing.T, addr string, p *lifangProc, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if p.exited() {
			t.Fatalf("%s exited (%s) before listening on %s", p.name, p.state(), addr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: nothing listening on %s after %v", p.name, addr, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procOutput collects a child's output while the test reads it.
type procOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *procOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *procOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is a lifang child process.
type lifangProc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr procOutput
	done           chan struct{}
}

// startProc runs `lifang args...` as a child; it is SIGKILLed in t.Cleanup if still
// running, and the tail of its stderr is logged if the test failed.
func startProc(t *testing.T, name string, args ...string) *lifangProc {
	t.Helper()
	p := &lifangProc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), "LIFANG_TEST_MAIN="+strings.Join(args, "\n"))
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- %s (lifang %s): %s; stderr tail:\n%s", p.name, strings.Join(args, " "), p.state(), logTail(p.stderr.String(), 30))
		}
	})
	return p
}

func (p *lifangProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *lifangProc) state() string {
	if !p.exited() {
		return "running"
	}
	return p.cmd.ProcessState.String()
}

func (p *lifangProc) kill() {
	if !p.exited() {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// wait waits for the child to exit and returns its exit code; it fails the test at the
// deadline.
func (p *lifangProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("%s still running after %v", p.name, timeout)
		return -1
	}
}

func logTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// grepLines returns the first n lines of s that contain substr.
func grepLines(s, substr string, n int) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, substr) && len(out) < n {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return strings.Join(out, "\n")
}

// decodeOutput parses a child's JSON report.
func decodeOutput(t *testing.T, p *lifangProc, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(p.stdout.String()), v); err != nil {
		t.Fatalf("%s: stdout is not its JSON report: %v\n%s", p.name, err, logTail(p.stdout.String(), 20))
	}
}

// evidence is a run's ledgered control events, read back from the database.
type runEvidence struct {
	decisions, commands, answers, alarms []reading.Event
	quarantined                          []store.Rejected // the emulator's input the pipeline refused
}

// checkNothingQuarantined: everything the emulator publishes is valid, so the
// controller's pipeline must store all of it (a refused reading is lost evidence).
func checkNothingQuarantined(t *testing.T, ev *runEvidence) {
	t.Helper()
	if len(ev.quarantined) == 0 {
		return
	}
	reasons := map[string]int{}
	for _, q := range ev.quarantined {
		reasons[q.Source+": "+q.Reason]++
	}
	var lines []string
	for r, n := range reasons {
		lines = append(lines, fmt.Sprintf("%d× %s", n, r))
	}
	slices.Sort(lines)
	t.Errorf("%d inputs quarantined:\n%s", len(ev.quarantined), logTail(strings.Join(lines, "\n"), 15))
}

func loadEvidence(t *testing.T, db, run string) *runEvidence {
	t.Helper()
	st, err := sqlite.Open(db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	get := func(kind string) []reading.Event {
		evs, err := st.Events(ctx, reading.EventKind(kind))
		if err != nil {
			t.Fatal(err)
		}
		var out []reading.Event
		for _, e := range evs {
			if e.Attrs["run"] == run {
				out = append(out, e)
			}
		}
		return out
	}
	ev := &runEvidence{decisions: get(site.EventDecision), commands: get(site.EventCommand), answers: get(site.EventAnswer), alarms: get(site.EventAlarm)}
	if ev.quarantined, err = st.Quarantined(ctx, "", 1000); err != nil {
		t.Fatal(err)
	}
	if len(ev.decisions) == 0 {
		t.Fatalf("%s: no control_decision of run %q", db, run)
	}
	return ev
}

func eventStep(t *testing.T, e reading.Event) int {
	t.Helper()
	k, err := strconv.Atoi(e.Attrs["step"])
	if err != nil {
		t.Fatalf("%s event at %s: step %q: %v", e.Kind, e.Time, e.Attrs["step"], err)
	}
	return k
}

// alarmSpan is the first raise of an alarm and the first clear after it (zero if none).
func (ev *runEvidence) alarmSpan(key string) (raised, cleared time.Time) {
	for _, e := range ev.alarms {
		if e.Attrs["kind"] != "alarm" || e.Attrs["alarm"] != key {
			continue
		}
		switch {
		case raised.IsZero() && e.Attrs["state"] == "raised":
			raised = e.Time
		case !raised.IsZero() && cleared.IsZero() && e.Attrs["state"] == "cleared":
			cleared = e.Time
		}
	}
	return raised, cleared
}

// checkAnswered: every command id is ledgered once and answered exactly once, unless its
// decision was interrupted (then it has no answer); no answer without its command.
func checkAnswered(t *testing.T, ev *runEvidence, interrupted func(cmd reading.Event) bool) {
	t.Helper()
	cmds := map[string]reading.Event{}
	for _, e := range ev.commands {
		id := e.Attrs["id"]
		if _, dup := cmds[id]; dup {
			t.Errorf("control_command id %q ledgered twice", id)
		}
		cmds[id] = e
	}
	answers := map[string]int{}
	for _, e := range ev.answers {
		if e.Attrs["kind"] == "step_done" {
			continue
		}
		id := e.Attrs["id"]
		answers[id]++
		if _, ok := cmds[id]; !ok {
			t.Errorf("control_answer %q (%s %s) has no control_command", id, e.Source, e.Attrs["status"])
		}
	}
	for id, e := range cmds {
		n := answers[id]
		switch {
		case n == 0 && interrupted(e):
		case n != 1:
			t.Errorf("control_command %q (%s %s %s, step %s): %d answers, want 1", id, e.Source, e.Attrs["action"], e.Attrs["value"], e.Attrs["step"], n)
		}
	}
}

// commandAttempt reads the attempt from a command id (<run>-<step>-<attempt>-<device>).
func commandAttempt(t *testing.T, run string, cmd reading.Event) int {
	t.Helper()
	parts := strings.SplitN(strings.TrimPrefix(cmd.Attrs["id"], run+"-"), "-", 3)
	if len(parts) != 3 || parts[0] != cmd.Attrs["step"] {
		t.Fatalf("command id %q: want %s-<step>-<attempt>-<device> (step %s)", cmd.Attrs["id"], run, cmd.Attrs["step"])
	}
	a, err := strconv.Atoi(parts[1])
	if err != nil {
		t.Fatalf("command id %q: attempt %q", cmd.Attrs["id"], parts[1])
	}
	return a
}

func checkCommandCounts(t *testing.T, rep *operateReport) {
	t.Helper()
	c := rep.Commands
	if c.Sent != c.Acked+c.Rejected+c.TimedOut {
		t.Errorf("operate: commands sent %d != acked %d + rejected %d + timed out %d", c.Sent, c.Acked, c.Rejected, c.TimedOut)
	}
	if c.Sent == 0 {
		t.Errorf("operate: no command sent")
	}
}

// One simulated day with three faults at once: the battery's Modbus server down
// 10:00–12:00, feeder A's meter silent 14:00–17:00, and charger CP-AC-01 refusing every
// charging profile. The ledger must show each device's safe state or fallback, its
// alarm raised and cleared, and every command answered.
func TestOperateFaults(t *testing.T) {
	s := newE2ESite(t, "faults")
	db := filepath.Join(s.dir, "site.db")
	sim := startProc(t, "sitesim", s.sitesimArgs(1, "7200",
		"--fault", "modbus-down:community-bess@2025-07-14T10:00:00+08:00/2h",
		"--fault", "stale:feeder-a@2025-07-14T14:00:00+08:00/3h",
		"--fault", "reject-profiles:CP-AC-01")...)
	waitListening(t, s.modbus, sim, 30*time.Second)
	op := startProc(t, "operate", s.operateArgs(db, "mpc", "7200", e2eTime(t, 24).Format(time.RFC3339))...)

	if code := sim.wait(t, 3*time.Minute); code != 0 {
		t.Fatalf("sitesim exited %d", code)
	}
	if code := op.wait(t, time.Minute); code != 0 {
		t.Fatalf("operate exited %d", code)
	}
	var srep sitesim.Report
	var orep operateReport
	decodeOutput(t, sim, &srep)
	decodeOutput(t, op, &orep)
	t.Logf("sitesim: %d steps (%d acked, %d unacked) in %.1f s; grid %.1f kWh, %.2f CNY", srep.Steps, srep.StepsAcked, srep.StepsUnacked, srep.WallS, srep.Grid.ImportKWh, srep.Grid.CostCNY)
	t.Logf("operate: %d steps; commands %+v; %d fallbacks, %d alarms, open %v; metered %+v", orep.Steps, orep.Commands, orep.Fallbacks, orep.Alarms, orep.OpenAlarms, orep.Metered)
	if srep.Steps != 24 || orep.Steps != 24 {
		t.Errorf("steps: sitesim %d, operate %d, want 24 each", srep.Steps, orep.Steps)
	}
	if srep.StepsUnacked != 0 {
		t.Errorf("sitesim: %d steps ran without the controller's acknowledgement, want 0 (a healthy controller answers every tick)", srep.StepsUnacked)
	}
	ev := loadEvidence(t, db, orep.Run)

	t.Run("modbus-down", func(t *testing.T) {
		if len(srep.Batteries) != 1 || srep.Batteries[0].ID != "community-bess" {
			t.Fatalf("sitesim batteries %+v, want community-bess only", srep.Batteries)
		}
		b := srep.Batteries[0]
		t.Logf("community-bess: %+v", b)
		if b.DownSteps != 2 {
			t.Errorf("sitesim: community-bess down %d steps, want 2 (10:00 and 11:00)", b.DownSteps)
		}
		// The safe state within one step: the controller commands standby for each step it
		// cannot read the battery (or, failing that, the BESS is in standby itself).
		commandedStandby := true
		for _, k := range []int{10, 11} {
			var actions []string
			for _, e := range ev.commands {
				if e.Source == "community-bess" && eventStep(t, e) == k {
					actions = append(actions, e.Attrs["action"])
				}
			}
			if len(actions) == 0 || slices.ContainsFunc(actions, func(a string) bool { return a != "standby" }) {
				commandedStandby = false
				t.Logf("step %d (%02d:00): battery commands %v, want standby", k, k, actions)
			}
		}
		if !commandedStandby && b.StandbySteps < 2 {
			t.Errorf("battery not in its safe state while unreachable: commands at 10:00 and 11:00 are not all standby, and the BESS reports %d standby steps (want >= 2)", b.StandbySteps)
		}
		status := map[string]string{}
		for _, e := range ev.answers {
			status[e.Attrs["id"]] = e.Attrs["status"]
		}
		var seen []string
		for _, e := range ev.commands {
			if k := eventStep(t, e); e.Source == "community-bess" && k >= 9 && k <= 12 {
				seen = append(seen, fmt.Sprintf("%02d:00 %s %s → %s", k, e.Attrs["action"], e.Attrs["value"], status[e.Attrs["id"]]))
			}
		}
		t.Logf("battery commands around the outage: %s", strings.Join(seen, "; "))
		// Before and after the outage it is driven normally.
		for _, k := range []int{9, 12} {
			for _, e := range ev.commands {
				if e.Source == "community-bess" && eventStep(t, e) == k && e.Attrs["action"] != "set_power" {
					t.Errorf("step %d: battery command %s, want set_power (the battery is reachable)", k, e.Attrs["action"])
				}
			}
		}
		raised, cleared := ev.alarmSpan("battery/community-bess: unreachable")
		switch {
		case raised.IsZero():
			t.Errorf("no alarm %q raised", "battery/community-bess: unreachable")
		case raised.Before(e2eTime(t, 10)) || raised.After(e2eTime(t, 10)):
			t.Errorf("battery alarm raised at %s, want at the outage's first step 10:00", raised)
		case cleared.IsZero():
			t.Errorf("battery alarm raised at %s never cleared", raised)
		case cleared.Before(e2eTime(t, 12)) || !cleared.Before(e2eTime(t, 14)):
			t.Errorf("battery alarm cleared at %s, want in [12:00, 14:00)", cleared)
		}
	})

	t.Run("meter-stale", func(t *testing.T) {
		// feeder-a's last reading before the fault is 13:00; the first step at which it
		// is older than max_staleness (90 min) is 15:00. It publishes again at 17:00.
		raised, cleared := ev.alarmSpan("meter/feeder-a: stale")
		if raised.IsZero() {
			t.Fatalf("no alarm %q raised", "meter/feeder-a: stale")
		}
		if !raised.Equal(e2eTime(t, 15)) {
			t.Errorf("stale alarm raised at %s, want 15:00 (last reading 13:00 + 90 min max staleness, next step)", raised)
		}
		if cleared.IsZero() || cleared.Before(e2eTime(t, 17)) || cleared.After(e2eTime(t, 18)) {
			t.Errorf("stale alarm cleared at %v, want at 17:00 (the first fresh reading after the fault) or the step after", cleared)
		}
		// The documented fallback: the reading 24 h earlier if any, else the last one.
		// This is the run's first day, so there is nothing 24 h earlier: last_value.
		stale := 0
		for _, e := range ev.decisions {
			at := e.Time
			fbs := strings.Split(e.Attrs["fallbacks"], ",")
			inAlarm := !at.Before(raised) && (cleared.IsZero() || at.Before(cleared))
			var feeder []string
			for _, f := range fbs {
				if strings.HasPrefix(f, "feeder-a:") {
					feeder = append(feeder, f)
				}
			}
			switch {
			case inAlarm && !slices.Equal(feeder, []string{"feeder-a:last_value"}):
				t.Errorf("decision at %s (stale feeder-a): fallbacks %q, want feeder-a:last_value (no reading 24 h earlier on the first day)", at, e.Attrs["fallbacks"])
			case inAlarm:
				stale++
			case len(feeder) > 0:
				t.Errorf("decision at %s (feeder-a fresh): fallbacks %q name feeder-a", at, e.Attrs["fallbacks"])
			}
		}
		if stale < 2 {
			t.Errorf("%d decisions with the feeder-a fallback, want 2 (15:00 and 16:00)", stale)
		}
	})

	t.Run("reject-profiles", func(t *testing.T) {
		var ch *sitesim.ChargerReport
		for i := range srep.Chargers {
			if srep.Chargers[i].ID == "ac-7kw/1" {
				ch = &srep.Chargers[i]
			}
		}
		if ch == nil {
			t.Fatalf("sitesim report has no charger ac-7kw/1: %+v", srep.Chargers)
		}
		t.Logf("ac-7kw/1: %+v", *ch)
		if ch.Sessions == 0 {
			t.Fatalf("ac-7kw/1 had no EV session on %s: the fault is not exercised (the data changed?)", e2eStart)
		}
		if ch.DeliveredKWh <= 0 {
			t.Errorf("ac-7kw/1 delivered %.3f kWh in %d sessions: the EV should charge at the charger's default limit", ch.DeliveredKWh, ch.Sessions)
		}
		if ch.Rejected == 0 || ch.Rejected != ch.Profiles {
			t.Errorf("ac-7kw/1: %d of %d profiles rejected, want all of them (> 0)", ch.Rejected, ch.Profiles)
		}
		var statuses []string
		for _, e := range ev.answers {
			if e.Source == "ac-7kw/1" {
				statuses = append(statuses, e.Attrs["status"])
			}
		}
		if !slices.Contains(statuses, site.Rejected) || slices.Contains(statuses, site.Acked) {
			t.Errorf("answers for ac-7kw/1: %v, want rejected (and never acked)", statuses)
		}
		if raised, _ := ev.alarmSpan("charger/ac-7kw/1: profile refused"); raised.IsZero() {
			t.Errorf("no alarm %q raised", "charger/ac-7kw/1: profile refused")
		}
		// The other chargers are unaffected.
		for _, e := range ev.answers {
			if strings.HasPrefix(e.Source, "ac-7kw/") && e.Source != "ac-7kw/1" && e.Attrs["status"] == site.Rejected {
				t.Errorf("%s answered rejected (%s): only CP-AC-01 refuses profiles", e.Source, e.Attrs["detail"])
			}
		}
	})

	t.Run("answered", func(t *testing.T) {
		checkCommandCounts(t, &orep)
		checkNothingQuarantined(t, ev)
		checkAnswered(t, ev, func(reading.Event) bool { return false })
		sent := 0
		for _, e := range ev.answers {
			if st := e.Attrs["status"]; st == site.Acked || st == site.Rejected || st == site.TimedOut {
				sent++
			}
		}
		if sent != orep.Commands.Sent {
			t.Errorf("ledger: %d answers acked/rejected/timed out, operate reports %d sent", sent, orep.Commands.Sent)
		}
	})
}

// Two simulated days during which the controller is SIGKILLed five times and restarted
// with the same arguments and database. The kills come at seeded pseudo-random moments;
// two of them are restarted only after the emulator's ack timeout (so steps are missed),
// and two land on an MQTT command going out (between a step's decision and its answers,
// so the step is interrupted), one restarted at once (the step is decided again) and one
// late (the clock has moved on). The ledger must account for every step (done, or missed
// with a reason), log every interrupted decision, never reuse a command id, and the
// metered bill must match the site's.
func TestOperateSurvivesSIGKILL(t *testing.T) {
	const (
		steps      = 48
		stepWall   = time.Second     // one simulated hour at --speed 3600
		ackTimeout = 3 * time.Second // sitesim --ack-timeout
		lastKillK  = steps - 8       // no kill this close to the end: the last run must see steps
	)
	// What each kill does: land on an MQTT command, and wait past the ack timeout before
	// restarting.
	plan := []struct{ onCommand, late bool }{{true, false}, {false, false}, {false, true}, {true, true}, {false, false}}
	s := newE2ESite(t, "kill")
	db := filepath.Join(s.dir, "site.db")
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("LIFANG_E2E_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("kill schedule seed %d (LIFANG_E2E_SEED=%d reproduces it)", seed, seed)
	rng := mrand.New(mrand.NewPCG(seed, 0x6b696c6c))

	// Watch the controller's traffic: tick acknowledgements (a step it decided) and the
	// MQTT commands it sends (after a step's decision is ledgered, before its answers).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watch, err := mqtt.Dial(ctx, mqtt.ClientConfig{BrokerURL: s.broker, ClientID: "lifang-e2e-watch-" + s.name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { watch.Close() })
	var acked atomic.Int64
	acked.Store(-1)
	if err := watch.Subscribe(ctx, site.TopicClockAck(s.name), 1, func(_ string, b []byte) {
		var a site.TickAck
		if json.Unmarshal(b, &a) == nil {
			for {
				cur := acked.Load()
				if int64(a.Step) <= cur || acked.CompareAndSwap(cur, int64(a.Step)) {
					break
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	var cmdMu sync.Mutex
	var onCommand func(site.Command) // set while a kill waits for a command
	if err := watch.Subscribe(ctx, "lifang/"+s.name+"/commands/+", 1, func(_ string, b []byte) {
		var c site.Command
		if json.Unmarshal(b, &c) != nil {
			return
		}
		cmdMu.Lock()
		defer cmdMu.Unlock()
		if onCommand != nil {
			onCommand(c)
		}
	}); err != nil {
		t.Fatal(err)
	}

	sim := startProc(t, "sitesim", s.sitesimArgs(2, "3600", "--ack-timeout", ackTimeout.String())...)
	waitListening(t, s.modbus, sim, 30*time.Second)
	args := s.operateArgs(db, "rule_based", "3600", e2eTime(t, steps).Format(time.RFC3339))

	var killedAt []string
	targeted := map[int]bool{} // steps killed on their MQTT command, restarted at once
	lateTargeted := map[int]bool{}
	paused := false
	for i, kp := range plan {
		op := startProc(t, fmt.Sprintf("operate#%d", i+1), args...)
		// This process has decided a step once an ack two past the last one seen comes:
		// the one after could be a step its predecessor decided but did not acknowledge.
		before := acked.Load()
		deadline := time.Now().Add(time.Minute)
		for acked.Load() < before+2 {
			if op.exited() {
				t.Fatalf("%s exited (%s) before deciding a step", op.name, op.state())
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no step acknowledged within a minute (last ack %d)", op.name, acked.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
		// A pseudo-random moment 3–7 s on (so kills are some 4–9 s apart), shortened if
		// the remaining kills would not fit before the end of the period; or the next
		// MQTT command.
		d := 3*time.Second + time.Duration(rng.Int64N(int64(4*time.Second)))
		left := time.Duration(lastKillK-acked.Load()) * stepWall / time.Duration(len(plan)-i)
		d = max(min(d, left-2*time.Second), 0)
		if kp.onCommand {
			d = 0
		}
		select {
		case <-op.done:
			t.Fatalf("%s exited (%s) before its kill", op.name, op.state())
		case <-time.After(d):
		}
		how := "at random"
		if kp.onCommand {
			// Then on the next MQTT command: the controller waits for the device's ack
			// before it ledgers the step's answers.
			got := make(chan site.Command, 1)
			cmdMu.Lock()
			onCommand = func(c site.Command) {
				op.cmd.Process.Signal(syscall.SIGKILL)
				onCommand = nil
				got <- c
			}
			cmdMu.Unlock()
			select {
			case c := <-got:
				k := int(c.Time.Sub(e2eTime(t, 0)) / time.Hour)
				how = fmt.Sprintf("on command %s of step %d", c.ID, k)
				if kp.late {
					lateTargeted[k] = true
				} else {
					targeted[k] = true
				}
			case <-time.After(min(max(left-2*time.Second, time.Second), 15*time.Second)):
				how = "at random (no MQTT command came)"
			}
			cmdMu.Lock()
			onCommand = nil
			cmdMu.Unlock()
		}
		op.kill()
		if kp.late {
			how += ", restarted after " + (ackTimeout + 2*time.Second).String()
			time.Sleep(ackTimeout + 2*time.Second) // down past the ack timeout: steps run without it
			paused = true
		}
		killedAt = append(killedAt, fmt.Sprintf("after ack %d %s", acked.Load(), how))
	}
	t.Logf("SIGKILLed operate: %s", strings.Join(killedAt, "; "))
	if k := acked.Load(); k >= steps-2 {
		t.Fatalf("last kill after step %d: the final run has nothing left to decide", k)
	}
	final := startProc(t, "operate#final", args...)
	if code := sim.wait(t, 4*time.Minute); code != 0 {
		t.Fatalf("sitesim exited %d", code)
	}
	if code := final.wait(t, time.Minute); code != 0 {
		t.Fatalf("operate (final) exited %d", code)
	}
	var srep sitesim.Report
	var orep operateReport
	decodeOutput(t, sim, &srep)
	decodeOutput(t, final, &orep)
	t.Logf("sitesim: %d steps (%d acked, %d unacked) in %.1f s; grid %.1f kWh, %.2f CNY; mqtt %+v", srep.Steps, srep.StepsAcked, srep.StepsUnacked, srep.WallS, srep.Grid.ImportKWh, srep.Grid.CostCNY, srep.MQTT)
	t.Logf("operate: %d steps, %d interrupted, %d missed; commands %+v; metered %+v", orep.Steps, orep.Interrupted, orep.Missed, orep.Commands, orep.Metered)

	ev := loadEvidence(t, db, orep.Run)
	done := map[int]bool{}
	for _, e := range ev.answers {
		if e.Attrs["kind"] == "step_done" {
			k := eventStep(t, e)
			if done[k] {
				t.Errorf("step %d: two step_done answers", k)
			}
			done[k] = true
		}
	}
	attempts := map[int][]int{} // step → attempts decided
	for _, e := range ev.decisions {
		k := eventStep(t, e)
		a, err := strconv.Atoi(e.Attrs["attempt"])
		if err != nil {
			t.Fatalf("decision of step %d: attempt %q", k, e.Attrs["attempt"])
		}
		if slices.Contains(attempts[k], a) {
			t.Errorf("step %d: attempt %d decided twice", k, a)
		}
		attempts[k] = append(attempts[k], a)
	}
	missed := map[int]bool{}
	interrupted := map[[2]int]bool{} // step, attempt
	for _, e := range ev.alarms {
		switch e.Attrs["kind"] {
		case "steps_missed":
			from, err1 := strconv.Atoi(e.Attrs["from_step"])
			to, err2 := strconv.Atoi(e.Attrs["to_step"])
			if err1 != nil || err2 != nil || from > to {
				t.Errorf("steps_missed alarm at %s: from_step %q to_step %q", e.Time, e.Attrs["from_step"], e.Attrs["to_step"])
				continue
			}
			if strings.TrimSpace(e.Attrs["reason"]) == "" {
				t.Errorf("steps_missed %d..%d without a reason", from, to)
			}
			for k := from; k <= to; k++ {
				missed[k] = true
			}
		case "step_interrupted":
			k := eventStep(t, e)
			a, _ := strconv.Atoi(e.Attrs["attempt"])
			interrupted[[2]int{k, a}] = true
			if !slices.Contains(attempts[k], a) || strings.TrimSpace(e.Attrs["reason"]) == "" {
				t.Errorf("step_interrupted %d attempt %d: decided attempts %v, reason %q", k, a, attempts[k], e.Attrs["reason"])
			}
		}
	}
	var missedN, interruptedN []int
	for k := range steps {
		switch {
		case done[k]:
		case missed[k]:
			missedN = append(missedN, k)
		default:
			t.Errorf("step %d (%s): neither step_done nor covered by a steps_missed alarm", k, e2eTime(t, k).Format("Jan 2 15:04"))
		}
		// Every decision but the one that completed the step was interrupted, and the
		// ledger says so.
		for _, a := range attempts[k] {
			last := a == slices.Max(attempts[k])
			if last && done[k] {
				continue
			}
			interruptedN = append(interruptedN, k)
			if !interrupted[[2]int{k, a}] {
				t.Errorf("step %d (%s): decision attempt %d has no answers (step_done %v, steps_missed %v) and no step_interrupted alarm",
					k, e2eTime(t, k).Format("Jan 2 15:04"), a, done[k], missed[k])
			}
		}
	}
	t.Logf("%d of %d steps done; missed %v; interrupted %v (targeted %v, targeted then late %v)", len(done), steps, missedN, interruptedN, slices.Sorted(maps.Keys(targeted)), slices.Sorted(maps.Keys(lateTargeted)))
	if paused && len(missedN) == 0 {
		t.Errorf("the controller was down past the ack timeout, yet no step is logged as missed (sitesim: %d steps unacked)", srep.StepsUnacked)
	}
	for k := range targeted {
		if len(attempts[k]) < 2 || !done[k] {
			t.Logf("step %d was killed on its MQTT command and restarted at once: attempts %v, done %v (the kill lost the race with the answers?)", k, attempts[k], done[k])
		}
	}
	// A command of the attempt that completed its step has one answer; one of an
	// interrupted attempt (its alarm is checked above) has none.
	checkAnswered(t, ev, func(cmd reading.Event) bool {
		k, a := eventStep(t, cmd), commandAttempt(t, orep.Run, cmd)
		return !done[k] || a != slices.Max(attempts[k])
	})
	checkCommandCounts(t, &orep)
	checkNothingQuarantined(t, ev)
	rejected := map[string]int{}
	for _, e := range ev.answers {
		if e.Attrs["status"] == site.Rejected {
			rejected[e.Source+" "+e.Attrs["action"]+": "+e.Attrs["detail"]]++
		}
	}
	for r, n := range rejected {
		t.Logf("rejected %d×: %s", n, r)
		// No charger refuses profiles in this run: a rejection means the controller
		// addressed a transaction the charger does not have.
		if strings.Contains(r, "set_charging_profile") {
			t.Errorf("a healthy charger refused %d profile(s): %s", n, r)
		}
	}
	if lines := grepLines(sim.stderr.String(), "charging profile rejected", 12); lines != "" {
		t.Logf("sitesim on the refused profiles:\n%s", lines)
	}
	if want := srep.Grid.CostCNY; want <= 0 || orep.Metered.GridCostCNY < 0.95*want || orep.Metered.GridCostCNY > 1.05*want {
		t.Errorf("metered grid cost %.2f CNY (%d register readings, %d gaps), sitesim's %.2f CNY: want within 5 %%",
			orep.Metered.GridCostCNY, orep.Metered.Readings, orep.Metered.Gaps, want)
	}
}

// Bad invocations exit 1 or 2 with a message naming the problem, never a panic.
func TestSitesimBadFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	unit := "../../examples/site.yaml"
	sim := func(extra ...string) []string {
		return append([]string{"sitesim", "--unit", unit, "--start", e2eStart, "--days", "1", "--speed", "3600",
			"--mqtt", "tcp://127.0.0.1:1", "--modbus", "127.0.0.1:1", "--ocpp", "ws://127.0.0.1:1"}, extra...)
	}
	cases := []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"fault without kind", sim("--fault", "community-bess"), []string{`fault "community-bess"`, "KIND:ARGS"}},
		{"fault unknown kind", sim("--fault", "explode:community-bess@2025-07-14T10:00:00+08:00/2h"), []string{`unknown kind "explode"`, "valid: modbus-down"}},
		{"fault without period", sim("--fault", "modbus-down:community-bess"), []string{"modbus-down:DEVICE@FROM/DURATION"}},
		{"fault without duration", sim("--fault", "stale:feeder-a@2025-07-14T14:00:00+08:00"), []string{"want FROM/DURATION"}},
		{"fault bad from", sim("--fault", "stale:feeder-a@14:00/3h"), []string{`from "14:00"`, "RFC 3339"}},
		{"fault negative duration", sim("--fault", "stale:feeder-a@2025-07-14T10:00:00+08:00/-1h"), []string{`duration "-1h"`, "positive"}},
		{"fault bad share", sim("--fault", "mqtt-drop:1.5"), []string{`share "1.5"`, "[0, 1)"}},
		{"fault empty charger", sim("--fault", "reject-profiles:"), []string{"reject-profiles:OCPP_ID"}},
		{"days 0", sim("--days", "0"), []string{"--days must be >= 1"}},
		{"no start", []string{"sitesim", "--unit", unit, "--days", "1"}, []string{"--start RFC3339 is required"}},
		{"unit without site", []string{"sitesim", "--unit", "../../examples/community.yaml", "--start", e2eStart, "--days", "1"}, []string{"community.yaml", "no site: section"}},
		{"operate unit without site", []string{"operate", "--unit", "../../examples/community.yaml", "--db", filepath.Join(t.TempDir(), "x.db"), "--clock", "sim", "--start", e2eStart}, []string{"community.yaml", "no site: section"}},
		{"operate sim clock without start", []string{"operate", "--unit", unit, "--db", filepath.Join(t.TempDir(), "x.db"), "--policy", "rule_based", "--clock", "sim", "--speed", "3600"}, []string{"--clock sim needs --start"}},
		{"operate bad clock", []string{"operate", "--unit", unit, "--db", filepath.Join(t.TempDir(), "x.db"), "--clock", "moon"}, []string{`--clock "moon"`, "wall or sim"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startProc(t, c.args[0], c.args...)
			code := p.wait(t, 30*time.Second)
			checkBadExit(t, p, code, c.want)
		})
	}

	// A fault naming a device the site does not have would inject nothing: the run
	// would look like a fault test and test nothing. It must be refused up front.
	t.Run("fault unknown device", func(t *testing.T) {
		s := newE2ESite(t, "badflags")
		p := startProc(t, "sitesim", s.sitesimArgs(1, "1000000", "--ack-timeout", "1ms", "--start-timeout", "1s", "--quiet",
			"--fault", "modbus-down:no-such-bess@2025-07-14T10:00:00+08:00/2h")...)
		code := p.wait(t, time.Minute)
		checkBadExit(t, p, code, []string{"no-such-bess"})
	})
}

func checkBadExit(t *testing.T, p *lifangProc, code int, want []string) {
	t.Helper()
	stderr := p.stderr.String()
	if code != 1 && code != 2 {
		t.Errorf("exit code %d, want 1 or 2; stderr:\n%s", code, logTail(stderr, 10))
	}
	for _, bad := range []string{"panic:", "goroutine ", "runtime error"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr has %q (a crash, not an error message):\n%s", bad, logTail(stderr, 20))
		}
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not name the problem (%q):\n%s", w, logTail(stderr, 10))
		}
	}
}
