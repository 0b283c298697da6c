// Package series reads and writes time-indexed numeric series: one CSV file, one
// column per series, an optional time column, every row one step.
package series

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Table is a set of equal-length numeric columns read from one file.
type Table struct {
	File    string
	Header  []string
	Columns map[string][]float64
	Times   []string // the time column's raw values, if one was named
}

// Rows is the number of data rows.
func (t *Table) Rows() int {
	for _, c := range t.Columns {
		return len(c)
	}
	return len(t.Times)
}

// Column returns a named column or an error naming the file and the columns it has.
func (t *Table) Column(name string) ([]float64, error) {
	c, ok := t.Columns[name]
	if !ok {
		return nil, fmt.Errorf("%s: no column %q (columns: %s)", t.File, name, strings.Join(t.Header, ", "))
	}
	return c, nil
}

// ReadCSVFile reads a CSV file whose every column but timeColumn ("" for none) is
// numeric. Errors name the file, the line (the header is line 1) and the column.
func ReadCSVFile(path, timeColumn string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	defer f.Close()
	return ReadCSV(f, path, timeColumn)
}

// ReadCSV reads CSV from r; file names the source in errors.
func ReadCSV(r io.Reader, file, timeColumn string) (*Table, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file, want a header line", file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	t := &Table{File: file, Header: append([]string(nil), hdr...), Columns: map[string][]float64{}}
	timeIdx := -1
	for i, h := range t.Header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		t.Header[i] = h
		if h == timeColumn && timeColumn != "" {
			timeIdx = i
			continue
		}
		if _, dup := t.Columns[h]; dup {
			return nil, fmt.Errorf("%s:1: column %q appears twice", file, h)
		}
		t.Columns[h] = nil
	}
	if timeColumn != "" && timeIdx < 0 {
		return nil, fmt.Errorf("%s:1: no time column %q (columns: %s)", file, timeColumn, strings.Join(t.Header, ", "))
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		for i, v := range rec {
			if i == timeIdx {
				t.Times = append(t.Times, v)
				continue
			}
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%s:%d: column %q: %q is not a number", file, line, t.Header[i], v)
			}
			t.Columns[t.Header[i]] = append(t.Columns[t.Header[i]], x)
		}
	}
	if t.Rows() == 0 {
		return nil, fmt.Errorf("%s: no data rows", file)
	}
	return t, nil
}
