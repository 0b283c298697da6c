package unit

import (
	"cmp"
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits on what Parse accepts. A real unit file is a few kilobytes, about a
// thousand nodes and eight levels deep (tariffs.electricity.seasons[].periods[].hours[]);
// the limits leave two orders of magnitude of room while keeping a hostile file
// from exhausting memory or the stack.
const (
	// MaxBytes is the largest unit file, in bytes (1 MiB): yaml.v3 builds the whole
	// node tree before anything can be checked, at some hundred bytes per node.
	MaxBytes = 1 << 20
	// MaxNodes is the most YAML nodes the document may expand to, counting an
	// aliased node once per alias that reaches it ("billion laughs").
	MaxNodes = 100_000
	// MaxDepth is the deepest nesting of mappings and lists allowed, counted through
	// aliases and merge keys.
	MaxDepth = 100
)

// bounds walks the document as decoding will see it, following every alias and merge
// key, before anything else follows them. It reports aliases that contain themselves
// (which would recurse for ever) and stops at the first expansion beyond MaxNodes or
// MaxDepth, so the typed walk and yaml.v3's Decode afterwards are bounded.
func bounds(root *yaml.Node, file string) Errors {
	b := bounder{file: file, open: map[*yaml.Node]bool{}, cycles: map[*yaml.Node]bool{}}
	b.visit(root, false, 0)
	return b.errs
}

type bounder struct {
	file    string
	nodes   int                 // visited so far, through aliases
	aliased int                 // of which reached through an alias
	open    map[*yaml.Node]bool // the collections being visited: an alias to one is a cycle
	alias   *yaml.Node          // the outermost alias being expanded, if any
	path    []step              // to the node being visited, built into a string only for errors
	cycles  map[*yaml.Node]bool // aliases already reported
	full    bool                // a limit was hit: stop
	errs    Errors
}

// step is a key (index < 0) or a list index in a field path.
type step struct {
	key   string
	index int
}

func (b *bounder) fail(n *yaml.Node, field, format string, args ...any) {
	b.errs = append(b.errs, &Error{File: b.file, Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// field renders b.path as the typed walk would ("batteries[0].capacity_kwh").
func (b *bounder) field() string {
	var p strings.Builder
	for _, s := range b.path {
		switch {
		case s.index >= 0:
			fmt.Fprintf(&p, "[%d]", s.index)
		case p.Len() > 0:
			p.WriteString("." + s.key)
		default:
			p.WriteString(s.key)
		}
	}
	return shorten(p.String())
}

// visit counts n and what it holds, with b.path the field path the typed walk would
// give n: a merge key adds nothing to it, nor does a list of merged mappings (flat),
// nor a key. depth is the number of collections around n.
func (b *bounder) visit(n *yaml.Node, flat bool, depth int) {
	if b.full {
		return
	}
	b.nodes++
	if b.alias != nil {
		b.aliased++
	}
	if b.nodes > MaxNodes {
		b.full = true
		if b.aliased > b.nodes/2 { // blame the alias whose expansion ran over
			b.fail(cmp.Or(b.alias, n), "", "the document expands to more than %d nodes through aliases (an alias bomb?)", MaxNodes)
		} else {
			b.fail(n, "", "the document has more than %d nodes (a unit file has about a thousand)", MaxNodes)
		}
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		b.follow(n, flat, depth)
		return
	case yaml.MappingNode, yaml.SequenceNode:
	default:
		return
	}
	if depth++; depth > MaxDepth {
		b.full = true
		if b.alias != nil { // show where the chain of aliases starts, not where it ends
			b.fail(b.alias, b.field(), "nested more than %d levels deep through aliases and merge keys (a unit file needs fewer than 10)", MaxDepth)
		} else {
			b.fail(n, b.field(), "nested more than %d levels deep (a unit file needs fewer than 10)", MaxDepth)
		}
		return
	}
	b.open[n] = true
	defer delete(b.open, n)
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			b.visit(k, true, depth) // keys may hold aliases too; they have no field path
			if k.ShortTag() == "!!merge" {
				b.visit(v, true, depth)
				continue
			}
			b.path = append(b.path, step{k.Value, -1})
			b.visit(v, false, depth)
			b.path = b.path[:len(b.path)-1]
		}
		return
	}
	for i, item := range n.Content {
		if flat {
			b.visit(item, false, depth)
			continue
		}
		b.path = append(b.path, step{"", i})
		b.visit(item, false, depth)
		b.path = b.path[:len(b.path)-1]
	}
}

// follow visits the target of alias n in its place, unless the target is still open:
// then n is inside the value it names.
func (b *bounder) follow(n *yaml.Node, flat bool, depth int) {
	if n.Alias == nil {
		return // yaml.v3 rejects unknown anchors while parsing
	}
	if b.open[n.Alias] {
		if !b.cycles[n] {
			b.cycles[n] = true
			b.fail(n, b.field(), "alias *%s refers to itself (a cycle: &%s at line %d contains it)", n.Value, n.Value, n.Alias.Line)
		}
		return
	}
	if b.alias == nil {
		b.alias = n
		defer func() { b.alias = nil }()
	}
	b.visit(n.Alias, flat, depth)
}

// shorten keeps a field path readable when the nesting, or a hostile key, is the problem.
func shorten(path string) string {
	const keep = 60
	if len(path) <= keep {
		return path
	}
	i := strings.LastIndexAny(path[:keep], ".[")
	if i <= 0 { // one long key: cut it, but not inside a character
		for i = keep; i > 0 && !utf8.RuneStart(path[i]); i-- {
		}
	}
	return path[:i] + "..."
}
