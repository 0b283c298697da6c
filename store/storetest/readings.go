package storetest

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

func testExisting(t *testing.T, s store.Store) {
	ctx := t.Context()
	var l testLog
	tricky := trickyBatch()
	l.commit(t, s, tricky)
	commitRaw(t, s, batch("bench", kwh("raw", at(0), 7)))
	stored := map[reading.Key]float64{}
	for _, r := range append(tricky.Readings, kwh("raw", at(0), 7)) {
		stored[r.Key()] = r.Value
	}
	k := func(point string, d time.Duration) reading.Key {
		return reading.Key{Point: point, Time: at(d).UnixNano()}
	}
	for _, tc := range []struct {
		name string
		keys []reading.Key
	}{
		{"none asked", nil},
		{"all present", keysOf(tricky.Readings)},
		{"none present", []reading.Key{k("meter/1", time.Hour), k("nope", 0)}},
		{"mixed", []reading.Key{k("meter/1", time.Nanosecond), k("meter/1", 0), k("meter/2", 0), k("meter/2", time.Nanosecond)}},
		{"one nanosecond off", []reading.Key{k("meter/1", 2*time.Nanosecond), k("meter/1", 15*time.Minute+123456788)}},
		{"other point at a stored time", []reading.Key{k("meter/3", 0), k("meter/1", time.Second)}},
		{"repeated keys", []reading.Key{k("meter/2", 0), k("meter/2", 0)}},
		{"raw path", []reading.Key{k("raw", 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Existing(ctx, tc.keys)
			if err != nil {
				t.Fatalf("Existing: %v", err)
			}
			want := map[reading.Key]float64{}
			for _, k := range tc.keys {
				if v, ok := stored[k]; ok {
					want[k] = v
				}
			}
			if len(got) != len(want) {
				t.Errorf("Existing = %v, want %v", got, want)
			}
			for k, v := range want {
				if g, ok := got[k]; !ok || math.Float64bits(g) != math.Float64bits(v) {
					t.Errorf("Existing[%v] = %v (present %v), want %v", k, g, ok, v)
				}
			}
		})
	}
}

// neighbourData is point p at 0, 10, 20, 30 minutes, committed out of time order over
// two leaves and the raw path, with point q in between to be ignored.
func neighbourData(t *testing.T, s store.Store) []reading.Reading {
	p := []reading.Reading{
		kwh("p", at(0), 1),
		{Point: "p", Time: at(10 * time.Minute), Value: 2.5, Unit: "kWh", Quality: reading.Estimated},
		kwh("p", at(20*time.Minute), 3),
		{Point: "p", Time: at(30*time.Minute + 1), Value: 4, Unit: "kWh", Quality: reading.Substituted},
	}
	var l testLog
	l.commit(t, s, batch("csv:a", p[2], kwh("q", at(5*time.Minute), 10), p[0]))
	l.commit(t, s, batch("csv:b", p[3], kwh("q", at(25*time.Minute), 20)))
	commitRaw(t, s, batch("bench", p[1], kwh("q", at(-time.Minute), 0)))
	return p
}

func testNeighbours(t *testing.T, s store.Store) {
	p := neighbourData(t, s)
	for _, tc := range []struct {
		name       string
		point      string
		t          time.Time
		prev, next *reading.Reading
	}{
		{"before all", "p", at(-time.Minute), nil, &p[0]},
		{"at the first", "p", at(0), nil, &p[1]},
		{"between", "p", at(5 * time.Minute), &p[0], &p[1]},
		{"at a stored time (strict)", "p", at(10 * time.Minute), &p[0], &p[2]},
		{"a nanosecond after", "p", at(10*time.Minute + 1), &p[1], &p[2]},
		{"a nanosecond before the last", "p", at(30 * time.Minute), &p[2], &p[3]},
		{"at the last", "p", at(30*time.Minute + 1), &p[2], nil},
		{"after all", "p", at(time.Hour), &p[3], nil},
		{"given in another zone", "p", at(15 * time.Minute).In(cst), &p[1], &p[2]},
		{"unknown point", "nope", at(10 * time.Minute), nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev, next, err := s.Neighbours(t.Context(), tc.point, tc.t)
			if err != nil {
				t.Fatalf("Neighbours: %v", err)
			}
			for _, x := range []struct {
				what      string
				got, want *reading.Reading
			}{{"prev", prev, tc.prev}, {"next", next, tc.next}} {
				switch {
				case x.got == nil && x.want == nil:
				case x.got == nil || x.want == nil:
					t.Errorf("%s = %s, want %s", x.what, fmtReadingPtr(x.got), fmtReadingPtr(x.want))
				default:
					checkReading(t, x.what, *x.got, *x.want)
				}
			}
		})
	}
}

func testRange(t *testing.T, s store.Store) {
	p := neighbourData(t, s)
	for _, tc := range []struct {
		name     string
		point    string
		from, to time.Time
		want     []reading.Reading
	}{
		{"all", "p", at(-time.Hour), at(time.Hour), p},
		{"end is exclusive", "p", at(10 * time.Minute), at(30*time.Minute + 1), p[1:3]},
		{"start is inclusive", "p", at(0), at(10 * time.Minute), p[:1]},
		{"nanosecond edges", "p", at(10*time.Minute + 1), at(30*time.Minute + 2), p[2:]},
		{"empty interval", "p", at(10 * time.Minute), at(10 * time.Minute), nil},
		{"reversed interval", "p", at(time.Hour), at(0), nil},
		{"bounds in another zone", "p", at(0).In(cst), at(20 * time.Minute).In(cst), p[:2]},
		{"unknown point", "nope", at(-time.Hour), at(time.Hour), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Range(t.Context(), tc.point, tc.from, tc.to)
			if err != nil {
				t.Fatalf("Range: %v", err)
			}
			checkReadings(t, "Range", got, tc.want)
		})
	}
}

// testAggregate buckets three days of irregular readings, stored out of order, with a
// gap of several hours, and checks every bucket against sums made here in time order.
func testAggregate(t *testing.T, s store.Store) {
	rng := rand.New(rand.NewPCG(3, 4))
	var rs []reading.Reading
	for d := time.Duration(0); d < 72*time.Hour; d += 7*time.Minute + time.Duration(rng.IntN(1e9)) {
		if d >= 30*time.Hour && d < 34*time.Hour {
			continue // a gap: its buckets have no readings and are left out
		}
		rs = append(rs, kwh("agg", at(d), math.Round(rng.NormFloat64()*1e6)/1e3))
	}
	// Readings exactly on bucket boundaries, one of them a day's first.
	rs = append(rs, kwh("agg", at(24*time.Hour), -5), kwh("agg", at(72*time.Hour), 1e-9))
	slices.SortFunc(rs, func(a, b reading.Reading) int { return a.Time.Compare(b.Time) })
	rs = slices.CompactFunc(rs, func(a, b reading.Reading) bool { return a.Time.Equal(b.Time) })
	shuffled := slices.Clone(rs)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	var l testLog
	third := len(shuffled) / 3
	l.commit(t, s, batch("csv:1", append(shuffled[:third:third], kwh("other", at(time.Hour), 1e9))...))
	commitRaw(t, s, batch("bench", shuffled[third:2*third]...))
	l.commit(t, s, batch("csv:2", shuffled[2*third:]...))

	for _, tc := range []struct {
		name     string
		from, to time.Time
		step     time.Duration
	}{
		{"hourly", at(0), at(73 * time.Hour), time.Hour},
		{"daily", at(0), at(73 * time.Hour), 24 * time.Hour},
		{"quarter-hourly", at(0), at(73 * time.Hour), 15 * time.Minute},
		{"hourly part", at(5 * time.Hour), at(29 * time.Hour), time.Hour},
		{"daily from the second day", at(24 * time.Hour), at(72 * time.Hour), 24 * time.Hour},
		{"daily up to a boundary reading", at(0), at(24 * time.Hour), 24 * time.Hour},
		{"within the gap", at(31 * time.Hour), at(33 * time.Hour), time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Aggregate(t.Context(), "agg", tc.from, tc.to, tc.step)
			if err != nil {
				t.Fatalf("Aggregate: %v", err)
			}
			want := buckets(rs, tc.from, tc.to, tc.step)
			if len(got) != len(want) {
				t.Fatalf("%d buckets, want %d\n got: %+v\nwant: %+v", len(got), len(want), got, want)
			}
			for i := range want {
				g, w := got[i], want[i]
				if !g.Start.Equal(w.Start) || g.Count != w.Count || !sameBits(g.Min, w.Min) || !sameBits(g.Max, w.Max) ||
					!sameBits(g.Sum, w.Sum) || !sameBits(g.First, w.First) || !sameBits(g.Last, w.Last) {
					t.Errorf("bucket %d = %+v, want %+v", i, g, w)
				}
				checkUTC(t, fmt.Sprintf("bucket %d", i), g.Start)
			}
		})
	}
}

// buckets is the expected aggregate of the time-ordered rs: buckets start at multiples
// of step since the Unix epoch (UTC hours and days), empty ones are left out, and sums
// add in time order.
func buckets(rs []reading.Reading, from, to time.Time, step time.Duration) []store.Bucket {
	var out []store.Bucket
	for _, r := range rs {
		if r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		ns := r.Time.UnixNano()
		start := time.Unix(0, ns-((ns%int64(step))+int64(step))%int64(step)).UTC()
		if n := len(out); n == 0 || !out[n-1].Start.Equal(start) {
			out = append(out, store.Bucket{Start: start, Min: math.Inf(1), Max: math.Inf(-1), First: r.Value})
		}
		b := &out[len(out)-1]
		b.Count++
		b.Min, b.Max = math.Min(b.Min, r.Value), math.Max(b.Max, r.Value)
		b.Sum += r.Value
		b.Last = r.Value
	}
	return out
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// testPoints stores names on every path, in every order; Points lists each once, in
// byte order (as sort.Strings), whatever the database's collation.
func testPoints(t *testing.T, s store.Store) {
	var l testLog
	names := []string{"b", "B", "a-b", "a.b", "a", "Z", "é", "楼A/电表 1", "a b"}
	l.commit(t, s, batch("csv:1", kwh("b", at(0), 1), kwh("B", at(0), 1), kwh("a-b", at(0), 1), kwh("b", at(time.Minute), 1)))
	commitRaw(t, s, batch("bench", kwh("a.b", at(0), 1), kwh("a", at(0), 1), kwh("b", at(2*time.Minute), 1)))
	l.commit(t, s, batch("csv:2", kwh("Z", at(0), 1), kwh("é", at(0), 1), kwh("楼A/电表 1", at(0), 1), kwh("a b", at(0), 1), kwh("a", at(time.Minute), 1)))
	got, err := s.Points(t.Context())
	if err != nil {
		t.Fatalf("Points: %v", err)
	}
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Points = %q, want %q", got, want)
	}
}

// testUncovered stores readings under leaves 0 and 1 and on the raw path: Uncovered
// names those not under a leaf below the size asked, by point and time.
func testUncovered(t *testing.T, s store.Store) {
	var l testLog
	leaf0 := []reading.Reading{kwh("p", at(2*time.Minute), 2), kwh("p", at(time.Minute), 1)}
	leaf1 := []reading.Reading{kwh("q", at(0), 3)}
	raw := []reading.Reading{kwh("q", at(5*time.Minute), 5), kwh("p", at(0), 0)}
	l.commit(t, s, batch("csv:0", leaf0...))
	l.commit(t, s, batch("csv:1", leaf1...))
	commitRaw(t, s, batch("bench", raw...))
	byKey := func(rs ...reading.Reading) []reading.Reading {
		rs = slices.Clone(rs)
		slices.SortFunc(rs, func(a, b reading.Reading) int {
			return cmp.Or(strings.Compare(a.Point, b.Point), a.Time.Compare(b.Time))
		})
		return rs
	}
	all := byKey(slices.Concat(leaf0, leaf1, raw)...)
	for _, tc := range []struct {
		name  string
		size  int64
		limit int
		want  []reading.Reading
	}{
		{"whole log", 2, 10, byKey(raw...)},
		{"first leaf only", 1, 10, byKey(slices.Concat(leaf1, raw)...)},
		{"no leaf", 0, 10, all},
		{"limited", 0, 2, all[:2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Uncovered(t.Context(), tc.size, tc.limit)
			if err != nil {
				t.Fatalf("Uncovered: %v", err)
			}
			checkReadings(t, "Uncovered", got, tc.want)
		})
	}
}
