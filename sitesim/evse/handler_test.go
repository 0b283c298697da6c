package evse

import (
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// offline is a two-connector 16 A three-phase charge point (11 040 W) never connected:
// its handlers answer, and whatever they send after fails as offline.
func offline(t *testing.T, mod func(*Config)) (*ChargePoint, *handler) {
	t.Helper()
	cfg := Config{URL: "ws://127.0.0.1:1", ID: "UNIT", Connectors: 2, MaxCurrentA: 16, Phases: 3,
		Clock: func() time.Time { return t0 }}
	if mod != nil {
		mod(&cfg)
	}
	c, err := newChargePoint(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, &handler{c}
}

func setProfile(h *handler, connector int, p installed) smartcharging.ChargingProfileStatus {
	conf, _ := h.OnSetChargingProfile(smartcharging.NewSetChargingProfileRequest(connector, &p.p))
	return conf.Status
}

func TestSetChargingProfileRules(t *testing.T) {
	c, h := offline(t, nil)
	c.conns[1].tx, c.conns[1].txStart = 7, t0
	tests := []struct {
		name      string
		connector int
		p         installed
		want      smartcharging.ChargingProfileStatus
	}{
		{"TxProfile without a transaction", 2, prof(1, 2, 0, txp, watt, 0, 1000), "Rejected"},
		{"TxProfile for another transaction", 1, with(prof(1, 1, 0, txp, watt, 0, 1000), func(in *installed) { in.p.TransactionId = 8 }), "Rejected"},
		{"ChargePointMax on a connector", 1, prof(1, 1, 0, cpm, watt, 0, 1000), "Rejected"},
		{"no such connector", 3, prof(1, 3, 0, txd, watt, 0, 1000), "Rejected"},
		{"TxProfile", 1, prof(1, 1, 0, txp, watt, 0, 4000), "Accepted"},
		{"TxDefault", 2, prof(2, 2, 0, txd, amp, 0, 10), "Accepted"},
	}
	for _, tt := range tests {
		if got := setProfile(h, tt.connector, tt.p); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	if got := c.LimitW(1); got != 4000 {
		t.Errorf("LimitW(1) %v", got)
	}
	if got := c.LimitW(2); got != 6900 {
		t.Errorf("LimitW(2) %v, want 10 A × 3 × 230", got)
	}
	s := c.Stats()
	if s.ProfilesReceived != 6 || s.ProfilesAccepted != 2 || s.ProfilesRejected != 4 || s.LastLimit != 10 || s.LastLimitUnit != "A" {
		t.Errorf("stats %+v", s)
	}
	// The TxProfile goes with its transaction.
	c.profiles = dropTransaction(c.profiles, 7)
	if got := c.LimitW(1); got != 11040 {
		t.Errorf("after the transaction: %v", got)
	}

	c2, h2 := offline(t, func(c *Config) { c.RejectProfiles = true })
	if got := setProfile(h2, 1, prof(1, 1, 0, txd, watt, 0, 1000)); got != "Rejected" || c2.LimitW(1) != 11040 {
		t.Errorf("RejectProfiles: %s, %v", got, c2.LimitW(1))
	}
}

func TestGetCompositeSchedule(t *testing.T) {
	_, h := offline(t, func(c *Config) { c.DefaultLimitW = 3000 })
	setProfile(h, 1, with(prof(1, 1, 0, txd, watt, 0, 9000, 600, 6900), func(in *installed) {
		in.p.ChargingSchedule.StartSchedule = types.NewDateTime(t0.Add(-300 * time.Second))
	}))
	conf, _ := h.OnGetCompositeSchedule(&smartcharging.GetCompositeScheduleRequest{ConnectorId: 1, Duration: 900, ChargingRateUnit: amp})
	s := conf.ChargingSchedule
	if conf.Status != "Accepted" || *conf.ConnectorId != 1 || !conf.ScheduleStart.Equal(t0) || s.ChargingRateUnit != amp ||
		*s.Duration != 900 || len(s.ChargingSchedulePeriod) != 2 {
		t.Fatalf("%+v %+v", conf, s)
	}
	p0, p1 := s.ChargingSchedulePeriod[0], s.ChargingSchedulePeriod[1]
	if p0.StartPeriod != 0 || p0.Limit != 13.043 || *p0.NumberPhases != 3 || p1.StartPeriod != 300 || p1.Limit != 10 {
		t.Errorf("periods %+v %+v", p0, p1)
	}
	// No unit asked: W; connector 2 has only the default.
	conf, _ = h.OnGetCompositeSchedule(&smartcharging.GetCompositeScheduleRequest{ConnectorId: 2, Duration: 60})
	if s := conf.ChargingSchedule; s.ChargingRateUnit != watt || len(s.ChargingSchedulePeriod) != 1 ||
		s.ChargingSchedulePeriod[0].Limit != 3000 || s.ChargingSchedulePeriod[0].NumberPhases != nil {
		t.Errorf("connector 2: %+v", s)
	}
	if conf, _ := h.OnGetCompositeSchedule(&smartcharging.GetCompositeScheduleRequest{ConnectorId: 3, Duration: 60}); conf.Status != "Rejected" {
		t.Errorf("connector 3: %+v", conf)
	}
}

func TestClearChargingProfile(t *testing.T) {
	c, h := offline(t, nil)
	setProfile(h, 1, prof(100011, 1, 1, txd, watt, 0, 1000))
	setProfile(h, 2, prof(100021, 2, 1, txd, watt, 0, 1000))
	conn, lvl := 1, 1
	if conf, _ := h.OnClearChargingProfile(&smartcharging.ClearChargingProfileRequest{ConnectorId: &conn, StackLevel: &lvl}); conf.Status != "Accepted" {
		t.Errorf("%+v", conf)
	}
	if conf, _ := h.OnClearChargingProfile(&smartcharging.ClearChargingProfileRequest{ConnectorId: &conn, StackLevel: &lvl}); conf.Status != "Unknown" {
		t.Errorf("again: %+v", conf)
	}
	if c.LimitW(1) != 11040 || c.LimitW(2) != 1000 || c.Stats().ProfilesCleared != 1 {
		t.Errorf("limits %v %v", c.LimitW(1), c.LimitW(2))
	}
}

func TestCoreRequests(t *testing.T) {
	c, h := offline(t, nil)
	c.conns[2].tx, c.conns[2].plugged = 9, true

	if conf, _ := h.OnRemoteStopTransaction(core.NewRemoteStopTransactionRequest(5)); conf.Status != "Rejected" {
		t.Errorf("remote stop of an unknown transaction: %+v", conf)
	}
	two := 2
	if conf, _ := h.OnRemoteStartTransaction(&core.RemoteStartTransactionRequest{IdTag: "T", ConnectorId: &two}); conf.Status != "Rejected" {
		t.Errorf("remote start on a busy connector: %+v", conf)
	}
	bad := prof(1, 0, 0, cpm, watt, 0, 1).p
	if conf, _ := h.OnRemoteStartTransaction(&core.RemoteStartTransactionRequest{IdTag: "T", ChargingProfile: &bad}); conf.Status != "Rejected" {
		t.Errorf("remote start with a ChargePointMaxProfile: %+v", conf)
	}

	if conf, _ := h.OnChangeAvailability(core.NewChangeAvailabilityRequest(0, core.AvailabilityTypeInoperative)); conf.Status != "Scheduled" {
		t.Errorf("inoperative with a transaction: %+v", conf)
	}
	if c.conns[1].status != core.ChargePointStatusUnavailable || !c.conns[2].inoperative {
		t.Errorf("connectors %+v", c.conns)
	}
	if conf, _ := h.OnChangeAvailability(core.NewChangeAvailabilityRequest(1, core.AvailabilityTypeOperative)); conf.Status != "Accepted" || c.conns[1].status != core.ChargePointStatusAvailable {
		t.Errorf("operative: %+v %+v", conf, c.conns[1])
	}
	if conf, _ := h.OnChangeAvailability(core.NewChangeAvailabilityRequest(3, core.AvailabilityTypeOperative)); conf.Status != "Rejected" {
		t.Errorf("connector 3: %+v", conf)
	}

	conf, _ := h.OnGetConfiguration(&core.GetConfigurationRequest{Key: []string{"NumberOfConnectors", "Bogus"}})
	if len(conf.ConfigurationKey) != 1 || *conf.ConfigurationKey[0].Value != "2" || !conf.ConfigurationKey[0].Readonly ||
		len(conf.UnknownKey) != 1 {
		t.Errorf("get configuration: %+v", conf)
	}
	if all, _ := h.OnGetConfiguration(&core.GetConfigurationRequest{}); len(all.ConfigurationKey) != len(defaultSettings(c.cfg)) {
		t.Errorf("all keys: %+v", all)
	}
	for key, want := range map[[2]string]core.ConfigurationStatus{
		{"HeartbeatInterval", "60"}:  core.ConfigurationStatusAccepted,
		{"HeartbeatInterval", "-1"}:  core.ConfigurationStatusRejected,
		{"NumberOfConnectors", "3"}:  core.ConfigurationStatusRejected,
		{"AuthorizeRemoteTx", "yes"}: core.ConfigurationStatusNotSupported,
	} {
		if conf, _ := h.OnChangeConfiguration(core.NewChangeConfigurationRequest(key[0], key[1])); conf.Status != want {
			t.Errorf("change %v: %s, want %s", key, conf.Status, want)
		}
	}
	if c.settings[keyHeartbeatInterval] != "60" {
		t.Errorf("heartbeat interval %q", c.settings[keyHeartbeatInterval])
	}
	if conf, _ := h.OnClearCache(core.NewClearCacheRequest()); conf.Status != "Accepted" {
		t.Errorf("%+v", conf)
	}
	if conf, _ := h.OnDataTransfer(core.NewDataTransferRequest("com.acme")); conf.Status != core.DataTransferStatusUnknownVendorId {
		t.Errorf("%+v", conf)
	}
	if conf, _ := h.OnUnlockConnector(core.NewUnlockConnectorRequest(3)); conf.Status != core.UnlockStatusUnlockFailed {
		t.Errorf("%+v", conf)
	}
	if conf, _ := h.OnReset(core.NewResetRequest(core.ResetTypeSoft)); conf.Status != "Accepted" {
		t.Errorf("%+v", conf)
	}
	three := 3
	if conf, _ := h.OnTriggerMessage(&remotetrigger.TriggerMessageRequest{RequestedMessage: "Heartbeat", ConnectorId: &three}); conf.Status != "Rejected" {
		t.Errorf("trigger on connector 3: %+v", conf)
	}
	if conf, _ := h.OnTriggerMessage(remotetrigger.NewTriggerMessageRequest("DiagnosticsStatusNotification")); conf.Status != "NotImplemented" {
		t.Errorf("trigger diagnostics: %+v", conf)
	}
	if conf, _ := h.OnTriggerMessage(remotetrigger.NewTriggerMessageRequest("StatusNotification")); conf.Status != "Accepted" {
		t.Errorf("trigger status: %+v", conf)
	}
}
