package finance

import (
	"fmt"
	"math"
)

// DebtView reports how the sized tranche was sized.
type DebtView struct {
	Tranche    string  `json:"tranche"`
	Method     string  `json:"method"`
	TargetDSCR float64 `json:"target_dscr"`
	Balance    Fen     `json:"balance"`
	// LTVCapped is true when max_ltv, not the DSCR, set the size.
	LTVCapped    bool    `json:"ltv_capped"`
	MinDSCR      float64 `json:"min_dscr_base_case"`
	CovenantDSCR float64 `json:"covenant_dscr"`
}

// baseCash runs the base case with every debt tranche outstanding but not amortising
// (interest still shields tax) and returns each month's CFADS net of fees, in yuan.
func (m *model) baseCash() ([]float64, error) {
	for i := range m.tr {
		t := &m.tr[i]
		if t.equity {
			continue
		}
		for k := range t.sched {
			t.sched[k] = t.bal0
		}
	}
	s := newSim(m, true)
	saved := m.d.Triggers
	trig := m.trig
	m.trig = nil // sizing looks at the cash flow, not at the structure's triggers
	s.trigOn, s.trigCure = nil, nil
	err := s.run(nil)
	m.trig = trig
	_ = saved
	if err != nil {
		return nil, err
	}
	a := make([]float64, m.months)
	for t, r := range s.out.rows {
		a[t] = r.CFADS.Yuan() - r.Fees.Yuan()
	}
	return a, nil
}

// schedules sizes the debt (if asked) and sets every debt tranche's scheduled balances.
func (m *model) schedules() (*DebtView, error) {
	var view *DebtView
	needCash := m.d.Debt != nil
	for _, i := range m.debtIdx {
		if a := m.d.Tranches[i].Amortization; a == "sculpted" {
			needCash = true
		}
	}
	var cash []float64
	if needCash {
		var err error
		if cash, err = m.baseCash(); err != nil {
			return nil, err
		}
	}
	if sz := m.d.Debt; sz != nil {
		i := -1
		for k, t := range m.tr {
			if t.name == sz.Tranche {
				i = k
			}
		}
		t := &m.tr[i]
		r := t.rate / 12
		var b float64
		switch sz.Method {
		case "sculpted":
			for k := 0; k < sz.TenorMonths; k++ {
				b += math.Max(0, cash[k]) / sz.TargetDSCR * math.Pow(1+r, -float64(k+1))
			}
		case "level":
			minYear := math.Inf(1)
			for y := 0; y*12 < sz.TenorMonths; y++ {
				sum := 0.0
				for k := y * 12; k < (y+1)*12 && k < len(cash); k++ {
					sum += cash[k]
				}
				minYear = math.Min(minYear, sum)
			}
			pay := math.Max(0, minYear) / sz.TargetDSCR / 12
			b = pay * annuityFactor(r, sz.TenorMonths)
		}
		view = &DebtView{Tranche: sz.Tranche, Method: sz.Method, TargetDSCR: sz.TargetDSCR, CovenantDSCR: sz.CovenantDSCR}
		if sz.MaxLTV > 0 && b > sz.MaxLTV*m.d.Capex.InvestmentCNY {
			b = sz.MaxLTV * m.d.Capex.InvestmentCNY
			view.LTVCapped = true
		}
		t.bal0 = FenFromYuan(b)
		if sz.Method == "sculpted" || m.d.Tranches[i].Amortization == "sculpted" {
			m.d.Tranches[i].Amortization = "sculpted"
		}
		m.d.Tranches[i].TermMonths = sz.TenorMonths
		if m.d.Tranches[i].LegalMonths < sz.TenorMonths {
			m.d.Tranches[i].LegalMonths = sz.TenorMonths
		}
		t.legal = m.d.Tranches[i].LegalMonths - 1
		m.d.Tranches[i].Balance = t.bal0
		view.Balance = t.bal0
	}
	var debt Fen
	for _, i := range m.debtIdx {
		debt += m.tr[i].bal0
	}
	if m.d.Capex.InvestmentCNY > 0 && debt.Yuan() > m.d.Capex.InvestmentCNY+0.005 {
		return nil, fmt.Errorf("tranches: debt of %s exceeds the asset (investment %s)", debt, FenFromYuan(m.d.Capex.InvestmentCNY))
	}
	for _, i := range m.debtIdx {
		spec := m.d.Tranches[i]
		t := &m.tr[i]
		switch spec.Amortization {
		case "level":
			levelSchedule(t.sched, t.bal0, t.rate/12, spec.TermMonths)
		case "sculpted":
			sculptSchedule(t.sched, t.bal0, t.rate/12, spec.TermMonths, cash)
		case "bullet":
			for k := range t.sched {
				t.sched[k] = t.bal0
				if k >= spec.TermMonths-1 {
					t.sched[k] = 0
				}
			}
		case "pass_through":
			clear(t.sched)
		}
	}
	return view, nil
}

func annuityFactor(r float64, n int) float64 {
	if r == 0 {
		return float64(n)
	}
	return (1 - math.Pow(1+r, -float64(n))) / r
}

// levelSchedule: constant payment A = B / annuity factor; balance after month k.
func levelSchedule(sched []Fen, b Fen, r float64, n int) {
	pay := b.Yuan() / annuityFactor(r, n)
	bal := b.Yuan()
	for k := range sched {
		if k >= n-1 {
			sched[k] = 0
			continue
		}
		bal = bal*(1+r) - pay
		sched[k] = FenFromYuan(math.Max(0, bal))
	}
}

// sculptSchedule shapes debt service to the base-case cash flow (SAM-style sculpting):
// DS_k = c·max(0, cash_k) with c such that the debt service's PV at the coupon is B.
func sculptSchedule(sched []Fen, b Fen, r float64, n int, cash []float64) {
	var pv float64
	for k := 0; k < n; k++ {
		pv += math.Max(0, cash[k]) * math.Pow(1+r, -float64(k+1))
	}
	if pv <= 0 {
		levelSchedule(sched, b, r, n)
		return
	}
	c := b.Yuan() / pv
	bal := b.Yuan()
	for k := range sched {
		if k >= n-1 {
			sched[k] = 0
			continue
		}
		bal = bal*(1+r) - c*math.Max(0, cash[k])
		sched[k] = FenFromYuan(math.Max(0, bal))
	}
}
