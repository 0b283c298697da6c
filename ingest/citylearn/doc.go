// Package citylearn imports a CityLearn dataset directory (schema.json plus its CSV
// files) as a lifang unit and the exogenous inputs that drive the twin.
//
// The format is CityLearn's (https://github.com/intelligent-environments-lab/CityLearn,
// MIT): one row per time step, no timestamps, energies per step. The mapping, and the
// choices where CityLearn and lifang do not say the same thing:
//
//   - Every CityLearn energy is per time step: non_shiftable_load is kWh per step and
//     solar_generation is Wh per kW installed per step (W/kW on the hourly sets). The
//     inputs carry mean power, so both are divided by the step length in hours; on
//     hourly data the values pass through unchanged (kWh per hour = kW).
//   - Prices in pricing.csv are USD/kWh. They are carried as-is into the fields named
//     CNY: converting would invent an exchange rate, and the policies only compare
//     prices with each other.
//   - Battery efficiency is round-trip, as in lifang. SoCMin is 1 − depth_of_discharge;
//     CityLearn's default depth of discharge is 1 (an empty battery is allowed), which
//     lifang cannot express because 0 means "use the default", so it becomes SoCMin
//     1e-4. SoCInitial is initial_soc, raised to SoCMin (CityLearn starts empty).
//   - EV sessions come from the charger files (state 1 = connected). A stay ends at the
//     first row that is not connected, or where the vehicle or its departure countdown
//     restarts: the data counts electric_vehicle_departure_time down to 0 on the last
//     connected row, so a well-formed stay of d+1 rows begins with departure time d.
//     SoCs are percent.
//   - Washing-machine windows [wm_start_time_step, wm_end_time_step] are absolute time
//     steps with an inclusive end; load_profile lists kWh per step.
//   - Columns are read by name and only the ones named here: the *_predicted_* columns
//     of weather.csv and pricing.csv are perfect foresight and never enter the inputs.
package citylearn
