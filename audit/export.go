package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
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

	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// An export is a directory an auditor can verify without lifang's database:
//
//	checkpoint     the latest signed checkpoint (C2SP note text)
//	keys.txt       the log's public keys, one per line (note verifier keys)
//	leaves.txt     one base64 leaf per line, in index order
//	hashes.txt     the log's stored hashes, base64, in stored-hash index order
//	batches.csv    index,source,received
//	readings.csv   batch,seq,point,timestamp,value,unit,quality
//	events.csv     batch,seq,kind,source,timestamp,attrs
//
// Readings outside any leaf are exported with batch −1 so verify can name them.

// ExportSource is what WriteExport reads.
type ExportSource interface {
	Source
	Keys(ctx context.Context) (skeys, vkeys []string, err error)
}

// WriteExport writes src's signed data to dir and returns the number of leaves.
func WriteExport(ctx context.Context, src ExportSource, dir string) (int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	size, note, err := src.LatestCheckpoint(ctx)
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	_, vkeys, err := src.Keys(ctx)
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	files := map[string]*bufio.Writer{}
	var handles []*os.File
	open := func(name string) (*bufio.Writer, error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		handles = append(handles, f)
		w := bufio.NewWriter(f)
		files[name] = w
		return w, nil
	}
	defer func() {
		for _, f := range handles {
			f.Close()
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, "checkpoint"), note, 0o644); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys.txt"), []byte(strings.Join(vkeys, "\n")+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	leaves, err := open("leaves.txt")
	if err != nil {
		return 0, err
	}
	bw, err := open("batches.csv")
	if err != nil {
		return 0, err
	}
	rw, err := open("readings.csv")
	if err != nil {
		return 0, err
	}
	ew, err := open("events.csv")
	if err != nil {
		return 0, err
	}
	bc, rc, ec := csv.NewWriter(bw), csv.NewWriter(rw), csv.NewWriter(ew)
	bc.Write([]string{"index", "source", "received"})
	rc.Write([]string{"batch", "seq", "point", "timestamp", "value", "unit", "quality"})
	ec.Write([]string{"batch", "seq", "kind", "source", "timestamp", "attrs"})
	writeReading := func(batch int64, seq int, r reading.Reading) {
		rc.Write([]string{strconv.FormatInt(batch, 10), strconv.Itoa(seq), r.Point, reading.FormatTime(r.Time), reading.FormatValue(r.Value), r.Unit, r.Quality.String()})
	}
	for i := range size {
		leaf, err := src.Leaf(ctx, i)
		if err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
		leaves.WriteString(base64.StdEncoding.EncodeToString(leaf) + "\n")
		b, err := src.BatchReadings(ctx, i)
		if err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
		bc.Write([]string{strconv.FormatInt(i, 10), b.Source, reading.FormatTime(b.Received)})
		for seq, r := range b.Readings {
			writeReading(i, seq, r)
		}
		for seq, e := range b.Events {
			ec.Write([]string{strconv.FormatInt(i, 10), strconv.Itoa(seq), string(e.Kind), e.Source, reading.FormatTime(e.Time), attrsText(e.Attrs)})
		}
	}
	extra, err := src.Uncovered(ctx, size, 0)
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	for seq, r := range extra {
		writeReading(-1, seq, r)
	}
	hw, err := open("hashes.txt")
	if err != nil {
		return 0, err
	}
	if size > 0 {
		n := tlog.StoredHashCount(size)
		idx := make([]int64, n)
		for i := range idx {
			idx[i] = int64(i)
		}
		hs, err := src.ReadHashes(idx)
		if err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
		for _, h := range hs {
			hw.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
		}
	}
	for _, c := range []*csv.Writer{bc, rc, ec} {
		c.Flush()
		if err := c.Error(); err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
	}
	for name, w := range files {
		if err := w.Flush(); err != nil {
			return 0, fmt.Errorf("export: %s: %w", name, err)
		}
	}
	for _, f := range handles {
		if err := f.Close(); err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
	}
	handles = nil
	return size, nil
}

func attrsText(a map[string]string) string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + a[k]
	}
	return strings.Join(parts, ";")
}

// Export is an export directory read back as an audit Source.
type Export struct {
	PublicKeys []string
	note       []byte
	leaves     [][]byte
	hashes     []tlog.Hash
	batches    map[int64]*reading.Batch
	uncovered  []reading.Reading
}

// Columns of an export's CSV files, as WriteExport writes them in their header.
var (
	batchColumns   = []string{"index", "source", "received"}
	readingColumns = []string{"batch", "seq", "point", "timestamp", "value", "unit", "quality"}
	eventColumns   = []string{"batch", "seq", "kind", "source", "timestamp", "attrs"}
)

// OpenExport reads an export directory. It trusts nothing it reads: a missing
// or non-regular file, a truncated or malformed line, a missing column, bad
// UTF-8, or a value that is not a finite number is an error naming the file,
// the line and, for CSV, the column.
func OpenExport(dir string) (*Export, error) {
	ex := &Export{batches: map[int64]*reading.Batch{}}
	read := func(name string) ([]byte, error) {
		b, err := readRegular(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("export: %s: %w", name, err)
		}
		return b, nil
	}
	var err error
	if ex.note, err = read("checkpoint"); err != nil {
		return nil, err
	}
	if ex.PublicKeys, err = ReadPublicKeys(dir); err != nil {
		return nil, err
	}
	lines := func(name string, each func(s string) error) error {
		b, err := read(name)
		if err != nil {
			return err
		}
		for i, s := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if s == "" {
				continue
			}
			if err := each(s); err != nil {
				return fmt.Errorf("export: %s:%d: %w", name, i+1, err)
			}
		}
		return nil
	}
	if err := lines("leaves.txt", func(s string) error {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("not a base64 leaf: %w", err)
		}
		ex.leaves = append(ex.leaves, b)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := lines("hashes.txt", func(s string) error {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return fmt.Errorf("not a base64 SHA-256 hash (%d bytes)", tlog.HashSize)
		}
		ex.hashes = append(ex.hashes, tlog.Hash(b))
		return nil
	}); err != nil {
		return nil, err
	}
	batch := func(s string) (*reading.Batch, error) {
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New("not an integer")
		}
		if i < 0 {
			return nil, nil
		}
		b := ex.batches[i]
		if b == nil {
			b = &reading.Batch{}
			ex.batches[i] = b
		}
		return b, nil
	}
	if err := csvRows(dir, "batches.csv", batchColumns, func(f fields) error {
		b, err := batch(f.get(0))
		if err != nil || b == nil {
			return f.bad(0, "not a batch index (an integer ≥ 0)")
		}
		b.Source = f.get(1)
		if b.Received, err = time.Parse(time.RFC3339Nano, f.get(2)); err != nil {
			return f.bad(2, "not an RFC 3339 time")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := csvRows(dir, "readings.csv", readingColumns, func(f fields) error {
		b, err := batch(f.get(0))
		if err != nil {
			return f.bad(0, "not a batch index (an integer, −1 outside the log)")
		}
		if _, err := strconv.Atoi(f.get(1)); err != nil {
			return f.bad(1, "not an integer")
		}
		t, err := time.Parse(time.RFC3339Nano, f.get(3))
		if err != nil {
			return f.bad(3, "not an RFC 3339 time")
		}
		v, err := strconv.ParseFloat(f.get(4), 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return f.bad(4, "out of the range of a float64")
		case err != nil:
			return f.bad(4, "not a number")
		case !reading.Finite(v):
			return f.bad(4, "not a finite number")
		}
		q, err := reading.ParseQuality(f.get(6))
		if err != nil {
			return f.bad(6, "want good, estimated or substituted")
		}
		r := reading.Reading{Point: f.get(2), Time: t, Value: v, Unit: f.get(5), Quality: q}
		if b == nil {
			ex.uncovered = append(ex.uncovered, r)
		} else {
			b.Readings = append(b.Readings, r)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := csvRows(dir, "events.csv", eventColumns, func(f fields) error {
		b, err := batch(f.get(0))
		if err != nil || b == nil {
			return f.bad(0, "not a batch index (an integer ≥ 0)")
		}
		t, err := time.Parse(time.RFC3339Nano, f.get(4))
		if err != nil {
			return f.bad(4, "not an RFC 3339 time")
		}
		attrs := map[string]string{}
		if a := f.get(5); a != "" {
			for _, kv := range strings.Split(a, ";") {
				k, v, _ := strings.Cut(kv, "=")
				attrs[k] = v
			}
		}
		b.Events = append(b.Events, reading.Event{Kind: reading.EventKind(f.get(2)), Source: f.get(3), Time: t, Attrs: attrs})
		return nil
	}); err != nil {
		return nil, err
	}
	return ex, nil
}

// ReadPublicKeys reads an export's keys.txt alone, for checks that need the
// log's keys even when the rest of the export does not parse.
func ReadPublicKeys(dir string) ([]string, error) {
	b, err := readRegular(filepath.Join(dir, "keys.txt"))
	if err != nil {
		return nil, fmt.Errorf("export: keys.txt: %w", err)
	}
	if line, ok := validUTF8(b); !ok {
		return nil, fmt.Errorf("export: keys.txt:%d: invalid UTF-8", line)
	}
	var keys []string
	for _, k := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// fields is one CSV record with what its errors need to name it.
type fields struct {
	name    string // the file
	line    int    // where the record starts
	columns []string
	rec     []string
}

func (f fields) get(i int) string { return f.rec[i] }

// bad is an error naming the file, line, column and value.
func (f fields) bad(i int, problem string) error {
	return fmt.Errorf("export: %s:%d: column %s: %q: %s", f.name, f.line, f.columns[i], truncate(f.rec[i], 80), problem)
}

// csvRows reads name (a CSV file whose header is columns) and calls each for
// every record after the header.
func csvRows(dir, name string, columns []string, each func(fields) error) error {
	b, err := readRegular(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("export: %s: %w", name, err)
	}
	if line, ok := validUTF8(b); !ok {
		return fmt.Errorf("export: %s:%d: invalid UTF-8", name, line)
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1 // counted here, to name what is missing
	cr.ReuseRecord = true
	want := strings.Join(columns, ",")
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			if first {
				return fmt.Errorf("export: %s: empty: want the header %s", name, want)
			}
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("export: %s:%d: %v (truncated or malformed CSV)", name, pe.StartLine, pe.Err)
			}
			return fmt.Errorf("export: %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			if strings.Join(rec, ",") != want {
				return fmt.Errorf("export: %s:1: header %q, want %q", name, truncate(strings.Join(rec, ","), 200), want)
			}
			continue
		}
		if len(rec) != len(columns) {
			missing := ""
			if len(rec) < len(columns) {
				missing = fmt.Sprintf(": missing %s", strings.Join(columns[len(rec):], ","))
			}
			return fmt.Errorf("export: %s:%d: %d fields, want %d (%s)%s", name, line, len(rec), len(columns), want, missing)
		}
		if err := each(fields{name: name, line: line, columns: columns, rec: rec}); err != nil {
			return err
		}
	}
}

// readRegular reads a regular file: a directory, device or FIFO in an export is
// refused rather than read (a FIFO or /dev/zero would never end).
func readRegular(path string) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("missing")
		}
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	return os.ReadFile(path)
}

// validUTF8 reports whether b is valid UTF-8 and, if not, the line of the first
// invalid byte.
func validUTF8(b []byte) (line int, ok bool) {
	if utf8.Valid(b) {
		return 0, true
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return 1 + bytes.Count(b[:i], []byte("\n")), false
		}
		i += size
	}
	return 0, true
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

// TreeSize implements Source.
func (e *Export) TreeSize(context.Context) (int64, error) { return int64(len(e.leaves)), nil }

// Leaf implements Source.
func (e *Export) Leaf(_ context.Context, i int64) ([]byte, error) {
	if i < 0 || i >= int64(len(e.leaves)) {
		return nil, fmt.Errorf("export: leaf %d: %w", i, store.ErrNotFound)
	}
	return e.leaves[i], nil
}

// BatchReadings implements Source.
func (e *Export) BatchReadings(_ context.Context, i int64) (*reading.Batch, error) {
	b, ok := e.batches[i]
	if !ok {
		return nil, fmt.Errorf("export: batch %d: %w", i, store.ErrNotFound)
	}
	return b, nil
}

// Uncovered implements Source.
func (e *Export) Uncovered(_ context.Context, size int64, limit int) ([]reading.Reading, error) {
	out := e.uncovered
	for i, b := range e.batches {
		if i >= size {
			out = append(out, b.Readings...)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ReadHashes implements Source.
func (e *Export) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(e.hashes)) {
			return nil, fmt.Errorf("export: hash %d: %w", x, store.ErrNotFound)
		}
		out[i] = e.hashes[x]
	}
	return out, nil
}

// LatestCheckpoint implements Source.
func (e *Export) LatestCheckpoint(context.Context) (int64, []byte, error) {
	// The size is in the note's second line; verify parses the note itself.
	lines := strings.SplitN(string(e.note), "\n", 3)
	if len(lines) < 2 {
		return 0, nil, fmt.Errorf("export: checkpoint: too short")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("export: checkpoint size: %w", err)
	}
	return n, e.note, nil
}
