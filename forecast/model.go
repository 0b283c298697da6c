// Package forecast predicts hourly series — loads, PV, EV demand, occupancy, water —
// with models chosen by measurement, reports calibrated intervals, backtests honestly
// (every forecast sees only data before its origin) and detects anomalies.
//
// Models: seasonal naive (daily, weekly); robust day profiles (the median of the last
// k days at each hour, and the median over the last k days of the same day type —
// working day or day off, from a configurable holiday table — which suits spiky
// household loads: under MAE-based scores the conditional median is the best point
// forecast); additive Holt–Winters with a daily season; and a combination weighted by
// each member's recent backtest error. Intervals are conformal: the empirical 10 % and
// 90 % quantiles of each model's own errors, by hour of the horizon, over the forecasts
// it made in the preceding weeks. Metrics follow the M4/M5 conventions (REFERENCES.md:
// forecast metrics).
package forecast

import (
	"math"
	"sort"
	"time"
)

// Model makes a point forecast of h steps from a history that ends just before t0.
// A model must not look at anything but hist: the backtest hands it exactly the rows
// before the origin.
type Model interface {
	Name() string
	// Predict returns h values for the steps starting at t0 (one step = one hour).
	Predict(hist []float64, t0 time.Time, h int) []float64
}

// SeasonalNaive repeats the last season: ŷ(t+k) = y(t+k−m·⌈k/m⌉).
type SeasonalNaive struct {
	Period int
	Label  string
}

// Name implements Model.
func (s SeasonalNaive) Name() string { return s.Label }

// Predict implements Model.
func (s SeasonalNaive) Predict(hist []float64, _ time.Time, h int) []float64 {
	out := make([]float64, h)
	n := len(hist)
	for k := range h {
		back := s.Period * ((k / s.Period) + 1)
		if n-back+k%s.Period >= 0 {
			out[k] = hist[n-back+k%s.Period]
		}
	}
	return out
}

// DayProfile forecasts each hour as a quantile (the median by default) of the same
// hour over the last Days days.
type DayProfile struct {
	Days     int
	Quantile float64 // 0 means the median
	Label    string
}

// Name implements Model.
func (p DayProfile) Name() string { return p.Label }

// Predict implements Model.
func (p DayProfile) Predict(hist []float64, t0 time.Time, h int) []float64 {
	q := p.Quantile
	if q == 0 {
		q = 0.5
	}
	n := len(hist)
	out := make([]float64, h)
	vals := make([]float64, 0, p.Days)
	for k := range h {
		vals = vals[:0]
		for d := 1 + k/24; d <= p.Days+k/24; d++ {
			if i := n - 24*d + k; i >= 0 && i < n {
				vals = append(vals, hist[i])
			}
		}
		out[k] = quantile(vals, q)
	}
	return out
}

// Calendar says which days are days off (weekends and a holiday table).
type Calendar struct {
	Weekend  map[time.Weekday]bool
	Holidays map[string]bool // "2006-01-02"
	// Workdays are weekend days made working days (China's adjusted working Saturdays).
	Workdays map[string]bool
}

// DefaultCalendar has Saturday and Sunday off and no holidays.
func DefaultCalendar() Calendar {
	return Calendar{Weekend: map[time.Weekday]bool{time.Saturday: true, time.Sunday: true}}
}

// Off reports whether the day of t is a day off.
func (c Calendar) Off(t time.Time) bool {
	d := t.Format("2006-01-02")
	if c.Workdays[d] {
		return false
	}
	return c.Holidays[d] || c.Weekend[t.Weekday()]
}

// DayTypeProfile forecasts each hour as the median of that hour over the last Days
// days of the same type (working day or day off) as the target day. With Decay in
// (0, 1) the median is weighted, the j-th most recent day by Decay^j.
type DayTypeProfile struct {
	Days     int
	Decay    float64
	Calendar Calendar
	Label    string
}

// Name implements Model.
func (p DayTypeProfile) Name() string { return p.Label }

// Predict implements Model.
func (p DayTypeProfile) Predict(hist []float64, t0 time.Time, h int) []float64 {
	n := len(hist)
	out := make([]float64, h)
	vals := make([]float64, 0, p.Days)
	for k := range h {
		target := t0.Add(time.Duration(k) * time.Hour)
		off := p.Calendar.Off(target)
		vals = vals[:0]
		// Walk back whole days from the target hour, keeping days of the same type.
		for d := 1; len(vals) < p.Days; d++ {
			i := n + k - 24*d
			if i < 0 {
				break
			}
			if i >= n {
				continue
			}
			if p.Calendar.Off(target.AddDate(0, 0, -d)) == off {
				vals = append(vals, hist[i])
			}
		}
		if p.Decay > 0 && p.Decay < 1 {
			out[k] = weightedMedian(vals, p.Decay)
		} else {
			out[k] = quantile(vals, 0.5)
		}
	}
	return out
}

// weightedMedian is the median of vals (most recent first) with weights decay^j.
func weightedMedian(vals []float64, decay float64) float64 {
	if len(vals) == 0 {
		return math.NaN()
	}
	type vw struct{ v, w float64 }
	xs := make([]vw, len(vals))
	tot, w := 0.0, 1.0
	for j, v := range vals {
		xs[j] = vw{v, w}
		tot += w
		w *= decay
	}
	sort.Slice(xs, func(a, b int) bool { return xs[a].v < xs[b].v })
	c := 0.0
	for _, x := range xs {
		c += x.w
		if c >= tot/2 {
			return x.v
		}
	}
	return xs[len(xs)-1].v
}

// quantile is the linear-interpolation quantile of vals (sorted in place); NaN if empty.
func quantile(vals []float64, q float64) float64 {
	if len(vals) == 0 {
		return math.NaN()
	}
	sort.Float64s(vals)
	x := q * float64(len(vals)-1)
	lo := int(x)
	if lo >= len(vals)-1 {
		return vals[len(vals)-1]
	}
	return vals[lo] + (vals[lo+1]-vals[lo])*(x-float64(lo))
}
