package finance

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Marginal is a driver's distribution. Quantile maps a uniform from the copula to a value.
type Marginal struct {
	Dist string  `json:"dist"` // normal, lognormal, uniform, triangular, bernoulli
	Mean float64 `json:"mean,omitempty"`
	SD   float64 `json:"sd,omitempty"`
	Min  float64 `json:"min,omitempty"`
	Mode float64 `json:"mode,omitempty"`
	Max  float64 `json:"max,omitempty"`
	P    float64 `json:"p,omitempty"`    // bernoulli: probability of the event
	Size float64 `json:"size,omitempty"` // bernoulli: value when the event happens
}

// Validate checks the parameters.
func (m Marginal) Validate() error {
	finite := func(v ...float64) bool {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false
			}
		}
		return true
	}
	if !finite(m.Mean, m.SD, m.Min, m.Mode, m.Max, m.P, m.Size) {
		return fmt.Errorf("parameters must be finite numbers")
	}
	switch m.Dist {
	case "normal":
		if m.SD < 0 {
			return fmt.Errorf("normal: sd %g must be ≥ 0", m.SD)
		}
	case "lognormal":
		// Mean and SD are of the variable itself (mean > 0).
		if m.Mean <= 0 || m.SD < 0 {
			return fmt.Errorf("lognormal: need mean > 0 and sd ≥ 0, got %g and %g", m.Mean, m.SD)
		}
	case "uniform":
		if m.Min > m.Max {
			return fmt.Errorf("uniform: min %g > max %g", m.Min, m.Max)
		}
	case "triangular":
		if !(m.Min <= m.Mode && m.Mode <= m.Max) || m.Min == m.Max {
			return fmt.Errorf("triangular: need min ≤ mode ≤ max and min < max, got %g, %g, %g", m.Min, m.Mode, m.Max)
		}
	case "bernoulli":
		if m.P < 0 || m.P > 1 {
			return fmt.Errorf("bernoulli: p %g must be in [0, 1]", m.P)
		}
	default:
		return fmt.Errorf("dist: %q must be normal, lognormal, uniform, triangular or bernoulli", m.Dist)
	}
	return nil
}

// Quantile is the inverse CDF at u ∈ (0, 1); z is the normal score of u (Φ⁻¹(u)),
// passed so normal marginals need no second inversion.
func (m Marginal) Quantile(u, z float64) float64 {
	switch m.Dist {
	case "normal":
		return m.Mean + m.SD*z
	case "lognormal":
		s2 := math.Log(1 + (m.SD*m.SD)/(m.Mean*m.Mean))
		mu := math.Log(m.Mean) - s2/2
		return math.Exp(mu + math.Sqrt(s2)*z)
	case "uniform":
		return m.Min + (m.Max-m.Min)*u
	case "triangular":
		a, c, b := m.Min, m.Mode, m.Max
		f := (c - a) / (b - a)
		if u < f {
			return a + math.Sqrt(u*(b-a)*(c-a))
		}
		return b - math.Sqrt((1-u)*(b-a)*(b-c))
	case "bernoulli":
		if u > 1-m.P {
			return m.Size
		}
		return 0
	}
	return math.NaN()
}

// checkCorrelation requires an n×n symmetric matrix with unit diagonal, entries in
// [−1, 1], that is positive semi-definite (its Cholesky factor exists).
func checkCorrelation(c [][]float64, n int) error {
	if len(c) != n {
		return fmt.Errorf("%d rows for %d drivers", len(c), n)
	}
	for i := range c {
		if len(c[i]) != n {
			return fmt.Errorf("row %d has %d entries, want %d", i, len(c[i]), n)
		}
		for j := range c[i] {
			v := c[i][j]
			if math.IsNaN(v) || v < -1 || v > 1 {
				return fmt.Errorf("[%d][%d] = %g is outside [-1, 1]", i, j, v)
			}
			if i == j && v != 1 {
				return fmt.Errorf("[%d][%d] = %g: the diagonal must be 1", i, j, v)
			}
			if math.Abs(v-c[j][i]) > 1e-12 {
				return fmt.Errorf("[%d][%d] = %g but [%d][%d] = %g: not symmetric", i, j, v, j, i, c[j][i])
			}
		}
	}
	if _, err := cholesky(c); err != nil {
		return err
	}
	return nil
}

// cholesky returns the lower-triangular L with L·Lᵀ = c, row-major, tolerating
// semi-definite matrices (a zero pivot gives a zero column).
func cholesky(c [][]float64) ([]float64, error) {
	n := len(c)
	l := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			s := c[i][j]
			for k := 0; k < j; k++ {
				s -= l[i*n+k] * l[j*n+k]
			}
			if i == j {
				if s < -1e-9 {
					return nil, fmt.Errorf("not positive semi-definite (pivot %d is %.3g)", i, s)
				}
				l[i*n+i] = math.Sqrt(math.Max(s, 0))
			} else if l[j*n+j] > 1e-12 {
				l[i*n+j] = s / l[j*n+j]
			} else if math.Abs(s) > 1e-9 {
				return nil, fmt.Errorf("not positive semi-definite (row %d)", i)
			}
		}
	}
	return l, nil
}

// copula draws correlated, persistent normal scores and maps them through the marginals.
type copula struct {
	n       int
	l       []float64
	phi     []float64 // AR(1) persistence per driver
	innov   []float64 // sqrt(1 − φ²)
	margins []Marginal
}

func newCopula(r *Risk) (*copula, error) {
	n := len(r.Drivers)
	c := &copula{n: n, phi: make([]float64, n), innov: make([]float64, n), margins: make([]Marginal, n)}
	corr := r.Correlation
	if corr == nil {
		corr = make([][]float64, n)
		for i := range corr {
			corr[i] = make([]float64, n)
			corr[i][i] = 1
		}
	}
	l, err := cholesky(corr)
	if err != nil {
		return nil, fmt.Errorf("risk.correlation: %w", err)
	}
	c.l = l
	for i, d := range r.Drivers {
		c.phi[i] = d.Persistence
		c.innov[i] = math.Sqrt(1 - d.Persistence*d.Persistence)
		c.margins[i] = d.Marginal
	}
	return c, nil
}

// pathRand is path i's own PCG stream: reproducible whatever the number of workers.
func pathRand(seed uint64, path int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(path)*0x9E3779B97F4A7C15+1))
}

// sample fills values[y*n+k] for years 0..years−1: ε ~ N(0, I), e = L·ε correlated,
// z_y = φ·z_{y−1} + √(1−φ²)·e_y (stationary N(0,1) scores), u = Φ(z), v = F⁻¹(u).
// z, e are scratch of length n.
func (c *copula) sample(r *rand.Rand, years int, values, z, e []float64) {
	n := c.n
	for y := 0; y < years; y++ {
		for k := 0; k < n; k++ {
			e[k] = r.NormFloat64()
		}
		for i := n - 1; i >= 0; i-- { // in place: row i uses e[0..i]
			s := 0.0
			for k := 0; k <= i; k++ {
				s += c.l[i*n+k] * e[k]
			}
			e[i] = s
		}
		for k := 0; k < n; k++ {
			if y == 0 {
				z[k] = e[k]
			} else {
				z[k] = c.phi[k]*z[k] + c.innov[k]*e[k]
			}
			u := 0.5 * math.Erfc(-z[k]/math.Sqrt2)
			values[y*n+k] = c.margins[k].Quantile(u, z[k])
		}
	}
}
