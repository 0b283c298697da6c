package sd

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// dimension is a named XMILE array dimension.
type dimension struct {
	name  string
	key   string
	elems []string // display names
	keys  []string // canonical names
}

func (d *dimension) find(key string) int {
	for i, k := range d.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// arrInfo describes an arrayed variable expanded into scalars.
type arrInfo struct {
	name string
	key  string
	dims []*dimension
}

func (a *arrInfo) elemKey(idx []int) string {
	ks := make([]string, len(idx))
	for i, j := range idx {
		ks[i] = a.dims[i].keys[j]
	}
	return a.key + "[" + strings.Join(ks, ",") + "]"
}

func (m *Model) parseDims(dn *xnode) error {
	for _, d := range dn.all("dim") {
		dim := &dimension{name: d.attr["name"], key: canon(d.attr["name"])}
		for _, e := range d.all("elem") {
			dim.elems = append(dim.elems, strings.TrimSpace(e.attr["name"]))
			dim.keys = append(dim.keys, canon(e.attr["name"]))
		}
		if len(dim.elems) == 0 {
			n, err := strconv.Atoi(strings.TrimSpace(d.attr["size"]))
			if err != nil || n < 1 {
				return fmt.Errorf("dimension %q: no elements and no valid size", dim.name)
			}
			for i := 1; i <= n; i++ {
				dim.elems = append(dim.elems, strconv.Itoa(i))
				dim.keys = append(dim.keys, strconv.Itoa(i))
			}
		}
		m.dims[dim.key] = dim
	}
	return nil
}

// tuples returns the cartesian product of the dimensions' element indices.
func tuples(dims []*dimension) [][]int {
	out := [][]int{{}}
	for _, d := range dims {
		var next [][]int
		for _, t := range out {
			for i := range d.elems {
				nt := append(append([]int(nil), t...), i)
				next = append(next, nt)
			}
		}
		out = next
	}
	return out
}

// addArrayed expands an arrayed variable into one scalar variable per element.
func (m *Model) addArrayed(v *xnode, kind varKind, vname string, dimsN *xnode, nn nnFlags) error {
	if dimsN == nil {
		return fmt.Errorf("unsupported: arrays (variable %q has <element> without <dimensions>)", vname)
	}
	var dims []*dimension
	for _, d := range dimsN.all("dim") {
		dim, ok := m.dims[canon(d.attr["name"])]
		if !ok {
			return fmt.Errorf("variable %q: undefined dimension %q", vname, d.attr["name"])
		}
		dims = append(dims, dim)
	}
	if len(dims) == 0 {
		return fmt.Errorf("variable %q: empty <dimensions>", vname)
	}
	ai := &arrInfo{name: vname, key: canon(vname), dims: dims}
	if _, dup := m.arrays[ai.key]; dup {
		return fmt.Errorf("variable %q defined twice", vname)
	}
	m.arrays[ai.key] = ai
	elems := map[string]*xnode{}
	for _, e := range v.all("element") {
		parts := strings.Split(e.attr["subscript"], ",")
		if len(parts) != len(dims) {
			return fmt.Errorf("variable %q: element subscript %q does not match %d dimension(s)", vname, e.attr["subscript"], len(dims))
		}
		var ks []string
		for i, p := range parts {
			k := canon(p)
			if dims[i].find(k) < 0 {
				return fmt.Errorf("variable %q: element %q not in dimension %q", vname, strings.TrimSpace(p), dims[i].name)
			}
			ks = append(ks, k)
		}
		elems[strings.Join(ks, ",")] = e
	}
	ts := tuples(dims)
	// Vensim-style constant list: <eqn>1, 2, 3</eqn> assigns elements in order.
	var list []string
	if e := v.child("eqn"); e != nil && len(elems) == 0 {
		parts := strings.Split(e.text, ",")
		if len(parts) > 1 {
			for _, p := range parts {
				if _, err := parseNum(p); err != nil {
					parts = nil
					break
				}
			}
			if parts != nil && len(parts) != len(ts) {
				return fmt.Errorf("variable %q: %d values listed for %d elements", vname, len(parts), len(ts))
			}
			list = parts
		}
	}
	for ti, t := range ts {
		eq := v
		if list != nil {
			eq = &xnode{name: "element", kids: []*xnode{{name: "eqn", text: list[ti]}}}
		}
		if len(elems) > 0 {
			ks := make([]string, len(t))
			for i, j := range t {
				ks[i] = dims[i].keys[j]
			}
			e, ok := elems[strings.Join(ks, ",")]
			if ok {
				eq = e
			} else if v.child("eqn") == nil && v.child("gf") == nil {
				return fmt.Errorf("variable %q: no equation for element [%s]", vname, strings.Join(ks, ","))
			}
		}
		if err := m.addVar(v, kind, vname, dims, t, eq, nn); err != nil {
			return err
		}
	}
	return nil
}

// ctxIndex maps dimension d to an element index using the context element
// (dims/idx) of the variable being defined: same dimension, or a dimension
// sharing the element name (subranges), or positional for same-size dims.
func ctxIndex(d *dimension, dims []*dimension, idx []int) int {
	for i, cd := range dims {
		if cd == d {
			return idx[i]
		}
	}
	for i, cd := range dims {
		if j := d.find(cd.keys[idx[i]]); j >= 0 {
			return j
		}
	}
	return -1
}

// flowKey resolves a stock's inflow/outflow name for array element idx.
func (m *Model) flowKey(f string, dims []*dimension, idx []int) string {
	ai, ok := m.arrays[f]
	if !ok || dims == nil {
		return f
	}
	fi := make([]int, len(ai.dims))
	for i, d := range ai.dims {
		fi[i] = ctxIndex(d, dims, idx)
		if fi[i] < 0 {
			return f
		}
	}
	return ai.elemKey(fi)
}

var aggregateFns = map[string]bool{"sum": true, "mean": true, "prod": true, "size": true, "stddev": true, "min": true, "max": true}

// expand rewrites an expression of variable v (possibly an array element)
// into scalar form: array references become references to element
// variables; a result with more than one node is array-valued.
func (m *Model) expand(n *node, v *variable) ([]*node, error) {
	switch n.op {
	case "num", "star":
		return []*node{n}, nil
	case "var":
		if k, ok := v.scope[n.name]; ok {
			return []*node{{op: "var", name: k}}, nil
		}
		if ai, ok := m.arrays[n.name]; ok {
			fixed := make([]int, len(ai.dims))
			for i, d := range ai.dims {
				fixed[i] = ctxIndex(d, v.ctxDims, v.ctxIdx)
			}
			return m.elements(ai, fixed), nil
		}
		if d, ok := m.dims[n.name]; ok && m.byKey[n.name] == nil {
			if j := ctxIndex(d, v.ctxDims, v.ctxIdx); j >= 0 {
				return []*node{{op: "num", num: float64(j + 1)}}, nil
			}
			return nil, fmt.Errorf("unsupported: arrays (variable %q: dimension %q used outside an array over it)", v.name, d.name)
		}
		return []*node{n}, nil
	case "sub":
		return m.expandSub(n, v)
	case "call":
		if k, ok := v.scope[n.name]; ok {
			c := *n
			c.name = k
			n = &c
		}
		if md, ok := m.macros[n.name]; ok && m.byKey[n.name] == nil {
			return m.instantiate(md, n, v)
		}
		if n.name == "lookup" && len(n.args) == 2 && n.args[0].op == "var" && m.byKey[n.args[0].name] == nil && m.arrays[n.args[0].name] == nil {
			// Stella export: LOOKUP(VMIN, arr[*]) aggregates, LOOKUP(COSH, x) applies.
			fn := n.args[0].name
			switch fn {
			case "vmin", "vmax", "vsum", "vprod", "vmean", "vstddev":
				fn = fn[1:]
				if fn == "stddev" || fn == "mean" {
					break
				}
			}
			if _, ok := fnArity[fn]; ok || aggregateFns[fn] {
				return m.expand(&node{op: "call", name: fn, args: []*node{n.args[1]}}, v)
			}
		}
		var lists [][]*node
		arrayed := false
		for _, a := range n.args {
			l, err := m.expand(a, v)
			if err != nil {
				return nil, err
			}
			if len(l) != 1 || a.op == "sub" && len(l) == 1 && subHasStar(a) {
				arrayed = true
			}
			lists = append(lists, l)
		}
		if aggregateFns[n.name] && (arrayed || len(n.args) == 1) {
			var all []*node
			for _, l := range lists {
				all = append(all, l...)
			}
			return []*node{aggregate(n.name, all)}, nil
		}
		if arrayed {
			return nil, fmt.Errorf("unsupported: arrays (variable %q: array-valued argument to %s)", v.name, strings.ToUpper(n.name))
		}
		c := *n
		c.args = nil
		for _, l := range lists {
			c.args = append(c.args, l[0])
		}
		return []*node{&c}, nil
	}
	// operators: element-wise over array-valued operands, scalars broadcast
	var lists [][]*node
	width := 1
	for _, a := range n.args {
		l, err := m.expand(a, v)
		if err != nil {
			return nil, err
		}
		if len(l) != 1 {
			if width != 1 && width != len(l) {
				return nil, fmt.Errorf("unsupported: arrays (variable %q: operands of %q have different sizes %d and %d)", v.name, n.op, width, len(l))
			}
			width = len(l)
		}
		lists = append(lists, l)
	}
	var out []*node
	for k := 0; k < width; k++ {
		c := *n
		c.args = nil
		for _, l := range lists {
			if len(l) == 1 {
				c.args = append(c.args, l[0])
			} else {
				c.args = append(c.args, l[k])
			}
		}
		out = append(out, &c)
	}
	return out, nil
}

func subHasStar(n *node) bool {
	for _, a := range n.args {
		if a.op == "star" {
			return true
		}
	}
	return false
}

func aggregate(fn string, all []*node) *node {
	chain := func(op string) *node {
		r := all[0]
		for _, x := range all[1:] {
			r = &node{op: op, args: []*node{r, x}}
		}
		return r
	}
	switch fn {
	case "sum":
		return chain("+")
	case "prod":
		return chain("*")
	case "mean":
		return &node{op: "/", args: []*node{chain("+"), {op: "num", num: float64(len(all))}}}
	case "size":
		return &node{op: "num", num: float64(len(all))}
	case "min", "max":
		if len(all) == 1 {
			return all[0]
		}
		return &node{op: "call", name: fn, args: all}
	}
	return &node{op: "call", name: fn, args: all}
}

// elements lists element references of ai; fixed[i] < 0 means all elements.
func (m *Model) elements(ai *arrInfo, fixed []int) []*node {
	var out []*node
	for _, t := range tuples(ai.dims) {
		ok := true
		for i, j := range t {
			if fixed[i] >= 0 && fixed[i] != j {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, &node{op: "var", name: ai.elemKey(t)})
		}
	}
	return out
}

func (m *Model) expandSub(n *node, v *variable) ([]*node, error) {
	ai, ok := m.arrays[n.name]
	if !ok {
		return nil, fmt.Errorf("variable %q: subscript on %q, which is not an array", v.name, n.name)
	}
	if len(n.args) != len(ai.dims) {
		return nil, fmt.Errorf("variable %q: %q has %d dimension(s), got %d subscript(s)", v.name, ai.name, len(ai.dims), len(n.args))
	}
	fixed := make([]int, len(ai.dims))
	dynPos := -1
	var dyn *node
	for i, a := range n.args {
		td := ai.dims[i]
		fixed[i] = -2
		switch a.op {
		case "star":
			fixed[i] = -1
		case "num":
			j := int(math.Round(a.num)) - 1
			if j < 0 || j >= len(td.elems) {
				return nil, fmt.Errorf("variable %q: subscript %g out of range for %q", v.name, a.num, td.name)
			}
			fixed[i] = j
		case "var":
			name := a.name
			if d, ok := m.dims[name]; ok && m.byKey[name] == nil {
				fixed[i] = -1 // whole dimension, unless bound by the context
				for ci, cd := range v.ctxDims {
					if cd == d {
						fixed[i] = mapElem(d, v.ctxIdx[ci], td)
						if fixed[i] < 0 {
							return nil, fmt.Errorf("variable %q: element %q of %q has no counterpart in %q", v.name, d.elems[v.ctxIdx[ci]], d.name, td.name)
						}
					}
				}
				break
			}
			if k := strings.LastIndex(name, "."); k >= 0 {
				if _, ok := m.dims[name[:k]]; ok {
					name = name[k+1:]
				}
			}
			if j := td.find(name); j >= 0 && m.byKey[a.name] == nil {
				fixed[i] = j
			}
		}
		if fixed[i] == -2 {
			if dynPos >= 0 {
				return nil, fmt.Errorf("unsupported: arrays (variable %q: more than one computed subscript)", v.name)
			}
			l, err := m.expand(a, v)
			if err != nil {
				return nil, err
			}
			if len(l) != 1 {
				return nil, fmt.Errorf("unsupported: arrays (variable %q: array-valued subscript)", v.name)
			}
			dynPos, dyn = i, l[0]
			fixed[i] = 0
		}
	}
	if dynPos < 0 {
		return m.elements(ai, fixed), nil
	}
	for _, f := range fixed {
		if f == -1 {
			return nil, fmt.Errorf("unsupported: arrays (variable %q: computed subscript combined with wildcard)", v.name)
		}
	}
	pick := &node{op: "pick", args: []*node{dyn}}
	for j := range ai.dims[dynPos].elems {
		fixed[dynPos] = j
		pick.args = append(pick.args, m.elements(ai, fixed)[0])
	}
	return []*node{pick}, nil
}

// mapElem maps element j of dimension from onto dimension to: by element
// name, else by position.
func mapElem(from *dimension, j int, to *dimension) int {
	if k := to.find(from.keys[j]); k >= 0 {
		return k
	}
	if j < len(to.elems) {
		return j
	}
	return -1
}
