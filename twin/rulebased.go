package twin

import (
	"math"
	"slices"
)

// RuleBased is a transparent operator policy built from rules an engineer can check
// by hand; it uses only what is observable at the start of a step and the published
// tariff (or, where prices come from data, yesterday's prices as the forecast):
//
//   - batteries absorb PV surplus that would be exported; in the cheapest hours of the
//     day they charge from the grid when the coming spread beats round-trip losses plus
//     a throughput (degradation) cost; they discharge — never into export — in the
//     steps whose price ranks among the highest before the next cheap hours, as many
//     steps as the stored energy can cover;
//   - EVs charge in the cheapest steps before departure that still deliver their energy
//     (least laxity first when time runs short), and on PV surplus;
//   - a shiftable run starts at the cheapest start inside its window;
//   - parking prices step by time band toward 60–80 % occupancy (SFpark rules), visitors
//     go to the shared space that fits best, with a buffer before the owner returns;
//   - room rates move ±5 % a week toward 60–90 % occupancy;
//   - the tank empties room before forecast heavy rain.
type RuleBased struct {
	m  *Model
	sp Setpoints

	// ThroughputCostCNYPerKWh is the battery wear charged per kWh discharged
	// (C_sys / (N · DoD), REFERENCES: LFP ≈ 750 CNY/kWh / (6,000 × 0.85)).
	ThroughputCostCNYPerKWh float64

	stepsPerDay int
	bandPrice   [][]float64 // [lot][band]
	occSum      [][]float64 // [lot][band] occupancy summed over yesterday
	occN        [][]int
	adr         []float64
	lastDay     int
}

// NewRuleBased returns the rule-based policy for a model.
func NewRuleBased(m *Model) *RuleBased {
	p := &RuleBased{m: m, ThroughputCostCNYPerKWh: 0.15, lastDay: -1}
	p.sp.BatteryKW = make([]float64, len(m.Batteries))
	p.sp.ChargerKW = make([]float64, len(m.Chargers))
	p.sp.LotPriceCNYPerH = make([]float64, len(m.Parking.Lots))
	p.sp.ParkingBestFit = true
	p.sp.ParkingBufferSteps = m.Parking.BufferSteps
	nb := len(m.Parking.Bands)
	for range m.Parking.Lots {
		bp := make([]float64, nb)
		for b := range bp {
			bp[b] = m.Parking.FixedCNYPerH
		}
		p.bandPrice = append(p.bandPrice, bp)
		p.occSum = append(p.occSum, make([]float64, nb))
		p.occN = append(p.occN, make([]int, nb))
	}
	for _, r := range m.Rentals {
		p.adr = append(p.adr, r.ADRCNY)
	}
	p.sp.RentalADRCNY = make([]float64, len(m.Rentals))
	return p
}

// Name implements Policy.
func (*RuleBased) Name() string { return "rule_based" }

// Decide implements Policy.
func (p *RuleBased) Decide(o *Observation) Setpoints {
	if p.stepsPerDay == 0 {
		p.stepsPerDay = int(math.Round(24 / o.DtH))
	}
	sp := &p.sp
	day := o.Step / p.stepsPerDay
	p.parking(o, day)
	p.rentals(o, day)
	p.lastDay = day

	ahead := o.PriceAhead[:min(len(o.PriceAhead), p.stepsPerDay)]
	surplus := o.PVKW - o.LoadKW - o.FlexKW

	// Shiftable runs: start now if now is the cheapest start left (or PV covers it).
	sp.StartJobs = sp.StartJobs[:0]
	for _, j := range o.Jobs {
		last := j.LatestStart - o.Step
		power := j.EnergyKWh / (float64(j.Len) * o.DtH)
		if last <= 0 || surplus >= power || cheapestStart(o.PriceAhead, j.Len, last) == 0 {
			sp.StartJobs = append(sp.StartJobs, j.Index)
			surplus -= power
		}
	}

	// EVs: charge in the cheapest steps that still meet the need.
	for c, ch := range o.Chargers {
		sp.ChargerKW[c] = 0
		if !ch.Connected || ch.NeedKWh <= 0 {
			continue
		}
		stepsNeeded := int(math.Ceil(ch.NeedKWh / (ch.Efficiency * ch.PowerKW * o.DtH)))
		window := o.PriceAhead[:min(ch.StepsLeft, len(o.PriceAhead))]
		switch {
		case stepsNeeded >= ch.StepsLeft, rankLE(window, o.ImportCNYPerKWh, stepsNeeded):
			sp.ChargerKW[c] = ch.PowerKW
		case surplus > 0:
			sp.ChargerKW[c] = math.Min(ch.PowerKW, surplus)
		}
		surplus -= sp.ChargerKW[c]
	}
	evKW := 0.0
	for _, k := range sp.ChargerKW {
		evKW += k
	}

	// Batteries, as one fleet sharing out the decision by power.
	p.batteries(o, o.PVKW-o.LoadKW-o.FlexKW-evKW, ahead)

	// Tank: make room for forecast heavy rain.
	sp.TankReleaseM3 = 0
	w := o.Water
	if p.m.Water.PreReleaseRainMM > 0 && w.RainForecast24hMM >= p.m.Water.PreReleaseRainMM {
		expected := w.EffectiveAreaM2 * w.RainForecast24hMM / 1000
		sp.TankReleaseM3 = math.Max(0, w.VolumeM3+expected-w.CapacityM3)
	}
	sp.CurtailPV = o.ExportCNYPerKWh < 0
	return *sp
}

func (p *RuleBased) batteries(o *Observation, surplusKW float64, ahead []float64) {
	sp := &p.sp
	var avail, room, maxC, maxD, eta float64
	for _, b := range o.Batteries {
		avail += math.Max(0, b.EnergyKWh-b.MinKWh) * b.EtaDischarge
		room += math.Max(0, b.MaxKWh-b.EnergyKWh) / b.EtaCharge
		maxC += b.PowerKW
		maxD += b.PowerKW
		eta = b.EtaCharge * b.EtaDischarge
	}
	for i := range sp.BatteryKW {
		sp.BatteryKW[i] = 0
	}
	if len(o.Batteries) == 0 {
		return
	}
	lo, hi := slices.Min(ahead), slices.Max(ahead)
	price := o.ImportCNYPerKWh
	fleet := 0.0
	switch {
	case surplusKW > 0 && o.ExportCNYPerKWh < price*eta:
		// Absorb PV that would be exported for less than it is worth later.
		fleet = math.Min(surplusKW, maxC)
	case surplusKW < 0 && price > lo/eta+p.ThroughputCostCNYPerKWh:
		// Discharge in the dearest steps until the next cheap hours.
		need := -surplusKW
		until := nextCheap(ahead, lo)
		covered := int(avail / math.Max(need*o.DtH, 1e-9))
		if covered >= until || rankGE(ahead[:max(until, 1)], price, max(covered, 1)) {
			fleet = -math.Min(need, maxD)
		}
	case price <= lo+1e-9 && hi*eta-price > p.ThroughputCostCNYPerKWh && room > 0:
		// Cheapest hours, and the day's spread pays for losses and wear: fill up.
		fleet = maxC
	}
	// Share the fleet setpoint by power rating.
	for i, b := range o.Batteries {
		if fleet > 0 {
			sp.BatteryKW[i] = fleet * b.PowerKW / maxC
		} else {
			sp.BatteryKW[i] = fleet * b.PowerKW / maxD
		}
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
func (p *RuleBased) parking(o *Observation, day int) {
	pk := &p.m.Parking
	if len(pk.Lots) == 0 {
		return
	}
	prevHour := o.Time.Add(-stepDuration(o.DtH)).Hour()
	prevBand := pk.BandOfHour[prevHour]
	if o.Step > 0 && prevBand >= 0 {
		for i, l := range o.Lots {
			p.occSum[i][prevBand] += l.Occupancy
			p.occN[i][prevBand]++
		}
	}
	if day != p.lastDay && day > 0 {
		for i := range p.bandPrice {
			for b := range p.bandPrice[i] {
				if p.occN[i][b] == 0 {
					continue
				}
				occ := p.occSum[i][b] / float64(p.occN[i][b])
				step := 0.0
				switch {
				case occ >= pk.TargetHigh:
					step = pk.StepCNYPerH
				case occ >= pk.TargetLow:
				case occ >= 0.3:
					step = -pk.StepCNYPerH
				default:
					step = -2 * pk.StepCNYPerH
				}
				p.bandPrice[i][b] = clamp(p.bandPrice[i][b]+step, pk.MinCNYPerH, pk.MaxCNYPerH)
				p.occSum[i][b], p.occN[i][b] = 0, 0
			}
		}
	}
	band := pk.BandOfHour[o.Time.Hour()]
	for i := range p.sp.LotPriceCNYPerH {
		if band >= 0 {
			p.sp.LotPriceCNYPerH[i] = p.bandPrice[i][band]
		}
	}
}

// rentals reviews short-term room rates weekly: +5 % above 90 % occupancy, −5 % below
// 60 %, within 70–150 % of the list price.
func (p *RuleBased) rentals(o *Observation, day int) {
	for i, r := range p.m.Rentals {
		if !r.ShortTerm {
			continue
		}
		if day != p.lastDay && day > 0 && day%7 == 0 {
			occ := o.Rentals[i].OccupancyLast7Days
			switch {
			case occ > 0.9:
				p.adr[i] *= 1.05
			case occ < 0.6:
				p.adr[i] *= 0.95
			}
			p.adr[i] = clamp(p.adr[i], 0.7*r.ADRCNY, 1.5*r.ADRCNY)
		}
		p.sp.RentalADRCNY[i] = p.adr[i]
	}
}

var _ Policy = (*RuleBased)(nil)
