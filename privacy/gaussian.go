package privacy

import (
	"fmt"
	"math/big"
	"math/bits"
)

// DiscreteGaussian is the discrete Gaussian distribution on ℤ with rational
// parameter σ²: P[X = x] ∝ exp(−x²/(2σ²)); its variance is below σ²
// and exponentially close to it once σ ≳ 1.
// Adding it to an integer query of sensitivity Δ is ρ-zCDP with ρ = Δ²/(2σ²)
// (Canonne, Kamath & Steinke 2020, Theorem 4). The zero value is not usable;
// construct with [NewDiscreteGaussian].
type DiscreteGaussian struct {
	sigma2 *big.Rat
	lap    DiscreteLaplace // scale t = ⌊σ⌋ + 1

	// γ(Y) = (|Y| − σ²/t)²/(2σ²) = (|Y|·sd·t − sn)² / (2·sd·t²·sn) for σ² = sn/sd.
	sdt, sn, den *big.Int
	// uint64 copies of sdt, sn, den when all three fit (the common case).
	small           bool
	sdtU, snU, denU uint64
}

// NewDiscreteGaussian returns the discrete Gaussian with parameter σ² > 0,
// σ below [MaxScale].
func NewDiscreteGaussian(sigma2 *big.Rat) (DiscreteGaussian, error) {
	if sigma2 == nil || sigma2.Sign() <= 0 {
		return DiscreteGaussian{}, fmt.Errorf("%w: discrete Gaussian sigma² must be > 0, got %v", ErrInvalidParameter, ratString(sigma2))
	}
	sn := new(big.Int).Set(sigma2.Num())
	sd := new(big.Int).Set(sigma2.Denom())
	// ⌊σ⌋ = ⌊√⌊σ²⌋⌋ exactly.
	t := new(big.Int).Quo(sn, sd)
	t.Sqrt(t)
	t.Add(t, bigOne)
	if t.Cmp(big.NewInt(MaxScale)) > 0 {
		return DiscreteGaussian{}, fmt.Errorf("%w: discrete Gaussian sigma² %s too large: sigma must be below MaxScale 2^48", ErrInvalidParameter, sigma2.RatString())
	}
	lap := DiscreteLaplace{t: t.Uint64(), s: 1}
	sdt := new(big.Int).Mul(sd, t)
	den := new(big.Int).Mul(sdt, t)
	den.Mul(den, sn)
	den.Lsh(den, 1)
	g := DiscreteGaussian{
		sigma2: new(big.Rat).SetFrac(sn, sd),
		lap:    lap,
		sdt:    sdt,
		sn:     sn,
		den:    den,
	}
	if sdt.IsUint64() && sn.IsUint64() && den.IsUint64() {
		g.small, g.sdtU, g.snU, g.denU = true, sdt.Uint64(), sn.Uint64(), den.Uint64()
	}
	return g, nil
}

// Sigma2 returns σ² exactly.
func (g DiscreteGaussian) Sigma2() *big.Rat { return new(big.Rat).Set(g.sigma2) }

// Sample returns one draw. A nil src means [CryptoSource]. It panics if the
// draw does not fit an int64, which [MaxScale] makes an event of probability
// below exp(−2¹⁴).
func (g DiscreteGaussian) Sample(src Source) int64 {
	x, ok := g.sample(orCrypto(src))
	if !ok {
		panic("privacy: discrete Gaussian draw overflowed int64")
	}
	return x
}

// sample is Algorithm 3 of Canonne, Kamath & Steinke (2020): propose
// Y ~ discrete Laplace with scale t = ⌊σ⌋+1 and accept it with probability
// exp(−(|Y| − σ²/t)²/(2σ²)).
func (g DiscreteGaussian) sample(src Source) (int64, bool) {
	var num, tmp big.Int
	for {
		y, ok := g.lap.sample(src)
		if !ok {
			return 0, false
		}
		abs := uint64(y)
		if y < 0 {
			abs = uint64(-y)
		}
		if g.small {
			if accept, fits := g.acceptSmall(src, abs); fits {
				if accept {
					return y, true
				}
				continue
			}
		}
		num.SetUint64(abs)
		num.Mul(&num, g.sdt)
		num.Sub(&num, g.sn)
		tmp.Mul(&num, &num)
		if bernoulliExp(src, &tmp, g.den) {
			return y, true
		}
	}
}

// acceptSmall samples the acceptance coin in uint64 arithmetic; fits is false
// when the numerator overflows and the caller must use big.Int.
func (g DiscreteGaussian) acceptSmall(src Source, abs uint64) (accept, fits bool) {
	hi, x := bits.Mul64(abs, g.sdtU)
	if hi != 0 {
		return false, false
	}
	var diff uint64
	if x >= g.snU {
		diff = x - g.snU
	} else {
		diff = g.snU - x
	}
	hi, sq := bits.Mul64(diff, diff)
	if hi != 0 {
		return false, false
	}
	return bernoulliExpU(src, sq, g.denU), true
}
