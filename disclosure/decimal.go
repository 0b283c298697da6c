package disclosure

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/lifang-community/lifang/reading"
)

// ratOf is a reading's value as the exact decimal it prints as: the value the
// ledger commits to (reading.FormatValue), not the binary float behind it.
func ratOf(v float64) *big.Rat {
	r, ok := reading.Exact(v)
	if !ok { // NaN or ±Inf: the pipeline never accepts them
		panic(fmt.Sprintf("disclosure: value %v is not a decimal", v))
	}
	return r
}

// decimalString formats r exactly, with the fewest decimals that represent it.
// Sums of decimals are decimals, so the fallback (a fraction) never shows in
// practice.
func decimalString(r *big.Rat) string {
	d := new(big.Int).Set(r.Denom())
	two, five := big.NewInt(2), big.NewInt(5)
	var twos, fives int
	m := new(big.Int)
	for {
		q, rem := new(big.Int).QuoRem(d, two, m)
		if rem.Sign() != 0 {
			break
		}
		d, twos = q, twos+1
	}
	for {
		q, rem := new(big.Int).QuoRem(d, five, m)
		if rem.Sign() != 0 {
			break
		}
		d, fives = q, fives+1
	}
	if d.Cmp(big.NewInt(1)) != 0 {
		return r.RatString()
	}
	return r.FloatString(max(twos, fives))
}

// pow10 is 10^k exactly.
func pow10(k int) *big.Rat {
	return new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
}

// parseDecimal reads an exact decimal (a figure value, an event attribute).
func parseDecimal(s string) (*big.Rat, bool) { return reading.ParseDecimal(s) }

// parseRational reads an exact rational as privacy writes a scale: an integer
// or a decimal, optionally over an integer ("200000", "1234567/1000"), and
// nothing longer than any scale could be.
func parseRational(s string) (*big.Rat, bool) {
	num, den, frac := s, "", false
	if n, d, ok := strings.Cut(s, "/"); ok {
		num, den, frac = n, d, true
	}
	digits := func(s string, point bool) bool {
		if s == "" || len(s) > 400 {
			return false
		}
		for _, c := range s {
			if c == '.' && point {
				point = false
				continue
			}
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if !digits(strings.TrimPrefix(num, "-"), true) || frac && !digits(den, false) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// groupDigits inserts thousands separators into the integer part of an exact
// decimal string, keeping every decimal: "1234567.25" → "1,234,567.25".
func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if strings.ContainsAny(intPart, "/eE") {
		return sign + s
	}
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return sign + b.String()
}
