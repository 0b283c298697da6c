// Package twin is the digital twin of a community operating unit: a discrete-time
// engine (hourly by default; 15- and 30-minute steps work the same way) that drives
// every subsystem model with exogenous Inputs and a policy.Policy's Setpoints (resolved
// by asset id: an id the model does not have, or a NaN, is ignored), and records what
// the plant actually did. Run drives a whole horizon; Sim is the same engine stepped
// from outside (Observe, Apply), as the site emulator does.
//
// Models (equations and numbers in ../shared/REFERENCES.md):
//   - PV: capacity × output per kW installed from the data; curtailed at the export
//     limit or, on request, when export prices are negative.
//   - Battery: E ← E(1−σ)^Δt, then E += η_c P_c Δt − P_d Δt / η_d within power and SoC
//     limits (η_c = η_d = √round-trip); ageing by NREL BLAST-Lite LFP-Gr (calendar and
//     cycle fade, virtual-time accumulation day by day).
//   - EV charging: sessions with arrival, departure and energy need; charger and
//     vehicle power limits and charger efficiency; unmet energy at departure reported.
//   - Shiftable runs: a load profile that may start anywhere in its window; the plant
//     starts a run itself when its deadline arrives.
//   - Transformer: imports above the limit shed EV charging, then battery charging;
//     exports above it cut battery discharge, then PV. What cannot be shed is reported
//     as overload.
//   - Shared parking: public spaces and resident spaces offered in declared windows;
//     visitors pay by the hour if the price is within their willingness to pay and a
//     space fits their stay (plus a buffer before the owner returns); overstays past an
//     owner's return are conflicts.
//   - Rentals: short-term rooms sell nights to guests whose willingness to pay reaches
//     the rate; long-term units earn rent on leased days (occupancy, ADR, RevPAR).
//   - Rainwater: first-flush diversion per rain event, runoff C·A·rain, YAS or YBS tank
//     with releases decided by the policy; storm-day runoff kept is "detained".
//
// The engine is pure: no clock, no randomness, no I/O; the same inputs and policy give
// the same Result. Policies see an Observation holding only what is knowable at the
// start of a step (measured load and PV of the step, device states, the published
// tariff ahead, forecasts) — never realised future values.
package twin
