package sd

import (
	"fmt"
	"strings"
)

// macroDef is an XMILE <macro>: a function whose body is a small model.
type macroDef struct {
	name  string
	key   string
	eqn   string
	parms []string // canonical parameter names
	vars  []*xnode
}

func (m *Model) parseMacro(mn *xnode) error {
	md := &macroDef{name: mn.attr["name"], key: canon(mn.attr["name"])}
	if md.key == "" {
		return fmt.Errorf("macro without a name")
	}
	if e := mn.child("eqn"); e != nil {
		md.eqn = strings.TrimSpace(e.text)
	}
	if md.eqn == "" {
		return fmt.Errorf("macro %q: missing <eqn>", md.name)
	}
	for _, p := range mn.all("parm") {
		md.parms = append(md.parms, canon(p.text))
	}
	if vs := mn.child("variables"); vs != nil {
		for _, v := range vs.kids {
			switch v.name {
			case "stock", "flow", "aux", "gf":
				if v.child("dimensions") != nil {
					return fmt.Errorf("unsupported: arrays inside macro %q", md.name)
				}
				md.vars = append(md.vars, v)
			case "module":
				return fmt.Errorf("unsupported: modules inside macro %q", md.name)
			}
		}
	}
	if _, dup := m.macros[md.key]; dup {
		return fmt.Errorf("macro %q defined twice", md.name)
	}
	m.macros[md.key] = md
	return nil
}

var xmlKinds = map[string]varKind{"stock": kStock, "flow": kFlow, "aux": kAux, "gf": kGF}

// instantiate inlines one call of macro md from variable v: every macro
// variable becomes a hidden model variable "NAME$k.var", parameters become
// variables holding the (already expanded) arguments, and the call is
// replaced by a reference to a variable holding the macro's <eqn>.
func (m *Model) instantiate(md *macroDef, n *node, v *variable) ([]*node, error) {
	if len(n.args) != len(md.parms) {
		return nil, fmt.Errorf("variable %q: macro %s takes %d argument(s), got %d", v.name, md.name, len(md.parms), len(n.args))
	}
	if m.nMacro > 10000 {
		return nil, fmt.Errorf("variable %q: too many macro instances (recursive macro %s?)", v.name, md.name)
	}
	m.nMacro++
	prefix := fmt.Sprintf("%s$%d.", md.name, m.nMacro)
	scope := map[string]string{}
	for _, p := range md.parms {
		scope[p] = canon(prefix + p)
	}
	for _, x := range md.vars {
		scope[canon(x.attr["name"])] = canon(prefix + x.attr["name"])
	}
	var created []*variable
	body := map[string]*xnode{}
	for _, x := range md.vars {
		body[canon(x.attr["name"])] = x
	}
	for i, p := range md.parms {
		arg, err := m.expand(n.args[i], v)
		if err != nil {
			return nil, err
		}
		if len(arg) != 1 {
			return nil, fmt.Errorf("unsupported: arrays (variable %q: array-valued argument to macro %s)", v.name, md.name)
		}
		kind := kAux
		if x, ok := body[p]; ok {
			kind = xmlKinds[x.name]
			if kind == kStock {
				return nil, fmt.Errorf("variable %q: macro %s: parameter %q is a stock", v.name, md.name, p)
			}
		}
		pv := &variable{name: prefix + p, key: scope[p], kind: kind, preEqn: arg[0], ctxDims: v.ctxDims, ctxIdx: v.ctxIdx}
		if _, dup := m.byKey[pv.key]; dup {
			return nil, fmt.Errorf("macro %s: variable %q defined twice", md.name, pv.name)
		}
		pv.idx = len(m.vars)
		m.vars = append(m.vars, pv)
		m.byKey[pv.key] = pv
		created = append(created, pv)
	}
	isParm := map[string]bool{}
	for _, p := range md.parms {
		isParm[p] = true
	}
	for _, x := range md.vars {
		if isParm[canon(x.attr["name"])] {
			continue
		}
		if err := m.addVar(x, xmlKinds[x.name], prefix+x.attr["name"], nil, nil, x, nnFlags{}); err != nil {
			return nil, fmt.Errorf("macro %s: %v", md.name, err)
		}
		nv := m.vars[len(m.vars)-1]
		nv.bindScope(scope)
		created = append(created, nv)
	}
	if k, ok := scope[canon(md.eqn)]; ok {
		// the usual form: <eqn> names the macro variable holding the result
		for _, c := range created {
			m.addJob(c)
		}
		return []*node{{op: "var", name: k}}, nil
	}
	res := &variable{name: prefix + "$result", key: canon(prefix + "$result"), kind: kAux, eqnSrc: md.eqn, scope: scope}
	res.idx = len(m.vars)
	m.vars = append(m.vars, res)
	m.byKey[res.key] = res
	created = append(created, res)
	for _, c := range created {
		m.addJob(c)
	}
	return []*node{{op: "var", name: res.key}}, nil
}

// bindScope makes a variable created inside a macro call or module instance resolve
// its names, and its stock's flows, through that instance's scope.
func (v *variable) bindScope(scope map[string]string) {
	v.scope = scope
	for i, f := range v.inflows {
		if k, ok := scope[f]; ok {
			v.inflows[i] = k
		}
	}
	for i, f := range v.outflows {
		if k, ok := scope[f]; ok {
			v.outflows[i] = k
		}
	}
}
