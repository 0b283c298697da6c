package demo

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// EV fleet model.
//
// Each of ev.fleet.vehicles drives every day: its own mean distance is
// daily_km_mean × lognormal(σ 0.35, mean 1), a day's distance that mean ×
// (0.4 + 0.6·Exp(1)). It plugs in on a day with probability sessions_per_week/7, or
// whenever the energy it has used since its last charge passes half the battery:
//
//   - 88 % overnight sessions on an AC charger: arrival N(19.5 h, 1.3 h) clipped to
//     16–23:45 (a fifth arrive by day, 11–18 h), departure next morning N(8 h, 0.6 h)
//     clipped to 6:30–9:45, or N(9.5 h, 1.2 h) within 7–12 h before a day off;
//   - 12 % short daytime sessions on a DC charger: arrival 9–17 h, dwell 2–4 h.
//
// The energy wanted is the distance since the last charge × kwh_per_100km/100, capped
// at 80 % of battery_kwh (at least 0.5 kWh). Arrival is rounded up and departure down
// to steps. Sessions are assigned in order of arrival to the free charger idle
// longest: AC (≤ 22 kW) for overnight sessions, DC (> 22 kW) first then AC for short
// ones (any charger if the unit has no AC ones). A vehicle finding no free charger
// charges elsewhere: the session is dropped and counted (gen.evUnplugged). MaxKW is
// the fleet's max_charge_kw.
const (
	evShortShare   = 0.12
	evDayArrival   = 0.2
	evCapShare     = 0.8
	evForceShare   = 0.5
	evMinKWh       = 0.5
	dcThresholdKW  = 22.0
	evKmSigma      = 0.35
	evDailyKmFloor = 0.4
)

type evCandidate struct {
	vehicle        int
	arrive, depart int
	kwh            float64
	short          bool
}

func (g *gen) evSessions() ([]twin.EVSession, error) {
	f := g.u.EV.Fleet
	if f.Vehicles <= 0 || len(g.m.Chargers) == 0 {
		return nil, nil
	}
	battery := orDefault(f.BatteryKWh, unit.DefaultEVBatteryKWh)
	cons := orDefault(f.KWhPer100Km, unit.DefaultKWhPer100Km) / 100
	kmMean := orDefault(f.DailyKmMean, unit.DefaultDailyKmMean)
	spw := f.SessionsPerWeek
	if spw <= 0 {
		spw = unit.DefaultSessionsPerWeek
	}
	p := math.Min(spw/7, 1)
	r := g.stream(streamEV)
	days := g.genDays - 1
	var cands []evCandidate
	for v := range f.Vehicles {
		own := kmMean * lognormal(r, math.Exp(-evKmSigma*evKmSigma/2), evKmSigma)
		km, lastDepart := 0.0, 0
		for d := range days {
			km += own * (evDailyKmFloor + (1-evDailyKmFloor)*r.ExpFloat64())
			plug := r.Float64() < p || km*cons > evForceShare*battery
			short := r.Float64() < evShortShare
			dayArr := r.Float64() < evDayArrival
			x1, x2 := r.NormFloat64(), r.Float64()
			x3 := r.NormFloat64()
			if !plug {
				continue
			}
			var arrH, depH float64
			if short {
				arrH = 9 + 8*x2
				depH = arrH + 2 + 2*r.Float64()
			} else {
				if dayArr {
					arrH = 11 + 7*x2
				} else {
					arrH = math.Min(math.Max(19.5+1.3*x1, 16), 23.75)
				}
				if d+1 < len(g.cal.days) && g.cal.days[d+1].offWork {
					depH = 24 + math.Min(math.Max(9.5+1.2*x3, 7), 12)
				} else {
					depH = 24 + math.Min(math.Max(8+0.6*x3, 6.5), 9.75)
				}
			}
			a, dep := g.stepCeil(d, arrH), g.stepOf(d, depH)
			if dep <= a || a < lastDepart {
				continue
			}
			kwh := math.Max(math.Min(km*cons, evCapShare*battery), evMinKWh)
			km = math.Max(km-kwh/cons, 0)
			lastDepart = dep
			cands = append(cands, evCandidate{vehicle: v, arrive: a, depart: dep, kwh: kwh, short: short})
		}
	}
	// A vehicle arrives once per step at most: (arrive, vehicle) is unique.
	slices.SortFunc(cands, func(x, y evCandidate) int {
		return cmp.Or(cmp.Compare(x.arrive, y.arrive), cmp.Compare(x.vehicle, y.vehicle))
	})

	var ac, dc []int
	for c, ch := range g.m.Chargers {
		if ch.PowerKW > dcThresholdKW {
			dc = append(dc, c)
		} else {
			ac = append(ac, c)
		}
	}
	long, short := ac, append(append([]int(nil), dc...), ac...)
	if len(ac) == 0 {
		long = dc
	}
	freeAt := make([]int, len(g.m.Chargers))
	// pick returns the charger of the list idle longest at step t (first such in list order), or −1.
	pick := func(list []int, t int) int {
		best := -1
		for _, c := range list {
			if freeAt[c] <= t && (best < 0 || freeAt[c] < freeAt[best]) {
				best = c
			}
		}
		return best
	}
	g.evUnplugged = 0
	var out []twin.EVSession
	for _, s := range cands {
		var c int
		if s.short {
			if c = pick(dc, s.arrive); c < 0 {
				c = pick(short, s.arrive)
			}
		} else {
			c = pick(long, s.arrive)
		}
		if c < 0 {
			g.evUnplugged++
			continue
		}
		freeAt[c] = s.depart
		if s.arrive >= g.steps {
			continue
		}
		out = append(out, twin.EVSession{Charger: c, Vehicle: fmt.Sprintf("ev-%04d", s.vehicle+1),
			Arrive: s.arrive, Depart: min(s.depart, g.steps), EnergyKWh: s.kwh, MaxKW: f.MaxChargeKW})
	}
	return out, nil
}
