package ocpp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocppj"
)

// Defaults of the command settings in Config.
const (
	DefaultRequestTimeout = 10 * time.Second
	DefaultMaxAttempts    = 3
	DefaultRetryBackoff   = 200 * time.Millisecond
)

// Statuses of a CommandResult. Accepted, Rejected, NotSupported and Unknown are the
// charger's answer; the others say why there is none.
const (
	StatusAccepted     = "Accepted"
	StatusRejected     = "Rejected"
	StatusNotSupported = "NotSupported" // the charger answered NotSupported, or a NotImplemented/NotSupported CallError
	StatusUnknown      = "Unknown"      // ClearChargingProfile: no profile matched
	StatusTimeout      = "Timeout"      // no answer to any attempt
	StatusOffline      = "Offline"      // the charge point is not connected
	StatusError        = "Error"        // bad input, a CallError, a lost connection, the central system stopped
)

// CommandResult is the outcome of one command, for the audit trail.
type CommandResult struct {
	Status string // one of the Status* constants
	// Detail is human-readable: what was sent, what came back, the error.
	Detail string
	// Attempts is how many times the command's request was sent: it is resent on a
	// timeout or a transport error only, never on an answer such as Rejected. The
	// GetCompositeSchedule that confirms a limit is not counted (Detail reports it).
	Attempts int
	// Confirmed is, for limits, that GetCompositeSchedule afterwards reported the limit
	// set (within 1 %, or 1 W / 0.1 A).
	Confirmed bool
	// Request is the OCPP request payload as sent (JSON), for the ledger; nil when the
	// input was invalid. An idTag in it is replaced by "sha256:<hex>".
	Request json.RawMessage
}

// reply is what became of one request of a command, sent and resent until answered.
type reply struct {
	resp     ocpp.Response
	status   string // "" when resp is the charger's answer
	detail   string
	attempts int
}

// outcome is what became of one attempt.
type outcome struct {
	kind   outcomeKind
	resp   ocpp.Response
	status string // for kindFinal and kindAbort
	detail string
}

type outcomeKind int

const (
	kindAnswer    outcomeKind = iota
	kindFinal                 // an answer that is not a confirmation: no retry
	kindTimeout               // no answer in time: retry
	kindTransport             // the connection failed: retry
	kindOffline               // not connected: retry (it may reconnect)
	kindAbort                 // ctx ended or the central system stopped: give up
)

// turn is a command holding its charge point's turn (pointState.turn).
type turn struct {
	c  *CentralSystem
	cp string
	p  *pointState
	// pending is closed when ocpp-go is done with the last request sent (answered,
	// timed out or the connection dropped); nil before the first.
	pending chan struct{}
}

// begin checks that a command can go to cp now and takes the charge point's turn; when
// it cannot, it returns the result to give.
func (c *CentralSystem) begin(ctx context.Context, cp string) (*turn, string, string) {
	if c.cs == nil || c.ctx == nil {
		return nil, StatusError, "central system not started"
	}
	if c.ctx.Err() != nil {
		return nil, StatusError, "central system stopped"
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxStatus(err), "context: " + err.Error()
	}
	c.smu.Lock()
	p := c.points[cp]
	online := p != nil && p.online
	c.smu.Unlock()
	if !online {
		return nil, StatusOffline, fmt.Sprintf("charge point %q is not connected", cp)
	}
	select {
	case p.turn <- struct{}{}:
		return &turn{c: c, cp: cp, p: p}, "", ""
	case <-ctx.Done():
		return nil, ctxStatus(ctx.Err()), "waiting for the command in progress on " + cp + ": " + ctx.Err().Error()
	case <-c.ctx.Done():
		return nil, StatusError, "central system stopped"
	}
}

// end gives the turn back once ocpp-go is done with the last request, so that the next
// command's request is sent at once rather than queued behind it.
func (t *turn) end() {
	if t.pending == nil || closed(t.pending) {
		<-t.p.turn
		return
	}
	go func() {
		t.settle(context.Background())
		<-t.p.turn
	}()
}

// settle waits until ocpp-go is done with the last request: it always is within the
// request timeout, so the bound here only guards against it never calling back.
func (t *turn) settle(ctx context.Context) bool {
	if t.pending == nil {
		return true
	}
	timer := time.NewTimer(t.c.cfg.RequestTimeout + grace(t.c.cfg.RequestTimeout))
	defer timer.Stop()
	select {
	case <-t.pending:
		return true
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-t.c.ctx.Done():
		return false
	}
}

// grace is how long past the request timeout we wait for ocpp-go's own timeout.
func grace(timeout time.Duration) time.Duration { return timeout/2 + time.Second }

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// call sends req and resends it on a timeout or transport failure, with exponential
// backoff, up to Config.MaxAttempts times and as long as ctx allows.
func (t *turn) call(ctx context.Context, req ocpp.Request) reply {
	c := t.c
	var r reply
	backoff := c.cfg.RetryBackoff
	for attempt := 1; attempt <= c.cfg.MaxAttempts; attempt++ {
		if attempt > 1 {
			if !sleep(ctx, c.ctx, backoff) {
				r.detail += fmt.Sprintf("; no time left in the context for attempt %d", attempt)
				return r
			}
			backoff *= 2
		}
		if !t.settle(ctx) {
			return abort(r, ctx, c.ctx)
		}
		if !c.Online(t.cp) {
			// Dropped during the command: later attempts give it time to reconnect.
			r.status, r.detail = StatusOffline, fmt.Sprintf("charge point %q is not connected", t.cp)
			continue
		}
		o, sent := t.send(ctx, req)
		if sent {
			r.attempts++
		}
		switch o.kind {
		case kindAnswer:
			r.resp, r.status, r.detail = o.resp, "", ""
			return r
		case kindFinal, kindAbort:
			r.status, r.detail = o.status, o.detail
			return r
		case kindTimeout:
			r.status, r.detail = StatusTimeout, o.detail
		case kindTransport:
			r.status, r.detail = StatusError, o.detail
		case kindOffline:
			r.status, r.detail = StatusOffline, o.detail
		}
		c.log.Warn("command request failed", "charge_point", t.cp, "action", req.GetFeatureName(),
			"attempt", attempt, "status", r.status, "detail", r.detail)
	}
	r.detail += fmt.Sprintf(" (%d attempts)", r.attempts)
	return r
}

func abort(r reply, ctx, stop context.Context) reply {
	if ctx.Err() != nil {
		r.status, r.detail = ctxStatus(ctx.Err()), "context: "+ctx.Err().Error()
	} else if stop.Err() != nil {
		r.status, r.detail = StatusError, "central system stopped"
	}
	return r
}

// sleep waits d, or returns false when ctx or stop ends first, or when ctx's deadline
// comes before d is over (there would be no time for the attempt).
func sleep(ctx, stop context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= d {
		return false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop.Done():
		return false
	}
}

func ctxStatus(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return StatusTimeout
	}
	return StatusError
}

// send makes one attempt; sent is false when the request never left.
func (t *turn) send(ctx context.Context, req ocpp.Request) (o outcome, sent bool) {
	c := t.c
	done := make(chan outcome, 1)
	pending := make(chan struct{})
	var once sync.Once
	err := c.cs.SendRequestAsync(t.cp, req, func(resp ocpp.Response, err error) {
		once.Do(func() {
			done <- classify(resp, err, c.cfg.RequestTimeout)
			close(pending)
		})
	})
	if err != nil {
		// ocpp-go forgets a charger before our disconnect handler runs; any other
		// refusal (validation, an unsupported feature) is final.
		if strings.Contains(err.Error(), "no client") || !c.Online(t.cp) {
			return outcome{kind: kindOffline, detail: "not sent, charge point not connected: " + err.Error()}, false
		}
		return outcome{kind: kindFinal, status: StatusError, detail: "not sent: " + err.Error()}, false
	}
	t.pending = pending
	timer := time.NewTimer(c.cfg.RequestTimeout + grace(c.cfg.RequestTimeout))
	defer timer.Stop()
	select {
	case o := <-done:
		return o, true
	case <-timer.C:
		return outcome{kind: kindTimeout, detail: fmt.Sprintf("no answer in %v", c.cfg.RequestTimeout)}, true
	case <-ctx.Done():
		return outcome{kind: kindAbort, status: ctxStatus(ctx.Err()), detail: "context: " + ctx.Err().Error()}, true
	case <-c.ctx.Done():
		return outcome{kind: kindAbort, status: StatusError, detail: "central system stopped"}, true
	}
}

// ocpp-go reports its own timeouts and lost connections as GenericError CallErrors,
// told from a charger's only by their description (ocppj/dispatcher.go,
// ocpp1.6/central_system.go of v0.19).
const (
	ocppGoTimeout    = "Request timed out"
	ocppGoDisconnect = "client disconnected"
)

func classify(resp ocpp.Response, err error, timeout time.Duration) outcome {
	if err == nil {
		if resp == nil || reflect.ValueOf(resp).IsNil() {
			return outcome{kind: kindFinal, status: StatusError, detail: "empty answer"}
		}
		return outcome{kind: kindAnswer, resp: resp}
	}
	var oe *ocpp.Error
	if !errors.As(err, &oe) {
		return outcome{kind: kindTransport, detail: err.Error()}
	}
	callErr := fmt.Sprintf("CallError %s: %s", oe.Code, oe.Description)
	switch {
	case oe.Code == ocppj.GenericError && oe.Description == ocppGoTimeout:
		return outcome{kind: kindTimeout, detail: fmt.Sprintf("no answer in %v", timeout)}
	case oe.Code == ocppj.GenericError && strings.HasPrefix(oe.Description, ocppGoDisconnect):
		return outcome{kind: kindTransport, detail: "connection lost before the answer"}
	case oe.Code == ocppj.InternalError:
		// A failed write, or the charger's own internal error: both may pass.
		return outcome{kind: kindTransport, detail: callErr}
	case oe.Code == ocppj.NotImplemented || oe.Code == ocppj.NotSupported:
		return outcome{kind: kindFinal, status: StatusNotSupported, detail: callErr}
	default:
		return outcome{kind: kindFinal, status: StatusError, detail: callErr}
	}
}

// marshalRequest is the payload for CommandResult.Request.
func marshalRequest(req ocpp.Request) json.RawMessage {
	b, err := json.Marshal(req)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	return b
}

// finish logs a command's result and returns it.
func (c *CentralSystem) finish(cp, action string, res CommandResult) CommandResult {
	level := c.log.Info
	if res.Status != StatusAccepted {
		level = c.log.Warn
	}
	level("command", "charge_point", cp, "action", action, "status", res.Status, "attempts", res.Attempts,
		"confirmed", res.Confirmed, "detail", res.Detail)
	return res
}

// invalid is the result of a command refused before anything was sent.
func (c *CentralSystem) invalid(cp, action string, err error) CommandResult {
	return c.finish(cp, action, CommandResult{Status: StatusError, Detail: action + ": " + err.Error()})
}

// simple runs a command of one request whose answer has a status field, mapping it
// with statuses (answers not listed become StatusError); then, when not nil, runs on
// the same turn after an Accepted answer (SetLimit's confirmation).
func (c *CentralSystem) simple(ctx context.Context, cp, what string, req ocpp.Request, logged json.RawMessage,
	status func(ocpp.Response) (string, bool), then func(t *turn, res *CommandResult)) CommandResult {
	action := req.GetFeatureName()
	res := CommandResult{Request: logged}
	t, st, detail := c.begin(ctx, cp)
	if t == nil {
		res.Status, res.Detail = st, what+": "+detail
		return c.finish(cp, action, res)
	}
	defer t.end()
	r := t.call(ctx, req)
	res.Attempts = r.attempts
	if r.status != "" {
		res.Status, res.Detail = r.status, what+": "+r.detail
		return c.finish(cp, action, res)
	}
	s, ok := status(r.resp)
	if !ok {
		res.Status, res.Detail = StatusError, fmt.Sprintf("%s: unexpected answer %T %+v", what, r.resp, r.resp)
		return c.finish(cp, action, res)
	}
	res.Status = mapStatus(s)
	res.Detail = what + ": " + s
	if then != nil && res.Status == StatusAccepted {
		then(t, &res)
	}
	return c.finish(cp, action, res)
}

// mapStatus maps a charger's answer onto the CommandResult statuses.
func mapStatus(s string) string {
	switch s {
	case StatusAccepted, StatusRejected, StatusNotSupported, StatusUnknown:
		return s
	case "NotImplemented": // TriggerMessage
		return StatusNotSupported
	default:
		return StatusError
	}
}
