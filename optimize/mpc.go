package optimize

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/lifang-community/lifang/optimize/solver"
)

// Forecaster predicts h hourly values from the history before t0 (the forecast
// package's models implement it).
type Forecaster interface {
	Predict(hist []float64, t0 time.Time, h int) []float64
}

// MPC is a receding-horizon controller: every step it forecasts load and PV over the
// horizon from the past only, solves the dispatch LP from the battery's current energy,
// and applies the first step through a real-time layer that sees the step's measured
// load and PV the way a battery inverter does: it absorbs surplus that would be
// exported for less than it is worth, never discharges into export, and otherwise
// follows the plan.
type MPC struct {
	Horizon     int
	Load, PV    Forecaster
	ExportPrice float64
	// TerminalValue credits energy left at the horizon's end at this share of the mean
	// import price of the day after the horizon, discharged (η_d): without it every plan
	// empties the store by its last hour. Prices are a published tariff, known ahead.
	TerminalValue float64
	// FollowPlan, when true, discharges the planned power (clipped to the measured load)
	// instead of covering the whole measured load whenever the plan discharges.
	FollowPlan bool
	// MeasuredNow plans with the step's measured net load in place of its forecast: the
	// real-time layer re-solves inside the step with what the inverter measures.
	MeasuredNow bool
	// Persist carries the step's measured deviation from the forecast into the next
	// steps, decaying by this factor a step (0: off) — short-term persistence on top of
	// the profile forecast.
	Persist float64
	// TimeLimit bounds each solve (0: none); a solve that fails or times out falls back
	// to the real-time layer alone for that step, is counted and logged.
	TimeLimit time.Duration
	Log       *slog.Logger

	failSolve func(step int) bool // test seam: make the solve of a step fail
}

// Outcome is what a controller did over a run, settled on actual load and PV.
type Outcome struct {
	CostCNY   float64
	ImportKWh float64
	ExportKWh float64
	Solves    int
	Fallbacks int // steps where the LP failed and the real-time layer acted alone
	EnergyKWh []float64
}

// Run simulates the controller over actual load and PV (kW) with known prices.
func (m MPC) Run(times []time.Time, load, pv, price []float64, b Battery, dtH float64) (*Outcome, error) {
	n := len(load)
	if len(pv) != n || len(price) != n || len(times) != n {
		return nil, fmt.Errorf("optimize: mpc: series of unequal length")
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	out := &Outcome{EnergyKWh: make([]float64, n)}
	s, err := solver.NewSession()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	e := b.InitialKWh
	for t := range n {
		h := min(m.Horizon, n-t)
		lf := m.Load.Predict(load[:t], times[t], h)
		pf := m.PV.Predict(pv[:t], times[t], h)
		net := make([]float64, h)
		for k := range h {
			l, p := lf[k], pf[k]
			if t == 0 || math.IsNaN(l) {
				l = load[max(t-1, 0)]
			}
			if t == 0 || math.IsNaN(p) {
				p = 0
			}
			net[k] = l - math.Max(p, 0)
		}
		if m.MeasuredNow {
			dev := load[t] - pv[t] - net[0]
			net[0] = load[t] - pv[t]
			for k, f := 1, m.Persist; k < h && f > 1e-3; k, f = k+1, f*m.Persist {
				net[k] += dev * f
			}
		}
		bb := b
		bb.InitialKWh = e
		tv := 0.0
		if m.TerminalValue > 0 {
			next := price[t+h : min(t+h+24, n)]
			if len(next) == 0 {
				next = price[t : t+h]
			}
			mean := 0.0
			for _, v := range next {
				mean += v
			}
			tv = m.TerminalValue * mean / float64(len(next)) * b.EtaDischarge
		}
		plan, err := dispatch(s, net, price[t:t+h], m.ExportPrice, bb, dtH, false, tv, m.TimeLimit, nil)
		if err == nil && m.failSolve != nil && m.failSolve(t) {
			err = fmt.Errorf("optimize: %w: time limit reached (injected)", solver.ErrNoSolution)
		}
		c, d := 0.0, 0.0
		if err != nil {
			out.Fallbacks++
			if m.Log != nil {
				m.Log.Warn("mpc: solve failed, real-time layer only for this step", "step", t, "time", times[t], "err", err)
			}
		} else {
			out.Solves++
			c, d = plan.ChargeKW[0], plan.DischargeKW[0]
		}
		actual := load[t] - pv[t]
		room := (b.MaxKWh - e) / (b.EtaCharge * dtH)
		avail := (e - b.MinKWh) * b.EtaDischarge / dtH
		var charge, discharge float64
		switch {
		case actual < 0 && m.ExportPrice < price[t]*b.EtaCharge*b.EtaDischarge:
			// Surplus is worth more stored than exported: absorb it, and keep any planned grid charge.
			charge = math.Max(c-d, -actual)
		case d > c && m.FollowPlan:
			discharge = math.Max(0, math.Min(d-c, actual))
		case d > c:
			// The plan discharges now: cover the measured load, never export.
			discharge = math.Max(0, actual)
		default:
			charge = c - d
		}
		charge = math.Max(0, math.Min(charge, math.Min(b.PowerKW, room)))
		discharge = math.Max(0, math.Min(discharge, math.Min(b.PowerKW, avail)))
		e += b.EtaCharge*charge*dtH - discharge*dtH/b.EtaDischarge
		grid := actual + charge - discharge
		if grid > 0 {
			out.CostCNY += price[t] * grid * dtH
			out.ImportKWh += grid * dtH
		} else {
			out.CostCNY += m.ExportPrice * grid * dtH
			out.ExportKWh -= grid * dtH
		}
		out.EnergyKWh[t] = e
	}
	return out, nil
}
