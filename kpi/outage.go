package kpi

import "math"

// Backup is the storage that can carry critical load in an outage (the batteries
// lumped together).
type Backup struct {
	CapacityKWh, MinKWh, MaxKWh float64
	PowerKW                     float64
	EtaCharge, EtaDischarge     float64
}

// OutageResult is REopt's outage-simulator output: hours of critical load carried from
// every possible start step.
type OutageResult struct {
	MinHours  float64 `json:"min_hours"`
	MeanHours float64 `json:"mean_hours"`
	MaxHours  float64 `json:"max_hours"`
	// SurvivalProbability[d] is the share of start steps from which the critical load is
	// carried for at least d hours.
	SurvivalProbability map[int]float64 `json:"survival_probability"`
	// CapHours is the longest outage simulated; MaxHours = CapHours means "at least".
	CapHours float64 `json:"cap_hours"`
}

// Outage starts a grid outage at every step (REFERENCES: REopt outage simulator) and
// serves critical load from PV first, then storage, carrying the battery's state of
// charge at that step (so dispatch that keeps batteries full is more resilient). PV
// surplus recharges the batteries. The outage wraps around the end of the series.
// criticalKW and pvKW are per step; startKWh[t] is the stored energy at the start of
// step t; dtH is the step in hours; capHours bounds each outage.
func Outage(criticalKW, pvKW, startKWh []float64, b Backup, dtH, capHours float64, durations []int) OutageResult {
	n := len(criticalKW)
	res := OutageResult{SurvivalProbability: map[int]float64{}, CapHours: capHours}
	if n == 0 {
		return res
	}
	maxSteps := int(math.Round(capHours / dtH))
	survived := make([]float64, n)
	res.MinHours = math.Inf(1)
	for s := range n {
		e := 0.0
		if startKWh != nil {
			e = startKWh[s]
		}
		h := 0.0
		for k := range maxSteps {
			t := (s + k) % n
			net := criticalKW[t] - pvKW[t]
			if net <= 0 {
				e = math.Min(b.MaxKWh, e+math.Min(-net, b.PowerKW)*b.EtaCharge*dtH)
				h += dtH
				continue
			}
			if net > b.PowerKW {
				break
			}
			draw := net * dtH / b.EtaDischarge
			if draw > e-b.MinKWh {
				// Part of the step is carried.
				if avail := e - b.MinKWh; avail > 0 {
					h += dtH * avail / draw
				}
				break
			}
			e -= draw
			h += dtH
		}
		survived[s] = h
		res.MinHours = math.Min(res.MinHours, h)
		res.MaxHours = math.Max(res.MaxHours, h)
		res.MeanHours += h
	}
	res.MeanHours /= float64(n)
	for _, d := range durations {
		c := 0
		for _, h := range survived {
			if h >= float64(d)-1e-9 {
				c++
			}
		}
		res.SurvivalProbability[d] = float64(c) / float64(n)
	}
	return res
}
