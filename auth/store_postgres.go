package auth

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// OpenPostgres returns a store on the PostgreSQL server at dsn, creating the
// api_tokens table if needed. With schema not "" it creates that schema and keeps
// the table there, as store/postgres.Open does for the readings, so both share it.
//
// It holds one connection, redialled when it breaks, and serialises queries on it:
// a token lookup is one indexed query, and the module has pgx but not its
// database/sql driver (which needs pgxpool). With a *sql.DB from that driver,
// NewSQLStore(ctx, db, Postgres) works on the same table. Close the store when done.
func OpenPostgres(ctx context.Context, dsn, schema string, opts ...Option) (*SQLStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("auth: postgres: %w", err)
	}
	p := &pgxDB{cfg: cfg}
	if schema != "" {
		ident := pgx.Identifier{schema}.Sanitize()
		if _, err := p.exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident); err != nil {
			p.close()
			return nil, fmt.Errorf("auth: postgres: create schema %s: %w", schema, err)
		}
		// A startup parameter, so it holds on every redialled connection too.
		p.mu.Lock()
		p.closeLocked()
		cfg.RuntimeParams["search_path"] = ident
		p.mu.Unlock()
	}
	s, err := newStore(ctx, p, Postgres, p.close, opts)
	if err != nil {
		p.close()
		return nil, err
	}
	return s, nil
}

// pgxDB adapts one lazily dialled pgx connection; a *pgx.Conn is not safe for
// concurrent use, hence the mutex.
type pgxDB struct {
	cfg  *pgx.ConnConfig
	mu   sync.Mutex
	conn *pgx.Conn
}

func (p *pgxDB) with(ctx context.Context, f func(*pgx.Conn) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil || p.conn.IsClosed() {
		c, err := pgx.ConnectConfig(ctx, p.cfg)
		if err != nil {
			return err
		}
		p.conn = c
	}
	err := f(p.conn)
	if err != nil && (p.conn.IsClosed() || p.conn.PgConn().TxStatus() != 'I') {
		p.closeLocked() // broken or stuck in a transaction: dial afresh next time
	}
	return err
}

func (p *pgxDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := p.with(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, q, args...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

func (p *pgxDB) query(ctx context.Context, q string, args []any, row func(scanner) error) error {
	return p.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

func (p *pgxDB) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLocked()
	return nil
}

func (p *pgxDB) closeLocked() {
	if p.conn != nil {
		p.conn.Close(context.Background())
		p.conn = nil
	}
}
