package privacy

import (
	"math"
	"math/big"
	"testing"
)

func TestDiscreteLaplaceDistribution(t *testing.T) {
	for i, scale := range []*big.Rat{big.NewRat(7, 2), big.NewRat(1, 3), big.NewRat(1000, 3)} {
		t.Run(scale.RatString(), func(t *testing.T) {
			d, err := NewDiscreteLaplace(scale)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := scale.Float64()
			// Exact pmf (1−q)/(1+q)·q^|x|, q = e^{−1/b}.
			q := math.Exp(-1 / b)
			pmf := normalised(int64(60*b)+20, func(x int64) float64 {
				return (1 - q) / (1 + q) * math.Pow(q, math.Abs(float64(x)))
			})
			if _, v, _ := pmf.moments(); math.Abs(v-d.Variance()) > 1e-9*v {
				t.Fatalf("pmf variance %v, closed form %v", v, d.Variance())
			}
			src := seeded(uint64(200 + i))
			draws := make([]int64, statDraws)
			for j := range draws {
				draws[j] = d.Sample(src)
			}
			checkDistribution(t, draws, pmf)
		})
	}
}

func TestDiscreteGaussianDistribution(t *testing.T) {
	// (25·2^64+1)/2^65 ≈ 12.5 forces the big.Int acceptance path.
	two65 := new(big.Int).Lsh(big.NewInt(1), 65)
	bigSigma2 := new(big.Rat).SetFrac(new(big.Int).Add(new(big.Int).Mul(big.NewInt(25), new(big.Int).Lsh(big.NewInt(1), 64)), bigOne), two65)
	for i, sigma2 := range []*big.Rat{big.NewRat(25, 2), big.NewRat(2, 3), big.NewRat(1000, 1), bigSigma2} {
		name := sigma2.RatString()
		if len(name) > 20 {
			name = "big"
		}
		t.Run(name, func(t *testing.T) {
			g, err := NewDiscreteGaussian(sigma2)
			if err != nil {
				t.Fatal(err)
			}
			if name == "big" && g.small {
				t.Fatal("expected the big.Int path")
			}
			s2, _ := sigma2.Float64()
			pmf := normalised(int64(40*math.Sqrt(s2))+20, func(x int64) float64 {
				return math.Exp(-float64(x) * float64(x) / (2 * s2))
			})
			if _, v, _ := pmf.moments(); v > s2*(1+1e-12) {
				t.Errorf("discrete Gaussian variance %v above σ² %v", v, s2)
			}
			src := seeded(uint64(300 + i))
			draws := make([]int64, statDraws)
			for j := range draws {
				draws[j] = g.Sample(src)
			}
			checkDistribution(t, draws, pmf)
		})
	}
}

func TestSamplerParameters(t *testing.T) {
	bad := []*big.Rat{nil, big.NewRat(0, 1), big.NewRat(-1, 2)}
	for _, r := range bad {
		if _, err := NewDiscreteLaplace(r); err == nil {
			t.Errorf("NewDiscreteLaplace(%v) accepted", ratString(r))
		}
		if _, err := NewDiscreteGaussian(r); err == nil {
			t.Errorf("NewDiscreteGaussian(%v) accepted", ratString(r))
		}
	}
	if _, err := NewDiscreteLaplace(new(big.Rat).SetInt64(MaxScale + 1)); err == nil {
		t.Error("Laplace scale above MaxScale accepted")
	}
	if _, err := NewDiscreteLaplace(new(big.Rat).SetFrac(big.NewInt(1<<62+1), big.NewInt(1<<62-1))); err == nil {
		t.Error("Laplace scale with numerator ≥ 2^62 accepted")
	}
	huge := new(big.Rat).SetInt(new(big.Int).Lsh(bigOne, 100))
	if _, err := NewDiscreteGaussian(huge); err == nil {
		t.Error("Gaussian σ² = 2^100 accepted")
	}
}

func BenchmarkDiscreteLaplace(b *testing.B) {
	d, _ := NewDiscreteLaplace(big.NewRat(1000, 3))
	src := seeded(1)
	for b.Loop() {
		d.Sample(src)
	}
}

func BenchmarkDiscreteGaussian(b *testing.B) {
	g, _ := NewDiscreteGaussian(big.NewRat(1000, 1))
	src := seeded(1)
	for b.Loop() {
		g.Sample(src)
	}
}

func BenchmarkDiscreteGaussianCrypto(b *testing.B) {
	g, _ := NewDiscreteGaussian(big.NewRat(1000, 1))
	for b.Loop() {
		g.Sample(nil)
	}
}

// TestChiSquareHasPower guards the goodness-of-fit tests themselves: draws
// from a scale-4 discrete Laplace must fail against the scale-7/2 pmf.
func TestChiSquareHasPower(t *testing.T) {
	d, err := NewDiscreteLaplace(big.NewRat(4, 1))
	if err != nil {
		t.Fatal(err)
	}
	q := math.Exp(-2.0 / 7)
	wrong := normalised(300, func(x int64) float64 { return math.Pow(q, math.Abs(float64(x))) })
	src := seeded(400)
	draws := make([]int64, statDraws)
	for i := range draws {
		draws[i] = d.Sample(src)
	}
	chi := chiSquare(draws, wrong)
	t.Logf("wrong pmf: chi-square = %.1f, df = %d, critical = %.1f", chi.stat, chi.df, chi.critical)
	if chi.stat <= chi.critical {
		t.Errorf("chi-square %.1f did not reject a wrong scale (critical %.1f)", chi.stat, chi.critical)
	}
}
