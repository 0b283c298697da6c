package twin

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/lifang-community/lifang/policy"
)

// Progress receives the number of steps done; nil disables reporting.
type Progress func(done, total int)

// Run simulates the unit under a policy for the whole horizon of the inputs. It is pure:
// the same model, inputs and policy give the same result.
func Run(m *Model, in *Inputs, p policy.Policy, progress Progress) (*Result, error) {
	return RunContext(context.Background(), m, in, p, progress)
}

// RunContext is Run that stops, returning ctx's error, when ctx ends (checked once a
// simulated day).
func RunContext(ctx context.Context, m *Model, in *Inputs, p policy.Policy, progress Progress) (*Result, error) {
	if err := in.Validate(m); err != nil {
		return nil, fmt.Errorf("twin: %w", err)
	}
	r := newRun(m, in, p.Name())
	perDay := max(1, int(24*time.Hour/in.Step))
	for t := 0; t < in.Steps; t++ {
		if t%perDay == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		o := r.begin(t)
		r.apply(t, o, p.Decide(o))
		if progress != nil && (t+1)%(in.Steps/20+1) == 0 {
			progress(t+1, in.Steps)
		}
	}
	res := r.finish()
	if progress != nil {
		progress(in.Steps, in.Steps)
	}
	return res, nil
}

type run struct {
	m   *Model
	in  *Inputs
	res *Result
	dt  float64

	stepsPerDay int
	months      []int // month index of each step (0 = first month of the run)
	price       []float64
	period      []string
	dataPrices  bool

	bats     []*battery
	stress   []dayAcc
	startKWh float64
	sessions [][]EVSession // per charger, by arrival
	nextSess []int
	curSess  []int // index into sessions[c] of the connected EV, -1 if none
	needKWh  []float64
	jobOrder []int
	nextJob  int
	pending  []int // job indices waiting to start
	flexFut  []float64
	delaySum float64
	lots     []*lot
	reqs     map[int][]ParkingRequest // arrival step → requests
	lotPrice []float64
	rentals  []*rental
	water    float64
	catch    []catchment
	stormDay []bool
	obs      policy.Observation
	evKW     []float64 // per-step scratch: charger power
	batKW    []float64 // per-step scratch: battery power
	// evApplied and batApplied are the step's charger and battery powers as applied.
	evApplied, batApplied []float64
	startedNow            []int // runs started in the step
	started               map[int]bool
}

// dayAcc accumulates a battery's stress over the current day.
type dayAcc struct {
	steps              int
	socSum, tempSum    float64
	throughput, absSum float64
	active             int
	socMin, socMax     float64
}

func newRun(m *Model, in *Inputs, name string) *run {
	dt := in.Step.Hours()
	r := &run{m: m, in: in, dt: dt, stepsPerDay: int(math.Round(24 / dt))}
	res := &Result{Policy: name, Start: in.Start, Step: in.Step, Steps: in.Steps, DtH: dt}
	r.res = res
	n := in.Steps
	s := &res.Series
	for _, f := range []*[]float64{&s.LoadKW, &s.EVKW, &s.FlexKW, &s.PVAvailKW, &s.PVUsedKW, &s.BatteryKW, &s.BatteryKWh,
		&s.ImportKW, &s.ExportKW, &s.ImportPrice, &s.ExportPrice, &s.CarbonKg, &s.ParkingOccupancy, &s.ParkingPrice,
		&s.WaterVolumeM3, &s.WaterSuppliedM3, &s.WaterDemandM3, &s.WaterSpillM3} {
		*f = make([]float64, n)
	}

	// Calendar and prices.
	r.months = make([]int, n)
	r.price = make([]float64, n)
	r.period = make([]string, n)
	r.dataPrices = in.ImportPriceCNYPerKWh != nil
	first := in.Start.In(m.Loc)
	for t := range n {
		ts := r.at(t)
		r.months[t] = (ts.Year()-first.Year())*12 + int(ts.Month()) - int(first.Month())
		pr, per := m.Tariff.ImportPrice(ts)
		if r.dataPrices {
			pr = in.ImportPriceCNYPerKWh[t]
		}
		r.price[t], r.period[t] = pr, per
	}
	nMonths := r.months[n-1] + 1

	for _, b := range m.Batteries {
		bb := newBattery(b)
		r.bats = append(r.bats, bb)
		r.startKWh += bb.energyKWh
	}
	r.stress = make([]dayAcc, len(r.bats))
	r.batKW = make([]float64, len(r.bats))
	r.evKW = make([]float64, len(m.Chargers))
	r.batApplied = make([]float64, len(r.bats))
	r.evApplied = make([]float64, len(m.Chargers))
	r.started = map[int]bool{}
	for i := range r.stress {
		r.resetDay(i)
	}

	r.sessions = make([][]EVSession, len(m.Chargers))
	for _, ss := range in.EVSessions {
		r.sessions[ss.Charger] = append(r.sessions[ss.Charger], ss)
	}
	for c := range r.sessions {
		sort.SliceStable(r.sessions[c], func(i, j int) bool { return r.sessions[c][i].Arrive < r.sessions[c][j].Arrive })
	}
	r.nextSess = make([]int, len(m.Chargers))
	r.curSess = make([]int, len(m.Chargers))
	r.needKWh = make([]float64, len(m.Chargers))
	for c := range r.curSess {
		r.curSess[c] = -1
	}

	r.jobOrder = make([]int, len(in.Jobs))
	for i := range r.jobOrder {
		r.jobOrder[i] = i
	}
	sort.SliceStable(r.jobOrder, func(a, b int) bool { return in.Jobs[r.jobOrder[a]].Earliest < in.Jobs[r.jobOrder[b]].Earliest })
	r.flexFut = make([]float64, n)

	winsByLot := make([][]ResidentWindow, len(m.Parking.Lots))
	for _, w := range in.ResidentWindows {
		winsByLot[w.Lot] = append(winsByLot[w.Lot], w)
	}
	for i, ls := range m.Parking.Lots {
		r.lots = append(r.lots, newLot(ls, m.Parking.ResidentShare, n, nMonths, winsByLot[i]))
	}
	r.lotPrice = make([]float64, len(r.lots))
	for i := range r.lotPrice {
		r.lotPrice[i] = m.Parking.FixedCNYPerH
	}
	r.reqs = map[int][]ParkingRequest{}
	for _, q := range in.ParkingRequests {
		r.reqs[q.Arrive] = append(r.reqs[q.Arrive], q)
	}

	days := (n + r.stepsPerDay - 1) / r.stepsPerDay
	for _, rs := range m.Rentals {
		r.rentals = append(r.rentals, newRental(rs, days, nMonths))
	}
	for _, q := range in.RentalRequests {
		rr := r.rentals[q.Rental]
		rr.requests[q.Day] = append(rr.requests[q.Day], q)
	}
	for _, tn := range in.Tenancies {
		r.rentals[tn.Rental].lease(tn, r.monthOfDay)
	}

	r.water = math.Min(m.Water.InitialM3, m.Water.CapacityM3)
	for _, c := range m.Water.Catchments {
		r.catch = append(r.catch, catchment{spec: c, ffLeftMM: c.FirstFlushMM, dryHours: dryResetHours})
	}
	r.stormDay = make([]bool, days)
	if in.RainMM != nil {
		daily := make([]float64, days)
		for t, mm := range in.RainMM {
			daily[t/r.stepsPerDay] += mm
		}
		for d, mm := range daily {
			r.stormDay[d] = mm >= stormDayMM
		}
	}
	res.Water.MonthlySuppliedM3 = make([]float64, nMonths)
	res.Water.MonthlyDetainedM3 = make([]float64, nMonths)

	o := &r.obs
	o.DtH = dt
	o.Batteries = make([]policy.BatteryState, len(r.bats))
	o.Chargers = make([]policy.ChargerState, len(m.Chargers))
	o.Lots = make([]policy.LotState, len(r.lots))
	o.Rentals = make([]policy.RentalState, len(r.rentals))
	o.ImportLimitKW, o.ExportLimitKW = m.ImportLimitKW, m.ExportLimitKW
	o.PriceAhead = make([]float64, 0, 2*r.stepsPerDay)
	return r
}

// stormDayMM is the daily rain (mm) from which runoff kept out of the drains earns
// detention credit: China's "heavy rain" (大雨) threshold.
const stormDayMM = 25

func (r *run) at(t int) time.Time {
	return r.in.Start.Add(time.Duration(t) * r.in.Step).In(r.m.Loc)
}

func (r *run) monthOfDay(d int) int {
	t := min(d*r.stepsPerDay, r.in.Steps-1)
	return r.months[t]
}

func (r *run) resetDay(i int) {
	b := r.bats[i]
	soc := b.energyKWh / math.Max(b.spec.CapacityKWh, 1e-9)
	r.stress[i] = dayAcc{socMin: soc, socMax: soc}
}

// observe fills the observation of step t.
func (r *run) observe(t int) *policy.Observation {
	in, m, o := r.in, r.m, &r.obs
	o.Step, o.Time = t, r.at(t)
	o.LoadKW, o.PVKW = 0, 0
	for b := range in.BuildingLoadKW {
		o.LoadKW += in.BuildingLoadKW[b][t]
	}
	for a, pv := range m.PV {
		o.PVKW += pv.CapacityKW * in.PVKWPerKWp[a][t]
	}
	o.FlexKW = r.flexFut[t]
	o.ImportCNYPerKWh, o.ExportCNYPerKWh, o.Period = r.price[t], m.ExportCNYPerKWh, r.period[t]
	o.PriceAhead = o.PriceAhead[:0]
	for k := range 2 * r.stepsPerDay {
		o.PriceAhead = append(o.PriceAhead, r.priceAhead(t, k))
	}
	for i, b := range r.bats {
		o.Batteries[i] = policy.BatteryState{ID: b.spec.Name, EnergyKWh: b.energyKWh, MinKWh: b.minKWh(), MaxKWh: b.maxKWh(), PowerKW: b.spec.PowerKW,
			EtaCharge: b.spec.EtaCharge, EtaDischarge: b.spec.EtaDischarge}
	}
	for c, ch := range m.Chargers {
		cs := policy.ChargerState{ID: ch.Name, Efficiency: ch.Efficiency}
		if k := r.curSess[c]; k >= 0 {
			s := r.sessions[c][k]
			cs.Connected, cs.NeedKWh, cs.StepsLeft = true, r.needKWh[c], s.Depart-t
			cs.PowerKW = ch.PowerKW
			if s.MaxKW > 0 {
				cs.PowerKW = math.Min(cs.PowerKW, s.MaxKW)
			}
		}
		o.Chargers[c] = cs
	}
	o.Jobs = o.Jobs[:0]
	for _, j := range r.pending {
		job := in.Jobs[j]
		e := 0.0
		for _, p := range job.ProfileKW {
			e += p * r.dt
		}
		o.Jobs = append(o.Jobs, policy.JobState{ID: j, LatestStart: job.Latest - len(job.ProfileKW), Len: len(job.ProfileKW), EnergyKWh: e})
	}
	for i, l := range r.lots {
		o.Lots[i] = policy.LotState{ID: l.spec.Name, Occupancy: l.lastOcc, PriceCNYPerH: r.lotPrice[i]}
	}
	for i, rr := range r.rentals {
		d := t / r.stepsPerDay
		o.Rentals[i] = policy.RentalState{ID: rr.spec.Name, OccupancyLast7Days: rr.occupancyLast7(d), SoldLastNight: rr.soldShare(d - 1), ADRCNY: rr.spec.ADRCNY}
	}
	o.Water = policy.WaterState{VolumeM3: r.water, CapacityM3: m.Water.CapacityM3}
	for _, c := range m.Water.Catchments {
		o.Water.EffectiveAreaM2 += c.EffectiveAreaM2
	}
	if in.RainForecast24hMM != nil {
		o.Water.RainForecast24hMM = in.RainForecast24hMM[t]
	}
	return o
}

// priceAhead is the import price expected k steps after t: the tariff where the tariff
// prices imports; otherwise the latest known price at the same time of day.
func (r *run) priceAhead(t, k int) float64 {
	if !r.dataPrices {
		if t+k < r.in.Steps {
			return r.price[t+k]
		}
		p, _ := r.m.Tariff.ImportPrice(r.at(t + k))
		return p
	}
	i := t + k
	for i > t {
		i -= r.stepsPerDay
	}
	if i < 0 {
		return r.price[t]
	}
	return r.price[i]
}

// begin runs the events at the start of step t and returns its observation.
func (r *run) begin(t int) *policy.Observation {
	in := r.in
	// Events at the start of the step: departures, arrivals, job windows, parking releases.
	for c := range r.curSess {
		if k := r.curSess[c]; k >= 0 && r.sessions[c][k].Depart <= t {
			r.depart(c)
		}
		if r.curSess[c] < 0 && r.nextSess[c] < len(r.sessions[c]) && r.sessions[c][r.nextSess[c]].Arrive <= t {
			k := r.nextSess[c]
			r.nextSess[c]++
			r.curSess[c] = k
			r.needKWh[c] = r.sessions[c][k].EnergyKWh
			r.res.EV.Sessions++
			r.res.EV.RequestedKWh += r.sessions[c][k].EnergyKWh
		}
	}
	for r.nextJob < len(r.jobOrder) && in.Jobs[r.jobOrder[r.nextJob]].Earliest <= t {
		r.pending = append(r.pending, r.jobOrder[r.nextJob])
		r.nextJob++
	}
	for _, l := range r.lots {
		l.free(t)
	}
	for _, b := range r.bats {
		b.selfDischarge(r.dt)
	}
	return r.observe(t)
}

// apply runs step t under the setpoints decided on its observation o.
func (r *run) apply(t int, o *policy.Observation, sp policy.Setpoints) {
	in, m, dt := r.in, r.m, r.dt
	day := t / r.stepsPerDay
	month := r.months[t]

	// Shiftable runs: start what the policy chose, force what reached its deadline.
	r.startJobs(t, sp.StartJobs)

	// EV charging requests, clipped to charger, vehicle and remaining need.
	evKW, batKW := r.evKW, r.batKW
	for c := range m.Chargers {
		evKW[c] = 0
		kw, ok := sp.ChargerKW[m.Chargers[c].Name]
		if r.curSess[c] < 0 || !ok || math.IsNaN(kw) {
			continue
		}
		cs := o.Chargers[c]
		evKW[c] = clamp(kw, 0, math.Min(cs.PowerKW, r.needKWh[c]/(cs.Efficiency*dt)))
	}
	// Battery requests, clipped to power and SoC limits.
	for i, b := range r.bats {
		batKW[i] = 0
		kw, ok := sp.BatteryKW[b.spec.Name]
		if !ok || math.IsNaN(kw) {
			continue
		}
		c, d := b.limits(dt)
		batKW[i] = clamp(kw, -d, c)
	}

	load := o.LoadKW
	flex := r.flexFut[t]
	pv := o.PVKW
	sum := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s
	}
	net := load + flex + sum(evKW) + sum(batKW) - pv

	// Transformer import limit: shed EV charging, then battery charging.
	if lim := m.ImportLimitKW; lim > 0 && net > lim {
		net = shed(evKW, net-lim, net)
		net = shed(batKW, net-lim, net)
	}
	// Export limit: cut battery discharge, then curtail PV.
	pvUsed := pv
	if lim := m.ExportLimitKW; lim > 0 && -net > lim {
		net = -shedNegative(batKW, -net-lim, -net)
	}
	if lim := m.ExportLimitKW; lim > 0 && -net > lim {
		cut := -net - lim
		pvUsed -= cut
		net += cut
	}
	if sp.CurtailPV && net < 0 {
		cut := math.Min(-net, pvUsed)
		pvUsed -= cut
		net += cut
	}

	// Apply to devices.
	evAC := 0.0
	copy(r.evApplied, evKW)
	for c, p := range evKW {
		if p <= 0 {
			continue
		}
		eff := m.Chargers[c].Efficiency
		r.needKWh[c] = math.Max(0, r.needKWh[c]-p*eff*dt)
		r.res.EV.DeliveredKWh += p * eff * dt
		evAC += p
	}
	batNet := 0.0
	for i, b := range r.bats {
		p := b.apply(batKW[i], dt)
		r.batApplied[i] = p
		batNet += p
		r.accumulate(i, t, p)
	}
	net = load + flex + evAC + batNet - pvUsed
	imp, exp := math.Max(net, 0), math.Max(-net, 0)
	if lim := m.ImportLimitKW; lim > 0 && imp > lim+1e-9 {
		r.res.Energy.OverloadKWh += (imp - lim) * dt
		r.res.Energy.OverloadSteps++
	}

	// Parking: prices for this step's arrivals, then the arrivals.
	for i, l := range r.lots {
		if p := sp.LotPriceCNYPerH[l.spec.Name]; p > 0 && !math.IsInf(p, 0) {
			r.lotPrice[i] = p
		}
	}
	buffer := max(sp.ParkingBufferSteps, 0)
	for _, q := range r.reqs[t] {
		r.lots[q.Lot].arrive(q, t, month, r.lotPrice[q.Lot], dt, sp.ParkingBestFit, buffer, in.Steps)
	}
	delete(r.reqs, t)
	occ, offered, priceSum := 0.0, 0.0, 0.0
	for i, l := range r.lots {
		o := l.occupancy(t)
		l.lastOcc = o
		l.occSum += o
		l.priceSum += r.lotPrice[i]
		w := float64(l.spec.PublicSpaces() + int(l.openShared[t]))
		occ += o * w
		offered += w
		priceSum += r.lotPrice[i]
	}
	if offered > 0 {
		r.res.Series.ParkingOccupancy[t] = occ / offered
	}
	if len(r.lots) > 0 {
		r.res.Series.ParkingPrice[t] = priceSum / float64(len(r.lots))
	}

	// Rentals sell tonight's requests at the first step of each day.
	if t%r.stepsPerDay == 0 {
		for _, rr := range r.rentals {
			if !rr.spec.ShortTerm {
				continue
			}
			adr := rr.spec.ADRCNY
			if a := sp.RentalADRCNY[rr.spec.Name]; a > 0 && !math.IsInf(a, 0) {
				adr = a
			}
			rr.day(day, adr, r.monthOfDay)
		}
	}

	r.stepWater(t, day, month, sp.TankReleaseM3)

	// Record.
	s := &r.res.Series
	s.LoadKW[t], s.EVKW[t], s.FlexKW[t] = load, evAC, flex
	s.PVAvailKW[t], s.PVUsedKW[t] = pv, pvUsed
	s.BatteryKW[t] = batNet
	for _, b := range r.bats {
		s.BatteryKWh[t] += b.energyKWh
	}
	s.ImportKW[t], s.ExportKW[t] = imp, exp
	s.ImportPrice[t], s.ExportPrice[t] = r.price[t], m.ExportCNYPerKWh
	if in.CarbonKgPerKWh != nil {
		s.CarbonKg[t] = imp * dt * in.CarbonKgPerKWh[t]
	}
	e := &r.res.Energy
	e.ImportKWh += imp * dt
	e.ExportKWh += exp * dt
	e.PVKWh += pv * dt
	e.CurtailedKWh += (pv - pvUsed) * dt
	e.NonShiftableKWh += load * dt
	e.EVKWh += evAC * dt
	e.FlexKWh += flex * dt
	e.PeakImportKW = math.Max(e.PeakImportKW, imp)
	e.CarbonKg += s.CarbonKg[t]

	if (t+1)%r.stepsPerDay == 0 {
		r.endOfDay(t)
	}
}

// shed reduces the positive entries of xs in proportion until need kW is removed; it
// returns net minus what was shed.
func shed(xs []float64, need, net float64) float64 {
	tot := 0.0
	for _, x := range xs {
		tot += math.Max(x, 0)
	}
	if tot <= 0 || need <= 0 {
		return net
	}
	f := math.Min(need/tot, 1)
	for i, x := range xs {
		if x > 0 {
			xs[i] = x * (1 - f)
		}
	}
	return net - f*tot
}

// shedNegative reduces discharges (negative entries) until need kW of export is removed;
// it returns the remaining export.
func shedNegative(xs []float64, need, export float64) float64 {
	tot := 0.0
	for _, x := range xs {
		tot += math.Max(-x, 0)
	}
	if tot <= 0 || need <= 0 {
		return export
	}
	f := math.Min(need/tot, 1)
	for i, x := range xs {
		if x < 0 {
			xs[i] = x * (1 - f)
		}
	}
	return export - f*tot
}

func stepDuration(dtH float64) time.Duration { return time.Duration(dtH * float64(time.Hour)) }

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func (r *run) depart(c int) {
	if unmet := r.needKWh[c]; unmet > 1e-6 {
		r.res.EV.UnmetKWh += unmet
		r.res.EV.SessionsUnmet++
	}
	r.curSess[c] = -1
	r.needKWh[c] = 0
}

func (r *run) startJobs(t int, chosen []int) {
	start := r.started
	clear(start)
	for _, j := range chosen {
		start[j] = true
	}
	kept := r.pending[:0]
	r.startedNow = r.startedNow[:0]
	for _, j := range r.pending {
		job := r.in.Jobs[j]
		latest := job.Latest - len(job.ProfileKW)
		forced := !start[j] && t >= latest
		if !start[j] && !forced {
			kept = append(kept, j)
			continue
		}
		if forced {
			r.res.Flex.Forced++
		}
		r.startedNow = append(r.startedNow, j)
		for k, p := range job.ProfileKW {
			if t+k < len(r.flexFut) {
				r.flexFut[t+k] += p
			}
		}
		r.res.Flex.Jobs++
		r.delaySum += float64(t-job.Earliest) * r.dt
	}
	r.pending = kept
}

func (r *run) accumulate(i, t int, p float64) {
	b, a := r.bats[i], &r.stress[i]
	soc := b.energyKWh / math.Max(b.spec.CapacityKWh, 1e-9)
	a.steps++
	a.socSum += soc
	a.socMin, a.socMax = math.Min(a.socMin, soc), math.Max(a.socMax, soc)
	a.throughput += math.Abs(p) * r.dt
	if math.Abs(p) > 1e-6 {
		a.absSum += math.Abs(p)
		a.active++
	}
	temp := b.spec.TemperatureC
	if temp == 0 && r.in.TempC != nil {
		temp = r.in.TempC[t]
	} else if temp == 0 {
		temp = 25
	}
	a.tempSum += temp
}

func (r *run) endOfDay(t int) {
	for i, b := range r.bats {
		a := &r.stress[i]
		if a.steps == 0 {
			continue
		}
		capKWh := math.Max(b.spec.CapacityKWh, 1e-9)
		ds := dayStress{days: float64(a.steps) * r.dt / 24, meanSoC: a.socSum / float64(a.steps),
			tempC: a.tempSum / float64(a.steps), efc: a.throughput / 2 / capKWh, dod: a.socMax - a.socMin}
		if a.active > 0 {
			ds.cRate = a.absSum / float64(a.active) / capKWh
		}
		b.endOfDay(ds)
		r.resetDay(i)
	}
}

func (r *run) stepWater(t, day, month int, release float64) {
	in, m, w := r.in, r.m, &r.res.Water
	if m.Water.CapacityM3 <= 0 && in.WaterDemandM3 == nil {
		return
	}
	rain := 0.0
	if in.RainMM != nil {
		rain = in.RainMM[t]
	}
	q := 0.0
	for i := range r.catch {
		q += r.catch[i].runoffM3(rain, r.dt)
	}
	if release > 0 {
		rel := math.Min(release, r.water)
		r.water -= rel
		w.ReleasedM3 += rel
	}
	d := 0.0
	if in.WaterDemandM3 != nil {
		d = in.WaterDemandM3[t]
	}
	y, v, spill := TankStep(m.Water.YBS, r.water, m.Water.CapacityM3, q, d)
	r.water = v
	w.RainMM += rain
	w.InflowM3 += q
	w.DemandM3 += d
	w.SuppliedM3 += y
	w.SpillM3 += spill
	w.MonthlySuppliedM3[month] += y
	if day < len(r.stormDay) && r.stormDay[day] {
		w.DetainedM3 += q - spill
		w.MonthlyDetainedM3[month] += q - spill
	}
	s := &r.res.Series
	s.WaterVolumeM3[t], s.WaterSuppliedM3[t], s.WaterDemandM3[t], s.WaterSpillM3[t] = v, y, d, spill
}

func (r *run) finish() *Result {
	res, n := r.res, r.in.Steps
	if n%r.stepsPerDay != 0 {
		r.endOfDay(n - 1)
	}
	for c := range r.curSess {
		k := r.curSess[c]
		if k < 0 {
			continue
		}
		if r.sessions[c][k].Depart > n { // still plugged in after the run: pending, not unmet
			res.EV.PendingKWh += r.needKWh[c]
			res.EV.SessionsPending++
			r.curSess[c], r.needKWh[c] = -1, 0
			continue
		}
		r.depart(c)
	}
	res.EV.ACKWh = res.Energy.EVKWh
	endKWh := 0.0
	for _, b := range r.bats {
		endKWh += b.energyKWh
		capKWh := math.Max(b.spec.CapacityKWh, 1e-9)
		res.Batteries = append(res.Batteries, BatteryTotals{Name: b.spec.Name, ChargedKWh: b.chargedKWh, DischargedKWh: b.dischargedKWh,
			EquivalentCycles: (b.chargedKWh + b.dischargedKWh) / 2 / capKWh, StateOfHealth: b.soh,
			LossKWh: b.chargedKWh - b.dischargedKWh - (b.energyKWh - b.spec.SoCInitial*b.spec.CapacityKWh)})
	}
	e := &res.Energy
	e.LoadKWh = e.NonShiftableKWh + e.EVKWh + e.FlexKWh
	e.BatteryStoredDelta = endKWh - r.startKWh
	for _, b := range res.Batteries {
		e.BatteryLossKWh += b.LossKWh
	}
	if res.Flex.Jobs > 0 {
		res.Flex.MeanDelayHours = r.delaySum / float64(res.Flex.Jobs)
	}
	res.Flex.KWh = e.FlexKWh
	for _, l := range r.lots {
		t := l.tot
		t.OperatorShareCNY = t.RevenueCNY - t.ResidentShareCNY
		t.MeanOccupancy = l.occSum / float64(n)
		t.MeanPriceCNYPerH = l.priceSum / float64(n)
		res.Parking = append(res.Parking, t)
	}
	for _, rr := range r.rentals {
		res.Rentals = append(res.Rentals, rr.finish())
	}
	w := &res.Water
	w.VolumetricReliability, w.TimeReliability = Reliability(res.Series.WaterSuppliedM3, res.Series.WaterDemandM3)
	return res
}
