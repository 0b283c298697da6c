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
//	StatusNotification  logged; nothing ingested
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
// Privacy: an idTag identifies a driver. It is never stored, logged or sent to the
// sink; events carry id_tag_hash, the SHA-256 of the tag in hex.
//
// Limits: open transactions and the transaction counter live in memory, so after a
// restart ids start again at 1 and a StopTransaction of a transaction started before
// it has no energy_wh (its event names the charge point alone and its transactionData
// is quarantined). There is no OCPP security profile (TLS, basic auth) yet.
package ocpp
