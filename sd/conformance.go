package sd

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// CaseResult is the outcome of one conformance case.
type CaseResult struct {
	Model  string `json:"model"`
	Passed bool   `json:"-"`
	Reason string `json:"reason,omitempty"`
}

// Conformance summarises a conformance run.
type Conformance struct {
	Total  int          `json:"total"`
	Passed int          `json:"passed"`
	Failed []CaseResult `json:"failed"`
}

var ignoredCols = map[string]bool{"final_time": true, "initial_time": true, "saveper": true, "time_step": true}

type table struct {
	names []string
	times []float64
	cols  [][]float64 // [col][row], NaN when missing
}

func readOutput(path string) (*table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	sep := ","
	if strings.HasSuffix(path, ".tab") {
		sep = "\t"
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	hdr := splitRow(lines[0], sep)
	t := &table{names: hdr[1:], cols: make([][]float64, len(hdr)-1)}
	for _, l := range lines[1:] {
		f := splitRow(l, sep)
		tv, err := strconv.ParseFloat(strings.TrimSpace(f[0]), 64)
		if err != nil {
			continue
		}
		t.times = append(t.times, tv)
		for j := range t.cols {
			v := math.NaN()
			if j+1 < len(f) {
				if x, err := strconv.ParseFloat(strings.TrimSpace(f[j+1]), 64); err == nil {
					v = x
				}
			}
			t.cols[j] = append(t.cols[j], v)
		}
	}
	return t, nil
}

func splitRow(l, sep string) []string {
	if sep == "\t" {
		out := strings.Split(l, sep)
		for i := range out {
			out[i] = strings.Trim(strings.TrimSpace(out[i]), "\"")
		}
		return out
	}
	var out []string
	var cur strings.Builder
	inQ := false
	for _, r := range l {
		switch {
		case r == '"':
			inQ = !inQ
		case r == ',' && !inQ:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

func close(a, b float64) bool {
	if math.Abs(a) <= 1e-6 && math.Abs(b) <= 1e-6 {
		return true
	}
	return math.Abs(a-b) <= 1e-4*math.Max(math.Abs(a), math.Abs(b))
}

// Compare checks a model's Euler run against a canonical output file.
func compareCase(xmilePath, outPath string) error {
	base := filepath.Base(xmilePath)
	m, err := ParseFile(xmilePath)
	if err != nil {
		return err
	}
	want, err := readOutput(outPath)
	if err != nil {
		return err
	}
	got, err := m.Run(Euler)
	if err != nil {
		return fmt.Errorf("%s: %v", base, err)
	}
	idx := map[string]int{}
	for i, n := range got.Names {
		idx[canon(n)] = i
	}
	findRow := func(t float64) (int, bool) {
		i := sort.SearchFloat64s(got.Times, t)
		best, bd := -1, math.Inf(1)
		for _, j := range []int{i - 1, i} {
			if j >= 0 && j < len(got.Times) && math.Abs(got.Times[j]-t) < bd {
				best, bd = j, math.Abs(got.Times[j]-t)
			}
		}
		tol := math.Max(1e-9, math.Min(m.dt, m.save)*0.49)
		if best < 0 || bd > tol || bd > 1e-3*math.Max(1, math.Abs(t)) {
			return 0, false
		}
		return best, true
	}
	for j, name := range want.names {
		cn := canon(name)
		if ignoredCols[cn] || cn == "" {
			continue
		}
		vi, ok := idx[cn]
		if !ok {
			return fmt.Errorf("%s: canonical variable %q missing from model", base, name)
		}
		for r, t := range want.times {
			w := want.cols[j][r]
			if math.IsNaN(w) {
				continue
			}
			gi, ok := findRow(t)
			if !ok {
				if t > m.stop+m.dt/2 || t < m.start-m.dt/2 {
					continue
				}
				return fmt.Errorf("%s: no simulated row at t=%g", base, t)
			}
			g := got.Values[vi][gi]
			if !close(g, w) {
				return fmt.Errorf("%s: var %q at t=%g: got %g, want %g", base, name, t, g, w)
			}
		}
	}
	return nil
}

// RunConformance walks dir recursively; each .xmile file in a folder holding
// output.csv or output.tab is one case, run with Euler and compared.
func RunConformance(dir string) (*Conformance, error) {
	var cases [][2]string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.EqualFold(filepath.Ext(p), ".xmile") {
			return nil
		}
		folder := filepath.Dir(p)
		for _, o := range []string{"output.csv", "output.tab"} {
			op := filepath.Join(folder, o)
			if _, err := os.Stat(op); err == nil {
				cases = append(cases, [2]string{p, op})
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i][0] < cases[j][0] })
	c := &Conformance{Failed: []CaseResult{}}
	for _, cs := range cases {
		rel, _ := filepath.Rel(dir, cs[0])
		c.Total++
		if err := compareCase(cs[0], cs[1]); err != nil {
			c.Failed = append(c.Failed, CaseResult{Model: rel, Reason: err.Error()})
			continue
		}
		c.Passed++
	}
	return c, nil
}
