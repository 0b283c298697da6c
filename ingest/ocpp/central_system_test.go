package ocpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ocppj"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
)

// A charging session from boot to stop, over a real WebSocket: what the sink gets is
// checked input by input.
func TestChargingSession(t *testing.T) {
	sink := &fakeSink{}
	cs := startCentralSystem(t, Config{HeartbeatInterval: 60}, sink)
	cp := connectCharger(t, cs, "CP1")
	const idTag = "04A1B2C3D4"
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	at := func(min int) *types.DateTime { return types.NewDateTime(t0.Add(time.Duration(min) * time.Minute)) }

	boot, err := cp.BootNotification("Wallbox-7", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if boot.Status != core.RegistrationStatusAccepted || boot.Interval != 60 {
		t.Errorf("boot: %+v", boot)
	}
	if _, err := cp.Heartbeat(); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.StatusNotification(1, core.NoError, core.ChargePointStatusPreparing); err != nil {
		t.Fatal(err)
	}
	auth, err := cp.Authorize(idTag)
	if err != nil {
		t.Fatal(err)
	}
	if auth.IdTagInfo.Status != types.AuthorizationStatusAccepted {
		t.Errorf("authorize: %v", auth.IdTagInfo.Status)
	}
	if n := len(sink.got()); n != 0 {
		t.Fatalf("boot, heartbeat, status and authorize ingested %d inputs, want none", n)
	}

	start, err := cp.StartTransaction(1, idTag, 1000, at(0))
	if err != nil {
		t.Fatal(err)
	}
	if start.TransactionId <= 0 || start.IdTagInfo.Status != types.AuthorizationStatusAccepted {
		t.Fatalf("start: id %d, %+v", start.TransactionId, start.IdTagInfo)
	}
	tx := start.TransactionId
	energy := func(wh string) types.SampledValue {
		return types.SampledValue{Value: wh, Measurand: types.MeasurandEnergyActiveImportRegister, Unit: types.UnitOfMeasureWh}
	}
	samples := []types.MeterValue{
		{Timestamp: at(10), SampledValue: []types.SampledValue{energy("1500")}},
		{Timestamp: at(20), SampledValue: []types.SampledValue{
			energy("2200"),
			{Value: "7.2", Measurand: types.MeasurandPowerActiveImport, Unit: types.UnitOfMeasureKW},
		}},
		// No measurand and no unit: Energy.Active.Import.Register in Wh (OCPP defaults).
		{Timestamp: at(30), SampledValue: []types.SampledValue{{Value: "3100"}}},
	}
	for _, mv := range samples {
		if _, err := cp.MeterValues(1, []types.MeterValue{mv}, func(r *core.MeterValuesRequest) { r.TransactionId = &tx }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cp.StopTransaction(3600, at(40), tx, func(r *core.StopTransactionRequest) {
		r.IdTag = idTag
		r.Reason = core.ReasonEVDisconnected
		r.TransactionData = []types.MeterValue{{Timestamp: at(40), SampledValue: []types.SampledValue{
			{Value: "3600", Context: types.ReadingContextTransactionEnd},
		}}}
	}); err != nil {
		t.Fatal(err)
	}

	got := sink.got()
	if len(got) != 5 {
		t.Fatalf("%d inputs, want 5 (start, 3 meter values, stop): %+v", len(got), got)
	}
	for i, in := range got {
		if in.Source != "ocpp:CP1" {
			t.Errorf("input %d: source %q", i, in.Source)
		}
		if len(in.Rejected) != 0 {
			t.Errorf("input %d: rejected %+v", i, in.Rejected)
		}
		if len(in.Raw) != len(in.Readings) {
			t.Errorf("input %d: %d raw for %d readings", i, len(in.Raw), len(in.Readings))
		}
		// The idTag identifies a driver: it must not reach the sink in any form.
		if s := fmt.Sprintf("%#v", in); strings.Contains(strings.ToLower(s), strings.ToLower(idTag)) {
			t.Errorf("input %d carries the idTag in plain text: %s", i, s)
		}
	}

	wantStart := reading.Event{Kind: reading.EVSessionStart, Source: "CP1/1", Time: t0, Attrs: map[string]string{
		"transaction_id": fmt.Sprint(tx),
		"id_tag_hash":    sha256Hex(idTag),
		"id_tag_status":  "Accepted",
		"meter_start_wh": "1000",
	}}
	checkEvents(t, "start", got[0].Events, wantStart)

	wantReadings := [][]reading.Reading{
		{{Point: "CP1/1/energy_active_import_register", Time: t0.Add(10 * time.Minute), Value: 1500, Unit: "Wh"}},
		{
			{Point: "CP1/1/energy_active_import_register", Time: t0.Add(20 * time.Minute), Value: 2200, Unit: "Wh"},
			{Point: "CP1/1/power_active_import", Time: t0.Add(20 * time.Minute), Value: 7.2, Unit: "kW"},
		},
		{{Point: "CP1/1/energy_active_import_register", Time: t0.Add(30 * time.Minute), Value: 3100, Unit: "Wh"}},
	}
	for i, want := range wantReadings {
		checkReadings(t, fmt.Sprintf("meter values %d", i+1), got[1+i].Readings, want)
		if len(got[1+i].Events) != 0 {
			t.Errorf("meter values %d: events %+v", i+1, got[1+i].Events)
		}
	}

	stop := got[4]
	checkEvents(t, "stop", stop.Events, reading.Event{Kind: reading.EVSessionStop, Source: "CP1/1", Time: t0.Add(40 * time.Minute),
		Attrs: map[string]string{
			"transaction_id": fmt.Sprint(tx),
			"id_tag_hash":    sha256Hex(idTag),
			"meter_start_wh": "1000",
			"meter_stop_wh":  "3600",
			"energy_wh":      "2600",
			"reason":         "EVDisconnected",
		}})
	checkReadings(t, "stop transaction data", stop.Readings, []reading.Reading{
		{Point: "CP1/1/energy_active_import_register", Time: t0.Add(40 * time.Minute), Value: 3600, Unit: "Wh"},
	})
	// Every raw input replays: it is a MeterValues request with the one sampled value.
	if raw := got[2].Raw[1]; !strings.Contains(raw, `"measurand":"Power.Active.Import"`) || !strings.Contains(raw, `"connectorId":1`) {
		t.Errorf("raw of the power reading: %s", raw)
	}
}

func checkEvents(t *testing.T, what string, got []reading.Event, want reading.Event) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("%s: %d events, want 1: %+v", what, len(got), got)
	}
	e := got[0]
	if e.Kind != want.Kind || e.Source != want.Source || !e.Time.Equal(want.Time) || fmt.Sprint(e.Attrs) != fmt.Sprint(want.Attrs) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, e, want)
	}
	for k, v := range e.Attrs {
		if err := reading.ValidName(k); err != nil {
			t.Errorf("%s: attribute %q: %v", what, k, err)
		}
		if strings.ContainsAny(v, "\t\n=;") {
			t.Errorf("%s: attribute %s=%q breaks the canonical form", what, k, v)
		}
	}
}

func checkReadings(t *testing.T, what string, got, want []reading.Reading) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d readings, want %d: %+v", what, len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Point != w.Point || !g.Time.Equal(w.Time) || g.Value != w.Value || g.Unit != w.Unit || g.Quality != reading.Good {
			t.Errorf("%s %d:\n got %+v\nwant %+v", what, i, g, w)
		}
		if g.Time.Location() != time.UTC {
			t.Errorf("%s %d: time %v not in UTC", what, i, g.Time)
		}
	}
}

// A value that is not a number is quarantined with its reason; the rest of the call is
// ingested and the charger gets a success, since nothing was lost.
func TestMalformedSampledValue(t *testing.T) {
	sink := &fakeSink{}
	cs := startCentralSystem(t, Config{}, sink)
	cp := connectCharger(t, cs, "CP2")
	ts := types.NewDateTime(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	if _, err := cp.MeterValues(2, []types.MeterValue{{Timestamp: ts, SampledValue: []types.SampledValue{
		{Value: "abc", Measurand: types.MeasurandEnergyActiveImportRegister},
		{Value: "230.5", Measurand: types.MeasurandVoltage, Phase: types.PhaseL1N},
	}}}); err != nil {
		t.Fatalf("charger got %v, want a confirmation", err)
	}
	got := sink.got()
	if len(got) != 1 {
		t.Fatalf("%d inputs", len(got))
	}
	in := got[0]
	checkReadings(t, "readings", in.Readings, []reading.Reading{{Point: "CP2/2/voltage_l1_n", Time: ts.Time, Value: 230.5, Unit: "V"}})
	if len(in.Rejected) != 1 {
		t.Fatalf("rejected %+v, want one", in.Rejected)
	}
	r := in.Rejected[0]
	if r.Source != "ocpp:CP2" || !strings.Contains(r.Reason, "not a decimal number") || !strings.Contains(r.Raw, `"value":"abc"`) ||
		!strings.Contains(r.Raw, `"timestamp":"2025-03-01T09:00:00Z"`) || r.Received.IsZero() {
		t.Errorf("rejected %+v", r)
	}
}

// A sink error reaches the charger as a CallError, so it keeps the message; once the
// sink works again the same message goes through.
func TestSinkErrorIsCallError(t *testing.T) {
	sink := &fakeSink{}
	cs := startCentralSystem(t, Config{}, sink)
	cp := connectCharger(t, cs, "CP3")
	sink.setFail(func(context.Context, ingest.Input) error { return errors.New("disk full") })
	ts := types.NewDateTime(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
	mv := []types.MeterValue{{Timestamp: ts, SampledValue: []types.SampledValue{{Value: "42"}}}}

	conf, err := cp.MeterValues(1, mv)
	var oerr *ocpp.Error
	if !errors.As(err, &oerr) || oerr.Code != ocppj.InternalError {
		t.Fatalf("meter values with a failing sink: %v, %v; want an InternalError CallError", conf, err)
	}
	if strings.Contains(oerr.Description, "disk full") {
		t.Errorf("the sink's error leaked to the charger: %q", oerr.Description)
	}
	if _, err := cp.StartTransaction(1, "TAG", 0, ts); err == nil {
		t.Fatal("start transaction with a failing sink succeeded")
	}
	if _, err := cp.StopTransaction(10, ts, 1); err == nil {
		t.Fatal("stop transaction with a failing sink succeeded")
	}
	if n := len(sink.got()); n != 0 {
		t.Fatalf("sink recorded %d inputs", n)
	}

	sink.setFail(nil)
	if _, err := cp.MeterValues(1, mv); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := sink.got(); len(got) != 1 || len(got[0].Readings) != 1 || got[0].Readings[0].Value != 42 {
		t.Fatalf("after retry: %+v", got)
	}
}

// The charger's reply waits for the sink: while the sink has not returned, the charger
// has no confirmation, so a crash in between leaves the message with the charger.
func TestReplyWaitsForSink(t *testing.T) {
	sink := &fakeSink{}
	entered, release := make(chan struct{}), make(chan struct{})
	sink.setFail(func(ctx context.Context, _ ingest.Input) error {
		close(entered)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	cs := startCentralSystem(t, Config{}, sink)
	cp := connectCharger(t, cs, "CP4")
	ts := types.NewDateTime(time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC))
	replied := make(chan error, 1)
	go func() {
		_, err := cp.MeterValues(1, []types.MeterValue{{Timestamp: ts, SampledValue: []types.SampledValue{{Value: "1"}}}})
		replied <- err
	}()
	select {
	case <-entered:
	case <-time.After(callTimeout):
		t.Fatal("the sink was not called")
	}
	select {
	case err := <-replied:
		t.Fatalf("charger got a reply (%v) before the sink returned", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-replied:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(callTimeout):
		t.Fatal("no reply after the sink returned")
	}
}

func TestAllowList(t *testing.T) {
	sink := &fakeSink{}
	cs := startCentralSystem(t, Config{AllowedIDTags: []string{"AABBCCDD"}}, sink)
	cp := connectCharger(t, cs, "CP5")
	for tag, want := range map[string]types.AuthorizationStatus{
		"AABBCCDD": types.AuthorizationStatusAccepted,
		"aabbccdd": types.AuthorizationStatusAccepted, // OCPP idTags are case-insensitive
		"11223344": types.AuthorizationStatusInvalid,
	} {
		conf, err := cp.Authorize(tag)
		if err != nil {
			t.Fatal(err)
		}
		if conf.IdTagInfo.Status != want {
			t.Errorf("authorize %s: %s, want %s", tag, conf.IdTagInfo.Status, want)
		}
	}
	// A transaction with a refused tag still gets an id (OCPP 1.6 §5.10) and its event
	// records the status.
	ts := types.NewDateTime(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	conf, err := cp.StartTransaction(1, "11223344", 0, ts)
	if err != nil {
		t.Fatal(err)
	}
	if conf.IdTagInfo.Status != types.AuthorizationStatusInvalid || conf.TransactionId <= 0 {
		t.Errorf("start with a refused tag: %+v, id %d", conf.IdTagInfo, conf.TransactionId)
	}
	if got := sink.got(); len(got) != 1 || got[0].Events[0].Attrs["id_tag_status"] != "Invalid" {
		t.Errorf("inputs %+v", got)
	}
}

// A stop for a transaction this central system never started (it restarted) keeps the
// event, without energy, and quarantines the transaction data it cannot place.
func TestStopOfUnknownTransaction(t *testing.T) {
	sink := &fakeSink{}
	cs := startCentralSystem(t, Config{}, sink)
	cp := connectCharger(t, cs, "CP6")
	ts := types.NewDateTime(time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC))
	if _, err := cp.StopTransaction(5000, ts, 77, func(r *core.StopTransactionRequest) {
		r.TransactionData = []types.MeterValue{{Timestamp: ts, SampledValue: []types.SampledValue{{Value: "5000"}}}}
	}); err != nil {
		t.Fatal(err)
	}
	got := sink.got()
	if len(got) != 1 {
		t.Fatalf("%d inputs", len(got))
	}
	checkEvents(t, "stop", got[0].Events, reading.Event{Kind: reading.EVSessionStop, Source: "CP6", Time: ts.Time,
		Attrs: map[string]string{"transaction_id": "77", "meter_stop_wh": "5000", "reason": "Local"}})
	if len(got[0].Readings) != 0 || len(got[0].Rejected) != 1 || !strings.Contains(got[0].Rejected[0].Reason, "transaction 77 unknown") {
		t.Errorf("input %+v", got[0])
	}
}

// Transaction ids are unique across chargers and connectors.
func TestTransactionIDsAreUnique(t *testing.T) {
	sink := &fakeSink{}
	cs := startCentralSystem(t, Config{}, sink)
	ts := types.NewDateTime(time.Date(2025, 3, 1, 14, 0, 0, 0, time.UTC))
	seen := map[int]bool{}
	for _, id := range []string{"CPA", "CPB"} {
		cp := connectCharger(t, cs, id)
		for conn := 1; conn <= 2; conn++ {
			conf, err := cp.StartTransaction(conn, "T", 0, ts)
			if err != nil {
				t.Fatal(err)
			}
			if seen[conf.TransactionId] {
				t.Errorf("transaction id %d given twice", conf.TransactionId)
			}
			seen[conf.TransactionId] = true
		}
	}
}

func TestStartErrors(t *testing.T) {
	for _, addr := range []string{"nohostport", "127.0.0.1:x", "127.0.0.1:70000"} {
		if err := NewCentralSystem(Config{Addr: addr}, &fakeSink{}, nil).Start(); err == nil {
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
	cs := startCentralSystem(t, Config{}, &fakeSink{})
	_, port, _ := strings.Cut(cs.Addr(), ":")
	if err := NewCentralSystem(Config{Addr: "127.0.0.1:" + port}, &fakeSink{}, nil).Start(); err == nil {
		t.Error("a second central system on a taken port started")
	}
}

func TestChargePointIDs(t *testing.T) {
	for id, ok := range map[string]bool{"CP1": true, "wallbox-7.a": true, "": false, "a=b": false, "a;b": false, "a\\b": false, "..": false} {
		if err := validChargePointID(id); (err == nil) != ok {
			t.Errorf("validChargePointID(%q) = %v", id, err)
		}
	}
}
