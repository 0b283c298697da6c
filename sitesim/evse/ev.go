package evse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// The session intent lifang's central system understands (ingest/ocpp/intent.go): a
// DataTransfer from the charge point standing in for ISO 15118 or a booking app.
const (
	intentVendorID  = "cn.lifang"
	intentMessageID = "SessionIntent"
)

type sessionIntent struct {
	Connector     int      `json:"connector"`
	TransactionID int      `json:"transaction_id,omitempty"`
	Departure     string   `json:"departure,omitempty"`
	EnergyKWh     *float64 `json:"energy_kwh,omitempty"`
	MaxPowerKW    *float64 `json:"max_power_kw,omitempty"`
}

// EV is what a driver declares when plugging in (all optional): departure, the energy
// to deliver to the battery, and the most power the vehicle accepts.
type EV struct {
	Departure  time.Time
	NeedKWh    float64
	MaxPowerKW float64
}

// maxIDTagLen is OCPP 1.6's IdToken length.
const maxIDTagLen = 20

// Plug plugs an EV into connector: StatusNotification Preparing, StartTransaction
// (meterStart = the connector's register, timestamp Clock()), a DataTransfer
// SessionIntent with the driver's departure and energy need (when either is given;
// the central system's refusal is logged, not an error), and StatusNotification
// Charging (SuspendedEVSE when the limit in force is 0). It returns the transaction
// id the central system gave. A tag the central system does not accept ends the
// transaction at once (reason DeAuthorized) and gives ErrNotAuthorized.
func (c *ChargePoint) Plug(ctx context.Context, connector int, idTag string, departure time.Time, needKWh float64) (int, error) {
	return c.plug(ctx, connector, idTag, EV{Departure: departure, NeedKWh: needKWh}, nil)
}

// PlugEV is Plug with the vehicle's declared maximum power in the intent as well.
func (c *ChargePoint) PlugEV(ctx context.Context, connector int, idTag string, ev EV) (int, error) {
	if math.IsNaN(ev.MaxPowerKW) || math.IsInf(ev.MaxPowerKW, 0) || ev.MaxPowerKW < 0 {
		return 0, fmt.Errorf("evse %s: max power %v kW: want a finite number ≥ 0", c.cfg.ID, ev.MaxPowerKW)
	}
	return c.plug(ctx, connector, idTag, ev, nil)
}

// plug is Plug with the TxProfile a RemoteStartTransaction may carry.
func (c *ChargePoint) plug(ctx context.Context, connector int, idTag string, ev EV, profile *types.ChargingProfile) (int, error) {
	departure, needKWh := ev.Departure, ev.NeedKWh
	if err := c.checkConnector(connector); err != nil {
		return 0, err
	}
	if idTag == "" || len(idTag) > maxIDTagLen {
		return 0, fmt.Errorf("evse %s: idTag of %d characters: want 1–%d", c.cfg.ID, len(idTag), maxIDTagLen)
	}
	if math.IsNaN(needKWh) || math.IsInf(needKWh, 0) || needKWh < 0 {
		return 0, fmt.Errorf("evse %s: energy need %v kWh: want a finite number ≥ 0", c.cfg.ID, needKWh)
	}
	c.mu.Lock()
	st := &c.conns[connector]
	switch {
	case st.busy || st.plugged || st.tx != 0:
		c.mu.Unlock()
		return 0, fmt.Errorf("evse %s: plug into connector %d: %w", c.cfg.ID, connector, ErrBusy)
	case st.inoperative:
		c.mu.Unlock()
		return 0, fmt.Errorf("evse %s: plug into connector %d: %w", c.cfg.ID, connector, ErrUnavailable)
	}
	st.busy, st.plugged = true, true
	meterStart := int(math.Round(st.registerWh))
	c.mu.Unlock()
	defer c.done(connector)

	unplug := func(err error) (int, error) {
		c.mu.Lock()
		c.conns[connector].plugged = false
		c.mu.Unlock()
		if serr := c.setStatus(ctx, connector, core.ChargePointStatusAvailable); serr != nil {
			c.log.Warn("status after a failed plug", "connector", connector, "err", serr)
		}
		return 0, err
	}
	if err := c.setStatus(ctx, connector, core.ChargePointStatusPreparing); err != nil {
		return unplug(err)
	}
	start := c.cfg.Clock()
	resp, err := c.call(ctx, core.NewStartTransactionRequest(connector, idTag, meterStart, types.NewDateTime(start)))
	if err != nil {
		return unplug(err)
	}
	conf, ok := resp.(*core.StartTransactionConfirmation)
	if !ok {
		return unplug(fmt.Errorf("evse %s: StartTransaction: unexpected answer %T", c.cfg.ID, resp))
	}
	tx := conf.TransactionId
	if conf.IdTagInfo == nil || conf.IdTagInfo.Status != types.AuthorizationStatusAccepted {
		status := types.AuthorizationStatus("none")
		if conf.IdTagInfo != nil {
			status = conf.IdTagInfo.Status
		}
		// OCPP 1.6 §5.10: a transaction whose tag is refused is stopped by the charger.
		if err := c.stopTransaction(ctx, connector, tx, meterStart, idTag, core.ReasonDeAuthorized); err != nil {
			c.log.Warn("stop of a refused transaction", "connector", connector, "transaction_id", tx, "err", err)
		}
		return unplug(fmt.Errorf("evse %s: transaction %d on connector %d: %s: %w", c.cfg.ID, tx, connector, status, ErrNotAuthorized))
	}
	c.mu.Lock()
	st.tx, st.txStart, st.idTag = tx, start, idTag
	if profile != nil {
		p := *profile
		p.TransactionId = tx
		if err := validateProfile(connector, c.cfg.Connectors, &p, tx); err != nil {
			c.log.Warn("profile of the remote start ignored", "connector", connector, "err", err)
		} else if ps, err := install(c.profiles, installed{connector: connector, p: p, received: start}); err != nil {
			c.log.Warn("profile of the remote start ignored", "connector", connector, "err", err)
		} else {
			c.profiles = ps
		}
	}
	c.mu.Unlock()
	c.log.Info("transaction started", "connector", connector, "transaction_id", tx, "meter_start_wh", meterStart)

	if !departure.IsZero() || needKWh > 0 || ev.MaxPowerKW > 0 {
		c.sendIntent(ctx, connector, tx, ev)
	}
	if err := c.setStatus(ctx, connector, c.chargingStatus(connector)); err != nil {
		return tx, err
	}
	return tx, nil
}

// done ends a Plug or Unplug in progress on the connector.
func (c *ChargePoint) done(connector int) {
	c.mu.Lock()
	c.conns[connector].busy = false
	c.mu.Unlock()
}

// chargingStatus is Charging, or SuspendedEVSE while the limit in force is 0.
func (c *ChargePoint) chargingStatus(connector int) core.ChargePointStatus {
	if c.LimitW(connector) <= 0 {
		return core.ChargePointStatusSuspendedEVSE
	}
	return core.ChargePointStatusCharging
}

func (c *ChargePoint) sendIntent(ctx context.Context, connector, tx int, ev EV) {
	in := sessionIntent{Connector: connector, TransactionID: tx}
	if !ev.Departure.IsZero() {
		in.Departure = ev.Departure.UTC().Format(time.RFC3339)
	}
	if ev.NeedKWh > 0 {
		in.EnergyKWh = &ev.NeedKWh
	}
	if ev.MaxPowerKW > 0 {
		in.MaxPowerKW = &ev.MaxPowerKW
	}
	data, err := json.Marshal(in)
	if err != nil {
		c.log.Error("session intent", "err", err)
		return
	}
	req := core.NewDataTransferRequest(intentVendorID)
	req.MessageId = intentMessageID
	req.Data = string(data)
	resp, err := c.call(ctx, req)
	if err != nil {
		c.log.Warn("session intent not sent", "connector", connector, "err", err)
		return
	}
	if conf, ok := resp.(*core.DataTransferConfirmation); !ok || conf.Status != core.DataTransferStatusAccepted {
		c.log.Warn("session intent refused", "connector", connector, "answer", fmt.Sprintf("%+v", resp))
	}
}

// Unplug takes the EV away: StopTransaction (meterStop, timestamp Clock(), reason
// EVDisconnected) when a transaction is open, then StatusNotification Available
// (Unavailable when the connector was made inoperative).
func (c *ChargePoint) Unplug(ctx context.Context, connector int) error {
	if err := c.checkConnector(connector); err != nil {
		return err
	}
	c.mu.Lock()
	st := &c.conns[connector]
	switch {
	case st.busy:
		c.mu.Unlock()
		return fmt.Errorf("evse %s: unplug connector %d: %w", c.cfg.ID, connector, ErrBusy)
	case !st.plugged && st.tx == 0:
		c.mu.Unlock()
		return fmt.Errorf("evse %s: unplug connector %d: %w", c.cfg.ID, connector, ErrNotPlugged)
	}
	st.busy = true
	tx, idTag, meterStop := st.tx, st.idTag, int(math.Round(st.registerWh))
	c.mu.Unlock()
	defer c.done(connector)

	var errs []error
	if tx != 0 {
		errs = append(errs, c.stopTransaction(ctx, connector, tx, meterStop, idTag, core.ReasonEVDisconnected))
	}
	c.mu.Lock()
	st.plugged = false
	status := core.ChargePointStatusAvailable
	if st.inoperative {
		status = core.ChargePointStatusUnavailable
	}
	c.mu.Unlock()
	errs = append(errs, c.setStatus(ctx, connector, status))
	return errors.Join(errs...)
}

// stopTransaction ends the transaction on the charger (it is over locally whatever
// the central system answers: the EV is gone) and sends StopTransaction.
func (c *ChargePoint) stopTransaction(ctx context.Context, connector, tx, meterStopWh int, idTag string, reason core.Reason) error {
	c.mu.Lock()
	if st := &c.conns[connector]; st.tx == tx {
		st.tx, st.txStart, st.idTag = 0, time.Time{}, ""
	}
	c.profiles = dropTransaction(c.profiles, tx)
	c.mu.Unlock()
	req := core.NewStopTransactionRequest(meterStopWh, types.NewDateTime(c.cfg.Clock()), tx)
	req.IdTag, req.Reason = idTag, reason
	if _, err := c.call(ctx, req); err != nil {
		return err
	}
	c.log.Info("transaction stopped", "connector", connector, "transaction_id", tx, "meter_stop_wh", meterStopWh, "reason", reason)
	return nil
}

// Deliver adds kWh to the connector's register and sends MeterValues
// (Energy.Active.Import.Register in Wh, Power.Active.Import in W, context
// Sample.Periodic, timestamp Clock(), with the open transaction's id). The caller
// decides the power, normally within LimitW; energy needs an open transaction. The
// register keeps the energy even when the MeterValues cannot be sent: it was delivered.
func (c *ChargePoint) Deliver(ctx context.Context, connector int, kWh float64, powerW float64) error {
	if err := c.checkConnector(connector); err != nil {
		return err
	}
	if math.IsNaN(kWh) || math.IsInf(kWh, 0) || kWh < 0 {
		return fmt.Errorf("evse %s: deliver %v kWh: want a finite number ≥ 0", c.cfg.ID, kWh)
	}
	if math.IsNaN(powerW) || math.IsInf(powerW, 0) || powerW < 0 {
		return fmt.Errorf("evse %s: deliver at %v W: want a finite number ≥ 0", c.cfg.ID, powerW)
	}
	c.mu.Lock()
	st := &c.conns[connector]
	if kWh > 0 && st.tx == 0 {
		c.mu.Unlock()
		return fmt.Errorf("evse %s: deliver %v kWh on connector %d: %w", c.cfg.ID, kWh, connector, ErrNoTransaction)
	}
	st.registerWh += kWh * 1000
	tx, reg := st.tx, st.registerWh
	if limit := c.limitWLocked(connector, c.cfg.Clock()); powerW > limit*1.01+1 {
		c.log.Warn("delivering above the limit in force", "connector", connector, "power_w", powerW, "limit_w", limit)
	}
	c.mu.Unlock()
	req := core.NewMeterValuesRequest(connector, []types.MeterValue{meterValue(c.cfg.Clock(), reg, powerW, types.ReadingContextSamplePeriodic)})
	if tx != 0 {
		req.TransactionId = &tx
	}
	_, err := c.call(ctx, req)
	return err
}

// meterValue is the register (Wh) and power (W) at t.
func meterValue(t time.Time, registerWh, powerW float64, context types.ReadingContext) types.MeterValue {
	return types.MeterValue{Timestamp: types.NewDateTime(t), SampledValue: []types.SampledValue{
		{Value: decimal(registerWh), Context: context, Measurand: types.MeasurandEnergyActiveImportRegister, Unit: types.UnitOfMeasureWh},
		{Value: decimal(powerW), Context: context, Measurand: types.MeasurandPowerActiveImport, Unit: types.UnitOfMeasureW},
	}}
}

// decimal writes v to the mWh (or mW) as OCPP's decimal value.
func decimal(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
