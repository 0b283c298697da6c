package twin

import "math"

// TankStep advances a rainwater store by one step (REFERENCES: water). With
// ybs = false it is the yield-after-spillage rule
//
//	Y_t = min(D_t, V_{t−1});  V_t = min(V_{t−1} + Q_t − Y_t, S − Y_t)
//
// and with ybs = true the yield-before-spillage rule
//
//	Y_t = min(D_t, V_{t−1} + Q_t);  V_t = min(V_{t−1} + Q_t, S) − Y_t.
//
// It returns the yield Y, the new volume V and the spill; V_{t−1} + Q = Y + V + spill.
func TankStep(ybs bool, prev, capacity, inflow, demand float64) (yield, volume, spill float64) {
	if ybs {
		yield = math.Min(demand, prev+inflow)
		volume = math.Min(prev+inflow, capacity) - yield
	} else {
		yield = math.Min(demand, prev)
		volume = math.Min(prev+inflow-yield, capacity-yield)
	}
	spill = prev + inflow - yield - volume
	if spill < 1e-12 {
		spill = 0
	}
	return yield, volume, spill
}

// catchment tracks one catchment's first-flush diversion: the first FirstFlushMM of
// every rain event is diverted; an event ends after dryReset hours without rain.
type catchment struct {
	spec     CatchmentSpec
	ffLeftMM float64
	dryHours float64
}

const dryResetHours = 6

// runoffM3 is Q = C·A·max(R − first flush left, 0) for rain mm falling in dt hours.
func (c *catchment) runoffM3(rainMM, dt float64) float64 {
	if rainMM <= 0 {
		c.dryHours += dt
		if c.dryHours >= dryResetHours {
			c.ffLeftMM = c.spec.FirstFlushMM
		}
		return 0
	}
	c.dryHours = 0
	eff := math.Max(rainMM-c.ffLeftMM, 0)
	c.ffLeftMM = math.Max(c.ffLeftMM-rainMM, 0)
	return c.spec.EffectiveAreaM2 * eff / 1000
}

// Reliability of a tank run: volumetric ΣY/ΣD and the share of steps with demand
// whose demand was fully met.
func Reliability(yield, demand []float64) (volumetric, time float64) {
	var sy, sd float64
	met, with := 0, 0
	for i := range demand {
		sy += yield[i]
		sd += demand[i]
		if demand[i] > 0 {
			with++
			if yield[i] >= demand[i]-1e-9 {
				met++
			}
		}
	}
	if sd > 0 {
		volumetric = sy / sd
	}
	if with > 0 {
		time = float64(met) / float64(with)
	}
	return volumetric, time
}
