package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/store"
)

// rawBatch is the batch column of readings and events stored without a leaf.
const rawBatch = -1

// Commit stores batches, their leaves and hashes in one transaction: all of cs or
// none. The leaf indexes of cs (raw commits aside) must be consecutive; the first must
// be the tree size. An indexed commit first locks log_state, so concurrent writers (in
// any process) queue there and all but the first see a tree size that is not their
// index: store.ErrConflict. A reading already stored (same point and time) fails the
// whole commit: the pipeline de-duplicates before committing, so this is a bug or a
// race, never data to drop. Each part goes to the server as one COPY or statement
// however many batches cs holds, so grouping batches saves round trips and fsyncs.
func (s *Store) Commit(ctx context.Context, cs ...*store.Commit) error {
	if len(cs) == 0 {
		return nil
	}
	first, last, err := checkCommits(cs)
	if err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if first >= 0 {
			var size int64
			if err := tx.QueryRow(ctx, "SELECT size FROM log_state FOR UPDATE").Scan(&size); err != nil {
				return fmt.Errorf("log state: %w", err)
			}
			if first != size {
				return fmt.Errorf("leaf %d, tree size is %d: %w", first, size, store.ErrConflict)
			}
		}
		if names := pointNames(cs); len(names) > 0 {
			if _, err := tx.Exec(ctx, "INSERT INTO points (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
				names); err != nil {
				return fmt.Errorf("points: %w", err)
			}
		}
		nr, ne := counts(cs)
		if nr > 0 {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"readings"},
				[]string{"point", "ts", "value", "unit", "quality", "batch", "seq"}, &readingRows{cs: cs})
			if err != nil {
				return fmt.Errorf("readings: %w", duplicate(err))
			}
			if n != nr {
				return fmt.Errorf("readings: copied %d of %d", n, nr)
			}
		}
		if ne > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"},
				[]string{"batch", "seq", "kind", "source", "ts", "attrs"}, &eventRows{cs: cs}); err != nil {
				return fmt.Errorf("events: %w", err)
			}
		}
		if first < 0 {
			return nil
		}
		var batches, hashes [][]any
		for _, c := range cs {
			if c.Index < 0 {
				continue
			}
			b := c.Batch
			batches = append(batches, []any{c.Index, b.Source, b.Received.UnixNano(), c.Leaf, int32(len(b.Readings))})
			at := tlog.StoredHashIndex(0, c.Index)
			for i := range c.Hashes {
				hashes = append(hashes, []any{at + int64(i), c.Hashes[i][:]})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"batches"},
			[]string{"idx", "source", "received", "leaf", "readings"}, pgx.CopyFromRows(batches)); err != nil {
			if isUniqueViolation(err) {
				// Only a writer that bypassed log_state gets here; still a lost race.
				return fmt.Errorf("leaves %d-%d: %w (%w)", first, last, store.ErrConflict, err)
			}
			return fmt.Errorf("batches: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"hashes"}, []string{"idx", "hash"}, pgx.CopyFromRows(hashes)); err != nil {
			return fmt.Errorf("hashes: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE log_state SET size = $1", last+1); err != nil {
			return fmt.Errorf("log state: %w", err)
		}
		return nil
	})
	if err != nil {
		if first < 0 {
			return fmt.Errorf("postgres: commit raw: %w", err)
		}
		return fmt.Errorf("postgres: commit %d-%d: %w", first, last, err)
	}
	return nil
}

// checkCommits rejects commits that cannot be stored as given and returns the first
// and last leaf index among them (-1, -1 when all are raw).
func checkCommits(cs []*store.Commit) (first, last int64, err error) {
	first, last = rawBatch, rawBatch
	for i, c := range cs {
		switch {
		case c == nil || c.Batch == nil:
			return 0, 0, fmt.Errorf("commit %d of %d has no batch", i+1, len(cs))
		case c.Index < rawBatch:
			return 0, 0, fmt.Errorf("index %d: want -1 (raw) or a leaf index", c.Index)
		case c.Index == rawBatch:
			continue
		case len(c.Leaf) == 0:
			return 0, 0, fmt.Errorf("leaf %d is empty", c.Index)
		case last >= 0 && c.Index != last+1:
			return 0, 0, fmt.Errorf("leaf %d follows leaf %d: indexes must be consecutive", c.Index, last)
		}
		if want := tlog.StoredHashCount(c.Index+1) - tlog.StoredHashCount(c.Index); int64(len(c.Hashes)) != want {
			return 0, 0, fmt.Errorf("leaf %d: %d hashes, want %d", c.Index, len(c.Hashes), want)
		}
		if first < 0 {
			first = c.Index
		}
		last = c.Index
	}
	return first, last, nil
}

// pointNames returns the distinct point names of the commits, sorted so that
// concurrent raw commits insert them in one order and cannot deadlock.
func pointNames(cs []*store.Commit) []string {
	var names []string
	seen := make(map[string]bool)
	for _, c := range cs {
		for i := range c.Batch.Readings {
			if p := c.Batch.Readings[i].Point; !seen[p] {
				seen[p] = true
				names = append(names, p)
			}
		}
	}
	slices.Sort(names)
	return names
}

// duplicate explains a unique violation on readings.
func duplicate(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("reading already stored (%s): %w", pe.Detail, err)
	}
	return err
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// counts returns the number of readings and events in cs.
func counts(cs []*store.Commit) (readings, events int64) {
	for _, c := range cs {
		readings += int64(len(c.Batch.Readings))
		events += int64(len(c.Batch.Events))
	}
	return readings, events
}

// batchOf is the batch column for c's readings and events.
func batchOf(c *store.Commit) int64 {
	if c.Index < 0 {
		return rawBatch
	}
	return c.Index
}

// readingRows feeds the readings of all commits to one COPY, reusing a row buffer.
type readingRows struct {
	cs   []*store.Commit
	c, i int // commit, and reading in it, of the current row; i is 1-based
	row  [7]any
}

func (r *readingRows) Next() bool {
	for r.c < len(r.cs) {
		if r.i < len(r.cs[r.c].Batch.Readings) {
			r.i++
			return true
		}
		r.c, r.i = r.c+1, 0
	}
	return false
}

func (r *readingRows) Values() ([]any, error) {
	c := r.cs[r.c]
	x := &c.Batch.Readings[r.i-1]
	r.row = [7]any{x.Point, x.Time.UnixNano(), x.Value, x.Unit, int16(x.Quality), batchOf(c), int32(r.i - 1)}
	return r.row[:], nil
}

func (r *readingRows) Err() error { return nil }

// eventRows feeds the events of all commits to one COPY.
type eventRows struct {
	cs   []*store.Commit
	c, i int
	row  [6]any
}

func (r *eventRows) Next() bool {
	for r.c < len(r.cs) {
		if r.i < len(r.cs[r.c].Batch.Events) {
			r.i++
			return true
		}
		r.c, r.i = r.c+1, 0
	}
	return false
}

func (r *eventRows) Values() ([]any, error) {
	c := r.cs[r.c]
	e := &c.Batch.Events[r.i-1]
	attrs := e.Attrs
	if attrs == nil {
		attrs = map[string]string{} // a nil map would encode as SQL NULL
	}
	r.row = [6]any{batchOf(c), int32(r.i - 1), string(e.Kind), e.Source, e.Time.UnixNano(), attrs}
	return r.row[:], nil
}

func (r *eventRows) Err() error { return nil }
