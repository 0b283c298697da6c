package report

import (
	"math"
	"strconv"
	"strings"
)

// FormatNumber formats v with dp decimals and comma thousands separators:
// FormatNumber(-1234.5, 1) == "-1,234.5". Negatives use an ASCII hyphen-minus so
// the text copies into spreadsheets; a value that rounds to zero has no sign.
// NaN is "—" (missing), infinities are "∞" and "-∞". dp < 0 is treated as 0.
func FormatNumber(v float64, dp int) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "-∞"
	}
	if dp < 0 {
		dp = 0
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', dp, 64)
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	b.WriteString(frac)
	return b.String()
}

// FormatCNY formats an amount in yuan with no decimals: FormatCNY(1234567.891) ==
// "¥1,234,568"; negatives are "-¥1,234".
func FormatCNY(v float64) string {
	s := FormatNumber(v, 0)
	if strings.HasPrefix(s, "-") {
		return "-¥" + s[1:]
	}
	if s == "—" {
		return s
	}
	return "¥" + s
}
