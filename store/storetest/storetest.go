// Package storetest is the conformance suite of the store.Store contract: every
// implementation (store/sqlite, store/postgres) runs Run from its own test against a
// real database, so behaviour the contract leaves to prose — exact round trips of
// values and times, atomic commits, ErrConflict between racing writers, ErrNotFound —
// is pinned once, for all of them.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// Run runs the suite. open must return a fresh, empty store on every call; Run closes
// it when the subtest ends, before the cleanups open registered (removing a file,
// dropping a schema) run.
//
// Beyond the interface's doc comments the suite pins what both stores do and callers
// rely on: Neighbours is strict (a reading at t is neither prev nor next); Aggregate
// leaves out buckets without readings and equals store.Buckets over Range; a commit
// whose reading is already stored fails whole, with every other commit of its call;
// Commit with no commits does nothing; a checkpoint saved again for a size replaces
// the note; a missing stored hash is an error from ReadHashes.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Empty", testEmpty},
		{"Ledger", testLedger},
		{"RawPath", testRawPath},
		{"Conflict", testConflict},
		{"Atomicity", testAtomicity},
		{"GroupCommit", testGroupCommit},
		{"ConcurrentCommit", testConcurrentCommit},
		{"LargeCommit", testLargeCommit},
		{"Existing", testExisting},
		{"Neighbours", testNeighbours},
		{"Range", testRange},
		{"Aggregate", testAggregate},
		{"Points", testPoints},
		{"Uncovered", testUncovered},
		{"Quarantine", testQuarantine},
		{"Checkpoints", testCheckpoints},
		{"Keys", testKeys},
		{"Events", testEvents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, s)
		})
	}
}

// t0 is the suite's epoch: midnight UTC, so hour and day buckets start on it.
var t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// cst is China Standard Time: inputs in a zone other than UTC must come back in UTC.
var cst = time.FixedZone("CST", 8*3600)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// testLog is the test's own copy of the ledger: it computes the leaf hashes a commit
// must carry with tlog, as the ingest pipeline does, and serves them as a HashReader.
type testLog struct {
	hashes []tlog.Hash
	size   int64
}

func (l *testLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("test log: no hash %d", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

// next returns the commit of b as the next leaf, without recording it.
func (l *testLog) next(t testing.TB, b *reading.Batch) *store.Commit {
	t.Helper()
	leaf := b.Canonical()
	hs, err := tlog.StoredHashes(l.size, leaf, l)
	if err != nil {
		t.Fatalf("StoredHashes(%d): %v", l.size, err)
	}
	return &store.Commit{Index: l.size, Leaf: leaf, Batch: b, Hashes: hs}
}

// accepted records c, which the store has committed.
func (l *testLog) accepted(c *store.Commit) {
	l.hashes = append(l.hashes, c.Hashes...)
	l.size++
}

// group returns the commits of bs as the next leaves, for one Commit call, without
// recording them.
func (l *testLog) group(t testing.TB, bs ...*reading.Batch) []*store.Commit {
	t.Helper()
	tmp := testLog{hashes: slices.Clone(l.hashes), size: l.size}
	cs := make([]*store.Commit, len(bs))
	for i, b := range bs {
		cs[i] = tmp.next(t, b)
		tmp.accepted(cs[i])
	}
	return cs
}

// commit commits b as the next leaf and fails the test if the store refuses it.
func (l *testLog) commit(t testing.TB, s store.Store, b *reading.Batch) *store.Commit {
	t.Helper()
	c := l.next(t, b)
	if err := s.Commit(context.Background(), c); err != nil {
		t.Fatalf("Commit(%d): %v", c.Index, err)
	}
	l.accepted(c)
	return c
}

// commitRaw stores b on the raw path (Index -1).
func commitRaw(t testing.TB, s store.Store, b *reading.Batch) {
	t.Helper()
	if err := s.Commit(context.Background(), &store.Commit{Index: -1, Batch: b}); err != nil {
		t.Fatalf("Commit(raw): %v", err)
	}
}

// fakeHashes returns as many (meaningless) hashes as leaf index adds, for commits that
// must fail on their index before anything looks at the hashes.
func fakeHashes(index int64) []tlog.Hash {
	n := tlog.StoredHashCount(index+1) - tlog.StoredHashCount(index)
	hs := make([]tlog.Hash, n)
	for i := range hs {
		hs[i][0] = byte(i + 1)
	}
	return hs
}

// batch returns a batch of rs from a test source.
func batch(source string, rs ...reading.Reading) *reading.Batch {
	return &reading.Batch{Source: source, Received: at(24 * time.Hour), Readings: rs}
}

// kwh is a good reading in kWh.
func kwh(point string, t time.Time, v float64) reading.Reading {
	return reading.Reading{Point: point, Time: t, Value: v, Unit: "kWh", Quality: reading.Good}
}

// checkReading fails unless got is want exactly: the same value bits, the same
// instant to the nanosecond, in UTC.
func checkReading(t testing.TB, what string, got, want reading.Reading) {
	t.Helper()
	if got.Point != want.Point || !got.Time.Equal(want.Time) || got.Unit != want.Unit || got.Quality != want.Quality ||
		math.Float64bits(got.Value) != math.Float64bits(want.Value) {
		t.Errorf("%s = %s, want %s", what, fmtReading(got), fmtReading(want))
		return
	}
	checkUTC(t, what, got.Time)
}

func checkReadings(t testing.TB, what string, got, want []reading.Reading) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d readings, want %d\n got: %s\nwant: %s", what, len(got), len(want), fmtReadings(got), fmtReadings(want))
		return
	}
	for i := range want {
		checkReading(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
	}
}

func checkUTC(t testing.TB, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Errorf("%s: time %v in %v, want UTC", what, tm, tm.Location())
	}
}

func checkEvent(t testing.TB, what string, got, want reading.Event) {
	t.Helper()
	if got.Kind != want.Kind || got.Source != want.Source || !got.Time.Equal(want.Time) || !maps.Equal(got.Attrs, want.Attrs) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
		return
	}
	checkUTC(t, what, got.Time)
}

func fmtReading(r reading.Reading) string {
	return fmt.Sprintf("{%s %s %s(%#x) %s %s}", r.Point, reading.FormatTime(r.Time), reading.FormatValue(r.Value),
		math.Float64bits(r.Value), r.Unit, r.Quality)
}

func fmtReadings(rs []reading.Reading) string {
	s := "["
	for i, r := range rs {
		if i > 0 {
			s += " "
		}
		s += fmtReading(r)
	}
	return s + "]"
}

func fmtReadingPtr(r *reading.Reading) string {
	if r == nil {
		return "nil"
	}
	return fmtReading(*r)
}

// wantErr fails unless err wraps target.
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// checkSize fails unless the store's tree size is want.
func checkSize(t testing.TB, s store.Store, want int64) {
	t.Helper()
	got, err := s.TreeSize(t.Context())
	if err != nil {
		t.Fatalf("TreeSize: %v", err)
	}
	if got != want {
		t.Errorf("TreeSize = %d, want %d", got, want)
	}
}

// keysOf returns the keys of rs.
func keysOf(rs []reading.Reading) []reading.Key {
	ks := make([]reading.Key, len(rs))
	for i := range rs {
		ks[i] = rs[i].Key()
	}
	return ks
}
