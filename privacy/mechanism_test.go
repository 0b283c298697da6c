package privacy

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

func TestNewLaplaceRounding(t *testing.T) {
	tests := []struct {
		eps         float64
		sensitivity int64
		wantEps     float64
		wantScale   string
	}{
		{0.1, 1000, 0.1, "10000"},
		{0.7, 3, 0.7, "30/7"},
		{0.1234567, 1, 0.123456, "15625/1929"},
		{1e-6, 1, 1e-6, "1000000"},
		{2, 5, 2, "5/2"},
	}
	for _, tc := range tests {
		m, err := NewLaplace(tc.eps)
		if err != nil {
			t.Fatalf("NewLaplace(%v): %v", tc.eps, err)
		}
		if got := m.Epsilon(); got != tc.wantEps {
			t.Errorf("NewLaplace(%v).Epsilon() = %v, want %v", tc.eps, got, tc.wantEps)
		}
		if m.Epsilon() > tc.eps || m.Delta() != 0 || m.Name() != NameDiscreteLaplace {
			t.Errorf("NewLaplace(%v): ε %v δ %v name %q", tc.eps, m.Epsilon(), m.Delta(), m.Name())
		}
		d, err := m.Calibrate(tc.sensitivity)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := new(big.Rat).SetString(tc.wantScale)
		if d.Scale().Cmp(want) != 0 {
			t.Errorf("NewLaplace(%v).Calibrate(%d) scale %s, want %s", tc.eps, tc.sensitivity, d.Scale().RatString(), want.RatString())
		}
	}
}

func TestMechanismBadParameters(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, eps := range []float64{0, -1, nan, inf, -inf, 9e-7} {
		if _, err := NewLaplace(eps); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("NewLaplace(%v) = %v, want ErrInvalidParameter", eps, err)
		}
	}
	for _, p := range [][2]float64{{0, 1e-6}, {-1, 1e-6}, {nan, 1e-6}, {inf, 1e-6}, {1, 0}, {1, 1}, {1, -1e-9}, {1, nan}, {1, 1.5}} {
		if _, err := NewGaussian(p[0], p[1]); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("NewGaussian(%v, %v) = %v, want ErrInvalidParameter", p[0], p[1], err)
		}
	}
	l, _ := NewLaplace(1)
	g, _ := NewGaussian(1, 1e-6)
	for _, s := range []int64{0, -3} {
		if _, err := l.Calibrate(s); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("Laplace.Calibrate(%d) = %v", s, err)
		}
		if _, err := g.Calibrate(s); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("Gaussian.Calibrate(%d) = %v", s, err)
		}
	}
	if _, err := l.Calibrate(1 << 50); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("Laplace scale 2^50 accepted: %v", err)
	}
	msg := func() string { _, err := NewLaplace(math.NaN()); return err.Error() }()
	if want := "privacy: invalid parameter: epsilon must be a finite number > 0, got NaN"; msg != want {
		t.Errorf("error text %q, want %q", msg, want)
	}
}

// hockeyStick returns δ(ε) = Σ_y max(0, p(y) − e^ε p(y−d)) for the discrete
// Gaussian pmf p, the exact (ε, δ) curve of a shift by d.
func hockeyStick(sigma2 float64, d int64, eps float64) float64 {
	m := int64(40*math.Sqrt(sigma2)) + 20 + d
	pmf := normalised(m, func(x int64) float64 { return math.Exp(-float64(x*x) / (2 * sigma2)) })
	var delta float64
	for y := -m; y <= m; y++ {
		delta += max(0, pmf.at(y)-math.Exp(eps)*pmf.at(y-d))
	}
	return delta
}

// TestGaussianCalibration checks the zCDP calibration three ways: the reported
// ρ converts back to at most the requested ε; the exact privacy curve of the
// calibrated discrete Gaussian meets the requested δ; and the noise is within
// a few percent of the classical Gaussian-mechanism σ where that applies.
func TestGaussianCalibration(t *testing.T) {
	tests := []struct {
		eps, delta  float64
		sensitivity int64
	}{
		{1, 1e-6, 1},
		{0.5, 1e-5, 3},
		{0.1, 1e-6, 2},
		{3, 1e-8, 1},
		{0.25, 1e-9, 7},
	}
	for _, tc := range tests {
		m, err := NewGaussian(tc.eps, tc.delta)
		if err != nil {
			t.Fatal(err)
		}
		n, err := m.calibrate(tc.sensitivity)
		if err != nil {
			t.Fatal(err)
		}
		sigma2, _ := n.scale.Float64()
		gotEps := n.rho + 2*math.Sqrt(n.rho*math.Log(1/tc.delta))
		if gotEps > tc.eps || n.rho > m.Rho() {
			t.Errorf("(%v, %v, Δ %d): ρ %v converts to ε %v > %v", tc.eps, tc.delta, tc.sensitivity, n.rho, gotEps, tc.eps)
		}
		var exact float64
		for d := int64(1); d <= tc.sensitivity; d++ {
			exact = max(exact, hockeyStick(sigma2, d, tc.eps))
		}
		classical := float64(tc.sensitivity) * math.Sqrt(2*math.Log(1.25/tc.delta)) / tc.eps
		t.Logf("ε %v δ %v Δ %d: σ² = %s, ρ = %.6g, exact δ(ε) = %.3g, σ/σ_classical = %.4f",
			tc.eps, tc.delta, tc.sensitivity, n.scale.RatString(), n.rho, exact, math.Sqrt(sigma2)/classical)
		if exact > tc.delta {
			t.Errorf("(%v, %v, Δ %d): exact δ(ε) = %g exceeds %g", tc.eps, tc.delta, tc.sensitivity, exact, tc.delta)
		}
		if tc.eps <= 1 {
			if r := math.Sqrt(sigma2) / classical; r < 0.9 || r > 1.1 {
				t.Errorf("(%v, %v): σ/σ_classical = %.3f, want within 10%%", tc.eps, tc.delta, r)
			}
		}
	}
}

func TestHalveComposes(t *testing.T) {
	for _, eps := range []float64{1, 0.3, 0.1 + 0.2, 1e-6, 0.123457, 7} {
		l, err := NewLaplace(eps)
		if err != nil {
			t.Fatal(err)
		}
		h, err := l.halve()
		if err != nil {
			t.Fatal(err)
		}
		sum := new(big.Rat).Add(decimal(h.Epsilon()), decimal(h.Epsilon()))
		if sum.Cmp(decimal(l.Epsilon())) > 0 {
			t.Errorf("Laplace %v: halves %v sum above total", l.Epsilon(), h.Epsilon())
		}
		g, _ := NewGaussian(eps, 1e-7)
		hg, err := g.halve()
		if err != nil {
			t.Fatal(err)
		}
		sum = new(big.Rat).Add(decimal(hg.Epsilon()), decimal(hg.Epsilon()))
		sumD := new(big.Rat).Add(decimal(hg.Delta()), decimal(hg.Delta()))
		if sum.Cmp(decimal(g.Epsilon())) > 0 || sumD.Cmp(decimal(g.Delta())) > 0 {
			t.Errorf("Gaussian (%v, %v): halves (%v, %v) sum above total", g.Epsilon(), g.Delta(), hg.Epsilon(), hg.Delta())
		}
	}
	l, _ := NewLaplace(0.3)
	h, _ := l.halve()
	if h.Epsilon() != 0.15 {
		t.Errorf("half of 0.3 = %v", h.Epsilon())
	}
}

func TestDecimal(t *testing.T) {
	if s := new(big.Rat).Add(decimal(0.1), decimal(0.2)); s.Cmp(decimal(0.3)) != 0 {
		t.Errorf("decimal 0.1 + 0.2 = %s", s.RatString())
	}
	if r := decimal(1e-7); r.Cmp(big.NewRat(1, 10_000_000)) != 0 {
		t.Errorf("decimal(1e-7) = %s", r.RatString())
	}
	third := big.NewRat(1, 3)
	up, down := floatUp(third), floatDown(third)
	if decimal(up).Cmp(third) < 0 || decimal(down).Cmp(third) > 0 || math.Nextafter(down, 1) != up {
		t.Errorf("floatUp/Down(1/3) = %v, %v", up, down)
	}
}
