// Package sd is a small system-dynamics engine for XMILE models.
package sd

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Method is an integration method.
type Method int

// Integration methods.
const (
	Euler Method = iota
	RK2
	RK4
)

type xnode struct {
	name string
	attr map[string]string
	kids []*xnode
	text string
}

func (n *xnode) child(name string) *xnode {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *xnode) all(name string) []*xnode {
	var out []*xnode
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

func (n *xnode) find(name string) *xnode {
	if n.name == name {
		return n
	}
	for _, k := range n.kids {
		if f := k.find(name); f != nil {
			return f
		}
	}
	return nil
}

func readXML(data []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &xnode{name: "#root"}
	stack := []*xnode{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: strings.ToLower(t.Name.Local), attr: map[string]string{}}
			for _, a := range t.Attr {
				n.attr[strings.ToLower(a.Name.Local)] = a.Value
			}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			stack[len(stack)-1].text += string(t)
		}
	}
	if len(stack) != 1 {
		return nil, fmt.Errorf("unclosed element <%s>", stack[len(stack)-1].name)
	}
	x := root.find("xmile")
	if x == nil {
		return nil, fmt.Errorf("no <xmile> root element")
	}
	return x, nil
}

type varKind int

const (
	kAux varKind = iota
	kFlow
	kStock
	kGF
)

type gf struct {
	xs, ys   []float64
	discrete bool
	extrap   bool
}

func (g *gf) eval(x float64) float64 {
	n := len(g.xs)
	if n == 0 {
		return math.NaN()
	}
	if math.IsNaN(x) {
		return x
	}
	if x <= g.xs[0] {
		if g.extrap && n > 1 && !g.discrete {
			return g.ys[0] + (x-g.xs[0])*(g.ys[1]-g.ys[0])/(g.xs[1]-g.xs[0])
		}
		return g.ys[0]
	}
	if x >= g.xs[n-1] {
		if g.extrap && n > 1 && !g.discrete {
			return g.ys[n-1] + (x-g.xs[n-1])*(g.ys[n-1]-g.ys[n-2])/(g.xs[n-1]-g.xs[n-2])
		}
		return g.ys[n-1]
	}
	i := sort.SearchFloat64s(g.xs, x) // xs[i] >= x
	if g.xs[i] == x {
		return g.ys[i]
	}
	if g.discrete {
		return g.ys[i-1]
	}
	x0, x1 := g.xs[i-1], g.xs[i]
	return g.ys[i-1] + (x-x0)*(g.ys[i]-g.ys[i-1])/(x1-x0)
}

type variable struct {
	name     string // display name
	key      string // canonical
	kind     varKind
	eqnSrc   string
	eqn      *node
	initSrc  string
	initEqn  *node
	inflows  []string
	outflows []string
	in, out  []*variable
	nonNeg   bool
	gf       *gf
	idx      int
	// arrays: the element this scalar stands for (nil for plain scalars)
	ctxDims []*dimension
	ctxIdx  []int
	// macros: pre-expanded equation (parameters) and name scope of the instance
	preEqn *node
	scope  map[string]string
}

// Model is a parsed XMILE model.
type Model struct {
	name                  string
	start, stop, dt, save float64
	vars                  []*variable
	byKey                 map[string]*variable
	states                []*stateful
	initOrder, runOrder   []*variable
	stocks                []*variable
	dims                  map[string]*dimension
	arrays                map[string]*arrInfo
	macros                map[string]*macroDef
	nMacro                int
	addJob                func(*variable)
	// truncInt makes INT truncate toward zero, as Vensim's does; XMILE (and Stella)
	// round down. Chosen from the file's header (vendor or product Vensim/Ventana).
	truncInt bool
}

// ParseFile reads and parses an XMILE file.
func ParseFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, filepath.Base(path))
}

func parseNum(s string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

func parsePts(n *xnode) ([]float64, error) {
	sep := ","
	if s, ok := n.attr["sep"]; ok && s != "" {
		sep = s
	}
	var out []float64
	for _, f := range strings.Split(n.text, sep) {
		if strings.TrimSpace(f) == "" {
			continue
		}
		v, err := parseNum(f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parseGF(n *xnode) (*gf, error) {
	g := &gf{}
	switch strings.ToLower(n.attr["type"]) {
	case "discrete":
		g.discrete = true
	case "extrapolate":
		g.extrap = true
	}
	if n.attr["discrete"] == "true" {
		g.discrete = true
	}
	yp := n.child("ypts")
	if yp == nil {
		return nil, fmt.Errorf("graphical function without <ypts>")
	}
	ys, err := parsePts(yp)
	if err != nil {
		return nil, err
	}
	g.ys = ys
	if xp := n.child("xpts"); xp != nil {
		xs, err := parsePts(xp)
		if err != nil {
			return nil, err
		}
		g.xs = xs
	} else if xs := n.child("xscale"); xs != nil {
		lo, err1 := parseNum(xs.attr["min"])
		hi, err2 := parseNum(xs.attr["max"])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad xscale")
		}
		for i := range ys {
			if len(ys) == 1 {
				g.xs = append(g.xs, lo)
			} else {
				g.xs = append(g.xs, lo+(hi-lo)*float64(i)/float64(len(ys)-1))
			}
		}
	} else {
		return nil, fmt.Errorf("graphical function without <xpts> or <xscale>")
	}
	if len(g.xs) != len(g.ys) {
		return nil, fmt.Errorf("graphical function has %d x points and %d y points", len(g.xs), len(g.ys))
	}
	return g, nil
}

// Parse parses XMILE data; name is used in error messages.
func Parse(data []byte, name string) (*Model, error) {
	x, err := readXML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: malformed XML: %v", name, err)
	}
	m := &Model{name: name, byKey: map[string]*variable{}, start: 0, stop: 10, dt: 1}
	if h := x.child("header"); h != nil {
		for _, tag := range []string{"vendor", "product"} {
			if c := h.child(tag); c != nil {
				v := strings.ToLower(c.text)
				if strings.Contains(v, "ventana") || strings.Contains(v, "vensim") {
					m.truncInt = true
				}
			}
		}
	}
	if ss := x.child("sim_specs"); ss != nil {
		get := func(tag string, dst *float64) error {
			c := ss.child(tag)
			if c == nil {
				return nil
			}
			v, err := parseNum(c.text)
			if err != nil {
				return fmt.Errorf("%s: sim_specs <%s>: %v", name, tag, err)
			}
			if c.attr["reciprocal"] == "true" {
				v = 1 / v
			}
			*dst = v
			return nil
		}
		for _, p := range []struct {
			t string
			d *float64
		}{{"start", &m.start}, {"stop", &m.stop}, {"dt", &m.dt}} {
			if err := get(p.t, p.d); err != nil {
				return nil, err
			}
		}
		m.save = m.dt
		if err := get("save_step", &m.save); err != nil {
			return nil, err
		}
		if s, ok := ss.attr["save_step"]; ok {
			if v, err := parseNum(s); err == nil {
				m.save = v
			}
		}
	}
	if m.save == 0 {
		m.save = m.dt
	}
	if m.dt <= 0 {
		return nil, fmt.Errorf("%s: non-positive dt", name)
	}
	m.macros = map[string]*macroDef{}
	for _, mn := range x.all("macro") {
		if err := m.parseMacro(mn); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	models := x.all("model")
	if len(models) == 0 {
		return nil, fmt.Errorf("%s: no <model>", name)
	}
	if len(models) > 1 {
		// the main model is the one without a name
		for i, mo := range models {
			if mo.attr["name"] == "" {
				models[0], models[i] = models[i], models[0]
				break
			}
		}
	}
	m.dims = map[string]*dimension{}
	m.arrays = map[string]*arrInfo{}
	for _, dn := range []*xnode{x.child("dimensions"), models[0].child("dimensions")} {
		if dn == nil {
			continue
		}
		if err := m.parseDims(dn); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	vs := models[0].child("variables")
	if vs == nil {
		return nil, fmt.Errorf("%s: no <variables>", name)
	}
	defNonNeg, flowNonNeg, stockNonNeg := false, false, false
	if b := x.child("behavior"); b != nil {
		defNonNeg = b.child("non_negative") != nil
		if f := b.child("flow"); f != nil && f.child("non_negative") != nil {
			flowNonNeg = true
		}
		if f := b.child("stock"); f != nil && f.child("non_negative") != nil {
			stockNonNeg = true
		}
	}
	for _, v := range vs.kids {
		var kind varKind
		switch v.name {
		case "stock":
			kind = kStock
		case "flow":
			kind = kFlow
		case "aux":
			kind = kAux
		case "gf":
			kind = kGF
		case "module":
			if len(models) < 2 {
				return nil, fmt.Errorf("%s: unsupported: modules (%q)", name, v.attr["name"])
			}
			continue
		case "group":
			continue
		default:
			continue
		}
		vname := v.attr["name"]
		dimsN := v.child("dimensions")
		if dimsN == nil && v.child("element") == nil {
			if err := m.addVar(v, kind, vname, nil, nil, v, nnFlags{defNonNeg, flowNonNeg, stockNonNeg}); err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err := m.addArrayed(v, kind, vname, dimsN, nnFlags{defNonNeg, flowNonNeg, stockNonNeg}); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if err := m.inlineModules(vs, models[1:], nnFlags{defNonNeg, flowNonNeg, stockNonNeg}); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if err := m.compile(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return m, nil
}

// inlineModules adds the variables of every <module> instance of the main
// model as "instance.var"; inputs connected with <connect> become aliases
// of their source.
func (m *Model) inlineModules(main *xnode, subs []*xnode, nn nnFlags) error {
	byName := map[string]*xnode{}
	for _, s := range subs {
		byName[canon(s.attr["name"])] = s
	}
	var mods []*xnode
	for _, v := range main.kids {
		if v.name == "module" {
			mods = append(mods, v)
		}
	}
	// connections, keyed by canonical target
	conn := map[string]string{}
	for _, mo := range mods {
		for _, c := range mo.all("connect") {
			from := strings.TrimPrefix(strings.TrimSpace(c.attr["from"]), ".")
			conn[canon(c.attr["to"])] = canon(from)
		}
	}
	for _, mo := range mods {
		inst := mo.attr["name"]
		mk := mo.attr["model"]
		if mk == "" {
			mk = inst
		}
		sub := byName[canon(mk)]
		if sub == nil {
			return fmt.Errorf("module %q: no model named %q", inst, mk)
		}
		vs := sub.child("variables")
		if vs == nil {
			continue
		}
		prefix := inst + "."
		scope := map[string]string{}
		for _, x := range vs.kids {
			if _, ok := xmlKinds[x.name]; ok {
				scope[canon(x.attr["name"])] = canon(prefix + x.attr["name"])
			}
		}
		for _, x := range vs.kids {
			kind, ok := xmlKinds[x.name]
			if !ok {
				if x.name == "module" {
					return fmt.Errorf("unsupported: nested modules (%q)", x.attr["name"])
				}
				continue
			}
			if x.child("dimensions") != nil || x.child("element") != nil {
				return fmt.Errorf("unsupported: arrays inside module %q", inst)
			}
			key := canon(prefix + x.attr["name"])
			if src, ok := conn[key]; ok {
				av := &variable{name: strings.ReplaceAll(prefix+x.attr["name"], "\\n", " "), key: key, kind: kAux,
					preEqn: &node{op: "var", name: src}}
				if _, dup := m.byKey[key]; dup {
					return fmt.Errorf("variable %q defined twice", av.name)
				}
				av.idx = len(m.vars)
				m.vars = append(m.vars, av)
				m.byKey[key] = av
				continue
			}
			if err := m.addVar(x, kind, prefix+x.attr["name"], nil, nil, x, nn); err != nil {
				return fmt.Errorf("module %q: %v", inst, err)
			}
			m.vars[len(m.vars)-1].bindScope(scope)
		}
	}
	return nil
}

type nnFlags struct{ def, flow, stock bool }

// addVar builds one scalar variable from XML node v; eq holds the <eqn>/<gf>
// (v itself, or an <element>); dims/idx give the array element, if any.
func (m *Model) addVar(v *xnode, kind varKind, vname string, dims []*dimension, idx []int, eq *xnode, nn nnFlags) error {
	disp := strings.ReplaceAll(vname, "\\n", " ")
	key := canon(vname)
	if dims != nil {
		var ds, ks []string
		for i, d := range dims {
			ds = append(ds, d.elems[idx[i]])
			ks = append(ks, d.keys[idx[i]])
		}
		disp += "[" + strings.Join(ds, ",") + "]"
		key += "[" + strings.Join(ks, ",") + "]"
	}
	va := &variable{name: disp, key: key, kind: kind, ctxDims: dims, ctxIdx: idx}
	if e := eq.child("eqn"); e != nil {
		va.eqnSrc = strings.TrimSpace(e.text)
	}
	if va.eqnSrc == "" && eq != v {
		if e := v.child("eqn"); e != nil {
			va.eqnSrc = strings.TrimSpace(e.text)
		}
	}
	for _, f := range v.all("inflow") {
		va.inflows = append(va.inflows, canon(f.text))
	}
	for _, f := range v.all("outflow") {
		va.outflows = append(va.outflows, canon(f.text))
	}
	va.nonNeg = (nn.def && (kind == kStock || kind == kFlow)) || (nn.flow && kind == kFlow) || (nn.stock && kind == kStock)
	if n := v.child("non_negative"); n != nil {
		va.nonNeg = !strings.EqualFold(strings.TrimSpace(n.text), "false")
	}
	if ie := eq.child("init_eqn"); ie != nil && strings.TrimSpace(ie.text) != "" {
		va.initSrc = strings.TrimSpace(ie.text)
	} else if ie := v.child("init_eqn"); ie != nil && strings.TrimSpace(ie.text) != "" {
		va.initSrc = strings.TrimSpace(ie.text)
	}
	var g *xnode
	if kind == kGF {
		g = eq
		if eq != v && eq.child("ypts") == nil {
			g = v
		}
	} else {
		g = eq.child("gf")
		if g == nil && eq != v {
			g = v.child("gf")
		}
	}
	if g != nil {
		gg, err := parseGF(g)
		if err != nil {
			return fmt.Errorf("variable %q: %v", disp, err)
		}
		va.gf = gg
	}
	if kind != kGF && va.eqnSrc == "" {
		return fmt.Errorf("variable %q: missing equation", disp)
	}
	if _, dup := m.byKey[va.key]; dup {
		return fmt.Errorf("variable %q defined twice", disp)
	}
	va.idx = len(m.vars)
	m.vars = append(m.vars, va)
	m.byKey[va.key] = va
	return nil
}
