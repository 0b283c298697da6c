package policy

import (
	"math"
	"slices"
	"sort"
)

// RuleBased is a transparent operator policy built from rules an engineer can check
// by hand. It uses only what is observable at the start of a step, its own memory of
// past steps, and the published tariff (or, where prices come from data, yesterday's
// prices as the forecast):
//
//   - a site import cap: the highest household (non-shiftable + appliance) load of the
//     last seven days. Deferred EV charging and battery grid charging only fill the
//     room below it, so shifting load into cheap hours never makes a new peak;
//   - batteries absorb PV surplus that would be exported for less than it is worth
//     later; in the day's cheapest hours they charge from the grid, inside the cap, up to
//     a target that leaves room for tomorrow's PV surplus (yesterday's, as forecast), when
//     the day's spread beats round-trip losses plus a throughput (wear) cost; they
//     discharge — never into export — in the steps whose price ranks among the highest
//     before the next cheap hours, as many steps as the stored energy can cover, keeping a
//     reserve (20 % of usable energy) for critical load in an outage;
//   - EVs charge in the cheapest steps before departure that still deliver their need,
//     least laxity first, within the cap; an EV that can no longer wait charges at full
//     power; PV surplus is used whenever there is some;
//   - a shiftable run starts at the cheapest start inside its window (or on PV surplus);
//   - parking prices step once a day per time band toward 60–80 % occupancy (SFpark:
//     +step at ≥ 80 %, none at 60–80 %, −step at 30–60 %, −2 steps below 30 %); visitors
//     go to the shared space whose free window fits best, with a buffer before the owner
//     returns;
//   - rooms sell at the list price: weekly yield rules (±5 % per weekday toward 60–90 %
//     occupancy, with or without discounts) lost revenue on the demo's demand, whose
//     willingness to pay is tight around the list price;
//   - the tank releases what a forecast storm would spill (counting on half the
//     forecast rain, since forecasts miss), so the storm is detained rather than spilled.
type RuleBased struct {
	rules Rules
	sp    Setpoints

	// ThroughputCostCNYPerKWh is the battery wear charged per kWh discharged
	// (C_sys / (N · DoD), REFERENCES: LFP ≈ 750 CNY/kWh / (6,000 × 0.85) ≈ 0.15).
	ThroughputCostCNYPerKWh float64
	// ForecastRainTrust is the share of forecast rain the tank rule counts on.
	ForecastRainTrust float64
	// ReserveFraction of the usable battery energy is never used for arbitrage: it is
	// kept for critical load in a grid outage.
	ReserveFraction float64

	stepsPerDay int
	lastDay     int

	dailyPeak  []float64 // household load peak of each of the last 7 days, kW
	todayPeak  float64
	surplusKWh float64   // PV surplus energy today so far
	lastSurp   float64   // PV surplus energy expected today (forecast at midnight)
	surplusLog []float64 // observed PV surplus (kW) of every step so far

	// Surplus forecasts the PV surplus (PV − household load, kW) of the coming day from
	// the surplus observed so far; nil uses yesterday's (persistence).
	Surplus Forecaster

	bandPrice [][]float64 // [lot][band]
	occSum    [][]float64 // [lot][band] occupancy summed since the last review
	occN      [][]int

	order []int
}

// NewRuleBased returns the rule-based policy for a unit's rules.
func NewRuleBased(r Rules) *RuleBased {
	p := &RuleBased{rules: r, ThroughputCostCNYPerKWh: 0.15, ForecastRainTrust: 0.5, ReserveFraction: 0.2, lastDay: -1}
	p.sp.ParkingBestFit = true
	p.sp.ParkingBufferSteps = r.Parking.BufferSteps
	return p
}

// lots sizes the per-lot band state on the first observation that shows the lots.
func (p *RuleBased) lots(o *Observation) {
	nb := len(p.rules.Parking.Bands)
	for len(p.bandPrice) < len(o.Lots) {
		bp := make([]float64, nb)
		for b := range bp {
			bp[b] = p.rules.Parking.FixedCNYPerH
		}
		p.bandPrice = append(p.bandPrice, bp)
		p.occSum = append(p.occSum, make([]float64, nb))
		p.occN = append(p.occN, make([]int, nb))
	}
}

// Name implements Policy.
func (*RuleBased) Name() string { return "rule_based" }

// Decide implements Policy.
func (p *RuleBased) Decide(o *Observation) Setpoints {
	if p.stepsPerDay == 0 {
		p.stepsPerDay = int(math.Round(24 / o.DtH))
	}
	sp := &p.sp
	clearMap(&sp.BatteryKW)
	clearMap(&sp.ChargerKW)
	clearMap(&sp.LotPriceCNYPerH)
	p.lots(o)
	day := o.Step / p.stepsPerDay
	newDay := day != p.lastDay
	if newDay && p.lastDay >= 0 {
		p.dailyPeak = append(p.dailyPeak, p.todayPeak)
		if len(p.dailyPeak) > 7 {
			p.dailyPeak = p.dailyPeak[1:]
		}
		p.todayPeak, p.lastSurp, p.surplusKWh = 0, p.surplusKWh, 0
		if p.Surplus != nil && len(p.surplusLog) >= 7*p.stepsPerDay {
			// Expected surplus energy of the coming day: the positive part of the forecast.
			f := p.Surplus.Predict(p.surplusLog, o.Time, p.stepsPerDay)
			e := 0.0
			for _, v := range f {
				if v > 0 && !math.IsNaN(v) {
					e += v * o.DtH
				}
			}
			p.lastSurp = e
		}
	}
	p.parking(o, newDay)
	p.lastDay = day

	house := o.LoadKW + o.FlexKW
	p.todayPeak = math.Max(p.todayPeak, house)
	surplus := o.PVKW - house
	p.surplusLog = append(p.surplusLog, surplus)
	p.surplusKWh += math.Max(surplus, 0) * o.DtH
	capKW := p.todayPeak
	for _, v := range p.dailyPeak {
		capKW = math.Max(capKW, v)
	}
	if o.ImportLimitKW > 0 {
		capKW = math.Min(capKW, o.ImportLimitKW)
	}

	// Shiftable runs: start now if now is the cheapest start left (or PV covers it).
	sp.StartJobs = sp.StartJobs[:0]
	for _, j := range o.Jobs {
		last := j.LatestStart - o.Step
		power := j.EnergyKWh / (float64(j.Len) * o.DtH)
		if last <= 0 || surplus >= power || cheapestStart(o.PriceAhead, j.Len, last) == 0 {
			sp.StartJobs = append(sp.StartJobs, j.ID)
			surplus -= power
			house += power
		}
	}

	// EVs, least laxity first.
	headroom := capKW - house
	p.order = p.order[:0]
	for c, ch := range o.Chargers {
		sp.ChargerKW[ch.ID] = 0
		if ch.Connected && ch.NeedKWh > 0 {
			p.order = append(p.order, c)
		}
	}
	laxity := func(c int) int {
		ch := o.Chargers[c]
		return ch.StepsLeft - int(math.Ceil(ch.NeedKWh/(ch.Efficiency*ch.PowerKW*o.DtH)))
	}
	sort.SliceStable(p.order, func(a, b int) bool { return laxity(p.order[a]) < laxity(p.order[b]) })
	for _, c := range p.order {
		ch := o.Chargers[c]
		needSteps := ch.StepsLeft - laxity(c)
		window := o.PriceAhead[:min(ch.StepsLeft, len(o.PriceAhead))]
		var kw float64
		if laxity(c) <= 0 {
			kw = ch.PowerKW // cannot wait any longer
		} else {
			kw = math.Min(ch.PowerKW, math.Max(surplus, 0)) // free PV first
			if rankLE(window, o.ImportCNYPerKWh, needSteps) {
				kw = math.Min(ch.PowerKW, kw+math.Max(headroom, 0)) // a cheap step: fill under the cap
			}
		}
		sp.ChargerKW[ch.ID] = kw
		fromPV := math.Min(kw, math.Max(surplus, 0))
		surplus -= kw
		headroom -= kw - fromPV
	}

	// Batteries, as one fleet shared out by power rating.
	p.batteries(o, surplus, math.Max(headroom, 0))

	// Tank: let out what a forecast storm would spill.
	sp.TankReleaseM3 = 0
	w := o.Water
	if p.rules.PreReleaseRainMM > 0 && w.RainForecast24hMM >= p.rules.PreReleaseRainMM {
		expected := w.EffectiveAreaM2 * w.RainForecast24hMM / 1000 * p.ForecastRainTrust
		sp.TankReleaseM3 = math.Max(0, w.VolumeM3+expected-w.CapacityM3)
	}
	sp.CurtailPV = o.ExportCNYPerKWh < 0
	return *sp
}

// batteries decides the fleet's power: surplusKW is PV left after every load decided
// so far (negative: a deficit); headroomKW is the room under the import cap.
func (p *RuleBased) batteries(o *Observation, surplusKW, headroomKW float64) {
	sp := &p.sp
	for _, b := range o.Batteries {
		sp.BatteryKW[b.ID] = 0
	}
	if len(o.Batteries) == 0 {
		return
	}
	var energy, avail, maxKWh, minKWh, power, eta float64
	for _, b := range o.Batteries {
		energy += b.EnergyKWh
		floor := b.MinKWh + p.ReserveFraction*(b.MaxKWh-b.MinKWh)
		avail += math.Max(0, b.EnergyKWh-floor) * b.EtaDischarge
		maxKWh += b.MaxKWh
		minKWh += b.MinKWh
		power += b.PowerKW
		eta = b.EtaCharge * b.EtaDischarge
	}
	ahead := o.PriceAhead[:min(len(o.PriceAhead), p.stepsPerDay)]
	lo, hi := slices.Min(ahead), slices.Max(ahead)
	price := o.ImportCNYPerKWh
	fleet := 0.0
	switch {
	case surplusKW > 0 && o.ExportCNYPerKWh < price*eta:
		// Absorb PV that would be exported for less than it is worth later.
		fleet = math.Min(surplusKW, power)
	case surplusKW < 0 && price > lo/eta+p.ThroughputCostCNYPerKWh:
		// Discharge in the dearest steps until the next cheap hours.
		need := -surplusKW
		until := nextCheap(ahead, lo)
		covered := int(avail / math.Max(need*o.DtH, 1e-9))
		if avail > 0 && (covered >= until || rankGE(ahead[:max(until, 1)], price, max(covered, 1))) {
			fleet = -math.Min(math.Min(need, power), avail/o.DtH)
		}
	case price <= lo+1e-9 && hi*eta-price > p.ThroughputCostCNYPerKWh:
		// Cheapest hours and the spread pays for losses and wear: fill up to a target that
		// leaves room for tomorrow's PV surplus, inside the import cap.
		etaC := o.Batteries[0].EtaCharge
		target := math.Max(minKWh, maxKWh-p.lastSurp*etaC)
		if energy < target {
			fleet = math.Min(math.Min(power, headroomKW), (target-energy)/(etaC*o.DtH))
		}
	}
	for _, b := range o.Batteries {
		sp.BatteryKW[b.ID] = fleet * b.PowerKW / power
	}
}

// cheapestStart returns the offset in [0, last] of the start with the lowest total
// price over a run of n steps (earliest on ties).
func cheapestStart(prices []float64, n, last int) int {
	best, bestCost := 0, math.Inf(1)
	for s := 0; s <= last && s+n <= len(prices); s++ {
		c := 0.0
		for k := range n {
			c += prices[s+k]
		}
		if c < bestCost-1e-12 {
			best, bestCost = s, c
		}
	}
	return best
}

// rankLE reports whether price is among the k cheapest of window.
func rankLE(window []float64, price float64, k int) bool {
	below := 0
	for _, w := range window {
		if w < price-1e-12 {
			below++
		}
	}
	return below < k
}

// rankGE reports whether price is among the k dearest of window.
func rankGE(window []float64, price float64, k int) bool {
	above := 0
	for _, w := range window {
		if w > price+1e-12 {
			above++
		}
	}
	return above < k
}

// nextCheap is the number of steps until the price next falls to the day's low.
func nextCheap(ahead []float64, lo float64) int {
	for k := 1; k < len(ahead); k++ {
		if ahead[k] <= lo+1e-9 {
			return k
		}
	}
	return len(ahead)
}

// parking applies the SFpark rules once a day per lot and band, and prices the step.
func (p *RuleBased) parking(o *Observation, newDay bool) {
	pk := &p.rules.Parking
	if len(o.Lots) == 0 {
		return
	}
	prevBand := pk.BandOfHour[o.Time.Add(-stepDuration(o.DtH)).Hour()]
	if o.Step > 0 && prevBand >= 0 {
		for i, l := range o.Lots {
			p.occSum[i][prevBand] += l.Occupancy
			p.occN[i][prevBand]++
		}
	}
	if newDay && o.Step > 0 {
		for i := range p.bandPrice {
			for b := range p.bandPrice[i] {
				if p.occN[i][b] == 0 {
					continue
				}
				p.bandPrice[i][b] = clamp(p.bandPrice[i][b]+sfparkStep(p.occSum[i][b]/float64(p.occN[i][b]), pk), pk.MinCNYPerH, pk.MaxCNYPerH)
				p.occSum[i][b], p.occN[i][b] = 0, 0
			}
		}
	}
	band := pk.BandOfHour[o.Time.Hour()]
	for i, l := range o.Lots {
		if band >= 0 {
			p.sp.LotPriceCNYPerH[l.ID] = p.bandPrice[i][band]
		}
	}
}

// sfparkStep is SFpark's price change for a band's mean occupancy (REFERENCES: shared
// parking; steps scaled to the unit's step size).
func sfparkStep(occ float64, pk *Parking) float64 {
	switch {
	case occ >= pk.TargetHigh:
		return pk.StepCNYPerH
	case occ >= pk.TargetLow:
		return 0
	case occ >= 0.3:
		return -pk.StepCNYPerH
	default:
		return -2 * pk.StepCNYPerH
	}
}

var _ Policy = (*RuleBased)(nil)
