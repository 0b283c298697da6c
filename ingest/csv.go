package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// DefaultCSVBatch is how many rows of a CSV file make one batch (one ledger leaf).
const DefaultCSVBatch = 10000

// ReadCSV reads readings from CSV with a header row naming the columns point,
// timestamp, value and optionally unit and quality (any order; names are
// case-insensitive). Timestamps are RFC 3339. Rows that cannot be parsed become
// Rejected entries naming the line and the problem; the rest are emitted in chunks of
// at most batch rows. A missing header or column is an error for the whole file.
func ReadCSV(r io.Reader, source string, batch int, emit func(Input) error) error {
	if batch <= 0 || batch > MaxBatch {
		batch = DefaultCSVBatch
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty file, want a header point,timestamp,value[,unit]", source)
	}
	if err != nil {
		return fmt.Errorf("%s:1: %w", source, err)
	}
	col := map[string]int{}
	for i, h := range hdr {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"point", "timestamp", "value"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("%s:1: header has no %q column (header: %s; want point,timestamp,value[,unit][,quality])", source, need, strings.Join(hdr, ","))
		}
	}
	unitCol, hasUnit := col["unit"]
	qualCol, hasQual := col["quality"]
	in := Input{Source: source}
	flush := func() error {
		if len(in.Readings) == 0 && len(in.Rejected) == 0 {
			return nil
		}
		err := emit(in)
		in = Input{Source: source}
		return err
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		raw := strings.Join(rec, ",")
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				in.Rejected = append(in.Rejected, store.Rejected{Source: source, Raw: raw, Reason: fmt.Sprintf("%s:%d: %v", source, line, pe.Err)})
				continue
			}
			return fmt.Errorf("%s:%d: %w", source, line, err)
		}
		r, perr := parseRow(rec, col, unitCol, hasUnit, qualCol, hasQual)
		if perr != nil {
			in.Rejected = append(in.Rejected, store.Rejected{Source: source, Raw: raw, Reason: fmt.Sprintf("%s:%d: %v", source, line, perr)})
		} else {
			in.Readings = append(in.Readings, r)
			in.Raw = append(in.Raw, fmt.Sprintf("%s:%d: %s", source, line, raw))
		}
		if len(in.Readings)+len(in.Rejected) >= batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func parseRow(rec []string, col map[string]int, unitCol int, hasUnit bool, qualCol int, hasQual bool) (reading.Reading, error) {
	field := func(i int) (string, bool) {
		if i >= len(rec) {
			return "", false
		}
		return strings.TrimSpace(rec[i]), true
	}
	var r reading.Reading
	p, ok := field(col["point"])
	if !ok || p == "" {
		return r, fmt.Errorf("point: missing")
	}
	r.Point = p
	ts, ok := field(col["timestamp"])
	if !ok {
		return r, fmt.Errorf("timestamp: missing")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return r, fmt.Errorf("timestamp: %q is not RFC 3339", ts)
	}
	r.Time = t
	v, ok := field(col["value"])
	if !ok {
		return r, fmt.Errorf("value: missing")
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || !reading.Finite(x) {
		return r, fmt.Errorf("value: %q is not a finite number", v)
	}
	r.Value = x
	if hasUnit {
		if u, ok := field(unitCol); ok {
			r.Unit = u
		}
	}
	if r.Unit == "" {
		return r, fmt.Errorf("unit: missing")
	}
	if hasQual {
		if q, ok := field(qualCol); ok {
			if r.Quality, err = reading.ParseQuality(q); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}
