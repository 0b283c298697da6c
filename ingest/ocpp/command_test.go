package ocpp

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ocppj"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// scripted is the handler of an ocpp-go charge point whose answers the test writes; it
// records every request the central system sent.
type scripted struct {
	mu     sync.Mutex
	got    []ocpp.Request
	answer func(ocpp.Request) (ocpp.Response, error)
}

func (s *scripted) requests() []ocpp.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ocpp.Request(nil), s.got...)
}

func answerWith[T ocpp.Response](s *scripted, req ocpp.Request) (T, error) {
	s.mu.Lock()
	s.got = append(s.got, req)
	answer := s.answer
	s.mu.Unlock()
	var zero T
	resp, err := answer(req)
	if err != nil {
		return zero, err
	}
	return resp.(T), nil
}

func (s *scripted) OnSetChargingProfile(r *smartcharging.SetChargingProfileRequest) (*smartcharging.SetChargingProfileConfirmation, error) {
	return answerWith[*smartcharging.SetChargingProfileConfirmation](s, r)
}
func (s *scripted) OnClearChargingProfile(r *smartcharging.ClearChargingProfileRequest) (*smartcharging.ClearChargingProfileConfirmation, error) {
	return answerWith[*smartcharging.ClearChargingProfileConfirmation](s, r)
}
func (s *scripted) OnGetCompositeSchedule(r *smartcharging.GetCompositeScheduleRequest) (*smartcharging.GetCompositeScheduleConfirmation, error) {
	return answerWith[*smartcharging.GetCompositeScheduleConfirmation](s, r)
}
func (s *scripted) OnChangeAvailability(r *core.ChangeAvailabilityRequest) (*core.ChangeAvailabilityConfirmation, error) {
	return answerWith[*core.ChangeAvailabilityConfirmation](s, r)
}
func (s *scripted) OnChangeConfiguration(r *core.ChangeConfigurationRequest) (*core.ChangeConfigurationConfirmation, error) {
	return answerWith[*core.ChangeConfigurationConfirmation](s, r)
}
func (s *scripted) OnClearCache(r *core.ClearCacheRequest) (*core.ClearCacheConfirmation, error) {
	return answerWith[*core.ClearCacheConfirmation](s, r)
}
func (s *scripted) OnDataTransfer(r *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	return answerWith[*core.DataTransferConfirmation](s, r)
}
func (s *scripted) OnGetConfiguration(r *core.GetConfigurationRequest) (*core.GetConfigurationConfirmation, error) {
	return answerWith[*core.GetConfigurationConfirmation](s, r)
}
func (s *scripted) OnRemoteStartTransaction(r *core.RemoteStartTransactionRequest) (*core.RemoteStartTransactionConfirmation, error) {
	return answerWith[*core.RemoteStartTransactionConfirmation](s, r)
}
func (s *scripted) OnRemoteStopTransaction(r *core.RemoteStopTransactionRequest) (*core.RemoteStopTransactionConfirmation, error) {
	return answerWith[*core.RemoteStopTransactionConfirmation](s, r)
}
func (s *scripted) OnReset(r *core.ResetRequest) (*core.ResetConfirmation, error) {
	return answerWith[*core.ResetConfirmation](s, r)
}
func (s *scripted) OnUnlockConnector(r *core.UnlockConnectorRequest) (*core.UnlockConnectorConfirmation, error) {
	return answerWith[*core.UnlockConnectorConfirmation](s, r)
}
func (s *scripted) OnTriggerMessage(r *remotetrigger.TriggerMessageRequest) (*remotetrigger.TriggerMessageConfirmation, error) {
	return answerWith[*remotetrigger.TriggerMessageConfirmation](s, r)
}

// connectScripted connects an ocpp-go charge point speaking Core, SmartCharging and
// RemoteTrigger (only Core when smart is false) that answers with answer, and waits
// until the central system has it online.
// Stop of the charge point returned may be called twice (ocpp-go's panics).
func connectScripted(t *testing.T, cs *CentralSystem, id string, smart bool, answer func(ocpp.Request) (ocpp.Response, error)) (ocpp16.ChargePoint, *scripted) {
	t.Helper()
	client := ws.NewClient()
	dispatcher := ocppj.NewDefaultClientDispatcher(ocppj.NewFIFOClientQueue(0))
	dispatcher.SetTimeout(callTimeout)
	profiles := []*ocpp.Profile{core.Profile}
	if smart {
		profiles = append(profiles, smartcharging.Profile, remotetrigger.Profile)
	}
	endpoint := ocppj.NewClient(id, client, dispatcher, nil, profiles...)
	cp := ocpp16.NewChargePoint(id, endpoint, client)
	h := &scripted{answer: answer}
	cp.SetCoreHandler(h)
	if smart {
		cp.SetSmartChargingHandler(h)
		cp.SetRemoteTriggerHandler(h)
	}
	if err := cp.Start("ws://" + cs.Addr()); err != nil {
		t.Fatalf("charger %s: %v", id, err)
	}
	once := &stopOnce{ChargePoint: cp}
	t.Cleanup(once.Stop)
	waitFor(t, id+" online", func() bool { return cs.Online(id) })
	return once, h
}

type stopOnce struct {
	ocpp16.ChargePoint
	once sync.Once
}

func (s *stopOnce) Stop() { s.once.Do(s.ChargePoint.Stop) }

// connectSilent connects a websocket client that takes every call and never answers.
func connectSilent(t *testing.T, cs *CentralSystem, id string) {
	t.Helper()
	client := ws.NewClient()
	client.SetRequestedSubProtocol(types.V16Subprotocol)
	client.SetMessageHandler(func([]byte) error { return nil })
	if err := client.Start("ws://" + cs.Addr() + "/" + id); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Stop)
	waitFor(t, id+" online", func() bool { return cs.Online(id) })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// simulated is a controller clock far from wall time: schedules must use it.
var simulated = time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC)

// compositeOf answers GetCompositeSchedule with one period of limit in the asked unit.
func compositeOf(req *smartcharging.GetCompositeScheduleRequest, start time.Time, limit float64) *smartcharging.GetCompositeScheduleConfirmation {
	conf := smartcharging.NewGetCompositeScheduleConfirmation(smartcharging.GetCompositeScheduleStatusAccepted)
	conn := req.ConnectorId
	sched := types.NewChargingSchedule(req.ChargingRateUnit, types.NewChargingSchedulePeriod(0, limit))
	d := req.Duration
	sched.Duration = &d
	conf.ConnectorId, conf.ScheduleStart, conf.ChargingSchedule = &conn, types.NewDateTime(start), sched
	return conf
}

// SetLimit sends a TxDefaultProfile without a transaction and a TxProfile with one,
// with the ids, stack level, kind, start, unit and phases the contract names, then
// confirms with GetCompositeSchedule.
func TestSetLimitProfiles(t *testing.T) {
	cs := startCentralSystem(t, Config{}, &fakeSink{})
	var applied float64 // what the scripted charger reports in force
	var mu sync.Mutex
	cp, h := connectScripted(t, cs, "CPL", true, func(req ocpp.Request) (ocpp.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		switch r := req.(type) {
		case *smartcharging.SetChargingProfileRequest:
			applied = r.ChargingProfile.ChargingSchedule.ChargingSchedulePeriod[0].Limit
			return smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusAccepted), nil
		case *smartcharging.GetCompositeScheduleRequest:
			return compositeOf(r, simulated, applied), nil
		}
		return nil, ocpp.NewError(ocppj.NotSupported, "no", "")
	})
	if _, err := cp.StatusNotification(1, core.NoError, core.ChargePointStatusAvailable); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := simulated.Add(1500 * time.Millisecond) // sent with whole seconds

	res := cs.SetLimit(ctx, "CPL", 1, at, Limit{Value: 7000, Unit: "W"})
	if res.Status != StatusAccepted || !res.Confirmed || res.Attempts != 1 {
		t.Fatalf("SetLimit without a transaction: %+v", res)
	}
	reqs := h.requests()
	if len(reqs) != 2 {
		t.Fatalf("requests %+v, want SetChargingProfile and GetCompositeSchedule", reqs)
	}
	set := reqs[0].(*smartcharging.SetChargingProfileRequest)
	p := set.ChargingProfile
	s := p.ChargingSchedule
	if set.ConnectorId != 1 || p.ChargingProfilePurpose != types.ChargingProfilePurposeTxDefaultProfile ||
		p.ChargingProfileId != ProfileID(1, types.ChargingProfilePurposeTxDefaultProfile) || p.TransactionId != 0 ||
		p.StackLevel != LimitStackLevel || p.ChargingProfileKind != types.ChargingProfileKindAbsolute ||
		s.StartSchedule == nil || !s.StartSchedule.Equal(simulated.Add(time.Second)) || s.ChargingRateUnit != "W" ||
		len(s.ChargingSchedulePeriod) != 1 || s.ChargingSchedulePeriod[0].StartPeriod != 0 ||
		s.ChargingSchedulePeriod[0].Limit != 7000 || s.ChargingSchedulePeriod[0].NumberPhases != nil {
		t.Errorf("TxDefaultProfile request: %+v, schedule %+v", p, s)
	}
	if get := reqs[1].(*smartcharging.GetCompositeScheduleRequest); get.ConnectorId != 1 || get.Duration != CompositeDurationS || get.ChargingRateUnit != "W" {
		t.Errorf("GetCompositeSchedule request: %+v", get)
	}
	var sent map[string]any
	if err := json.Unmarshal(res.Request, &sent); err != nil || sent["csChargingProfiles"] == nil {
		t.Errorf("Request %s: %v", res.Request, err)
	}
	if !strings.Contains(string(res.Request), `"startSchedule":"2031-06-01T10:00:01Z"`) {
		t.Errorf("Request does not carry the controller's time: %s", res.Request)
	}

	start, err := cp.StartTransaction(1, "TAG", 0, types.NewDateTime(simulated))
	if err != nil {
		t.Fatal(err)
	}
	res = cs.SetLimit(ctx, "CPL", 1, at, Limit{Value: 16, Unit: "A", Phases: 3})
	if res.Status != StatusAccepted || !res.Confirmed {
		t.Fatalf("SetLimit in a transaction: %+v", res)
	}
	reqs = h.requests()
	p = reqs[2].(*smartcharging.SetChargingProfileRequest).ChargingProfile
	s = p.ChargingSchedule
	if p.ChargingProfilePurpose != types.ChargingProfilePurposeTxProfile || p.TransactionId != start.TransactionId ||
		p.ChargingProfileId != ProfileID(1, types.ChargingProfilePurposeTxProfile) || s.ChargingRateUnit != "A" ||
		s.ChargingSchedulePeriod[0].NumberPhases == nil || *s.ChargingSchedulePeriod[0].NumberPhases != 3 {
		t.Errorf("TxProfile request: %+v, schedule %+v", p, s)
	}
	// The same connector and purpose give the same id: the next limit replaces this one.
	if ProfileID(1, types.ChargingProfilePurposeTxProfile) == ProfileID(1, types.ChargingProfilePurposeTxDefaultProfile) ||
		ProfileID(1, types.ChargingProfilePurposeTxProfile) == ProfileID(2, types.ChargingProfilePurposeTxProfile) {
		t.Error("profile ids collide")
	}

	// A charger that applies less than asked (its own cap) answers Accepted, unconfirmed.
	h.mu.Lock()
	h.answer = func(req ocpp.Request) (ocpp.Response, error) {
		switch r := req.(type) {
		case *smartcharging.SetChargingProfileRequest:
			return smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusAccepted), nil
		case *smartcharging.GetCompositeScheduleRequest:
			return compositeOf(r, simulated, 32), nil
		}
		return nil, ocpp.NewError(ocppj.NotSupported, "no", "")
	}
	h.mu.Unlock()
	res = cs.SetLimit(ctx, "CPL", 1, at, Limit{Value: 40, Unit: "A", Phases: 3})
	if res.Status != StatusAccepted || res.Confirmed || !strings.Contains(res.Detail, "32 A in force") {
		t.Errorf("capped limit: %+v", res)
	}
}

// Answers map onto statuses; an answer is never retried.
func TestCommandAnswers(t *testing.T) {
	cs := startCentralSystem(t, Config{}, &fakeSink{})
	var answer ocpp.Response
	var mu sync.Mutex
	_, h := connectScripted(t, cs, "CPA", true, func(ocpp.Request) (ocpp.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		return answer, nil
	})
	set := func(r ocpp.Response) {
		mu.Lock()
		answer = r
		mu.Unlock()
	}
	ctx := context.Background()
	tests := []struct {
		name   string
		answer ocpp.Response
		run    func() CommandResult
		want   string
	}{
		{"limit rejected", smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusRejected),
			func() CommandResult { return cs.SetLimit(ctx, "CPA", 1, simulated, Limit{Value: 1000, Unit: "W"}) }, StatusRejected},
		{"limit not supported", smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusNotSupported),
			func() CommandResult { return cs.SetLimit(ctx, "CPA", 1, simulated, Limit{Value: 1000, Unit: "W"}) }, StatusNotSupported},
		{"clear accepted", smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusAccepted),
			func() CommandResult { return cs.ClearLimit(ctx, "CPA", 1) }, StatusAccepted},
		{"clear unknown", smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusUnknown),
			func() CommandResult { return cs.ClearLimit(ctx, "CPA", 1) }, StatusUnknown},
		{"remote start", core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted),
			func() CommandResult { return cs.RemoteStart(ctx, "CPA", 1, "DRIVER01") }, StatusAccepted},
		{"remote stop rejected", core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusRejected),
			func() CommandResult { return cs.RemoteStop(ctx, "CPA", 12) }, StatusRejected},
		{"trigger not implemented", remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusNotImplemented),
			func() CommandResult { return cs.Trigger(ctx, "CPA", 1, "FirmwareStatusNotification") }, StatusNotSupported},
	}
	for _, tt := range tests {
		set(tt.answer)
		before := len(h.requests())
		res := tt.run()
		if res.Status != tt.want || res.Attempts != 1 || res.Confirmed || len(res.Request) == 0 || res.Detail == "" {
			t.Errorf("%s: %+v, want %s after 1 attempt", tt.name, res, tt.want)
		}
		if n := len(h.requests()) - before; n != 1 {
			t.Errorf("%s: %d requests sent, want 1", tt.name, n)
		}
	}
	// ClearLimit names the connector and lifang's stack level.
	reqs := h.requests()
	clear := reqs[2].(*smartcharging.ClearChargingProfileRequest)
	if clear.ConnectorId == nil || *clear.ConnectorId != 1 || clear.StackLevel == nil || *clear.StackLevel != LimitStackLevel ||
		clear.Id != nil || clear.ChargingProfilePurpose != "" {
		t.Errorf("ClearChargingProfile %+v", clear)
	}
	// The idTag reaches the charger, but not the ledger.
	if start := reqs[4].(*core.RemoteStartTransactionRequest); start.IdTag != "DRIVER01" || *start.ConnectorId != 1 {
		t.Errorf("RemoteStartTransaction %+v", start)
	}
}

func TestRemoteStartRequestHidesIDTag(t *testing.T) {
	cs := startCentralSystem(t, Config{}, &fakeSink{})
	connectScripted(t, cs, "CPR", true, func(ocpp.Request) (ocpp.Response, error) {
		return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
	})
	res := cs.RemoteStart(context.Background(), "CPR", 0, "DRIVER01")
	if res.Status != StatusAccepted {
		t.Fatalf("%+v", res)
	}
	if strings.Contains(string(res.Request), "DRIVER01") || strings.Contains(res.Detail, "DRIVER01") ||
		!strings.Contains(string(res.Request), sha256Hex("DRIVER01")) || strings.Contains(string(res.Request), "connectorId") {
		t.Errorf("request %s, detail %q", res.Request, res.Detail)
	}
}

// A CallError NotSupported (a charger without the SmartCharging profile) is final.
func TestCommandCallError(t *testing.T) {
	cs := startCentralSystem(t, Config{}, &fakeSink{})
	connectScripted(t, cs, "CPN", false, nil)
	res := cs.SetLimit(context.Background(), "CPN", 1, simulated, Limit{Value: 1000, Unit: "W"})
	if res.Status != StatusNotSupported || res.Attempts != 1 {
		t.Errorf("%+v", res)
	}
}

func TestCommandInvalidInput(t *testing.T) {
	cs := startCentralSystem(t, Config{}, &fakeSink{})
	_, h := connectScripted(t, cs, "CPI", true, func(ocpp.Request) (ocpp.Response, error) {
		return nil, ocpp.NewError(ocppj.GenericError, "should not be called", "")
	})
	ctx := context.Background()
	for name, run := range map[string]func() CommandResult{
		"connector 0": func() CommandResult { return cs.SetLimit(ctx, "CPI", 0, simulated, Limit{Value: 1, Unit: "W"}) },
		"negative":    func() CommandResult { return cs.SetLimit(ctx, "CPI", 1, simulated, Limit{Value: -1, Unit: "W"}) },
		"NaN": func() CommandResult {
			return cs.SetLimit(ctx, "CPI", 1, simulated, Limit{Value: math.NaN(), Unit: "W"})
		},
		"Inf": func() CommandResult {
			return cs.SetLimit(ctx, "CPI", 1, simulated, Limit{Value: math.Inf(1), Unit: "W"})
		},
		"unit":     func() CommandResult { return cs.SetLimit(ctx, "CPI", 1, simulated, Limit{Value: 1, Unit: "kW"}) },
		"phases A": func() CommandResult { return cs.SetLimit(ctx, "CPI", 1, simulated, Limit{Value: 16, Unit: "A"}) },
		"phases 2": func() CommandResult {
			return cs.SetLimit(ctx, "CPI", 1, simulated, Limit{Value: 16, Unit: "A", Phases: 2})
		},
		"zero time":       func() CommandResult { return cs.SetLimit(ctx, "CPI", 1, time.Time{}, Limit{Value: 1, Unit: "W"}) },
		"clear 0":         func() CommandResult { return cs.ClearLimit(ctx, "CPI", 0) },
		"empty tag":       func() CommandResult { return cs.RemoteStart(ctx, "CPI", 1, "") },
		"long tag":        func() CommandResult { return cs.RemoteStart(ctx, "CPI", 1, strings.Repeat("x", 21)) },
		"start conn -1":   func() CommandResult { return cs.RemoteStart(ctx, "CPI", -1, "T") },
		"stop 0":          func() CommandResult { return cs.RemoteStop(ctx, "CPI", 0) },
		"trigger bogus":   func() CommandResult { return cs.Trigger(ctx, "CPI", 0, "Bogus") },
		"trigger conn -1": func() CommandResult { return cs.Trigger(ctx, "CPI", -1, "Heartbeat") },
	} {
		res := run()
		if res.Status != StatusError || res.Attempts != 0 || res.Detail == "" || res.Request != nil {
			t.Errorf("%s: %+v", name, res)
		}
	}
	if n := len(h.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
	if res := NewCentralSystem(Config{}, &fakeSink{}, nil).SetLimit(ctx, "X", 1, simulated, Limit{Value: 1, Unit: "W"}); res.Status != StatusError {
		t.Errorf("before Start: %+v", res)
	}
}

// A charge point that is not connected gives Offline at once, without waiting.
func TestCommandOffline(t *testing.T) {
	cs := startCentralSystem(t, Config{RequestTimeout: 5 * time.Second}, &fakeSink{})
	ctx := context.Background()
	begin := time.Now()
	if res := cs.SetLimit(ctx, "NEVER", 1, simulated, Limit{Value: 1000, Unit: "W"}); res.Status != StatusOffline || res.Attempts != 0 {
		t.Errorf("unknown charge point: %+v", res)
	}
	cp, _ := connectScripted(t, cs, "CPO", true, nil)
	if _, err := cp.StatusNotification(1, core.NoError, core.ChargePointStatusAvailable); err != nil {
		t.Fatal(err)
	}
	cp.Stop()
	waitFor(t, "CPO offline", func() bool { return !cs.Online("CPO") })
	for name, res := range map[string]CommandResult{
		"limit":   cs.SetLimit(ctx, "CPO", 1, simulated, Limit{Value: 1000, Unit: "W"}),
		"clear":   cs.ClearLimit(ctx, "CPO", 1),
		"start":   cs.RemoteStart(ctx, "CPO", 1, "T"),
		"stop":    cs.RemoteStop(ctx, "CPO", 1),
		"trigger": cs.Trigger(ctx, "CPO", 0, "Heartbeat"),
	} {
		if res.Status != StatusOffline || res.Attempts != 0 {
			t.Errorf("%s: %+v", name, res)
		}
	}
	if st, ok := cs.Connector("CPO", 1); !ok || st.Online || st.LastSeen.IsZero() {
		t.Errorf("state after disconnect: %+v, %v", st, ok)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("offline commands took %v", d)
	}
}

// A charge point that never answers: every attempt times out, with backoff between.
func TestCommandTimeout(t *testing.T) {
	cfg := Config{RequestTimeout: 150 * time.Millisecond, MaxAttempts: 3, RetryBackoff: 50 * time.Millisecond}
	cs := startCentralSystem(t, cfg, &fakeSink{})
	connectSilent(t, cs, "MUTE")
	ctx := context.Background()
	begin := time.Now()
	res := cs.SetLimit(ctx, "MUTE", 1, simulated, Limit{Value: 1000, Unit: "W"})
	elapsed := time.Since(begin)
	if res.Status != StatusTimeout || res.Attempts != 3 || res.Confirmed || len(res.Request) == 0 {
		t.Fatalf("%+v", res)
	}
	if min := 3*cfg.RequestTimeout + 50*time.Millisecond + 100*time.Millisecond; elapsed < min {
		t.Errorf("done in %v, less than 3 timeouts and the backoff (%v)", elapsed, min)
	}
	// The next command is not stuck behind the first.
	if res := cs.RemoteStop(ctx, "MUTE", 1); res.Status != StatusTimeout || res.Attempts != 3 {
		t.Errorf("second command: %+v", res)
	}
	// A context that allows one attempt only.
	short, cancel := context.WithTimeout(ctx, 180*time.Millisecond)
	defer cancel()
	if res := cs.ClearLimit(short, "MUTE", 1); res.Status != StatusTimeout || res.Attempts != 1 {
		t.Errorf("short context: %+v", res)
	}
	// A cancelled context is an error, not a timeout.
	gone, cancel2 := context.WithCancel(ctx)
	cancel2()
	if res := cs.ClearLimit(gone, "MUTE", 1); res.Status != StatusError {
		t.Errorf("cancelled context: %+v", res)
	}
}

// Commands to one charge point from many goroutines are serialised; none is lost.
func TestConcurrentCommands(t *testing.T) {
	cs := startCentralSystem(t, Config{}, &fakeSink{})
	_, h := connectScripted(t, cs, "CPC", true, func(ocpp.Request) (ocpp.Response, error) {
		return smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusAccepted), nil
	})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := cs.ClearLimit(context.Background(), "CPC", 1+i%2); res.Status != StatusAccepted {
				t.Errorf("command %d: %+v", i, res)
			}
		}()
	}
	wg.Wait()
	if n := len(h.requests()); n != 8 {
		t.Errorf("%d requests, want 8", n)
	}
}

func TestCompositeAt(t *testing.T) {
	start := simulated
	d := 600
	conf := &smartcharging.GetCompositeScheduleConfirmation{
		Status:        smartcharging.GetCompositeScheduleStatusAccepted,
		ScheduleStart: types.NewDateTime(start),
		ChargingSchedule: &types.ChargingSchedule{Duration: &d, ChargingRateUnit: "W", ChargingSchedulePeriod: []types.ChargingSchedulePeriod{
			{StartPeriod: 0, Limit: 11000}, {StartPeriod: 60, Limit: 7000}, {StartPeriod: 300, Limit: 0},
		}},
	}
	for _, tt := range []struct {
		at   time.Time
		want float64
		err  bool
	}{
		{start.Add(-time.Hour), 11000, false}, // our clock behind the charger's
		{start, 11000, false},
		{start.Add(59 * time.Second), 11000, false},
		{start.Add(60 * time.Second), 7000, false},
		{start.Add(299*time.Second + 900*time.Millisecond), 7000, false},
		{start.Add(300 * time.Second), 0, false},
		{start.Add(600 * time.Second), 0, true},
	} {
		got, unit, err := compositeAt(conf, tt.at)
		if (err != nil) != tt.err || (err == nil && (got != tt.want || unit != "W")) {
			t.Errorf("at %v: %v %s %v, want %v", tt.at.Sub(start), got, unit, err, tt.want)
		}
	}
	if _, _, err := compositeAt(&smartcharging.GetCompositeScheduleConfirmation{}, start); err == nil {
		t.Error("no schedule: no error")
	}
}
