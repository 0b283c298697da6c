package policy

import "testing"

func TestCheapestStart(t *testing.T) {
	prices := []float64{1, 1, 0.5, 0.3, 0.3, 1}
	if s := cheapestStart(prices, 2, 4); s != 3 {
		t.Fatalf("cheapest 2-step start = %d, want 3", s)
	}
}
