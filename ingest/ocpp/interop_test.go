package ocpp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocppj"
)

// interopTimeout bounds the whole interop test: the peer's start, every command and its
// exit.
const interopTimeout = 20 * time.Second

// peerLine is one line of interop/charger.js's output (its header lists the types).
type peerLine struct {
	Type          string          `json:"type"`
	Name          string          `json:"name"`
	Expect        string          `json:"expect"`
	ID            string          `json:"id"`
	Action        string          `json:"action"`
	Valid         bool            `json:"valid"`
	Errors        []peerError     `json:"errors"`
	Answer        string          `json:"answer"`
	Payload       json.RawMessage `json:"payload"`
	TransactionID int             `json:"transactionId"`
	Message       string          `json:"message"`
}

type peerError struct {
	Code    string `json:"code"`
	Path    string `json:"path"`
	Keyword string `json:"keyword"`
	Message string `json:"message"`
}

// wantCall is a call the peer must report receiving, in order: payload nil means any.
type wantCall struct {
	action  string
	payload json.RawMessage
	invalid bool // the negative control: the peer must find it invalid and refuse it
}

// rawRequest is a request whose payload is sent as given, bypassing ocpp-go's typed
// structs, for the negative control.
type rawRequest struct {
	action  string
	payload json.RawMessage
}

func (r rawRequest) GetFeatureName() string       { return r.action }
func (r rawRequest) MarshalJSON() ([]byte, error) { return r.payload, nil }

// interopNode returns the node binary, or skips (fails with LIFANG_INTEROP_REQUIRED=1)
// when node or the peer's npm packages are missing.
func interopNode(t *testing.T) string {
	t.Helper()
	miss := func(why string) {
		t.Helper()
		if os.Getenv("LIFANG_INTEROP_REQUIRED") == "1" {
			t.Fatal(why + " (LIFANG_INTEROP_REQUIRED=1)")
		}
		t.Skip(why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		miss("node is not on PATH: the ocpp-rpc interop peer cannot run")
	}
	if _, err := os.Stat(filepath.Join("interop", "node_modules", "ocpp-rpc", "package.json")); err != nil {
		miss("ocpp-rpc is not installed: run (cd ingest/ocpp/interop && npm ci)")
	}
	return node
}

// What the central system sends validates against the OCPP 1.6 JSON schemas, as
// checked by an independent charge point: ocpp-rpc in strict mode (interop/charger.js),
// which refuses a call that fails its bundled schemas and reports, call by call, what
// its validator found. Controls prove that the validator bites: hand-made bad payloads
// in the peer, and one malformed SetChargingProfile sent here on the wire.
func TestInteropOCPPRPCSchemas(t *testing.T) {
	node := interopNode(t)
	cs := startCentralSystem(t, Config{RequestTimeout: 3 * time.Second, MaxAttempts: 1}, &fakeSink{})
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()

	const cp = "INTEROP1"
	p := startPeer(t, ctx, node, cs.Addr(), cp)
	tx := p.waitReady(t, ctx)
	for cs.openTransaction(cp, 1) != tx {
		if ctx.Err() != nil {
			t.Fatalf("the central system never recorded transaction %d", tx)
		}
		time.Sleep(5 * time.Millisecond)
	}
	want := sendInteropCommands(t, ctx, cs, cp, tx)
	want = append(want, sendMalformedProfile(t, ctx, cs, cp, tx))
	checkPeerReport(t, p.stop(t), want)
}

// peer is interop/charger.js running as a child process.
type peer struct {
	stdin   io.WriteCloser
	lines   chan peerLine // closed at the end of its output
	got     []peerLine    // the lines read so far
	exited  chan struct{} // closed once it has exited, waitErr set
	waitErr error
}

// startPeer starts the peer as charge point cp of the central system at addr; it is
// killed when ctx ends or the test is over.
func startPeer(t *testing.T, ctx context.Context, node, addr, cp string) *peer {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, node, filepath.Join("interop", "charger.js"), "ws://"+addr, cp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	p := &peer{stdin: stdin, lines: make(chan peerLine, 256), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			var l peerLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l = peerLine{Type: "error", Message: "not a JSON line: " + sc.Text()}
			}
			p.lines <- l
		}
		close(p.lines)
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			t.Error("the peer did not exit")
			return
		}
		if stderr.Len() > 0 {
			t.Logf("peer stderr:\n%s", stderr.String())
		}
	})
	return p
}

// waitReady waits for the peer to have booted and started its transaction, and
// returns the transaction's id.
func (p *peer) waitReady(t *testing.T, ctx context.Context) int {
	t.Helper()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("the peer exited before its transaction started; its lines: %+v", p.got)
			}
			p.got = append(p.got, l)
			switch l.Type {
			case "error":
				t.Fatalf("peer: %s", l.Message)
			case "ready":
				return l.TransactionID
			}
		case <-ctx.Done():
			t.Fatalf("no transaction from the peer in %v; its lines: %+v", interopTimeout, p.got)
		}
	}
}

// stop ends the peer's stdin, which stops it, and returns all its lines.
func (p *peer) stop(t *testing.T) []peerLine {
	t.Helper()
	if err := p.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	for l := range p.lines {
		p.got = append(p.got, l)
	}
	<-p.exited
	if p.waitErr != nil {
		t.Errorf("peer: %v", p.waitErr)
	}
	return p.got
}

// sendInteropCommands sends every kind of command lifang has, each of which the peer
// must accept, and returns the calls the peer must have received.
func sendInteropCommands(t *testing.T, ctx context.Context, cs *CentralSystem, cp string, tx int) []wantCall {
	at := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	composite := func(connector int, unit string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"connectorId": connector, "duration": CompositeDurationS, "chargingRateUnit": unit})
		return b
	}
	setLimit := func(connector int, l Limit) func() (CommandResult, []wantCall) {
		return func() (CommandResult, []wantCall) {
			res := cs.SetLimit(ctx, cp, connector, at, l)
			calls := []wantCall{{action: "SetChargingProfile", payload: res.Request}}
			if res.Status != StatusAccepted {
				return res, calls // no GetCompositeSchedule follows
			}
			if !res.Confirmed {
				t.Errorf("SetLimit %v on connector %d not confirmed: %s", l, connector, res.Detail)
			}
			return res, append(calls, wantCall{action: "GetCompositeSchedule", payload: composite(connector, l.Unit)})
		}
	}
	simple := func(action string, f func() CommandResult) func() (CommandResult, []wantCall) {
		return func() (CommandResult, []wantCall) {
			res := f()
			return res, []wantCall{{action: action, payload: res.Request}}
		}
	}
	const idTag = "04A1B2C3D4"
	remoteStart := func(connector int) func() (CommandResult, []wantCall) {
		return func() (CommandResult, []wantCall) {
			res := cs.RemoteStart(ctx, cp, connector, idTag)
			// The ledger's copy has the idTag hashed; the charger gets it in clear.
			var p map[string]any
			if err := json.Unmarshal(res.Request, &p); err != nil {
				t.Errorf("RemoteStart request %s: %v", res.Request, err)
				return res, []wantCall{{action: "RemoteStartTransaction"}}
			}
			p["idTag"] = idTag
			sent, _ := json.Marshal(p)
			return res, []wantCall{{action: "RemoteStartTransaction", payload: sent}}
		}
	}
	steps := []struct {
		name string
		run  func() (CommandResult, []wantCall)
		// For SetLimit, what its SetChargingProfile must be, so that the check covers
		// TxProfile and TxDefaultProfile, W and A.
		purpose     string
		transaction bool
		phases      bool
	}{
		{name: "SetLimit 7360 W TxProfile", run: setLimit(1, Limit{Value: 7360, Unit: "W"}),
			purpose: "TxProfile", transaction: true},
		{name: "SetLimit 15.9 A × 3 TxProfile", run: setLimit(1, Limit{Value: 15.9, Unit: "A", Phases: 3}),
			purpose: "TxProfile", transaction: true, phases: true},
		{name: "SetLimit 11000 W TxDefaultProfile", run: setLimit(2, Limit{Value: 11000, Unit: "W", Phases: 3}),
			purpose: "TxDefaultProfile"},
		{name: "SetLimit 6 A × 1 TxDefaultProfile", run: setLimit(2, Limit{Value: 6, Unit: "A", Phases: 1}),
			purpose: "TxDefaultProfile", phases: true},
		{name: "ClearLimit connector 2", run: simple("ClearChargingProfile", func() CommandResult { return cs.ClearLimit(ctx, cp, 2) })},
		{name: "ClearLimit connector 1", run: simple("ClearChargingProfile", func() CommandResult { return cs.ClearLimit(ctx, cp, 1) })},
		{name: "RemoteStart connector 2", run: remoteStart(2)},
		{name: "RemoteStart any connector", run: remoteStart(0)},
		{name: "Trigger StatusNotification connector 1", run: simple("TriggerMessage", func() CommandResult {
			return cs.Trigger(ctx, cp, 1, "StatusNotification")
		})},
		{name: "Trigger Heartbeat", run: simple("TriggerMessage", func() CommandResult { return cs.Trigger(ctx, cp, 0, "Heartbeat") })},
		{name: "Trigger MeterValues connector 1", run: simple("TriggerMessage", func() CommandResult {
			return cs.Trigger(ctx, cp, 1, "MeterValues")
		})},
		{name: "RemoteStop", run: simple("RemoteStopTransaction", func() CommandResult { return cs.RemoteStop(ctx, cp, tx) })},
	}
	var want []wantCall
	for _, s := range steps {
		res, calls := s.run()
		if res.Status != StatusAccepted {
			t.Errorf("%s: %s: %s", s.name, res.Status, res.Detail)
		}
		if s.purpose != "" {
			checkProfileShape(t, s.name, res.Request, s.purpose, s.transaction, tx, s.phases)
		}
		want = append(want, calls...)
	}
	return want
}

// sendMalformedProfile is the negative control on the wire: a SetChargingProfile whose
// limit is a string, sent past lifang's typed requests, must come back as a schema
// CallError, which lifang reports as an Error. It returns the call the peer must have
// received and refused.
func sendMalformedProfile(t *testing.T, ctx context.Context, cs *CentralSystem, cp string, tx int) wantCall {
	t.Helper()
	bad := `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":100012,"transactionId":` + strconv.Itoa(tx) +
		`,"stackLevel":1,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",` +
		`"chargingSchedule":{"startSchedule":"2025-03-01T08:00:00Z","chargingRateUnit":"A",` +
		`"chargingSchedulePeriod":[{"startPeriod":0,"limit":"16","numberPhases":3}]}}}`
	done := make(chan error, 1)
	if err := cs.cs.SendRequestAsync(cp, rawRequest{"SetChargingProfile", json.RawMessage(bad)}, func(_ ocpp.Response, err error) {
		done <- err
	}); err != nil {
		t.Fatalf("raw SetChargingProfile not sent: %v", err)
	}
	select {
	case err := <-done:
		var oe *ocpp.Error
		if !errors.As(err, &oe) || oe.Code != ocppj.TypeConstraintViolation {
			t.Errorf("malformed SetChargingProfile: got %v, want a TypeConstraintViolation CallError", err)
		}
		if o := classify(nil, err, time.Second); o.status != StatusError {
			t.Errorf("lifang would report the schema error as %q (%s), want %q", o.status, o.detail, StatusError)
		}
	case <-ctx.Done():
		t.Fatal("no answer to the malformed SetChargingProfile")
	}
	return wantCall{action: "SetChargingProfile", payload: json.RawMessage(bad), invalid: true}
}

// checkPeerReport checks the peer's lines: the controls, every call it received
// against want, and its verdict on lifang's answers to its own calls.
func checkPeerReport(t *testing.T, got []peerLine, want []wantCall) {
	var controls, calls, confs []peerLine
	for _, l := range got {
		switch l.Type {
		case "control":
			controls = append(controls, l)
		case "call":
			calls = append(calls, l)
		case "conf":
			confs = append(confs, l)
		case "error":
			t.Errorf("peer: %s", l.Message)
		}
	}

	// The validator bites: each bad payload is invalid with a reason, the good one valid.
	invalid := 0
	for _, l := range controls {
		if l.Valid != (l.Expect == "valid") || (!l.Valid && len(l.Errors) == 0) {
			t.Errorf("control %q: valid=%v errors %+v, want %s", l.Name, l.Valid, l.Errors, l.Expect)
		}
		if !l.Valid && len(l.Errors) > 0 {
			invalid++
			t.Logf("control %q: %s %s %s", l.Name, l.Errors[0].Code, l.Errors[0].Path, l.Errors[0].Message)
		}
	}
	if invalid < 5 || len(controls) == invalid {
		t.Errorf("%d controls, %d invalid: want a valid one and at least 5 invalid", len(controls), invalid)
	}

	// Every call lifang sent, in order, reached the peer as sent and was valid.
	if len(calls) != len(want) {
		t.Errorf("the peer received %d calls, want %d", len(calls), len(want))
	}
	for i := range min(len(calls), len(want)) {
		g, w := calls[i], want[i]
		if g.Action != w.action {
			t.Errorf("call %d: %s, want %s", i, g.Action, w.action)
			continue
		}
		if w.payload != nil && !jsonEqual(g.Payload, w.payload) {
			t.Errorf("call %d %s: the peer received\n  %s\nlifang recorded\n  %s", i, g.Action, g.Payload, w.payload)
		}
		switch {
		case w.invalid:
			if g.Valid || len(g.Errors) == 0 || !strings.HasPrefix(g.Answer, "CallError") {
				t.Errorf("call %d %s (negative control): valid=%v errors %+v answer %q, want invalid and a CallError",
					i, g.Action, g.Valid, g.Errors, g.Answer)
			} else {
				t.Logf("negative control %s: %s; peer: %s %s %s", g.Action, g.Answer, g.Errors[0].Keyword, g.Errors[0].Path, g.Errors[0].Message)
			}
		case !g.Valid || len(g.Errors) != 0 || g.Answer != "CallResult":
			t.Errorf("call %d %s: valid=%v errors %+v answer %q\n  payload %s", i, g.Action, g.Valid, g.Errors, g.Answer, g.Payload)
		default:
			t.Logf("valid %s %s", g.Action, g.Payload)
		}
	}

	// lifang's answers to the peer's own calls, the triggered ones included, are valid too.
	wantConfs := []string{"BootNotification", "Heartbeat", "StatusNotification", "StatusNotification", "Authorize",
		"StartTransaction", "StatusNotification", "StatusNotification", "Heartbeat", "MeterValues", "StopTransaction"}
	var gotConfs []string
	for _, l := range confs {
		gotConfs = append(gotConfs, l.Action)
		if !l.Valid || len(l.Errors) != 0 {
			t.Errorf("lifang's answer to %s: valid=%v errors %+v\n  payload %s", l.Action, l.Valid, l.Errors, l.Payload)
		}
	}
	if !reflect.DeepEqual(gotConfs, wantConfs) {
		t.Errorf("the peer got answers to %v, want %v", gotConfs, wantConfs)
	}
}

// checkProfileShape checks the SetChargingProfile lifang sent is of the purpose the
// case is about, so that the schema check covers TxProfile and TxDefaultProfile, W and A.
func checkProfileShape(t *testing.T, name string, req json.RawMessage, purpose string, transaction bool, tx int, phases bool) {
	t.Helper()
	var p struct {
		Profiles struct {
			Purpose       string `json:"chargingProfilePurpose"`
			TransactionID *int   `json:"transactionId"`
			Schedule      struct {
				Periods []struct {
					NumberPhases *int `json:"numberPhases"`
				} `json:"chargingSchedulePeriod"`
			} `json:"chargingSchedule"`
		} `json:"csChargingProfiles"`
	}
	if err := json.Unmarshal(req, &p); err != nil {
		t.Errorf("%s: request %s: %v", name, req, err)
		return
	}
	pr := p.Profiles
	if pr.Purpose != purpose {
		t.Errorf("%s: purpose %q, want %q", name, pr.Purpose, purpose)
	}
	if transaction != (pr.TransactionID != nil) || (transaction && *pr.TransactionID != tx) {
		t.Errorf("%s: transactionId %v, want it %v (transaction %d)", name, pr.TransactionID, transaction, tx)
	}
	if len(pr.Schedule.Periods) != 1 || phases != (pr.Schedule.Periods[0].NumberPhases != nil) {
		t.Errorf("%s: periods %s, want one with numberPhases %v", name, req, phases)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
