package disclosure

import (
	"math/big"
	"testing"
	"time"

	"github.com/lifang-community/lifang/reading"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func at(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }

func TestConsumption(t *testing.T) {
	tenth := 0.1 // a variable: the compiler would fold 0.1+0.2 exactly
	replace := reading.Event{Kind: reading.MeterReplaced, Source: "m", Time: t0.Add(20 * time.Minute),
		Attrs: map[string]string{"old_final": "1015", "new_initial": "0"}}
	bare := replace
	bare.Attrs = nil
	cases := []struct {
		name     string
		values   []float64
		repl     []reading.Event
		want     string
		restarts int
	}{
		{"grows", []float64{1000, 1000.25, 1001.5}, nil, "1.5", 0},
		// Each step is taken between the decimals the ledger commits to, whatever the float.
		{"decimal exact", []float64{tenth, tenth + 0.2, 0.5, 0.7}, nil, "0.6", 0},
		{"decimal, not float", []float64{tenth, 0.3}, nil, "0.2", 0}, // 0.3 − 0.1 = 0.19999999999999998 in float64
		{"flat", []float64{7, 7}, nil, "0", 0},
		{"single reading", []float64{7}, nil, "0", 0},
		{"wrap at 10^5", []float64{99998, 99999, 0, 2.5}, nil, "4.5", 0},
		{"drop that is no wrap", []float64{500, 100, 150}, nil, "50", 1},
		{"replacement with final and initial", []float64{1000, 1010, 3, 8}, []reading.Event{replace}, "23", 0},
		{"replacement without them", []float64{1000, 1010, 3, 8}, []reading.Event{bare}, "15", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &series{point: "m", unit: "kWh"}
			for i, v := range c.values {
				s.obs = append(s.obs, obs{t: at(15 * i), v: v})
			}
			got, restarts := consumption(s, c.repl)
			if decimalString(got) != c.want || restarts != c.restarts {
				t.Fatalf("consumption = %s with %d restarts, want %s with %d", decimalString(got), restarts, c.want, c.restarts)
			}
		})
	}
}

func TestHousehold(t *testing.T) {
	for point, want := range map[string]string{
		"hh12/elec/energy":        "hh12",
		"bldg1/household-3/elec":  "bldg1/household-3",
		"bldg1/Apt_5/water":       "bldg1/Apt_5",
		"household/elec":          "household",
		"hh7":                     "hh7",
		"roof/pv/energy":          "",
		"bldg1/elec/active_power": "",
		"homebase/elec":           "",
		"hhx/elec":                "",
	} {
		got, ok := household(point)
		if got != want || ok != (want != "") {
			t.Errorf("household(%q) = %q, %v; want %q", point, got, ok, want)
		}
	}
}

func TestDecimalString(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "1/2": "0.5", "-1234567/1000": "-1234.567", "10": "10", "1/3": "1/3", "1/1024": "0.0009765625"} {
		r, _ := new(big.Rat).SetString(in)
		if got := decimalString(r); got != want {
			t.Errorf("decimalString(%s) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"1234567.25": "1,234,567.25", "-1000": "-1,000", "999": "999", "0.001": "0.001"} {
		if got := groupDigits(in); got != want {
			t.Errorf("groupDigits(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestTailBound(t *testing.T) {
	// Laplace t = 2: B = ⌈2 ln(2e9)⌉ = ⌈42.87⌉.
	if b, _ := tailBound("t", big.NewRat(2, 1)); b != 43 {
		t.Errorf("Laplace tail bound = %d, want 43", b)
	}
	// Gaussian σ² = 4: B = ⌈2 √(2 ln 2e9)⌉ = ⌈13.09⌉.
	if b, _ := tailBound("sigma2", big.NewRat(4, 1)); b != 14 {
		t.Errorf("Gaussian tail bound = %d, want 14", b)
	}
}
