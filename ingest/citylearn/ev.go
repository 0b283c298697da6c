package citylearn

import "github.com/lifang-community/lifang/twin"

// CityLearn charger states (electric_vehicle_charger_state).
const stateConnected = 1 // 2 is an announced arrival, 3 an empty charger

// readSessions turns charger file rows into the plug-in sessions of charger ci. Only
// the simulated rows are read; some files run on for years.
//
// A stay is a run of connected rows of one vehicle. The departure countdown
// (electric_vehicle_departure_time) reaches 0 on the last connected row, so Depart, the
// first row after the run, is normally Arrive + departure time + 1. A few stays in the
// published files follow one another without a free row; they are told apart by the
// vehicle id or by the countdown starting again. The first row of a stay gives the SoC
// at arrival; SoCs are percent.
func (im *importer) readSessions(file string, ci int) ([]twin.EVSession, error) {
	t, err := openTable(im.dir, file)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	var cols [4]int
	for i, name := range []string{"electric_vehicle_charger_state", "electric_vehicle_id", "current_soc", "electric_vehicle_required_soc_departure"} {
		if cols[i], err = t.col(name); err != nil {
			return nil, err
		}
	}
	cState, cID, cSoC, cReq := cols[0], cols[1], cols[2], cols[3]
	cCap := t.optCol("electric_vehicle_battery_capacity_khw")
	cDep := t.optCol("electric_vehicle_departure_time")

	var out []twin.EVSession
	open := false
	prevID, prevDep, prevDepOK := "", 0.0, false
	n := im.skip + im.steps
	for r := range n {
		if err := t.next(n); err != nil {
			return nil, err
		}
		i := r - im.skip // negative before the simulated steps
		state, ok, err := t.optFloat(cState, "electric_vehicle_charger_state")
		if err != nil {
			return nil, err
		}
		if !ok || state != stateConnected {
			open = false
			continue
		}
		id := t.rec[cID]
		dep, depOK := 0.0, false
		if cDep >= 0 {
			if dep, depOK, err = t.optFloat(cDep, "electric_vehicle_departure_time"); err != nil {
				return nil, err
			}
		}
		if !open || id != prevID || (depOK && prevDepOK && dep > prevDep) {
			e, err := im.sessionEnergy(t, id, cSoC, cReq, cCap)
			if err != nil {
				return nil, err
			}
			out = append(out, twin.EVSession{Charger: ci, Vehicle: id, Arrive: i, EnergyKWh: e})
			open = true
		}
		out[len(out)-1].Depart = i + 1
		prevID, prevDep, prevDepOK = id, dep, depOK
	}
	// Stays begun before the first simulated step start with it.
	kept := out[:0]
	for _, s := range out {
		if s.Depart > 0 {
			s.Arrive = max(s.Arrive, 0)
			kept = append(kept, s)
		}
	}
	return kept, nil
}

// sessionEnergy is the energy the vehicle of the current (arrival) row asks for:
// (required SoC − SoC) × battery capacity, or 0 if it already has enough. The capacity
// is the row's, else the vehicle's in electric_vehicles_def.
func (im *importer) sessionEnergy(t *table, id string, cSoC, cReq, cCap int) (float64, error) {
	soc, err := t.float(cSoC, "current_soc")
	if err != nil {
		return 0, err
	}
	req, err := t.float(cReq, "electric_vehicle_required_soc_departure")
	if err != nil {
		return 0, err
	}
	capKWh, ok := 0.0, false
	if cCap >= 0 {
		if capKWh, ok, err = t.optFloat(cCap, "electric_vehicle_battery_capacity_khw"); err != nil {
			return 0, err
		}
		if ok && capKWh <= 0 {
			return 0, t.errorf("electric_vehicle_battery_capacity_khw: %v is not positive", capKWh)
		}
	}
	if !ok {
		capKWh, ok = im.vehicles[id]
	}
	if !ok || capKWh <= 0 {
		return 0, t.errorf("vehicle %q: no battery capacity (electric_vehicle_battery_capacity_khw is empty and electric_vehicles_def has none)", id)
	}
	return max(0, req-soc) / 100 * capKWh, nil
}
