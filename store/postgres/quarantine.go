package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lifang-community/lifang/store"
)

// validStatus reports whether s is a quarantine status.
func validStatus(s string) bool { return s == "open" || s == "replayed" || s == "dismissed" }

// Quarantine keeps rejected input (Status "" means "open") and returns the ids given,
// increasing in the order of items.
func (s *Store) Quarantine(ctx context.Context, items []store.Rejected) ([]int64, error) {
	if len(items) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(items))
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		for i, it := range items {
			status := it.Status
			if status == "" {
				status = "open"
			}
			if !validStatus(status) {
				return fmt.Errorf("item %d: status %q, want open, replayed or dismissed", i, it.Status)
			}
			b.Queue(`INSERT INTO quarantine (source, received, raw, reason, status) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
				it.Source, it.Received.UnixNano(), it.Raw, it.Reason, status).
				QueryRow(func(row pgx.Row) error { return row.Scan(&ids[i]) })
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: quarantine: %w", err)
	}
	return ids, nil
}

// Quarantined lists entries with status ("" for all), oldest first, at most limit of
// them (limit <= 0: all).
func (s *Store) Quarantined(ctx context.Context, status string, limit int) ([]store.Rejected, error) {
	var lim *int64
	if limit > 0 {
		n := int64(limit)
		lim = &n
	}
	var rs []store.Rejected
	err := s.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT id, source, received, raw, reason, status FROM quarantine
			WHERE $1 = '' OR status = $1 ORDER BY id LIMIT $2`, status, lim)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r store.Rejected
			var received int64
			if err := rows.Scan(&r.ID, &r.Source, &received, &r.Raw, &r.Reason, &r.Status); err != nil {
				return err
			}
			r.Received = utc(received)
			rs = append(rs, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: quarantined: %w", err)
	}
	return rs, nil
}

// SetQuarantineStatus sets an entry's status, or returns store.ErrNotFound.
func (s *Store) SetQuarantineStatus(ctx context.Context, id int64, status string) error {
	if !validStatus(status) {
		return fmt.Errorf("postgres: quarantine %d: status %q, want open, replayed or dismissed", id, status)
	}
	var n int64
	err := s.with(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, "UPDATE quarantine SET status = $2 WHERE id = $1", id, status)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: quarantine %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("postgres: quarantine %d: %w", id, store.ErrNotFound)
	}
	return nil
}
