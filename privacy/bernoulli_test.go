package privacy

import (
	"math"
	"math/big"
	"testing"
)

func TestBernoulliExpFrequency(t *testing.T) {
	big70 := new(big.Int).Lsh(big.NewInt(1), 70)
	huge := func(whole int64, frac int64) *big.Rat { // whole + frac/2^70 with 2^70 denominators: big.Int path
		n := new(big.Int).Mul(big.NewInt(whole), big70)
		n.Add(n, big.NewInt(frac))
		return new(big.Rat).SetFrac(n, big70)
	}
	tests := []struct {
		name  string
		gamma *big.Rat
		draws int
	}{
		{"0", big.NewRat(0, 1), statDraws},
		{"1/10", big.NewRat(1, 10), statDraws},
		{"1/2", big.NewRat(1, 2), statDraws},
		{"1", big.NewRat(1, 1), statDraws},
		{"3/2", big.NewRat(3, 2), statDraws},
		{"7/3", big.NewRat(7, 3), statDraws},
		{"5", big.NewRat(5, 1), statDraws},
		{"big 2+1/2^70", huge(2, 1), 20_000},
		{"big 0+(2^70-1)/2^70", huge(0, 1<<62-1), 20_000},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := seeded(uint64(100 + i))
			var hits int
			for range tc.draws {
				if BernoulliExp(src, tc.gamma) {
					hits++
				}
			}
			g, _ := tc.gamma.Float64()
			p := math.Exp(-g)
			n := float64(tc.draws)
			got := float64(hits) / n
			se := math.Sqrt(p * (1 - p) / n)
			t.Logf("γ=%s: frequency %.5f, exp(−γ) = %.5f, |diff| = %.2f SE", tc.gamma.RatString(), got, p, math.Abs(got-p)/max(se, 1e-300))
			if p == 1 {
				if hits != tc.draws {
					t.Fatalf("γ=0 gave %d false draws", tc.draws-hits)
				}
				return
			}
			if math.Abs(got-p) > 4*se {
				t.Errorf("frequency %.5f more than 4 SE (%.5f) from exp(−γ) = %.5f", got, se, p)
			}
		})
	}
}

func TestBernoulliExpPanicsOnNegative(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for γ < 0")
		}
	}()
	BernoulliExp(seeded(1), big.NewRat(-1, 2))
}

func TestUniformUnbiased(t *testing.T) {
	// n = 3·2^64 needs the big.Int path; the three thirds must be equally likely.
	n := new(big.Int).Mul(big.NewInt(3), new(big.Int).Lsh(big.NewInt(1), 64))
	src := seeded(7)
	var cells [3]float64
	const draws = 30_000
	for range draws {
		x := uniformBig(src, n)
		cells[new(big.Int).Rsh(x, 64).Int64()]++
	}
	var stat float64
	for _, o := range cells {
		stat += (o - draws/3) * (o - draws/3) / (draws / 3)
	}
	if stat > 13.82 { // chi-square, 2 df, p = 0.001
		t.Errorf("uniformBig thirds %v: chi-square %.2f > 13.82", cells, stat)
	}
	for range 1000 {
		if x := uniformUint64(src, 3); x >= 3 {
			t.Fatalf("uniformUint64(3) = %d", x)
		}
	}
}

func TestCryptoSource(t *testing.T) {
	src := CryptoSource()
	seen := map[uint64]bool{}
	for range 64 {
		seen[src.Uint64()] = true
	}
	if len(seen) < 60 {
		t.Fatalf("crypto source repeated itself: %d distinct of 64", len(seen))
	}
	if _, ok := orCrypto(nil).(cryptoSource); !ok {
		t.Fatal("nil Source does not default to crypto/rand")
	}
}
