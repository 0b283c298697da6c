// Package sqlite is lifang's embedded store: one SQLite file (WAL mode) holds the
// readings, events, quarantine, the ledger's leaves and stored hashes, checkpoints and
// keys. Commit writes a batch and its ledger material in one transaction with
// synchronous=FULL, so an acknowledged batch survives a process kill or power loss.
//
// Times are stored as Unix nanoseconds (INTEGER) and values as REAL (IEEE double), so
// both round-trip exactly and a leaf can be re-encoded bit for bit.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

//go:embed schema.sql
var schema string

// schemaVersion is stored in PRAGMA user_version by schema.sql.
const schemaVersion = 1

// Store is a store.Store on one SQLite file. It is safe for concurrent use; writes
// are serialised.
type Store struct {
	db   *sql.DB
	path string
	mu   sync.Mutex       // serialises Commit (SQLite has one writer)
	ids  map[string]int64 // point name → id, for committed points
}

var _ store.Store = (*Store)(nil)

// driverName is mattn's driver with lifang's per-connection settings.
const driverName = "sqlite3_lifang"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Checkpoint the WAL every 16k pages (64 MiB) rather than 1k: index pages that
		// successive commits rewrite are copied back once, not each time. The setting is
		// per connection, hence the hook.
		_, err := c.Exec("PRAGMA wal_autocheckpoint = 16384; PRAGMA temp_store = MEMORY", nil)
		return err
	}})
}

// Options tune durability; the zero value is the safe default.
type Options struct {
	// NoSync uses synchronous=NORMAL: still safe against a process crash in WAL mode,
	// not against power loss. For benchmarks and throwaway databases only.
	NoSync bool
}

// Open opens (creating if needed) the database at path.
func Open(path string, opt Options) (*Store, error) {
	sync := "FULL"
	if opt.NoSync {
		sync = "NORMAL"
	}
	// journal_mode is set by the schema, after page_size (a WAL database keeps its page size).
	dsn := fmt.Sprintf("file:%s?_synchronous=%s&_busy_timeout=10000&_txlock=immediate&_cache_size=-65536", path, sync)
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	var version, tables int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'readings'`).Scan(&tables)
	if tables > 0 && version != schemaVersion {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s has schema version %d, this lifang needs %d: export it with the lifang that wrote it and re-ingest", path, version, schemaVersion)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: create schema: %w", path, err)
	}
	return &Store{db: db, path: path, ids: map[string]int64{}}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the database handle for tests and tools that inspect the file.
func (s *Store) DB() *sql.DB { return s.db }

// Commit implements store.Store.
func (s *Store) Commit(ctx context.Context, cs ...*store.Commit) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var size, raw int64
	if err := tx.QueryRowContext(ctx, `SELECT size, raw_batches FROM log_state`).Scan(&size, &raw); err != nil {
		return fmt.Errorf("sqlite: commit: read tree size: %w", err)
	}
	newIDs := map[string]int64{}
	stmts, err := s.statements(ctx, tx)
	if err != nil {
		return err
	}
	defer stmts.many.Close()
	defer stmts.one.Close()
	for _, c := range cs {
		if err := s.commitOne(ctx, tx, stmts, c, &size, &raw, newIDs); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE log_state SET size = ?, raw_batches = ?`, size, raw); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	maps.Copy(s.ids, newIDs)
	return nil
}

// commitOne writes one batch inside tx, advancing the tree size or raw batch count.
func (s *Store) commitOne(ctx context.Context, tx *sql.Tx, stmts *insertStmts, c *store.Commit, size, raw *int64, newIDs map[string]int64) error {
	batchIdx := c.Index
	if c.Index >= 0 && *size != c.Index {
		return fmt.Errorf("sqlite: commit leaf %d at tree size %d: %w", c.Index, *size, store.ErrConflict)
	}
	if c.Index < 0 {
		*raw++
		batchIdx = -*raw
	}
	b := c.Batch
	if len(b.Readings) >= 1<<seqBits {
		return fmt.Errorf("sqlite: commit: %d readings in one batch, at most %d", len(b.Readings), 1<<seqBits-1)
	}
	if err := s.pointIDs(ctx, tx, b.Readings, newIDs); err != nil {
		return err
	}
	if err := s.insertReadings(ctx, stmts, b.Readings, batchIdx, newIDs); err != nil {
		return err
	}
	if len(b.Events) > 0 {
		ev, err := tx.PrepareContext(ctx, `INSERT INTO events(batch, seq, kind, source, ts, attrs) VALUES (?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("sqlite: commit: %w", err)
		}
		defer ev.Close()
		for i, e := range b.Events {
			if _, err := ev.ExecContext(ctx, batchIdx, i, string(e.Kind), e.Source, e.Time.UnixNano(), encodeAttrs(e.Attrs)); err != nil {
				return fmt.Errorf("sqlite: commit: event %d: %w", i, err)
			}
		}
	}
	if c.Index < 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO batches(idx, source, received, leaf, readings) VALUES (?,?,?,?,?)`,
		c.Index, b.Source, b.Received.UnixNano(), c.Leaf, len(b.Readings)); err != nil {
		return fmt.Errorf("sqlite: commit: batch %d: %w", c.Index, err)
	}
	first := tlog.StoredHashIndex(0, c.Index)
	if want := tlog.StoredHashCount(c.Index+1) - first; int64(len(c.Hashes)) != want {
		return fmt.Errorf("sqlite: commit leaf %d: %d hashes, want %d", c.Index, len(c.Hashes), want)
	}
	for i, hash := range c.Hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hashes(idx, hash) VALUES (?,?)`, first+int64(i), hash[:]); err != nil {
			return fmt.Errorf("sqlite: commit: hash %d: %w", first+int64(i), err)
		}
	}
	*size = c.Index + 1
	return nil
}

// seqBits is the width of a reading's position in its id (id = batch << seqBits | seq).
const seqBits = 24

// pointIDs returns ids for the points of rs not yet cached, creating them in tx; they
// join the cache only when tx commits.
func (s *Store) pointIDs(ctx context.Context, tx *sql.Tx, rs []reading.Reading, fresh map[string]int64) error {
	for i := range rs {
		name := rs[i].Point
		if _, ok := s.ids[name]; ok {
			continue
		}
		if _, ok := fresh[name]; ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO points(name) VALUES (?)`, name); err != nil {
			return fmt.Errorf("sqlite: point %s: %w", name, err)
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM points WHERE name = ?`, name).Scan(&id); err != nil {
			return fmt.Errorf("sqlite: point %s: %w", name, err)
		}
		fresh[name] = id
	}
	return nil
}

// rowsPerInsert is how many readings one INSERT statement carries: fewer statement
// executions (and cgo calls) per reading.
const rowsPerInsert = 256

// insertReadings inserts readings in multi-row statements.
func (s *Store) insertReadings(ctx context.Context, stmts *insertStmts, rs []reading.Reading, batch int64, fresh map[string]int64) error {
	args := make([]any, 0, 7*rowsPerInsert)
	id := func(name string) int64 {
		if v, ok := s.ids[name]; ok {
			return v
		}
		return fresh[name]
	}
	// Insert in (point, time) order: consecutive rows then land on the same page of the
	// (point_id, ts) index instead of hopping between meters. Ids keep the batch order.
	type row struct{ i, point, ts int64 }
	order := make([]row, len(rs))
	for i := range rs {
		order[i] = row{int64(i), id(rs[i].Point), rs[i].Time.UnixNano()}
	}
	slices.SortFunc(order, func(a, b row) int {
		if c := cmp.Compare(a.point, b.point); c != 0 {
			return c
		}
		return cmp.Compare(a.ts, b.ts)
	})
	for start := 0; start < len(order); {
		n, stmt := rowsPerInsert, stmts.many
		if len(order)-start < rowsPerInsert {
			n, stmt = 1, stmts.one
		}
		args = args[:0]
		for _, o := range order[start : start+n] {
			r := &rs[o.i]
			args = append(args, batch<<seqBits|o.i, o.point, o.ts, r.Value, r.Unit, int(r.Quality), batch)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("sqlite: commit: readings of batch %d: %w", batch, err)
		}
		start += n
	}
	return nil
}

// insertStmts are the reading inserts prepared once per transaction.
type insertStmts struct{ many, one *sql.Stmt }

func (s *Store) statements(ctx context.Context, tx *sql.Tx) (*insertStmts, error) {
	many, err := tx.PrepareContext(ctx, insertSQL(rowsPerInsert))
	if err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	one, err := tx.PrepareContext(ctx, insertSQL(1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	return &insertStmts{many: many, one: one}, nil
}

func insertSQL(n int) string {
	var b strings.Builder
	// OR FAIL: a constraint error stops the statement without undoing its earlier rows,
	// so SQLite keeps no statement journal (a page copy per row otherwise); the whole
	// transaction is rolled back on any error anyway.
	b.WriteString("INSERT OR FAIL INTO readings(id, point_id, ts, value, unit, quality, batch) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?)")
	}
	return b.String()
}

// encodeAttrs stores event attributes in the canonical k=v;k=v form (sorted keys).
func encodeAttrs(a map[string]string) string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(a[k])
	}
	return b.String()
}

func decodeAttrs(s string) map[string]string {
	m := map[string]string{}
	if s == "" {
		return m
	}
	for _, kv := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// Existing implements store.Store: one range query per point over the batch's span.
func (s *Store) Existing(ctx context.Context, keys []reading.Key) (map[reading.Key]float64, error) {
	span := map[string][2]int64{}
	for _, k := range keys {
		sp, ok := span[k.Point]
		if !ok {
			sp = [2]int64{k.Time, k.Time}
		}
		sp[0], sp[1] = min(sp[0], k.Time), max(sp[1], k.Time)
		span[k.Point] = sp
	}
	want := make(map[reading.Key]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	out := map[reading.Key]float64{}
	points := make([]string, 0, len(span))
	for p := range span {
		points = append(points, p)
	}
	slices.Sort(points)
	for _, p := range points {
		sp := span[p]
		rows, err := s.db.QueryContext(ctx, `SELECT ts, value FROM readings WHERE point_id = (SELECT id FROM points WHERE name = ?) AND ts >= ? AND ts <= ?`, p, sp[0], sp[1])
		if err != nil {
			return nil, fmt.Errorf("sqlite: existing: %w", err)
		}
		for rows.Next() {
			var ts int64
			var v float64
			if err := rows.Scan(&ts, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: existing: %w", err)
			}
			if k := (reading.Key{Point: p, Time: ts}); want[k] {
				out[k] = v
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("sqlite: existing: %w", err)
		}
	}
	return out, nil
}

// Neighbours implements store.Store.
func (s *Store) Neighbours(ctx context.Context, point string, t time.Time) (prev, next *reading.Reading, err error) {
	ts := t.UnixNano()
	get := func(q string) (*reading.Reading, error) {
		r := reading.Reading{Point: point}
		var at int64
		var qual int
		err := s.db.QueryRowContext(ctx, q, point, ts).Scan(&at, &r.Value, &r.Unit, &qual)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: neighbours of %s: %w", point, err)
		}
		r.Time, r.Quality = time.Unix(0, at).UTC(), reading.Quality(qual)
		return &r, nil
	}
	if prev, err = get(`SELECT ts, value, unit, quality FROM readings WHERE point_id = (SELECT id FROM points WHERE name = ?) AND ts < ? ORDER BY ts DESC LIMIT 1`); err != nil {
		return nil, nil, err
	}
	next, err = get(`SELECT ts, value, unit, quality FROM readings WHERE point_id = (SELECT id FROM points WHERE name = ?) AND ts > ? ORDER BY ts LIMIT 1`)
	return prev, next, err
}

// Quarantine implements store.Store.
func (s *Store) Quarantine(ctx context.Context, items []store.Rejected) ([]int64, error) {
	if len(items) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: quarantine: %w", err)
	}
	defer tx.Rollback()
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		status := it.Status
		if status == "" {
			status = "open"
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO quarantine(source, received, raw, reason, status) VALUES (?,?,?,?,?)`,
			it.Source, it.Received.UnixNano(), it.Raw, it.Reason, status)
		if err != nil {
			return nil, fmt.Errorf("sqlite: quarantine: %w", err)
		}
		id, _ := res.LastInsertId()
		ids = append(ids, id)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: quarantine: %w", err)
	}
	return ids, nil
}

// Quarantined implements store.Store.
func (s *Store) Quarantined(ctx context.Context, status string, limit int) ([]store.Rejected, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, source, received, raw, reason, status FROM quarantine WHERE (? = '' OR status = ?) ORDER BY id LIMIT ?`, status, status, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: quarantined: %w", err)
	}
	defer rows.Close()
	var out []store.Rejected
	for rows.Next() {
		var r store.Rejected
		var rec int64
		if err := rows.Scan(&r.ID, &r.Source, &rec, &r.Raw, &r.Reason, &r.Status); err != nil {
			return nil, fmt.Errorf("sqlite: quarantined: %w", err)
		}
		r.Received = time.Unix(0, rec).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetQuarantineStatus implements store.Store.
func (s *Store) SetQuarantineStatus(ctx context.Context, id int64, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.db.ExecContext(ctx, `UPDATE quarantine SET status = ? WHERE id = ?`, status, id)
	if err != nil {
		return fmt.Errorf("sqlite: quarantine %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: quarantine %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Range implements store.Store.
func (s *Store) Range(ctx context.Context, point string, from, to time.Time) ([]reading.Reading, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT ts, value, unit, quality FROM readings WHERE point_id = (SELECT id FROM points WHERE name = ?) AND ts >= ? AND ts < ? ORDER BY ts`,
		point, from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("sqlite: range %s: %w", point, err)
	}
	defer rows.Close()
	var out []reading.Reading
	for rows.Next() {
		r := reading.Reading{Point: point}
		var ts int64
		var q int
		if err := rows.Scan(&ts, &r.Value, &r.Unit, &q); err != nil {
			return nil, fmt.Errorf("sqlite: range %s: %w", point, err)
		}
		r.Time, r.Quality = time.Unix(0, ts).UTC(), reading.Quality(q)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Aggregate implements store.Store by bucketing a Range in Go (the same arithmetic in
// every store, so aggregates agree to the bit).
func (s *Store) Aggregate(ctx context.Context, point string, from, to time.Time, step time.Duration) ([]store.Bucket, error) {
	rs, err := s.Range(ctx, point, from, to)
	if err != nil {
		return nil, err
	}
	return store.Buckets(rs, step), nil
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, kind reading.EventKind) ([]reading.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source, ts, attrs FROM events WHERE kind = ? ORDER BY ts, batch, seq`, string(kind))
	if err != nil {
		return nil, fmt.Errorf("sqlite: events %s: %w", kind, err)
	}
	defer rows.Close()
	var out []reading.Event
	for rows.Next() {
		e := reading.Event{Kind: kind}
		var ts int64
		var attrs string
		if err := rows.Scan(&e.Source, &ts, &attrs); err != nil {
			return nil, fmt.Errorf("sqlite: events %s: %w", kind, err)
		}
		e.Time, e.Attrs = time.Unix(0, ts).UTC(), decodeAttrs(attrs)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Points implements store.Store.
func (s *Store) Points(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM points WHERE EXISTS (SELECT 1 FROM readings WHERE point_id = points.id) ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: points: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TreeSize implements store.Store.
func (s *Store) TreeSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT size FROM log_state`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: tree size: %w", err)
	}
	return n, nil
}

// Leaf implements store.Store.
func (s *Store) Leaf(ctx context.Context, index int64) ([]byte, error) {
	var leaf []byte
	err := s.db.QueryRowContext(ctx, `SELECT leaf FROM batches WHERE idx = ?`, index).Scan(&leaf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: leaf %d: %w", index, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: leaf %d: %w", index, err)
	}
	return leaf, nil
}

// BatchReadings implements store.Store.
func (s *Store) BatchReadings(ctx context.Context, index int64) (*reading.Batch, error) {
	b := &reading.Batch{}
	var rec int64
	err := s.db.QueryRowContext(ctx, `SELECT source, received FROM batches WHERE idx = ?`, index).Scan(&b.Source, &rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: batch %d: %w", index, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: batch %d: %w", index, err)
	}
	b.Received = time.Unix(0, rec).UTC()
	rows, err := s.db.QueryContext(ctx, `SELECT p.name, r.ts, r.value, r.unit, r.quality FROM readings r JOIN points p ON p.id = r.point_id
		WHERE r.id BETWEEN ? AND ? ORDER BY r.id`, index<<seqBits, index<<seqBits|(1<<seqBits-1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: batch %d readings: %w", index, err)
	}
	for rows.Next() {
		var r reading.Reading
		var ts int64
		var q int
		if err := rows.Scan(&r.Point, &ts, &r.Value, &r.Unit, &q); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: batch %d readings: %w", index, err)
		}
		r.Time, r.Quality = time.Unix(0, ts).UTC(), reading.Quality(q)
		b.Readings = append(b.Readings, r)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	ev, err := s.db.QueryContext(ctx, `SELECT kind, source, ts, attrs FROM events WHERE batch = ? ORDER BY seq`, index)
	if err != nil {
		return nil, fmt.Errorf("sqlite: batch %d events: %w", index, err)
	}
	defer ev.Close()
	for ev.Next() {
		var e reading.Event
		var kind, attrs string
		var ts int64
		if err := ev.Scan(&kind, &e.Source, &ts, &attrs); err != nil {
			return nil, fmt.Errorf("sqlite: batch %d events: %w", index, err)
		}
		e.Kind, e.Time, e.Attrs = reading.EventKind(kind), time.Unix(0, ts).UTC(), decodeAttrs(attrs)
		b.Events = append(b.Events, e)
	}
	return b, ev.Err()
}

// Uncovered implements store.Store.
func (s *Store) Uncovered(ctx context.Context, size int64, limit int) ([]reading.Reading, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := s.db.QueryContext(ctx, `SELECT p.name, r.ts, r.value, r.unit, r.quality FROM readings r JOIN points p ON p.id = r.point_id
		WHERE r.batch < 0 OR r.batch >= ? OR r.id >> 24 != r.batch ORDER BY p.name, r.ts LIMIT ?`, size, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: uncovered: %w", err)
	}
	defer rows.Close()
	var out []reading.Reading
	for rows.Next() {
		var r reading.Reading
		var ts int64
		var q int
		if err := rows.Scan(&r.Point, &ts, &r.Value, &r.Unit, &q); err != nil {
			return nil, fmt.Errorf("sqlite: uncovered: %w", err)
		}
		r.Time, r.Quality = time.Unix(0, ts).UTC(), reading.Quality(q)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReadHashes implements tlog.HashReader.
func (s *Store) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		var h []byte
		if err := s.db.QueryRow(`SELECT hash FROM hashes WHERE idx = ?`, idx).Scan(&h); err != nil {
			return nil, fmt.Errorf("sqlite: hash %d: %w", idx, err)
		}
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("sqlite: hash %d has %d bytes", idx, len(h))
		}
		copy(out[i][:], h)
	}
	return out, nil
}

// SaveCheckpoint implements store.Store.
func (s *Store) SaveCheckpoint(ctx context.Context, size int64, note []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO checkpoints(size, note) VALUES (?,?)`, size, note); err != nil {
		return fmt.Errorf("sqlite: checkpoint %d: %w", size, err)
	}
	return nil
}

// LatestCheckpoint implements store.Store.
func (s *Store) LatestCheckpoint(ctx context.Context) (int64, []byte, error) {
	var size int64
	var note []byte
	err := s.db.QueryRowContext(ctx, `SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1`).Scan(&size, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("sqlite: latest checkpoint: %w", store.ErrNotFound)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: latest checkpoint: %w", err)
	}
	return size, note, nil
}

// SaveKey implements store.Store.
func (s *Store) SaveKey(ctx context.Context, name, skey, vkey string, created time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO keys(name, skey, vkey, created) VALUES (?,?,?,?)`, name, skey, vkey, created.UnixNano()); err != nil {
		return fmt.Errorf("sqlite: save key %s: %w", name, err)
	}
	return nil
}

// Keys implements store.Store.
func (s *Store) Keys(ctx context.Context) (skeys, vkeys []string, err error) {
	rows, err := s.db.QueryContext(ctx, `SELECT skey, vkey FROM keys ORDER BY created DESC, rowid DESC`)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sk, vk string
		if err := rows.Scan(&sk, &vk); err != nil {
			return nil, nil, err
		}
		skeys, vkeys = append(skeys, sk), append(vkeys, vk)
	}
	return skeys, vkeys, rows.Err()
}
