package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
	"github.com/lifang-community/lifang/store/storetest"
)

// dsn returns LIFANG_POSTGRES_DSN or skips: these tests need a real server.
func dsn(t testing.TB) string {
	d := os.Getenv("LIFANG_POSTGRES_DSN")
	if d == "" {
		t.Skip("LIFANG_POSTGRES_DSN not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return d
}

// openFresh opens a store in a new schema that is dropped when the test ends.
func openFresh(t testing.TB) *Store {
	t.Helper()
	d := dsn(t)
	schema := "lifang_test_" + rand.Text()[:12]
	s, err := Open(t.Context(), d, schema)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, d)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	dsn(t) // skip once, not in every subtest
	storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
}

// TestReopen opens an existing schema again: migrations run once, data stays.
func TestReopen(t *testing.T) {
	s := openFresh(t)
	defer s.Close()
	ctx := t.Context()
	b := &reading.Batch{Source: "csv:a", Received: time.Unix(0, 1).UTC(),
		Readings: []reading.Reading{{Point: "p", Time: time.Unix(60, 0).UTC(), Value: 1, Unit: "kWh"}}}
	leaf := b.Canonical()
	hs, err := tlog.StoredHashes(0, leaf, tlog.HashReaderFunc(func([]int64) ([]tlog.Hash, error) { return nil, nil }))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, &store.Commit{Index: 0, Leaf: leaf, Batch: b, Hashes: hs}); err != nil {
		t.Fatal(err)
	}
	var schema string
	if err := s.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT current_schema()").Scan(&schema)
	}); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, dsn(t), schema)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer again.Close()
	if n, err := again.TreeSize(ctx); err != nil || n != 1 {
		t.Errorf("TreeSize after reopening = %d, %v; want 1", n, err)
	}
	var versions int
	if err := again.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT count(*) FROM schema_version").Scan(&versions)
	}); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations(); versions != len(ms) {
		t.Errorf("schema_version has %d rows, want %d", versions, len(ms))
	}
}

// BenchmarkCommit commits leaves of 10k readings each, with their hashes, as the
// ingest pipeline does; readings/s is the store's sustained commit throughput.
func BenchmarkCommit(b *testing.B) { benchCommit(b, 1, 10_000) }

// BenchmarkCommitGroup commits 10 leaves of 1k readings in each Commit call.
func BenchmarkCommitGroup(b *testing.B) { benchCommit(b, 10, 1_000) }

func benchCommit(b *testing.B, group, perLeaf int) {
	s := openFresh(b)
	defer s.Close()
	ctx := b.Context()
	var hashes []tlog.Hash
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var n, minute int64 // leaves committed; minutes of data written per point
	for b.Loop() {
		cs := make([]*store.Commit, group)
		for g := range cs {
			batch := &reading.Batch{Source: "bench", Received: t0, Readings: make([]reading.Reading, perLeaf)}
			for i := range batch.Readings {
				batch.Readings[i] = reading.Reading{
					Point: fmt.Sprintf("site/meter%03d", i%100),
					Time:  t0.Add(time.Duration(minute+int64(i/100)) * time.Minute),
					Value: float64(i) * 0.1, Unit: "kWh",
				}
			}
			minute += int64(perLeaf / 100)
			leaf := batch.Canonical()
			hs, err := tlog.StoredHashes(n, leaf, hr)
			if err != nil {
				b.Fatal(err)
			}
			hashes = append(hashes, hs...)
			cs[g] = &store.Commit{Index: n, Leaf: leaf, Batch: batch, Hashes: hs}
			n++
		}
		if err := s.Commit(ctx, cs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(perLeaf)/b.Elapsed().Seconds(), "readings/s")
}
