package reading

import (
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
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

// attrText maps what an attribute value may not hold to what it may.
var attrText = strings.NewReplacer("=", ":", ";", ",", "\t", " ", "\n", " ", "\r", " ")

// AttrText makes free text (a reason, a device's answer) a valid event attribute
// value: '=' and ';' (the canonical form's separators) and line breaks replaced, other
// control characters and invalid UTF-8 dropped, cut to max bytes on a rune boundary.
func AttrText(s string, max int) string {
	s = strings.ToValidUTF8(attrText.Replace(s), "")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
