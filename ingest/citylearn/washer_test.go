package citylearn

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/twin"
)

func TestReadJobs(t *testing.T) {
	rows := []string{
		"7,24,-1,-1,-1",
		`1,1,1,3,"[3, 1.5]"`, // window [1,3]: steps 1..3
		`1,2,1,3,"[3, 1.5]"`,
		`1,3,1,3,"[3, 1.5]"`,
		`1,4,4,4,"[2, 2]"`, // a 2-step profile in a 1-step window: extended
		`1,5,5,7,[1]`,      // runs past the last step (5): cut to it
		`1,6,6,9,"[1, 1]"`, // cannot finish by the last step: left out
	}
	d := t.TempDir()
	body := "day_type,hour,wm_start_time_step,wm_end_time_step,load_profile\n" + strings.Join(rows, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(d, "wm.csv"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	im := &importer{dir: d, steps: 7, stepHours: 1}
	jobs, extended, err := im.readJobs("wm.csv", 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []twin.Job{
		{Flexible: 3, Building: 4, Earliest: 1, Latest: 4, ProfileKW: []float64{3, 1.5}},
		{Flexible: 3, Building: 4, Earliest: 4, Latest: 6, ProfileKW: []float64{2, 2}},
		{Flexible: 3, Building: 4, Earliest: 5, Latest: 7, ProfileKW: []float64{1}},
	}
	if !reflect.DeepEqual(jobs, want) || extended != 1 {
		t.Errorf("got %+v, %d extended\nwant %+v, 1", jobs, extended, want)
	}
	f := im.flexible("wm", "b", jobs)
	if f.CycleKWh != (4.5+4+1)/3 || f.DurationHours != 2 || f.WindowHours != 2 || f.Kind != "shiftable" || f.Count != 1 {
		t.Errorf("flexible %+v", f)
	}
}

func TestParseProfile(t *testing.T) {
	good := map[string][]float64{
		"[3.157]":                             {3.157},
		"[3.073, 3.0940000000000003, 12.616]": {3.073, 3.0940000000000003, 12.616},
		" [0,1] ":                             {0, 1},
	}
	for in, want := range good {
		got, err := parseProfile(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseProfile(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "[]", "[1,,2]", "[1, -2]", "[NaN]", "[Inf]", "3.1", "[1"} {
		if got, err := parseProfile(in); err == nil {
			t.Errorf("parseProfile(%q) = %v, want an error", in, got)
		}
	}
}
