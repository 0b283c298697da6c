package demo

import (
	"math"

	"github.com/lifang-community/lifang/unit"
)

// Household load model.
//
// A building's non-shiftable load is its households × a mix of three household
// archetypes (working family 50 %, retirees 25 %, young workers 25 %, each weight
// × lognormal(σ 0.25) per building, renormalised), each an hourly shape for working
// days and for weekends/holidays typical of southern-China residential meters:
// night trough 2–6 h, morning bump 7–9 h, evening peak 19–23 h (retirees earlier and
// higher by day, young workers later and empty by day). On top:
//
//   - air conditioning: acKWPerK = 0.22 kW per household per K of outdoor temperature
//     above 26 °C (cooling degree-hours), weighted by the share of households at home
//     (acPresence: 0.85 at night, 0.35 on working-day afternoons, 1 in the evening);
//     heating 0.04 kW/K below 12 °C;
//   - the Spring Festival exodus: × 0.7 for 14 days from 5 days before the festival
//     (29 January in 2025);
//   - per-building occupancy (× lognormal σ 0.06) and AC propensity (σ 0.12);
//   - multiplicative AR(1) noise (φ = 0.7 per hour), sd √(0.05² + 0.6²/n): 0.6 is a
//     single household's hourly variability, summed analytically over its n households,
//     0.05 the building-wide part (floored at 5 % of the mean).
//
// Scaling: buildings with annual_load_kwh are scaled to it over the first 365 days;
// the others share one factor so that their households use households.annual_load_kwh
// each on average (default 2,400 kWh), keeping the diversity between buildings.
var archetypes = [3][2][24]float64{
	{ // working family: working day, day off
		{0.55, 0.45, 0.38, 0.35, 0.34, 0.36, 0.50, 0.80, 0.85, 0.65, 0.55, 0.60, 0.72, 0.60, 0.52, 0.52, 0.58, 0.78, 1.00, 1.25, 1.35, 1.35, 1.15, 0.85},
		{0.60, 0.48, 0.40, 0.36, 0.34, 0.35, 0.42, 0.58, 0.80, 0.92, 0.90, 0.95, 1.00, 0.88, 0.80, 0.78, 0.82, 0.95, 1.10, 1.30, 1.38, 1.35, 1.18, 0.90},
	},
	{ // retirees
		{0.40, 0.34, 0.30, 0.29, 0.30, 0.40, 0.75, 0.95, 0.85, 0.80, 0.85, 1.00, 0.95, 0.75, 0.70, 0.72, 0.85, 1.05, 1.20, 1.20, 1.05, 0.85, 0.62, 0.48},
		{0.42, 0.35, 0.31, 0.30, 0.30, 0.38, 0.70, 0.92, 0.90, 0.88, 0.90, 1.02, 0.98, 0.80, 0.75, 0.78, 0.90, 1.08, 1.22, 1.22, 1.08, 0.88, 0.65, 0.50},
	},
	{ // young workers
		{0.70, 0.55, 0.40, 0.33, 0.30, 0.30, 0.35, 0.60, 0.55, 0.30, 0.25, 0.25, 0.28, 0.26, 0.25, 0.25, 0.28, 0.35, 0.55, 0.90, 1.20, 1.40, 1.45, 1.15},
		{0.85, 0.70, 0.55, 0.42, 0.35, 0.32, 0.32, 0.35, 0.42, 0.55, 0.75, 0.90, 0.95, 0.90, 0.85, 0.82, 0.85, 0.95, 1.10, 1.25, 1.35, 1.40, 1.35, 1.10},
	},
}

var archetypeMix = [3]float64{0.5, 0.25, 0.25}

// acPresence is the share of households at home to run air conditioning, by hour
// (working day, day off).
var acPresence = [2][24]float64{
	{0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.5, 0.5, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.7, 1, 1, 1, 1, 1},
	{0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 1, 1, 1, 1, 1, 1},
}

const (
	coolingBaseC     = 26.0
	heatingBaseC     = 12.0
	acKWPerK         = 0.22
	heatKWPerK       = 0.04
	festivalFactor   = 0.7
	loadPhi          = 0.7
	householdNoiseSD = 0.6
	buildingNoiseSD  = 0.05
)

// loads returns BuildingLoadKW.
func (g *gen) loads() [][]float64 {
	nb := len(g.u.Buildings)
	nh := g.genDays * 24
	hourly := make([][]float64, nb)
	raw := make([]float64, nb)
	for b, bl := range g.u.Buildings {
		r := g.stream(familyLoad<<32 | uint64(b))
		n := float64(bl.Households)
		if n == 0 && bl.AnnualLoadKWh > 0 {
			n = 50 // a non-residential building: diversity of ~50 meters
		}
		var mix [3]float64
		sum := 0.0
		for a := range mix {
			mix[a] = archetypeMix[a] * lognormal(r, 1, 0.25)
			sum += mix[a]
		}
		var shape [2][24]float64
		for k := range 2 {
			for h := range 24 {
				for a := range mix {
					shape[k][h] += mix[a] / sum * archetypes[a][k][h]
				}
			}
		}
		occ := lognormal(r, 1, 0.06)
		ac := lognormal(r, 1, 0.12)
		sd := math.Sqrt(buildingNoiseSD*buildingNoiseSD + householdNoiseSD*householdNoiseSD/math.Max(n, 1))
		innov := sd * math.Sqrt(1-loadPhi*loadPhi)
		e := sd * r.NormFloat64()
		s := make([]float64, nh)
		for i := range s {
			d := g.cal.days[i/24]
			k := 0
			if d.offWork {
				k = 1
			}
			hod := g.cal.hourOfDay[i]
			t := g.w.tempC[i]
			v := occ*shape[k][hod] + ac*acPresence[k][hod]*(acKWPerK*math.Max(t-coolingBaseC, 0)+heatKWPerK*math.Max(heatingBaseC-t, 0))
			if d.festival {
				v *= festivalFactor
			}
			if i > 0 {
				e = loadPhi*e + innov*r.NormFloat64()
			}
			s[i] = n * v * math.Max(1+e, 0.05)
			if i < yearHours {
				raw[b] += s[i]
			}
		}
		hourly[b] = s
	}
	// Scale.
	perHH := orDefault(g.u.Households.AnnualLoadKWh, unit.DefaultHouseholdLoadKWh)
	sharedTarget, sharedRaw := 0.0, 0.0
	for b, bl := range g.u.Buildings {
		if bl.AnnualLoadKWh <= 0 {
			sharedTarget += float64(bl.Households) * perHH
			sharedRaw += raw[b]
		}
	}
	out := make([][]float64, nb)
	for b, bl := range g.u.Buildings {
		k := 0.0
		switch {
		case bl.AnnualLoadKWh > 0 && raw[b] > 0:
			k = bl.AnnualLoadKWh / raw[b]
		case bl.AnnualLoadKWh <= 0 && sharedRaw > 0:
			k = sharedTarget / sharedRaw
		}
		s := hourly[b]
		for i := range s {
			s[i] *= k
		}
		out[b] = g.hold(s)
	}
	return out
}
