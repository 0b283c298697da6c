package privacy

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
)

// MaxScale bounds the noise scale (Laplace t/s, Gaussian ⌊σ⌋+1) so that every
// draw fits an int64 except with probability below exp(−2¹⁴): a draw
// overflows only after more than 2¹⁴ consecutive Bernoulli(exp(−1)) successes.
const MaxScale = 1 << 48

// maxScaleTerm bounds the numerator and denominator of a Laplace scale so that
// the sampler's integer arithmetic never overflows a uint64.
const maxScaleTerm = 1 << 62

// DiscreteLaplace is the discrete Laplace (two-sided geometric) distribution
// on ℤ with rational scale b = t/s:
//
//	P[X = x] = (e^{1/b} − 1)/(e^{1/b} + 1) · e^{−|x|/b}.
//
// Adding it to an integer query of L1 sensitivity Δ with b = Δ/ε is ε-DP.
// The zero value is not usable; construct with [NewDiscreteLaplace].
type DiscreteLaplace struct {
	t, s uint64 // scale t/s in lowest terms
}

// NewDiscreteLaplace returns the discrete Laplace distribution with the given
// scale, which must be positive, at most [MaxScale], with numerator and
// denominator (in lowest terms) below 2⁶².
func NewDiscreteLaplace(scale *big.Rat) (DiscreteLaplace, error) {
	if scale == nil || scale.Sign() <= 0 {
		return DiscreteLaplace{}, fmt.Errorf("%w: discrete Laplace scale must be > 0, got %v", ErrInvalidParameter, ratString(scale))
	}
	if scale.Cmp(new(big.Rat).SetInt64(MaxScale)) > 0 {
		return DiscreteLaplace{}, fmt.Errorf("%w: discrete Laplace scale %s exceeds MaxScale 2^48; use a coarser unit or a larger epsilon", ErrInvalidParameter, scale.RatString())
	}
	t, s := scale.Num(), scale.Denom()
	if !t.IsUint64() || !s.IsUint64() || t.Uint64() >= maxScaleTerm || s.Uint64() >= maxScaleTerm {
		return DiscreteLaplace{}, fmt.Errorf("%w: discrete Laplace scale %s: numerator and denominator must be below 2^62", ErrInvalidParameter, scale.RatString())
	}
	return DiscreteLaplace{t: t.Uint64(), s: s.Uint64()}, nil
}

// Scale returns the scale b = t/s exactly.
func (d DiscreteLaplace) Scale() *big.Rat {
	return new(big.Rat).SetFrac(new(big.Int).SetUint64(d.t), new(big.Int).SetUint64(d.s))
}

// Variance returns 2e^{−1/b}/(1 − e^{−1/b})², computed in floating point; it
// is for reporting and tests, never for sampling.
func (d DiscreteLaplace) Variance() float64 {
	q := math.Exp(-float64(d.s) / float64(d.t))
	return 2 * q / ((1 - q) * (1 - q))
}

// Sample returns one draw. A nil src means [CryptoSource]. It panics if the
// draw does not fit an int64, which [MaxScale] makes an event of probability
// below exp(−2¹⁴).
func (d DiscreteLaplace) Sample(src Source) int64 {
	x, ok := d.sample(orCrypto(src))
	if !ok {
		panic("privacy: discrete Laplace draw overflowed int64")
	}
	return x
}

// sample is Algorithm 2 of Canonne, Kamath & Steinke (2020), line by line:
// U + t·V is a geometric variable of parameter 1−e^{−1/t} built from its
// fractional part U (accepted with probability e^{−U/t}) and integer part V;
// dividing by s rescales to 1−e^{−s/t}; a random sign, rejecting the negative
// zero, makes it two-sided.
func (d DiscreteLaplace) sample(src Source) (int64, bool) {
	for {
		u := uniformUint64(src, d.t)
		if !bernoulliExpUnit(src, u, d.t) {
			continue
		}
		var v uint64
		for bernoulliExpUnit(src, 1, 1) {
			v++
		}
		hi, lo := bits.Mul64(d.t, v)
		lo, carry := bits.Add64(lo, u, 0)
		hi += carry
		if hi >= d.s {
			return 0, false
		}
		y, _ := bits.Div64(hi, lo, d.s)
		if y > math.MaxInt64 {
			return 0, false
		}
		negative := src.Uint64()&1 == 1
		if negative && y == 0 {
			continue
		}
		if negative {
			return -int64(y), true
		}
		return int64(y), true
	}
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "<nil>"
	}
	return r.RatString()
}
