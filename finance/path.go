package finance

import (
	"fmt"
	"math"
)

// sim is the mutable state of one path; a worker reuses it across paths.
type sim struct {
	m   *model
	out *pathOut

	drivers []float64 // years × nDrivers, this path's values
	growth  []float64 // growth index by subsystem
	level   []float64 // level factor by subsystem, this year

	bal        []Fen
	intArrears []Fen
	resBal     []Fen
	feeArrears []Fen
	liqDrawn   Fen
	liqIntDue  Fen
	cash, dist Fen

	trigOn   []bool
	trigCure []int
	seqOn    bool
	trapOn   bool
	cumShort Fen

	cf12, ds12 [12]float64
	hist       int

	soh        float64
	battLayers [8]struct {
		monthly float64
		until   int
	}
	lossCF    Fen
	inflIdx   float64
	arPrev    float64
	apPrev    float64
	reinvCap  float64
	reinvYear float64 // capital earning a yield this year

	// this month's scratch
	lastCFADS       float64
	yearCF, yearDS  []float64
	feeDue          []Fen
	intDue, prinDue []Fen
	dfTr            []float64 // per tranche: discount factor to month start, at its path coupon
	record          bool
	row             *Month
}

func newSim(m *model, record bool) *sim {
	n := len(m.tr)
	s := &sim{m: m, out: newPathOut(m, record), record: record,
		drivers: make([]float64, m.years*nDrivers), growth: make([]float64, len(m.subs)), level: make([]float64, len(m.subs)),
		bal: make([]Fen, n), intArrears: make([]Fen, n), resBal: make([]Fen, len(m.res)), feeArrears: make([]Fen, len(m.fees)),
		trigOn: make([]bool, len(m.trig)), trigCure: make([]int, len(m.trig)), intDue: make([]Fen, n), prinDue: make([]Fen, n), dfTr: make([]float64, n),
		yearCF: make([]float64, m.years), yearDS: make([]float64, m.years), feeDue: make([]Fen, len(m.fees))}
	return s
}

// monthlyRate is the tranche's coupon for the month, moved by the interest_rate driver
// if it floats.
func (s *sim) monthlyRate(i, y int) float64 {
	t := &s.m.tr[i]
	r := t.rate
	if t.floating {
		r = math.Max(0, r+s.drivers[y*nDrivers+dInterest])
	}
	return r / 12
}

// run simulates one path. shocks holds the risk drivers' sampled values (years × k),
// or nil for the base case.
func (s *sim) run(shocks []float64) error {
	m, o := s.m, s.out
	o.reset()
	copy(s.drivers, m.baseDrivers)
	if shocks != nil {
		k := len(m.riskIdx)
		for y := 0; y < m.years; y++ {
			for j, di := range m.riskIdx {
				v := shocks[y*k+j]
				if driverIsFactor[di] {
					s.drivers[y*nDrivers+di] *= v
				} else {
					s.drivers[y*nDrivers+di] += v
				}
			}
		}
	}
	for i := range m.tr {
		s.bal[i] = m.tr[i].bal0
		s.intArrears[i] = 0
		s.dfTr[i] = 1
	}
	for i, r := range m.res {
		s.resBal[i] = r.spec.Initial
	}
	clear(s.feeArrears)
	clear(s.trigOn)
	clear(s.trigCure)
	s.liqDrawn, s.liqIntDue, s.cash, s.dist, s.cumShort, s.hist = 0, 0, 0, 0, 0, 0
	s.seqOn, s.trapOn = false, false
	s.lossCF, s.reinvCap, s.reinvYear, s.inflIdx = 0, 0, 0, 1
	for i := range s.battLayers {
		s.battLayers[i].until = -1
	}
	if b := m.battery; b != nil {
		s.soh = b.StartSoH
	}
	for i := range s.growth {
		s.growth[i] = 1
	}
	s.arPrev, s.apPrev = math.NaN(), math.NaN()

	disc := math.Pow(1+m.d.Valuation.DiscountRate, -1.0/12)
	df := 1.0
	var last12 float64
	for t := 0; t < m.months; t++ {
		y := t / 12
		if t%12 == 0 {
			s.startYear(y)
		}
		if err := s.month(t, y); err != nil {
			return err
		}
		df *= disc
		o.value += s.lastCFADS * df
		if t >= m.months-12 {
			last12 += s.lastCFADS
		}
	}
	if cap := m.d.Valuation.TerminalCapRate; cap > 0 {
		o.value += last12 / cap * df
	}
	for y := range o.dscr {
		if !math.IsNaN(o.dscr[y]) && o.dscr[y] < o.minDSCR {
			o.minDSCR = o.dscr[y]
		}
	}
	return nil
}

func (s *sim) startYear(y int) {
	m := s.m
	dv := s.drivers[y*nDrivers : (y+1)*nDrivers]
	for i, sb := range m.subs {
		if y > 0 {
			g := sb.growth
			switch sb.kind {
			case kRentals, kParking:
				g += s.drivers[(y-1)*nDrivers+dRentGrowth]
			case kEV:
				g += s.drivers[(y-1)*nDrivers+dEVAdoption]
			}
			s.growth[i] *= math.Max(0, 1+g)
		}
		lv := 1.0
		switch sb.kind {
		case kRentals:
			lv = dv[dOccupancy]
		case kParking:
			lv = dv[dParking]
		case kEnergy:
			lv = dv[dSpread] * (1 - clamp01(dv[dOutage]))
		case kEV:
			lv = 1 - clamp01(dv[dOutage])
		}
		s.level[i] = math.Max(0, lv) * (1 - m.revenueHaircut)
	}
	s.reinvYear = s.reinvCap
	if y > 0 {
		s.inflIdx *= 1 + m.infl
	}
	s.out.dscr[y] = math.NaN()
}

func clamp01(v float64) float64 { return math.Min(1, math.Max(0, v)) }

func (s *sim) month(t, y int) error {
	m, o := s.m, s.out
	moy := (m.startMoY + t) % 12

	// 1. Triggers, from history up to last month.
	s.evalTriggers(t)

	// 2. Interest, fees and scheduled principal due this month.
	var intExp, dsDue Fen
	for _, i := range m.debtIdx {
		r := s.monthlyRate(i, y)
		s.dfTr[i] /= 1 + r
		s.intDue[i] = s.bal[i].MulRate(r)
		intExp += s.intDue[i]
		switch {
		case t >= m.tr[i].legal || m.tr[i].pass:
			s.prinDue[i] = s.bal[i]
		default:
			s.prinDue[i] = max(0, s.bal[i]-m.tr[i].sched[t])
		}
		dsDue += s.intDue[i]
		if !m.tr[i].pass {
			sch := m.tr[i].bal0
			if t > 0 {
				sch = m.tr[i].sched[t-1]
			}
			dsDue += max(0, sch-m.tr[i].sched[t])
		}
	}
	if m.liq != nil {
		li := s.liqDrawn.MulRate(m.liq.Rate / 12)
		s.liqIntDue += li
		intExp += li
	}
	var debtBal Fen
	for _, i := range m.debtIdx {
		debtBal += s.bal[i]
	}
	var feesDue Fen
	feeDue := s.feeDue
	for i, f := range m.fees {
		fee := f.Monthly + debtBal.MulRate(f.RateOnDebt/12)
		feeDue[i] = fee + s.feeArrears[i]
		feesDue += fee
	}

	// 3. Projection.
	var row *Month
	if s.record {
		o.rows = append(o.rows, Month{Month: t + 1, Period: m.d.StartTime().AddDate(0, t, 0).Format("2006-01")})
		row = &o.rows[len(o.rows)-1]
		n, nr := len(m.tr), len(m.res)
		row.Interest, row.Principal, row.Shortfall, row.Loss, row.Balance = make([]Fen, n), make([]Fen, n), make([]Fen, n), make([]Fen, n), make([]Fen, n)
		row.ReserveDraw, row.ReserveDeposit, row.ReserveBalance = make([]Fen, nr), make([]Fen, nr), make([]Fen, nr)
	}
	s.row = row
	var cfFen Fen
	if m.cash != nil {
		cfFen = m.cash[t].MulRate(1 - m.revenueHaircut)
		if row != nil {
			row.CFADS = cfFen
		}
	} else {
		cfFen = s.project(t, y, moy, intExp+feesDue, row)
	}
	cfads := cfFen.Yuan()
	s.lastCFADS = cfads
	o.cfads[y] += cfads

	// 4. Cash available: opening cash, the month's CFADS, reserve releases.
	opening := s.cash + s.dist + sumFen(s.resBal)
	openCash := s.cash
	avail := s.cash + cfFen
	s.cash = 0
	for i := range m.res {
		r := &m.res[i]
		if i == m.trap {
			if !s.trapOn && s.resBal[i] > 0 {
				avail += s.resBal[i]
				s.draw(i, s.resBal[i])
			}
			continue
		}
		if r.spec.Target.Kind == "" || r.spec.Target.Kind == "none" {
			continue
		}
		if tg := s.target(i, t); s.resBal[i] > tg {
			avail += s.resBal[i] - tg
			s.draw(i, s.resBal[i]-tg)
		}
	}
	if t == m.months-1 { // the last month applies every reserve
		for i := range s.resBal {
			avail += s.resBal[i]
			s.draw(i, s.resBal[i])
		}
	}
	if row != nil {
		row.OpeningCash = openCash
	}
	var sponsor, liqDraw, liqRepay, feesPaid, intPaid, prinPaid Fen
	if avail < 0 {
		for i := range m.res {
			if m.res[i].operating && avail < 0 {
				d := min(s.resBal[i], -avail)
				s.draw(i, d)
				avail += d
			}
		}
		if avail < 0 {
			sponsor = -avail
			avail = 0
		}
	}

	// 5. The waterfall.
	for _, st := range m.steps {
		switch st.kind {
		case sFee:
			p := min(avail, feeDue[st.fee])
			avail -= p
			feesPaid += p
			s.feeArrears[st.fee] = feeDue[st.fee] - p
		case sInterest:
			for _, i := range st.tranches {
				due := s.intDue[i] + s.intArrears[i]
				p := min(avail, due)
				avail -= p
				short := s.cover(i, due-p, &liqDraw, true)
				s.cumShort += max(0, short-s.intArrears[i])
				paid := due - short
				s.intArrears[i] = short
				s.intDue[i] = 0
				intPaid += paid
				s.receive(i, t, paid)
				if row != nil {
					row.Interest[i] += paid
				}
				if short > 0 {
					o.shortfall[i] = true
					if row != nil {
						row.Shortfall[i] += short
					}
				}
			}
		case sPrincipal:
			paid := s.principal(st, t, &avail)
			prinPaid += paid
		case sReserve:
			need := s.target(st.reserve, t) - s.resBal[st.reserve]
			if p := min(avail, need); p > 0 {
				avail -= p
				s.resBal[st.reserve] += p
				if row != nil {
					row.ReserveDeposit[st.reserve] += p
				}
			}
		case sLiquidity:
			p := min(avail, s.liqIntDue)
			avail -= p
			s.liqIntDue -= p
			q := min(avail, s.liqDrawn)
			avail -= q
			s.liqDrawn -= q
			liqRepay += p + q
		case sEquity:
			// The residual below; an explicit step only marks where it sits.
		}
	}
	if s.liqIntDue > 0 && m.liq != nil { // unpaid facility interest capitalises
		s.liqDrawn += s.liqIntDue
		s.liqIntDue = 0
	}
	for i := range m.tr {
		s.intDue[i] = 0
	}

	// 6. The residual: to the trap reserve while a trap holds, else to equity.
	var toEquity, reinvest Fen
	if s.trapOn && m.trap >= 0 {
		s.resBal[m.trap] += avail
		if row != nil {
			row.ReserveDeposit[m.trap] += avail
		}
	} else {
		toEquity = avail
		reinvest = toEquity.MulRate(m.reinvShare)
		if m.reinvSub < 0 {
			reinvest = 0
		}
		s.reinvCap += reinvest.Yuan()
		s.dist += toEquity - reinvest
		o.distributable[y] += (toEquity - reinvest).Yuan()
	}

	// 7. Legal final maturity: what is left is lost.
	for _, i := range m.debtIdx {
		if t == m.tr[i].legal && s.bal[i] > 0 {
			o.loss[i] += s.bal[i].Yuan()
			o.shortfall[i] = true
			if row != nil {
				row.Loss[i] = s.bal[i]
			}
			s.bal[i] = 0
		}
		if t == m.tr[i].legal && s.intArrears[i] > 0 {
			s.intArrears[i] = 0
		}
	}

	// 8. Distributions; the last month liquidates the fund's cash.
	var distributed Fen
	if t == m.months-1 {
		s.dist += s.cash
		s.cash = 0
		if s.liqDrawn > 0 { // the facility is senior to unitholders
			p := min(s.dist, s.liqDrawn)
			s.dist -= p
			s.liqDrawn -= p
			liqRepay += p
		}
		distributed = s.dist
		s.dist = 0
	} else if (t+1)%m.distEvery == 0 {
		distributed = s.dist.MulRate(m.payout)
		s.cash += s.dist - distributed
		s.dist = 0
	}
	o.distributed[y] += distributed.Yuan()
	if o.equityCash != nil {
		o.equityCash[t] = distributed.Yuan()
	}

	// 9. History for DSCR triggers and the annual DSCR.
	h := s.hist % 12
	s.cf12[h] = cfads - feesDue.Yuan()
	s.ds12[h] = dsDue.Yuan()
	s.hist++
	s.annualDSCR(y, cfads-feesDue.Yuan(), dsDue.Yuan(), t)

	// 10. Conservation: in − out = change in balances, to the fen.
	in := cfFen + sponsor + liqDraw
	out := feesPaid + intPaid + prinPaid + liqRepay + reinvest + distributed
	closing := s.cash + s.dist + sumFen(s.resBal)
	if in-out != closing-opening {
		return fmt.Errorf("finance: cash not conserved in month %d: in %s − out %s ≠ Δbalances %s", t+1, in, out, closing-opening)
	}
	if row != nil {
		row.Sponsor, row.Fees, row.LiquidityDraw, row.LiquidityRepay, row.LiquidityDrawn = sponsor, feesPaid, liqDraw, liqRepay, s.liqDrawn
		row.ToEquity, row.Reinvested, row.Distributed, row.Cash, row.DistAccount = toEquity, reinvest, distributed, s.cash, s.dist
		row.In, row.Out, row.Delta = in, out, closing-opening
		row.DebtService = dsDue
		copy(row.Balance, s.bal)
		copy(row.ReserveBalance, s.resBal)
		for i, tg := range m.trig {
			if s.trigOn[i] {
				row.Triggers = append(row.Triggers, tg.spec.Name)
			}
		}
		o.equityCash[t] = distributed.Yuan()
	}
	return nil
}

// annualDSCR accumulates the year's CFADS (after fees) and debt service due.
func (s *sim) annualDSCR(y int, cf, ds float64, t int) {
	if t%12 == 0 {
		s.yearCF[y], s.yearDS[y] = 0, 0
	}
	s.yearCF[y] += cf
	s.yearDS[y] += ds
	if t%12 == 11 || t == s.m.months-1 {
		if s.yearDS[y] > 0 {
			s.out.dscr[y] = s.yearCF[y] / s.yearDS[y]
		} else {
			s.out.dscr[y] = math.NaN()
		}
	}
}

func sumFen(v []Fen) Fen {
	var s Fen
	for _, x := range v {
		s += x
	}
	return s
}

func (s *sim) draw(i int, amt Fen) {
	s.resBal[i] -= amt
	if s.row != nil {
		s.row.ReserveDraw[i] += amt
	}
}

// cover pays a tranche's shortfall from the reserves covering it and, for interest,
// the liquidity facility; it returns what is still short.
func (s *sim) cover(i int, short Fen, liqDraw *Fen, interest bool) Fen {
	if short <= 0 {
		return 0
	}
	for _, r := range s.m.tr[i].covers {
		d := min(s.resBal[r], short)
		if d > 0 {
			s.draw(r, d)
			short -= d
		}
	}
	if interest && short > 0 && s.m.tr[i].liq {
		d := min(s.m.liq.Limit-s.liqDrawn, short)
		if d > 0 {
			s.liqDrawn += d
			*liqDraw += d
			short -= d
		}
	}
	return short
}

// receive credits a tranche's investors with cash, discounted at the coupon the path
// paid it, so a tranche paid in full has PV = its balance whatever the rate path.
func (s *sim) receive(i, t int, amt Fen) {
	if amt == 0 {
		return
	}
	s.out.pvRecv[i] += amt.Yuan() * s.dfTr[i]
}

func (s *sim) principal(st stepM, t int, avail *Fen) Fen {
	m := s.m
	var paid Fen
	if st.proRata && !s.seqOn {
		var due Fen
		for _, i := range st.tranches {
			due += s.prinDue[i]
		}
		if due == 0 {
			return 0
		}
		pool := min(*avail, due)
		rest := pool
		for k, i := range st.tranches {
			p := Fen(int64(pool) * int64(s.prinDue[i]) / int64(due)) // floor; the remainder goes to the first
			if k == len(st.tranches)-1 {
				p = rest
			}
			p = min(p, s.prinDue[i])
			rest -= p
			s.payPrincipal(i, t, p)
			paid += p
		}
		for _, i := range st.tranches { // leftover fen of the rounding
			if rest == 0 {
				break
			}
			p := min(rest, s.prinDue[i])
			rest -= p
			s.payPrincipal(i, t, p)
			paid += p
		}
		*avail -= paid
	} else {
		// Sequential. Under a sequential-switch trigger the group's total due goes to the
		// most senior tranche first, up to its whole balance.
		var pool Fen
		for _, i := range st.tranches {
			pool += s.prinDue[i]
		}
		pool = min(pool, *avail)
		for _, i := range st.tranches {
			want := s.prinDue[i]
			if s.seqOn {
				want = s.bal[i]
			}
			p := min(pool, want)
			pool -= p
			s.payPrincipal(i, t, p)
			paid += p
		}
		*avail -= paid
	}
	// Principal still unpaid that was scheduled (or is due at the legal final): the
	// covering reserves (not the facility) pay it. A pass-through tranche's "due" is its
	// whole balance, which reserves do not stand behind before its legal final.
	for _, i := range st.tranches {
		if s.prinDue[i] == 0 || (m.tr[i].pass && t < m.tr[i].legal) {
			continue
		}
		if p := s.prinDue[i] - s.cover(i, s.prinDue[i], nil, false); p > 0 {
			s.payPrincipal(i, t, p)
			paid += p
		}
	}
	return paid
}

// payPrincipal reduces a balance and its due amount.
func (s *sim) payPrincipal(i, t int, p Fen) {
	if p <= 0 {
		return
	}
	s.bal[i] -= p
	s.prinDue[i] -= p
	if s.prinDue[i] < 0 {
		s.prinDue[i] = 0
	}
	s.receive(i, t, p)
	if s.row != nil {
		s.row.Principal[i] += p
	}
}

// target is a reserve's target balance this month.
func (s *sim) target(i, t int) Fen {
	r := &s.m.res[i]
	switch r.spec.Target.Kind {
	case "fixed":
		return r.spec.Target.Amount
	case "months_of_debt_service":
		// The scheduled debt service of the next N months (interest at this year's coupon
		// on the scheduled balance, plus scheduled principal).
		var ds float64
		y := t / 12
		for _, j := range r.tranches {
			tr := &s.m.tr[j]
			rate := s.monthlyRate(j, y)
			bal := s.bal[j].Yuan()
			for k := t; k < t+r.spec.Target.Months && k < len(tr.sched); k++ {
				next := bal
				if !tr.pass {
					next = math.Min(bal, tr.sched[k].Yuan())
				}
				ds += bal*rate + (bal - next)
				bal = next
			}
		}
		return FenFromYuan(ds)
	case "pct_of_balance":
		var b Fen
		for _, j := range r.tranches {
			b += s.bal[j]
		}
		return b.MulRate(r.spec.Target.Pct)
	}
	return 0
}

// evalTriggers updates every trigger from last month's state, in dependency order.
func (s *sim) evalTriggers(t int) {
	m := s.m
	s.seqOn, s.trapOn = false, false
	for k, tg := range m.trig {
		var v float64
		known := true
		switch tg.metric {
		case mDSCR:
			if s.hist < 12 {
				known = false
				break
			}
			var cf, ds float64
			for i := 0; i < 12; i++ {
				cf += s.cf12[i]
				ds += s.ds12[i]
			}
			if ds <= 0 {
				known = false
				break
			}
			v = cf / ds
		case mShortfall:
			var a Fen
			for _, i := range m.debtIdx {
				a += s.intArrears[i]
			}
			v = (s.cumShort + a).Yuan()
		case mReserve:
			var tgt, bal Fen
			for i := range m.res {
				if i == m.trap {
					continue
				}
				tg := s.target(i, t)
				tgt += tg
				bal += min(s.resBal[i], tg)
			}
			if tgt > 0 {
				v = 1 - bal.Yuan()/tgt.Yuan()
			}
		case mTrigger:
			if s.trigOn[tg.dep] {
				v = 1
			}
		}
		cond := known && compare(v, tg.spec.Op, tg.spec.Value)
		switch {
		case cond:
			s.trigOn[k] = true
			s.trigCure[k] = 0
		case s.trigOn[k] && !tg.spec.Sticky:
			s.trigCure[k]++
			if s.trigCure[k] >= tg.spec.CurePeriods {
				s.trigOn[k] = false
				s.trigCure[k] = 0
			}
		}
		if s.trigOn[k] {
			switch tg.spec.Action {
			case "sequential":
				s.seqOn = true
			case "trap_cash":
				s.trapOn = true
			}
		}
	}
}

func compare(v float64, op string, x float64) bool {
	switch op {
	case "<":
		return v < x
	case "<=":
		return v <= x
	case ">":
		return v > x
	case ">=":
		return v >= x
	}
	return false
}

// project computes the month's operating cash flow, each line rounded to the fen, and
// fills the row's projection lines. interestAndFees are this month's accrued finance
// costs (for tax). CFADS = EBITDA − tax − capex − Δworking capital, exactly in fen.
func (s *sim) project(t, y, moy int, interestAndFees Fen, row *Month) Fen {
	m := s.m
	var rev, vatOut float64
	for i, sb := range m.subs {
		r := sb.base * m.season[moy] * s.growth[i] * s.level[i]
		if i == m.reinvSub && m.reinvYield > 0 {
			r += s.reinvYear * m.reinvYield / 12
		}
		rev += r
		vatOut += r * sb.vat / (1 + sb.vat)
	}
	opex := m.opex * s.inflIdx
	vatIn := opex * m.vatIn / (1 + m.vatIn)
	netRev, netOpex := rev-vatOut, opex-vatIn
	surcharge := math.Max(0, vatOut-vatIn) * m.sur
	ebitda := FenFromYuan(netRev - netOpex - surcharge)

	capex := m.maint * netRev
	da := 0.0
	if t < m.depMonths {
		da = m.depMonthly
	}
	if b := m.battery; b != nil && b.CapacityKWh > 0 {
		s.soh -= b.FadePerYear * s.drivers[y*nDrivers+dDegradation] / 12
		if s.soh <= b.ReplaceAtSoH {
			cost := b.CapacityKWh * b.CostCNYPerKWh * math.Pow(1-b.CostDeclinePerYear, float64(y))
			capex += cost
			s.soh = b.StartSoH
			for k := range s.battLayers {
				if s.battLayers[k].until <= t {
					s.battLayers[k].monthly = cost / 120
					s.battLayers[k].until = t + 121
					break
				}
			}
		}
		for k := range s.battLayers {
			if s.battLayers[k].until > t {
				da += s.battLayers[k].monthly
			}
		}
	}
	daF := FenFromYuan(da)
	// Corporate income tax with loss carry-forward.
	taxable := ebitda - daF - interestAndFees
	var tax Fen
	if taxable < 0 {
		s.lossCF += -taxable
	} else {
		use := min(s.lossCF, taxable)
		s.lossCF -= use
		tax = (taxable - use).MulRate(m.cit)
	}
	ar, ap := netRev*m.recv, netOpex*m.pay
	if math.IsNaN(s.arPrev) { // the opening working capital is acquired with the assets
		s.arPrev, s.apPrev = ar, ap
	}
	dwc := FenFromYuan((ar - s.arPrev) - (ap - s.apPrev))
	s.arPrev, s.apPrev = ar, ap
	capF := FenFromYuan(capex)
	cfads := ebitda - tax - capF - dwc
	if row != nil {
		row.Revenue, row.Opex, row.EBITDA, row.DA = FenFromYuan(rev), FenFromYuan(opex), ebitda, daF
		row.Tax, row.Capex, row.WorkingCapitalChange = tax, capF, dwc
		row.CFADS = cfads
		row.InterestExpense = interestAndFees
		row.NetProfit = ebitda - daF - interestAndFees - tax
	}
	return cfads
}
