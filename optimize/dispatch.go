// Package optimize turns forecasts and tariffs into setpoints by linear and mixed-
// integer programming (HiGHS through optimize/solver): battery dispatch with perfect
// foresight (the bound every policy is judged against) and as a receding-horizon MPC.
package optimize

import (
	"fmt"
	"math"
	"time"

	"github.com/lifang-community/lifang/optimize/solver"
)

// Battery is a store in dispatch terms: energies in kWh, powers AC-side in kW.
type Battery struct {
	CapacityKWh  float64
	PowerKW      float64
	EtaCharge    float64
	EtaDischarge float64
	MinKWh       float64
	MaxKWh       float64
	InitialKWh   float64
}

// Validate names the first impossible parameter.
func (b Battery) Validate() error {
	switch {
	case b.PowerKW < 0:
		return fmt.Errorf("optimize: battery power %g kW is negative", b.PowerKW)
	case b.CapacityKWh < 0:
		return fmt.Errorf("optimize: battery capacity %g kWh is negative", b.CapacityKWh)
	case b.CapacityKWh == 0 && b.PowerKW > 0:
		return fmt.Errorf("optimize: battery of zero capacity with %g kW of power", b.PowerKW)
	case b.EtaCharge <= 0 || b.EtaCharge > 1 || b.EtaDischarge <= 0 || b.EtaDischarge > 1:
		return fmt.Errorf("optimize: efficiencies %g/%g must be in (0, 1]", b.EtaCharge, b.EtaDischarge)
	case b.MinKWh < 0 || b.MaxKWh > b.CapacityKWh+1e-9 || b.MinKWh > b.MaxKWh:
		return fmt.Errorf("optimize: energy bounds [%g, %g] outside [0, %g]", b.MinKWh, b.MaxKWh, b.CapacityKWh)
	case b.InitialKWh < b.MinKWh-1e-9 || b.InitialKWh > b.MaxKWh+1e-9:
		return fmt.Errorf("optimize: initial energy %g outside [%g, %g]", b.InitialKWh, b.MinKWh, b.MaxKWh)
	}
	return nil
}

// Plan is a dispatch schedule and its cost.
type Plan struct {
	ChargeKW, DischargeKW []float64
	ImportKW, ExportKW    []float64
	EnergyKWh             []float64 // at the end of each step
	CostCNY               float64
}

// Dispatch solves min Σ_t (price_t·import_t − exportPrice·export_t)·Δt for one battery
// behind a meter whose net load (load − PV, kW) is given, subject to
//
//	net_t + c_t − d_t = import_t − export_t
//	E_t = E_{t−1} + η_c c_t Δt − d_t Δt / η_d,   E_{−1} = E_init
//	0 ≤ c_t, d_t ≤ P;  E_min ≤ E_t ≤ E_max;  E_T ≥ E_init when terminal
//
// (REFERENCES.md: battery storage). Simultaneous charge and discharge is not excluded:
// with non-negative prices it never pays, and the LP stays an LP.
func Dispatch(net, price []float64, exportPrice float64, b Battery, dtH float64, terminal bool) (*Plan, error) {
	s, err := solver.NewSession()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return dispatch(s, net, price, exportPrice, b, dtH, terminal, 0, 0, nil)
}

// dispatch builds and solves the LP in session s; terminalValue (CNY/kWh) credits the
// energy left at the end (for receding horizons that must not empty the store).
//
// importCap, when not nil, bounds each step's import (kW) — kept at least the step's
// net load so the LP stays feasible: it limits grid charging, never the load.
func dispatch(s *solver.Session, net, price []float64, exportPrice float64, b Battery, dtH float64, terminal bool, terminalValue float64, limit time.Duration, importCap []float64) (*Plan, error) {
	n := len(net)
	if len(price) != n {
		return nil, fmt.Errorf("optimize: %d prices for %d steps", len(price), n)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	var p solver.Problem
	c, d, g, x, e := make([]int, n), make([]int, n), make([]int, n), make([]int, n), make([]int, n)
	for t := range n {
		c[t] = p.AddVar(0, 0, b.PowerKW)
		d[t] = p.AddVar(0, 0, b.PowerKW)
		gHi := solver.Inf
		if importCap != nil {
			gHi = math.Max(importCap[t], net[t])
		}
		g[t] = p.AddVar(price[t]*dtH, 0, gHi)
		// Export is valued at most at the import price of the hour: a meter nets its
		// flows, so buying and selling in the same hour is not an arbitrage (and an LP
		// that thought so would be unbounded when export pays more than a valley hour).
		x[t] = p.AddVar(-math.Min(exportPrice, price[t])*dtH, 0, solver.Inf)
		lo := b.MinKWh
		if terminal && t == n-1 {
			lo = math.Max(lo, b.InitialKWh)
		}
		cost := 0.0
		if t == n-1 {
			cost = -terminalValue
		}
		e[t] = p.AddVar(cost, lo, b.MaxKWh)
	}
	for t := range n {
		// c − d − import + export = −net
		p.AddRow(-net[t], -net[t], []int{c[t], d[t], g[t], x[t]}, []float64{1, -1, -1, 1})
		// E_t − E_{t−1} − η_c Δt c_t + Δt/η_d d_t = 0 (E_{−1} = E_init on the right)
		if t == 0 {
			p.AddRow(b.InitialKWh, b.InitialKWh, []int{e[t], c[t], d[t]}, []float64{1, -b.EtaCharge * dtH, dtH / b.EtaDischarge})
		} else {
			p.AddRow(0, 0, []int{e[t], e[t-1], c[t], d[t]}, []float64{1, -1, -b.EtaCharge * dtH, dtH / b.EtaDischarge})
		}
	}
	res, err := s.Solve(&p, solver.Options{TimeLimit: limit})
	if err != nil {
		return nil, fmt.Errorf("optimize: dispatch over %d steps: %w", n, err)
	}
	plan := &Plan{ChargeKW: make([]float64, n), DischargeKW: make([]float64, n), ImportKW: make([]float64, n), ExportKW: make([]float64, n), EnergyKWh: make([]float64, n)}
	for t := range n {
		plan.ChargeKW[t], plan.DischargeKW[t] = res.X[c[t]], res.X[d[t]]
		plan.ImportKW[t], plan.ExportKW[t], plan.EnergyKWh[t] = res.X[g[t]], res.X[x[t]], res.X[e[t]]
	}
	plan.CostCNY = res.Objective
	return plan, nil
}

// NoStorageCost is the bill of the net load without a battery.
func NoStorageCost(net, price []float64, exportPrice, dtH float64) float64 {
	cost := 0.0
	for t, v := range net {
		if v > 0 {
			cost += price[t] * v * dtH
		} else {
			cost += exportPrice * v * dtH
		}
	}
	return cost
}

// Planner solves the receding-horizon dispatch LP step after step on one HiGHS session
// (the MPC policy's plan); Close frees it.
type Planner struct{ s *solver.Session }

// NewPlanner opens a solver session.
func NewPlanner() (*Planner, error) {
	s, err := solver.NewSession()
	if err != nil {
		return nil, err
	}
	return &Planner{s: s}, nil
}

// Plan is Dispatch over the horizon of net (kW per step, + import) without a terminal
// condition, with an optional per-step cap on grid import (nil: none) and a solver time
// limit (0: none; a limit makes the result depend on the machine's speed).
func (p *Planner) Plan(net, price []float64, exportPrice float64, b Battery, dtH float64, limit time.Duration, importCap []float64) (*Plan, error) {
	return dispatch(p.s, net, price, exportPrice, b, dtH, false, 0, limit, importCap)
}

// Close frees the solver session.
func (p *Planner) Close() { p.s.Close() }
