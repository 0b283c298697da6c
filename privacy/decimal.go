package privacy

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// Privacy parameters arrive as float64 but are accounted as decimals: a float
// denotes the decimal its shortest representation prints, which is also what
// encoding/json writes into a disclosure. So ε = 0.1 means exactly 1/10, and
// 0.1 + 0.2 spends exactly the 0.3 a budget of 0.3 allows, where binary
// float addition would give 0.30000000000000004 and refuse.

// decimal returns the exact decimal denoted by a finite float64.
func decimal(x float64) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
	if !ok {
		panic(fmt.Sprintf("privacy: decimal(%v): not a finite float", x))
	}
	return r
}

// FloatUp returns the smallest float64 whose decimal is ≥ r: how the ledger reports
// what a scope has spent, so a verifier can recompute the reported figure.
func FloatUp(r *big.Rat) float64 { return floatUp(r) }

// floatUp returns the smallest float64 whose decimal is ≥ r: safe for stating
// a guarantee (the mechanism is never weaker than the printed figure).
func floatUp(r *big.Rat) float64 {
	f, _ := r.Float64()
	for decimal(f).Cmp(r) < 0 {
		f = math.Nextafter(f, math.Inf(1))
	}
	for {
		g := math.Nextafter(f, math.Inf(-1))
		if decimal(g).Cmp(r) < 0 {
			return f
		}
		f = g
	}
}

// floatDown returns the largest float64 whose decimal is ≤ r: safe for
// stating remaining budget or for the parts of a split budget.
func floatDown(r *big.Rat) float64 {
	f, _ := r.Float64()
	for decimal(f).Cmp(r) > 0 {
		f = math.Nextafter(f, math.Inf(-1))
	}
	for {
		g := math.Nextafter(f, math.Inf(1))
		if decimal(g).Cmp(r) > 0 {
			return f
		}
		f = g
	}
}

func checkEpsilon(name string, eps float64) error {
	if math.IsNaN(eps) || math.IsInf(eps, 0) || eps <= 0 {
		return fmt.Errorf("%w: %s must be a finite number > 0, got %v", ErrInvalidParameter, name, eps)
	}
	return nil
}

func checkDelta(name string, delta float64, allowZero bool) error {
	if math.IsNaN(delta) || delta < 0 || delta >= 1 || (!allowZero && delta == 0) {
		want := "in [0, 1)"
		if !allowZero {
			want = "in (0, 1)"
		}
		return fmt.Errorf("%w: %s must be %s, got %v", ErrInvalidParameter, name, want, delta)
	}
	return nil
}
