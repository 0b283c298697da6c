package reading

import (
	"math/big"
	"strconv"
	"strings"
)

// Exact is a value as the exact decimal it prints as (FormatValue): the value the
// ledger commits to, not the binary float behind it. It is false for NaN and ±Inf,
// which the pipeline never accepts.
func Exact(v float64) (*big.Rat, bool) {
	return new(big.Rat).SetString(FormatValue(v))
}

// ParseDecimal reads an exact decimal (an event attribute, a figure's value): what
// strconv.ParseFloat accepts, as the rational it writes, never a fraction "1/3" or hex.
func ParseDecimal(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}
