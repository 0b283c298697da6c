package demo

import (
	"math"
	"testing"
	"time"

	"github.com/lifang-community/lifang/unit"
)

func TestSunPosition(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	const lat, lon = 23.13, 113.26
	for _, c := range []struct {
		name     string
		date     time.Time
		elevDeg  float64 // 90 − |lat − declination|
		noonMin  float64 // minutes after 12:00 CST: (120 − lon)·4 − equation of time
		tolerDeg float64
	}{
		{"June solstice", time.Date(2025, 6, 21, 0, 0, 0, 0, cst), 90 - math.Abs(lat-23.44), 26.96 + 1.6, 1},
		{"March equinox", time.Date(2025, 3, 20, 0, 0, 0, 0, cst), 90 - lat, 26.96 + 7.5, 1},
		{"December solstice", time.Date(2025, 12, 21, 0, 0, 0, 0, cst), 90 - (lat + 23.44), 26.96 - 1.7, 1},
	} {
		best, bestMin := -2.0, 0
		for m := 10 * 60; m < 15*60; m++ {
			_, _, up := sunPosition(c.date.Add(time.Duration(m)*time.Minute), lat, lon)
			if up > best {
				best, bestMin = up, m
			}
		}
		elev := math.Asin(best) * 180 / math.Pi
		if math.Abs(elev-c.elevDeg) > c.tolerDeg {
			t.Errorf("%s: noon elevation %.2f°, want %.2f°", c.name, elev, c.elevDeg)
		}
		if got := float64(bestMin - 12*60); math.Abs(got-c.noonMin) > 3 {
			t.Errorf("%s: solar noon at 12:00%+.0f min, want %+.1f", c.name, got, c.noonMin)
		}
	}
	// Midnight: the sun is down and there is no irradiance.
	_, _, up := sunPosition(time.Date(2025, 6, 21, 0, 0, 0, 0, cst), lat, lon)
	if up >= 0 || clearSkyGHI(up) != 0 {
		t.Errorf("midnight: cos Z = %g, GHI = %g", up, clearSkyGHI(up))
	}
	if got, want := clearSkyGHI(1), 1098*math.Exp(-0.057); got != want {
		t.Errorf("Haurwitz at zenith = %g, want %g", got, want)
	}
}

func TestSolarNight(t *testing.T) {
	g := demoGen(t, 7)
	_, _, in := demoYear(t, 7)
	for h := range g.hours {
		hod := g.cal.hourOfDay[h]
		night := hod < 5 || hod >= 20
		for a := range in.PVKWPerKWp {
			pv := in.PVKWPerKWp[a][h]
			if pv < 0 || pv > 1 || (night && pv != 0) {
				t.Fatalf("hour %d (%d h): array %d PV %g kW/kWp", h, hod, a, pv)
			}
		}
		if night && g.w.ghi[h] != 0 {
			t.Fatalf("hour %d (%d h): GHI %g at night", h, hod, g.w.ghi[h])
		}
	}
}

func TestPVYield(t *testing.T) {
	u, _, in := demoYear(t, 7)
	g := demoGen(t, 7)
	ghi := sum(g.w.ghi) / 1000
	if ghi < 1150 || ghi > 1500 {
		t.Errorf("annual GHI %.0f kWh/m², want Guangzhou's ~1,300", ghi)
	}
	for a, s := range in.PVKWPerKWp {
		y := sum(s)
		t.Logf("%s: %.0f kWh/kWp (GHI %.0f kWh/m²)", u.PV[a].Name, y, ghi)
		if y < 900 || y > 1300 {
			t.Errorf("%s: annual yield %.0f kWh/kWp, want 900–1,300", u.PV[a].Name, y)
		}
	}
}

func TestTemperature(t *testing.T) {
	g := demoGen(t, 7)
	var sum, n [13]float64
	var byHour [24]float64
	for h := range 8760 {
		m := g.cal.days[h/24].month
		sum[m] += g.w.tempC[h]
		n[m]++
		byHour[g.cal.hourOfDay[h]] += g.w.tempC[h]
	}
	for _, c := range []struct {
		month  int
		lo, hi float64
	}{{1, 11, 16}, {7, 27, 30.5}} {
		if mean := sum[c.month] / n[c.month]; mean < c.lo || mean > c.hi {
			t.Errorf("month %d mean %.1f °C, want %g–%g", c.month, mean, c.lo, c.hi)
		}
	}
	warmest := 0
	for h := range byHour {
		if byHour[h] > byHour[warmest] {
			warmest = h
		}
	}
	if warmest < 13 || warmest > 16 {
		t.Errorf("warmest hour %d, want ~15", warmest)
	}
}

func TestRain(t *testing.T) {
	for _, c := range []struct {
		name   string
		target float64
		want   float64
	}{{"community", 1720, 1720}, {"default", 0, defaultRainMM}, {"dry city", 600, 600}} {
		u, m := community(t, func(u *unit.Unit) { u.Water.AnnualRainMM = c.target })
		in, err := Generate(u, m, 11)
		if err != nil {
			t.Fatal(err)
		}
		if got := sum(in.RainMM); math.Abs(got-c.want) > 0.15*c.want {
			t.Errorf("%s: annual rain %.0f mm, want %.0f ± 15 %%", c.name, got, c.want)
		}
	}
	g := demoGen(t, 7)
	wetDays, wetSeason, total := 0, 0.0, 0.0
	var kcWet, kcDry, nWet, nDry float64
	for d := range 365 {
		mm := g.w.dailyMM[d]
		total += mm
		if m := g.cal.days[d].month; m >= 4 && m <= 9 {
			wetSeason += mm
		}
		if mm > 0 {
			wetDays++
			kcWet += g.w.dayKc(d)
			nWet++
		} else {
			kcDry += g.w.dayKc(d)
			nDry++
		}
	}
	if wetDays < 110 || wetDays > 180 {
		t.Errorf("%d rain days, want Guangzhou's ~145", wetDays)
	}
	if share := wetSeason / total; share < 0.7 {
		t.Errorf("April–September share of rain %.2f, want > 0.7", share)
	}
	if kcWet/nWet >= 0.8*kcDry/nDry {
		t.Errorf("rain days clear-sky index %.2f, dry days %.2f: rain days should be clearly cloudier", kcWet/nWet, kcDry/nDry)
	}
}

func TestRainForecast(t *testing.T) {
	g := demoGen(t, 7)
	_, _, in := demoYear(t, 7)
	truth := g.w.truth24(g.hours)
	fc := in.RainForecast24hMM
	equal, wet, falseAlarms := 0, 0, 0
	for h := range truth {
		if truth[h] >= forecastDryMM {
			wet++
			if math.Abs(fc[h]-truth[h]) < 0.05 {
				equal++
			}
		}
		if truth[h] < forecastDryMM && fc[h] >= forecastFalseMinMM {
			falseAlarms++
		}
		if fc[h] < 0 {
			t.Fatalf("hour %d: forecast %g mm", h, fc[h])
		}
	}
	r := correlation(fc, truth)
	t.Logf("forecast/realised correlation %.2f; %d of %d wet hours equal; %d false-alarm hours", r, equal, wet, falseAlarms)
	if r < 0.5 || r > 0.98 {
		t.Errorf("forecast/realised 24-h rain correlation %.2f, want 0.5–0.98", r)
	}
	if equal > wet/20 {
		t.Errorf("forecast equals the realised rain in %d of %d hours with rain ahead", equal, wet)
	}
	if falseAlarms == 0 {
		t.Error("no false alarms")
	}
}

func correlation(x, y []float64) float64 {
	n := float64(len(x))
	mx, my := sum(x)/n, sum(y)/n
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}
