package citylearn

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// table reads one CityLearn CSV file row by row, looking columns up by name so that a
// column nobody asks for (the *_predicted_* look-ahead columns above all) is never
// parsed. Errors name the file and the 1-based line, the header being line 1.
type table struct {
	name string // as the schema names it, for errors
	f    *os.File
	r    *csv.Reader
	cols map[string]int
	rec  []string
	rows int // data rows read so far
}

func openTable(dir, name string) (*table, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, openError(err)
	}
	r := csv.NewReader(f)
	r.ReuseRecord = true
	t := &table{name: name, f: f, r: r}
	header, err := r.Read()
	if err != nil {
		f.Close()
		if err == io.EOF {
			return nil, fmt.Errorf("citylearn: %s: empty file, want a header line", name)
		}
		return nil, t.wrap(err)
	}
	t.cols = make(map[string]int, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		t.cols[strings.TrimSpace(h)] = i
	}
	return t, nil
}

// openError drops the "open" of a path error: the path and the reason are the message.
func openError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("citylearn: %s: %w", pe.Path, pe.Err)
	}
	return fmt.Errorf("citylearn: %w", err)
}

func (t *table) Close() error { return t.f.Close() }

// col is the index of a required column.
func (t *table) col(name string) (int, error) {
	if i, ok := t.cols[name]; ok {
		return i, nil
	}
	return 0, fmt.Errorf("citylearn: %s:1: missing column %q", t.name, name)
}

// optCol is the index of an optional column, or -1.
func (t *table) optCol(name string) int {
	if i, ok := t.cols[name]; ok {
		return i
	}
	return -1
}

// next reads the next row; want is the number of rows the caller needs in all, for
// the message when the file ends too early.
func (t *table) next(want int) error {
	rec, err := t.r.Read()
	if err == io.EOF {
		return fmt.Errorf("citylearn: %s: too few rows: %d data rows, want at least %d", t.name, t.rows, want)
	}
	if err != nil {
		return t.wrap(err)
	}
	t.rec = rec
	t.rows++
	return nil
}

func (t *table) wrap(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("citylearn: %s:%d: %w", t.name, pe.Line, pe.Err)
	}
	return fmt.Errorf("citylearn: %s: %w", t.name, err)
}

// line is the line the current row starts on.
func (t *table) line() int {
	l, _ := t.r.FieldPos(0)
	return l
}

// errorf reports a problem with the current row.
func (t *table) errorf(format string, args ...any) error {
	return fmt.Errorf("citylearn: %s:%d: %s", t.name, t.line(), fmt.Sprintf(format, args...))
}

// float parses column c (named col) of the current row as a finite number.
func (t *table) float(c int, col string) (float64, error) {
	v, ok, err := t.optFloat(c, col)
	if err == nil && !ok {
		err = t.errorf("%s: missing value", col)
	}
	return v, err
}

// optFloat is float where an empty field means "no value" (ok false).
func (t *table) optFloat(c int, col string) (v float64, ok bool, err error) {
	s := t.rec[c]
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		if v, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return 0, false, t.errorf("%s: %q is not a number", col, s)
		}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, t.errorf("%s: %q is not a finite number", col, s)
	}
	return v, true, nil
}

// step parses column c as a time-step index (an integer, possibly written "12.0").
func (t *table) step(c int, col string) (int, error) {
	v, err := t.float(c, col)
	if err != nil {
		return 0, err
	}
	if v != math.Trunc(v) || math.Abs(v) > 1e9 {
		return 0, t.errorf("%s: %v is not a whole time step", col, v)
	}
	return int(v), nil
}
