// Package ocpp is lifang's OCPP 1.6J central system (Open Charge Alliance, OCPP 1.6
// edition 2, JSON over WebSocket; built on github.com/lorenzodonini/ocpp-go). Chargers
// connect to ws://host:port/<chargePointId>; each call that carries data becomes one
// ingest.Input with Source "ocpp:<chargePointId>", and the charger gets its reply only
// after the sink returned nil. A sink error becomes a CallError (InternalError), so the
// charger keeps the message and resends it, as OCPP requires for transaction messages;
// duplicates are idempotent in the sink.
//
// What each call becomes:
//
//	BootNotification    accepted, with the heartbeat interval; logged, nothing ingested
//	Heartbeat           the current time; nothing ingested
//	StatusNotification  the connector's status (ConnectorState); nothing ingested
//	DataTransfer        a session intent (below) is recorded and Accepted; another
//	                    vendorId gets UnknownVendorId, another messageId of
//	                    cn.lifang UnknownMessageId; nothing ingested
//	Authorize           Accepted, or Invalid for a tag outside Config.AllowedIDTags
//	StartTransaction    event ev_session_start, Source "<cp>/<connector>", attributes
//	                    transaction_id, id_tag_hash, id_tag_status, meter_start_wh
//	                    (reservation_id when given); the transaction id is the next
//	                    value of a counter starting at 1 for each CentralSystem
//	MeterValues         one reading per sampled value
//	StopTransaction     event ev_session_stop with transaction_id, meter_stop_wh, reason
//	                    (Local when omitted, §6.49), and meter_start_wh and energy_wh =
//	                    stop − start when the start is known; plus the readings of its
//	                    transactionData
//
// A sampled value becomes a reading of point "<cp>/<connector>/<measurand>" where the
// measurand is in snake case (Energy.Active.Import.Register, the default, becomes
// energy_active_import_register), followed by "_<phase>" ("_l1", "_l1_n") when a phase is
// given and "_<location>" for any location but Outlet. Units: Wh, kWh, W, kW, A, V as
// they are; Percent → %; Celsius → degC (K and Fahrenheit converted); var → kvar;
// Frequency is always Hz. The value must be a plain decimal number. Whatever cannot
// become a reading (a non-numeric or signed value, power factor, RPM and reactive
// energy, which lifang has no unit for) goes to Input.Rejected with its reason and, as
// raw input, a MeterValues request holding just that sampled value.
//
// # Steering
//
// The central system also commands chargers, synchronously: each command returns a
// CommandResult (status, what was sent and answered, attempts, the request's JSON for
// the ledger) once the charger answered or gave up.
//
//	SetLimit     SetChargingProfile: Absolute, one period from startSchedule = the
//	             caller's time (never time.Now: the controller may run on simulated
//	             time), in W or in A with numberPhases; a TxProfile for the
//	             connector's open transaction, else a TxDefaultProfile for the
//	             connector. Ids are ProfileID(connector, purpose) and the stack level
//	             LimitStackLevel, so by OCPP 1.6 §3.13.2 each limit replaces the last.
//	             Once Accepted, GetCompositeSchedule (CompositeDurationS, same unit)
//	             checks the limit in force: Confirmed within 1 % or 1 W / 0.1 A.
//	ClearLimit   ClearChargingProfile of the connector at LimitStackLevel (lifang's
//	             TxProfile and TxDefaultProfile); Unknown when there was none
//	RemoteStart  RemoteStartTransaction (the idTag reaches the charger; the result
//	RemoteStop   carries its hash), RemoteStopTransaction
//	Trigger      TriggerMessage
//
// A charge point whose websocket is not connected gives Offline at once. Each request
// is bounded by ctx and Config.RequestTimeout (ocpp-go's dispatcher timeout); on a
// timeout or a lost connection it is resent after Config.RetryBackoff, doubled each
// time, up to Config.MaxAttempts in all while ctx allows: Timeout when no attempt was
// answered. An answer — Rejected, NotSupported, a CallError other than InternalError
// (which a failed write also gives) — is never resent.
// Commands to one charge point run one at a time (ocpp-go sends one request per
// charger at a time).
//
// Connectors and Connector give what is known of each connector: online and last
// seen (from the websocket and every message), status, open transaction and its
// meterStart, the newest energy register (Wh) and active power (W) readings, and the
// driver's declared departure, energy need and maximum power. Transactions and
// readings count once the sink stored their message, as the charger's confirmation
// does.
//
// # Session intents
//
// What a driver declared for a session — departure time, energy need — comes from the
// charge point as a DataTransfer with vendorId "cn.lifang" (VendorID), messageId
// "SessionIntent" and as data the JSON string
//
//	{"connector":1,"transaction_id":12,"departure":"2025-03-01T17:30:00+08:00","energy_kwh":23.5}
//
// (see SessionIntent; an optional "max_power_kw" gives the most the EV takes). It
// stands in for what ISO 15118 (the EV's departure time, energy request and maximum
// power) or a booking app would give, until lifang speaks those. It is kept on
// the connector until its transaction stops; an intent for another transaction than
// the open one, or malformed, is Rejected with the reason as data.
//
// Privacy: an idTag identifies a driver. It is never stored, logged or sent to the
// sink; events carry id_tag_hash, the SHA-256 of the tag in hex.
//
// Limits: open transactions, the transaction counter and the connector state live in
// memory, so after a
// restart ids start again at 1 and a StopTransaction of a transaction started before
// it has no energy_wh (its event names the charge point alone and its transactionData
// is quarantined). There is no OCPP security profile (TLS, basic auth) yet.
package ocpp
