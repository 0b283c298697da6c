package privacy

import (
	"math/big"
	"math/bits"
)

// BernoulliExp returns true with probability exactly exp(−γ) for a rational
// γ ≥ 0, by Algorithm 1 of Canonne, Kamath & Steinke (2020): only integer
// comparisons of uniform draws, no floating point. A nil src means
// [CryptoSource]. It panics if γ is nil or negative, which is a programming
// error like rand.IntN(0).
func BernoulliExp(src Source, gamma *big.Rat) bool {
	if gamma == nil || gamma.Sign() < 0 {
		panic("privacy: BernoulliExp needs γ ≥ 0")
	}
	return bernoulliExp(orCrypto(src), gamma.Num(), gamma.Denom())
}

var bigOne = big.NewInt(1)

// bernoulliExp samples Bernoulli(exp(−n/d)) for n ≥ 0, d > 0 without
// modifying n or d. Parameters that fit a uint64 take the allocation-free path.
func bernoulliExp(src Source, n, d *big.Int) bool {
	if n.IsUint64() && d.IsUint64() {
		return bernoulliExpU(src, n.Uint64(), d.Uint64())
	}
	if n.Cmp(d) <= 0 {
		return bernoulliExpUnitBig(src, n, d)
	}
	// γ > 1: exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ−⌊γ⌋)).
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	for ; q.Sign() > 0; q.Sub(q, bigOne) {
		if !bernoulliExpUnit(src, 1, 1) {
			return false
		}
	}
	return bernoulliExpUnitBig(src, r, d)
}

func bernoulliExpU(src Source, n, d uint64) bool {
	if n > d {
		for k := n / d; k > 0; k-- {
			if !bernoulliExpUnit(src, 1, 1) {
				return false
			}
		}
		n %= d
	}
	return bernoulliExpUnit(src, n, d)
}

// bernoulliExpUnit samples Bernoulli(exp(−n/d)) for 0 ≤ n ≤ d: draw
// A_K ~ Bernoulli(γ/K) for K = 1, 2, … until the first A_K = 0; the stopping
// index K is odd with probability Σ (−γ)^k/k! = exp(−γ).
func bernoulliExpUnit(src Source, n, d uint64) bool {
	k := uint64(1)
	for {
		hi, dk := bits.Mul64(d, k)
		var a bool
		if hi == 0 {
			a = uniformUint64(src, dk) < n
		} else {
			dkBig := new(big.Int).Mul(new(big.Int).SetUint64(d), new(big.Int).SetUint64(k))
			a = uniformBig(src, dkBig).Cmp(new(big.Int).SetUint64(n)) < 0
		}
		if !a {
			return k%2 == 1
		}
		k++
	}
}

func bernoulliExpUnitBig(src Source, n, d *big.Int) bool {
	k := big.NewInt(1)
	dk := new(big.Int)
	for {
		dk.Mul(d, k)
		if uniformBig(src, dk).Cmp(n) >= 0 {
			return k.Bit(0) == 1
		}
		k.Add(k, bigOne)
	}
}
