package forecast

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Series is one named hourly series with its timestamps.
type Series struct {
	Name   string
	Times  []time.Time
	Values []float64
}

// Protocol fixes how a backtest is run.
type Protocol struct {
	Season   int `json:"season"`    // seasonal period m for MASE/RMSSE scales and snaive
	Horizon  int `json:"horizon"`   // steps forecast from each origin
	Step     int `json:"step"`      // steps between origins
	TestDays int `json:"test_days"` // origins are the midnights of the last TestDays days
	// ScaleRows, when > 0, fixes the MASE/RMSSE scale to rows [0, ScaleRows) (the
	// ETTh1 convention); otherwise the scale is over all rows before each origin.
	ScaleRows int `json:"scale_rows,omitempty"`
	// FirstOrigin/EndRow, when EndRow > 0, place origins at midnights in
	// [FirstOrigin, EndRow−Horizon] instead of the last TestDays days.
	FirstOrigin int `json:"first_origin,omitempty"`
	EndRow      int `json:"end_row,omitempty"`
	// Calibration is how many earlier origins calibrate intervals and weights.
	Calibration int `json:"calibration_origins"`
	// Coverage is the central interval reported (0.8 → P10–P90).
	Coverage float64 `json:"interval"`
}

// DefaultProtocol is day-ahead from midnight over the last 56 days, 28 origins of
// calibration, 80 % intervals.
func DefaultProtocol() Protocol {
	return Protocol{Season: 24, Horizon: 24, Step: 24, TestDays: 56, Calibration: 28, Coverage: 0.8}
}

// Score is a model's accuracy on one series or overall.
type Score struct {
	MASE       float64 `json:"mase"`
	SMAPE      float64 `json:"smape"`
	RMSSE      float64 `json:"rmsse"`
	Pinball    float64 `json:"pinball"` // mean of the P10 and P90 pinball losses, scaled like MASE
	Coverage80 float64 `json:"coverage80"`
	Origins    int     `json:"origins"`
}

// SeriesResult is every model's score on one series.
type SeriesResult struct {
	Name   string           `json:"name"`
	Models map[string]Score `json:"models"`
	// Filled counts values that were missing (NaN) and filled by interpolation.
	Filled int `json:"filled,omitempty"`
}

// Result is a whole backtest.
type Result struct {
	Protocol Protocol       `json:"protocol"`
	Models   []NamedScore   `json:"models"`
	Best     NamedScore     `json:"best"`
	Series   []SeriesResult `json:"series"`
	Seconds  float64        `json:"seconds"`
	Origins  int            `json:"origins_per_series"`
}

// NamedScore is a model's overall score (means over all series × origins).
type NamedScore struct {
	Name string `json:"name"`
	Score
}

// Combination names the inverse-error-weighted combination of the base models.
const Combination = "combination"

// DefaultModels are the candidates every backtest compares; cal supplies day types.
func DefaultModels(season int, cal Calendar) []Model {
	return []Model{
		SeasonalNaive{Period: season, Label: "snaive"},
		SeasonalNaive{Period: 7 * season, Label: "snaive_weekly"},
		DayProfile{Days: 14, Label: "median14"},
		DayTypeProfile{Days: 10, Calendar: cal, Label: "daytype_median10"},
		DayTypeProfile{Days: 14, Decay: 0.9, Calendar: cal, Label: "daytype_wmedian14"},
		HoltWinters{Period: season, Window: 8 * 7 * season, Label: "holt_winters"},
	}
}

// ErrInput marks unusable input: too short, constant, non-monotonic time.
var ErrInput = errors.New("forecast: unusable input")

// Backtest runs every model on every series over the protocol's origins.
func Backtest(series []Series, models []Model, p Protocol) (*Result, error) {
	start := time.Now()
	if p.Season <= 0 || p.Horizon <= 0 || p.Step <= 0 {
		return nil, fmt.Errorf("%w: season, horizon and step must be > 0", ErrInput)
	}
	res := &Result{Protocol: p}
	type job struct {
		i int
		s Series
	}
	out := make([]SeriesResult, len(series))
	errs := make([]error, len(series))
	var wg sync.WaitGroup
	jobs := make(chan job)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				out[j.i], errs[j.i] = backtestSeries(j.s, models, p)
			}
		}()
	}
	for i, s := range series {
		jobs <- job{i, s}
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res.Series = out
	names := append(modelNames(models), Combination)
	for _, name := range names {
		var sum Score
		n := 0
		for _, s := range out {
			sc, ok := s.Models[name]
			if !ok {
				continue
			}
			w := float64(sc.Origins)
			sum.MASE += sc.MASE * w
			sum.SMAPE += sc.SMAPE * w
			sum.RMSSE += sc.RMSSE * w
			sum.Pinball += sc.Pinball * w
			sum.Coverage80 += sc.Coverage80 * w
			n += sc.Origins
		}
		if n == 0 {
			continue
		}
		f := 1 / float64(n)
		sum.MASE, sum.SMAPE, sum.RMSSE, sum.Pinball, sum.Coverage80 = sum.MASE*f, sum.SMAPE*f, sum.RMSSE*f, sum.Pinball*f, sum.Coverage80*f
		sum.Origins = n
		res.Models = append(res.Models, NamedScore{Name: name, Score: sum})
	}
	for _, m := range res.Models {
		if res.Best.Name == "" || m.MASE < res.Best.MASE {
			res.Best = m
		}
	}
	if len(out) > 0 {
		res.Origins = out[0].Models["snaive"].Origins
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func modelNames(ms []Model) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name()
	}
	return out
}

// origins returns the origin rows of a series under p.
func origins(n int, times []time.Time, p Protocol) ([]int, error) {
	var out []int
	first, end := n-p.TestDays*24, n
	if p.EndRow > 0 {
		first, end = p.FirstOrigin, min(p.EndRow, n)
	}
	for o := max(first, 0); o+p.Horizon <= end; o += 1 {
		if times[o].Hour() == 0 && times[o].Minute() == 0 {
			out = append(out, o)
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no midnight origin in the test range", ErrInput)
	}
	for o := out[0] + p.Step; o+p.Horizon <= end; o += p.Step {
		out = append(out, o)
	}
	return out, nil
}

func backtestSeries(s Series, models []Model, p Protocol) (SeriesResult, error) {
	r := SeriesResult{Name: s.Name, Models: map[string]Score{}}
	y, filled, err := Clean(s)
	if err != nil {
		return r, err
	}
	r.Filled = filled
	n := len(y)
	test, err := origins(n, s.Times, p)
	if err != nil {
		return r, fmt.Errorf("%s: %w", s.Name, err)
	}
	// Calibration origins precede the first test origin at the same step.
	var all []int
	for k := p.Calibration; k >= 1; k-- {
		if o := test[0] - k*p.Step; o >= 2*p.Season+7*24 {
			all = append(all, o)
		}
	}
	nCal := len(all)
	all = append(all, test...)
	if test[0] < 3*p.Season {
		return r, fmt.Errorf("%w: %s: %d rows of history before the first origin, want at least %d", ErrInput, s.Name, test[0], 3*p.Season)
	}
	// MASE scale: mean |y_t − y_{t−m}| over the scale rows.
	abs := make([]float64, n+1) // prefix sums of |y_t − y_{t−m}|
	sq := make([]float64, n+1)
	for t := 1; t <= n; t++ {
		abs[t], sq[t] = abs[t-1], sq[t-1]
		if i := t - 1; i >= p.Season {
			d := y[i] - y[i-p.Season]
			abs[t] += math.Abs(d)
			sq[t] += d * d
		}
	}
	scale := func(o int) (mae, mse float64) {
		end := o
		if p.ScaleRows > 0 {
			end = p.ScaleRows
		}
		cnt := float64(end - p.Season)
		return abs[end] / cnt, sq[end] / cnt
	}
	// Forecasts of every model at every origin.
	names := append(modelNames(models), Combination)
	fc := make([][][]float64, len(names)) // [model][origin][h]
	for mi, m := range models {
		fc[mi] = make([][]float64, len(all))
		for oi, o := range all {
			f := m.Predict(y[:o], s.Times[o], p.Horizon)
			for k, v := range f {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					f[k] = y[o-1] // a model that cannot forecast falls back to the last value
				}
			}
			fc[mi][oi] = f
		}
	}
	// Combination: weights ∝ 1 / (recent MAE) over the calibration window, using only
	// origins whose outcomes were known before the current origin.
	ci := len(models)
	fc[ci] = make([][]float64, len(all))
	for oi, o := range all {
		w := make([]float64, len(models))
		tot := 0.0
		for mi := range models {
			mae, cnt := 0.0, 0
			for pj := max(0, oi-p.Calibration); pj < oi; pj++ {
				if all[pj]+p.Horizon > o {
					continue
				}
				for k, v := range fc[mi][pj] {
					mae += math.Abs(y[all[pj]+k] - v)
					cnt++
				}
			}
			if cnt > 0 && mae > 0 {
				w[mi] = float64(cnt) / mae
			}
		}
		// Keep the two members with the lowest recent error, weighted by inverse error.
		keep := slices.Clone(w)
		slices.Sort(keep)
		for mi := range w {
			if len(keep) > 2 && w[mi] < keep[len(keep)-2] {
				w[mi] = 0
			}
			tot += w[mi]
		}
		f := make([]float64, p.Horizon)
		for k := range f {
			for mi := range models {
				if tot > 0 {
					f[k] += w[mi] / tot * fc[mi][oi][k]
				} else {
					f[k] += fc[mi][oi][k] / float64(len(models))
				}
			}
		}
		fc[ci][oi] = f
	}
	// Scores over the test origins, with conformal intervals from earlier errors.
	lo, hi := (1-p.Coverage)/2, 1-(1-p.Coverage)/2
	for mi, name := range names {
		var sc Score
		for oi := nCal; oi < len(all); oi++ {
			o := all[oi]
			mae, mse := scale(o)
			if mae <= 0 {
				return r, fmt.Errorf("%w: %s is constant over its history (MASE scale 0); forecast it as a constant or drop it", ErrInput, s.Name)
			}
			// Residuals of this model at each horizon step over the calibration window.
			var sumAE, sumSE, sumS, pin float64
			covered := 0
			for k := range p.Horizon {
				// Split-conformal interval from this model's errors at horizon steps k−1..k+1
				// over the calibration origins, with the finite-sample rank correction.
				res := make([]float64, 0, 3*p.Calibration)
				for pj := max(0, oi-p.Calibration); pj < oi; pj++ {
					if all[pj]+p.Horizon > o {
						continue
					}
					for kk := max(0, k-1); kk <= min(p.Horizon-1, k+1); kk++ {
						res = append(res, y[all[pj]+kk]-fc[mi][pj][kk])
					}
				}
				f := fc[mi][oi][k]
				a := y[o+k]
				qlo, qhi := f, f
				if len(res) >= 5 {
					slices.Sort(res)
					nr := float64(len(res))
					iLo := int(math.Floor((nr+1)*lo)) - 1
					iHi := int(math.Ceil((nr+1)*hi)) - 1
					qlo, qhi = f+res[max(iLo, 0)], f+res[min(iHi, len(res)-1)]
				}
				if a >= qlo && a <= qhi {
					covered++
				}
				pin += pinball(a, qlo, lo) + pinball(a, qhi, hi)
				e := a - f
				sumAE += math.Abs(e)
				sumSE += e * e
				if d := math.Abs(a) + math.Abs(f); d > 0 {
					sumS += 200 * math.Abs(e) / d
				}
			}
			h := float64(p.Horizon)
			sc.MASE += sumAE / h / mae
			sc.RMSSE += math.Sqrt(sumSE / h / mse)
			sc.SMAPE += sumS / h
			sc.Pinball += pin / (2 * h) / mae
			sc.Coverage80 += float64(covered) / h
			sc.Origins++
		}
		f := 1 / float64(sc.Origins)
		sc.MASE, sc.RMSSE, sc.SMAPE, sc.Pinball, sc.Coverage80 = sc.MASE*f, sc.RMSSE*f, sc.SMAPE*f, sc.Pinball*f, sc.Coverage80*f
		r.Models[name] = sc
	}
	return r, nil
}

// pinball is the quantile loss of forecast q at level tau for outcome y.
func pinball(y, q, tau float64) float64 {
	if y >= q {
		return tau * (y - q)
	}
	return (1 - tau) * (q - y)
}

// Clean checks timestamps (strictly increasing, hourly) and fills missing values
// (NaN) by linear interpolation, returning how many it filled. A series with a
// timestamp going backwards, a duplicate, or a gap is refused: the caller must
// resample first, because a silent shift would misalign every seasonal lag.
func Clean(s Series) ([]float64, int, error) {
	n := len(s.Values)
	if n != len(s.Times) {
		return nil, 0, fmt.Errorf("%w: %s: %d values for %d timestamps", ErrInput, s.Name, n, len(s.Times))
	}
	for i := 1; i < n; i++ {
		switch d := s.Times[i].Sub(s.Times[i-1]); {
		case d == 0:
			return nil, 0, fmt.Errorf("%w: %s: duplicate timestamp %s at row %d", ErrInput, s.Name, s.Times[i].Format(time.RFC3339), i+1)
		case d < 0:
			return nil, 0, fmt.Errorf("%w: %s: timestamp goes backwards at row %d (%s after %s)", ErrInput, s.Name, i+1, s.Times[i].Format(time.RFC3339), s.Times[i-1].Format(time.RFC3339))
		}
	}
	for i := 1; i < n; i++ {
		if d := s.Times[i].Sub(s.Times[i-1]); d != time.Hour {
			return nil, 0, fmt.Errorf("%w: %s: gap of %s at row %d (%s): the series must be hourly; resample or fill it", ErrInput, s.Name, d, i+1, s.Times[i].Format(time.RFC3339))
		}
	}
	y := slices.Clone(s.Values)
	filled := 0
	last := -1
	for i := 0; i < n; i++ {
		if !math.IsNaN(y[i]) && !math.IsInf(y[i], 0) {
			if last >= 0 && i-last > 1 {
				for j := last + 1; j < i; j++ {
					y[j] = y[last] + (y[i]-y[last])*float64(j-last)/float64(i-last)
					filled++
				}
			}
			last = i
		}
	}
	if last < 0 {
		return nil, 0, fmt.Errorf("%w: %s has no finite value", ErrInput, s.Name)
	}
	for i := range y { // leading and trailing gaps take the nearest value
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			j := i
			for j < n && (math.IsNaN(y[j]) || math.IsInf(y[j], 0)) {
				j++
			}
			v := y[last]
			if j < n {
				v = y[j]
			} else if i > 0 {
				v = y[i-1]
			}
			y[i] = v
			filled++
		}
	}
	return y, filled, nil
}
