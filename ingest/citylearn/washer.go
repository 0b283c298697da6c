package citylearn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lifang-community/lifang/twin"
)

// readJobs turns a washing-machine file into the jobs of flexible load fi in building
// bi. Every row of a request repeats its window [wm_start_time_step,
// wm_end_time_step] (absolute steps, end inclusive) and its load_profile (kWh per
// step); rows outside requests hold -1. One job is made per distinct window. A profile
// longer than its window moves Latest out until it fits (counted in extended); a job
// that cannot finish within the simulated steps, or began before them, is left out.
func (im *importer) readJobs(file string, fi, bi int) (jobs []twin.Job, extended int, err error) {
	t, err := openTable(im.dir, file)
	if err != nil {
		return nil, 0, err
	}
	defer t.Close()
	var cols [3]int
	for i, name := range []string{"wm_start_time_step", "wm_end_time_step", "load_profile"} {
		if cols[i], err = t.col(name); err != nil {
			return nil, 0, err
		}
	}
	cStart, cEnd, cProfile := cols[0], cols[1], cols[2]
	seen := map[[2]int]bool{}
	n := im.skip + im.steps
	for range n {
		if err := t.next(n); err != nil {
			return nil, 0, err
		}
		start, err := t.step(cStart, "wm_start_time_step")
		if err != nil {
			return nil, 0, err
		}
		if start < 0 {
			continue
		}
		end, err := t.step(cEnd, "wm_end_time_step")
		if err != nil {
			return nil, 0, err
		}
		if end < start {
			return nil, 0, t.errorf("wm_end_time_step %d is before wm_start_time_step %d", end, start)
		}
		key := [2]int{start, end}
		if seen[key] {
			continue
		}
		seen[key] = true
		profile, err := parseProfile(t.rec[cProfile])
		if err != nil {
			return nil, 0, t.errorf("load_profile: %v", err)
		}
		j := twin.Job{Flexible: fi, Building: bi, Earliest: start - im.skip, Latest: end + 1 - im.skip, ProfileKW: profile}
		for k := range j.ProfileKW {
			j.ProfileKW[k] /= im.stepHours
		}
		if j.Earliest < 0 || j.Earliest+len(profile) > im.steps {
			continue
		}
		if j.Latest-j.Earliest < len(profile) {
			j.Latest = j.Earliest + len(profile)
			extended++
		}
		j.Latest = min(j.Latest, im.steps)
		jobs = append(jobs, j)
	}
	return jobs, extended, nil
}

// parseProfile parses a load profile written as a list, "[3.647, 6.698]": one or more
// non-negative energies.
func parseProfile(s string) ([]float64, error) {
	body, open := strings.CutPrefix(strings.TrimSpace(s), "[")
	body, closed := strings.CutSuffix(body, "]")
	if !open || !closed {
		return nil, fmt.Errorf("%q: want a list such as [3.1, 2.4]", s)
	}
	if strings.TrimSpace(body) == "" {
		return nil, fmt.Errorf("%q: empty profile", s)
	}
	var out []float64
	for f := range strings.SplitSeq(body, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q: %q is not a non-negative number", s, f)
		}
		out = append(out, v)
	}
	return out, nil
}
