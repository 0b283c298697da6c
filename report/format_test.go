package report

import (
	"math"
	"testing"
)

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v    float64
		dp   int
		want string
	}{
		{-1234.5, 1, "-1,234.5"},
		{0, 0, "0"},
		{999, 0, "999"},
		{1000, 0, "1,000"},
		{1234567.891, 2, "1,234,567.89"},
		{-999999.5, 0, "-1,000,000"},
		{-0.04, 1, "0.0"},
		{0.5, 3, "0.500"},
		{12.345, -1, "12"},
		{math.NaN(), 2, "—"},
		{math.Inf(1), 0, "∞"},
		{math.Inf(-1), 0, "-∞"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.v, tt.dp); got != tt.want {
			t.Errorf("FormatNumber(%v, %d) = %q, want %q", tt.v, tt.dp, got, tt.want)
		}
	}
}

func TestFormatCNY(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{1234567.891, "¥1,234,568"},
		{0, "¥0"},
		{999.4, "¥999"},
		{-1234, "-¥1,234"},
		{123456789012, "¥123,456,789,012"},
		{math.NaN(), "—"},
	}
	for _, tt := range tests {
		if got := FormatCNY(tt.v); got != tt.want {
			t.Errorf("FormatCNY(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
