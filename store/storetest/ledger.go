package storetest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// trickyBatch holds what a lossy store gets wrong: values whose shortest decimal is
// long, subnormals, zero, integers beyond 2^53, nanoseconds, times given in
// another zone, every quality, readings out of time order, events with and without
// attributes.
func trickyBatch() *reading.Batch {
	return &reading.Batch{
		Source:   "csv:meters/2024-03.csv",
		Received: time.Date(2024, 3, 2, 8, 30, 0, 123456789, cst),
		Readings: []reading.Reading{
			{Point: "meter/2", Time: at(3 * time.Second), Value: -1.5, Unit: "kW", Quality: reading.Good},
			{Point: "meter/2", Time: at(0), Value: 123456789012345678, Unit: "Wh", Quality: reading.Good},
			{Point: "meter/2", Time: at(time.Second), Value: 5e-324, Unit: "Wh", Quality: reading.Estimated},
			{Point: "meter/2", Time: at(2 * time.Second), Value: math.MaxFloat64, Unit: "Wh", Quality: reading.Substituted},
			{Point: "meter/1", Time: at(time.Nanosecond).In(cst), Value: 0.1 + 0.2, Unit: "kWh", Quality: reading.Good},
			{Point: "meter/1", Time: at(15*time.Minute + 123456789), Value: 1e-300, Unit: "kWh", Quality: reading.Estimated},
			{Point: "meter/1", Time: at(30 * time.Minute), Value: 0, Unit: "kWh", Quality: reading.Substituted},
			{Point: "楼A/电表 1", Time: at(999999999), Value: 1<<53 + 2, Unit: "kWh", Quality: reading.Good},
			{Point: "楼A/电表 1", Time: at(-time.Hour), Value: -123456.789e-10, Unit: "kWh", Quality: reading.Good},
		},
		Events: []reading.Event{
			{Kind: reading.EVSessionStart, Source: "CP1/1", Time: at(5*time.Minute + 1),
				Attrs: map[string]string{"id_tag": "ABC123", "meter_start": "12.5", "a": ""}},
			{Kind: reading.GateIn, Source: "gate-北", Time: at(6 * time.Minute).In(cst), Attrs: map[string]string{}},
			{Kind: reading.EVSessionStop, Source: "CP1/1", Time: at(4 * time.Minute), Attrs: map[string]string{"reason": "Local"}},
		},
	}
}

// ledgerBatches are committed as leaves 0, 1, 2, … by testLedger.
func ledgerBatches() []*reading.Batch {
	many := &reading.Batch{Source: "mqtt:lifang/site1", Received: at(time.Hour)}
	for i := range 50 {
		many.Readings = append(many.Readings, kwh(fmt.Sprintf("site1/m%02d", i%7), at(time.Duration(i)*time.Minute), float64(i)*0.1))
	}
	return []*reading.Batch{
		trickyBatch(),
		{Source: "ocpp:CP2", Received: at(2 * time.Hour), Events: []reading.Event{
			{Kind: reading.EVSessionStart, Source: "CP2/1", Time: at(time.Hour), Attrs: map[string]string{"tx": "7"}},
		}},
		many,
		{Source: "csv:empty.csv", Received: at(3 * time.Hour)},
		batch("json:one", kwh("site1/m00", at(24*time.Hour), 42)),
	}
}

func testEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	checkSize(t, s, 0)
	_, err := s.Leaf(ctx, 0)
	wantErr(t, "Leaf(0)", err, store.ErrNotFound)
	_, err = s.BatchReadings(ctx, 0)
	wantErr(t, "BatchReadings(0)", err, store.ErrNotFound)
	_, _, err = s.LatestCheckpoint(ctx)
	wantErr(t, "LatestCheckpoint", err, store.ErrNotFound)
	if _, err := s.ReadHashes([]int64{0}); err == nil {
		t.Error("ReadHashes([0]) on an empty store: no error")
	}
	if ps, err := s.Points(ctx); err != nil || len(ps) != 0 {
		t.Errorf("Points = %q, %v; want none", ps, err)
	}
	if sk, vk, err := s.Keys(ctx); err != nil || len(sk) != 0 || len(vk) != 0 {
		t.Errorf("Keys = %q, %q, %v; want none", sk, vk, err)
	}
	if q, err := s.Quarantined(ctx, "", 10); err != nil || len(q) != 0 {
		t.Errorf("Quarantined = %v, %v; want none", q, err)
	}
	if rs, err := s.Range(ctx, "meter/1", at(-time.Hour), at(time.Hour)); err != nil || len(rs) != 0 {
		t.Errorf("Range = %v, %v; want none", rs, err)
	}
	if bs, err := s.Aggregate(ctx, "meter/1", at(-time.Hour), at(time.Hour), time.Hour); err != nil || len(bs) != 0 {
		t.Errorf("Aggregate = %v, %v; want none", bs, err)
	}
	if p, n, err := s.Neighbours(ctx, "meter/1", t0); err != nil || p != nil || n != nil {
		t.Errorf("Neighbours = %s, %s, %v; want nil, nil", fmtReadingPtr(p), fmtReadingPtr(n), err)
	}
	if m, err := s.Existing(ctx, []reading.Key{{Point: "meter/1", Time: t0.UnixNano()}}); err != nil || len(m) != 0 {
		t.Errorf("Existing = %v, %v; want none", m, err)
	}
	if rs, err := s.Uncovered(ctx, 0, 10); err != nil || len(rs) != 0 {
		t.Errorf("Uncovered = %v, %v; want none", rs, err)
	}
}

// testLedger commits leaves 0, 1, 2, … and reads back every leaf, batch and hash; the
// tree the store's hashes describe must be the one tlog computes.
func testLedger(t *testing.T, s store.Store) {
	ctx := t.Context()
	var l testLog
	batches := ledgerBatches()
	commits := make([]*store.Commit, len(batches))
	for i, b := range batches {
		commits[i] = l.commit(t, s, b)
		checkSize(t, s, int64(i+1))
	}
	for i, c := range commits {
		t.Run(fmt.Sprintf("leaf%d", i), func(t *testing.T) {
			leaf, err := s.Leaf(ctx, c.Index)
			if err != nil {
				t.Fatalf("Leaf: %v", err)
			}
			if !bytes.Equal(leaf, c.Leaf) {
				t.Errorf("Leaf = %q, want %q", leaf, c.Leaf)
			}
			b, err := s.BatchReadings(ctx, c.Index)
			if err != nil {
				t.Fatalf("BatchReadings: %v", err)
			}
			if got := b.Canonical(); !bytes.Equal(got, c.Leaf) {
				t.Errorf("BatchReadings(%d).Canonical() =\n%s\nwant the committed leaf\n%s", c.Index, got, c.Leaf)
			}
			want := c.Batch
			if b.Source != want.Source || !b.Received.Equal(want.Received) {
				t.Errorf("batch source, received = %q, %v; want %q, %v", b.Source, b.Received, want.Source, want.Received)
			}
			checkUTC(t, "Received", b.Received)
			checkReadings(t, "Readings", b.Readings, want.Readings)
			if len(b.Events) != len(want.Events) {
				t.Fatalf("%d events, want %d", len(b.Events), len(want.Events))
			}
			for j := range want.Events {
				checkEvent(t, fmt.Sprintf("Events[%d]", j), b.Events[j], want.Events[j])
			}
		})
	}
	t.Run("hashes", func(t *testing.T) {
		all := make([]int64, len(l.hashes))
		for i := range all {
			all[i] = int64(i)
		}
		for _, tc := range []struct {
			name    string
			indexes []int64
		}{
			{"all", all},
			{"shuffled with repeats", []int64{5, 0, 5, 3, int64(len(l.hashes) - 1), 1}},
			{"one", []int64{2}},
		} {
			got, err := s.ReadHashes(tc.indexes)
			if err != nil {
				t.Fatalf("%s: ReadHashes: %v", tc.name, err)
			}
			want, _ := l.ReadHashes(tc.indexes)
			if len(got) != len(want) {
				t.Fatalf("%s: %d hashes, want %d", tc.name, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s: hash %d = %v, want %v", tc.name, tc.indexes[i], got[i], want[i])
				}
			}
		}
		if _, err := s.ReadHashes([]int64{0, int64(len(l.hashes))}); err == nil {
			t.Errorf("ReadHashes past the last stored hash: no error")
		}
		// The store as a tlog.HashReader proves the records it holds.
		size := l.size
		th, err := tlog.TreeHash(size, s)
		if err != nil {
			t.Fatalf("TreeHash over the store: %v", err)
		}
		if want, _ := tlog.TreeHash(size, &l); th != want {
			t.Fatalf("TreeHash = %v, want %v", th, want)
		}
		for i, c := range commits {
			p, err := tlog.ProveRecord(size, int64(i), s)
			if err != nil {
				t.Fatalf("ProveRecord(%d): %v", i, err)
			}
			if err := tlog.CheckRecord(p, size, th, int64(i), tlog.RecordHash(c.Leaf)); err != nil {
				t.Errorf("CheckRecord(%d): %v", i, err)
			}
		}
	})
	t.Run("missing", func(t *testing.T) {
		for _, idx := range []int64{l.size, l.size + 10, -1} {
			_, err := s.Leaf(ctx, idx)
			wantErr(t, fmt.Sprintf("Leaf(%d)", idx), err, store.ErrNotFound)
			_, err = s.BatchReadings(ctx, idx)
			wantErr(t, fmt.Sprintf("BatchReadings(%d)", idx), err, store.ErrNotFound)
		}
	})
}

// testRawPath stores readings and events with Index -1: they are queryable but add
// no leaf, and the log carries on where it was.
func testRawPath(t *testing.T, s store.Store) {
	ctx := t.Context()
	var l testLog
	l.commit(t, s, batch("csv:a", kwh("p", at(0), 1)))
	raw := []*reading.Batch{
		{Source: "bench", Received: at(time.Hour), Readings: []reading.Reading{kwh("p", at(time.Minute), 2), kwh("raw", at(0), 0.1+0.2)},
			Events: []reading.Event{{Kind: reading.GateIn, Source: "g1", Time: at(time.Minute), Attrs: map[string]string{"plate": "沪A"}}}},
		{Source: "bench", Received: at(time.Hour), Readings: []reading.Reading{kwh("raw", at(time.Minute), 3)},
			Events: []reading.Event{{Kind: reading.GateOut, Source: "g1", Time: at(2 * time.Minute)}}},
	}
	for _, b := range raw {
		commitRaw(t, s, b)
	}
	checkSize(t, s, 1)
	_, err := s.Leaf(ctx, 1)
	wantErr(t, "Leaf(1) after raw commits", err, store.ErrNotFound)
	rs, err := s.Range(ctx, "raw", at(0), at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	checkReadings(t, "Range(raw)", rs, []reading.Reading{kwh("raw", at(0), 0.1+0.2), kwh("raw", at(time.Minute), 3)})
	// The next leaf is 1 and holds only its own readings and events.
	c := l.commit(t, s, &reading.Batch{Source: "csv:b", Received: at(2 * time.Hour),
		Readings: []reading.Reading{kwh("p", at(2*time.Minute), 4)},
		Events:   []reading.Event{{Kind: reading.GateIn, Source: "g2", Time: at(3 * time.Minute), Attrs: map[string]string{}}}})
	checkSize(t, s, 2)
	b, err := s.BatchReadings(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Canonical(), c.Leaf) {
		t.Errorf("BatchReadings(1) after raw commits =\n%s\nwant\n%s", b.Canonical(), c.Leaf)
	}
}

// testConflict commits at indexes that are not the next one: each fails with
// ErrConflict and leaves no trace.
func testConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	var l testLog
	first := l.commit(t, s, batch("csv:a", kwh("p", at(0), 1)))
	l.commit(t, s, batch("csv:b", kwh("p", at(time.Minute), 2)))
	for _, tc := range []struct {
		name  string
		index int64
	}{
		{"leaf 0 again", 0},
		{"last leaf again", 1},
		{"one ahead", 3},
		{"far ahead", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &reading.Batch{Source: "csv:late", Received: at(time.Hour),
				Readings: []reading.Reading{kwh("late", at(0), 9), kwh("p", at(time.Hour), 9)},
				Events:   []reading.Event{{Kind: reading.GateIn, Source: "g", Time: at(0)}}}
			c := &store.Commit{Index: tc.index, Leaf: b.Canonical(), Batch: b, Hashes: fakeHashes(tc.index)}
			if tc.index == 0 {
				// Real hashes: a store that checked them first would still owe ErrConflict.
				var fresh testLog
				c = fresh.next(t, b)
			}
			wantErr(t, fmt.Sprintf("Commit(%d) at size 2", tc.index), s.Commit(ctx, c), store.ErrConflict)
			checkSize(t, s, 2)
			if m, err := s.Existing(ctx, keysOf(b.Readings)); err != nil || len(m) != 0 {
				t.Errorf("Existing after a refused commit = %v, %v; want none", m, err)
			}
			if ps, err := s.Points(ctx); err != nil || len(ps) != 1 || ps[0] != "p" {
				t.Errorf("Points after a refused commit = %q, %v; want [p]", ps, err)
			}
			leaf, err := s.Leaf(ctx, 0)
			if err != nil || !bytes.Equal(leaf, first.Leaf) {
				t.Errorf("Leaf(0) after a refused commit = %q, %v; want %q", leaf, err, first.Leaf)
			}
			if _, err := s.Leaf(ctx, 2); err == nil {
				t.Errorf("Leaf(2) exists after a refused commit")
			}
		})
	}
	l.commit(t, s, batch("csv:c", kwh("p", at(2*time.Minute), 3)))
	checkSize(t, s, 3)
}

// testAtomicity makes a commit fail part-way, on a reading already stored: nothing of
// it may remain, and the same index then commits cleanly.
func testAtomicity(t *testing.T, s store.Store) {
	ctx := t.Context()
	var l testLog
	stored := kwh("p", at(time.Minute), 1)
	l.commit(t, s, batch("csv:a", stored))
	for _, tc := range []struct {
		name string
		raw  bool
		rs   []reading.Reading
	}{
		{"collides with a stored reading", false, []reading.Reading{kwh("new", at(0), 1), kwh("p", at(0), 2), kwh("p", at(time.Minute), 3)}},
		{"collides within the batch", false, []reading.Reading{kwh("new", at(0), 1), kwh("new", at(time.Second), 2), kwh("new", at(0), 3)}},
		{"raw path collides", true, []reading.Reading{kwh("new", at(0), 1), kwh("p", at(time.Minute), 3)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &reading.Batch{Source: "csv:dup", Received: at(time.Hour), Readings: tc.rs,
				Events: []reading.Event{{Kind: reading.GateIn, Source: "g", Time: at(0), Attrs: map[string]string{"k": "v"}}}}
			c := l.next(t, b)
			if tc.raw {
				c = &store.Commit{Index: -1, Batch: b}
			}
			if err := s.Commit(ctx, c); err == nil {
				t.Fatalf("Commit of a batch with a reading already stored: no error")
			}
			checkSize(t, s, 1)
			m, err := s.Existing(ctx, append(keysOf(tc.rs), stored.Key()))
			if err != nil {
				t.Fatal(err)
			}
			if len(m) != 1 || math.Float64bits(m[stored.Key()]) != math.Float64bits(stored.Value) {
				t.Errorf("Existing after a failed commit = %v, want only %v = %v", m, stored.Key(), stored.Value)
			}
			if _, err := s.Leaf(ctx, 1); err == nil {
				t.Errorf("Leaf(1) exists after a failed commit")
			}
			if _, err := s.ReadHashes([]int64{tlog.StoredHashIndex(0, 1)}); err == nil {
				t.Errorf("hash of leaf 1 stored after a failed commit")
			}
		})
	}
	// Leaf 1 is still free, and no event of the failed commits is filed under it.
	c := l.commit(t, s, batch("csv:ok", kwh("new", at(0), 1)))
	b, err := s.BatchReadings(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Canonical(), c.Leaf) {
		t.Errorf("BatchReadings(1) =\n%s\nwant\n%s", b.Canonical(), c.Leaf)
	}
	if th, err := tlog.TreeHash(2, s); err != nil {
		t.Errorf("TreeHash: %v", err)
	} else if want, _ := tlog.TreeHash(2, &l); th != want {
		t.Errorf("TreeHash = %v, want %v", th, want)
	}
}

// testGroupCommit commits several leaves in one call: all of them or none.
func testGroupCommit(t *testing.T, s store.Store) {
	ctx := t.Context()
	var l testLog
	stored := kwh("p", at(0), 0)
	l.commit(t, s, batch("csv:0", stored))
	n := 0
	fresh := func() *reading.Batch { // a batch no other collides with
		n++
		return &reading.Batch{Source: fmt.Sprintf("csv:%d", n), Received: at(time.Duration(n) * time.Hour),
			Readings: []reading.Reading{kwh("p", at(time.Duration(n)*time.Minute), float64(n)), kwh(fmt.Sprintf("g%d", n), at(0), 0.1)},
			Events:   []reading.Event{{Kind: reading.GateIn, Source: "g", Time: at(time.Duration(n)), Attrs: map[string]string{"n": fmt.Sprint(n)}}}}
	}
	dup := func() *reading.Batch { b := fresh(); b.Readings = append(b.Readings, stored); return b }
	for _, tc := range []struct {
		name string
		cs   func() []*store.Commit // commits of the call, from the log as it stands
		ok   bool
		err  error // wrapped by the error when !ok (nil: any error)
	}{
		{"no commits", func() []*store.Commit { return nil }, true, nil},
		{"one", func() []*store.Commit { return l.group(t, fresh()) }, true, nil},
		{"three", func() []*store.Commit { return l.group(t, fresh(), fresh(), fresh()) }, true, nil},
		{"stale", func() []*store.Commit {
			cs := l.group(t, fresh(), fresh())
			for _, c := range cs {
				c.Index--
				c.Hashes = fakeHashes(c.Index)
			}
			return cs
		}, false, store.ErrConflict},
		{"ahead", func() []*store.Commit {
			cs := l.group(t, fresh(), fresh())
			for _, c := range cs {
				c.Index++
				c.Hashes = fakeHashes(c.Index)
			}
			return cs
		}, false, store.ErrConflict},
		{"second collides", func() []*store.Commit { return l.group(t, fresh(), dup()) }, false, nil},
		{"third collides with the first", func() []*store.Commit {
			a := fresh()
			c := fresh()
			c.Readings = append(c.Readings, a.Readings[0])
			return l.group(t, a, fresh(), c)
		}, false, nil},
		{"gap in indexes", func() []*store.Commit {
			cs := l.group(t, fresh(), fresh())
			cs[1].Index++
			cs[1].Hashes = fakeHashes(cs[1].Index)
			return cs
		}, false, nil},
		{"after the failures", func() []*store.Commit { return l.group(t, fresh(), fresh()) }, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := l.size
			cs := tc.cs()
			err := s.Commit(ctx, cs...)
			var keys []reading.Key
			for _, c := range cs {
				keys = append(keys, keysOf(c.Batch.Readings)...)
			}
			if !tc.ok {
				if err == nil {
					t.Fatalf("Commit of %d leaves: no error", len(cs))
				}
				if tc.err != nil {
					wantErr(t, "Commit", err, tc.err)
				}
				checkSize(t, s, size)
				m, err := s.Existing(ctx, append(keys, stored.Key()))
				if err != nil {
					t.Fatal(err)
				}
				if len(m) != 1 || m[stored.Key()] != stored.Value {
					t.Errorf("Existing after a failed group = %v, want only %v", m, stored.Key())
				}
				if _, err := s.Leaf(ctx, size); err == nil {
					t.Errorf("Leaf(%d) exists after a failed group", size)
				}
				return
			}
			if err != nil {
				t.Fatalf("Commit of %d leaves: %v", len(cs), err)
			}
			for _, c := range cs {
				l.accepted(c)
			}
			checkSize(t, s, l.size)
			for _, c := range cs {
				b, err := s.BatchReadings(ctx, c.Index)
				if err != nil {
					t.Fatalf("BatchReadings(%d): %v", c.Index, err)
				}
				if !bytes.Equal(b.Canonical(), c.Leaf) {
					t.Errorf("BatchReadings(%d) =\n%s\nwant\n%s", c.Index, b.Canonical(), c.Leaf)
				}
			}
			if th, err := tlog.TreeHash(l.size, s); err != nil {
				t.Errorf("TreeHash: %v", err)
			} else if want, _ := tlog.TreeHash(l.size, &l); th != want {
				t.Errorf("TreeHash = %v, want %v", th, want)
			}
		})
	}
}

// testConcurrentCommit races two writers for each next index, with single commits
// and with groups: exactly one wins, the other gets ErrConflict and leaves no trace.
func testConcurrentCommit(t *testing.T, s store.Store) {
	ctx := t.Context()
	var l testLog
	const rounds = 10
	var lost []reading.Key
	for round := range rounds {
		var cs [2][]*store.Commit
		for w := range cs {
			var bs []*reading.Batch
			for g := range 1 + round%3 {
				tm := at(time.Duration(round)*time.Minute + time.Duration(g)*time.Second)
				bs = append(bs, batch(fmt.Sprintf("writer:%d", w),
					kwh(fmt.Sprintf("race/%d", w), tm, float64(round)),
					kwh("race/shared", tm.Add(time.Duration(w)), float64(w))))
			}
			cs[w] = l.group(t, bs...)
		}
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range cs {
			wg.Go(func() {
				<-start
				errs[w] = s.Commit(ctx, cs[w]...)
			})
		}
		close(start)
		wg.Wait()
		win := -1
		switch {
		case errs[0] == nil && errs[1] == nil:
			t.Fatalf("round %d: both writers committed leaf %d", round, l.size)
		case errs[0] == nil:
			win = 0
		case errs[1] == nil:
			win = 1
		default:
			t.Fatalf("round %d: no writer committed: %v; %v", round, errs[0], errs[1])
		}
		wantErr(t, fmt.Sprintf("round %d: losing writer", round), errs[1-win], store.ErrConflict)
		for _, c := range cs[win] {
			l.accepted(c)
		}
		for _, c := range cs[1-win] {
			lost = append(lost, keysOf(c.Batch.Readings)...)
		}
	}
	checkSize(t, s, l.size)
	if m, err := s.Existing(ctx, lost); err != nil || len(m) != 0 {
		t.Errorf("Existing(losers' readings) = %v, %v; want none", m, err)
	}
	th, err := tlog.TreeHash(l.size, s)
	if err != nil {
		t.Fatalf("TreeHash: %v", err)
	}
	if want, _ := tlog.TreeHash(l.size, &l); th != want {
		t.Errorf("TreeHash = %v, want %v", th, want)
	}
}

// LargeReadings is the size of the batch testLargeCommit commits.
const LargeReadings = 100_000

// testLargeCommit commits one batch of LargeReadings readings (100 points × 1000
// instants, as a day of one-minute data from a large site might be) and reads it back.
func testLargeCommit(t *testing.T, s store.Store) {
	if testing.Short() {
		t.Skip("100k-reading commit skipped in -short mode")
	}
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	b := &reading.Batch{Source: "csv:large.csv", Received: at(48 * time.Hour)}
	const points = 100
	for i := range LargeReadings {
		p := fmt.Sprintf("site/meter%03d", i%points)
		b.Readings = append(b.Readings, kwh(p, at(time.Duration(i/points)*time.Minute+time.Duration(rng.IntN(1000))), rng.Float64()*1e4))
	}
	var l testLog
	c := l.commit(t, s, b)
	checkSize(t, s, 1)
	got, err := s.BatchReadings(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Readings) != LargeReadings || !bytes.Equal(got.Canonical(), c.Leaf) {
		t.Errorf("BatchReadings(0): %d readings, canonical equal %v; want %d, true",
			len(got.Readings), bytes.Equal(got.Canonical(), c.Leaf), LargeReadings)
	}
	rs, err := s.Range(ctx, "site/meter007", at(0), at(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != LargeReadings/points {
		t.Errorf("Range(site/meter007): %d readings, want %d", len(rs), LargeReadings/points)
	}
}
