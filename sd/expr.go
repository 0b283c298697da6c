package sd

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tIdent
	tOp
)

type token struct {
	kind tokKind
	s    string
	num  float64
}

func lex(src string) ([]token, error) {
	var toks []token
	r := []rune(src)
	i := 0
	for i < len(r) {
		c := r[i]
		switch {
		case unicode.IsSpace(c) || c == '\\':
			i++
		case unicode.IsDigit(c) || (c == '.' && i+1 < len(r) && unicode.IsDigit(r[i+1])):
			j := i
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.') {
				j++
			}
			if j < len(r) && (r[j] == 'e' || r[j] == 'E') {
				k := j + 1
				if k < len(r) && (r[k] == '+' || r[k] == '-') {
					k++
				}
				if k < len(r) && unicode.IsDigit(r[k]) {
					j = k
					for j < len(r) && unicode.IsDigit(r[j]) {
						j++
					}
				}
			}
			v, err := strconv.ParseFloat(string(r[i:j]), 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", string(r[i:j]))
			}
			toks = append(toks, token{kind: tNum, num: v, s: string(r[i:j])})
			i = j
		case c == '"':
			j := i + 1
			for j < len(r) && r[j] != '"' {
				j++
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated quoted name")
			}
			toks = append(toks, token{kind: tIdent, s: string(r[i+1 : j])})
			i = j + 1
		case unicode.IsLetter(c) || c == '_' || c == '$':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_' || r[j] == '$' || r[j] == '.' || r[j] == '\'') {
				j++
			}
			toks = append(toks, token{kind: tIdent, s: string(r[i:j])})
			i = j
		default:
			two := ""
			if i+1 < len(r) {
				two = string(r[i : i+2])
			}
			switch two {
			case "<>", "<=", ">=", "==", "!=":
				toks = append(toks, token{kind: tOp, s: two})
				i += 2
				continue
			}
			if strings.ContainsRune("+-*/^(),=<>[]!:", c) {
				toks = append(toks, token{kind: tOp, s: string(c)})
				i++
				continue
			}
			return nil, fmt.Errorf("unexpected character %q", string(c))
		}
	}
	return append(toks, token{kind: tEOF}), nil
}

// node is an expression AST node.
type node struct {
	op   string // "num","var","call","if", binary op, "neg","not"
	num  float64
	name string // canonical identifier or function name (upper)
	args []*node
	// resolved
	ref   *variable
	state int // index into stateful slots for stateful calls
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token { t := p.toks[p.pos]; p.pos++; return t }

func (p *parser) isKw(s string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.s, s)
}
func (p *parser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tOp && t.s == s
}

func parseExpr(src string) (*node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.expr()
	if err == nil && p.peek().kind != tEOF {
		err = fmt.Errorf("unexpected %q", p.peek().s)
	}
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, column(src, toks, p.pos, err.Error()))
	}
	return n, nil
}

// column locates the token a parse error names, for messages: " at column N" (1-based,
// in runes). Token offsets are found by searching the source for the tokens in order;
// the named token is the last one at or before where the parser stopped.
func column(src string, toks []token, pos int, msg string) string {
	r := []rune(src)
	offs := make([]int, 0, len(toks))
	at := 0
	for _, t := range toks {
		if t.kind == tEOF || t.s == "" {
			break
		}
		k := strings.Index(string(r[at:]), t.s)
		if k < 0 {
			break
		}
		start := at + len([]rune(string(r[at:])[:k]))
		offs = append(offs, start)
		at = start + len([]rune(t.s))
	}
	named := ""
	if i := strings.Index(msg, "\""); i >= 0 {
		if j := strings.Index(msg[i+1:], "\""); j >= 0 {
			named = msg[i+1 : i+1+j]
		}
	}
	for j := min(pos, len(offs)-1); j >= 0; j-- {
		if named == "" || toks[j].s == named {
			return fmt.Sprintf(" at column %d", offs[j]+1)
		}
	}
	return fmt.Sprintf(" at column %d", len(r)+1)
}

func (p *parser) expr() (*node, error) {
	if p.isKw("IF") {
		p.next()
		c, err := p.expr()
		if err != nil {
			return nil, err
		}
		if !p.isKw("THEN") {
			return nil, fmt.Errorf("expected THEN")
		}
		p.next()
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		if !p.isKw("ELSE") {
			return nil, fmt.Errorf("expected ELSE")
		}
		p.next()
		b, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &node{op: "if", args: []*node{c, a, b}}, nil
	}
	return p.or()
}

func (p *parser) or() (*node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKw("OR") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &node{op: "or", args: []*node{l, r}}
	}
	return l, nil
}

func (p *parser) and() (*node, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isKw("AND") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &node{op: "and", args: []*node{l, r}}
	}
	return l, nil
}

func (p *parser) not() (*node, error) {
	if p.isKw("NOT") || p.isOp("!") {
		p.next()
		a, err := p.not()
		if err != nil {
			return nil, err
		}
		return &node{op: "not", args: []*node{a}}, nil
	}
	return p.cmp()
}

var cmpOps = map[string]string{"=": "=", "==": "=", "<>": "<>", "!=": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}

func (p *parser) cmp() (*node, error) {
	l, err := p.add()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		op, ok := cmpOps[t.s]
		if t.kind != tOp || !ok {
			return l, nil
		}
		p.next()
		r, err := p.add()
		if err != nil {
			return nil, err
		}
		l = &node{op: op, args: []*node{l, r}}
	}
}

func (p *parser) add() (*node, error) {
	l, err := p.mul()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op := p.next().s
		r, err := p.mul()
		if err != nil {
			return nil, err
		}
		l = &node{op: op, args: []*node{l, r}}
	}
	return l, nil
}

func (p *parser) mul() (*node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isKw("MOD") {
		op := p.next().s
		if strings.EqualFold(op, "MOD") {
			op = "mod"
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &node{op: op, args: []*node{l, r}}
	}
	return l, nil
}

func (p *parser) unary() (*node, error) {
	if p.isOp("-") || p.isOp("+") {
		op := p.next().s
		a, err := p.unary()
		if err != nil {
			return nil, err
		}
		if op == "+" {
			return a, nil
		}
		return &node{op: "neg", args: []*node{a}}, nil
	}
	return p.pow()
}

func (p *parser) pow() (*node, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	if p.isOp("^") {
		p.next()
		r, err := p.unary() // right associative
		if err != nil {
			return nil, err
		}
		return &node{op: "^", args: []*node{l, r}}, nil
	}
	return l, nil
}

func (p *parser) primary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return &node{op: "num", num: t.num}, nil
	case tOp:
		if t.s == "(" {
			n, err := p.expr()
			if err != nil {
				return nil, err
			}
			if !p.isOp(")") {
				return nil, fmt.Errorf("expected )")
			}
			p.next()
			return n, nil
		}
		if t.s == "[" {
			return nil, fmt.Errorf("unsupported: arrays")
		}
		return nil, fmt.Errorf("unexpected %q", t.s)
	case tIdent:
		if p.isOp("[") {
			p.next()
			sub := &node{op: "sub", name: canon(t.s)}
			for {
				if p.isOp("*") {
					p.next()
					st := &node{op: "star"}
					if p.isOp(":") {
						p.next()
						d := p.next()
						if d.kind != tIdent {
							return nil, fmt.Errorf("expected dimension name after *:")
						}
						st.name = canon(d.s)
					}
					sub.args = append(sub.args, st)
				} else {
					a, err := p.expr()
					if err != nil {
						return nil, err
					}
					sub.args = append(sub.args, a)
				}
				if p.isOp(",") {
					p.next()
					continue
				}
				break
			}
			if !p.isOp("]") {
				return nil, fmt.Errorf("expected ] after subscripts of %s", t.s)
			}
			p.next()
			return sub, nil
		}
		if strings.EqualFold(t.s, "IF") {
			p.pos--
			return p.expr()
		}
		if p.isOp("(") {
			p.next()
			var args []*node
			if !p.isOp(")") {
				for {
					a, err := p.expr()
					if err != nil {
						return nil, err
					}
					args = append(args, a)
					if p.isOp(",") {
						p.next()
						continue
					}
					break
				}
			}
			if !p.isOp(")") {
				return nil, fmt.Errorf("expected ) in call to %s", t.s)
			}
			p.next()
			return &node{op: "call", name: canon(t.s), args: args}, nil
		}
		return &node{op: "var", name: canon(t.s)}, nil
	}
	return nil, fmt.Errorf("unexpected end of expression")
}

// canon normalizes a variable name: case-insensitive, spaces ≡ underscores.
func canon(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	s = strings.ReplaceAll(s, "\\n", " ")
	s = strings.ToLower(s)
	f := strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '_' })
	return strings.Join(f, "_")
}
