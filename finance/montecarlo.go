package finance

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// RiskView is the Monte Carlo summary. CF is the distributable amount averaged over the
// first cfar_years years; CFaR = E[CF] − q_α(CF). Distribution rates are the same
// years' average distribution on the issue amount.
type RiskView struct {
	Paths                 int     `json:"paths"`
	Seed                  uint64  `json:"seed"`
	Workers               int     `json:"workers"`
	CFaRYears             int     `json:"cfar_years"`
	ExpectedDistributable Fen     `json:"expected_distributable"`
	CFaR95                Fen     `json:"cfar95"`
	CFaR99                Fen     `json:"cfar99"`
	DistributionRateP5    float64 `json:"distribution_rate_p5"`
	DistributionRateP50   float64 `json:"distribution_rate_p50"`
	DistributionRateP95   float64 `json:"distribution_rate_p95"`
	PDSCRBreach           float64 `json:"p_dscr_breach"`
	CovenantDSCR          float64 `json:"covenant_dscr"`
	NAVMean               Fen     `json:"nav_mean"`
	NAVVaR95              Fen     `json:"nav_var95"`
	// Fan is the distributable amount by year: percentiles 5, 25, 50, 75, 95.
	Fan []FanYear `json:"fan"`
}

// FanYear is one year of the fan chart.
type FanYear struct {
	Year int     `json:"year"`
	P5   float64 `json:"p5"`
	P25  float64 `json:"p25"`
	P50  float64 `json:"p50"`
	P75  float64 `json:"p75"`
	P95  float64 `json:"p95"`
}

// mcResult holds every path's figures, indexed by path so the result does not depend on
// how paths were spread over workers.
type mcResult struct {
	paths     int
	cf        []float64 // CFaR metric
	rate      []float64 // distribution rate metric
	minDSCR   []float64
	nav       []float64
	annual    []float64 // paths × years distributable
	shortfall []bool    // paths × tranches
	el        []float64 // paths × tranches
	workers   int
}

// monteCarlo runs paths in parallel. Path i draws from its own PCG stream seeded by
// (seed, i), so the result is the same for any number of workers.
func (m *model) monteCarlo(ctx context.Context, paths int, seed uint64, workers int, progress func(done, total int)) (*mcResult, error) {
	if paths <= 0 {
		return nil, fmt.Errorf("finance: Monte Carlo needs at least one path")
	}
	if len(m.d.Risk.Drivers) == 0 {
		return nil, fmt.Errorf("risk.drivers: none given, nothing to simulate")
	}
	cop, err := newCopula(&m.d.Risk)
	if err != nil {
		return nil, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, paths)
	nt, ny := len(m.tr), m.years
	res := &mcResult{paths: paths, workers: workers, cf: make([]float64, paths), rate: make([]float64, paths), minDSCR: make([]float64, paths),
		nav: make([]float64, paths), annual: make([]float64, paths*ny), shortfall: make([]bool, paths*nt), el: make([]float64, paths*nt)}
	issue := m.issueAmount().Yuan()
	nav0 := m.nav0()
	cy := min(m.d.Risk.CFaRYears, ny)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := newSim(m, false)
			k := cop.n
			shocks := make([]float64, ny*k)
			z, e := make([]float64, k), make([]float64, k)
			for {
				i := int(next.Add(1) - 1)
				if i >= paths {
					return
				}
				if i%256 == 0 && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				cop.sample(pathRand(seed, i), ny, shocks, z, e)
				if err := s.run(shocks); err != nil {
					errs[w] = fmt.Errorf("path %d: %w", i, err)
					return
				}
				o := s.out
				var cf, dist float64
				for y := 0; y < cy; y++ {
					cf += o.distributable[y]
					dist += o.distributed[y]
				}
				res.cf[i] = cf / float64(cy)
				if issue > 0 {
					res.rate[i] = dist / float64(cy) / issue
				}
				res.minDSCR[i] = o.minDSCR
				res.nav[i] = o.value + nav0
				copy(res.annual[i*ny:(i+1)*ny], o.distributable)
				for t := range m.tr {
					res.shortfall[i*nt+t] = o.shortfall[t]
					if b := m.tr[t].bal0.Yuan(); b > 0 && !m.tr[t].equity {
						res.el[i*nt+t] = lossFraction(o.pvRecv[t], b)
					}
				}
				if d := done.Add(1); progress != nil && (d%500 == 0 || int(d) == paths) {
					progress(int(d), paths)
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// nav0 is what the NAV adds to the asset's value at close: reserves less debt.
func (m *model) nav0() float64 {
	v := 0.0
	for _, r := range m.res {
		v += r.spec.Initial.Yuan()
	}
	for _, i := range m.debtIdx {
		v -= m.tr[i].bal0.Yuan()
	}
	return v
}

// issueAmount is the equity raised: units × issue price, or the equity tranche.
func (m *model) issueAmount() Fen {
	if c := m.d.CREIT; c.Units > 0 && c.IssuePrice > 0 {
		return FenFromYuan(float64(c.Units) * c.IssuePrice)
	}
	if m.equity >= 0 {
		return m.tr[m.equity].bal0
	}
	return 0
}

func (r *mcResult) view(m *model, seed uint64) *RiskView {
	v := &RiskView{Paths: r.paths, Seed: seed, Workers: r.workers, CFaRYears: min(m.d.Risk.CFaRYears, m.years), CovenantDSCR: m.d.CovenantDSCR()}
	cf := sortedCopy(r.cf)
	mean := meanOf(cf)
	v.ExpectedDistributable = FenFromYuan(mean)
	v.CFaR95 = FenFromYuan(mean - quantile(cf, 0.05))
	v.CFaR99 = FenFromYuan(mean - quantile(cf, 0.01))
	rate := sortedCopy(r.rate)
	v.DistributionRateP5, v.DistributionRateP50, v.DistributionRateP95 = quantile(rate, 0.05), quantile(rate, 0.5), quantile(rate, 0.95)
	breach := 0
	for _, d := range r.minDSCR {
		if d < v.CovenantDSCR {
			breach++
		}
	}
	v.PDSCRBreach = float64(breach) / float64(r.paths)
	nav := sortedCopy(r.nav)
	nm := meanOf(nav)
	v.NAVMean = FenFromYuan(nm)
	v.NAVVaR95 = FenFromYuan(nm - quantile(nav, 0.05))
	ny := m.years
	col := make([]float64, r.paths)
	for y := 0; y < ny; y++ {
		for p := 0; p < r.paths; p++ {
			col[p] = r.annual[p*ny+y]
		}
		sort.Float64s(col)
		v.Fan = append(v.Fan, FanYear{Year: y + 1, P5: round2(quantile(col, 0.05)), P25: round2(quantile(col, 0.25)), P50: round2(quantile(col, 0.5)),
			P75: round2(quantile(col, 0.75)), P95: round2(quantile(col, 0.95))})
	}
	return v
}

// trancheRisk is tranche t's PD (share of paths with any shortfall) and EL (mean PV loss
// over the balance).
func (r *mcResult) trancheRisk(t, nt int) (pd, el float64) {
	n := 0
	s := 0.0
	for p := 0; p < r.paths; p++ {
		if r.shortfall[p*nt+t] {
			n++
		}
		s += r.el[p*nt+t]
	}
	return float64(n) / float64(r.paths), s / float64(r.paths)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func sortedCopy(v []float64) []float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	return c
}

func meanOf(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// quantile of sorted data, linear interpolation between order statistics (type 7).
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := q * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}
