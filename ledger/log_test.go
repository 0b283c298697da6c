package ledger_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/ledger"
)

// Random leaves through Prepare/Advance: roots match a naive RFC 6962 root, and random
// inclusion and consistency proofs verify with the independent verifiers.
func TestLogProofsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	leaves := randomLeaves(r, 700)
	l, s := newLog(t, nil)
	for i, leaf := range leaves {
		appendLeaves(t, l, s, [][]byte{leaf})
		if n := int64(i + 1); n < 70 || r.IntN(20) == 0 {
			got, err := l.Root(n)
			if err != nil {
				t.Fatal(err)
			}
			if want := naiveRoot(leaves[:n]); got != want {
				t.Fatalf("Root(%d) = %v, naive %v", n, got, want)
			}
		}
	}
	checkProofs(t, r, l, leaves)

	// A log reopened over the same store reads old hashes through and proves the same.
	l2, err := ledger.New(testOrigin, s, l.Size(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkProofs(t, r, l2, leaves)
	for range 20 {
		i, n := randomIndexSize(r, int64(len(leaves)))
		p1, _ := l.InclusionProof(i, n)
		p2, err := l2.InclusionProof(i, n)
		if err != nil || !slices.Equal(p1, p2) {
			t.Fatalf("reopened log: inclusion proof %d in %d differs (%v)", i, n, err)
		}
	}
}

func randomIndexSize(r *rand.Rand, size int64) (index, n int64) {
	n = 1 + r.Int64N(size)
	return r.Int64N(n), n
}

func checkProofs(t *testing.T, r *rand.Rand, l *ledger.Log, leaves [][]byte) {
	t.Helper()
	size := l.Size()
	for range 300 {
		i, n := randomIndexSize(r, size)
		root, err := l.Root(n)
		if err != nil {
			t.Fatal(err)
		}
		p, err := l.InclusionProof(i, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.VerifyInclusion(ledger.LeafHash(leaves[i]), i, n, p, root); err != nil {
			t.Fatalf("inclusion of %d in %d: %v", i, n, err)
		}
		// The proof is for this leaf only, at this index only.
		if err := ledger.VerifyInclusion(ledger.LeafHash(append(leaves[i], 'x')), i, n, p, root); err == nil {
			t.Fatalf("inclusion of a modified leaf %d in %d verified", i, n)
		}
	}
	for range 300 {
		n2 := 1 + r.Int64N(size)
		n1 := 1 + r.Int64N(n2)
		r1, _ := l.Root(n1)
		r2, _ := l.Root(n2)
		p, err := l.ConsistencyProof(n1, n2)
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.VerifyConsistency(n1, n2, p, r1, r2); err != nil {
			t.Fatalf("consistency %d to %d: %v", n1, n2, err)
		}
		if n1 < n2 {
			r1[0] ^= 1
			if err := ledger.VerifyConsistency(n1, n2, p, r1, r2); err == nil {
				t.Fatalf("consistency %d to %d verified with a wrong old root", n1, n2)
			}
		}
	}
}

func TestPrepareManyMatchesPrepare(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	leaves := randomLeaves(r, 1000)
	one, s1 := newLog(t, nil)
	appendLeaves(t, one, s1, leaves)

	many, s2 := newLog(t, nil)
	for rest := leaves; len(rest) > 0; {
		k := min(len(rest), 1+r.IntN(40))
		first, hs, err := many.PrepareMany(rest[:k])
		if err != nil {
			t.Fatal(err)
		}
		if first != many.Size() {
			t.Fatalf("PrepareMany first = %d, size %d", first, many.Size())
		}
		s2.put(first, hs)
		if err := many.Advance(first, hs); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
	}
	if one.Size() != many.Size() {
		t.Fatalf("sizes %d and %d", one.Size(), many.Size())
	}
	r1, _ := one.Root(one.Size())
	r2, _ := many.Root(many.Size())
	if r1 != r2 {
		t.Fatalf("roots differ: %v vs %v", r1, r2)
	}
	for x, h := range s1.m {
		if s2.m[x] != h {
			t.Fatalf("stored hash %d differs", x)
		}
	}
}

func TestPrepareDoesNotChangeLog(t *testing.T) {
	l, s := newLog(t, nil)
	appendLeaves(t, l, s, [][]byte{[]byte("a"), []byte("b"), []byte("c")})
	before, _ := l.Root(3)

	i, hs, err := l.Prepare([]byte("d"))
	if err != nil {
		t.Fatal(err)
	}
	// The commit "failed": nothing persisted, no Advance.
	if l.Size() != 3 {
		t.Fatalf("size after Prepare = %d", l.Size())
	}
	if after, _ := l.Root(3); after != before {
		t.Fatal("root changed by Prepare")
	}
	if _, err := l.Root(4); err == nil {
		t.Fatal("Root(4) of a 3-leaf log succeeded")
	}
	if _, _, err := l.PrepareMany([][]byte{[]byte("x"), []byte("y")}); err != nil || l.Size() != 3 {
		t.Fatalf("PrepareMany: %v, size %d", err, l.Size())
	}

	if err := l.Advance(i+1, hs); !errors.Is(err, ledger.ErrNotNext) {
		t.Fatalf("Advance at a wrong index: %v, want ErrNotNext", err)
	}
	if err := l.Advance(i, hs[:len(hs)-1]); err == nil {
		t.Fatal("Advance with too few hashes succeeded")
	}
	if err := l.Advance(i, nil); err == nil {
		t.Fatal("Advance with no hashes succeeded")
	}
	s.put(i, hs)
	if err := l.Advance(i, hs); err != nil {
		t.Fatal(err)
	}
	// A second writer that prepared the same index is stale now.
	if err := l.Advance(i, hs); !errors.Is(err, ledger.ErrNotNext) {
		t.Fatalf("stale Advance: %v, want ErrNotNext", err)
	}
}

func TestProofArgumentErrors(t *testing.T) {
	l, s := newLog(t, nil)
	appendLeaves(t, l, s, [][]byte{[]byte("a"), []byte("b")})
	for _, c := range [][2]int64{{-1, 2}, {2, 2}, {0, 3}, {0, 0}} {
		if _, err := l.InclusionProof(c[0], c[1]); err == nil {
			t.Errorf("InclusionProof(%d, %d) succeeded", c[0], c[1])
		}
	}
	for _, c := range [][2]int64{{0, 2}, {0, 0}, {2, 1}, {1, 3}} {
		if _, err := l.ConsistencyProof(c[0], c[1]); err == nil {
			t.Errorf("ConsistencyProof(%d, %d) succeeded", c[0], c[1])
		}
	}
	if _, err := ledger.New(testOrigin, newMemHashes(), 5, nil, nil, nil); err == nil {
		t.Error("New over a store missing hashes succeeded")
	}
	if _, err := ledger.New("a\nb", nil, 0, nil, nil, nil); err == nil {
		t.Error("New with a multi-line origin succeeded")
	}
}

// Once the right edge is cached, appends never read the store.
func TestAppendHotPathSkipsStore(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	l, s := newLog(t, nil)
	appendLeaves(t, l, s, randomLeaves(r, 1000))
	l2, err := ledger.New(testOrigin, s, 1000, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.reads = 0
	appendLeaves(t, l2, s, randomLeaves(r, 5000))
	if s.reads != 0 {
		t.Fatalf("appends read %d stored hashes", s.reads)
	}
	if _, err := l2.Root(l2.Size()); err != nil || s.reads != 0 {
		t.Fatalf("Root read %d stored hashes (%v)", s.reads, err)
	}
}

func TestLogConcurrentUse(t *testing.T) {
	l, s := newLog(t, nil)
	appendLeaves(t, l, s, [][]byte{[]byte("seed")})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			n := l.Size()
			root, err := l.Root(n)
			if err != nil {
				t.Error(err)
				return
			}
			p, err := l.InclusionProof(0, n)
			if err != nil {
				t.Error(err)
				return
			}
			if err := ledger.VerifyInclusion(ledger.LeafHash([]byte("seed")), 0, n, p, root); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// The fake store is not safe for concurrent writes, so one writer only.
	for i := range 500 {
		appendLeaves(t, l, s, [][]byte{{byte(i)}})
	}
	<-done
}

// BenchmarkAppend measures Prepare+Advance of one 64-byte leaf, the ledger's share of
// committing a batch (the store write is not included).
func BenchmarkAppend(b *testing.B) {
	hr := tlog.HashReaderFunc(func([]int64) ([]tlog.Hash, error) {
		b.Fatal("append read the store")
		return nil, nil
	})
	l, err := ledger.New(testOrigin, hr, 0, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	leaf := make([]byte, 64)
	n := 0
	for b.Loop() {
		leaf[0], leaf[1], leaf[2] = byte(n), byte(n>>8), byte(n>>16)
		i, hs, err := l.Prepare(leaf)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Advance(i, hs); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "leaves/s")
}
