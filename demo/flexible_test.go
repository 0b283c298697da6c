package demo

import (
	"math"
	"testing"
)

func TestJobs(t *testing.T) {
	u, m, in := demoYear(t, 7)
	if len(in.Jobs) > 60000 {
		t.Errorf("%d jobs, want < 60,000", len(in.Jobs))
	}
	energy := make([]float64, len(m.Flexible))
	for i, j := range in.Jobs {
		if j.Latest-j.Earliest < len(j.ProfileKW) || len(j.ProfileKW) == 0 || j.Latest > in.Steps || j.Earliest < 0 {
			t.Fatalf("job %d: window [%d,%d) for %d steps", i, j.Earliest, j.Latest, len(j.ProfileKW))
		}
		if j.Building < 0 || j.Building >= len(m.Buildings) {
			t.Fatalf("job %d: building %d", i, j.Building)
		}
		f := u.Flexible[j.Flexible]
		if want := f.WindowHours; j.Latest-j.Earliest != want && j.Latest != in.Steps {
			t.Fatalf("job %d: window %d steps, want %d", i, j.Latest-j.Earliest, want)
		}
		energy[j.Flexible] += sum(j.ProfileKW) // 1-h steps
	}
	for i, f := range u.Flexible {
		want := float64(f.Count) * f.RunsPerWeek * 365 / 7 * f.CycleKWh
		t.Logf("%s: %.0f kWh/year (expected %.0f)", f.Name, energy[i], want)
		if math.Abs(energy[i]-want) > 0.05*want {
			t.Errorf("%s: %.0f kWh/year, want %.0f ± 5 %%", f.Name, energy[i], want)
		}
	}
	// Pumps request at midnight; washing machines morning and evening.
	var pumpsAtMidnight, washers, washersPeak int
	for _, j := range in.Jobs {
		h := j.Earliest % 24
		switch m.Flexible[j.Flexible] {
		case "booster-pumps":
			if h == 0 {
				pumpsAtMidnight++
			}
		case "washing-machines":
			washers++
			if (h >= 6 && h <= 10) || (h >= 18 && h <= 23) {
				washersPeak++
			}
		}
	}
	if pumpsAtMidnight != 4*365 {
		t.Errorf("%d pump runs at 0 h, want %d", pumpsAtMidnight, 4*365)
	}
	if float64(washersPeak) < 0.8*float64(washers) {
		t.Errorf("%d of %d washing runs requested in the morning or evening", washersPeak, washers)
	}
}

func TestApportion(t *testing.T) {
	for _, c := range []struct {
		n    int
		w    []float64
		want []int
	}{
		{4, []float64{100, 100, 100, 100, 100}, []int{1, 1, 1, 1, 0}},
		{10, []float64{1, 2, 2}, []int{2, 4, 4}},
		{7, []float64{0, 0}, []int{4, 3}},
	} {
		got := apportion(c.n, c.w)
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("apportion(%d, %v) = %v, want %v", c.n, c.w, got, c.want)
				break
			}
		}
	}
}
