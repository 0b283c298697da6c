package demo

import (
	"math"
	"testing"

	"github.com/lifang-community/lifang/unit"
)

func TestHouseholds(t *testing.T) {
	u, m := community(t, func(u *unit.Unit) { u.Buildings[2].Households = 103; u.Buildings[3].Households = 3 })
	in, err := Generate(u, m, 7)
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, len(m.Buildings))
	share := make([]float64, len(m.Buildings))
	var water, n float64
	for _, h := range in.Households {
		count[h.Building] += h.Count
		share[h.Building] += h.LoadShare
		water += float64(h.Count) * h.WaterM3PerYear
		n += float64(h.Count)
		if h.Count <= 0 || h.IncomeCNYPerYear <= 0 || h.LoadShare <= 0 {
			t.Errorf("group %+v", h)
		}
	}
	for b, bs := range m.Buildings {
		if count[b] != bs.Households {
			t.Errorf("%s: %d households in groups, want %d", bs.Name, count[b], bs.Households)
		}
		if math.Abs(share[b]-1) > 1e-12 {
			t.Errorf("%s: load shares sum to %g", bs.Name, share[b])
		}
	}
	if got := water / n; math.Abs(got-u.Households.WaterM3PerYear) > 1e-9*got {
		t.Errorf("mean household water %.3f m³, want %.0f", got, u.Households.WaterM3PerYear)
	}
	// Within a building, richer groups use more per household.
	g := in.Households[:5]
	for k := 1; k < 5; k++ {
		if g[k].IncomeCNYPerYear <= g[k-1].IncomeCNYPerYear || g[k].LoadShare/float64(g[k].Count) <= g[k-1].LoadShare/float64(g[k-1].Count) {
			t.Errorf("quintile %d: %+v after %+v", k, g[k], g[k-1])
		}
	}
}

func TestQuintileMeans(t *testing.T) {
	const sigma = 0.6
	q := quintileMeans(sigma)
	mean := 0.0
	for _, v := range q {
		mean += v / 5
	}
	if want := math.Exp(sigma * sigma / 2); math.Abs(mean-want) > 1e-12 {
		t.Errorf("mean of quintile means %g, want the log-normal mean %g", mean, want)
	}
	// The middle quintile straddles the median (1).
	if q[2] < 0.95 || q[2] > 1.1 {
		t.Errorf("middle quintile mean %g, want ≈ 1", q[2])
	}
	_ = unit.DefaultIncomeSigma
}
