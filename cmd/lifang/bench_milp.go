package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/optimize"
	"github.com/lifang-community/lifang/optimize/solver"
	"github.com/lifang-community/lifang/scenario"
)

// benchMILP schedules one CityLearn building's battery, EV charging and washing-machine
// runs jointly (a MILP) and reports cost, unmet EV energy, gap and time.
func benchMILP(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench milp", "--citylearn DIR [--building NAME] [--days N] [--time-limit D] [--gap G]", stderr)
	dir := fs.String("citylearn", "", "CityLearn dataset directory")
	name := fs.String("building", "Building_1", "building to schedule")
	days := fs.Int("days", 365, "days from the start of the data")
	limit := fs.Duration("time-limit", 60*time.Second, "solver time limit")
	gap := fs.Float64("gap", 1e-4, "relative MIP gap to stop at")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usageError{"--citylearn DIR is required"}
	}
	c, err := scenario.FromCityLearn(*dir, citylearn.Options{})
	if err != nil {
		return err
	}
	m, in := c.Model, c.Inputs
	bi := -1
	for i, b := range m.Buildings {
		if b.Name == *name {
			bi = i
		}
	}
	if bi < 0 {
		return usageError{fmt.Sprintf("no building %q", *name)}
	}
	n := min(*days*24, in.Steps)
	net := make([]float64, n)
	for t := range n {
		net[t] = in.BuildingLoadKW[bi][t]
	}
	for a, pv := range m.PV {
		if pv.Building == bi {
			for t := range n {
				net[t] -= pv.CapacityKW * in.PVKWPerKWp[a][t]
			}
		}
	}
	var bat optimize.Battery
	for _, b := range m.Batteries {
		if b.Building == bi {
			bat = optimize.Battery{CapacityKWh: b.CapacityKWh, PowerKW: b.PowerKW, EtaCharge: b.EtaCharge, EtaDischarge: b.EtaDischarge,
				MinKWh: b.SoCMin * b.CapacityKWh, MaxKWh: b.SoCMax * b.CapacityKWh, InitialKWh: b.SoCMin * b.CapacityKWh}
		}
	}
	if bat.CapacityKWh == 0 {
		bat = optimize.Battery{EtaCharge: 1, EtaDischarge: 1}
	}
	var evs []optimize.EVNeed
	for _, s := range in.EVSessions {
		if m.Chargers[s.Charger].Building == bi && s.Arrive < n {
			ch := m.Chargers[s.Charger]
			evs = append(evs, optimize.EVNeed{Arrive: s.Arrive, Depart: min(s.Depart, n), EnergyKWh: s.EnergyKWh, MaxKW: ch.PowerKW, Efficiency: ch.Efficiency})
		}
	}
	var runs []optimize.Run
	for _, j := range in.Jobs {
		if j.Building == bi && j.Latest <= n {
			runs = append(runs, optimize.Run{Earliest: j.Earliest, Latest: j.Latest, ProfileKW: j.ProfileKW})
		}
	}
	maxPrice := 0.0
	for _, p := range in.ImportPriceCNYPerKWh[:n] {
		maxPrice = math.Max(maxPrice, p)
	}
	res, err := optimize.Joint(net, in.ImportPriceCNYPerKWh[:n], 0, bat, evs, runs, in.Step.Hours(), 10*maxPrice,
		solver.Options{TimeLimit: *limit, MIPGap: *gap})
	if res == nil {
		return err
	}
	out := map[string]any{"building": *name, "hours": n, "ev_sessions": len(evs), "runs": len(runs), "result": res}
	if err != nil {
		out["error"] = err.Error()
	}
	return printJSON(stdout, out)
}
