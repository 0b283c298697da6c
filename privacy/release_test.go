package privacy

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
)

// households returns n deterministic consumption figures in kWh within [0, 30).
func households(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64((i*7919)%30000) / 1000
	}
	return v
}

func mechanisms(t *testing.T) []Mechanism {
	t.Helper()
	l, err := NewLaplace(0.5)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGaussian(0.5, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	return []Mechanism{l, g}
}

func TestReleaseClampsOutliers(t *testing.T) {
	base := households(200)
	with := func(v float64) []float64 { return append(append([]float64(nil), base...), v) }
	for _, m := range mechanisms(t) {
		for _, agg := range []Aggregate{Sum, Mean} {
			q := Query{Aggregate: agg, Lo: 0, Hi: 50, Unit: 0.001}
			release := func(values []float64) Result {
				// Same seed → same noise, so differences are the data's alone.
				r, err := Release(values, q, m, seeded(500))
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			atHi, huge, inf := release(with(50)), release(with(1e12)), release(with(math.Inf(1)))
			if huge.Value != atHi.Value || inf.Value != atHi.Value {
				t.Errorf("%s %s: household at 1e12 gives %v, +Inf %v, at the bound %v", m.Name(), agg, huge.Value, inf.Value, atHi.Value)
			}
			if neg, atLo := release(with(-1e12)), release(with(0)); neg.Value != atLo.Value {
				t.Errorf("%s %s: household at -1e12 gives %v, at the bound %v", m.Name(), agg, neg.Value, atLo.Value)
			}
			if agg == Sum {
				without := release(base)
				// Adding the outlier moves the noisy sum by exactly hi (same noise).
				if d := huge.Statistics[0].Noisy - without.Statistics[0].Noisy; d != 50_000 {
					t.Errorf("%s: outlier moved the sum by %d Wh, want 50000", m.Name(), d)
				}
			}
		}
	}
}

func TestReleaseParameters(t *testing.T) {
	values := households(1000)
	l, g := mechanisms(t)[0], mechanisms(t)[1]
	q := Query{Aggregate: Sum, Lo: -5, Hi: 40, Unit: 0.001}

	r, err := Release(values, q, l, seeded(501))
	if err != nil {
		t.Fatal(err)
	}
	s := r.Statistics[0]
	if r.Mechanism != NameDiscreteLaplace || r.Epsilon != 0.5 || r.Delta != 0 || s.Sensitivity != 40_000 ||
		s.ScaleParam != "t" || s.Scale != "80000" || r.Lo != -5 || r.Hi != 40 || r.Unit != 0.001 {
		t.Errorf("Laplace sum result %+v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"mechanism":"discrete-laplace"`, `"epsilon":0.5`, `"delta":0`, `"sensitivity":40000`, `"scale":"80000"`, `"lo":-5`, `"hi":40`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}

	many := households(10_000)
	r, err = Release(many, Query{Aggregate: Mean, Lo: 0, Hi: 50, Unit: 0.001}, g, seeded(502))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Statistics) != 2 || r.Statistics[0].Name != "sum" || r.Statistics[1].Name != "count" {
		t.Fatalf("mean statistics %+v", r.Statistics)
	}
	sum, count := r.Statistics[0], r.Statistics[1]
	if sum.Epsilon != 0.25 || sum.Delta != 5e-7 || count.Sensitivity != 1 || sum.Sensitivity != 50_000 || sum.Rho == 0 {
		t.Errorf("mean statistics %+v", r.Statistics)
	}
	totalEps := new(big.Rat).Add(decimal(sum.Epsilon), decimal(count.Epsilon))
	totalDelta := new(big.Rat).Add(decimal(sum.Delta), decimal(count.Delta))
	if totalEps.Cmp(decimal(r.Epsilon)) > 0 || totalDelta.Cmp(decimal(r.Delta)) > 0 {
		t.Errorf("mean parts (%s, %s) exceed stated (%v, %v)", totalEps.RatString(), totalDelta.RatString(), r.Epsilon, r.Delta)
	}
	var trueMean float64
	for _, v := range many {
		trueMean += v
	}
	trueMean /= float64(len(many))
	// The sum's σ is ≈ 1.1·10⁶ Wh (Δ = 50 000 Wh at ε = 0.25, δ = 5·10⁻⁷),
	// so the mean of 10 000 households has sd ≈ 0.11 kWh.
	if math.Abs(r.Value-trueMean) > 0.5 {
		t.Errorf("noisy mean %v far from true mean %v", r.Value, trueMean)
	}

	r, err = Release(values, Query{Aggregate: Count, Lo: 0, Hi: 50, Unit: 0.001}, l, nil) // crypto/rand
	if err != nil {
		t.Fatal(err)
	}
	if r.Statistics[0].Sensitivity != 1 || r.Statistics[0].Scale != "2" || math.Abs(r.Value-1000) > 100 {
		t.Errorf("count result %+v", r)
	}
}

func TestReleaseMeanClampedToBounds(t *testing.T) {
	l, _ := NewLaplace(0.01) // heavy noise on 3 households
	q := Query{Aggregate: Mean, Lo: 10, Hi: 20, Unit: 0.01}
	for seed := range uint64(50) {
		r, err := Release([]float64{12, 15, 18}, q, l, seeded(600+seed))
		if err != nil {
			t.Fatal(err)
		}
		if r.Value < 10 || r.Value > 20 {
			t.Fatalf("mean %v outside [10, 20]", r.Value)
		}
	}
}

func TestReleaseBadParameters(t *testing.T) {
	l, _ := NewLaplace(1)
	ok := Query{Aggregate: Sum, Lo: 0, Hi: 10, Unit: 0.1}
	tests := []struct {
		name   string
		values []float64
		q      func(Query) Query
		m      Mechanism
		want   string
	}{
		{"lo > hi", nil, func(q Query) Query { q.Lo, q.Hi = 5, 1; return q }, l, "lower bound 5 exceeds upper bound 1"},
		{"unit zero", nil, func(q Query) Query { q.Unit = 0; return q }, l, "unit must be a finite number > 0, got 0"},
		{"unit negative", nil, func(q Query) Query { q.Unit = -1; return q }, l, "unit must be a finite number > 0"},
		{"unit NaN", nil, func(q Query) Query { q.Unit = math.NaN(); return q }, l, "unit must be a finite number > 0, got NaN"},
		{"bound Inf", nil, func(q Query) Query { q.Hi = math.Inf(1); return q }, l, "bounds must be finite"},
		{"bound NaN", nil, func(q Query) Query { q.Lo = math.NaN(); return q }, l, "bounds must be finite"},
		{"bounds too wide", nil, func(q Query) Query { q.Hi = 1e12; return q }, l, "exceed 2^40 units"},
		{"zero range", nil, func(q Query) Query { q.Lo, q.Hi = 0, 0.01; return q }, l, "round to zero units"},
		{"aggregate", nil, func(q Query) Query { q.Aggregate = "median"; return q }, l, `aggregate "median" is not one of`},
		{"nil mechanism", nil, func(q Query) Query { return q }, nil, "nil mechanism"},
		{"NaN value", []float64{1, math.NaN()}, func(q Query) Query { return q }, l, "household value 1 is NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Release(tc.values, tc.q(ok), tc.m, seeded(1))
			if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidParameter containing %q", err, tc.want)
			}
		})
	}
}

func TestClamp(t *testing.T) {
	tests := []struct {
		v    float64
		want int64
	}{
		{1.2344, 1234}, {1.2346, 1235}, {-3, -1000}, {99, 5000}, {math.Inf(1), 5000}, {math.Inf(-1), -1000}, {math.NaN(), -1000},
	}
	for _, tc := range tests {
		if got := Clamp(tc.v, 0.001, -1000, 5000); got != tc.want {
			t.Errorf("Clamp(%v) = %d, want %d", tc.v, got, tc.want)
		}
	}
}
