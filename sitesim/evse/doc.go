// Package evse is an emulated OCPP 1.6J charge point for hardware-in-the-loop site
// emulation: it connects to a central system (lifang's ingest/ocpp or any other) as a
// real charger would, reports what the site simulator makes its EVs do, and obeys the
// smart-charging limits it is sent. Built on the charge-point side of
// github.com/lorenzodonini/ocpp-go (OCPP 1.6 edition 2, JSON over WebSocket).
//
// The simulator drives it: Plug (Preparing, StartTransaction, a SessionIntent
// DataTransfer, Charging), Deliver (add energy to the connector's register and send
// MeterValues), Unplug (StopTransaction, Available). It reads LimitW to know how fast
// the EV may charge. Every timestamp sent, and every profile evaluation, uses
// Config.Clock, so the emulator runs on simulated time; only the heartbeat, the
// reconnection backoff and request timeouts use wall time.
//
// What the central system may ask, and what the emulator does:
//
//	SetChargingProfile      checked as OCPP 1.6 §5.16 and §3.13 ask (a TxProfile needs the
//	                        connector's open transaction, ChargePointMaxProfile only on
//	                        connector 0, periods from 0 s in order, stackLevel ≤ 10, at
//	                        most 24 periods and 20 profiles); installed with the
//	                        §3.13.2 replacement rule (same id, or same connector,
//	                        purpose and stackLevel); Rejected always with
//	                        Config.RejectProfiles
//	ClearChargingProfile    by id, or by connector / purpose / stackLevel; Accepted, or
//	                        Unknown when nothing matched
//	GetCompositeSchedule    the composite limit (see ChargePoint.LimitW) from Clock() for
//	                        the duration asked, in W or A (W when not asked)
//	RemoteStart/StopTransaction
//	                        Accepted and carried out (a remote start plugs an EV in;
//	                        a remote stop ends the transaction, status Finishing) when
//	                        a free connector or the transaction exists; else Rejected
//	ChangeAvailability      Accepted, or Scheduled while an EV is there
//	Reset                   Accepted: transactions end, the charger boots again
//	UnlockConnector         Unlocked (ending a transaction first)
//	Get/ChangeConfiguration a few keys: HeartbeatInterval, MeterValueSampleInterval,
//	                        ConnectionTimeOut (writable, seconds) and the read-only
//	                        smart-charging ones
//	ClearCache              Accepted (there is no cache)
//	DataTransfer            UnknownVendorId, or UnknownMessageId for cn.lifang
//	TriggerMessage          BootNotification, Heartbeat, StatusNotification and
//	                        MeterValues sent; NotImplemented for the firmware ones
//
// Simplifications: the ChargePointMaxProfile caps each connector rather than their
// sum; the EV takes whatever Deliver says (a warning is logged above the limit); open
// transactions survive Close and reconnections, as on a charger that queues its
// messages, but messages that failed are not queued and resent.
package evse
