package scenario

import (
	"context"
	"fmt"

	"github.com/lifang-community/lifang/finance"
	"github.com/lifang-community/lifang/unit"
)

// OptimisedRun is the run the finance engine capitalises: the last (most operated)
// policy of the runs, which is the MPC when it ran.
func OptimisedRun(runs []*PolicyRun) *PolicyRun {
	for _, r := range runs {
		if r.Name == "mpc" {
			return r
		}
	}
	return runs[len(runs)-1]
}

// OperatingYear hands a policy's settled year to the finance engine.
func OperatingYear(c *Case, r *PolicyRun) finance.OperatingYear {
	st := r.Statement
	op := finance.OperatingYear{Name: c.Unit.Name + " (" + r.Name + ")",
		Start:      fmt.Sprintf("%04d-01", c.Inputs.Start.Year()+1),
		RevenueCNY: map[string]float64{}, OpexCNY: map[string]float64{}, CapexCNY: st.CapexCNY}
	for k, v := range st.Annual.RevenueCNY {
		if v > 0 {
			op.RevenueCNY[k] = v
		}
	}
	for k, v := range st.Annual.OpexCNY {
		if v > 0 {
			op.OpexCNY[k] = v
		}
	}
	if len(st.Months) == 12 {
		op.MonthlyRevenueCNY = make([]float64, 12)
		for _, m := range st.Months {
			var mo int
			if _, err := fmt.Sscanf(m.Period[5:], "%d", &mo); err == nil && mo >= 1 && mo <= 12 {
				op.MonthlyRevenueCNY[mo-1] += m.TotalRevenueCNY
			}
		}
	}
	op.Terms = Terms(c.Unit.Finance)
	var kwh, soh, cost float64
	for i, b := range c.Unit.Batteries {
		kwh += b.CapacityKWh
		cost += b.CapacityKWh * b.Degradation.ReplacementCNYPerKWh
		if i < len(r.Result.Batteries) {
			soh += b.CapacityKWh * r.Result.Batteries[i].StateOfHealth
		}
	}
	if kwh > 0 {
		op.BatteryKWh, op.BatterySoHAfter, op.BatteryCNYPerKWh = kwh, soh/kwh, cost/kwh
		if op.BatteryCNYPerKWh == 0 {
			op.BatteryCNYPerKWh = c.Unit.Capex.BatteryCNYPerKWh
		}
	}
	return op
}

// Terms maps a unit's finance levers over the engine's defaults.
func Terms(f unit.Finance) *finance.Terms {
	t := finance.DefaultTerms()
	set := func(dst *float64, v float64) {
		if v != 0 {
			*dst = v
		}
	}
	if f.HorizonYears != 0 {
		t.HorizonMonths = 12 * f.HorizonYears
		t.SeniorTenorMonths = min(t.SeniorTenorMonths, t.HorizonMonths)
	}
	if f.SeniorTenorYears != 0 {
		t.SeniorTenorMonths = 12 * f.SeniorTenorYears
	}
	if f.MonteCarloPaths != 0 {
		t.Paths = f.MonteCarloPaths
	}
	set(&t.DiscountRate, f.DiscountRate)
	set(&t.TerminalCapRate, f.TerminalCapRate)
	set(&t.PayoutRatio, f.PayoutRatio)
	set(&t.IssuePrice, f.IssuePriceCNY)
	set(&t.SeniorRate, f.SeniorRate)
	set(&t.SeniorDSCR, f.SeniorTargetDSCR)
	set(&t.SeniorMaxLTV, f.SeniorMaxLTV)
	set(&t.MezzanineShare, f.MezzanineShare)
	set(&t.MezzanineRate, f.MezzanineRate)
	set(&t.ReinvestShare, f.ReinvestShare)
	return &t
}

// Finance values and structures the optimised operation with the default C-REIT deal
// (finance.CommunityDeal): the summary's finance block.
func Finance(ctx context.Context, c *Case, runs []*PolicyRun, paths int, progress Progress) (*finance.Result, error) {
	d, err := finance.CommunityDeal(OperatingYear(c, OptimisedRun(runs)))
	if err != nil {
		return nil, err
	}
	if paths <= 0 {
		paths = d.Risk.Paths
	}
	return finance.Run(ctx, d, finance.Options{Paths: paths, Seed: c.Seed + 1, Progress: func(stage string, done, total int) {
		if progress != nil {
			progress("finance "+stage, done, total)
		}
	}})
}
