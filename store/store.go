// Package store is the storage contract of lifang's metered data: readings, events,
// quarantined input, the ledger's leaves and stored hashes, and signed checkpoints.
// store/sqlite (the embedded default) and store/postgres (scale-out) implement it; the
// conformance suite in store/storetest runs against both.
//
// Values round-trip bit for bit except that −0 may come back as 0 (SQLite stores a
// whole REAL as an integer); the ingest pipeline therefore stores 0 for −0.
//
// The one rule every implementation keeps: Commit writes a batch's readings, its leaf
// and the ledger's new hashes in one transaction and returns only when it is durable,
// so the log and the data can never disagree after a crash.
package store

import (
	"context"
	"errors"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/reading"
)

// ErrNotFound is returned for a missing leaf, checkpoint or quarantine entry.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a commit's leaf index is not the next one (another
// writer got there first): the caller must reload the ledger state and retry.
var ErrConflict = errors.New("store: leaf index conflict")

// Commit is one accepted batch with its place in the log.
type Commit struct {
	// Index is the leaf index of the batch; -1 stores readings and events without a
	// leaf (the raw path used only to measure the ledger's cost).
	Index int64
	Leaf  []byte // reading.Batch.Canonical()
	Batch *reading.Batch
	// Hashes are the stored hashes the leaf adds, from tlog.StoredHashIndex(0, Index)
	// on (tlog.StoredHashes).
	Hashes []tlog.Hash
}

// Rejected is input kept in quarantine with the reason it was refused.
type Rejected struct {
	ID       int64
	Source   string
	Received time.Time
	// Raw is the input as received (a CSV line, a JSON object, an MQTT payload).
	Raw    string
	Reason string
	// Status is "open", "replayed" or "dismissed".
	Status string
}

// Bucket is an aggregate of one point over an interval.
type Bucket struct {
	Start         time.Time
	Count         int
	Min, Max, Sum float64
	First, Last   float64
}

// Store is the storage contract.
type Store interface {
	// Commit stores batches and their ledger material atomically and durably: all of
	// cs in one transaction, in order (consecutive leaf indexes), or none.
	Commit(ctx context.Context, cs ...*Commit) error
	// Existing returns the stored value of each key that is present.
	Existing(ctx context.Context, keys []reading.Key) (map[reading.Key]float64, error)
	// Neighbours returns the stored readings of a point just before and just after t
	// (nil where there is none), for monotonic-register checks.
	Neighbours(ctx context.Context, point string, t time.Time) (prev, next *reading.Reading, err error)

	// Quarantine keeps rejected input; it returns the ids given.
	Quarantine(ctx context.Context, items []Rejected) ([]int64, error)
	// Quarantined lists entries with the given status ("" for all), oldest first.
	Quarantined(ctx context.Context, status string, limit int) ([]Rejected, error)
	// SetQuarantineStatus marks an entry replayed or dismissed.
	SetQuarantineStatus(ctx context.Context, id int64, status string) error

	// Range returns a point's readings with from <= t < to, in time order.
	Range(ctx context.Context, point string, from, to time.Time) ([]reading.Reading, error)
	// Aggregate buckets a point's readings by step (e.g. an hour or a day) in UTC.
	Aggregate(ctx context.Context, point string, from, to time.Time, step time.Duration) ([]Bucket, error)
	// Events returns the stored events of one kind (all batches, raw included), in
	// time order; the pipeline reads meter replacements this way.
	Events(ctx context.Context, kind reading.EventKind) ([]reading.Event, error)
	// Points lists the distinct point names stored.
	Points(ctx context.Context) ([]string, error)

	// TreeSize is the number of leaves committed.
	TreeSize(ctx context.Context) (int64, error)
	// Leaf returns the leaf bytes at index.
	Leaf(ctx context.Context, index int64) ([]byte, error)
	// BatchReadings returns the readings and events stored under a leaf, in batch order,
	// with the batch's source and received time: what verify re-encodes.
	BatchReadings(ctx context.Context, index int64) (*reading.Batch, error)
	// Uncovered returns readings not under any leaf below size (raw-path readings, or
	// rows whose batch index is negative or >= size), for verify to name.
	Uncovered(ctx context.Context, size int64, limit int) ([]reading.Reading, error)
	// ReadHashes implements tlog.HashReader over the stored hashes.
	ReadHashes(indexes []int64) ([]tlog.Hash, error)

	// SaveCheckpoint stores a signed checkpoint (the note text) for a tree size.
	SaveCheckpoint(ctx context.Context, size int64, note []byte) error
	// LatestCheckpoint returns the checkpoint with the largest tree size.
	LatestCheckpoint(ctx context.Context) (size int64, note []byte, err error)

	// Key material: the log's signer keys by name (note.GenerateKey format).
	SaveKey(ctx context.Context, name, skey, vkey string, created time.Time) error
	// Keys returns (skey, vkey) pairs, newest first.
	Keys(ctx context.Context) (skeys, vkeys []string, err error)

	Close() error
}
