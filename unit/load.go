package unit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the unit file at path and parses it with Parse; errors name path. It
// reads at most MaxBytes+1 bytes, so a huge file (or a device) fails without being read.
func Load(path string) (*Unit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("unit: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("unit: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes one unit file strictly, applies the defaults and validates it. file
// names the source in errors. Any problem with the content is returned as Errors,
// each naming file, line and field. Files beyond MaxBytes, MaxNodes or MaxDepth are
// refused, as are aliases that contain themselves.
func Parse(data []byte, file string) (*Unit, error) {
	if len(data) > MaxBytes {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("the file is larger than %d bytes (a unit file is a few kilobytes)", MaxBytes)}}
	}
	root, err := document(data, file)
	if err != nil {
		return nil, err
	}
	// Before anything follows an alias: the walk below and yaml.v3's Decode both
	// recurse through them, and a merge key that names its own mapping never ends.
	if errs := bounds(root, file); len(errs) > 0 {
		return nil, errs
	}
	d := decoder{file: file, lines: lines{"": root.Line}, seen: map[Error]bool{}}
	d.walk(root, reflect.TypeFor[Unit](), "")
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	u := new(Unit)
	if err := root.Decode(u); err != nil {
		return nil, yamlErrors(file, err) // the walk should have caught it; keep the line anyway
	}
	u.ApplyDefaults()
	if errs := u.validate(); len(errs) > 0 {
		return nil, errs.locate(file, d.lines)
	}
	return u, nil
}

// document returns the root mapping of the single YAML document in data.
func document(data []byte, file string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, Errors{{File: file, Msg: "empty file: want a unit mapping (name, buildings, tariffs, ...)"}}
	} else if err != nil {
		return nil, yamlErrors(file, err)
	}
	if err := rest(dec, file); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	switch {
	case isNull(root):
		return nil, Errors{{File: file, Line: root.Line, Msg: "empty document: want a unit mapping (name, buildings, tariffs, ...)"}}
	case root.Kind != yaml.MappingNode:
		return nil, Errors{{File: file, Line: root.Line, Msg: "want a mapping (name, buildings, tariffs, ...) at the top level, got " + describe(root)}}
	}
	return root, nil
}

// rest reports a second non-empty document; a trailing "---" is harmless.
func rest(dec *yaml.Decoder, file string) error {
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return yamlErrors(file, err)
		case !isNull(next.Content[0]):
			return Errors{{File: file, Line: next.Line, Msg: "a second YAML document starts here: a unit file holds exactly one"}}
		}
	}
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// zeroBased are the yaml.v3 parser problems it reports with a 0-based line (unlike its
// scanner problems; see parser.fail in yaml.v3 decode.go): the line before the one
// where the enclosing collection starts.
var zeroBased = []string{
	"did not find expected key",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected <document start>",
	"found undefined tag handle",
}

// yamlErrors turns a yaml.v3 error ("yaml: line 3: ...", or a TypeError listing
// "line 3: ..." messages) into Errors with the line split out.
func yamlErrors(file string, err error) Errors {
	msgs := []string{err.Error()}
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	}
	var errs Errors
	for _, m := range msgs {
		e := &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(m, "yaml: ")}
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			e.Line, _ = strconv.Atoi(sub[1])
			e.Msg = "invalid YAML: " + sub[2]
			if slices.Contains(zeroBased, sub[2]) {
				e.Line++
			}
		}
		errs = append(errs, e)
	}
	return errs
}

// lines maps a field path ("batteries[0].capacity_kwh") to the line of its key
// (or of its list item); "" is the document root.
type lines map[string]int

// lookup returns the line of path, or of its nearest ancestor present in the file.
func (l lines) lookup(path string) int {
	for {
		if n, ok := l[path]; ok {
			return n
		}
		if path == "" {
			return 0
		}
		path = path[:max(strings.LastIndexAny(path, ".["), 0)]
	}
}

// decoder walks the node tree against the Go types, recording each field's line and
// reporting unknown keys, duplicate keys and values of the wrong kind.
type decoder struct {
	file  string
	lines lines
	errs  Errors
	seen  map[Error]bool // a mapping merged twice has its problems reported once
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	e := Error{File: d.file, Line: n.Line, Field: path, Msg: fmt.Sprintf(format, args...)}
	if d.seen[e] {
		return
	}
	d.seen[e] = true
	d.errs = append(d.errs, &e)
}

func (d *decoder) walk(n *yaml.Node, t reflect.Type, path string) {
	n = resolve(n)
	if isNull(n) {
		return // leaves the zero value: the default
	}
	switch t.Kind() {
	case reflect.Pointer: // an optional section
		d.walk(n, t.Elem(), path)
	case reflect.Struct:
		d.mapping(n, t, path, false)
	case reflect.Slice:
		d.sequence(n, t.Elem(), path)
	default:
		d.scalar(n, t.Kind(), path)
	}
}

// mapping checks the keys of n against the yaml tags of struct type t. A merged
// mapping ("<<: *anchor") is overridden by the keys given with it, so it keeps
// neither their lines nor counts as a duplicate of them.
func (d *decoder) mapping(n *yaml.Node, t reflect.Type, path string, merged bool) {
	names, types := yamlFields(t)
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping with keys %s; got %s", strings.Join(names, ", "), describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			d.merge(v, t, path)
			continue
		}
		p := join(path, shorten(k.Value)) // a megabyte key, aliased, must not be copied into every path
		ft, ok := types[k.Value]
		switch {
		case !ok:
			d.fail(k, p, "unknown field%s (valid: %s)", suggest(k.Value, names), strings.Join(names, ", "))
			continue
		case seen[k.Value] > 0:
			d.fail(k, p, "duplicate key (first given at line %d)", seen[k.Value])
			continue
		}
		seen[k.Value] = k.Line
		if _, given := d.lines[p]; !merged || !given {
			d.lines[p] = k.Line
		}
		d.walk(v, ft, p)
	}
}

// merge walks the mapping(s) of a "<<" merge key into the same struct.
func (d *decoder) merge(v *yaml.Node, t reflect.Type, path string) {
	v = resolve(v)
	if v.Kind == yaml.SequenceNode {
		for _, m := range v.Content {
			d.mapping(resolve(m), t, path, true)
		}
		return
	}
	d.mapping(v, t, path, true)
}

func (d *decoder) sequence(n *yaml.Node, elem reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", describe(n))
		return
	}
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = item.Line
		d.walk(item, elem, p)
	}
}

func (d *decoder) scalar(n *yaml.Node, k reflect.Kind, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want %s, got %s", kindName(k), describe(n))
		return
	}
	tag := n.ShortTag()
	ok := true
	switch k {
	case reflect.Float64:
		low := strings.ToLower(n.Value)
		ok = tag == "!!int" || tag == "!!float" && !strings.Contains(low, "nan") && !strings.Contains(low, "inf")
	case reflect.Int:
		ok = tag == "!!int"
	case reflect.Uint64:
		ok = tag == "!!int" && !strings.HasPrefix(n.Value, "-")
	}
	if !ok {
		d.fail(n, path, "%s is not %s%s", describe(n), kindName(k), unquoteHint(n, tag))
	}
}

// unquoteHint spots a number written in quotes.
func unquoteHint(n *yaml.Node, tag string) string {
	if _, err := strconv.ParseFloat(n.Value, 64); err == nil && tag == "!!str" {
		return " (write it without quotes)"
	}
	return ""
}

// yamlFields lists the yaml keys of struct type t in declaration order, with their types.
func yamlFields(t reflect.Type) ([]string, map[string]reflect.Type) {
	var names []string
	types := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		types[name] = f.Type
	}
	return names, types
}

// suggest proposes the valid key closest to a misspelt one.
func suggest(key string, valid []string) string {
	best, bestD := "", 3 // at most two edits away
	for _, v := range valid {
		// The lengths bound the distance from below: a long hostile key (repeated by
		// aliases) must not cost len(key)*len(v) per valid name.
		if abs(len(key)-len(v)) >= bestD {
			continue
		}
		if d := editDistance(key, v); d < bestD {
			best, bestD = v, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func abs(n int) int {
	return max(n, -n)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Float64:
		return "a number"
	case reflect.Int:
		return "a whole number"
	case reflect.Uint64:
		return "a whole number >= 0"
	case reflect.String:
		return "a string"
	}
	return k.String()
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
