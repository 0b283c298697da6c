package privacy

import (
	"fmt"
	"math"
	"math/big"
)

// Mechanism names as they appear in a [Result].
const (
	NameDiscreteLaplace  = "discrete-laplace"
	NameDiscreteGaussian = "discrete-gaussian"
)

// EpsilonResolution is the grid to which [NewLaplace] rounds ε down.
const EpsilonResolution = 1e-6

const epsilonGrid = 1_000_000 // 1/EpsilonResolution

// sigma2Margin inflates the floating-point Gaussian calibration before it is
// rounded up to a rational, so float rounding in ln, sqrt and division (a few
// ulps, ~1e-15 relative) can never make σ² smaller than the bound requires.
const sigma2Margin = 1e-9

// Mechanism is a privacy guarantee plus a noise family: it turns an integer
// query of known sensitivity into a noisy answer that is (Epsilon, Delta)-DP
// under add/remove-one-household neighbouring. The implementations are
// [*Laplace] and [*Gaussian]; the set is closed because the ledger trusts
// Epsilon and Delta.
type Mechanism interface {
	// Name is NameDiscreteLaplace or NameDiscreteGaussian.
	Name() string
	// Epsilon and Delta are what one use of the mechanism costs, to be passed
	// to [Ledger.Spend] before the release.
	Epsilon() float64
	Delta() float64

	calibrate(sensitivity int64) (noise, error)
	// halve returns a mechanism of the same family whose cost, used twice,
	// sums to at most this one's under basic composition.
	halve() (Mechanism, error)
}

// noise is a mechanism bound to one sensitivity.
type noise struct {
	sample     func(Source) (int64, bool)
	scaleParam string   // "t" (Laplace scale) or "sigma2"
	scale      *big.Rat // exact
	rho        float64  // zCDP ρ, Gaussian only
}

// Laplace is the pure ε-DP discrete Laplace mechanism: noise of scale
// t = Δ/ε for L1 sensitivity Δ.
type Laplace struct {
	eps *big.Rat // exact ε used for calibration
}

// NewLaplace returns the discrete Laplace mechanism for ε. The decimal value of
// epsilon is rounded down to a multiple of [EpsilonResolution] so the scale
// Δ/ε is a small exact rational and the noise is never less than stated;
// Epsilon reports the rounded value. ε must be at least EpsilonResolution.
func NewLaplace(epsilon float64) (*Laplace, error) {
	if err := checkEpsilon("epsilon", epsilon); err != nil {
		return nil, err
	}
	scaled := decimal(epsilon)
	scaled.Mul(scaled, new(big.Rat).SetInt64(epsilonGrid))
	num := new(big.Int).Quo(scaled.Num(), scaled.Denom()) // floor, both positive
	if num.Sign() == 0 {
		return nil, fmt.Errorf("%w: epsilon %v is below the resolution %v", ErrInvalidParameter, epsilon, EpsilonResolution)
	}
	if num.Cmp(big.NewInt(maxScaleTerm)) >= 0 {
		return nil, fmt.Errorf("%w: epsilon %v is too large", ErrInvalidParameter, epsilon)
	}
	return &Laplace{eps: new(big.Rat).SetFrac(num, big.NewInt(epsilonGrid))}, nil
}

// Name returns NameDiscreteLaplace.
func (*Laplace) Name() string { return NameDiscreteLaplace }

// Epsilon returns the ε the noise is calibrated to.
func (m *Laplace) Epsilon() float64 { return floatUp(m.eps) }

// Delta returns 0: the mechanism is pure DP.
func (*Laplace) Delta() float64 { return 0 }

// Calibrate returns the discrete Laplace distribution of scale Δ/ε for an
// integer query of L1 sensitivity Δ ≥ 1.
func (m *Laplace) Calibrate(sensitivity int64) (DiscreteLaplace, error) {
	if sensitivity < 1 {
		return DiscreteLaplace{}, fmt.Errorf("%w: sensitivity must be ≥ 1, got %d", ErrInvalidParameter, sensitivity)
	}
	scale := new(big.Rat).SetInt64(sensitivity)
	scale.Quo(scale, m.eps)
	return NewDiscreteLaplace(scale)
}

func (m *Laplace) calibrate(sensitivity int64) (noise, error) {
	d, err := m.Calibrate(sensitivity)
	if err != nil {
		return noise{}, err
	}
	return noise{sample: d.sample, scaleParam: "t", scale: d.Scale()}, nil
}

func (m *Laplace) halve() (Mechanism, error) {
	half := new(big.Rat).Quo(m.eps, big.NewRat(2, 1))
	// Keep ε a printable decimal so Epsilon() states it exactly.
	eps := decimal(floatDown(half))
	if eps.Sign() <= 0 {
		return nil, fmt.Errorf("%w: epsilon %v too small to split", ErrInvalidParameter, m.Epsilon())
	}
	return &Laplace{eps: eps}, nil
}

// Gaussian is the discrete Gaussian mechanism for (ε, δ)-DP, calibrated
// through zero-concentrated DP:
//
//   - noise N_ℤ(0, σ²) on a query of L2 sensitivity Δ is ρ-zCDP with
//     ρ = Δ²/(2σ²) (Canonne, Kamath & Steinke 2020, Theorem 4);
//   - ρ-zCDP implies (ρ + 2√(ρ ln(1/δ)), δ)-DP for every δ > 0
//     (Bun & Steinke 2016, Proposition 1.3).
//
// Solving ρ + 2√(ρ L) = ε with L = ln(1/δ) gives
// ρ = (√(L+ε) − √L)² = ε²/(√(L+ε) + √L)², and σ² = Δ²/(2ρ), rounded up to a
// multiple of 10⁻⁶ after a 10⁻⁹ relative safety margin. The bound holds for
// every ε > 0, unlike the classical σ = Δ√(2 ln(1.25/δ))/ε, which needs ε < 1
// and is proved for the continuous Gaussian only; it costs about 1% more noise
// at ε = 1, δ = 10⁻⁶.
type Gaussian struct {
	eps, delta float64
	rho        float64 // target ρ
}

// NewGaussian returns the discrete Gaussian mechanism for (ε, δ), ε > 0 and
// 0 < δ < 1.
func NewGaussian(epsilon, delta float64) (*Gaussian, error) {
	if err := checkEpsilon("epsilon", epsilon); err != nil {
		return nil, err
	}
	if err := checkDelta("delta", delta, false); err != nil {
		return nil, err
	}
	l := -math.Log(delta)
	r := epsilon / (math.Sqrt(l+epsilon) + math.Sqrt(l))
	return &Gaussian{eps: epsilon, delta: delta, rho: r * r}, nil
}

// Name returns NameDiscreteGaussian.
func (*Gaussian) Name() string { return NameDiscreteGaussian }

// Epsilon returns the ε of the (ε, δ) guarantee.
func (m *Gaussian) Epsilon() float64 { return m.eps }

// Delta returns the δ of the (ε, δ) guarantee.
func (m *Gaussian) Delta() float64 { return m.delta }

// Rho returns the zCDP ρ the calibration targets; each calibrated noise is
// ρ'-zCDP for some ρ' ≤ Rho (reported per statistic in a [Result]).
func (m *Gaussian) Rho() float64 { return m.rho }

// Calibrate returns the discrete Gaussian for an integer query of L2
// sensitivity Δ ≥ 1, with σ² as documented on [Gaussian].
func (m *Gaussian) Calibrate(sensitivity int64) (DiscreteGaussian, error) {
	if sensitivity < 1 {
		return DiscreteGaussian{}, fmt.Errorf("%w: sensitivity must be ≥ 1, got %d", ErrInvalidParameter, sensitivity)
	}
	d := float64(sensitivity)
	sigma2 := d * d / (2 * m.rho) * (1 + sigma2Margin)
	if math.IsInf(sigma2, 0) || math.IsNaN(sigma2) {
		return DiscreteGaussian{}, fmt.Errorf("%w: (epsilon %v, delta %v) with sensitivity %d gives an unrepresentable sigma", ErrInvalidParameter, m.eps, m.delta, sensitivity)
	}
	f := new(big.Float).SetPrec(256).SetFloat64(sigma2)
	f.Mul(f, new(big.Float).SetInt64(epsilonGrid))
	num, acc := f.Int(nil)
	if acc == big.Below {
		num.Add(num, bigOne) // ceil
	}
	if num.Sign() == 0 {
		num.SetInt64(1)
	}
	return NewDiscreteGaussian(new(big.Rat).SetFrac(num, big.NewInt(epsilonGrid)))
}

func (m *Gaussian) calibrate(sensitivity int64) (noise, error) {
	g, err := m.Calibrate(sensitivity)
	if err != nil {
		return noise{}, err
	}
	// ρ' = Δ²/(2σ²) exactly, stated rounded up.
	rho := new(big.Rat).SetInt64(sensitivity)
	rho.Mul(rho, rho)
	rho.Quo(rho, new(big.Rat).Mul(big.NewRat(2, 1), g.sigma2))
	return noise{sample: g.sample, scaleParam: "sigma2", scale: g.Sigma2(), rho: floatUp(rho)}, nil
}

func (m *Gaussian) halve() (Mechanism, error) {
	two := big.NewRat(2, 1)
	eps := floatDown(new(big.Rat).Quo(decimal(m.eps), two))
	delta := floatDown(new(big.Rat).Quo(decimal(m.delta), two))
	return NewGaussian(eps, delta)
}

// Interface guards.
var (
	_ Mechanism = (*Laplace)(nil)
	_ Mechanism = (*Gaussian)(nil)
)
