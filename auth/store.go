package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TokenStore keeps token records.
type TokenStore interface {
	// Create stores a new record; its ID and Hash must be unique.
	Create(ctx context.Context, t Token) error
	// ByHash returns the record with the given Hash, or ErrNotFound.
	ByHash(ctx context.Context, hash string) (Token, error)
	// List returns every record, revoked ones included, oldest first.
	List(ctx context.Context) ([]Token, error)
	// Revoke marks the record with the given ID revoked (ErrNotFound if there is
	// none). Revoking a revoked token succeeds and keeps the first revocation time.
	Revoke(ctx context.Context, id string) error
}

// ErrNotFound is returned when no token record matches.
var ErrNotFound = errors.New("auth: token not found")

// Dialect is the SQL flavour of a database.
type Dialect int

const (
	// SQLite: "?" placeholders (mattn/go-sqlite3, as store/sqlite opens it).
	SQLite Dialect = iota
	// Postgres: "$n" placeholders.
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// schemaSQL creates the one table. It lives beside the readings (same SQLite file,
// same PostgreSQL schema) but belongs to this package, hence IF NOT EXISTS rather
// than a migration in the readings stores. Times are Unix nanoseconds, as in the
// readings tables.
const schemaSQL = `CREATE TABLE IF NOT EXISTS api_tokens (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	prefix     TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	revoked_at BIGINT
)`

const tokenColumns = `id, name, role, prefix, hash, created_at, revoked_at`

// SQLStore is a TokenStore on a SQL database. It is safe for concurrent use.
type SQLStore struct {
	db      querier
	dialect Dialect
	now     func() time.Time
	closer  func() error
}

var _ TokenStore = (*SQLStore)(nil)

// Option configures a SQLStore.
type Option func(*SQLStore)

// WithClock sets the clock that stamps revocations (and creations lacking a time).
// The default is time.Now.
func WithClock(now func() time.Time) Option { return func(s *SQLStore) { s.now = now } }

// NewSQLStore returns a store on db, creating the api_tokens table if needed. For
// SQLite, db is typically the readings store's handle (store/sqlite Store.DB), so
// tokens live in the same file. Closing db is the caller's business.
func NewSQLStore(ctx context.Context, db *sql.DB, d Dialect, opts ...Option) (*SQLStore, error) {
	if d != SQLite && d != Postgres {
		return nil, fmt.Errorf("auth: unknown SQL dialect %v", d)
	}
	return newStore(ctx, stdDB{db}, d, nil, opts)
}

func newStore(ctx context.Context, q querier, d Dialect, closer func() error, opts []Option) (*SQLStore, error) {
	s := &SQLStore{db: q, dialect: d, now: time.Now, closer: closer}
	for _, o := range opts {
		o(s)
	}
	if _, err := q.exec(ctx, schemaSQL); err != nil {
		return nil, fmt.Errorf("auth: create api_tokens (%v): %w", d, err)
	}
	return s, nil
}

// Close releases what the store opened itself (OpenPostgres's connection); for a
// store from NewSQLStore it does nothing.
func (s *SQLStore) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer()
}

// bind rewrites "?" placeholders for the store's dialect. The queries here have no
// "?" inside string literals.
func (s *SQLStore) bind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Create implements TokenStore.
func (s *SQLStore) Create(ctx context.Context, t Token) error {
	if t.ID == "" || t.Hash == "" {
		return errors.New("auth: create token: record needs an ID and a Hash")
	}
	created := t.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	var revoked any
	if t.RevokedAt != nil {
		revoked = t.RevokedAt.UnixNano()
	}
	_, err := s.db.exec(ctx, s.bind(`INSERT INTO api_tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		t.ID, t.Name, string(t.Role), t.Prefix, t.Hash, created.UnixNano(), revoked)
	if err != nil {
		return fmt.Errorf("auth: create token %s: %w", t.ID, err)
	}
	return nil
}

// ByHash implements TokenStore.
func (s *SQLStore) ByHash(ctx context.Context, hash string) (Token, error) {
	ts, err := s.query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash)
	if err != nil {
		return Token{}, fmt.Errorf("auth: look up token: %w", err)
	}
	if len(ts) == 0 {
		return Token{}, ErrNotFound
	}
	return ts[0], nil
}

// List implements TokenStore.
func (s *SQLStore) List(ctx context.Context) ([]Token, error) {
	ts, err := s.query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	return ts, nil
}

// Revoke implements TokenStore.
func (s *SQLStore) Revoke(ctx context.Context, id string) error {
	n, err := s.db.exec(ctx, s.bind(`UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
		s.now().UnixNano(), id)
	if err != nil {
		return fmt.Errorf("auth: revoke token %s: %w", id, err)
	}
	if n > 0 {
		return nil
	}
	ts, err := s.query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("auth: revoke token %s: %w", id, err)
	}
	if len(ts) == 0 {
		return fmt.Errorf("auth: revoke token %s: %w", id, ErrNotFound)
	}
	return nil // already revoked
}

func (s *SQLStore) query(ctx context.Context, q string, args ...any) ([]Token, error) {
	var ts []Token
	err := s.db.query(ctx, s.bind(q), args, func(sc scanner) error {
		var (
			t       Token
			role    string
			created int64
			revoked sql.NullInt64
		)
		if err := sc.Scan(&t.ID, &t.Name, &role, &t.Prefix, &t.Hash, &created, &revoked); err != nil {
			return err
		}
		t.Role = Role(role)
		t.CreatedAt = time.Unix(0, created).UTC()
		if revoked.Valid {
			r := time.Unix(0, revoked.Int64).UTC()
			t.RevokedAt = &r
		}
		ts = append(ts, t)
		return nil
	})
	return ts, err
}

// querier is what SQLStore needs of a database: database/sql and pgx differ in
// their row types, so each gets a small adapter.
type querier interface {
	// exec runs a statement and returns the rows affected.
	exec(ctx context.Context, q string, args ...any) (int64, error)
	// query calls row for each result row.
	query(ctx context.Context, q string, args []any, row func(scanner) error) error
}

type scanner interface{ Scan(dest ...any) error }

// stdDB adapts *sql.DB.
type stdDB struct{ db *sql.DB }

func (d stdDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := d.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d stdDB) query(ctx context.Context, q string, args []any, row func(scanner) error) error {
	rows, err := d.db.QueryContext(ctx, q, args...)
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
}
