package forecast

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"}

// ParseTime accepts RFC 3339 and the usual zone-less layouts (read as UTC).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp (want RFC 3339 or YYYY-MM-DD HH:MM:SS)", s)
}

// ReadCSV reads series from a CSV file with a time column: every other numeric column
// is a series unless columns names them. Empty cells and "NaN" are missing values
// (filled and reported by the backtest); anything else that is not a number is an
// error naming the file, line and column.
func ReadCSV(path, timeColumn string, columns []string) ([]Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	defer f.Close()
	return readCSV(f, path, timeColumn, columns)
}

func readCSV(r io.Reader, path, timeColumn string, columns []string) ([]Series, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s is empty", ErrInput, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", path, err)
	}
	hdr = slices.Clone(hdr)
	ti := -1
	var cols []int
	for i, h := range hdr {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		hdr[i] = h
		switch {
		case h == timeColumn:
			ti = i
		case len(columns) == 0 || slices.Contains(columns, h):
			cols = append(cols, i)
		}
	}
	if ti < 0 {
		return nil, fmt.Errorf("%w: %s:1: no time column %q (columns: %s)", ErrInput, path, timeColumn, strings.Join(hdr, ", "))
	}
	for _, c := range columns {
		if !slices.Contains(hdr, c) {
			return nil, fmt.Errorf("%w: %s:1: no column %q", ErrInput, path, c)
		}
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: %s: no series columns", ErrInput, path)
	}
	out := make([]Series, len(cols))
	for k, c := range cols {
		out[k].Name = hdr[c]
	}
	var times []time.Time
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %v", ErrInput, path, line, err)
		}
		t, err := ParseTime(rec[ti])
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %s: %v", ErrInput, path, line, timeColumn, err)
		}
		times = append(times, t)
		for k, c := range cols {
			v := strings.TrimSpace(rec[c])
			x := math.NaN()
			if v != "" && !strings.EqualFold(v, "nan") {
				if x, err = strconv.ParseFloat(v, 64); err != nil {
					return nil, fmt.Errorf("%w: %s:%d: column %q: %q is not a number", ErrInput, path, line, hdr[c], v)
				}
			}
			out[k].Values = append(out[k].Values, x)
		}
	}
	for k := range out {
		out[k].Times = times
	}
	return out, nil
}
