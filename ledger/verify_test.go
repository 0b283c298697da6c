package ledger_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/ledger"
)

// merkleDir holds the transparency-dev/merkle vectors and the C2SP signed-note example.
const merkleDir = "../../shared/data/merkle"

// Sizes and indexes are uint64 upstream; mutations include 2⁶⁴−1. Converted to
// int64 they become negative, which is as out of range for this log as they are for
// any tree, so the verdict the vector expects is unchanged.
type inclusionVector struct {
	LeafIdx  uint64   `json:"leafIdx"`
	TreeSize uint64   `json:"treeSize"`
	Root     []byte   `json:"root"`
	LeafHash []byte   `json:"leafHash"`
	Proof    [][]byte `json:"proof"`
	Desc     string   `json:"desc"`
	WantErr  bool     `json:"wantErr"`
}

type consistencyVector struct {
	Size1   uint64   `json:"size1"`
	Size2   uint64   `json:"size2"`
	Root1   []byte   `json:"root1"`
	Root2   []byte   `json:"root2"`
	Proof   [][]byte `json:"proof"`
	Desc    string   `json:"desc"`
	WantErr bool     `json:"wantErr"`
}

// loadVectors decodes every JSON file under testdata/<kind>, keyed by relative path.
func loadVectors[V any](t testing.TB, kind string) map[string]V {
	t.Helper()
	dir := filepath.Join(merkleDir, "transparency-dev-merkle", "testdata", kind)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("Merkle vectors absent (%v): they live in ../shared/data/merkle, see its README", err)
	}
	out := make(map[string]V)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var v V
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// toHash maps vector bytes to a tlog.Hash, reporting whether they were one. Several
// mutations use values that are not 32 bytes (empty, 9 or 12 bytes): a client
// decoding into tlog.Hash rejects those before verifying, and upstream's verifier
// rejects them for their length. Other values map injectively to a hash no real
// tree produces, so equal inputs stay equal, which is all a verifier can observe;
// that lets the one happy path with 12-byte roots (equal sizes, equal roots) run.
func toHash(b []byte) (tlog.Hash, bool) {
	if len(b) == tlog.HashSize {
		return tlog.Hash(b), true
	}
	return sha256.Sum256(append([]byte("not a 32-byte hash:"), b...)), false
}

func toHashes(bs ...[]byte) ([]tlog.Hash, bool) {
	if bs == nil {
		return nil, true
	}
	out := make([]tlog.Hash, len(bs))
	ok := true
	for i, b := range bs {
		var good bool
		out[i], good = toHash(b)
		ok = ok && good
	}
	return out, ok
}

// vectorTally counts how each vector was decided.
type vectorTally struct{ verified, refused, decodeRefused, decodeAlsoVerifier, happy int }

// check records the outcome of one vector: err is the verifier's verdict, well says
// whether all its hashes were 32 bytes.
func (c *vectorTally) check(t *testing.T, name, desc string, wantErr, well bool, err error) {
	t.Helper()
	switch {
	case !well && wantErr:
		c.decodeRefused++ // a strict client never gets as far as the verifier
		if err != nil {
			c.decodeAlsoVerifier++
		}
	case wantErr && err == nil:
		t.Errorf("%s (%s): verified, want error", name, desc)
	case wantErr && !errors.Is(err, ledger.ErrBadProof):
		t.Errorf("%s (%s): error %v does not wrap ErrBadProof", name, desc, err)
	case wantErr:
		c.refused++
	case err != nil:
		t.Errorf("%s (%s): %v", name, desc, err)
	default:
		c.verified++
		c.happy++
	}
}

func (c *vectorTally) total() int { return c.verified + c.refused + c.decodeRefused }

func TestInclusionVectors(t *testing.T) {
	vs := loadVectors[inclusionVector](t, "inclusion")
	if len(vs) < 98 {
		t.Errorf("found %d inclusion vectors, want 98", len(vs))
	}
	var c vectorTally
	for name, v := range vs {
		leaf, ok1 := toHash(v.LeafHash)
		root, ok2 := toHash(v.Root)
		proof, ok3 := toHashes(v.Proof...)
		err := ledger.VerifyInclusion(leaf, int64(v.LeafIdx), int64(v.TreeSize), proof, root)
		c.check(t, name, v.Desc, v.WantErr, ok1 && ok2 && ok3, err)
	}
	t.Logf("inclusion vectors: %d/%d as expected: %d happy paths verified, %d mutations refused by VerifyInclusion, %d refused for non-32-byte hashes (%d of them also by the verifier)",
		c.total(), len(vs), c.happy, c.refused, c.decodeRefused, c.decodeAlsoVerifier)
}

func TestConsistencyVectors(t *testing.T) {
	vs := loadVectors[consistencyVector](t, "consistency")
	if len(vs) < 98 {
		t.Errorf("found %d consistency vectors, want 98", len(vs))
	}
	var c vectorTally
	zero := 0
	for name, v := range vs {
		r1, ok1 := toHash(v.Root1)
		r2, ok2 := toHash(v.Root2)
		proof, ok3 := toHashes(v.Proof...)
		err := ledger.VerifyConsistency(int64(v.Size1), int64(v.Size2), proof, r1, r2)
		if v.Size1 == 0 {
			zero++
			if err == nil {
				t.Errorf("%s (%s): consistency from size 0 verified", name, v.Desc)
			}
		}
		c.check(t, name, v.Desc, v.WantErr, ok1 && ok2 && ok3, err)
	}
	t.Logf("consistency vectors: %d/%d as expected: %d happy paths verified, %d mutations refused by VerifyConsistency, %d refused for non-32-byte hashes (%d of them also by the verifier); all %d with size1 = 0 refused by VerifyConsistency",
		c.total(), len(vs), c.happy, c.refused, c.decodeRefused, c.decodeAlsoVerifier, zero)
}

// The inputs merkle v0.0.2 wrongly accepted: a proof from the empty tree.
func TestConsistencyFromEmptyTreeRejected(t *testing.T) {
	empty := tlog.Hash(sha256.Sum256(nil))
	one := ledger.LeafHash(nil)
	for _, tc := range []struct {
		size2 int64
		proof []tlog.Hash
		root2 tlog.Hash
	}{
		{0, nil, empty},
		{0, []tlog.Hash{empty}, empty},
		{1, nil, one},
		{1, []tlog.Hash{empty}, empty},
		{1, []tlog.Hash{one}, one},
	} {
		if err := ledger.VerifyConsistency(0, tc.size2, tc.proof, empty, tc.root2); !errors.Is(err, ledger.ErrBadProof) {
			t.Errorf("VerifyConsistency(0, %d, %v) = %v, want ErrBadProof", tc.size2, tc.proof, err)
		}
	}
}

// The classic RFC 6962 tree (certificate-transparency-go's test leaves), roots from
// ../shared/data/merkle/README.md.
func TestRFC6962ReferenceRoots(t *testing.T) {
	leavesHex := []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	roots := []string{
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	var leaves [][]byte
	for _, h := range leavesHex {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, b)
	}
	l, s := newLog(t, nil)
	appendLeaves(t, l, s, leaves)
	for n, want := range roots {
		got, err := l.Root(int64(n))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("Root(%d) = %x, want %s", n, got, want)
		}
		if naive := naiveRoot(leaves[:n]); naive != got {
			t.Errorf("naive root(%d) = %x, log root %x", n, naive, got)
		}
	}
	// Every proof in the reference tree verifies.
	for n := int64(1); n <= 8; n++ {
		root, _ := l.Root(n)
		for i := range n {
			p, err := l.InclusionProof(i, n)
			if err != nil {
				t.Fatal(err)
			}
			if err := ledger.VerifyInclusion(ledger.LeafHash(leaves[i]), i, n, p, root); err != nil {
				t.Errorf("inclusion %d in %d: %v", i, n, err)
			}
		}
		for m := int64(1); m <= n; m++ {
			old, _ := l.Root(m)
			p, err := l.ConsistencyProof(m, n)
			if err != nil {
				t.Fatal(err)
			}
			if err := ledger.VerifyConsistency(m, n, p, old, root); err != nil {
				t.Errorf("consistency %d to %d: %v", m, n, err)
			}
		}
	}
}

// hashesFromBytes cuts fuzz bytes into hashes; a trailing partial hash is dropped.
func hashesFromBytes(b []byte) []tlog.Hash {
	out := make([]tlog.Hash, 0, len(b)/tlog.HashSize)
	for len(b) >= tlog.HashSize {
		out = append(out, tlog.Hash(b[:tlog.HashSize]))
		b = b[tlog.HashSize:]
	}
	return out
}

func hashBytes(hs [][]byte) []byte {
	var out []byte
	for _, h := range hs {
		out = append(out, h...)
	}
	return out
}

func padHash(b []byte) tlog.Hash {
	var h tlog.Hash
	copy(h[:], b)
	return h
}

// FuzzVerifyInclusion: never panics on arbitrary input, and agrees with tlog's
// independent implementation (CheckRecord) wherever the inputs are in range.
func FuzzVerifyInclusion(f *testing.F) {
	if vs, err := readVectorSeeds[inclusionVector]("inclusion"); err == nil {
		for _, v := range vs {
			f.Add(int64(v.LeafIdx), int64(v.TreeSize), v.LeafHash, hashBytes(v.Proof), v.Root)
		}
	}
	f.Add(int64(0), int64(1), make([]byte, 32), []byte(nil), make([]byte, 32))
	f.Add(int64(-1), int64(-5), []byte{1}, []byte{2, 3}, []byte{4})
	f.Fuzz(func(t *testing.T, index, size int64, leaf, proof, root []byte) {
		p := hashesFromBytes(proof)
		err := ledger.VerifyInclusion(padHash(leaf), index, size, p, padHash(root))
		if err != nil && !errors.Is(err, ledger.ErrBadProof) {
			t.Fatalf("error %v does not wrap ErrBadProof", err)
		}
		if index < 0 || size <= 0 || index >= size {
			if err == nil {
				t.Fatalf("verified leaf %d of tree size %d", index, size)
			}
			return
		}
		ref := tlog.CheckRecord(p, size, padHash(root), index, padHash(leaf))
		if (err == nil) != (ref == nil) {
			t.Fatalf("VerifyInclusion = %v, tlog.CheckRecord = %v", err, ref)
		}
	})
}

// FuzzVerifyConsistency: never panics, never accepts size1 <= 0, and agrees with
// tlog's CheckTree wherever the inputs are in range.
func FuzzVerifyConsistency(f *testing.F) {
	if vs, err := readVectorSeeds[consistencyVector]("consistency"); err == nil {
		for _, v := range vs {
			f.Add(int64(v.Size1), int64(v.Size2), v.Root1, hashBytes(v.Proof), v.Root2)
		}
	}
	f.Add(int64(1), int64(1), make([]byte, 32), []byte(nil), make([]byte, 32))
	f.Add(int64(0), int64(0), []byte{1}, []byte{2, 3}, []byte{4})
	f.Fuzz(func(t *testing.T, size1, size2 int64, root1, proof, root2 []byte) {
		p := hashesFromBytes(proof)
		err := ledger.VerifyConsistency(size1, size2, p, padHash(root1), padHash(root2))
		if err != nil && !errors.Is(err, ledger.ErrBadProof) {
			t.Fatalf("error %v does not wrap ErrBadProof", err)
		}
		if size1 <= 0 || size1 > size2 {
			if err == nil {
				t.Fatalf("verified consistency from %d to %d", size1, size2)
			}
			return
		}
		ref := tlog.CheckTree(p, size2, padHash(root2), size1, padHash(root1))
		if (err == nil) != (ref == nil) {
			t.Fatalf("VerifyConsistency = %v, tlog.CheckTree = %v", err, ref)
		}
	})
}

// readVectorSeeds is loadVectors for fuzz seeds: absent vectors just mean fewer seeds.
func readVectorSeeds[V any](kind string) ([]V, error) {
	dir := filepath.Join(merkleDir, "transparency-dev-merkle", "testdata", kind)
	var out []V
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var v V
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}
