package demo

import (
	"math"
	"testing"

	"github.com/lifang-community/lifang/unit"
)

func TestAnnualLoad(t *testing.T) {
	u, m, in := demoYear(t, 7)
	total, hh := 0.0, 0
	for b, s := range in.BuildingLoadKW {
		for i, v := range s {
			if v < 0 || math.IsNaN(v) {
				t.Fatalf("building %d step %d: load %g", b, i, v)
			}
		}
		total += sum(s) // kW over 1-h steps = kWh
		hh += m.Buildings[b].Households
	}
	mean := total / float64(hh)
	t.Logf("mean household load %.1f kWh/year (target %.0f)", mean, u.Households.AnnualLoadKWh)
	if math.Abs(mean-u.Households.AnnualLoadKWh) > 0.02*u.Households.AnnualLoadKWh {
		t.Errorf("mean household load %.0f kWh/year, want %.0f ± 2 %%", mean, u.Households.AnnualLoadKWh)
	}
	// Buildings differ (diversity) but not wildly.
	lo, hi := math.Inf(1), 0.0
	for _, s := range in.BuildingLoadKW {
		lo, hi = math.Min(lo, sum(s)), math.Max(hi, sum(s))
	}
	if hi/lo < 1.01 || hi/lo > 1.5 {
		t.Errorf("building totals range %.0f–%.0f kWh: want some, not wild, diversity", lo, hi)
	}
}

func TestBuildingAnnualLoad(t *testing.T) {
	u, m := community(t, func(u *unit.Unit) {
		u.Buildings[0].AnnualLoadKWh = 500000
		u.Buildings[1].Households, u.Buildings[1].AnnualLoadKWh = 0, 80000 // a shop
	})
	in, err := Generate(u, m, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum(in.BuildingLoadKW[0]); !near(got, 500000, 1e-9) {
		t.Errorf("T01 %.0f kWh, want 500,000", got)
	}
	if got := sum(in.BuildingLoadKW[1]); !near(got, 80000, 1e-9) {
		t.Errorf("T02 %.0f kWh, want 80,000", got)
	}
	rest := 0.0
	for b := 2; b < len(in.BuildingLoadKW); b++ {
		rest += sum(in.BuildingLoadKW[b])
	}
	if want := 800 * u.Households.AnnualLoadKWh; !near(rest, want, 1e-9) {
		t.Errorf("other buildings %.0f kWh, want %.0f", rest, want)
	}
}

func TestLoadShape(t *testing.T) {
	g := demoGen(t, 7)
	_, _, in := demoYear(t, 7)
	var byHour [24]float64
	var summer, winter, nS, nW, festival, nF, before, nB float64
	for h := range 8760 {
		v := 0.0
		for b := range in.BuildingLoadKW {
			v += in.BuildingLoadKW[b][h]
		}
		day := g.cal.days[h/24]
		byHour[g.cal.hourOfDay[h]] += v
		switch {
		case day.month == 7:
			summer += v
			nS++
		case day.month == 12:
			winter += v
			nW++
		}
		if day.festival {
			festival += v
			nF++
		} else if h/24 >= 7 && h/24 < 21 { // 8–21 January
			before += v
			nB++
		}
	}
	if byHour[20] < 1.5*byHour[4] || byHour[8] < byHour[4] {
		t.Errorf("profile: 4 h %.0f, 8 h %.0f, 20 h %.0f: want an evening peak and a morning bump over the night trough", byHour[4], byHour[8], byHour[20])
	}
	if summer/nS < 1.3*winter/nW {
		t.Errorf("July mean %.0f kW, December %.0f kW: air conditioning missing", summer/nS, winter/nW)
	}
	if r := (festival / nF) / (before / nB); r < 0.6 || r > 0.85 {
		t.Errorf("Spring Festival load / early January = %.2f, want ~0.7", r)
	}
}
