package store

import (
	"time"

	"github.com/lifang-community/lifang/reading"
)

// Buckets aggregates time-ordered readings into UTC-aligned buckets of step (an hour,
// a day): count, min, max, sum, first and last value. Stores share it so their
// aggregates agree to the bit.
func Buckets(rs []reading.Reading, step time.Duration) []Bucket {
	var out []Bucket
	for _, r := range rs {
		start := r.Time.UTC().Truncate(step)
		if n := len(out); n == 0 || !out[n-1].Start.Equal(start) {
			out = append(out, Bucket{Start: start, Min: r.Value, Max: r.Value, First: r.Value})
		}
		b := &out[len(out)-1]
		b.Count++
		b.Min, b.Max = min(b.Min, r.Value), max(b.Max, r.Value)
		b.Sum += r.Value
		b.Last = r.Value
	}
	return out
}
