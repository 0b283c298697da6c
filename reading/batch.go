package reading

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Batch is what one ingest call accepted: it becomes one leaf of the ledger.
type Batch struct {
	// Source names the adapter and origin ("csv:meters.csv", "mqtt:lifang/…", "ocpp:CP1").
	Source   string
	Received time.Time
	Readings []Reading
	Events   []Event
}

// canonicalHeader starts every leaf; the version changes if the format ever does.
const canonicalHeader = "lifang-batch/1\n"

// Canonical returns the leaf bytes of a batch:
//
//	lifang-batch/1
//	source <source>
//	received <RFC 3339 UTC>
//	readings <n>
//	<point>\t<time>\t<value>\t<unit>\t<quality>      (n lines, in batch order)
//	events <m>
//	<kind>\t<time>\t<source>\t<k>=<v>;<k>=<v>        (m lines, attributes sorted by key)
//
// Times are RFC 3339 in UTC with nanoseconds when present; values are the shortest
// decimal that parses back to the same float64. Names never contain tabs, newlines,
// '=' or ';' (ValidName), so the form is unambiguous.
func (b *Batch) Canonical() []byte {
	var buf bytes.Buffer
	buf.Grow(64 + 64*len(b.Readings))
	buf.WriteString(canonicalHeader)
	buf.WriteString("source ")
	buf.WriteString(b.Source)
	buf.WriteString("\nreceived ")
	buf.WriteString(FormatTime(b.Received))
	buf.WriteString("\nreadings ")
	buf.WriteString(strconv.Itoa(len(b.Readings)))
	buf.WriteByte('\n')
	var num []byte
	for i := range b.Readings {
		r := &b.Readings[i]
		buf.WriteString(r.Point)
		buf.WriteByte('\t')
		num = r.Time.UTC().AppendFormat(num[:0], time.RFC3339Nano)
		buf.Write(num)
		buf.WriteByte('\t')
		num = strconv.AppendFloat(num[:0], r.Value, 'g', -1, 64)
		buf.Write(num)
		buf.WriteByte('\t')
		buf.WriteString(r.Unit)
		buf.WriteByte('\t')
		buf.WriteString(r.Quality.String())
		buf.WriteByte('\n')
	}
	buf.WriteString("events ")
	buf.WriteString(strconv.Itoa(len(b.Events)))
	buf.WriteByte('\n')
	for _, e := range b.Events {
		buf.WriteString(string(e.Kind))
		buf.WriteByte('\t')
		buf.WriteString(FormatTime(e.Time))
		buf.WriteByte('\t')
		buf.WriteString(e.Source)
		buf.WriteByte('\t')
		keys := make([]string, 0, len(e.Attrs))
		for k := range e.Attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(';')
			}
			buf.WriteString(k)
			buf.WriteByte('=')
			buf.WriteString(e.Attrs[k])
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// ParseCanonical decodes leaf bytes back into a batch; it is the inverse of Canonical
// and rejects anything Canonical would not produce.
func ParseCanonical(data []byte) (*Batch, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	next := func() (string, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return "", err
			}
			return "", fmt.Errorf("leaf: truncated after line %d", line)
		}
		line++
		return sc.Text(), nil
	}
	field := func(name string) (string, error) {
		s, err := next()
		if err != nil {
			return "", err
		}
		v, ok := strings.CutPrefix(s, name+" ")
		if !ok {
			return "", fmt.Errorf("leaf line %d: want %q, got %q", line, name, s)
		}
		return v, nil
	}
	if h, err := next(); err != nil || h+"\n" != canonicalHeader {
		return nil, fmt.Errorf("leaf: not a lifang batch (header %q)", h)
	}
	b := &Batch{}
	var err error
	if b.Source, err = field("source"); err != nil {
		return nil, err
	}
	rec, err := field("received")
	if err != nil {
		return nil, err
	}
	if b.Received, err = time.Parse(time.RFC3339Nano, rec); err != nil {
		return nil, fmt.Errorf("leaf line %d: %w", line, err)
	}
	count := func(name string) (int, error) {
		s, err := field(name)
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("leaf line %d: bad %s count %q", line, name, s)
		}
		return n, nil
	}
	n, err := count("readings")
	if err != nil {
		return nil, err
	}
	b.Readings = make([]Reading, 0, n)
	for range n {
		s, err := next()
		if err != nil {
			return nil, err
		}
		f := strings.Split(s, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("leaf line %d: %d fields, want 5", line, len(f))
		}
		var r Reading
		r.Point = f[0]
		if r.Time, err = time.Parse(time.RFC3339Nano, f[1]); err != nil {
			return nil, fmt.Errorf("leaf line %d: %w", line, err)
		}
		if r.Value, err = strconv.ParseFloat(f[2], 64); err != nil {
			return nil, fmt.Errorf("leaf line %d: %w", line, err)
		}
		r.Unit = f[3]
		if r.Quality, err = ParseQuality(f[4]); err != nil {
			return nil, fmt.Errorf("leaf line %d: %w", line, err)
		}
		b.Readings = append(b.Readings, r)
	}
	m, err := count("events")
	if err != nil {
		return nil, err
	}
	for range m {
		s, err := next()
		if err != nil {
			return nil, err
		}
		f := strings.Split(s, "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("leaf line %d: %d fields, want 4", line, len(f))
		}
		e := Event{Kind: EventKind(f[0]), Source: f[2], Attrs: map[string]string{}}
		if e.Time, err = time.Parse(time.RFC3339Nano, f[1]); err != nil {
			return nil, fmt.Errorf("leaf line %d: %w", line, err)
		}
		if f[3] != "" {
			for _, kv := range strings.Split(f[3], ";") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return nil, fmt.Errorf("leaf line %d: attribute %q", line, kv)
				}
				e.Attrs[k] = v
			}
		}
		b.Events = append(b.Events, e)
	}
	if sc.Scan() {
		return nil, fmt.Errorf("leaf: trailing data after line %d", line)
	}
	if !bytes.Equal(b.Canonical(), data) {
		return nil, fmt.Errorf("leaf: not in canonical form")
	}
	return b, nil
}
