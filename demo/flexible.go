package demo

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lifang-community/lifang/twin"
)

// Flexible load model.
//
// Each flexible_loads entry is a population of count appliances, each requesting
// runs_per_week runs: floor(r) + Bernoulli(frac r) runs a day, r = runs_per_week/7.
// To keep the job list small, appliances are batched: a batch of up to B appliances
// of one building shares its request times and is one Job whose profile is B × one
// appliance's, with B = ⌈count × runs_per_week × 52.14 / 16,000⌉ (at most 16,000 jobs
// a year per entry: 1,000 washing machines × 3 runs/week → batches of 10). Request
// times:
//
//   - pumps (name or kind containing "pump"): every day at 0 h;
//   - everything else (washing machines, dishwashers): on working days 45 % in the
//     morning N(8 h, 0.6 h) within 6:30–10, 55 % in the evening N(20.5 h, 1 h) within
//     18:30–23; on days off 40 % of runs move to the day, 10–16 h.
//
// A run requested at hour x may start from step ⌊x⌋ (Earliest) and must finish
// window_hours later (Latest = Earliest + window_hours steps-per-hour, at least the
// profile length); its profile is cycle_kwh/duration_hours kW for duration_hours.
// Without a building the appliances are spread over buildings in proportion to their
// households (largest remainder). Jobs whose window leaves the horizon are cut to it,
// and dropped if the run no longer fits.
const maxJobsPerEntry = 16000

func (g *gen) jobs() ([]twin.Job, error) {
	var out []twin.Job
	bidx := make(map[string]int, len(g.m.Buildings))
	for i, b := range g.m.Buildings {
		bidx[b.Name] = i
	}
	days := g.genDays - 1
	for fi, f := range g.u.Flexible {
		if f.Count <= 0 || f.RunsPerWeek <= 0 || f.CycleKWh <= 0 {
			continue
		}
		dur := max(f.DurationHours, 1)
		window := max(f.WindowHours, dur)
		batch := max(1, int(math.Ceil(float64(f.Count)*f.RunsPerWeek*52.14/maxJobsPerEntry)))

		// Appliances per building.
		perB := make([]int, max(len(g.m.Buildings), 1))
		switch {
		case f.Building != "":
			b, ok := bidx[f.Building]
			if !ok {
				return nil, fmt.Errorf("%w: flexible_loads %q: unknown building %q", ErrUnit, f.Name, f.Building)
			}
			perB[b] = f.Count
		default:
			w := make([]float64, len(perB))
			for b, bs := range g.m.Buildings {
				w[b] = float64(bs.Households)
			}
			perB = apportion(f.Count, w)
		}
		type batchSpec struct{ building, size int }
		var batches []batchSpec
		for b, n := range perB {
			for n > 0 {
				k := min(batch, n)
				building := b
				if len(g.m.Buildings) == 0 {
					building = -1
				}
				batches = append(batches, batchSpec{building, k})
				n -= k
			}
		}

		pump := strings.Contains(strings.ToLower(f.Name+" "+f.Kind), "pump")
		r := g.stream(familyFlexible<<32 | uint64(fi))
		rate := f.RunsPerWeek / 7
		whole, frac := math.Floor(rate), rate-math.Floor(rate)
		kwPerAppliance := f.CycleKWh / float64(dur)
		profLen := dur * g.sph
		for d := range days {
			off := g.cal.days[d].offWork
			for _, bs := range batches {
				runs := int(whole)
				if r.Float64() < frac {
					runs++
				}
				for range runs {
					x := 0.0
					if !pump {
						u, z := r.Float64(), r.NormFloat64()
						switch {
						case off && u < 0.4:
							x = 10 + 6*r.Float64()
						case u < 0.45 || (off && u < 0.67):
							x = math.Min(math.Max(8+0.6*z, 6.5), 10)
						default:
							x = math.Min(math.Max(20.5+z, 18.5), 23)
						}
					}
					e := g.stepOf(d, x)
					l := min(e+window*g.sph, g.steps)
					if e >= g.steps || l-e < profLen {
						continue
					}
					prof := make([]float64, profLen)
					for k := range prof {
						prof[k] = float64(bs.size) * kwPerAppliance
					}
					out = append(out, twin.Job{Flexible: fi, Building: bs.building, Earliest: e, Latest: l, ProfileKW: prof})
				}
			}
		}
	}
	// Jobs equal in every compared field have equal profiles too, so the order is deterministic.
	slices.SortFunc(out, func(a, b twin.Job) int {
		return cmp.Or(cmp.Compare(a.Earliest, b.Earliest), cmp.Compare(a.Flexible, b.Flexible), cmp.Compare(a.Building, b.Building),
			cmp.Compare(a.Latest, b.Latest), cmp.Compare(a.ProfileKW[0], b.ProfileKW[0]))
	})
	return out, nil
}

// apportion splits n in proportion to weights by largest remainder (ties to the
// lower index); all-zero weights split evenly.
func apportion(n int, weights []float64) []int {
	out := make([]int, len(weights))
	total := 0.0
	for _, w := range weights {
		total += w
	}
	if total <= 0 {
		weights = slices.Repeat([]float64{1}, len(weights))
		total = float64(len(weights))
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(weights))
	left := n
	for i, w := range weights {
		q := float64(n) * w / total
		out[i] = int(math.Floor(q))
		left -= out[i]
		rems[i] = rem{i, q - math.Floor(q)}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.r, a.r) })
	for k := 0; k < left; k++ {
		out[rems[k%len(rems)].i]++
	}
	return out
}
