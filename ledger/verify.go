package ledger

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

var (
	// ErrInconsistent is returned when a tree is not an extension of a checkpoint the
	// log signed before: signing it would publish a fork.
	ErrInconsistent = errors.New("ledger: tree inconsistent with last checkpoint")
	// ErrBadProof is returned (wrapped) by every failed inclusion or consistency check,
	// including malformed inputs such as out-of-range sizes.
	ErrBadProof = errors.New("ledger: proof does not verify")
	// ErrBadSignature is returned when a checkpoint carries no valid signature by a
	// known key, or a known key's signature does not verify.
	ErrBadSignature = errors.New("ledger: bad checkpoint signature")
	// ErrNotNext is returned by Advance when the index is not the log's next leaf
	// (another append got there first): Prepare again.
	ErrNotNext = errors.New("ledger: index is not the next leaf")
	// ErrNoSigner is returned by Sign on a Log opened without a signer.
	ErrNoSigner = errors.New("ledger: log has no signer")
)

// emptyRoot is the root of the empty tree, SHA-256 of nothing (RFC 6962 §2.1).
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

// LeafHash returns the RFC 6962 leaf hash SHA-256(0x00‖leaf).
func LeafHash(leaf []byte) tlog.Hash { return tlog.RecordHash(leaf) }

// nodeHash is SHA-256(0x01‖l‖r), written out so the verifiers depend on no tlog
// proof code.
func nodeHash(l, r tlog.Hash) tlog.Hash {
	var buf [1 + 2*tlog.HashSize]byte
	buf[0] = 0x01
	copy(buf[1:], l[:])
	copy(buf[1+tlog.HashSize:], r[:])
	return sha256.Sum256(buf[:])
}

// VerifyInclusion checks that leafHash is the leaf at index (0-based) of the tree of
// size leaves whose root is root, following RFC 9162 §2.1.3.2. Every failure wraps
// ErrBadProof.
func VerifyInclusion(leafHash tlog.Hash, index, size int64, proof []tlog.Hash, root tlog.Hash) error {
	if index < 0 || size <= 0 || index >= size {
		return fmt.Errorf("%w: leaf index %d outside tree of size %d", ErrBadProof, index, size)
	}
	fn, sn := uint64(index), uint64(size-1)
	r := leafHash
	for _, p := range proof {
		if sn == 0 {
			return fmt.Errorf("%w: inclusion proof too long (%d hashes)", ErrBadProof, len(proof))
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: inclusion proof too short (%d hashes)", ErrBadProof, len(proof))
	}
	if r != root {
		return fmt.Errorf("%w: inclusion proof gives root %v, want %v", ErrBadProof, r, root)
	}
	return nil
}

// VerifyConsistency checks that the tree of size2 leaves with root root2 extends the
// tree of size1 leaves with root root1, following RFC 9162 §2.1.4.2. size1 must be at
// least 1 (every tree extends the empty one, so a proof from 0 proves nothing and is
// refused); equal sizes need an empty proof and equal roots. Every failure wraps
// ErrBadProof.
func VerifyConsistency(size1, size2 int64, proof []tlog.Hash, root1, root2 tlog.Hash) error {
	switch {
	case size1 <= 0:
		return fmt.Errorf("%w: consistency from tree size %d", ErrBadProof, size1)
	case size1 > size2:
		return fmt.Errorf("%w: tree size %d is larger than %d", ErrBadProof, size1, size2)
	case size1 == size2:
		if len(proof) != 0 {
			return fmt.Errorf("%w: non-empty consistency proof between equal sizes", ErrBadProof)
		}
		if root1 != root2 {
			return fmt.Errorf("%w: different roots at equal size %d", ErrBadProof, size1)
		}
		return nil
	case len(proof) == 0:
		return fmt.Errorf("%w: empty consistency proof from %d to %d", ErrBadProof, size1, size2)
	}

	fn, sn := uint64(size1-1), uint64(size2-1)
	path := proof
	var fr, sr tlog.Hash
	if size1&(size1-1) == 0 {
		// size1 is a power of two: the old root is itself a node of the new tree and
		// the proof omits it (RFC 9162: "prepend first_hash to path").
		fr, sr = root1, root1
	} else {
		fr, sr = path[0], path[0]
		path = path[1:]
	}
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	for _, c := range path {
		if sn == 0 {
			return fmt.Errorf("%w: consistency proof too long (%d hashes)", ErrBadProof, len(proof))
		}
		if fn&1 == 1 || fn == sn {
			fr = nodeHash(c, fr)
			sr = nodeHash(c, sr)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			sr = nodeHash(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: consistency proof too short (%d hashes)", ErrBadProof, len(proof))
	}
	if fr != root1 {
		return fmt.Errorf("%w: consistency proof gives old root %v, want %v", ErrBadProof, fr, root1)
	}
	if sr != root2 {
		return fmt.Errorf("%w: consistency proof gives new root %v, want %v", ErrBadProof, sr, root2)
	}
	return nil
}
