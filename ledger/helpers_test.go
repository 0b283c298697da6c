package ledger_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/ledger"
)

const testOrigin = "example.org/lifang/unit-1"

// memHashes is a map-backed stored-hash store, the fake of store.Store's ReadHashes.
type memHashes struct {
	m     map[int64]tlog.Hash
	reads int // stored hashes read, to check the cache keeps appends off the store
}

func newMemHashes() *memHashes { return &memHashes{m: make(map[int64]tlog.Hash)} }

func (s *memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := s.m[x]
		if !ok {
			return nil, fmt.Errorf("memHashes: no stored hash %d", x)
		}
		out[i] = h
	}
	s.reads += len(indexes)
	return out, nil
}

// put stores hashes as store.Commit does: from tlog.StoredHashIndex(0, index) on.
func (s *memHashes) put(index int64, hashes []tlog.Hash) {
	first := tlog.StoredHashIndex(0, index)
	for i, h := range hashes {
		s.m[first+int64(i)] = h
	}
}

// appendLeaves appends leaves one at a time through Prepare, the store and Advance.
func appendLeaves(t testing.TB, l *ledger.Log, s *memHashes, leaves [][]byte) {
	t.Helper()
	for _, leaf := range leaves {
		i, hs, err := l.Prepare(leaf)
		if err != nil {
			t.Fatal(err)
		}
		s.put(i, hs)
		if err := l.Advance(i, hs); err != nil {
			t.Fatal(err)
		}
	}
}

// newLog returns an empty log over a fresh fake store.
func newLog(t testing.TB, signer note.Signer) (*ledger.Log, *memHashes) {
	t.Helper()
	s := newMemHashes()
	l, err := ledger.New(testOrigin, s, 0, signer, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l, s
}

func randomLeaves(r *rand.Rand, n int) [][]byte {
	leaves := make([][]byte, n)
	for i := range leaves {
		leaf := make([]byte, r.IntN(100))
		for j := range leaf {
			leaf[j] = byte(r.Uint32())
		}
		leaves[i] = leaf
	}
	return leaves
}

// naiveRoot is RFC 6962 §2.1 MTH written out recursively, independent of tlog.
func naiveRoot(leaves [][]byte) tlog.Hash {
	if len(leaves) == 0 {
		return sha256.Sum256(nil)
	}
	if len(leaves) == 1 {
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := naiveRoot(leaves[:k]), naiveRoot(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

type testKey struct {
	skey, vkey string
	signer     note.Signer
	verifier   note.Verifier
}

func newTestKey(t testing.TB, name string) testKey {
	t.Helper()
	skey, vkey, err := ledger.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ledger.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ledger.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{skey, vkey, s, v}
}
