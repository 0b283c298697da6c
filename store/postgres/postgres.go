package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lifang-community/lifang/store"
)

// MaxConns bounds the connections one Store opens to the server.
const MaxConns = 8

// Store is a store.Store on PostgreSQL.
type Store struct {
	pool *connPool
}

var _ store.Store = (*Store)(nil)

// Open connects to dsn (a postgres:// URL or key=value string), creates schema when
// it is not "" and sets it as every connection's search_path, and creates or
// migrates the tables. With schema "" the tables live in the DSN's default schema.
func Open(ctx context.Context, dsn string, schema string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if schema != "" {
		// A startup parameter, so it holds on every connection the pool dials and
		// cached statements resolve table names in this schema only.
		cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	}
	s := &Store{pool: newConnPool(cfg, MaxConns)}
	if err := s.with(ctx, func(c *pgx.Conn) error { return migrate(ctx, c, schema) }); err != nil {
		s.pool.close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

// Close closes the idle connections; those in use close when their call returns.
func (s *Store) Close() error {
	s.pool.close()
	return nil
}

// with runs f on a pooled connection.
func (s *Store) with(ctx context.Context, f func(c *pgx.Conn) error) error {
	c, err := s.pool.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.pool.release(c)
	return f(c)
}

// inTx runs f in a transaction that commits when f returns nil and rolls back
// otherwise.
func (s *Store) inTx(ctx context.Context, f func(tx pgx.Tx) error) error {
	return s.with(ctx, func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		if err := f(tx); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		return tx.Commit(ctx)
	})
}

// notFound maps pgx.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// Unix nanoseconds represent 1678-2262; query bounds outside that (such as the zero
// time.Time for "from the beginning") clamp to the ends instead of overflowing.
var (
	minNanosTime = time.Unix(0, math.MinInt64)
	maxNanosTime = time.Unix(0, math.MaxInt64)
)

func boundNanos(t time.Time) int64 {
	switch {
	case t.Before(minNanosTime):
		return math.MinInt64
	case t.After(maxNanosTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func utc(nanos int64) time.Time { return time.Unix(0, nanos).UTC() }
