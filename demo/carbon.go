package demo

import "math"

// Grid carbon intensity model.
//
// CarbonKgPerKWh is China Southern Grid's average emission factor, ≈ 0.5 kg CO₂/kWh
// (the 2022 regional grid baseline factors are 0.45–0.55), with a seasonal swing of
// ±8 % (more hydro in the wet summer, more coal in the dry winter) and a diurnal one
// of ±5 % (lowest at 13 h with solar and hydro peaking, highest at 1 h on coal
// baseload). It is an average factor standing in for the marginal one; no randomness.
const (
	carbonMeanKg     = 0.5
	carbonSeasonal   = 0.08
	carbonDiurnal    = 0.05
	carbonLowestHour = 13.0
)

func sin2pi(x float64) float64 { return math.Sin(2 * math.Pi * x) }

func (g *gen) carbon() []float64 {
	out := make([]float64, g.steps)
	for s := range out {
		h := s / g.sph
		d := g.cal.days[h/24]
		hod := float64(g.cal.hourOfDay[h]) + (float64(s%g.sph)+0.5)/float64(g.sph)
		season := math.Cos(2 * math.Pi * (float64(d.yday) - 15) / 365)
		diurnal := -math.Cos(2 * math.Pi * (hod - carbonLowestHour) / 24)
		out[s] = carbonMeanKg * (1 + carbonSeasonal*season + carbonDiurnal*diurnal)
	}
	return out
}
