// Package solver wraps HiGHS (github.com/bartolsthoorn/gohighs, an embedded static
// build) behind a small sparse LP/MILP interface: build a Problem row by row, Solve
// it with a time limit and MIP gap, read the status, objective, values and duals.
package solver

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/bartolsthoorn/gohighs/highs"
)

// Inf is an infinite bound.
var Inf = math.Inf(1)

// Problem is min (or max) c·x subject to rowLo ≤ A x ≤ rowHi and lo ≤ x ≤ hi, with
// some columns integer. Rows are stored sparse, row by row.
type Problem struct {
	Maximize bool
	Cost     []float64
	Lo, Hi   []float64
	Integer  []bool

	rowLo, rowHi []float64
	start        []int
	index        []int
	value        []float64
}

// AddVar adds a column and returns its index.
func (p *Problem) AddVar(cost, lo, hi float64) int {
	p.Cost = append(p.Cost, cost)
	p.Lo = append(p.Lo, lo)
	p.Hi = append(p.Hi, hi)
	p.Integer = append(p.Integer, false)
	return len(p.Cost) - 1
}

// AddRow adds lo ≤ Σ vals[k]·x[cols[k]] ≤ hi.
func (p *Problem) AddRow(lo, hi float64, cols []int, vals []float64) {
	p.start = append(p.start, len(p.index))
	p.index = append(p.index, cols...)
	p.value = append(p.value, vals...)
	p.rowLo = append(p.rowLo, lo)
	p.rowHi = append(p.rowHi, hi)
}

// NumRows is the number of constraints.
func (p *Problem) NumRows() int { return len(p.rowLo) }

// Options bound a solve.
type Options struct {
	TimeLimit time.Duration // 0: none
	MIPGap    float64       // relative; 0: HiGHS's default
}

// Result is a solve's outcome.
type Result struct {
	Status    string
	Optimal   bool
	Objective float64
	X         []float64
	RowDuals  []float64
	// MIPGap is the relative gap reached (MILPs).
	MIPGap  float64
	Seconds float64
}

// ErrNoSolution is returned when the solver ends without a usable solution
// (infeasible, unbounded, time limit without incumbent).
var ErrNoSolution = errors.New("solver: no solution")

// Solve runs HiGHS on p in a fresh solver.
func Solve(p *Problem, opt Options) (*Result, error) {
	s, err := NewSession()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Solve(p, opt)
}

// Session is a HiGHS instance reused across solves (a receding-horizon controller solves
// thousands of small LPs: creating a solver each time costs more than solving). Not
// safe for concurrent use.
type Session struct{ h *highs.Solver }

// NewSession creates a solver.
func NewSession() (*Session, error) {
	h, err := highs.NewSolver()
	if err != nil {
		return nil, fmt.Errorf("solver: %w", err)
	}
	return &Session{h: h}, nil
}

// Close frees the solver.
func (s *Session) Close() { s.h.Close() }

// Solve replaces the session's model with p and solves it.
func (ss *Session) Solve(p *Problem, opt Options) (*Result, error) {
	start := time.Now()
	s := ss.h
	if err := s.ClearModel(); err != nil {
		return nil, fmt.Errorf("solver: %w", err)
	}
	// One thread and a fixed seed: the same model gives the same answer, every time.
	if err := s.SetIntOption("threads", 1); err != nil {
		return nil, fmt.Errorf("solver: %w", err)
	}
	if err := s.SetIntOption("random_seed", 0); err != nil {
		return nil, fmt.Errorf("solver: %w", err)
	}
	if err := s.SetBoolOption("output_flag", false); err != nil {
		return nil, fmt.Errorf("solver: %w", err)
	}
	if opt.TimeLimit > 0 {
		if err := s.SetFloatOption("time_limit", opt.TimeLimit.Seconds()); err != nil {
			return nil, fmt.Errorf("solver: %w", err)
		}
	}
	if opt.MIPGap > 0 {
		if err := s.SetFloatOption("mip_rel_gap", opt.MIPGap); err != nil {
			return nil, fmt.Errorf("solver: %w", err)
		}
	}
	var integrality []highs.VariableType
	for _, in := range p.Integer {
		if in {
			integrality = make([]highs.VariableType, len(p.Integer))
			for j, b := range p.Integer {
				if b {
					integrality[j] = highs.Integer
				} else {
					integrality[j] = highs.Continuous
				}
			}
			break
		}
	}
	starts := append(append([]int(nil), p.start...), len(p.index))
	if err := s.PassModel(len(p.Cost), len(p.rowLo), p.Cost, p.Lo, p.Hi, p.rowLo, p.rowHi,
		starts[:len(p.rowLo)], p.index, p.value, integrality, p.Maximize, 0); err != nil {
		return nil, fmt.Errorf("solver: pass model (%d cols, %d rows): %w", len(p.Cost), len(p.rowLo), err)
	}
	sol, err := s.Run()
	if err != nil {
		return nil, fmt.Errorf("solver: %w", err)
	}
	res := &Result{Status: sol.Status.String(), Optimal: sol.Status.IsOptimal(), Objective: sol.Objective,
		X: sol.ColValues, RowDuals: sol.RowDuals, Seconds: time.Since(start).Seconds()}
	if integrality != nil {
		if g, err := s.GetFloatInfo("mip_gap"); err == nil {
			res.MIPGap = g
		}
	}
	if !sol.Status.HasSolution() || !res.Optimal && integrality == nil {
		// An LP stopped early (time limit) has no trustworthy point: report it.
		return res, fmt.Errorf("%w: %s", ErrNoSolution, res.Status)
	}
	return res, nil
}
