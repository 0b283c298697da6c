package ingest_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
	"github.com/lifang-community/lifang/store/sqlite"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

type env struct {
	st  *sqlite.Store
	log *ledger.Log
	p   *ingest.Pipeline
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sk, vk, err := ledger.GenerateKey("test.local/unit")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ledger.NewSigner(sk)
	ver, _ := ledger.NewVerifier(vk)
	l, err := ledger.New("test.local/unit", st, 0, signer, nil, note.VerifierList(ver))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return t0.Add(24 * time.Hour) }
	return &env{st: st, log: l, p: ingest.NewPipeline(st, l, now, nil)}
}

func energy(point string, minutes int, v float64) reading.Reading {
	return reading.Reading{Point: point, Time: t0.Add(time.Duration(minutes) * time.Minute), Value: v, Unit: "kWh"}
}

func TestPipelineAccounting(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := ingest.Input{Source: "test", Readings: []reading.Reading{
		energy("m1", 0, 100), energy("m1", 15, 101), energy("m1", 30, 102),
		energy("m1", 30, 102),                                             // duplicate in batch
		energy("m1", 45, 99),                                              // backwards
		{Point: "m2", Time: t0, Value: 5, Unit: "furlongs"},               // unknown unit
		{Point: "m2", Time: t0.Add(48 * time.Hour), Value: 5, Unit: "kW"}, // future
		{Point: "m2", Time: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Value: 5, Unit: "kW"}, // too old
		{Point: "m2", Time: t0, Value: 150, Unit: "%"},                                         // out of range
		{Point: "bad\tname", Time: t0, Value: 1, Unit: "kW"},                                   // bad name
		{Point: "m3", Time: t0, Value: 7.5, Unit: "kw"},                                        // alias unit: accepted as kW
	}, Rejected: []store.Rejected{{Raw: "garbage", Reason: "line 9: not CSV"}}}
	res, err := e.p.Ingest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 4 || res.Duplicates != 1 || res.Quarantined != 7 {
		t.Fatalf("got %+v, want 4 accepted, 1 duplicate, 7 quarantined", res)
	}
	for _, reason := range []string{ingest.ReasonBackwards, ingest.ReasonUnit, ingest.ReasonFuture, ingest.ReasonOld, ingest.ReasonValue, ingest.ReasonName, ingest.ReasonParse} {
		if res.Reasons[reason] != 1 {
			t.Errorf("reason %q counted %d times, want 1 (%v)", reason, res.Reasons[reason], res.Reasons)
		}
	}
	q, err := e.st.Quarantined(ctx, "open", 0)
	if err != nil || len(q) != 7 {
		t.Fatalf("quarantine has %d entries (%v), want 7", len(q), err)
	}
	for _, it := range q {
		if it.Reason == "" || it.Raw == "" {
			t.Errorf("quarantine entry without raw input or reason: %+v", it)
		}
	}
	if res.TreeSize != 1 || res.Checkpoint == "" || res.LeafIndex != 0 {
		t.Fatalf("ledger: %+v", res)
	}
	got, _ := e.st.Range(ctx, "m3", t0, t0.Add(time.Hour))
	if len(got) != 1 || got[0].Unit != "kW" {
		t.Fatalf("alias unit not canonicalised: %+v", got)
	}

	// Re-sending the same input is idempotent: no new readings, no new leaf.
	res2, err := e.p.Ingest(ctx, ingest.Input{Source: "test", Readings: in.Readings[:3]})
	if err != nil || res2.Accepted != 0 || res2.Duplicates != 3 || res2.TreeSize != 1 {
		t.Fatalf("resend: %+v, %v", res2, err)
	}
	// The same point and time with another value conflicts.
	res3, _ := e.p.Ingest(ctx, ingest.Input{Source: "test", Readings: []reading.Reading{energy("m1", 15, 101.5)}})
	if res3.Quarantined != 1 || res3.Reasons[ingest.ReasonConflict] != 1 {
		t.Fatalf("conflict: %+v", res3)
	}
}

// Out-of-order readings are accepted when they fit between their neighbours; a value
// that would make the register go backwards relative to later stored readings is not.
func TestPipelineOutOfOrderAndRollover(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mustIngest := func(rs ...reading.Reading) ingest.Result {
		t.Helper()
		res, err := e.p.Ingest(ctx, ingest.Input{Source: "test", Readings: rs})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	mustIngest(energy("m", 0, 10), energy("m", 60, 20))
	if r := mustIngest(energy("m", 30, 15)); r.Accepted != 1 {
		t.Fatalf("in-between backfill rejected: %+v", r)
	}
	if r := mustIngest(energy("m", 45, 25)); r.Quarantined != 1 {
		t.Fatalf("backfill above the later stored 20 accepted: %+v", r)
	}
	if r := mustIngest(energy("m", 15, 9)); r.Quarantined != 1 {
		t.Fatalf("backfill below the earlier stored 10 accepted: %+v", r)
	}
	// A 6-digit counter wrapping: 999,950 → 30 is a rollover.
	if r := mustIngest(energy("w", 0, 999950), energy("w", 15, 30)); r.Accepted != 2 {
		t.Fatalf("rollover rejected: %+v", r)
	}
	// A real drop is not.
	if r := mustIngest(energy("x", 0, 5000), energy("x", 15, 100)); r.Accepted != 1 || r.Quarantined != 1 {
		t.Fatalf("drop accepted: %+v", r)
	}
}

func TestPipelineTooLarge(t *testing.T) {
	e := newEnv(t)
	rs := make([]reading.Reading, ingest.MaxBatch+1)
	for i := range rs {
		rs[i] = energy("m", i, float64(i))
	}
	_, err := e.p.Ingest(context.Background(), ingest.Input{Source: "test", Readings: rs})
	if !errors.Is(err, ingest.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if n, _ := e.st.TreeSize(context.Background()); n != 0 {
		t.Fatalf("an oversized batch left %d leaves", n)
	}
}

func TestCSV(t *testing.T) {
	src := "point,timestamp,value,unit\n" +
		"m1,2026-03-01T00:00:00Z,1.5,kWh\n" +
		"m1,not-a-time,2,kWh\n" +
		"m1,2026-03-01T00:15:00Z,abc,kWh\n" +
		"m1,2026-03-01T00:30:00Z,NaN,kWh\n" +
		"m1,2026-03-01T00:45:00Z,3\n" +
		"\"unterminated,2026-03-01T01:00:00Z,4,kWh\n"
	var got []ingest.Input
	err := ingest.ReadCSV(strings.NewReader(src), "x.csv", 2, func(in ingest.Input) error {
		got = append(got, in)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var readings, rejected int
	var reasons []string
	for _, in := range got {
		readings += len(in.Readings)
		rejected += len(in.Rejected)
		for _, r := range in.Rejected {
			reasons = append(reasons, r.Reason)
		}
	}
	if readings != 1 || rejected != 5 {
		t.Fatalf("%d readings, %d rejected (%q)", readings, rejected, reasons)
	}
	for _, want := range []string{"x.csv:3: timestamp", "x.csv:4: value", "x.csv:5: value", "x.csv:6: unit: missing"} {
		if !strings.Contains(strings.Join(reasons, "\n"), want) {
			t.Errorf("no rejection %q in %q", want, reasons)
		}
	}
	for _, bad := range []string{"", "time,value\n1,2\n", "point,value,unit\n"} {
		if err := ingest.ReadCSV(strings.NewReader(bad), "y.csv", 10, func(ingest.Input) error { return nil }); err == nil || !strings.Contains(err.Error(), "y.csv") {
			t.Errorf("%q: error %v, want one naming y.csv", bad, err)
		}
	}
}

// A meter replacement is an explicit, logged event: the register restarts at the new
// meter's value and readings on each side are checked only against their own meter.
func TestPipelineMeterReplacement(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ingestOK := func(in ingest.Input) ingest.Result {
		t.Helper()
		in.Source = "test"
		res, err := e.p.Ingest(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ingestOK(ingest.Input{Readings: []reading.Reading{energy("m", 0, 5000)}})
	if r := ingestOK(ingest.Input{Readings: []reading.Reading{energy("m", 15, 12)}}); r.Quarantined != 1 {
		t.Fatalf("a drop without a replacement was accepted: %+v", r)
	}
	swap := reading.Event{Kind: reading.MeterReplaced, Source: "m", Time: t0.Add(10 * time.Minute), Attrs: map[string]string{"old_final": "5001", "new_initial": "0"}}
	if r := ingestOK(ingest.Input{Events: []reading.Event{swap}, Readings: []reading.Reading{energy("m", 15, 12)}}); r.Accepted != 1 || r.Events != 1 {
		t.Fatalf("the new meter's first reading was refused: %+v", r)
	}
	if r := ingestOK(ingest.Input{Readings: []reading.Reading{energy("m", 20, 11)}}); r.Quarantined != 1 {
		t.Fatalf("the new meter going backwards was accepted: %+v", r)
	}
	if r := ingestOK(ingest.Input{Readings: []reading.Reading{energy("m", 5, 5001)}}); r.Accepted != 1 {
		t.Fatalf("a late reading of the old meter was refused: %+v", r)
	}
	// A fresh pipeline over the same store learns the replacement from the stored event.
	p2 := ingest.NewPipeline(e.st, e.log, func() time.Time { return t0.Add(24 * time.Hour) }, nil)
	if r, _ := p2.Ingest(ctx, ingest.Input{Source: "test", Readings: []reading.Reading{energy("m", 30, 13)}}); r.Accepted != 1 {
		t.Fatalf("after restart: %+v", r)
	}
}
