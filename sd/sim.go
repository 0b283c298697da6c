package sd

import (
	"fmt"
	"math"
	"strings"
)

type stateful struct {
	fn     string
	call   *node
	base   int // index into state vector of first internal stock
	n      int // number of internal stocks
	inited bool
	nmax   int // slots reserved for the internal stocks
	cached float64
	histT  []float64
	histV  []float64
}

var builtinNames = map[string]bool{"time": true, "dt": true, "time_step": true, "starttime": true, "initial_time": true,
	"stoptime": true, "final_time": true, "pi": true, "saveper": true}

var fnArity = map[string][2]int{
	"min": {2, 99}, "max": {2, 99}, "abs": {1, 1}, "sqrt": {1, 1}, "exp": {1, 1}, "ln": {1, 1}, "log10": {1, 1},
	"log": {1, 2}, "int": {1, 1}, "sin": {1, 1}, "cos": {1, 1}, "tan": {1, 1}, "arctan": {1, 1}, "arcsin": {1, 1},
	"arccos": {1, 1}, "pulse": {1, 3}, "step": {2, 2}, "ramp": {2, 3}, "safediv": {2, 3}, "modulo": {2, 2},
	"pi": {0, 0}, "time": {0, 0}, "if_then_else": {3, 3}, "lookup": {2, 2}, "round": {1, 1},
	"smth1": {2, 3}, "smth3": {2, 3}, "smthn": {3, 4}, "delay1": {2, 3}, "delay3": {2, 3}, "delayn": {3, 4},
	"delay": {2, 3}, "init": {1, 1}, "sign": {1, 1}, "stddev": {1, 999}, "sinh": {1, 1}, "cosh": {1, 1}, "tanh": {1, 1},
}

var statefulFns = map[string]bool{"smth1": true, "smth3": true, "smthn": true, "delay1": true, "delay3": true,
	"delayn": true, "delay": true, "init": true}

// initArgIndex returns the index of the initial-value argument of a stateful call.
func initArgIndex(n *node) int {
	switch n.name {
	case "smthn", "delayn":
		return 3
	case "init":
		return -1
	}
	return 2
}

func (m *Model) compile() error {
	nState := 0 // offsets from the first non-stock state slot
	type job struct {
		v   *variable
		src string
		dst **node
	}
	var jobs []job
	for _, v := range m.vars {
		if v.preEqn != nil {
			v.eqn = v.preEqn
			jobs = append(jobs, job{v, "", &v.eqn})
			continue
		}
		if v.eqnSrc != "" {
			jobs = append(jobs, job{v, v.eqnSrc, &v.eqn})
		}
		if v.initSrc != "" {
			jobs = append(jobs, job{v, v.initSrc, &v.initEqn})
		}
	}
	m.addJob = func(v *variable) {
		if v.preEqn != nil {
			v.eqn = v.preEqn
			jobs = append(jobs, job{v, "", &v.eqn})
			return
		}
		if v.eqnSrc != "" {
			jobs = append(jobs, job{v, v.eqnSrc, &v.eqn})
		}
		if v.initSrc != "" {
			jobs = append(jobs, job{v, v.initSrc, &v.initEqn})
		}
	}
	for ji := 0; ji < len(jobs); ji++ {
		jb := jobs[ji]
		v := jb.v
		var e *node
		if jb.src == "" {
			e = *jb.dst
		} else {
			var err error
			e, err = parseExpr(jb.src)
			if err != nil {
				if strings.Contains(err.Error(), "unsupported") {
					return fmt.Errorf("%v (variable %q)", err, v.name)
				}
				return fmt.Errorf("variable %q: parse error in %q: %v", v.name, jb.src, err)
			}
			ex, err := m.expand(e, v)
			if err != nil {
				return err
			}
			if len(ex) != 1 {
				return fmt.Errorf("unsupported: arrays (variable %q: array-valued equation for a scalar)", v.name)
			}
			e = ex[0]
		}
		*jb.dst = e
		var rerr error
		walk(e, func(n *node) {
			if rerr != nil {
				return
			}
			switch n.op {
			case "var":
				if r, ok := m.byKey[n.name]; ok {
					n.ref = r
				} else if !builtinNames[n.name] {
					rerr = fmt.Errorf("variable %q: undefined variable %q", v.name, n.name)
				}
			case "call":
				if g, ok := m.byKey[n.name]; ok && g.gf != nil {
					n.ref = g
					if len(n.args) != 1 {
						rerr = fmt.Errorf("variable %q: graphical function %q takes 1 argument", v.name, n.name)
					}
					return
				}
				ar, ok := fnArity[n.name]
				if !ok {
					rerr = fmt.Errorf("variable %q: unknown function %q", v.name, strings.ToUpper(n.name))
					return
				}
				if len(n.args) < ar[0] || len(n.args) > ar[1] {
					if (n.name == "min" || n.name == "max") && len(n.args) == 1 {
						rerr = fmt.Errorf("unsupported: arrays (variable %q: one-argument %s)", v.name, strings.ToUpper(n.name))
						return
					}
					rerr = fmt.Errorf("variable %q: function %s: wrong number of arguments (%d)", v.name, strings.ToUpper(n.name), len(n.args))
					return
				}
				if statefulFns[n.name] {
					s := &stateful{fn: n.name, call: n, base: nState}
					switch n.name {
					case "smth1", "delay1":
						s.n = 1
					case "smth3", "delay3":
						s.n = 3
					case "smthn", "delayn":
						if n.args[2].op != "num" {
							// order evaluated at init; reserve up to 32 slots
							s.n = 32
						} else {
							s.n = int(math.Round(n.args[2].num))
						}
						if s.n < 1 {
							s.n = 1
						}
					}
					s.nmax = s.n
					nState += s.n
					n.state = len(m.states)
					m.states = append(m.states, s)
				}
			}
		})
		if rerr != nil {
			return rerr
		}
	}
	for _, v := range m.vars {
		if v.kind == kStock {
			m.stocks = append(m.stocks, v)
			for _, f := range v.inflows {
				fv, ok := m.byKey[m.flowKey(f, v.ctxDims, v.ctxIdx)]
				if !ok {
					return fmt.Errorf("stock %q: undefined inflow %q", v.name, f)
				}
				v.in = append(v.in, fv)
			}
			for _, f := range v.outflows {
				fv, ok := m.byKey[m.flowKey(f, v.ctxDims, v.ctxIdx)]
				if !ok {
					return fmt.Errorf("stock %q: undefined outflow %q", v.name, f)
				}
				v.out = append(v.out, fv)
			}
		}
	}
	for _, st := range m.states {
		st.base += len(m.stocks)
	}
	// dependency orders
	var err error
	m.initOrder, err = m.order(true)
	if err != nil {
		return err
	}
	m.runOrder, err = m.order(false)
	return err
}

func walk(n *node, f func(*node)) {
	f(n)
	for _, a := range n.args {
		walk(a, f)
	}
}

func deps(n *node, init bool, out map[*variable]bool) {
	switch n.op {
	case "var":
		if n.ref != nil {
			out[n.ref] = true
		}
		return
	case "call":
		if statefulFns[n.name] {
			if !init {
				if n.name == "init" {
					return
				}
				// runtime: only the delay time matters for the output of delays
				if strings.HasPrefix(n.name, "delay") && n.name != "delay" {
					deps(n.args[1], init, out)
				}
				return
			}
			ia := initArgIndex(n)
			for i, a := range n.args {
				if i == 0 && ia >= 0 && ia < len(n.args) {
					continue
				}
				deps(a, init, out)
			}
			return
		}
	}
	for _, a := range n.args {
		deps(a, init, out)
	}
}

func (m *Model) order(init bool) ([]*variable, error) {
	state := map[*variable]int{}
	var out []*variable
	var stack []*variable
	var visit func(v *variable) error
	visit = func(v *variable) error {
		switch state[v] {
		case 2:
			return nil
		case 1:
			var names []string
			startI := 0
			for i, s := range stack {
				if s == v {
					startI = i
				}
			}
			for _, s := range stack[startI:] {
				names = append(names, fmt.Sprintf("%q", s.name))
			}
			names = append(names, fmt.Sprintf("%q", v.name))
			return fmt.Errorf("circular dependency among variables: %s", strings.Join(names, " -> "))
		}
		state[v] = 1
		stack = append(stack, v)
		e := v.eqn
		if init && v.initEqn != nil {
			e = v.initEqn
		}
		if e != nil && (init || v.kind != kStock) {
			d := map[*variable]bool{}
			deps(e, init, d)
			for _, dv := range m.vars {
				if !d[dv] {
					continue
				}
				if !init && dv.kind == kStock {
					continue
				}
				if err := visit(dv); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[v] = 2
		if init || v.kind != kStock {
			out = append(out, v)
		}
		return nil
	}
	for _, v := range m.vars {
		if err := visit(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type sim struct {
	m      *Model
	vals   []float64
	y      []float64
	t      float64
	init   bool
	record bool
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *sim) eval(n *node) float64 {
	switch n.op {
	case "num":
		return n.num
	case "var":
		if n.ref != nil {
			return s.vals[n.ref.idx]
		}
		switch n.name {
		case "time":
			return s.t
		case "dt", "time_step":
			return s.m.dt
		case "starttime", "initial_time":
			return s.m.start
		case "stoptime", "final_time":
			return s.m.stop
		case "saveper":
			return s.m.save
		case "pi":
			return math.Pi
		}
		return math.NaN()
	case "+":
		return s.eval(n.args[0]) + s.eval(n.args[1])
	case "-":
		return s.eval(n.args[0]) - s.eval(n.args[1])
	case "*":
		return s.eval(n.args[0]) * s.eval(n.args[1])
	case "/":
		return s.eval(n.args[0]) / s.eval(n.args[1])
	case "mod":
		return math.Mod(s.eval(n.args[0]), s.eval(n.args[1]))
	case "^":
		return math.Pow(s.eval(n.args[0]), s.eval(n.args[1]))
	case "neg":
		return -s.eval(n.args[0])
	case "not":
		return b2f(s.eval(n.args[0]) == 0)
	case "and":
		return b2f(s.eval(n.args[0]) != 0 && s.eval(n.args[1]) != 0)
	case "or":
		return b2f(s.eval(n.args[0]) != 0 || s.eval(n.args[1]) != 0)
	case "=":
		return b2f(s.eval(n.args[0]) == s.eval(n.args[1]))
	case "<>":
		return b2f(s.eval(n.args[0]) != s.eval(n.args[1]))
	case "<":
		return b2f(s.eval(n.args[0]) < s.eval(n.args[1]))
	case ">":
		return b2f(s.eval(n.args[0]) > s.eval(n.args[1]))
	case "<=":
		return b2f(s.eval(n.args[0]) <= s.eval(n.args[1]))
	case ">=":
		return b2f(s.eval(n.args[0]) >= s.eval(n.args[1]))
	case "if":
		if s.eval(n.args[0]) != 0 {
			return s.eval(n.args[1])
		}
		return s.eval(n.args[2])
	case "call":
		return s.call(n)
	case "pick":
		i := int(math.Round(s.eval(n.args[0])))
		if i < 1 || i >= len(n.args) {
			return math.NaN()
		}
		return s.eval(n.args[i])
	}
	return math.NaN()
}

func (s *sim) call(n *node) float64 {
	if n.ref != nil {
		return n.ref.gf.eval(s.eval(n.args[0]))
	}
	a := func(i int) float64 { return s.eval(n.args[i]) }
	switch n.name {
	case "min", "max":
		r := a(0)
		for i := 1; i < len(n.args); i++ {
			if n.name == "min" {
				r = math.Min(r, a(i))
			} else {
				r = math.Max(r, a(i))
			}
		}
		return r
	case "stddev":
		mean := 0.0
		for i := range n.args {
			mean += a(i)
		}
		mean /= float64(len(n.args))
		ss := 0.0
		for i := range n.args {
			d := a(i) - mean
			ss += d * d
		}
		return math.Sqrt(ss / float64(len(n.args)))
	case "sinh":
		return math.Sinh(a(0))
	case "cosh":
		return math.Cosh(a(0))
	case "tanh":
		return math.Tanh(a(0))
	case "abs":
		return math.Abs(a(0))
	case "sqrt":
		return math.Sqrt(a(0))
	case "exp":
		return math.Exp(a(0))
	case "ln":
		return math.Log(a(0))
	case "log10":
		return math.Log10(a(0))
	case "log":
		if len(n.args) == 2 {
			return math.Log(a(0)) / math.Log(a(1))
		}
		return math.Log10(a(0))
	case "int":
		if s.m.truncInt {
			return math.Trunc(a(0))
		}
		return math.Floor(a(0))
	case "round":
		return math.Round(a(0))
	case "sign":
		x := a(0)
		if x > 0 {
			return 1
		} else if x < 0 {
			return -1
		}
		return 0
	case "sin":
		return math.Sin(a(0))
	case "cos":
		return math.Cos(a(0))
	case "tan":
		return math.Tan(a(0))
	case "arctan":
		return math.Atan(a(0))
	case "arcsin":
		return math.Asin(a(0))
	case "arccos":
		return math.Acos(a(0))
	case "pi":
		return math.Pi
	case "time":
		return s.t
	case "modulo":
		x, y := a(0), a(1)
		return x - y*math.Floor(x/y)
	case "if_then_else":
		if a(0) != 0 {
			return a(1)
		}
		return a(2)
	case "lookup":
		g := n.args[0]
		if g.op == "var" && g.ref != nil && g.ref.gf != nil {
			return g.ref.gf.eval(a(1))
		}
		return math.NaN()
	case "safediv":
		d := a(1)
		if d == 0 {
			if len(n.args) == 3 {
				return a(2)
			}
			return 0
		}
		return a(0) / d
	case "step":
		if s.t+s.m.dt/2 >= a(1) {
			return a(0)
		}
		return 0
	case "ramp":
		st := a(1)
		t := s.t
		if len(n.args) == 3 {
			t = math.Min(t, a(2))
		}
		if t > st {
			return a(0) * (t - st)
		}
		return 0
	case "pulse":
		v := a(0)
		first := s.m.start
		if len(n.args) > 1 {
			first = a(1)
		}
		interval := 0.0
		if len(n.args) > 2 {
			interval = a(2)
		}
		eps := s.m.dt / 2
		if s.t+eps < first {
			return 0
		}
		if interval <= 0 {
			if math.Abs(s.t-first) < eps {
				return v / s.m.dt
			}
			return 0
		}
		k := math.Floor((s.t - first + eps) / interval)
		if math.Abs(s.t-(first+k*interval)) < eps {
			return v / s.m.dt
		}
		return 0
	}
	if statefulFns[n.name] {
		return s.stateful(n)
	}
	return math.NaN()
}

func (s *sim) initValue(st *stateful, n *node) float64 {
	ia := initArgIndex(n)
	if ia >= 0 && ia < len(n.args) {
		return s.eval(n.args[ia])
	}
	return s.eval(n.args[0])
}

func (s *sim) stateful(n *node) float64 {
	st := s.m.states[n.state]
	if s.init && !st.inited {
		st.inited = true
		switch st.fn {
		case "init":
			st.cached = s.eval(n.args[0])
		case "delay":
			st.cached = s.initValue(st, n)
		default:
			iv := s.initValue(st, n)
			if st.fn == "smthn" || st.fn == "delayn" {
				st.n = int(math.Round(s.eval(n.args[2])))
				if st.n < 1 {
					st.n = 1
				}
			}
			if strings.HasPrefix(st.fn, "delay") {
				// like Stella, lower the order when a stage's delay would be
				// shorter than DT
				if d := s.eval(n.args[1]); d/float64(st.n) < s.m.dt {
					k := int(math.Floor(d/s.m.dt + 1e-9))
					if k < 1 {
						k = 1
					}
					if k < st.n {
						st.n = k
					}
				}
			}
			for k := 0; k < st.n; k++ {
				s.y[st.base+k] = iv
				if strings.HasPrefix(st.fn, "delay") {
					s.y[st.base+k] = iv * s.eval(n.args[1]) / float64(st.n)
				}
			}
		}
	}
	switch st.fn {
	case "init":
		return st.cached
	case "delay":
		tt := s.t - s.eval(n.args[1])
		if tt < s.m.start-s.m.dt/2 || len(st.histT) == 0 {
			return st.cached
		}
		v := st.cached
		for i := len(st.histT) - 1; i >= 0; i-- {
			if st.histT[i] <= tt+s.m.dt*1e-6 {
				v = st.histV[i]
				break
			}
		}
		return v
	case "smth1", "smth3", "smthn":
		return s.y[st.base+st.n-1]
	default:
		return s.y[st.base+st.n-1] / (s.eval(n.args[1]) / float64(st.n))
	}
}

// computeAux evaluates all non-stock variables for the current state.
func (s *sim) computeAux() {
	for i, v := range s.m.stocks {
		s.vals[v.idx] = s.y[i]
	}
	for _, v := range s.m.runOrder {
		s.vals[v.idx] = s.value(v)
	}
}

func (s *sim) value(v *variable) float64 {
	if v.eqn == nil {
		return math.NaN()
	}
	e := v.eqn
	if s.init && v.initEqn != nil {
		e = v.initEqn
	}
	x := s.eval(e)
	if v.gf != nil {
		x = v.gf.eval(x)
	}
	if v.kind == kFlow && v.nonNeg && x < 0 {
		x = 0
	}
	return x
}

func (s *sim) deriv() []float64 {
	d := make([]float64, len(s.y))
	for i, v := range s.m.stocks {
		net := 0.0
		for _, f := range v.in {
			net += s.vals[f.idx]
		}
		for _, f := range v.out {
			net -= s.vals[f.idx]
		}
		d[i] = net
	}
	for _, st := range s.m.states {
		n := st.call
		switch st.fn {
		case "init":
		case "delay":
			if s.record {
				st.histT = append(st.histT, s.t)
				st.histV = append(st.histV, s.eval(n.args[0]))
			}
		case "smth1", "smth3", "smthn":
			in := s.eval(n.args[0])
			tau := s.eval(n.args[1]) / float64(st.n)
			prev := in
			for k := 0; k < st.n; k++ {
				d[st.base+k] = (prev - s.y[st.base+k]) / tau
				prev = s.y[st.base+k]
			}
		default:
			in := s.eval(n.args[0])
			tau := s.eval(n.args[1]) / float64(st.n)
			prev := in
			for k := 0; k < st.n; k++ {
				out := s.y[st.base+k] / tau
				d[st.base+k] = prev - out
				prev = out
			}
		}
	}
	return d
}

// Result holds simulation output sampled at SAVEPER.
type Result struct {
	Names  []string    // display names
	Times  []float64   // save times
	Values [][]float64 // [var][row]
}

func (m *Model) stateSize() int {
	n := len(m.stocks)
	for _, s := range m.states {
		if s.base+s.n > n {
			n = s.base + s.n
		}
	}
	return n
}

// Run simulates the model with the given integration method.
func (m *Model) Run(method Method) (*Result, error) {
	for _, st := range m.states {
		st.inited = false
		st.histT, st.histV = nil, nil
		st.n = st.nmax
	}
	s := &sim{m: m, vals: make([]float64, len(m.vars)), y: make([]float64, m.stateSize()), t: m.start, init: true}
	stockIdx := map[*variable]int{}
	for i, v := range m.stocks {
		stockIdx[v] = i
	}
	for _, v := range m.initOrder {
		x := s.value(v)
		s.vals[v.idx] = x
		if v.kind == kStock {
			if v.nonNeg && x < 0 {
				x = 0
			}
			s.y[stockIdx[v]] = x
		}
	}
	s.init = false
	steps := int(math.Round((m.stop - m.start) / m.dt))
	every := int(math.Round(m.save / m.dt))
	if every < 1 {
		every = 1
	}
	res := &Result{}
	for _, v := range m.vars {
		res.Names = append(res.Names, v.name)
	}
	res.Values = make([][]float64, len(m.vars))
	clamp := func(y []float64) {
		for i, v := range m.stocks {
			if v.nonNeg && y[i] < 0 {
				y[i] = 0
			}
		}
	}
	for step := 0; ; step++ {
		s.t = m.start + float64(step)*m.dt
		s.computeAux()
		if step%every == 0 {
			res.Times = append(res.Times, s.t)
			for i := range m.vars {
				res.Values[i] = append(res.Values[i], s.vals[i])
			}
		}
		if step >= steps {
			break
		}
		s.record = true
		y0 := append([]float64(nil), s.y...)
		t0 := s.t
		k1 := s.deriv()
		s.record = false
		h := m.dt
		switch method {
		case RK2, RK4:
			at := func(tt float64, base []float64, k []float64, f float64) []float64 {
				s.t = tt
				for i := range s.y {
					s.y[i] = base[i] + f*k[i]
				}
				s.computeAux()
				return s.deriv()
			}
			if method == RK2 {
				k2 := at(t0+h, y0, k1, h)
				for i := range s.y {
					s.y[i] = y0[i] + h/2*(k1[i]+k2[i])
				}
			} else {
				k2 := at(t0+h/2, y0, k1, h/2)
				k3 := at(t0+h/2, y0, k2, h/2)
				k4 := at(t0+h, y0, k3, h)
				for i := range s.y {
					s.y[i] = y0[i] + h/6*(k1[i]+2*k2[i]+2*k3[i]+k4[i])
				}
			}
		default:
			for i := range s.y {
				s.y[i] = y0[i] + h*k1[i]
			}
		}
		clamp(s.y)
	}
	return res, nil
}
