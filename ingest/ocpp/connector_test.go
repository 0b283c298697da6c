package ocpp

import (
	"strconv"
	"testing"
	"time"

	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/lifang-community/lifang/reading"
)

// What chargers report becomes the connectors' state, next to what goes to the sink.
func TestConnectorState(t *testing.T) {
	sink := &fakeSink{}
	cs := startCentralSystem(t, Config{}, sink)
	if n := len(cs.Connectors()); n != 0 {
		t.Fatalf("%d connectors before any charger", n)
	}
	cpB := connectCharger(t, cs, "CPB")
	cpA := connectCharger(t, cs, "CPA")
	for _, s := range []struct {
		cp        ocpp16.ChargePoint
		connector int
		status    core.ChargePointStatus
	}{
		{cpB, 2, core.ChargePointStatusPreparing},
		{cpB, 1, core.ChargePointStatusAvailable},
		{cpA, 0, core.ChargePointStatusAvailable}, // the charge point, not a connector
		{cpA, 1, core.ChargePointStatusFaulted},
	} {
		if _, err := s.cp.StatusNotification(s.connector, core.NoError, s.status); err != nil {
			t.Fatal(err)
		}
	}
	got := cs.Connectors()
	want := []struct {
		cp        string
		connector int
		status    string
	}{{"CPA", 1, "Faulted"}, {"CPB", 1, "Available"}, {"CPB", 2, "Preparing"}}
	if len(got) != len(want) {
		t.Fatalf("connectors %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if g.ChargePoint != w.cp || g.Connector != w.connector || g.Status != w.status || !g.Online || g.LastSeen.IsZero() {
			t.Errorf("connector %d: %+v, want %+v", i, g, w)
		}
	}

	t0 := time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC)
	start, err := cpB.StartTransaction(1, "TAG", 1000, types.NewDateTime(t0))
	if err != nil {
		t.Fatal(err)
	}
	tx := start.TransactionId
	st, _ := cs.Connector("CPB", 1)
	if st.Transaction != tx || st.MeterStartWh != 1000 || st.MeterWh != 1000 || !st.MeterTime.Equal(t0) || st.PowerW != 0 {
		t.Errorf("after start: %+v", st)
	}
	intent := `{"connector":1,"transaction_id":` + strconv.Itoa(tx) + `,"departure":"2031-06-01T17:30:00+08:00","energy_kwh":23.5,"max_power_kw":11}`
	conf, err := cpB.DataTransfer(VendorID, func(r *core.DataTransferRequest) {
		r.MessageId = MessageSessionIntent
		r.Data = intent
	})
	if err != nil || conf.Status != core.DataTransferStatusAccepted {
		t.Fatalf("session intent: %+v, %v", conf, err)
	}
	st, _ = cs.Connector("CPB", 1)
	if !st.DepartureTime.Equal(time.Date(2031, 6, 1, 9, 30, 0, 0, time.UTC)) || st.EnergyNeedKWh != 23.5 || st.MaxPowerKW != 11 {
		t.Errorf("intent not recorded: %+v", st)
	}

	mv := func(at time.Time, values ...types.SampledValue) {
		t.Helper()
		if _, err := cpB.MeterValues(1, []types.MeterValue{{Timestamp: types.NewDateTime(at), SampledValue: values}},
			func(r *core.MeterValuesRequest) { r.TransactionId = &tx }); err != nil {
			t.Fatal(err)
		}
	}
	t1 := t0.Add(10 * time.Minute)
	mv(t1,
		types.SampledValue{Value: "2.5", Measurand: types.MeasurandEnergyActiveImportRegister, Unit: types.UnitOfMeasureKWh},
		types.SampledValue{Value: "7.2", Measurand: types.MeasurandPowerActiveImport, Unit: types.UnitOfMeasureKW},
		types.SampledValue{Value: "16", Measurand: types.MeasurandCurrentImport, Phase: types.PhaseL1},      // not tracked
		types.SampledValue{Value: "999", Measurand: types.MeasurandPowerActiveImport, Phase: types.PhaseL1}, // a phase, not the total
	)
	// Older, replayed: ignored.
	mv(t0.Add(5*time.Minute),
		types.SampledValue{Value: "1500"},
		types.SampledValue{Value: "3000", Measurand: types.MeasurandPowerActiveImport},
	)
	st, _ = cs.Connector("CPB", 1)
	if st.MeterWh != 2500 || st.PowerW != 7200 || !st.MeterTime.Equal(t1) {
		t.Errorf("after meter values: %+v", st)
	}
	t2 := t1.Add(time.Minute)
	mv(t2, types.SampledValue{Value: "2600"}, types.SampledValue{Value: "6000", Measurand: types.MeasurandPowerActiveImport})
	st, _ = cs.Connector("CPB", 1)
	if st.MeterWh != 2600 || st.PowerW != 6000 || !st.MeterTime.Equal(t2) {
		t.Errorf("after more meter values: %+v", st)
	}

	t3 := t2.Add(time.Minute)
	if _, err := cpB.StopTransaction(2700, types.NewDateTime(t3), tx); err != nil {
		t.Fatal(err)
	}
	st, _ = cs.Connector("CPB", 1)
	if st.Transaction != 0 || st.MeterStartWh != 0 || !st.DepartureTime.IsZero() || st.EnergyNeedKWh != 0 || st.MaxPowerKW != 0 || st.MeterWh != 2700 ||
		!st.MeterTime.Equal(t3) || st.PowerW != 0 {
		t.Errorf("after stop: %+v", st)
	}
	// Readings still went to the sink: start, the ledgered intent, 3 meter values, stop.
	if n := len(sink.got()); n != 6 {
		t.Errorf("%d inputs in the sink, want 6", n)
	}
	if _, ok := cs.Connector("CPB", 9); ok {
		t.Error("connector never seen is known")
	}
}

// A stop of a transaction whose start this central system missed still closes the
// connector's transaction when it is known by id.
func TestStopClosesTransactionByID(t *testing.T) {
	cs := startCentralSystem(t, Config{}, &fakeSink{})
	cp := connectCharger(t, cs, "CPS")
	t0 := time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC)
	start, err := cp.StartTransaction(2, "TAG", 0, types.NewDateTime(t0))
	if err != nil {
		t.Fatal(err)
	}
	// Forget the open transaction, as after a restart.
	cs.mu.Lock()
	cs.open = map[txKey]transaction{}
	cs.mu.Unlock()
	if _, err := cp.StopTransaction(100, types.NewDateTime(t0.Add(time.Minute)), start.TransactionId); err != nil {
		t.Fatal(err)
	}
	if st, _ := cs.Connector("CPS", 2); st.Transaction != 0 || st.MeterWh != 100 {
		t.Errorf("%+v", st)
	}
}

func TestSessionIntentDataTransfer(t *testing.T) {
	cs := startCentralSystem(t, Config{}, &fakeSink{})
	cp := connectCharger(t, cs, "CPD")
	send := func(vendor, message string, data any) *core.DataTransferConfirmation {
		t.Helper()
		conf, err := cp.DataTransfer(vendor, func(r *core.DataTransferRequest) {
			r.MessageId = message
			r.Data = data
		})
		if err != nil {
			t.Fatal(err)
		}
		return conf
	}
	if c := send("com.acme", MessageSessionIntent, `{}`); c.Status != core.DataTransferStatusUnknownVendorId {
		t.Errorf("other vendor: %+v", c)
	}
	if c := send(VendorID, "Tariff", `{}`); c.Status != core.DataTransferStatusUnknownMessageId {
		t.Errorf("other message: %+v", c)
	}
	for _, bad := range []any{nil, `not json`, `{"connector":0,"energy_kwh":1}`, `{"connector":1}`, 12.5, `{"connector":1,"energy_kwh":1,"x":2}`} {
		c := send(VendorID, MessageSessionIntent, bad)
		if c.Status != core.DataTransferStatusRejected || c.Data == nil {
			t.Errorf("data %v: %+v", bad, c)
		}
	}
	if _, ok := cs.Connector("CPD", 1); ok {
		t.Error("a rejected intent created a connector")
	}
	// Before the transaction, as a JSON object rather than a string: accepted.
	if c := send(VendorID, MessageSessionIntent, map[string]any{"connector": 1, "energy_kwh": 10}); c.Status != core.DataTransferStatusAccepted {
		t.Errorf("object data: %+v", c)
	}
	if st, _ := cs.Connector("CPD", 1); st.EnergyNeedKWh != 10 || !st.DepartureTime.IsZero() {
		t.Errorf("%+v", st)
	}
	start, err := cp.StartTransaction(1, "TAG", 0, types.NewDateTime(time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := cs.Connector("CPD", 1); st.EnergyNeedKWh != 10 {
		t.Errorf("intent declared before the start lost: %+v", st)
	}
	stale := `{"connector":1,"transaction_id":` + strconv.Itoa(start.TransactionId+100) + `,"energy_kwh":5}`
	if c := send(VendorID, MessageSessionIntent, stale); c.Status != core.DataTransferStatusRejected {
		t.Errorf("intent for another transaction: %+v", c)
	}
	if st, _ := cs.Connector("CPD", 1); st.EnergyNeedKWh != 10 {
		t.Errorf("stale intent recorded: %+v", st)
	}
}

// A restarted central system restores open transactions, their intents and the next
// transaction id from the ledgered events.
func TestRestore(t *testing.T) {
	at := time.Date(2025, 7, 14, 8, 0, 0, 0, time.UTC)
	evs := []reading.Event{
		{Kind: reading.EVSessionStart, Source: "CP1/1", Time: at, Attrs: map[string]string{"transaction_id": "4", "meter_start_wh": "1200", "id_tag_status": "Accepted"}},
		{Kind: EventSessionIntent, Source: "CP1/1", Time: at, Attrs: map[string]string{"connector": "1", "transaction_id": "4", "departure": "2025-07-14T18:00:00Z", "energy_kwh": "30.5", "max_power_kw": "7"}},
		{Kind: reading.EVSessionStart, Source: "CP2/1", Time: at, Attrs: map[string]string{"transaction_id": "5", "meter_start_wh": "0", "id_tag_status": "Accepted"}},
		{Kind: reading.EVSessionStop, Source: "CP2/1", Time: at.Add(time.Hour), Attrs: map[string]string{"transaction_id": "5", "meter_stop_wh": "7000"}},
	}
	cs := NewCentralSystem(Config{Addr: "127.0.0.1:0"}, nil, nil)
	cs.Restore(evs)
	st, ok := cs.Connector("CP1", 1)
	if !ok || st.Transaction != 4 || st.MeterStartWh != 1200 || st.EnergyNeedKWh != 30.5 || st.MaxPowerKW != 7 || !st.DepartureTime.Equal(at.Add(10*time.Hour)) {
		t.Fatalf("restored %+v", st)
	}
	if st, _ := cs.Connector("CP2", 1); st.Transaction != 0 {
		t.Fatalf("a stopped transaction came back open: %+v", st)
	}
	if cs.nextTx != 6 {
		t.Fatalf("next transaction id %d, want 6", cs.nextTx)
	}
}

// A transaction restored from the ledger whose charger then reports the connector
// Available (its StopTransaction was lost while the central system was down) is closed
// and the loss ledgered; a connector still charging keeps its transaction.
func TestLostTransactionClosedOnAvailable(t *testing.T) {
	sink := &fakeSink{}
	at := time.Date(2025, 7, 14, 8, 0, 0, 0, time.UTC)
	cs := NewCentralSystem(Config{Addr: "127.0.0.1:0"}, sink, testLogger(t))
	cs.Restore([]reading.Event{
		{Kind: reading.EVSessionStart, Source: "CPL/1", Time: at, Attrs: map[string]string{"transaction_id": "7", "meter_start_wh": "100", "id_tag_status": "Accepted"}},
		{Kind: reading.EVSessionStart, Source: "CPL/2", Time: at, Attrs: map[string]string{"transaction_id": "8", "meter_start_wh": "200", "id_tag_status": "Accepted"}},
	})
	if err := cs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cs.Stop)
	cp := connectCharger(t, cs, "CPL")
	if _, err := cp.StatusNotification(1, core.NoError, core.ChargePointStatusAvailable); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.StatusNotification(2, core.NoError, core.ChargePointStatusCharging); err != nil {
		t.Fatal(err)
	}
	if st, _ := cs.Connector("CPL", 1); st.Transaction != 0 {
		t.Fatalf("lost transaction still open: %+v", st)
	}
	if st, _ := cs.Connector("CPL", 2); st.Transaction != 8 {
		t.Fatalf("charging connector lost its transaction: %+v", st)
	}
	var lost []reading.Event
	for _, in := range sink.got() {
		for _, e := range in.Events {
			if e.Kind == EventSessionLost {
				lost = append(lost, e)
			}
		}
	}
	// An event the pipeline would quarantine (a ';' or '=' in an attribute) is no record.
	for _, e := range lost {
		for k, v := range e.Attrs {
			if err := reading.ValidAttrValue(v); err != nil {
				t.Errorf("attribute %s: %v", k, err)
			}
		}
	}
	if len(lost) != 1 || lost[0].Attrs["transaction_id"] != "7" || lost[0].Source != "CPL/1" {
		t.Fatalf("ledgered losses %+v, want one for transaction 7", lost)
	}
}
