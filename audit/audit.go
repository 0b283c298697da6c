// Package audit is the auditor's offline check: from stored data (a database or an
// export) it re-encodes every batch, recomputes every leaf hash and the Merkle root
// independently of the stored hashes, checks the root against a signed checkpoint
// under a public key, and names every reading that was altered, added or removed.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// Source is what an audit reads: the subset of a store that an export also provides.
type Source interface {
	TreeSize(ctx context.Context) (int64, error)
	Leaf(ctx context.Context, index int64) ([]byte, error)
	BatchReadings(ctx context.Context, index int64) (*reading.Batch, error)
	Uncovered(ctx context.Context, size int64, limit int) ([]reading.Reading, error)
	ReadHashes(indexes []int64) ([]tlog.Hash, error)
	LatestCheckpoint(ctx context.Context) (int64, []byte, error)
}

// Finding is one problem, naming the leaf and, where it can, the reading.
type Finding struct {
	Leaf    int64  `json:"leaf"` // -1 when not tied to a leaf
	Kind    string `json:"kind"` // altered, added, removed, leaf, hash, root, uncovered, checkpoint, trusted
	Reading string `json:"reading,omitempty"`
	Detail  string `json:"detail"`
}

func (f Finding) String() string {
	s := f.Kind
	if f.Leaf >= 0 {
		s += fmt.Sprintf(" (leaf %d)", f.Leaf)
	}
	if f.Reading != "" {
		s += ": " + f.Reading
	}
	return s + ": " + f.Detail
}

// Report is the outcome of an audit.
type Report struct {
	Origin    string    `json:"origin"`
	TreeSize  int64     `json:"tree_size"`
	Root      string    `json:"root"`
	Leaves    int64     `json:"leaves_checked"`
	Readings  int       `json:"readings_checked"`
	Findings  []Finding `json:"findings"`
	KeyFromDB bool      `json:"key_from_database"`
	OK        bool      `json:"ok"`
}

// ErrFailed is returned (wrapped) when the audit found problems.
var ErrFailed = errors.New("audit: verification failed")

// maxFindings bounds the report: a wholesale rewrite is reported, not enumerated.
const maxFindings = 1000

// Verify audits src against the latest signed checkpoint, trusting only verifiers.
func Verify(ctx context.Context, src Source, origin string, verifiers note.Verifiers) (*Report, error) {
	rep := &Report{Origin: origin}
	add := func(f Finding) {
		if len(rep.Findings) < maxFindings {
			rep.Findings = append(rep.Findings, f)
		}
	}
	size, text, err := src.LatestCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: no signed checkpoint: %w", err)
	}
	cp, err := ledger.ParseCheckpoint(text, origin, verifiers)
	if err != nil {
		add(Finding{Leaf: -1, Kind: "checkpoint", Detail: err.Error()})
		return rep, fmt.Errorf("%w: checkpoint: %v", ErrFailed, err)
	}
	if cp.Size != size {
		add(Finding{Leaf: -1, Kind: "checkpoint", Detail: fmt.Sprintf("stored under size %d but signs size %d", size, cp.Size)})
	}
	rep.TreeSize, rep.Root = cp.Size, cp.Root.String()
	n, err := src.TreeSize(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if n < cp.Size {
		add(Finding{Leaf: -1, Kind: "removed", Detail: fmt.Sprintf("the store has %d leaves, the checkpoint signs %d", n, cp.Size)})
	}

	// Leaf by leaf: stored rows must re-encode to the stored leaf.
	leafHashes := make([]tlog.Hash, 0, min(cp.Size, n)) // cp.Size is only as honest as its signer
	for i := int64(0); i < min(cp.Size, n); i++ {
		leaf, err := src.Leaf(ctx, i)
		if err != nil {
			add(Finding{Leaf: i, Kind: "leaf", Detail: err.Error()})
			leafHashes = append(leafHashes, tlog.Hash{})
			continue
		}
		leafHashes = append(leafHashes, ledger.LeafHash(leaf))
		b, err := src.BatchReadings(ctx, i)
		if err != nil {
			add(Finding{Leaf: i, Kind: "leaf", Detail: err.Error()})
			continue
		}
		rep.Readings += len(b.Readings)
		if got := b.Canonical(); !bytes.Equal(got, leaf) {
			for _, f := range diff(i, leaf, b) {
				add(f)
			}
		}
		rep.Leaves++
	}

	// The root from the leaves alone, independent of the stored hashes.
	if int64(len(leafHashes)) == cp.Size {
		root := merkleRoot(leafHashes)
		if root != cp.Root {
			add(Finding{Leaf: -1, Kind: "root", Detail: fmt.Sprintf("leaves hash to %s, the signed checkpoint says %s", root, cp.Root)})
			// Localise: compare each recomputed leaf hash with the stored one.
			for i, h := range leafHashes {
				st, err := src.ReadHashes([]int64{tlog.StoredHashIndex(0, int64(i))})
				if err != nil || st[0] != h {
					add(Finding{Leaf: int64(i), Kind: "hash", Detail: "leaf bytes do not match the stored leaf hash: the leaf itself was rewritten"})
				}
			}
		}
	}

	// Readings outside every signed leaf.
	extra, err := src.Uncovered(ctx, cp.Size, maxFindings)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	for _, r := range extra {
		add(Finding{Leaf: -1, Kind: "uncovered", Reading: describe(r), Detail: "stored but in no signed leaf"})
	}
	rep.OK = len(rep.Findings) == 0
	if !rep.OK {
		return rep, fmt.Errorf("%w: %d finding(s)", ErrFailed, len(rep.Findings))
	}
	return rep, nil
}

func describe(r reading.Reading) string {
	return fmt.Sprintf("%s@%s=%s %s", r.Point, reading.FormatTime(r.Time), reading.FormatValue(r.Value), r.Unit)
}

// diff names what differs between a leaf and the rows stored under it.
func diff(i int64, leaf []byte, stored *reading.Batch) []Finding {
	orig, err := parseLeaf(leaf)
	if err != nil {
		return []Finding{{Leaf: i, Kind: "leaf", Detail: "stored leaf is not a canonical batch: " + err.Error()}}
	}
	var out []Finding
	if orig.Source != stored.Source || !orig.Received.Equal(stored.Received) {
		out = append(out, Finding{Leaf: i, Kind: "altered", Detail: fmt.Sprintf("batch metadata: leaf says %s at %s, store says %s at %s",
			orig.Source, reading.FormatTime(orig.Received), stored.Source, reading.FormatTime(stored.Received))})
	}
	idx := map[reading.Key]reading.Reading{}
	for _, r := range stored.Readings {
		idx[r.Key()] = r
	}
	seen := map[reading.Key]bool{}
	for _, r := range orig.Readings {
		k := r.Key()
		seen[k] = true
		s, ok := idx[k]
		switch {
		case !ok:
			out = append(out, Finding{Leaf: i, Kind: "removed", Reading: describe(r), Detail: "in the signed leaf, missing from the store"})
		case s.Value != r.Value || s.Unit != r.Unit || s.Quality != r.Quality:
			out = append(out, Finding{Leaf: i, Kind: "altered", Reading: describe(r),
				Detail: fmt.Sprintf("store has %s %s (%s), the signed leaf %s %s (%s)", reading.FormatValue(s.Value), s.Unit, s.Quality, reading.FormatValue(r.Value), r.Unit, r.Quality)})
		}
	}
	var added []reading.Reading
	for _, r := range stored.Readings {
		if !seen[r.Key()] {
			added = append(added, r)
		}
	}
	slices.SortFunc(added, func(a, b reading.Reading) int { return a.Time.Compare(b.Time) })
	for _, r := range added {
		out = append(out, Finding{Leaf: i, Kind: "added", Reading: describe(r), Detail: "in the store under this leaf, not in the signed leaf"})
	}
	if len(orig.Events) != len(stored.Events) || !bytes.Equal((&reading.Batch{Events: orig.Events}).Canonical(), (&reading.Batch{Events: stored.Events}).Canonical()) {
		out = append(out, Finding{Leaf: i, Kind: "altered", Detail: "events differ from the signed leaf"})
	}
	if len(out) == 0 {
		out = append(out, Finding{Leaf: i, Kind: "altered", Detail: "stored rows re-encode differently from the signed leaf (order or encoding)"})
	}
	return out
}

// parseLeaf is reading.ParseCanonical on bytes nobody vouches for: a count
// line claiming more readings than the leaf has lines is refused first, since
// the parser sizes its slice by it.
func parseLeaf(leaf []byte) (*reading.Batch, error) {
	lines := bytes.Count(leaf, []byte("\n"))
	for _, l := range bytes.Split(leaf, []byte("\n")) {
		if s, ok := bytes.CutPrefix(l, []byte("readings ")); ok {
			if n, err := strconv.ParseInt(string(s), 10, 64); err == nil && n > int64(lines) {
				return nil, fmt.Errorf("it claims %d readings in %d lines", n, lines)
			}
		}
	}
	return reading.ParseCanonical(leaf)
}

// merkleRoot is the RFC 6962 Merkle tree hash over leaf hashes, computed directly.
func merkleRoot(h []tlog.Hash) tlog.Hash {
	switch len(h) {
	case 0:
		return tlog.Hash(sha256Empty())
	case 1:
		return h[0]
	}
	k := 1
	for k*2 < len(h) {
		k *= 2
	}
	return tlog.NodeHash(merkleRoot(h[:k]), merkleRoot(h[k:]))
}

var _ Source = (store.Store)(nil)

// sha256Empty is the root of the empty tree: SHA-256 of the empty string.
func sha256Empty() [32]byte { return sha256.Sum256(nil) }
