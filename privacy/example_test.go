package privacy_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/lifang-community/lifang/privacy"
)

func Example() {
	// Monthly consumption of five households, kWh; one meter glitched.
	kWh := []float64{212.4, 187.0, 305.9, 1e9, 150.2}

	ledger, err := privacy.NewLedger("meters/2025", privacy.Budget{Epsilon: 1}, nil,
		func() time.Time { return time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		panic(err)
	}
	m, err := privacy.NewLaplace(0.5)
	if err != nil {
		panic(err)
	}
	// Charge first: a figure is only private if its cost is on the ledger.
	if err := ledger.Spend("2025-12 total consumption", m.Epsilon(), m.Delta()); err != nil {
		panic(err)
	}
	// Production passes a nil Source (crypto/rand); the seed makes this
	// example's output reproducible.
	src := rand.NewPCG(1, 2)
	r, err := privacy.Release(kWh, privacy.Query{Aggregate: privacy.Sum, Lo: 0, Hi: 500, Unit: 1}, m, src)
	if err != nil {
		panic(err)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	fmt.Println(string(b))
	fmt.Println("remaining:", ledger.Remaining())
	// Output:
	// {
	//   "aggregate": "sum",
	//   "value": 2151,
	//   "mechanism": "discrete-laplace",
	//   "epsilon": 0.5,
	//   "delta": 0,
	//   "lo": 0,
	//   "hi": 500,
	//   "unit": 1,
	//   "statistics": [
	//     {
	//       "name": "sum",
	//       "noisy": 2151,
	//       "sensitivity": 500,
	//       "scale_param": "t",
	//       "scale": "1000",
	//       "scale_value": 1000,
	//       "epsilon": 0.5,
	//       "delta": 0
	//     }
	//   ]
	// }
	// remaining: {0.5 0}
}
