package finance

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Fen is an amount of money in fen (0.01 CNY), the unit every reported figure is exact
// to. Waterfalls run in Fen so that cash is conserved exactly; projections and Monte
// Carlo drivers run in float64 yuan and are rounded to the fen at the boundary.
type Fen int64

// maxFen bounds amounts so sums of a few thousand of them cannot overflow int64.
const maxFen = Fen(1) << 52

// FenFromYuan rounds a float64 amount in yuan to the nearest fen (half away from zero).
func FenFromYuan(y float64) Fen {
	return Fen(math.Round(y * 100))
}

// Yuan is the amount in yuan as a float64 (for ratios and charts, not for sums).
func (f Fen) Yuan() float64 { return float64(f) / 100 }

// String formats the amount as a decimal with two fraction digits: "-1234.05".
func (f Fen) String() string {
	neg := f < 0
	u := uint64(f)
	if neg {
		u = uint64(-f)
	}
	s := strconv.FormatUint(u/100, 10) + "." + fmt.Sprintf("%02d", u%100)
	if neg {
		return "-" + s
	}
	return s
}

// MarshalJSON writes the amount as an exact decimal JSON number.
func (f Fen) MarshalJSON() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalJSON reads a JSON number or string in yuan, exactly (see ParseFen).
func (f *Fen) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := ParseFen(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

var decCtx = apd.BaseContext.WithPrecision(40)

// ParseFen reads a decimal amount in yuan ("15503130.26", "-1071810.17", "1e6") exactly.
// Amounts with more than two fraction digits are rounded half-even to the fen.
func ParseFen(s string) (Fen, error) {
	d, _, err := apd.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a decimal amount", s)
	}
	if d.Form != apd.Finite {
		return 0, fmt.Errorf("%q is not a finite amount", s)
	}
	var q apd.Decimal
	c := decCtx
	c.Rounding = apd.RoundHalfEven
	if _, err := c.Quantize(&q, d, -2); err != nil {
		return 0, fmt.Errorf("%q: %v", s, err)
	}
	// q now has exponent -2: its coefficient is the amount in fen.
	if q.Coeff.BitLen() > 62 {
		return 0, fmt.Errorf("%q is too large an amount", s)
	}
	v := Fen(q.Coeff.Int64())
	if q.Negative {
		v = -v
	}
	if v > maxFen || v < -maxFen {
		return 0, fmt.Errorf("%q is too large an amount (limit %s)", s, maxFen)
	}
	return v, nil
}

// Ratio is a/b computed in decimal and rounded half-even to digits fraction digits
// (for disclosed ratios such as a distribution rate). It is 0 when b is 0.
func Ratio(a, b Fen, digits int32) float64 {
	if b == 0 {
		return 0
	}
	var q, r apd.Decimal
	c := decCtx
	c.Rounding = apd.RoundHalfEven
	_, _ = c.Quo(&q, apd.New(int64(a), 0), apd.New(int64(b), 0))
	_, _ = c.Quantize(&r, &q, -digits)
	f, _ := r.Float64()
	return f
}

// MulRate is f × rate rounded half away from zero to the fen (fees, interest, tax).
func (f Fen) MulRate(rate float64) Fen {
	return Fen(math.Round(float64(f) * rate))
}
