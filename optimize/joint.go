package optimize

import (
	"fmt"
	"math"
	"time"

	"github.com/lifang-community/lifang/optimize/solver"
)

// EVNeed is a charging session in dispatch terms: the EV is plugged from step Arrive
// to Depart (exclusive) and wants EnergyKWh in its battery; MaxKW bounds the charger.
type EVNeed struct {
	Arrive, Depart int
	EnergyKWh      float64
	MaxKW          float64
	Efficiency     float64
}

// Run is a shiftable appliance run: it starts at one step of [Earliest, Latest−len]
// and then draws ProfileKW.
type Run struct {
	Earliest, Latest int
	ProfileKW        []float64
}

// JointResult is a solved joint schedule.
type JointResult struct {
	Status    string  `json:"status"`
	CostCNY   float64 `json:"cost_cny"`
	Objective float64 `json:"objective"`
	MIPGap    float64 `json:"mip_gap"`
	UnmetKWh  float64 `json:"ev_unmet_kwh"`
	Seconds   float64 `json:"seconds"`
	Binaries  int     `json:"binaries"`
	Columns   int     `json:"columns"`
	Rows      int     `json:"rows"`
}

// Joint schedules a battery, EV charging and shiftable runs together as one MILP:
// the dispatch LP plus, per EV session, charging power in its plugged hours with a
// soft energy target (unmet energy costs penalty CNY/kWh — never infeasible), and per
// run one binary per feasible start with exactly one chosen.
func Joint(net, price []float64, exportPrice float64, b Battery, evs []EVNeed, runs []Run, dtH, penalty float64, opt solver.Options) (*JointResult, error) {
	n := len(net)
	if err := b.Validate(); err != nil {
		return nil, err
	}
	for i, ev := range evs {
		if ev.Arrive < 0 || ev.Depart <= ev.Arrive || ev.Depart > n || ev.MaxKW < 0 || ev.EnergyKWh < 0 {
			return nil, fmt.Errorf("optimize: EV session %d: arrive %d, depart %d, %g kW, %g kWh (departure must follow arrival, inside %d steps)", i, ev.Arrive, ev.Depart, ev.MaxKW, ev.EnergyKWh, n)
		}
	}
	var p solver.Problem
	extra := make([][]int, n) // extra load columns at each step
	extraCoef := make([][]float64, n)
	c, d, g, x, e := make([]int, n), make([]int, n), make([]int, n), make([]int, n), make([]int, n)
	for t := range n {
		c[t] = p.AddVar(0, 0, b.PowerKW)
		d[t] = p.AddVar(0, 0, b.PowerKW)
		g[t] = p.AddVar(price[t]*dtH, 0, solver.Inf)
		x[t] = p.AddVar(-math.Min(exportPrice, price[t])*dtH, 0, solver.Inf)
		e[t] = p.AddVar(0, b.MinKWh, b.MaxKWh)
	}
	var slacks []int
	for _, ev := range evs {
		eff := ev.Efficiency
		if eff <= 0 {
			eff = 1
		}
		var cols []int
		var vals []float64
		for t := ev.Arrive; t < ev.Depart; t++ {
			col := p.AddVar(0, 0, ev.MaxKW)
			extra[t] = append(extra[t], col)
			extraCoef[t] = append(extraCoef[t], 1)
			cols = append(cols, col)
			vals = append(vals, eff*dtH)
		}
		u := p.AddVar(penalty, 0, solver.Inf)
		slacks = append(slacks, u)
		cols = append(cols, u)
		vals = append(vals, 1)
		p.AddRow(ev.EnergyKWh, solver.Inf, cols, vals)
	}
	binaries := 0
	for ri, r := range runs {
		last := r.Latest - len(r.ProfileKW)
		if last < r.Earliest || r.Earliest < 0 || r.Latest > n {
			return nil, fmt.Errorf("optimize: run %d: window [%d,%d) cannot hold %d steps", ri, r.Earliest, r.Latest, len(r.ProfileKW))
		}
		var cols []int
		var ones []float64
		for k := r.Earliest; k <= last; k++ {
			y := p.AddVar(0, 0, 1)
			p.Integer[y] = true
			binaries++
			cols = append(cols, y)
			ones = append(ones, 1)
			for j, kw := range r.ProfileKW {
				extra[k+j] = append(extra[k+j], y)
				extraCoef[k+j] = append(extraCoef[k+j], kw)
			}
		}
		p.AddRow(1, 1, cols, ones)
	}
	for t := range n {
		cols := append([]int{c[t], d[t], g[t], x[t]}, extra[t]...)
		vals := append([]float64{1, -1, -1, 1}, extraCoef[t]...)
		p.AddRow(-net[t], -net[t], cols, vals)
		if t == 0 {
			p.AddRow(b.InitialKWh, b.InitialKWh, []int{e[t], c[t], d[t]}, []float64{1, -b.EtaCharge * dtH, dtH / b.EtaDischarge})
		} else {
			p.AddRow(0, 0, []int{e[t], e[t-1], c[t], d[t]}, []float64{1, -1, -b.EtaCharge * dtH, dtH / b.EtaDischarge})
		}
	}
	start := time.Now()
	res, err := solver.Solve(&p, opt)
	out := &JointResult{Binaries: binaries, Columns: len(p.Cost), Rows: p.NumRows(), Seconds: time.Since(start).Seconds()}
	if res != nil {
		out.Status, out.MIPGap, out.Objective = res.Status, res.MIPGap, res.Objective
	}
	if err != nil {
		return out, fmt.Errorf("optimize: joint MILP: %w", err)
	}
	for _, u := range slacks {
		out.UnmetKWh += res.X[u]
	}
	out.CostCNY = out.Objective - penalty*out.UnmetKWh
	return out, nil
}
