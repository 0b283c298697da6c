package demo

import (
	"math"
	"time"

	"github.com/lifang-community/lifang/unit"
)

// Weather model.
//
// Sky: a daily Markov chain over four sky states (clear, partly cloudy, overcast,
// rain). With probability skyPersistence tomorrow keeps today's state, otherwise it is
// drawn from the month's climatological distribution skyClimate, whose rain share
// reproduces Guangzhou's ~144 rain days a year (Apr–Sep wet season: 15–19 a month;
// Oct–Jan: 5–7) and whose clear share follows the monthly sunshine hours (dull
// March–April, sunny October–December). Each state has a daily clear-sky index
// (skyIndex, ±0.05) and hourly AR(1) noise (φ = 0.8, sd skyNoise); rain hours keep 40 %.
//
// Rain: falls on rain-state days, so storms are always cloudy. Daily depth is
// exponential with the month's mean wet-day depth (monthly normals / rain days),
// then the whole series is scaled so the first 365 days total water.annual_rain_mm
// (default 1,700). May–September rain is convective: 1 + Poisson(2) hours starting
// 13–19 h; otherwise frontal: 2 + Poisson(4) hours at any time.
//
// Temperature: annual cycle (two harmonics fitted to Guangzhou's monthly normals, mean
// 22.3 °C: 13.6 °C in January, 28.8 °C in July; loosely −0.6 °C mean and +5 % swing per
// degree of latitude further from the equator, half a year shifted south of it) +
// diurnal sinusoid peaking at 15:00 with amplitude 3.5 °C × (0.4 + clear-sky index) +
// daily AR(1) anomaly (φ = 0.7, sd 2.2 °C Nov–Mar, 1.2 °C otherwise, interpolated
// between days); rain days are 1.5 °C cooler than dry days of the same month.
//
// Solar: Spencer (1971) declination and equation of time, hour angle from UTC and
// longitude; clear-sky GHI after Haurwitz, GHI = 1098 cos Z exp(−0.057/cos Z) W/m²,
// times the clear-sky index. Erbs et al. (1982) diffuse fraction, isotropic-sky
// transposition with ground albedo 0.2 onto each array's tilt/azimuth (azimuth from
// north, 180 = south). PV = POA/1000 × performance_ratio × (1 − 0.4 %/°C above 25 °C
// cell temperature), cell temperature = air + (NOCT 45 − 20)/800 × POA, capped at
// 1 kW/kWp; four samples per hour. Guangzhou yields ≈ 1,050 kWh/kWp a year.
//
// Rain forecast: RainForecast24hMM stands in for a met-service 24-h quantitative
// precipitation forecast. It is the realised next-24-h rain × a lognormal error
// (σ = 0.5, mean 1, AR(1) over hours with φ = 0.97 so consecutive issues agree) —
// on 15 % of days a miss halves it — and, when the next 24 h are dry (< 0.5 mm),
// a false alarm of 5–40 mm on 15 % of days. Rounded to 0.1 mm. It never equals the
// realised rain.
type weather struct {
	tempC      []float64   // hourly, °C (generated period)
	rainMM     []float64   // hourly, mm (generated period)
	dailyMM    []float64   // daily, mm (generated period)
	sky        []skyState  // daily
	kc         []float64   // hourly clear-sky index
	ghi        []float64   // hourly mean GHI, W/m² (horizon)
	pv         [][]float64 // per array, hourly kW/kWp (horizon)
	forecastMM []float64   // hourly, mm over the next 24 h (horizon)
}

type skyState uint8

const (
	skyClear skyState = iota
	skyPartly
	skyOvercast
	skyRain
	nSky
)

// skyClimate[month-1] is the stationary distribution of sky states.
var skyClimate = [12][nSky]float64{
	{.30, .27, .20, .23}, {.15, .22, .27, .36}, {.08, .20, .27, .45}, {.08, .22, .20, .50},
	{.10, .22, .10, .58}, {.10, .20, .07, .63}, {.18, .25, .05, .52}, {.17, .23, .05, .55},
	{.22, .28, .10, .40}, {.38, .30, .13, .19}, {.40, .28, .15, .17}, {.38, .28, .18, .16},
}

// monthRainMM are Guangzhou's monthly precipitation normals (mm); with the rain-day
// share of skyClimate they give the mean depth of a wet day.
var monthRainMM = [12]float64{43, 65, 85, 182, 284, 298, 229, 232, 190, 70, 37, 32}

// tempHarmonics are the cos/sin coefficients (°C) of the first two annual harmonics
// of Guangzhou's monthly mean temperatures around tempMeanC (fit to the 1991–2020
// normals 13.6 … 28.8 … 15.2 °C within 0.5 °C), in the day-of-year angle.
var tempHarmonics = [4]float64{-6.863, -2.700, -1.229, -0.458}

const (
	tempMeanC      = 22.3
	rainCoolC      = 1.5
	skyPersistence = 0.45
	defaultRainMM  = 1700
)

var (
	skyIndex = [nSky]float64{0.95, 0.76, 0.45, 0.35}
	skyNoise = [nSky]float64{0.05, 0.15, 0.10, 0.10}
)

func daysInMonth(m int) float64 {
	return [12]float64{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
}

func (g *gen) weather() *weather {
	nh := g.genDays * 24
	w := &weather{tempC: make([]float64, nh), rainMM: make([]float64, nh), dailyMM: make([]float64, g.genDays),
		sky: make([]skyState, g.genDays), kc: make([]float64, nh)}
	g.skyAndRain(w)
	g.temperature(w)
	g.solar(w)
	g.rainForecast(w)
	return w
}

func convective(month int) bool { return month >= 5 && month <= 9 }

func (g *gen) skyAndRain(w *weather) {
	r := g.stream(streamSky)
	draw := func(month int) skyState {
		x, c := r.Float64(), 0.0
		for s, p := range skyClimate[month-1] {
			if c += p; x < c {
				return skyState(s)
			}
		}
		return skyRain
	}
	e := 0.0
	for d := range g.genDays {
		month := g.cal.days[d].month
		s := draw(month)
		if d > 0 && r.Float64() < skyPersistence {
			s = w.sky[d-1]
		}
		w.sky[d] = s
		base := skyIndex[s]
		if s == skyRain && !convective(month) {
			base = 0.25 // frontal rain: grey all day
		}
		dayKc := base + 0.05*r.NormFloat64()

		var rainH [24]float64
		if s == skyRain {
			wet := skyClimate[month-1][skyRain] * daysInMonth(month)
			depth := r.ExpFloat64() * monthRainMM[month-1] / wet
			var n, first int
			if convective(month) {
				n = 1 + poisson(r, 2)
				n = min(n, 11)
				first = 13 + r.IntN(7)
			} else {
				n = min(2+poisson(r, 4), 24)
				first = r.IntN(24 - n + 1)
			}
			first = min(first, 24-n)
			sum := 0.0
			for k := range n {
				rainH[first+k] = r.ExpFloat64()
				sum += rainH[first+k]
			}
			for k := range n {
				rainH[first+k] *= depth / sum
			}
			w.dailyMM[d] = depth
		}
		for h := range 24 {
			i := d*24 + h
			e = 0.8*e + 0.6*skyNoise[s]*r.NormFloat64()
			kc := dayKc + e
			if rainH[h] > 0 {
				kc *= 0.4
			}
			w.kc[i] = math.Min(math.Max(kc, 0.03), 1.05)
			w.rainMM[i] = rainH[h]
		}
	}
	// Calibrate the first year to the annual total.
	target := orDefault(g.u.Water.AnnualRainMM, defaultRainMM)
	sum := 0.0
	for _, mm := range w.dailyMM[:365] {
		sum += mm
	}
	if sum > 0 {
		k := target / sum
		for i := range w.rainMM {
			w.rainMM[i] *= k
		}
		for i := range w.dailyMM {
			w.dailyMM[i] *= k
		}
	}
}

// dayKc is the mean clear-sky index of day d.
func (w *weather) dayKc(d int) float64 {
	s := 0.0
	for _, k := range w.kc[d*24 : d*24+24] {
		s += k
	}
	return s / 24
}

func (g *gen) temperature(w *weather) {
	r := g.stream(streamTemp)
	lat := g.u.Location.LatitudeDeg
	dl := math.Abs(lat) - 23.13
	mean := tempMeanC - 0.6*dl
	scale := math.Min(math.Max(1+0.05*dl, 0.15), 2.5) // seasonal swing grows with latitude
	shift := 0.0
	if lat < 0 {
		shift = 182.5
	}
	const phi = 0.7
	anom := make([]float64, g.genDays)
	a := 0.0
	for d := range g.genDays {
		sd := 1.2
		if m := g.cal.days[d].month; m >= 11 || m <= 3 {
			sd = 2.2
		}
		z := r.NormFloat64()
		if d == 0 {
			a = sd * z
		} else {
			a = phi*a + sd*math.Sqrt(1-phi*phi)*z
		}
		anom[d] = a
	}
	for d := range g.genDays {
		di := g.cal.days[d]
		kc := w.dayKc(d)
		dAmp := 3.5 * (0.4 + kc)
		// rain days are rainCoolC cooler than dry ones, the month's mean unchanged
		pRain := skyClimate[di.month-1][skyRain]
		cool := rainCoolC * pRain
		if w.sky[d] == skyRain {
			cool -= rainCoolC
		}
		for h := range 24 {
			i := d*24 + h
			x := float64(h) + 0.5 // hours since this day's midnight
			// anomaly interpolated between day centres
			var an float64
			if x < 12 {
				f := (x + 12) / 24
				an = anom[max(d-1, 0)]*(1-f) + anom[d]*f
			} else {
				f := (x - 12) / 24
				an = anom[d]*(1-f) + anom[min(d+1, g.genDays-1)]*f
			}
			y := 2 * math.Pi * (float64(di.yday) - 1 + x/24 - shift) / 365
			seasonal := tempHarmonics[0]*math.Cos(y) + tempHarmonics[1]*math.Sin(y) +
				tempHarmonics[2]*math.Cos(2*y) + tempHarmonics[3]*math.Sin(2*y)
			hod := float64(g.cal.hourOfDay[i]) + 0.5
			w.tempC[i] = mean + scale*seasonal + dAmp*math.Cos(2*math.Pi*(hod-15)/24) + an + cool
		}
	}
}

// sunPosition returns the sun's unit vector (east, north, up) at t for a site at
// latitude latDeg, longitude lonDeg (Spencer 1971 declination and equation of time).
// up is cos Z, the sine of the elevation.
func sunPosition(t time.Time, latDeg, lonDeg float64) (east, north, up float64) {
	ut := t.UTC()
	hrs := float64(ut.Hour()) + float64(ut.Minute())/60 + float64(ut.Second())/3600
	gam := 2 * math.Pi * (float64(ut.YearDay()-1) + (hrs-12)/24) / 365
	decl := 0.006918 - 0.399912*math.Cos(gam) + 0.070257*math.Sin(gam) - 0.006758*math.Cos(2*gam) +
		0.000907*math.Sin(2*gam) - 0.002697*math.Cos(3*gam) + 0.00148*math.Sin(3*gam)
	eotMin := 229.18 * (0.000075 + 0.001868*math.Cos(gam) - 0.032077*math.Sin(gam) -
		0.014615*math.Cos(2*gam) - 0.040849*math.Sin(2*gam))
	solarHours := hrs + lonDeg/15 + eotMin/60
	omega := (solarHours - 12) * 15 * math.Pi / 180
	phi := latDeg * math.Pi / 180
	east = -math.Cos(decl) * math.Sin(omega)
	north = math.Cos(phi)*math.Sin(decl) - math.Sin(phi)*math.Cos(decl)*math.Cos(omega)
	up = math.Sin(phi)*math.Sin(decl) + math.Cos(phi)*math.Cos(decl)*math.Cos(omega)
	return east, north, up
}

// clearSkyGHI is the Haurwitz clear-sky global horizontal irradiance (W/m²) for a
// sun at cos Z.
func clearSkyGHI(cosZ float64) float64 {
	if cosZ <= 0 {
		return 0
	}
	return 1098 * cosZ * math.Exp(-0.057/cosZ)
}

// erbs is the diffuse fraction of GHI for clearness index kt (Erbs et al. 1982).
func erbs(kt float64) float64 {
	switch {
	case kt <= 0.22:
		return 1 - 0.09*kt
	case kt <= 0.8:
		return 0.9511 - 0.1604*kt + 4.388*kt*kt - 16.638*kt*kt*kt + 12.336*kt*kt*kt*kt
	default:
		return 0.165
	}
}

const (
	albedo       = 0.2
	noctC        = 45.0
	tempCoeff    = 0.004 // per °C above 25 °C cell temperature
	solarSamples = 4     // per hour
)

func (g *gen) solar(w *weather) {
	lat, lon := g.u.Location.LatitudeDeg, g.u.Location.LongitudeDeg
	type array struct{ e, n, u, skyView, groundView, pr float64 }
	arrays := make([]array, len(g.u.PV))
	for a, p := range g.u.PV {
		b := p.TiltDeg * math.Pi / 180
		az := p.AzimuthDeg * math.Pi / 180
		arrays[a] = array{e: math.Sin(b) * math.Sin(az), n: math.Sin(b) * math.Cos(az), u: math.Cos(b),
			skyView: (1 + math.Cos(b)) / 2, groundView: albedo * (1 - math.Cos(b)) / 2,
			pr: orDefault(p.PerformanceRatio, unit.DefaultPerformanceRatio)}
	}
	w.ghi = make([]float64, g.hours)
	w.pv = make([][]float64, len(arrays))
	for a := range w.pv {
		w.pv[a] = make([]float64, g.hours)
	}
	for h := range g.hours {
		ta := w.tempC[h]
		for k := range solarSamples {
			t := g.start.Add(time.Duration((float64(h) + (float64(k)+0.5)/solarSamples) * float64(time.Hour)))
			se, sn, su := sunPosition(t, lat, lon)
			if su <= 0 {
				continue
			}
			ghi := clearSkyGHI(su) * w.kc[h]
			w.ghi[h] += ghi / solarSamples
			i0 := 1367 * (1 + 0.033*math.Cos(2*math.Pi*float64(t.UTC().YearDay())/365))
			kt := math.Min(ghi/(i0*su), 1)
			dhi := ghi * erbs(kt)
			dni := 0.0
			if su > 0.05 {
				dni = (ghi - dhi) / su
			} else {
				dhi = ghi
			}
			for a, ar := range arrays {
				cosT := math.Max(se*ar.e+sn*ar.n+su*ar.u, 0)
				poa := dni*cosT + dhi*ar.skyView + ghi*ar.groundView
				tc := ta + (noctC-20)/800*poa
				kw := poa / 1000 * ar.pr * (1 - tempCoeff*math.Max(tc-25, 0))
				w.pv[a][h] += math.Min(math.Max(kw, 0), 1) / solarSamples
			}
		}
	}
}

const (
	forecastSigma      = 0.5
	forecastPhi        = 0.97
	forecastMissP      = 0.15
	forecastFalseP     = 0.15
	forecastDryMM      = 0.5
	forecastFalseMinMM = 5.0
	forecastFalseMaxMM = 40.0
)

func (g *gen) rainForecast(w *weather) {
	r := g.stream(streamForecast)
	nh := (g.genDays - 1) * 24 // every issue with a full 24 h of realised rain ahead
	nd := g.genDays - 1
	miss := make([]bool, nd)
	falseMM := make([]float64, nd)
	for d := range nd {
		miss[d] = r.Float64() < forecastMissP
		x, amp := r.Float64(), uniform(r, forecastFalseMinMM, forecastFalseMaxMM)
		if x < forecastFalseP {
			falseMM[d] = amp
		}
	}
	truth := w.truth24(nh)
	fc := make([]float64, nh)
	z := r.NormFloat64()
	for h := range nh {
		if h > 0 {
			z = forecastPhi*z + math.Sqrt(1-forecastPhi*forecastPhi)*r.NormFloat64()
		}
		d := h / 24
		var f float64
		if truth[h] < forecastDryMM {
			f = falseMM[d]
		} else {
			f = truth[h] * math.Exp(forecastSigma*z-forecastSigma*forecastSigma/2)
			if miss[d] {
				f /= 2
			}
		}
		fc[h] = math.Round(f*10) / 10
	}
	w.forecastMM = fc[:g.hours]
}

// truth24 is the realised rain of the 24 hours from each hour of the horizon (mm).
func (w *weather) truth24(hours int) []float64 {
	out := make([]float64, hours)
	for h := range out {
		for _, mm := range w.rainMM[h : h+24] {
			out[h] += mm
		}
	}
	return out
}
