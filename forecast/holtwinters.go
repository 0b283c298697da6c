package forecast

import (
	"math"
	"time"
)

// HoltWinters is additive Holt–Winters (level + seasonal, no trend: hourly loads have
// none worth extrapolating a day ahead) fitted on the last Window steps: α and γ are
// chosen on a grid by the sum of squared one-step errors, the state is run through the
// window and the seasonal profile projected.
type HoltWinters struct {
	Period int
	Window int
	Label  string
}

// Name implements Model.
func (m HoltWinters) Name() string { return m.Label }

var hwGrid = []float64{0.02, 0.05, 0.1, 0.2, 0.35, 0.5}

// Predict implements Model.
func (m HoltWinters) Predict(hist []float64, _ time.Time, h int) []float64 {
	p := m.Period
	w := min(m.Window, len(hist))
	w -= w % p
	out := make([]float64, h)
	if w < 3*p {
		return SeasonalNaive{Period: p}.Predict(hist, time.Time{}, h)
	}
	x := hist[len(hist)-w:]
	best, bestSSE := [2]float64{}, math.Inf(1)
	for _, a := range hwGrid {
		for _, g := range hwGrid {
			if sse, _, _ := hwRun(x, p, a, g); sse < bestSSE {
				best, bestSSE = [2]float64{a, g}, sse
			}
		}
	}
	_, level, season := hwRun(x, p, best[0], best[1])
	for k := range h {
		out[k] = level + season[(len(x)+k)%p]
	}
	return out
}

// hwRun filters x with smoothing α (level) and γ (season), initialised from the first
// two periods; it returns the one-step SSE and the final state.
func hwRun(x []float64, p int, alpha, gamma float64) (sse, level float64, season []float64) {
	season = make([]float64, p)
	for i := range p {
		level += (x[i] + x[p+i]) / 2
	}
	level /= float64(p)
	for i := range p {
		season[i] = (x[i]+x[p+i])/2 - level
	}
	for t := 2 * p; t < len(x); t++ {
		s := season[t%p]
		e := x[t] - (level + s)
		sse += e * e
		newLevel := alpha*(x[t]-s) + (1-alpha)*level
		season[t%p] = gamma*(x[t]-newLevel) + (1-gamma)*s
		level = newLevel
	}
	return sse, level, season
}
