package ocpp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ocppj"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// coreHandler answers the OCPP 1.6 Core profile. ocpp-go calls it on a goroutine of its
// own per request and sends what it returns: a confirmation, or a CallError for an
// error (an *ocpp.Error keeps its code, any other error becomes InternalError).
type coreHandler struct{ c *CentralSystem }

var _ core.CentralSystemHandler = (*coreHandler)(nil)

// errNotStored is the CallError a charger gets when the sink refused its message: OCPP
// chargers resend transaction-related messages that were not confirmed. The sink's own
// error stays in our log rather than going to the charger.
func errNotStored() error {
	return ocpp.NewHandlerError(ocppj.InternalError, "message not stored, retry later")
}

func (h *coreHandler) OnBootNotification(cp string, req *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error) {
	h.c.seen(cp)
	h.c.log.Info("boot notification", "charge_point", cp, "vendor", req.ChargePointVendor, "model", req.ChargePointModel,
		"firmware", req.FirmwareVersion)
	return core.NewBootNotificationConfirmation(types.NewDateTime(h.c.now()), h.c.cfg.HeartbeatInterval, core.RegistrationStatusAccepted), nil
}

func (h *coreHandler) OnHeartbeat(cp string, _ *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error) {
	h.c.seen(cp)
	h.c.log.Debug("heartbeat", "charge_point", cp)
	return core.NewHeartbeatConfirmation(types.NewDateTime(h.c.now())), nil
}

func (h *coreHandler) OnStatusNotification(cp string, req *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error) {
	h.c.seen(cp)
	h.c.log.Info("status", "charge_point", cp, "connector", req.ConnectorId, "status", req.Status, "error_code", req.ErrorCode)
	if req.Status == core.ChargePointStatusAvailable {
		if err := h.c.loseTransaction(cp, req.ConnectorId, eventTime(req.Timestamp, h.c.now)); err != nil {
			return nil, err
		}
	}
	h.c.trackStatus(cp, req.ConnectorId, string(req.Status))
	return core.NewStatusNotificationConfirmation(), nil
}

// loseTransaction closes a transaction the central system still holds open on a
// connector its charger now reports Available: its StopTransaction never arrived (sent
// while the central system was down and not queued by the charger). The loss is
// ledgered as an ev_session_lost event, never as a stop with a made-up meter value.
func (c *CentralSystem) loseTransaction(cp string, connector int, at time.Time) error {
	tx := c.openTransaction(cp, connector)
	if tx == 0 {
		return nil
	}
	ev := reading.Event{Kind: EventSessionLost, Source: cp + "/" + strconv.Itoa(connector), Time: at, Attrs: map[string]string{
		"transaction_id": strconv.Itoa(tx), "reason": reading.AttrText("the charger reports the connector Available; its StopTransaction never arrived", 200)}}
	if err := c.ingest(cp, "StatusNotification", ingest.Input{Source: "ocpp:" + cp, Events: []reading.Event{ev}}); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.open, txKey{cp, tx})
	c.mu.Unlock()
	c.log.Warn("transaction lost: charger reports Available", "charge_point", cp, "connector", connector, "transaction_id", tx)
	c.trackLost(cp, connector)
	return nil
}

func (h *coreHandler) OnDataTransfer(cp string, req *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	h.c.seen(cp)
	return h.c.dataTransfer(cp, req), nil
}

func (h *coreHandler) OnAuthorize(cp string, req *core.AuthorizeRequest) (*core.AuthorizeConfirmation, error) {
	h.c.seen(cp)
	status := h.c.authorize(req.IdTag)
	// Never log the tag itself: it identifies a driver.
	h.c.log.Info("authorize", "charge_point", cp, "id_tag_hash", hashIDTag(req.IdTag), "status", status)
	return core.NewAuthorizationConfirmation(types.NewIdTagInfo(status)), nil
}

func (c *CentralSystem) authorize(idTag string) types.AuthorizationStatus {
	if c.allowed == nil || c.allowed[strings.ToLower(idTag)] {
		return types.AuthorizationStatusAccepted
	}
	return types.AuthorizationStatusInvalid
}

func (h *coreHandler) OnStartTransaction(cp string, req *core.StartTransactionRequest) (*core.StartTransactionConfirmation, error) {
	c := h.c
	c.seen(cp)
	status := c.authorize(req.IdTag)
	c.mu.Lock()
	id := c.nextTx
	c.nextTx++
	c.mu.Unlock()

	at := eventTime(req.Timestamp, c.now)
	ev := reading.Event{
		Kind:   reading.EVSessionStart,
		Source: cp + "/" + strconv.Itoa(req.ConnectorId),
		Time:   at,
		Attrs: map[string]string{
			"transaction_id": strconv.Itoa(id),
			"id_tag_hash":    hashIDTag(req.IdTag),
			"id_tag_status":  string(status),
			"meter_start_wh": strconv.Itoa(req.MeterStart),
		},
	}
	if req.ReservationId != nil {
		ev.Attrs["reservation_id"] = strconv.Itoa(*req.ReservationId)
	}
	in := ingest.Input{Source: "ocpp:" + cp, Events: []reading.Event{ev}}
	if err := c.ingest(cp, "StartTransaction", in); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.open[txKey{cp, id}] = transaction{connector: req.ConnectorId, meterStart: req.MeterStart}
	c.mu.Unlock()
	c.trackStart(cp, req.ConnectorId, id, req.MeterStart, at)
	// OCPP: a transaction whose tag is not accepted is still given an id; the charger
	// stops it on seeing the status.
	return core.NewStartTransactionConfirmation(types.NewIdTagInfo(status), id), nil
}

func (h *coreHandler) OnMeterValues(cp string, req *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error) {
	c := h.c
	c.seen(cp)
	in := ingest.Input{Source: "ocpp:" + cp}
	c.meterValues(&in, cp, req.ConnectorId, req.TransactionId, req.MeterValue)
	if err := c.ingest(cp, "MeterValues", in); err != nil {
		return nil, err
	}
	c.trackReadings(cp, in.Readings)
	return core.NewMeterValuesConfirmation(), nil
}

func (h *coreHandler) OnStopTransaction(cp string, req *core.StopTransactionRequest) (*core.StopTransactionConfirmation, error) {
	c := h.c
	c.seen(cp)
	key := txKey{cp, req.TransactionId}
	c.mu.Lock()
	tx, known := c.open[key]
	c.mu.Unlock()

	reason := req.Reason
	if reason == "" {
		reason = core.ReasonLocal // OCPP 1.6 §6.49: an omitted reason means Local
	}
	ev := reading.Event{
		Kind: reading.EVSessionStop,
		Time: eventTime(req.Timestamp, c.now),
		Attrs: map[string]string{
			"transaction_id": strconv.Itoa(req.TransactionId),
			"meter_stop_wh":  strconv.Itoa(req.MeterStop),
			"reason":         string(reason),
		},
	}
	if req.IdTag != "" {
		ev.Attrs["id_tag_hash"] = hashIDTag(req.IdTag)
	}
	in := ingest.Input{Source: "ocpp:" + cp}
	if known {
		ev.Source = cp + "/" + strconv.Itoa(tx.connector)
		ev.Attrs["meter_start_wh"] = strconv.Itoa(tx.meterStart)
		if e := req.MeterStop - tx.meterStart; e >= 0 {
			ev.Attrs["energy_wh"] = strconv.Itoa(e)
		} else {
			c.log.Warn("meter went backwards in a transaction", "charge_point", cp, "transaction_id", req.TransactionId,
				"meter_start_wh", tx.meterStart, "meter_stop_wh", req.MeterStop)
		}
		id := req.TransactionId
		c.meterValues(&in, cp, tx.connector, &id, req.TransactionData)
	} else {
		// Started before this central system did (or on another one): the connector
		// and the start meter are unknown, so the event names the charge point alone
		// and the transaction data, which needs a connector for its points, is
		// quarantined rather than guessed.
		ev.Source = cp
		c.log.Warn("stop of an unknown transaction", "charge_point", cp, "transaction_id", req.TransactionId)
		for _, mv := range req.TransactionData {
			for _, sv := range mv.SampledValue {
				in.Rejected = append(in.Rejected, c.rejected(cp, rawMeterValue(0, &req.TransactionId, mv.Timestamp, sv),
					"transaction "+strconv.Itoa(req.TransactionId)+" unknown: connector of its transaction data not known"))
			}
		}
	}
	in.Events = []reading.Event{ev}
	if err := c.ingest(cp, "StopTransaction", in); err != nil {
		return nil, err
	}
	if known {
		c.mu.Lock()
		delete(c.open, key)
		c.mu.Unlock()
	}
	c.trackReadings(cp, in.Readings)
	c.trackStop(cp, tx.connector, req.TransactionId, req.MeterStop, ev.Time)
	return core.NewStopTransactionConfirmation(), nil
}

// meterValues adds the readings of OCPP meter values to in; what cannot become a
// reading goes to in.Rejected with its reason.
func (c *CentralSystem) meterValues(in *ingest.Input, cp string, connector int, txID *int, mvs []types.MeterValue) {
	for _, mv := range mvs {
		for _, sv := range mv.SampledValue {
			raw := rawMeterValue(connector, txID, mv.Timestamp, sv)
			if mv.Timestamp == nil || mv.Timestamp.IsZero() {
				in.Rejected = append(in.Rejected, c.rejected(cp, raw, "meter value without timestamp"))
				continue
			}
			r, err := parseSampledValue(cp, connector, mv.Timestamp.Time, sv)
			if err != nil {
				in.Rejected = append(in.Rejected, c.rejected(cp, raw, err.Error()))
				continue
			}
			in.Readings = append(in.Readings, r)
			in.Raw = append(in.Raw, raw)
		}
	}
}

// rawMeterValue is the input one reading came from, as a MeterValues.req holding that
// one sampled value: replaying it through this adapter gives the same reading.
func rawMeterValue(connector int, txID *int, ts *types.DateTime, sv types.SampledValue) string {
	req := core.MeterValuesRequest{
		ConnectorId:   connector,
		TransactionId: txID,
		MeterValue:    []types.MeterValue{{Timestamp: ts, SampledValue: []types.SampledValue{sv}}},
	}
	b, err := json.Marshal(req)
	if err != nil {
		return `{"error":` + strconv.Quote(err.Error()) + `}`
	}
	return string(b)
}

func (c *CentralSystem) rejected(cp, raw, reason string) store.Rejected {
	return store.Rejected{Source: "ocpp:" + cp, Received: c.now().UTC(), Raw: raw, Reason: reason}
}

// ingest hands one OCPP call's input to the sink; the caller replies to the charger
// only when it returns nil, so a message is confirmed only once it is durable.
func (c *CentralSystem) ingest(cp, action string, in ingest.Input) error {
	c.enter()
	defer c.leave()
	ctx, cancel := context.WithTimeout(c.ctx, ingestTimeout)
	defer cancel()
	res, err := c.sink.Ingest(ctx, in)
	if err != nil {
		c.log.Error("ingest failed, charger will retry", "charge_point", cp, "action", action, "err", err)
		return errNotStored()
	}
	c.log.Log(ctx, levelFor(res), "ingested", "charge_point", cp, "action", action,
		"accepted", res.Accepted, "quarantined", res.Quarantined, "duplicates", res.Duplicates,
		"events", res.Events, "rejected", len(in.Rejected))
	return nil
}

func levelFor(res ingest.Result) slog.Level {
	if res.Quarantined > 0 {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// hashIDTag is what lifang keeps of an idTag: its SHA-256 in hex, never the tag.
func hashIDTag(idTag string) string {
	sum := sha256.Sum256([]byte(idTag))
	return hex.EncodeToString(sum[:])
}

// eventTime is the charger's timestamp, or now when it sent the zero time.
func eventTime(ts *types.DateTime, now func() time.Time) time.Time {
	if ts == nil || ts.IsZero() {
		return now().UTC()
	}
	return ts.UTC()
}
