package ocpp

import (
	"context"
	"fmt"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
)

// maxIDTagLen is OCPP 1.6's IdToken length (CiString20Type).
const maxIDTagLen = 20

// RemoteStart asks the charge point to start a transaction for idTag on connector
// (RemoteStartTransaction); connector 0 lets the charger choose. Accepted means the
// charger will try: the transaction itself arrives as a StartTransaction.
func (c *CentralSystem) RemoteStart(ctx context.Context, cp string, connector int, idTag string) CommandResult {
	const action = "RemoteStartTransaction"
	if connector < 0 {
		return c.invalid(cp, action, fmt.Errorf("connector %d: want ≥ 1, or 0 for any", connector))
	}
	if idTag == "" || len(idTag) > maxIDTagLen {
		return c.invalid(cp, action, fmt.Errorf("idTag of %d characters: want 1–%d", len(idTag), maxIDTagLen))
	}
	req := core.NewRemoteStartTransactionRequest(idTag)
	if connector > 0 {
		conn := connector
		req.ConnectorId = &conn
	}
	// The idTag identifies a driver: the ledger gets its hash, as for sessions.
	logged := *req
	logged.IdTag = "sha256:" + hashIDTag(idTag)
	what := fmt.Sprintf("%s connector %d id_tag_hash %s", action, connector, hashIDTag(idTag))
	return c.simple(ctx, cp, what, req, marshalRequest(&logged), func(r ocpp.Response) (string, bool) {
		conf, ok := r.(*core.RemoteStartTransactionConfirmation)
		if !ok {
			return "", false
		}
		return string(conf.Status), true
	}, nil)
}

// RemoteStop asks the charge point to stop a transaction (RemoteStopTransaction).
// Accepted means the charger will stop it: the stop arrives as a StopTransaction.
func (c *CentralSystem) RemoteStop(ctx context.Context, cp string, transaction int) CommandResult {
	const action = "RemoteStopTransaction"
	if transaction < 1 {
		return c.invalid(cp, action, fmt.Errorf("transaction %d: want ≥ 1 (ids given by this central system)", transaction))
	}
	req := core.NewRemoteStopTransactionRequest(transaction)
	what := fmt.Sprintf("%s transaction %d", action, transaction)
	return c.simple(ctx, cp, what, req, marshalRequest(req), func(r ocpp.Response) (string, bool) {
		conf, ok := r.(*core.RemoteStopTransactionConfirmation)
		if !ok {
			return "", false
		}
		return string(conf.Status), true
	}, nil)
}

// Trigger asks the charge point to send a message now (TriggerMessage):
// "BootNotification", "Heartbeat", "MeterValues", "StatusNotification",
// "DiagnosticsStatusNotification" or "FirmwareStatusNotification"; connector 0 means
// the charge point as a whole. A charger's NotImplemented becomes NotSupported.
func (c *CentralSystem) Trigger(ctx context.Context, cp string, connector int, message string) CommandResult {
	const action = "TriggerMessage"
	switch message {
	case "BootNotification", "Heartbeat", "MeterValues", "StatusNotification",
		"DiagnosticsStatusNotification", "FirmwareStatusNotification":
	default:
		return c.invalid(cp, action, fmt.Errorf("message %q: want BootNotification, Heartbeat, MeterValues, "+
			"StatusNotification, DiagnosticsStatusNotification or FirmwareStatusNotification", message))
	}
	if connector < 0 {
		return c.invalid(cp, action, fmt.Errorf("connector %d: want ≥ 0", connector))
	}
	req := remotetrigger.NewTriggerMessageRequest(remotetrigger.MessageTrigger(message))
	if connector > 0 {
		conn := connector
		req.ConnectorId = &conn
	}
	what := fmt.Sprintf("%s %s connector %d", action, message, connector)
	return c.simple(ctx, cp, what, req, marshalRequest(req), func(r ocpp.Response) (string, bool) {
		conf, ok := r.(*remotetrigger.TriggerMessageConfirmation)
		if !ok {
			return "", false
		}
		return string(conf.Status), true
	}, nil)
}
