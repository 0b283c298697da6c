package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lifang-community/lifang/store/sqlite"
)

// testClock is a clock that advances one second per call.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

func newClock() *testClock { return &testClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

// openSQLite returns a token store in a fresh readings database, as lifang uses it.
func openSQLite(t *testing.T, clock *testClock) (*SQLStore, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "lifang.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := NewSQLStore(t.Context(), st.DB(), SQLite, WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func TestSQLiteStore(t *testing.T) {
	clock := newClock()
	s, st := openSQLite(t, clock)
	testStore(t, s, clock)

	// The table shares the file with the readings schema, and a second NewSQLStore
	// on it (the next process) keeps the tokens.
	var n int
	if err := st.DB().QueryRow(`SELECT count(*) FROM sqlite_master WHERE name IN ('readings', 'api_tokens')`).Scan(&n); err != nil || n != 2 {
		t.Errorf("tables readings+api_tokens: %d, %v", n, err)
	}
	s2, err := NewSQLStore(t.Context(), st.DB(), SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := s2.List(t.Context()); err != nil || len(ts) == 0 {
		t.Errorf("reopened store lists %d tokens, %v", len(ts), err)
	}
}

func TestNewSQLStoreRejectsDialect(t *testing.T) {
	if _, err := NewSQLStore(t.Context(), nil, Dialect(7)); err == nil {
		t.Error("unknown dialect accepted")
	}
}

func TestBind(t *testing.T) {
	q := `UPDATE t SET a = ? WHERE b = ? AND c = ?`
	if got := (&SQLStore{dialect: SQLite}).bind(q); got != q {
		t.Errorf("sqlite: %s", got)
	}
	if got, want := (&SQLStore{dialect: Postgres}).bind(q), `UPDATE t SET a = $1 WHERE b = $2 AND c = $3`; got != want {
		t.Errorf("postgres: %s", got)
	}
}

// testStore is the TokenStore contract: issue, verify, list, revoke, verify again.
func testStore(t *testing.T, s TokenStore, clock *testClock) {
	ctx := t.Context()
	is := Issuer{Now: clock.now}
	opPlain, op, err := is.Issue(Operator, "scada gateway")
	if err != nil {
		t.Fatal(err)
	}
	invPlain, inv, _ := is.Issue(Investor, "fund")
	for _, rec := range []Token{op, inv} {
		if err := s.Create(ctx, rec); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	if err := s.Create(ctx, op); err == nil {
		t.Error("Create of a duplicate succeeded")
	}

	got, err := Verify(ctx, s, opPlain)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.ID != op.ID || got.Role != Operator || got.Name != "scada gateway" || got.Prefix != op.Prefix ||
		got.Hash != op.Hash || !got.CreatedAt.Equal(op.CreatedAt) || got.RevokedAt != nil {
		t.Errorf("Verify = %+v, want %+v", got, op)
	}
	if _, err := s.ByHash(ctx, HashToken("lf_nothing")); !errors.Is(err, ErrNotFound) {
		t.Errorf("ByHash(unknown) = %v, want ErrNotFound", err)
	}

	ts, err := s.List(ctx)
	if err != nil || len(ts) != 2 || ts[0].ID != op.ID || ts[1].ID != inv.ID {
		t.Fatalf("List = %+v, %v", ts, err)
	}

	if err := s.Revoke(ctx, op.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	revokedAt := clock.t
	if _, err := Verify(ctx, s, opPlain); !errors.Is(err, ErrRevoked) {
		t.Errorf("Verify after revoke = %v, want ErrRevoked", err)
	}
	if err := s.Revoke(ctx, op.ID); err != nil {
		t.Errorf("second Revoke: %v", err)
	}
	if err := s.Revoke(ctx, "nosuchid"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Revoke(unknown) = %v, want ErrNotFound", err)
	}
	ts, _ = s.List(ctx)
	if ts[0].RevokedAt == nil || !ts[0].RevokedAt.Equal(revokedAt) {
		t.Errorf("revoked_at = %v, want %v (the first revocation)", ts[0].RevokedAt, revokedAt)
	}
	if ts[1].RevokedAt != nil {
		t.Errorf("revoking one token revoked another")
	}
	if _, err := Verify(ctx, s, invPlain); err != nil {
		t.Errorf("other token after revoke: %v", err)
	}
}

// postgresDSN returns LIFANG_POSTGRES_DSN or skips.
func postgresDSN(t *testing.T) string {
	d := os.Getenv("LIFANG_POSTGRES_DSN")
	if d == "" {
		t.Skip("LIFANG_POSTGRES_DSN not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable): skipping the PostgreSQL token store test")
	}
	return d
}

func TestPostgresStore(t *testing.T) {
	dsn := postgresDSN(t)
	schema := "lifang_auth_test_" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	clock := newClock()
	s, err := OpenPostgres(t.Context(), dsn, schema, WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testStore(t, s, clock)

	// Reopening finds the table and the tokens in the schema.
	s2, err := OpenPostgres(t.Context(), dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if ts, err := s2.List(t.Context()); err != nil || len(ts) != 2 {
		t.Errorf("reopened store lists %d tokens, %v", len(ts), err)
	}

	// Concurrent lookups share the one connection safely (run with -race).
	plain, rec, _ := Issue(Auditor, "concurrent")
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if _, err := Verify(t.Context(), s, plain); err != nil {
					t.Errorf("concurrent Verify: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	// A broken connection is redialled on the next call.
	p := s.db.(*pgxDB)
	p.mu.Lock()
	p.conn.Close(t.Context())
	p.mu.Unlock()
	if _, err := s.List(t.Context()); err != nil {
		t.Errorf("List after the connection closed: %v", err)
	}
}
