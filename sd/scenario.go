package sd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// Lever is a model constant with a base value and a low/high range, used by
// Tornado and Benchmark.
type Lever struct {
	Name            string
	Base, Low, High float64
}

// TornadoBar is the output value with one lever at its low and at its high
// value (all other levers at base).
type TornadoBar struct {
	Lever     string
	Low, High float64
}

// constVar returns the variable named name if its equation (for a stock: its
// initial value) is a plain number.
func (m *Model) constVar(name string) (*variable, error) {
	v := m.byKey[canon(name)]
	if v == nil {
		return nil, fmt.Errorf("sd: no variable %q", name)
	}
	if (v.kind != kAux && v.kind != kStock) || v.gf != nil || v.initEqn != nil || v.preEqn != nil || !isNumNode(v.eqn) {
		return nil, fmt.Errorf("sd: variable %q is not a constant", name)
	}
	return v, nil
}

func isNumNode(n *node) bool {
	if n == nil {
		return false
	}
	if n.op == "num" {
		return true
	}
	return n.op == "neg" && len(n.args) == 1 && isNumNode(n.args[0])
}

// SetConstant overrides a constant auxiliary (or the constant initial value of
// a stock), named by its display name. It is an error if the variable does
// not exist or its equation is not a plain number.
func (m *Model) SetConstant(name string, v float64) error {
	va, err := m.constVar(name)
	if err != nil {
		return err
	}
	va.eqn = &node{op: "num", num: v}
	va.eqnSrc = strconv.FormatFloat(v, 'g', -1, 64)
	return nil
}

// RunScenario runs m with Euler integration and the given constants
// (display names) overridden.
// The overrides are undone before it returns, so m is unchanged for later
// runs. Like Run, it must not be called concurrently on the same model.
func RunScenario(m *Model, overrides map[string]float64) (*Result, error) {
	type saved struct {
		v   *variable
		eqn *node
		src string
	}
	var undo []saved
	defer func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i].v.eqn, undo[i].v.eqnSrc = undo[i].eqn, undo[i].src
		}
	}()
	names := make([]string, 0, len(overrides))
	for k := range overrides {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v, err := m.constVar(k)
		if err != nil {
			return nil, err
		}
		undo = append(undo, saved{v, v.eqn, v.eqnSrc})
		v.eqn = &node{op: "num", num: overrides[k]}
	}
	return m.Run(Euler)
}

// Series returns the saved values of the named variable.
func (r *Result) Series(name string) ([]float64, error) {
	key := canon(name)
	for i, n := range r.Names {
		if n == name || canon(n) == key {
			return r.Values[i], nil
		}
	}
	return nil, fmt.Errorf("sd: no variable %q in result", name)
}

// At returns the named variable at time t, linearly interpolated between
// save times (clamped to the simulated range).
func (r *Result) At(name string, t float64) (float64, error) {
	s, err := r.Series(name)
	if err != nil {
		return 0, err
	}
	n := len(r.Times)
	if n == 0 {
		return 0, fmt.Errorf("sd: empty result")
	}
	if t <= r.Times[0] {
		return s[0], nil
	}
	if t >= r.Times[n-1] {
		return s[n-1], nil
	}
	i := sort.SearchFloat64s(r.Times, t)
	if r.Times[i] == t {
		return s[i], nil
	}
	t0, t1 := r.Times[i-1], r.Times[i]
	return s[i-1] + (t-t0)*(s[i]-s[i-1])/(t1-t0), nil
}

// Tornado runs, for each lever, the model with that lever at Low and at High
// (all levers at Base otherwise) and reports output at time at. Bars are
// sorted by swing |High-Low|, largest first.
func Tornado(m *Model, output string, at float64, levers []Lever) ([]TornadoBar, error) {
	base := map[string]float64{}
	for _, l := range levers {
		base[l.Name] = l.Base
	}
	bars := make([]TornadoBar, 0, len(levers))
	for _, l := range levers {
		var vals [2]float64
		for j, x := range []float64{l.Low, l.High} {
			ov := make(map[string]float64, len(base))
			for k, v := range base {
				ov[k] = v
			}
			ov[l.Name] = x
			r, err := RunScenario(m, ov)
			if err != nil {
				return nil, err
			}
			if vals[j], err = r.At(output, at); err != nil {
				return nil, err
			}
		}
		bars = append(bars, TornadoBar{Lever: l.Name, Low: vals[0], High: vals[1]})
	}
	sort.SliceStable(bars, func(i, j int) bool {
		return math.Abs(bars[i].High-bars[i].Low) > math.Abs(bars[j].High-bars[j].Low)
	})
	return bars, nil
}

// Calibrate fits the constants params so that output matches observed at
// times, minimising the sum of squared errors with Nelder–Mead, starting
// from the model's current values. It returns the fitted values and the SSE;
// m itself is not changed.
func Calibrate(m *Model, params []string, output string, times, observed []float64) (map[string]float64, float64, error) {
	if len(params) == 0 {
		return nil, 0, fmt.Errorf("sd: no parameters to calibrate")
	}
	if len(times) != len(observed) || len(times) == 0 {
		return nil, 0, fmt.Errorf("sd: %d times but %d observations", len(times), len(observed))
	}
	x0 := make([]float64, len(params))
	for i, p := range params {
		v, err := m.constVar(p)
		if err != nil {
			return nil, 0, err
		}
		x0[i] = constValue(v.eqn)
	}
	var runErr error
	sse := func(x []float64) float64 {
		ov := make(map[string]float64, len(params))
		for i, p := range params {
			ov[p] = x[i]
		}
		r, err := RunScenario(m, ov)
		if err != nil {
			runErr = err
			return math.Inf(1)
		}
		s := 0.0
		for i, t := range times {
			y, err := r.At(output, t)
			if err != nil {
				runErr = err
				return math.Inf(1)
			}
			d := y - observed[i]
			s += d * d
		}
		if math.IsNaN(s) {
			return math.Inf(1)
		}
		return s
	}
	if math.IsInf(sse(x0), 1) && runErr != nil {
		return nil, 0, runErr
	}
	x, f, err := nelderMead(sse, x0)
	if x == nil {
		return nil, 0, err
	}
	out := make(map[string]float64, len(params))
	for i, p := range params {
		out[p] = x[i]
	}
	return out, f, err
}

func constValue(n *node) float64 {
	if n.op == "neg" {
		return -constValue(n.args[0])
	}
	return n.num
}

// Benchmark times one run of m, and runs runs with every constant of the
// model perturbed by a uniform factor in [0.8, 1.2] drawn from a seeded PCG.
func Benchmark(m *Model, runs int) (oneRunSeconds, sensitivitySeconds float64, err error) {
	t0 := time.Now()
	if _, err := m.Run(Euler); err != nil {
		return 0, 0, err
	}
	oneRunSeconds = time.Since(t0).Seconds()
	var consts []string
	base := map[string]float64{}
	for _, v := range m.vars {
		if c, err := m.constVar(v.name); err == nil && c.kind == kAux {
			consts = append(consts, v.name)
			base[v.name] = constValue(c.eqn)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	t1 := time.Now()
	for range runs {
		ov := make(map[string]float64, len(consts))
		for _, c := range consts {
			ov[c] = base[c] * (0.8 + 0.4*rng.Float64())
		}
		if _, err := RunScenario(m, ov); err != nil {
			return oneRunSeconds, 0, err
		}
	}
	sensitivitySeconds = time.Since(t1).Seconds()
	return oneRunSeconds, sensitivitySeconds, nil
}
