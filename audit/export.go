package audit

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

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

// OpenExport reads an export directory; errors name the file and line.
func OpenExport(dir string) (*Export, error) {
	ex := &Export{batches: map[int64]*reading.Batch{}}
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		return b, nil
	}
	var err error
	if ex.note, err = read("checkpoint"); err != nil {
		return nil, err
	}
	keys, err := read("keys.txt")
	if err != nil {
		return nil, err
	}
	for _, k := range strings.Split(strings.TrimSpace(string(keys)), "\n") {
		if k = strings.TrimSpace(k); k != "" {
			ex.PublicKeys = append(ex.PublicKeys, k)
		}
	}
	lines := func(name string, each func(line int, s string) error) error {
		b, err := read(name)
		if err != nil {
			return err
		}
		for i, s := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if s == "" {
				continue
			}
			if err := each(i+1, s); err != nil {
				return fmt.Errorf("export: %s:%d: %w", name, i+1, err)
			}
		}
		return nil
	}
	if err := lines("leaves.txt", func(_ int, s string) error {
		b, err := base64.StdEncoding.DecodeString(s)
		ex.leaves = append(ex.leaves, b)
		return err
	}); err != nil {
		return nil, err
	}
	if err := lines("hashes.txt", func(_ int, s string) error {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return fmt.Errorf("bad hash")
		}
		ex.hashes = append(ex.hashes, tlog.Hash(b))
		return nil
	}); err != nil {
		return nil, err
	}
	rows := func(name string, fields int, each func(rec []string) error) error {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer f.Close()
		cr := csv.NewReader(f)
		cr.FieldsPerRecord = fields
		for line := 1; ; line++ {
			rec, err := cr.Read()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("export: %s: %w", name, err)
			}
			if line == 1 {
				continue
			}
			if err := each(rec); err != nil {
				return fmt.Errorf("export: %s:%d: %w", name, line, err)
			}
		}
	}
	batch := func(s string) (*reading.Batch, int64, error) {
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, 0, err
		}
		if i < 0 {
			return nil, i, nil
		}
		b := ex.batches[i]
		if b == nil {
			b = &reading.Batch{}
			ex.batches[i] = b
		}
		return b, i, nil
	}
	if err := rows("batches.csv", 3, func(rec []string) error {
		b, _, err := batch(rec[0])
		if err != nil || b == nil {
			return fmt.Errorf("bad index %q", rec[0])
		}
		b.Source = rec[1]
		b.Received, err = time.Parse(time.RFC3339Nano, rec[2])
		return err
	}); err != nil {
		return nil, err
	}
	if err := rows("readings.csv", 7, func(rec []string) error {
		b, _, err := batch(rec[0])
		if err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, rec[3])
		if err != nil {
			return err
		}
		v, err := strconv.ParseFloat(rec[4], 64)
		if err != nil {
			return err
		}
		q, err := reading.ParseQuality(rec[6])
		if err != nil {
			return err
		}
		r := reading.Reading{Point: rec[2], Time: t, Value: v, Unit: rec[5], Quality: q}
		if b == nil {
			ex.uncovered = append(ex.uncovered, r)
		} else {
			b.Readings = append(b.Readings, r)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := rows("events.csv", 6, func(rec []string) error {
		b, _, err := batch(rec[0])
		if err != nil || b == nil {
			return fmt.Errorf("bad batch %q", rec[0])
		}
		t, err := time.Parse(time.RFC3339Nano, rec[4])
		if err != nil {
			return err
		}
		attrs := map[string]string{}
		if rec[5] != "" {
			for _, kv := range strings.Split(rec[5], ";") {
				k, v, _ := strings.Cut(kv, "=")
				attrs[k] = v
			}
		}
		b.Events = append(b.Events, reading.Event{Kind: reading.EventKind(rec[2]), Source: rec[3], Time: t, Attrs: attrs})
		return nil
	}); err != nil {
		return nil, err
	}
	return ex, nil
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
