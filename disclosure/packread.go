package disclosure

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ReadPack reads dir/pack.json strictly: invalid UTF-8, a syntax error, an
// unknown or duplicate field, a value of the wrong type or out of range, data
// after the object, and a missing or malformed required field are errors
// naming pack.json's line and column and the field.
func ReadPack(dir string) (*Pack, error) {
	_, p, err := readPack(dir)
	return p, err
}

// readPack is ReadPack that also returns pack.json's bytes, which the manifest signs.
func readPack(dir string) ([]byte, *Pack, error) {
	b, err := readRegular(filepath.Join(dir, PackFile))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", PackFile, err)
	}
	p, err := parsePack(b)
	return b, p, err
}

// maxPackErrors bounds the problems one error lists.
const maxPackErrors = 20

func parsePack(b []byte) (*Pack, error) {
	if off, ok := firstInvalidUTF8(b); !ok {
		return nil, fmt.Errorf("%s:%s: invalid UTF-8", PackFile, lineCol(b, off))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var p Pack
	if err := dec.Decode(&p); err != nil {
		return nil, jsonError(b, err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(b[off:])) > 0 {
		rest := int64(len(b) - len(bytes.TrimLeft(b[off:], " \t\r\n")))
		return nil, fmt.Errorf("%s:%s: data after the JSON object", PackFile, lineCol(b, rest))
	}
	paths, err := jsonPaths(b)
	if err != nil {
		return nil, err
	}
	if errs := validatePack(&p, paths, b); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &p, nil
}

// jsonError names where in b a decoding error is.
func jsonError(b []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF) && len(bytes.TrimSpace(b)) == 0:
		return fmt.Errorf("%s: empty", PackFile)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%s:%s: truncated: the JSON ends before the object does", PackFile, lineCol(b, int64(len(b))))
	case errors.As(err, &syn):
		return fmt.Errorf("%s:%s: %v", PackFile, lineCol(b, syn.Offset-1), syn) // Offset is just past the offending byte
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(the document)"
		}
		return fmt.Errorf("%s:%s: %s: JSON %s where %s is wanted (a wrong type, or a number out of range)", PackFile, lineCol(b, typ.Offset), field, typ.Value, typ.Type)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		if paths, perr := jsonPaths(b); perr == nil {
			var at *jsonPos
			for _, pos := range paths {
				if pos.key == name && (at == nil || pos.off < at.off) {
					at = pos
				}
			}
			if at != nil {
				return fmt.Errorf("%s:%s: %s: unknown field", PackFile, lineCol(b, at.off), at.path)
			}
		}
		return fmt.Errorf("%s: unknown field %q", PackFile, name)
	}
	return fmt.Errorf("%s: %w", PackFile, err)
}

// jsonPos is where a value of a JSON document starts.
type jsonPos struct {
	path   string // "figures[3].value", `files["data/readings.csv"]`
	key    string // the last object key on the path ("" for array elements)
	parent string
	off    int64
}

// jsonPaths maps the path of every value in b (valid JSON) to its position,
// and refuses duplicate keys, which encoding/json would silently resolve to
// the last.
func jsonPaths(b []byte) (map[string]*jsonPos, error) {
	out := map[string]*jsonPos{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	next := func() int64 { // the offset of the next token
		off := dec.InputOffset()
		for off < int64(len(b)) && strings.IndexByte(" \t\r\n,:", b[off]) >= 0 {
			off++
		}
		return off
	}
	// walk reads one value; off is where it is named: its key in an object,
	// itself in an array.
	var walk func(path, key, parent string, off int64) error
	walk = func(path, key, parent string, off int64) error {
		out[path] = &jsonPos{path: path, key: key, parent: parent, off: off}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				at := next()
				k, err := dec.Token()
				if err != nil {
					return err
				}
				name, _ := k.(string)
				child := name
				if !isIdent(name) {
					child = "[" + strconv.Quote(name) + "]"
				} else if path != "" {
					child = "." + name
				}
				if seen[name] {
					return fmt.Errorf("%s:%s: %s: duplicate field", PackFile, lineCol(b, at), path+child)
				}
				seen[name] = true
				if err := walk(path+child, name, path, at); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s[%d]", path, i), "", path, next()); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	if err := walk("", "", "", next()); err != nil {
		if strings.HasPrefix(err.Error(), PackFile+":") {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", PackFile, err)
	}
	return out, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validatePack checks what every pack.json must have: the fields Verify reads
// present and well formed. Whether they are right is Verify's to check.
func validatePack(p *Pack, paths map[string]*jsonPos, b []byte) []error {
	var errs []error
	bad := func(path, format string, args ...any) {
		if len(errs) == maxPackErrors {
			errs = append(errs, fmt.Errorf("%s: … (more problems)", PackFile))
		}
		if len(errs) > maxPackErrors {
			return
		}
		at := paths[path]
		for q := path; at == nil && q != ""; {
			// A missing field: point at the object that lacks it.
			q = q[:max(strings.LastIndexAny(q, ".["), 0)]
			at = paths[q]
		}
		where := PackFile
		if at != nil {
			where += ":" + lineCol(b, at.off)
		}
		errs = append(errs, fmt.Errorf("%s: %s: %s", where, path, fmt.Sprintf(format, args...)))
	}
	present := func(path string) bool { return paths[path] != nil }
	if p.Format != Format {
		bad("format", "%q, want %q (an older pack has no signed manifest: rebuild it with lifang report)", p.Format, Format)
	}
	if strings.TrimSpace(p.GeneratedBy) == "" {
		bad("generated_by", "missing: the software that built the pack")
	}
	if _, err := time.Parse(time.RFC3339, p.Generated); err != nil {
		bad("generated", "%q is not an RFC 3339 time", p.Generated)
	}
	if !present("checkpoint") {
		bad("checkpoint", "missing")
	} else {
		if p.Checkpoint.Origin == "" {
			bad("checkpoint.origin", "missing")
		}
		if p.Checkpoint.TreeSize < 1 {
			bad("checkpoint.tree_size", "%d: a pack discloses a tree of at least one leaf", p.Checkpoint.TreeSize)
		}
		if r, err := base64.StdEncoding.DecodeString(p.Checkpoint.Root); err != nil || len(r) != 32 {
			bad("checkpoint.root", "%q is not a base64 SHA-256 hash", truncate(p.Checkpoint.Root, 60))
		}
	}
	if len(p.PublicKeys) == 0 {
		bad("public_keys", "missing: the log's public keys")
	}
	for i, k := range p.PublicKeys {
		if strings.TrimSpace(k) == "" {
			bad(fmt.Sprintf("public_keys[%d]", i), "empty")
		}
	}
	if p.HouseholdRule == "" {
		bad("household_rule", "missing")
	}
	if !present("figures") {
		bad("figures", "missing")
	}
	for i, f := range p.Figures {
		at := fmt.Sprintf("figures[%d]", i)
		if f.ID == "" {
			bad(at+".id", "missing")
		}
		if f.Value == "" {
			bad(at+".value", "missing")
		} else if _, ok := parseDecimal(string(f.Value)); !ok {
			bad(at+".value", "%s is not a finite decimal", truncate(string(f.Value), 60))
		}
		if f.Unit == "" {
			bad(at+".unit", "missing")
		}
	}
	if !present("pdf") {
		bad("pdf", "missing")
	} else if p.PDF.Printed && p.PDF.File != PDFFile {
		bad("pdf.file", "%q, want %q", p.PDF.File, PDFFile)
	}
	if len(p.Files) == 0 {
		bad("files", "missing: the SHA-256 of every other file")
	}
	names := make([]string, 0, len(p.Files))
	for n := range p.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		at := `files[` + strconv.Quote(n) + `]`
		if isIdent(n) {
			at = "files." + n
		}
		if h := p.Files[n]; len(h) != 64 || strings.ToLower(h) != h {
			bad(at, "%q is not a SHA-256 in lower-case hex", truncate(h, 70))
		} else if _, err := hex.DecodeString(h); err != nil {
			bad(at, "%q is not a SHA-256 in lower-case hex", h)
		}
	}
	return errs
}

// lineCol is "line:column" (both from 1, the column in bytes) of offset off in b.
func lineCol(b []byte, off int64) string {
	off = min(max(off, 0), int64(len(b)))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(b[:off], '\n'))
	return fmt.Sprintf("%d:%d", line, col)
}

// firstInvalidUTF8 returns the offset of b's first byte that is not UTF-8.
func firstInvalidUTF8(b []byte) (int64, bool) {
	if utf8.Valid(b) {
		return 0, true
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return int64(i), false
		}
		i += size
	}
	return 0, true
}

// readRegular reads a regular file, refusing a directory, device, FIFO or
// symbolic link: a pack is checked as it is, not wherever it points.
func readRegular(path string) ([]byte, error) {
	if err := regular(path); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

func regular(path string) error {
	st, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("missing: %w", fs.ErrNotExist)
		}
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
