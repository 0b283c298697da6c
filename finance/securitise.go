package finance

import (
	"context"
	"math"
)

// securitise runs the root finders for the most senior debt tranche (the first debt
// tranche paid in the waterfall): the breakeven revenue haircut of the base case and,
// when the deal asks for it, the largest senior size meeting a target EL.
func (m *model) securitise(ctx context.Context, d *Deal, paths int, seed uint64, workers int, progress func(string, int, int)) (*Securitisation, error) {
	senior := m.seniorTranche()
	if senior < 0 || m.tr[senior].bal0 == 0 {
		return nil, nil
	}
	sec := &Securitisation{SeniorTranche: m.tr[senior].name}
	short := func(h float64) (bool, error) {
		mm, err := m.recompile(d, -1, 0)
		if err != nil {
			return false, err
		}
		mm.revenueHaircut = h
		s := newSim(mm, false)
		if err := s.run(nil); err != nil {
			return false, err
		}
		return s.out.shortfall[senior], nil
	}
	if s0, err := short(0); err != nil {
		return nil, err
	} else if !s0 {
		if s1, err := short(1); err != nil {
			return nil, err
		} else if s1 {
			lo, hi := 0.0, 1.0
			for hi-lo > 1e-5 {
				mid := (lo + hi) / 2
				s, err := short(mid)
				if err != nil {
					return nil, err
				}
				if s {
					hi = mid
				} else {
					lo = mid
				}
			}
			h := math.Round(lo*1e4) / 1e4
			sec.BreakevenHaircut = &h
		}
	}
	target := d.Risk.TargetSeniorEL
	if target <= 0 || paths <= 0 || len(d.Risk.Drivers) == 0 {
		return sec, nil
	}
	sec.TargetEL = target
	n := min(paths, 2000)
	el := func(b Fen) (float64, error) {
		mm, err := m.recompile(d, senior, b)
		if err != nil {
			return 0, err
		}
		mc, err := mm.monteCarlo(ctx, n, seed, workers, nil)
		if err != nil {
			return 0, err
		}
		_, e := mc.trancheRisk(senior, len(mm.tr))
		return e, nil
	}
	// EL rises with the senior size (same paths for every size); bisect on the balance.
	hi := FenFromYuan(d.Capex.InvestmentCNY)
	if hi <= 0 {
		hi = m.tr[senior].bal0 * 4
	}
	var others Fen
	for _, i := range m.debtIdx {
		if i != senior {
			others += m.tr[i].bal0
		}
	}
	if d.Capex.InvestmentCNY > 0 {
		hi -= others
	}
	lo := Fen(0)
	if e, err := el(hi); err != nil {
		return nil, err
	} else if e <= target {
		sec.MaxSeniorForEL = &hi
		return sec, nil
	}
	for it := 0; hi-lo > max(hi/1000, 100) && it < 40; it++ {
		mid := (lo + hi) / 2
		e, err := el(mid)
		if err != nil {
			return nil, err
		}
		if e <= target {
			lo = mid
		} else {
			hi = mid
		}
		progress("senior_sizing", it+1, 0)
	}
	sec.MaxSeniorForEL = &lo
	return sec, nil
}

// seniorTranche is the first debt tranche paid interest in the waterfall.
func (m *model) seniorTranche() int {
	for _, st := range m.steps {
		if st.kind == sInterest && len(st.tranches) > 0 {
			return st.tranches[0]
		}
	}
	if len(m.debtIdx) > 0 {
		return m.debtIdx[0]
	}
	return -1
}

// recompile builds the model again with the sized balances, optionally setting tranche
// i's balance to b (no sizing: the schedule follows the balance).
func (m *model) recompile(d *Deal, i int, b Fen) (*model, error) {
	c := cloneDeal(d)
	for k := range c.Tranches {
		c.Tranches[k].Balance = m.tr[k].bal0
	}
	c.Debt = nil
	if i >= 0 {
		c.Tranches[i].Balance = b
	}
	mm, err := compile(c)
	if err != nil {
		return nil, err
	}
	if _, err := mm.schedules(); err != nil {
		return nil, err
	}
	return mm, nil
}
