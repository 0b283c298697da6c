package demo

import (
	"math"
	"testing"

	"github.com/lifang-community/lifang/unit"
)

func TestWaterDemand(t *testing.T) {
	u, _, in := demoYear(t, 7)
	g := demoGen(t, 7)
	want := 365 * u.Water.NonPotableDemandM3PerDay
	if got := sum(in.WaterDemandM3); !near(got, want, 1e-9) {
		t.Errorf("annual non-potable demand %.1f m³, want %.1f", got, want)
	}
	// Irrigation (the 6–8 h surplus over flushing) is skipped on rain days.
	var rainy, dry, nRainy, nDry float64
	for d := range 365 {
		morning := in.WaterDemandM3[d*24+6] + in.WaterDemandM3[d*24+7]
		if g.w.dailyMM[d] >= 5 {
			rainy += morning
			nRainy++
		} else if g.w.dailyMM[d] == 0 && (d == 0 || g.w.dailyMM[d-1] == 0) {
			dry += morning
			nDry++
		}
	}
	if dry/nDry < 2*rainy/nRainy {
		t.Errorf("6–8 h demand: dry days %.2f m³, rain days %.2f m³: irrigation should stop in the rain", dry/nDry, rainy/nRainy)
	}
	for h, v := range in.WaterDemandM3 {
		if v < 0 {
			t.Fatalf("step %d: demand %g", h, v)
		}
	}
}

func TestNoWaterDemand(t *testing.T) {
	u, m := community(t, func(u *unit.Unit) { u.Water = unit.Water{} })
	in, err := Generate(u, m, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.WaterDemandM3) != in.Steps || sum(in.WaterDemandM3) != 0 {
		t.Errorf("no water system: %d steps, %g m³", len(in.WaterDemandM3), sum(in.WaterDemandM3))
	}
	if got := sum(in.RainMM); math.Abs(got-defaultRainMM) > 1e-6*defaultRainMM {
		t.Errorf("default annual rain %.1f mm, want %d", got, defaultRainMM)
	}
}

func TestCarbon(t *testing.T) {
	_, _, in := demoYear(t, 7)
	mean := sum(in.CarbonKgPerKWh) / float64(in.Steps)
	if math.Abs(mean-carbonMeanKg) > 0.01 {
		t.Errorf("mean carbon intensity %.3f kg/kWh, want %.2f", mean, carbonMeanKg)
	}
	if noon, night := in.CarbonKgPerKWh[13], in.CarbonKgPerKWh[1]; noon >= night {
		t.Errorf("13 h %.3f kg/kWh, 1 h %.3f: want lower at midday", noon, night)
	}
}
