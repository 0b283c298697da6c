package evse

import (
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// handler answers what the central system asks. ocpp-go calls it on the connection's
// read loop, so it never waits for the central system itself: whatever it must send
// in turn (a StartTransaction after RemoteStartTransaction, …) goes on c.async.
type handler struct{ c *ChargePoint }

var (
	_ core.ChargePointHandler          = (*handler)(nil)
	_ smartcharging.ChargePointHandler = (*handler)(nil)
	_ remotetrigger.ChargePointHandler = (*handler)(nil)
)

// Configuration keys the charger has (OCPP 1.6 §9.1, §9.4).
const (
	keyHeartbeatInterval        = "HeartbeatInterval"
	keyMeterValueSampleInterval = "MeterValueSampleInterval"
	keyConnectionTimeOut        = "ConnectionTimeOut"
)

// readonlyKeys are reported but cannot be changed.
var readonlyKeys = map[string]bool{
	"NumberOfConnectors":                      true,
	"ChargeProfileMaxStackLevel":              true,
	"ChargingScheduleAllowedChargingRateUnit": true,
	"ChargingScheduleMaxPeriods":              true,
	"MaxChargingProfilesInstalled":            true,
	"SupportedFeatureProfiles":                true,
}

func defaultSettings(cfg Config) map[string]string {
	return map[string]string{
		keyHeartbeatInterval:                      "300",
		keyMeterValueSampleInterval:               "60",
		keyConnectionTimeOut:                      "60",
		"NumberOfConnectors":                      strconv.Itoa(cfg.Connectors),
		"ChargeProfileMaxStackLevel":              strconv.Itoa(MaxStackLevel),
		"ChargingScheduleAllowedChargingRateUnit": "Current,Power",
		"ChargingScheduleMaxPeriods":              strconv.Itoa(MaxChargingSchedulePeriods),
		"MaxChargingProfilesInstalled":            strconv.Itoa(MaxProfilesInstalled),
		"SupportedFeatureProfiles":                "Core,SmartCharging,RemoteTrigger",
	}
}

// requestContext bounds what the charger sends on its own after answering a request.
func (c *ChargePoint) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 4*c.cfg.CallTimeout)
}

// — Smart charging —

func (h *handler) OnSetChargingProfile(req *smartcharging.SetChargingProfileRequest) (*smartcharging.SetChargingProfileConfirmation, error) {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.ProfilesReceived++
	reject := func(reason string) (*smartcharging.SetChargingProfileConfirmation, error) {
		c.stats.ProfilesRejected++
		c.log.Warn("charging profile rejected", "connector", req.ConnectorId, "reason", reason)
		return smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusRejected), nil
	}
	if c.cfg.RejectProfiles {
		return reject("RejectProfiles fault")
	}
	if req.ChargingProfile == nil {
		return reject("no profile")
	}
	p := *req.ChargingProfile
	tx := 0
	if req.ConnectorId >= 1 && req.ConnectorId <= c.cfg.Connectors {
		tx = c.conns[req.ConnectorId].tx
	}
	if err := validateProfile(req.ConnectorId, c.cfg.Connectors, &p, tx); err != nil {
		return reject(err.Error())
	}
	if p.ChargingProfilePurpose == types.ChargingProfilePurposeTxProfile {
		p.TransactionId = tx
	}
	ps, err := install(c.profiles, installed{connector: req.ConnectorId, p: p, received: c.cfg.Clock()})
	if err != nil {
		return reject(err.Error())
	}
	c.profiles = ps
	c.stats.ProfilesAccepted++
	first := p.ChargingSchedule.ChargingSchedulePeriod[0]
	c.stats.LastLimit, c.stats.LastLimitUnit = first.Limit, string(p.ChargingSchedule.ChargingRateUnit)
	c.log.Info("charging profile accepted", "connector", req.ConnectorId, "id", p.ChargingProfileId,
		"purpose", p.ChargingProfilePurpose, "stack_level", p.StackLevel, "transaction_id", p.TransactionId,
		"limit", first.Limit, "unit", p.ChargingSchedule.ChargingRateUnit)
	h.reviewStatusesLocked()
	return smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusAccepted), nil
}

func (h *handler) OnClearChargingProfile(req *smartcharging.ClearChargingProfileRequest) (*smartcharging.ClearChargingProfileConfirmation, error) {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int
	c.profiles, n = clearProfiles(c.profiles, clearCriteria{id: req.Id, connector: req.ConnectorId,
		stackLevel: req.StackLevel, purpose: req.ChargingProfilePurpose})
	c.stats.ProfilesCleared += n
	c.log.Info("charging profiles cleared", "count", n)
	if n == 0 {
		return smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusUnknown), nil
	}
	h.reviewStatusesLocked()
	return smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusAccepted), nil
}

func (h *handler) OnGetCompositeSchedule(req *smartcharging.GetCompositeScheduleRequest) (*smartcharging.GetCompositeScheduleConfirmation, error) {
	c := h.c
	if req.ConnectorId < 0 || req.ConnectorId > c.cfg.Connectors {
		return smartcharging.NewGetCompositeScheduleConfirmation(smartcharging.GetCompositeScheduleStatusRejected), nil
	}
	unit := req.ChargingRateUnit
	if unit == "" {
		unit = types.ChargingRateUnitWatts
	}
	c.mu.Lock()
	// OCPP timestamps have whole seconds: so does the schedule.
	now := c.cfg.Clock().Truncate(time.Second)
	tx, anchor := 0, now
	if req.ConnectorId > 0 {
		if st := c.conns[req.ConnectorId]; st.tx != 0 {
			tx, anchor = st.tx, st.txStart
		}
	}
	steps := c.elec.compositeSchedule(c.profiles, req.ConnectorId, now, req.Duration, tx, anchor)
	c.mu.Unlock()

	periods := make([]types.ChargingSchedulePeriod, len(steps))
	for i, s := range steps {
		periods[i] = types.NewChargingSchedulePeriod(s.offsetS, math.Round(c.elec.fromW(s.limitW, unit)*1000)/1000)
		if unit == types.ChargingRateUnitAmperes {
			ph := c.cfg.Phases
			periods[i].NumberPhases = &ph
		}
	}
	schedule := types.NewChargingSchedule(unit, periods...)
	duration := req.Duration
	schedule.Duration = &duration
	schedule.StartSchedule = types.NewDateTime(now)
	conf := smartcharging.NewGetCompositeScheduleConfirmation(smartcharging.GetCompositeScheduleStatusAccepted)
	conn := req.ConnectorId
	conf.ConnectorId, conf.ScheduleStart, conf.ChargingSchedule = &conn, types.NewDateTime(now), schedule
	return conf, nil
}

// reviewStatusesLocked moves charging connectors between Charging and SuspendedEVSE
// as the limit in force becomes zero or not.
func (h *handler) reviewStatusesLocked() {
	c := h.c
	now := c.cfg.Clock()
	for i := 1; i <= c.cfg.Connectors; i++ {
		st := &c.conns[i]
		if st.tx == 0 || st.busy {
			continue
		}
		want := core.ChargePointStatusCharging
		if c.limitWLocked(i, now) <= 0 {
			want = core.ChargePointStatusSuspendedEVSE
		}
		if (st.status == core.ChargePointStatusCharging || st.status == core.ChargePointStatusSuspendedEVSE) && st.status != want {
			connector := i
			c.asyncLocked(func(ctx context.Context) {
				ctx, cancel := c.requestContext(ctx)
				defer cancel()
				if err := c.setStatus(ctx, connector, want); err != nil {
					c.log.Warn("status", "connector", connector, "err", err)
				}
			})
		}
	}
}

// — Core —

func (h *handler) OnRemoteStartTransaction(req *core.RemoteStartTransactionRequest) (*core.RemoteStartTransactionConfirmation, error) {
	c := h.c
	reject := func(reason string) (*core.RemoteStartTransactionConfirmation, error) {
		c.log.Warn("remote start rejected", "reason", reason)
		return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusRejected), nil
	}
	if p := req.ChargingProfile; p != nil && p.ChargingProfilePurpose != types.ChargingProfilePurposeTxProfile {
		return reject("profile of purpose " + string(p.ChargingProfilePurpose) + ", want TxProfile")
	}
	c.mu.Lock()
	connector := 0
	free := func(i int) bool {
		st := c.conns[i]
		return !st.busy && !st.plugged && st.tx == 0 && !st.inoperative
	}
	if req.ConnectorId != nil {
		if n := *req.ConnectorId; n >= 1 && n <= c.cfg.Connectors && free(n) {
			connector = n
		}
	} else {
		for i := 1; i <= c.cfg.Connectors && connector == 0; i++ {
			if free(i) {
				connector = i
			}
		}
	}
	c.mu.Unlock()
	if connector == 0 {
		return reject("no free connector")
	}
	idTag, profile := req.IdTag, req.ChargingProfile
	c.async(func(ctx context.Context) {
		ctx, cancel := c.requestContext(ctx)
		defer cancel()
		if _, err := c.plug(ctx, connector, idTag, EV{}, profile); err != nil {
			c.log.Warn("remote start failed", "connector", connector, "err", err)
		}
	})
	return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
}

func (h *handler) OnRemoteStopTransaction(req *core.RemoteStopTransactionRequest) (*core.RemoteStopTransactionConfirmation, error) {
	c := h.c
	connector := h.connectorOf(req.TransactionId)
	if connector == 0 {
		c.log.Warn("remote stop rejected: no such transaction", "transaction_id", req.TransactionId)
		return core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusRejected), nil
	}
	h.stopAsync(connector, req.TransactionId, core.ReasonRemote, core.ChargePointStatusFinishing, false)
	return core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
}

// connectorOf is the connector of an open transaction, 0 if none.
func (h *handler) connectorOf(tx int) int {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 1; i <= c.cfg.Connectors; i++ {
		if c.conns[i].tx == tx && tx != 0 {
			return i
		}
	}
	return 0
}

// stopAsync stops a transaction after the answer went out, then sets the status;
// unplug also takes the cable out (UnlockConnector).
func (h *handler) stopAsync(connector, tx int, reason core.Reason, status core.ChargePointStatus, unplug bool) {
	c := h.c
	c.async(func(ctx context.Context) {
		ctx, cancel := c.requestContext(ctx)
		defer cancel()
		c.mu.Lock()
		st := &c.conns[connector]
		if st.tx != tx {
			c.mu.Unlock()
			return
		}
		idTag, meterStop := st.idTag, int(math.Round(st.registerWh))
		c.mu.Unlock()
		if err := c.stopTransaction(ctx, connector, tx, meterStop, idTag, reason); err != nil {
			c.log.Warn("stop failed", "connector", connector, "transaction_id", tx, "err", err)
		}
		c.mu.Lock()
		if unplug {
			st.plugged = false
		}
		if st.inoperative && !st.plugged {
			status = core.ChargePointStatusUnavailable
		}
		c.mu.Unlock()
		if err := c.setStatus(ctx, connector, status); err != nil {
			c.log.Warn("status", "connector", connector, "err", err)
		}
	})
}

func (h *handler) OnChangeAvailability(req *core.ChangeAvailabilityRequest) (*core.ChangeAvailabilityConfirmation, error) {
	c := h.c
	if req.ConnectorId < 0 || req.ConnectorId > c.cfg.Connectors {
		return core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusRejected), nil
	}
	inoperative := req.Type == core.AvailabilityTypeInoperative
	c.mu.Lock()
	scheduled := false
	var notify []int
	for i := 1; i <= c.cfg.Connectors; i++ {
		if req.ConnectorId != 0 && i != req.ConnectorId {
			continue
		}
		st := &c.conns[i]
		st.inoperative = inoperative
		switch {
		case st.tx != 0 || st.plugged || st.busy:
			// Takes effect when the EV leaves (OCPP 1.6 §5.2: Scheduled).
			scheduled = scheduled || inoperative
		case inoperative:
			st.status = core.ChargePointStatusUnavailable
			notify = append(notify, i)
		default:
			st.status = core.ChargePointStatusAvailable
			notify = append(notify, i)
		}
	}
	c.mu.Unlock()
	h.notifyStatuses(notify)
	c.log.Info("availability changed", "connector", req.ConnectorId, "type", req.Type, "scheduled", scheduled)
	if scheduled {
		return core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusScheduled), nil
	}
	return core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusAccepted), nil
}

// notifyStatuses sends the current status of the connectors, after the answer.
func (h *handler) notifyStatuses(connectors []int) {
	c := h.c
	if len(connectors) == 0 {
		return
	}
	c.async(func(ctx context.Context) {
		ctx, cancel := c.requestContext(ctx)
		defer cancel()
		for _, i := range connectors {
			if _, err := c.call(ctx, c.statusRequest(i)); err != nil {
				c.log.Warn("status", "connector", i, "err", err)
			}
		}
	})
}

func (h *handler) OnReset(req *core.ResetRequest) (*core.ResetConfirmation, error) {
	c := h.c
	reason := core.ReasonSoftReset
	if req.Type == core.ResetTypeHard {
		reason = core.ReasonHardReset
	}
	c.log.Info("reset", "type", req.Type)
	c.async(func(ctx context.Context) {
		ctx, cancel := c.requestContext(ctx)
		defer cancel()
		// A reset ends the transactions, then the charger boots again.
		for i := 1; i <= c.cfg.Connectors; i++ {
			c.mu.Lock()
			st := c.conns[i]
			c.mu.Unlock()
			if st.tx != 0 {
				if err := c.stopTransaction(ctx, i, st.tx, int(math.Round(st.registerWh)), st.idTag, reason); err != nil {
					c.log.Warn("stop at reset", "connector", i, "err", err)
				}
			}
			c.mu.Lock()
			if c.conns[i].plugged {
				c.conns[i].status = core.ChargePointStatusFinishing
			} else if !c.conns[i].inoperative {
				c.conns[i].status = core.ChargePointStatusAvailable
			}
			c.mu.Unlock()
		}
		c.mu.Lock()
		s := c.sess
		c.mu.Unlock()
		if s == nil {
			return
		}
		if err := c.boot(ctx, s); err != nil {
			c.log.Warn("boot after reset", "err", err)
		}
	})
	return core.NewResetConfirmation(core.ResetStatusAccepted), nil
}

func (h *handler) OnUnlockConnector(req *core.UnlockConnectorRequest) (*core.UnlockConnectorConfirmation, error) {
	c := h.c
	if req.ConnectorId < 1 || req.ConnectorId > c.cfg.Connectors {
		return core.NewUnlockConnectorConfirmation(core.UnlockStatusUnlockFailed), nil
	}
	c.mu.Lock()
	st := &c.conns[req.ConnectorId]
	tx := st.tx
	if tx == 0 && st.plugged && !st.busy {
		st.plugged = false
		if st.inoperative {
			st.status = core.ChargePointStatusUnavailable
		} else {
			st.status = core.ChargePointStatusAvailable
		}
	}
	c.mu.Unlock()
	if tx != 0 {
		// OCPP 1.6 §5.17: unlocking stops the transaction first.
		h.stopAsync(req.ConnectorId, tx, core.ReasonUnlockCommand, core.ChargePointStatusAvailable, true)
	} else {
		h.notifyStatuses([]int{req.ConnectorId})
	}
	return core.NewUnlockConnectorConfirmation(core.UnlockStatusUnlocked), nil
}

func (h *handler) OnGetConfiguration(req *core.GetConfigurationRequest) (*core.GetConfigurationConfirmation, error) {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := req.Key
	if len(keys) == 0 {
		for k := range c.settings {
			keys = append(keys, k)
		}
		slices.Sort(keys)
	}
	var known []core.ConfigurationKey
	var unknown []string
	for _, k := range keys {
		v, ok := c.settings[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		known = append(known, core.ConfigurationKey{Key: k, Readonly: readonlyKeys[k], Value: &v})
	}
	conf := core.NewGetConfigurationConfirmation(known)
	conf.UnknownKey = unknown
	return conf, nil
}

func (h *handler) OnChangeConfiguration(req *core.ChangeConfigurationRequest) (*core.ChangeConfigurationConfirmation, error) {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.settings[req.Key]; !ok {
		return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusNotSupported), nil
	}
	if readonlyKeys[req.Key] {
		return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusRejected), nil
	}
	// Every writable key is a number of seconds.
	if n, err := strconv.Atoi(req.Value); err != nil || n < 0 {
		return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusRejected), nil
	}
	c.settings[req.Key] = req.Value
	c.log.Info("configuration changed", "key", req.Key, "value", req.Value)
	return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusAccepted), nil
}

func (h *handler) OnClearCache(*core.ClearCacheRequest) (*core.ClearCacheConfirmation, error) {
	// The emulator keeps no authorization cache: there is nothing to clear.
	return core.NewClearCacheConfirmation(core.ClearCacheStatusAccepted), nil
}

func (h *handler) OnDataTransfer(req *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	if req.VendorId != intentVendorID {
		return core.NewDataTransferConfirmation(core.DataTransferStatusUnknownVendorId), nil
	}
	return core.NewDataTransferConfirmation(core.DataTransferStatusUnknownMessageId), nil
}

// — Remote trigger —

func (h *handler) OnTriggerMessage(req *remotetrigger.TriggerMessageRequest) (*remotetrigger.TriggerMessageConfirmation, error) {
	c := h.c
	var connectors []int
	if req.ConnectorId != nil && *req.ConnectorId != 0 {
		if *req.ConnectorId < 1 || *req.ConnectorId > c.cfg.Connectors {
			return remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusRejected), nil
		}
		connectors = []int{*req.ConnectorId}
	} else {
		for i := 1; i <= c.cfg.Connectors; i++ {
			connectors = append(connectors, i)
		}
	}
	switch req.RequestedMessage {
	case core.BootNotificationFeatureName:
		c.async(func(ctx context.Context) {
			ctx, cancel := c.requestContext(ctx)
			defer cancel()
			c.mu.Lock()
			s := c.sess
			c.mu.Unlock()
			if s != nil {
				if err := c.boot(ctx, s); err != nil {
					c.log.Warn("triggered boot", "err", err)
				}
			}
		})
	case core.HeartbeatFeatureName:
		c.async(func(ctx context.Context) {
			ctx, cancel := c.requestContext(ctx)
			defer cancel()
			if _, err := c.call(ctx, core.NewHeartbeatRequest()); err != nil {
				c.log.Warn("triggered heartbeat", "err", err)
			}
		})
	case core.StatusNotificationFeatureName:
		h.notifyStatuses(connectors)
	case core.MeterValuesFeatureName:
		c.async(func(ctx context.Context) {
			ctx, cancel := c.requestContext(ctx)
			defer cancel()
			for _, i := range connectors {
				c.mu.Lock()
				st := c.conns[i]
				c.mu.Unlock()
				req := core.NewMeterValuesRequest(i, []types.MeterValue{meterValue(c.cfg.Clock(), st.registerWh, 0, types.ReadingContextTrigger)})
				req.MeterValue[0].SampledValue = req.MeterValue[0].SampledValue[:1] // the register; the emulator does not know the power
				if st.tx != 0 {
					tx := st.tx
					req.TransactionId = &tx
				}
				if _, err := c.call(ctx, req); err != nil {
					c.log.Warn("triggered meter values", "connector", i, "err", err)
				}
			}
		})
	default:
		return remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusNotImplemented), nil
	}
	return remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusAccepted), nil
}
