package privacy

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// Every statistical test draws from a fixed-seed PCG, so each run sees the same
// draws and the tests are deterministic; thresholds are still set as if the
// draws were fresh (p = 0.001, 4–5 standard errors), so a failure means a bug.

const statDraws = 100_000

// seeded returns a PCG whose two state words both depend on seed, so that
// nearby seeds give unrelated streams.
func seeded(seed uint64) Source {
	return rand.NewPCG(splitmix64(seed), splitmix64(seed^0x9e3779b97f4a7c15))
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// pmfTable is an exact pmf on [-m, m]; mass outside is below float precision.
type pmfTable struct {
	m int64
	p []float64 // p[x+m]
}

func (t pmfTable) at(x int64) float64 {
	if x < -t.m || x > t.m {
		return 0
	}
	return t.p[x+t.m]
}

// normalised builds a pmf from unnormalised weights over [-m, m].
func normalised(m int64, w func(x int64) float64) pmfTable {
	t := pmfTable{m: m, p: make([]float64, 2*m+1)}
	var z float64
	for x := -m; x <= m; x++ {
		t.p[x+m] = w(x)
		z += t.p[x+m]
	}
	for i := range t.p {
		t.p[i] /= z
	}
	return t
}

func (t pmfTable) moments() (mean, variance, mu4 float64) {
	for x := -t.m; x <= t.m; x++ {
		mean += float64(x) * t.at(x)
	}
	for x := -t.m; x <= t.m; x++ {
		d := float64(x) - mean
		variance += d * d * t.at(x)
		mu4 += d * d * d * d * t.at(x)
	}
	return mean, variance, mu4
}

type chiResult struct {
	stat, critical float64
	df             int
}

// chiSquare compares draws with the pmf. Cells are single integers from the
// centre outward while their expected count is ≥ 5; everything beyond is
// pooled into one tail cell per side, merged inward if still below 5.
func chiSquare(draws []int64, pmf pmfTable) chiResult {
	n := float64(len(draws))
	lo, hi := int64(0), int64(0)
	for n*pmf.at(lo-1) >= 5 {
		lo--
	}
	for n*pmf.at(hi+1) >= 5 {
		hi++
	}
	// Cells: [left tail (x < lo)], lo..hi, [right tail (x > hi)].
	var leftP, rightP float64
	for x := -pmf.m; x < lo; x++ {
		leftP += pmf.at(x)
	}
	for x := hi + 1; x <= pmf.m; x++ {
		rightP += pmf.at(x)
	}
	obs := make([]float64, hi-lo+1)
	var leftO, rightO float64
	for _, x := range draws {
		switch {
		case x < lo:
			leftO++
		case x > hi:
			rightO++
		default:
			obs[x-lo]++
		}
	}
	exp := make([]float64, len(obs))
	for i := range exp {
		exp[i] = n * pmf.at(lo+int64(i))
	}
	if n*leftP >= 5 {
		obs, exp = append([]float64{leftO}, obs...), append([]float64{n * leftP}, exp...)
	} else {
		obs[0] += leftO
		exp[0] += n * leftP
	}
	if n*rightP >= 5 {
		obs, exp = append(obs, rightO), append(exp, n*rightP)
	} else {
		obs[len(obs)-1] += rightO
		exp[len(exp)-1] += n * rightP
	}
	var stat float64
	for i := range obs {
		d := obs[i] - exp[i]
		stat += d * d / exp[i]
	}
	df := len(obs) - 1
	return chiResult{stat: stat, df: df, critical: distuv.ChiSquared{K: float64(df)}.Quantile(0.999)}
}

// checkDistribution runs the chi-square goodness-of-fit test and checks the
// sample mean and variance against the pmf's within 4 standard errors.
func checkDistribution(t *testing.T, draws []int64, pmf pmfTable) {
	t.Helper()
	chi := chiSquare(draws, pmf)
	t.Logf("chi-square = %.1f, df = %d, critical(p=0.001) = %.1f", chi.stat, chi.df, chi.critical)
	if chi.stat > chi.critical {
		t.Errorf("chi-square %.1f exceeds critical value %.1f (df %d)", chi.stat, chi.critical, chi.df)
	}

	wantMean, wantVar, mu4 := pmf.moments()
	n := float64(len(draws))
	var sum float64
	for _, x := range draws {
		sum += float64(x)
	}
	mean := sum / n
	var ss float64
	for _, x := range draws {
		d := float64(x) - mean
		ss += d * d
	}
	variance := ss / (n - 1)
	seMean := math.Sqrt(wantVar / n)
	seVar := math.Sqrt((mu4 - wantVar*wantVar) / n)
	t.Logf("mean = %.4f (want %.1f ± %.4f), variance = %.4f (want %.4f ± %.4f)", mean, wantMean, seMean, variance, wantVar, seVar)
	if math.Abs(mean-wantMean) > 4*seMean {
		t.Errorf("mean %.4f is more than 4 SE (%.4f) from %.4f", mean, seMean, wantMean)
	}
	if math.Abs(variance-wantVar) > 4*seVar {
		t.Errorf("variance %.4f is more than 4 SE (%.4f) from %.4f", variance, seVar, wantVar)
	}
}
