// Package site is the live plant: it builds a policy's observation from the store's
// latest readings and the devices' state, and carries the policy's setpoints out
// through the actuation adapters — OCPP 1.6J smart charging (ingest/ocpp), Modbus TCP
// register writes (ingest/modbus) and MQTT commands with acknowledgements — behind a
// safety layer that enforces the assets' limits whatever the policy says.
//
// # Steps and evidence
//
// The controller decides once a step (the unit's simulation.step_minutes). Each step
// puts two batches in the ledger: first the decision (policy and version, the step,
// the SHA-256 of its inputs — observation, prices ahead and plan — and the observation
// itself, so an auditor can re-run the policy) with the commands it is about to send,
// then every answer (accepted, rejected, timed out) and any alarm. A step that has a
// decision but no answers was interrupted (the process died): a restart logs it and
// decides it again under new command ids (<run>-<step>-<attempt>-<device>), so a command
// id is never used twice. Steps the controller was not running for are logged as missed,
// with the reason.
//
// # Topics (MQTT, <unit> is the unit's name)
//
//	lifang/<unit>/readings, /events          meters and appliance requests (ingest/mqtt)
//	lifang/<unit>/commands/<device>           Command, QoS 1
//	lifang/<unit>/acks/<device>               Ack; none within command_timeout_s is a timeout
//	lifang/<unit>/clock                       Tick: simulated time (sitesim), retained
//	lifang/<unit>/clock/ack                   TickAck: the controller decided the step
//	lifang/<unit>/controller                  Controller: online/offline, retained
//
// # Observation
//
//   - load: Σ of the load meters' power; flex: the appliance circuits' meter; PV: minus
//     the PV meters' power (generation is negative, export-like);
//   - a meter whose latest reading is older than max_staleness is stale: its value is
//     replaced by its reading 24 h earlier (persistence, the documented fallback), or its
//     last reading when there is none; an alarm is raised and cleared when it is fresh;
//   - batteries: Modbus read of the stored energy and the power it can take and give;
//     usable range from the unit (capacity × soc_min … soc_max);
//   - chargers: the central system's connector state; an EV's remaining need is the
//     driver's declared need less the metered energy × charger efficiency, its
//     departure the declared one;
//   - appliance runs: flex_request events not yet started nor past their latest start;
//   - tariff and prices ahead: the unit's TOU tariff.
//
// # Safety
//
// Battery power is clamped to the nameplate, to what the BESS reports it can take or
// give now (its SoC limits) and to the site import limit; charger limits to
// max_current_a and to the import limit (EV charging is shed first, as the twin does).
// Each clamp is an event. A battery that cannot be read or whose data is stale goes to
// standby; a charger that cannot be reached is left to its own default; both raise an
// alarm, cleared when the device answers again. Commands over max_commands_per_hour
// for a device are not sent (logged). Dry run decides and logs without sending.
// Overrides (control_override events: device, value, expiry, who) pin a setpoint until
// they expire.
package site
