package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// TreeSize returns the number of leaves committed.
func (s *Store) TreeSize(ctx context.Context) (int64, error) {
	var size int64
	err := s.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT size FROM log_state").Scan(&size)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: tree size: %w", err)
	}
	return size, nil
}

// Leaf returns the leaf bytes at index, or store.ErrNotFound.
func (s *Store) Leaf(ctx context.Context, index int64) ([]byte, error) {
	var leaf []byte
	err := s.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT leaf FROM batches WHERE idx = $1", index).Scan(&leaf)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: leaf %d: %w", index, notFound(err))
	}
	return leaf, nil
}

// BatchReadings returns the batch stored under a leaf, readings and events in batch
// order, or store.ErrNotFound.
func (s *Store) BatchReadings(ctx context.Context, index int64) (*reading.Batch, error) {
	b := &reading.Batch{}
	err := s.with(ctx, func(c *pgx.Conn) error {
		var received int64
		var n int
		err := c.QueryRow(ctx, "SELECT source, received, readings FROM batches WHERE idx = $1", index).
			Scan(&b.Source, &received, &n)
		if err != nil {
			return notFound(err)
		}
		b.Received = utc(received)
		rows, err := c.Query(ctx, "SELECT point, ts, value, unit, quality FROM readings WHERE batch = $1 ORDER BY seq", index)
		if err != nil {
			return err
		}
		if b.Readings, err = scanReadings(rows, n); err != nil {
			return err
		}
		// A count that differs from the batch row is not an error here: the rows are
		// returned as stored and the audit names what was added or removed.
		rows, err = c.Query(ctx, "SELECT kind, source, ts, attrs FROM events WHERE batch = $1 ORDER BY seq", index)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e reading.Event
			var kind string
			var ts int64
			if err := rows.Scan(&kind, &e.Source, &ts, &e.Attrs); err != nil {
				return err
			}
			e.Kind, e.Time = reading.EventKind(kind), utc(ts)
			b.Events = append(b.Events, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: batch %d: %w", index, err)
	}
	return b, nil
}

// ReadHashes returns the stored hashes at indexes, in that order (tlog.HashReader).
func (s *Store) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	ctx := context.Background() // tlog.HashReader has no context
	found := make(map[int64]tlog.Hash, len(indexes))
	err := s.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT idx, hash FROM hashes WHERE idx = ANY($1)", indexes)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				return err
			}
			if len(h) != tlog.HashSize {
				return fmt.Errorf("hash %d has %d bytes", idx, len(h))
			}
			found[idx] = tlog.Hash(h)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read hashes: %w", err)
	}
	hs := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, ok := found[idx]
		if !ok {
			return nil, fmt.Errorf("postgres: hash %d: %w", idx, store.ErrNotFound)
		}
		hs[i] = h
	}
	return hs, nil
}

// SaveCheckpoint stores the note for a tree size, replacing one saved before.
func (s *Store) SaveCheckpoint(ctx context.Context, size int64, note []byte) error {
	err := s.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO checkpoints (size, note) VALUES ($1, $2)
			ON CONFLICT (size) DO UPDATE SET note = excluded.note`, size, note)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: save checkpoint %d: %w", size, err)
	}
	return nil
}

// LatestCheckpoint returns the checkpoint of the largest tree size, or
// store.ErrNotFound.
func (s *Store) LatestCheckpoint(ctx context.Context) (size int64, note []byte, err error) {
	err = s.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").Scan(&size, &note)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("postgres: latest checkpoint: %w", notFound(err))
	}
	return size, note, nil
}

// SaveKey stores a signer key pair under name, replacing one of the same name.
func (s *Store) SaveKey(ctx context.Context, name, skey, vkey string, created time.Time) error {
	err := s.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO keys (name, skey, vkey, created) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET skey = excluded.skey, vkey = excluded.vkey, created = excluded.created`,
			name, skey, vkey, created.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: save key %q: %w", name, err)
	}
	return nil
}

// Keys returns the signer and verifier keys, newest first.
func (s *Store) Keys(ctx context.Context) (skeys, vkeys []string, err error) {
	err = s.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT skey, vkey FROM keys ORDER BY created DESC, name DESC")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sk, vk string
			if err := rows.Scan(&sk, &vk); err != nil {
				return err
			}
			skeys, vkeys = append(skeys, sk), append(vkeys, vk)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: keys: %w", err)
	}
	return skeys, vkeys, nil
}
