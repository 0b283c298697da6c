package demo

// Non-potable water demand model.
//
// water.non_potable_demand_m3_per_day D is split into flushing (65 %) and irrigation
// (35 %), each normalised so that the first 365 days use 365 × D in total:
//
//   - flushing follows occupancy: the hourly shape flushShape (morning peak 6–9 h,
//     evening 18–23 h, little at night), × 0.7 during the Spring Festival exodus,
//     × N(1, 0.05) day to day;
//   - irrigation runs 6–8 h only on dry days (< 1 mm of rain that day and < 5 mm the
//     day before), more in summer: 1 + 0.5 sin(2π(day of year − 105)/365), peaking in
//     mid-July.
//
// Volumes are m³ per step; the series has the horizon's length even when D = 0.
const (
	irrigationShare = 0.35
	irrigationDryMM = 1.0
	irrigationWetMM = 5.0
)

var flushShape = [24]float64{0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 1.2, 1.8, 1.5, 0.9, 0.7, 0.7, 0.8, 0.7, 0.6, 0.6, 0.7, 0.9, 1.2, 1.4, 1.5, 1.6, 1.4, 0.8}

func (g *gen) waterDemand() []float64 {
	dem := g.u.Water.NonPotableDemandM3PerDay
	if dem <= 0 {
		return make([]float64, g.steps)
	}
	r := g.stream(streamWater)
	nh := g.genDays * 24
	flush := make([]float64, nh)
	irr := make([]float64, nh)
	var fSum, iSum float64
	for d := range g.genDays {
		di := g.cal.days[d]
		k := 1 + 0.05*r.NormFloat64()
		if di.festival {
			k *= festivalFactor
		}
		dry := g.w.dailyMM[d] < irrigationDryMM && (d == 0 || g.w.dailyMM[d-1] < irrigationWetMM)
		season := 1 + 0.5*sin2pi((float64(di.yday)-105)/365)
		for h := range 24 {
			i := d*24 + h
			hod := g.cal.hourOfDay[i]
			flush[i] = k * flushShape[hod]
			if dry && (hod == 6 || hod == 7) {
				irr[i] = season
			}
			if i < yearHours {
				fSum += flush[i]
				iSum += irr[i]
			}
		}
	}
	total := dem * 365
	fk, ik := 0.0, 0.0
	if iSum > 0 {
		fk, ik = (1-irrigationShare)*total/fSum, irrigationShare*total/iSum
	} else {
		fk = total / fSum
	}
	hourly := make([]float64, nh)
	for i := range hourly {
		hourly[i] = fk*flush[i] + ik*irr[i]
	}
	return g.split(hourly)
}
