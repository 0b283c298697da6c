package ledger

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Log is an append-only RFC 6962 Merkle log over a store's stored hashes, with an
// in-memory cache of every stored hash it reads or adds. It is safe for concurrent use.
type Log struct {
	mu     sync.Mutex
	origin string
	hr     tlog.HashReader
	size   int64 // leaves appended (committed by the caller before Advance)

	// Stored hashes with index >= base (those added since New) are in tail, densely;
	// older ones are read from hr on first use and kept in read.
	base int64
	tail []tlog.Hash
	read map[int64]tlog.Hash

	signer    note.Signer
	verifiers note.Verifiers
	last      *Checkpoint // last checkpoint signed or given; nil if none
}

// New opens a log of size leaves whose stored hashes are readable from hr. origin is
// the checkpoint origin (the unit's id); signer signs checkpoints (nil: Sign fails
// with ErrNoSigner); lastNote is the last signed checkpoint (nil if none), parsed with
// verifiers, and Sign refuses to sign a tree inconsistent with it.
func New(origin string, hr tlog.HashReader, size int64, signer note.Signer, lastNote []byte, verifiers note.Verifiers) (*Log, error) {
	if origin == "" || strings.ContainsAny(origin, "\n") {
		return nil, fmt.Errorf("ledger: invalid origin %q", origin)
	}
	if size < 0 {
		return nil, fmt.Errorf("ledger: negative tree size %d", size)
	}
	if hr == nil && size > 0 {
		return nil, errors.New("ledger: no hash reader for a non-empty log")
	}
	l := &Log{
		origin:    origin,
		hr:        hr,
		size:      size,
		base:      tlog.StoredHashCount(size),
		read:      make(map[int64]tlog.Hash),
		signer:    signer,
		verifiers: verifiers,
	}
	// Reading the root now warms the cache with the right edge of the tree (all the
	// next append needs) and fails early if the store is missing hashes.
	if _, err := l.Root(size); err != nil {
		return nil, fmt.Errorf("ledger: open log of size %d: %w", size, err)
	}
	if lastNote != nil {
		if verifiers == nil {
			return nil, errors.New("ledger: last checkpoint given without verifiers")
		}
		cp, err := ParseCheckpoint(lastNote, origin, verifiers)
		if err != nil {
			return nil, fmt.Errorf("ledger: last checkpoint: %w", err)
		}
		l.last = cp
	}
	return l, nil
}

// Origin returns the checkpoint origin.
func (l *Log) Origin() string { return l.origin }

// Size returns the number of leaves in the log.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size
}

// LastCheckpoint returns the last checkpoint the log signed or was opened with, or nil.
func (l *Log) LastCheckpoint() *Checkpoint {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		return nil
	}
	cp := *l.last
	cp.Note = append([]byte(nil), l.last.Note...)
	return &cp
}

// Prepare computes, without changing the log, the index of leaf and the stored hashes
// appending it adds (to be stored from tlog.StoredHashIndex(0, index) on). The caller
// persists them and then calls Advance.
func (l *Log) Prepare(leaf []byte) (index int64, hashes []tlog.Hash, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hashes, err = tlog.StoredHashes(l.size, leaf, &cacheReader{l: l})
	if err != nil {
		return 0, nil, fmt.Errorf("ledger: prepare leaf %d: %w", l.size, err)
	}
	return l.size, hashes, nil
}

// PrepareMany is Prepare for several leaves appended in order: first is the index of
// leaves[0] and hashes are all their stored hashes, concatenated.
func (l *Log) PrepareMany(leaves [][]byte) (first int64, hashes []tlog.Hash, err error) {
	if len(leaves) == 0 {
		return 0, nil, errors.New("ledger: prepare: no leaves")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &cacheReader{l: l}
	for i, leaf := range leaves {
		h, err := tlog.StoredHashes(l.size+int64(i), leaf, r)
		if err != nil {
			return 0, nil, fmt.Errorf("ledger: prepare leaf %d: %w", l.size+int64(i), err)
		}
		r.pending = append(r.pending, h...)
	}
	return l.size, r.pending, nil
}

// Advance records that the hashes from Prepare or PrepareMany at index are durable:
// index must equal Size(), and the log grows by the number of leaves they cover.
func (l *Log) Advance(index int64, hashes []tlog.Hash) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if index != l.size {
		return fmt.Errorf("%w: advance at %d, log size is %d", ErrNotNext, index, l.size)
	}
	have := tlog.StoredHashCount(l.size)
	want := have + int64(len(hashes))
	n := l.size
	for have < want {
		n++
		have = tlog.StoredHashCount(n)
	}
	if len(hashes) == 0 || have != want {
		return fmt.Errorf("ledger: advance at %d: %d hashes do not cover whole leaves", index, len(hashes))
	}
	l.tail = append(l.tail, hashes...)
	l.size = n
	return nil
}

// Root returns the root hash of the tree of the first size leaves.
func (l *Log) Root(size int64) (tlog.Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.root(size)
}

func (l *Log) root(size int64) (tlog.Hash, error) {
	if size < 0 || size > l.size {
		return tlog.Hash{}, fmt.Errorf("ledger: root of size %d: log has %d leaves", size, l.size)
	}
	h, err := tlog.TreeHash(size, &cacheReader{l: l})
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("ledger: root of size %d: %w", size, err)
	}
	return h, nil
}

// InclusionProof returns the RFC 9162 inclusion proof of leaf index in the tree of
// size leaves, ordered from the leaf up, as VerifyInclusion expects.
func (l *Log) InclusionProof(index, size int64) ([]tlog.Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if index < 0 || size > l.size || index >= size {
		return nil, fmt.Errorf("ledger: inclusion proof of leaf %d in tree of size %d: log has %d leaves", index, size, l.size)
	}
	p, err := tlog.ProveRecord(size, index, &cacheReader{l: l})
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof of leaf %d in tree of size %d: %w", index, size, err)
	}
	return p, nil
}

// ConsistencyProof returns the RFC 9162 consistency proof from the tree of size1
// leaves to that of size2 leaves (1 <= size1 <= size2 <= Size()).
func (l *Log) ConsistencyProof(size1, size2 int64) ([]tlog.Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.consistencyProof(size1, size2)
}

func (l *Log) consistencyProof(size1, size2 int64) ([]tlog.Hash, error) {
	if size1 < 1 || size1 > size2 || size2 > l.size {
		return nil, fmt.Errorf("ledger: consistency proof from %d to %d: log has %d leaves", size1, size2, l.size)
	}
	p, err := tlog.ProveTree(size2, size1, &cacheReader{l: l})
	if err != nil {
		return nil, fmt.Errorf("ledger: consistency proof from %d to %d: %w", size1, size2, err)
	}
	return p, nil
}

// readHashes returns stored hashes from the cache, reading misses from the store in
// one call. The caller holds l.mu.
func (l *Log) readHashes(indexes []int64, pending []tlog.Hash) ([]tlog.Hash, error) {
	end := l.base + int64(len(l.tail))
	out := make([]tlog.Hash, len(indexes))
	var miss []int64
	for i, x := range indexes {
		switch {
		case x < 0 || x >= end+int64(len(pending)):
			return nil, fmt.Errorf("stored hash %d is beyond the log (%d stored)", x, end)
		case x >= end:
			out[i] = pending[x-end]
		case x >= l.base:
			out[i] = l.tail[x-l.base]
		default:
			h, ok := l.read[x]
			if !ok {
				miss = append(miss, x)
				continue
			}
			out[i] = h
		}
	}
	if len(miss) == 0 {
		return out, nil
	}
	got, err := l.hr.ReadHashes(miss)
	if err != nil {
		return nil, fmt.Errorf("read stored hashes: %w", err)
	}
	if len(got) != len(miss) {
		return nil, fmt.Errorf("read %d stored hashes, got %d", len(miss), len(got))
	}
	for i, x := range miss {
		l.read[x] = got[i]
	}
	for i, x := range indexes {
		if x < l.base {
			out[i] = l.read[x]
		}
	}
	return out, nil
}

// cacheReader is the tlog.HashReader over a Log's cache (under the Log's lock), plus
// hashes prepared but not yet advanced.
type cacheReader struct {
	l       *Log
	pending []tlog.Hash
}

func (r *cacheReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return r.l.readHashes(indexes, r.pending)
}
