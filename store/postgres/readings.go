package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// Existing returns the stored value of each key that is present.
func (s *Store) Existing(ctx context.Context, keys []reading.Key) (map[reading.Key]float64, error) {
	found := make(map[reading.Key]float64)
	if len(keys) == 0 {
		return found, nil
	}
	points := make([]string, len(keys))
	times := make([]int64, len(keys))
	for i, k := range keys {
		points[i], times[i] = k.Point, k.Time
	}
	err := s.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT r.point, r.ts, r.value
			FROM unnest($1::text[], $2::bigint[]) AS k(point, ts)
			JOIN readings r ON r.point = k.point AND r.ts = k.ts`, points, times)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k reading.Key
			var v float64
			if err := rows.Scan(&k.Point, &k.Time, &v); err != nil {
				return err
			}
			found[k] = v
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: existing: %w", err)
	}
	return found, nil
}

// Neighbours returns the readings of point just before and just after t (strictly),
// nil where there is none.
func (s *Store) Neighbours(ctx context.Context, point string, t time.Time) (prev, next *reading.Reading, err error) {
	at := boundNanos(t)
	var rs []reading.Reading
	err = s.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `
			(SELECT point, ts, value, unit, quality FROM readings WHERE point = $1 AND ts < $2 ORDER BY ts DESC LIMIT 1)
			UNION ALL
			(SELECT point, ts, value, unit, quality FROM readings WHERE point = $1 AND ts > $2 ORDER BY ts LIMIT 1)`,
			point, at)
		if err != nil {
			return err
		}
		rs, err = scanReadings(rows, 2)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: neighbours of %q: %w", point, err)
	}
	for i := range rs {
		if rs[i].Time.UnixNano() < at {
			prev = &rs[i]
		} else {
			next = &rs[i]
		}
	}
	return prev, next, nil
}

// Range returns point's readings with from <= t < to, in time order.
func (s *Store) Range(ctx context.Context, point string, from, to time.Time) ([]reading.Reading, error) {
	var rs []reading.Reading
	err := s.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT point, ts, value, unit, quality FROM readings
			WHERE point = $1 AND ts >= $2 AND ts < $3 ORDER BY ts`, point, boundNanos(from), boundNanos(to))
		if err != nil {
			return err
		}
		rs, err = scanReadings(rows, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: range of %q: %w", point, err)
	}
	return rs, nil
}

// Aggregate buckets point's readings with from <= t < to by step in UTC. It buckets a
// Range with store.Buckets, the arithmetic every store shares, so aggregates agree to
// the bit across stores (a SQL sum would add in scan order).
func (s *Store) Aggregate(ctx context.Context, point string, from, to time.Time, step time.Duration) ([]store.Bucket, error) {
	if step <= 0 {
		return nil, fmt.Errorf("postgres: aggregate %q: step %v, want > 0", point, step)
	}
	rs, err := s.Range(ctx, point, from, to)
	if err != nil {
		return nil, err
	}
	return store.Buckets(rs, step), nil
}

// Uncovered returns up to limit readings (limit <= 0: all) not under a leaf below
// size, ordered by point and time: raw-path readings and those of batches >= size.
func (s *Store) Uncovered(ctx context.Context, size int64, limit int) ([]reading.Reading, error) {
	var lim *int64
	if limit > 0 {
		n := int64(limit)
		lim = &n
	}
	var rs []reading.Reading
	err := s.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT point, ts, value, unit, quality FROM readings
			WHERE batch < 0 OR batch >= $1 ORDER BY point, ts LIMIT $2`, size, lim)
		if err != nil {
			return err
		}
		rs, err = scanReadings(rows, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: uncovered: %w", err)
	}
	return rs, nil
}

// Events returns the stored events of one kind in time order.
func (s *Store) Events(ctx context.Context, kind reading.EventKind) ([]reading.Event, error) {
	var out []reading.Event
	err := s.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT source, ts, attrs FROM events WHERE kind = $1 ORDER BY ts, batch, seq", string(kind))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e := reading.Event{Kind: kind}
			var ts int64
			if err := rows.Scan(&e.Source, &ts, &e.Attrs); err != nil {
				return err
			}
			e.Time = utc(ts)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: events %s: %w", kind, err)
	}
	return out, nil
}

// Points lists the distinct point names stored, in byte order.
func (s *Store) Points(ctx context.Context) ([]string, error) {
	var names []string
	err := s.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT name FROM points ORDER BY name")
		if err != nil {
			return err
		}
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: points: %w", err)
	}
	return names, nil
}

// scanReadings reads rows of (point, ts, value, unit, quality) and closes them.
func scanReadings(rows pgx.Rows, capacity int) ([]reading.Reading, error) {
	defer rows.Close()
	rs := make([]reading.Reading, 0, capacity)
	for rows.Next() {
		var r reading.Reading
		var ts int64
		var q int16
		if err := rows.Scan(&r.Point, &ts, &r.Value, &r.Unit, &q); err != nil {
			return nil, err
		}
		if q < 0 || q > 255 {
			return nil, errors.New("quality out of range")
		}
		r.Time, r.Quality = utc(ts), reading.Quality(q)
		rs = append(rs, r)
	}
	return rs, rows.Err()
}
