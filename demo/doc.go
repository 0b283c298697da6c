// Package demo generates the synthetic, seeded exogenous inputs of a community unit
// (twin.Inputs): weather and PV, household load, EV sessions, shiftable appliance
// runs, parking supply and demand, rental demand and tenancies, non-potable water
// demand, household groups and grid carbon intensity.
//
// # Determinism
//
// Generate is a pure function of (unit, model, seed): no clock, no global random
// source, no map iteration in output order. Each sub-model draws from its own
// math/rand/v2 PCG stream keyed by (seed, stream id) — weather sky/rain, temperature,
// forecast error, each building's load, EV, each flexible population, resident and
// visitor parking, each rental group, water, households — so adding or changing one
// model leaves every other model's numbers unchanged.
//
// Every model is generated over at least one whole year from the start date
// (and one day more, for the 24-h rain forecast) and calibrated on that first year,
// then cut to the horizon. A shorter run is therefore a prefix of the year run, and
// annual calibration targets (household kWh, annual rain, occupancy) hold exactly or
// in expectation over the first year regardless of the horizon.
//
// # Time
//
// Shapes are hourly. For 15- or 30-minute steps, powers (kW) are held over the hour's
// steps, depths and volumes (mm, m³) are split evenly, and the temperature is linearly
// interpolated between hour centres. Event times (arrivals, windows) are drawn in
// fractional hours and rounded to steps. Hours count from local midnight of the start
// date, so in zones with daylight saving time the clock hour drifts by one in summer;
// China has none.
//
// # Sources
//
// Climatology: Guangzhou normals (China Meteorological Administration 1991–2020:
// monthly mean temperature, precipitation, rain days and sunshine hours). Solar
// geometry: Spencer (1971) declination and equation of time; clear-sky GHI:
// Haurwitz (1945); diffuse fraction: Erbs, Klein & Duffie (1982); transposition:
// isotropic sky (Liu & Jordan 1963); cell temperature: NOCT model (45 °C) with
// −0.4 %/°C above 25 °C. Load shape: typical southern-China residential
// smart-meter profiles (morning bump, evening peak 19–23 h, night trough) with
// cooling-degree-hour air conditioning. Parking: REFERENCES.md "Shared parking"
// (residential/commuter complementarity, SFpark price response). Rentals:
// REFERENCES.md "Rentable sub-units". Water: REFERENCES.md "Water". Each file's doc
// comment lists its parameters.
package demo
