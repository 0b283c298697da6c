package ledger_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/ledger"
)

func leavesN(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte{'l', byte(i), byte(i >> 8)}
	}
	return out
}

func TestSignParseRoundTrip(t *testing.T) {
	k := newTestKey(t, testOrigin)
	l, s := newLog(t, k.signer)
	appendLeaves(t, l, s, leavesN(10))
	msg, err := l.Sign()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := l.Root(10)
	wantBody := testOrigin + "\n10\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n\n— " + testOrigin + " "
	if !strings.HasPrefix(string(msg), wantBody) {
		t.Fatalf("checkpoint:\n%s\nwant prefix:\n%s", msg, wantBody)
	}
	cp, err := ledger.ParseCheckpoint(msg, testOrigin, note.VerifierList(k.verifier))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Origin != testOrigin || cp.Size != 10 || cp.Root != root || !bytes.Equal(cp.Note, msg) {
		t.Fatalf("parsed %+v", cp)
	}
	if last := l.LastCheckpoint(); last == nil || last.Size != 10 {
		t.Fatalf("LastCheckpoint = %+v", last)
	}
	if _, err := ledger.ParseCheckpoint(msg, "example.org/other", note.VerifierList(k.verifier)); err == nil {
		t.Fatal("checkpoint parsed under another origin")
	}
	// Signing again at the same size is fine (same tree), and so is growing.
	if _, err := l.Sign(); err != nil {
		t.Fatal(err)
	}
	appendLeaves(t, l, s, leavesN(3))
	if _, err := l.Sign(); err != nil {
		t.Fatal(err)
	}
	// An empty log signs the empty root, and growing from it is consistent.
	e, es := newLog(t, k.signer)
	if _, err := e.Sign(); err != nil {
		t.Fatal(err)
	}
	appendLeaves(t, e, es, leavesN(2))
	if _, err := e.Sign(); err != nil {
		t.Fatal(err)
	}
}

func TestSignWithoutSigner(t *testing.T) {
	l, _ := newLog(t, nil)
	if _, err := l.Sign(); !errors.Is(err, ledger.ErrNoSigner) {
		t.Fatalf("Sign without signer: %v", err)
	}
}

// The Ed25519 example of the C2SP signed-note spec opens with its published key. It
// is a note, not a checkpoint, so ParseCheckpoint accepts the signature and then
// refuses the body.
func TestC2SPSignedNoteExample(t *testing.T) {
	dir := filepath.Join(merkleDir, "c2sp")
	msg, err := os.ReadFile(filepath.Join(dir, "signed-note-example.note"))
	if err != nil {
		t.Skipf("C2SP signed-note example absent (%v): see ../shared/data/merkle/README.md", err)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "signed-note-example.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var vkey string
	for line := range strings.Lines(string(meta)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "VKEY="); ok {
			vkey = v
		}
	}
	v, err := ledger.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("verifier key %q: %v", vkey, err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	if n.Text != "This is an example message.\n" {
		t.Fatalf("note text %q", n.Text)
	}
	_, err = ledger.ParseCheckpoint(msg, "example.com/foo", note.VerifierList(v))
	if err == nil || errors.Is(err, ledger.ErrBadSignature) {
		t.Fatalf("ParseCheckpoint of a non-checkpoint note: %v, want a body error", err)
	}
	other := newTestKey(t, "example.com/foo")
	if _, err := ledger.ParseCheckpoint(msg, "example.com/foo", note.VerifierList(other.verifier)); !errors.Is(err, ledger.ErrBadSignature) {
		t.Fatalf("ParseCheckpoint with the wrong key: %v, want ErrBadSignature", err)
	}
}

func TestCheckpointTamperedRoot(t *testing.T) {
	k := newTestKey(t, testOrigin)
	l, s := newLog(t, k.signer)
	appendLeaves(t, l, s, leavesN(5))
	msg, err := l.Sign()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := l.Root(4)
	lines := strings.SplitN(string(msg), "\n", 4)
	lines[2] = base64.StdEncoding.EncodeToString(other[:])
	tampered := []byte(strings.Join(lines, "\n"))
	if _, err := ledger.ParseCheckpoint(tampered, testOrigin, note.VerifierList(k.verifier)); !errors.Is(err, ledger.ErrBadSignature) {
		t.Fatalf("tampered root: %v, want ErrBadSignature", err)
	}
	sized := bytes.Replace(msg, []byte("\n5\n"), []byte("\n6\n"), 1)
	if _, err := ledger.ParseCheckpoint(sized, testOrigin, note.VerifierList(k.verifier)); !errors.Is(err, ledger.ErrBadSignature) {
		t.Fatalf("tampered size: %v, want ErrBadSignature", err)
	}
}

// Witness cosignatures (unknown keys) are ignored; a note signed only by unknown
// keys is refused.
func TestCheckpointUnknownSignatures(t *testing.T) {
	logKey := newTestKey(t, testOrigin)
	witness := newTestKey(t, "witness.example.net")
	body := testOrigin + "\n3\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
	both, err := note.Sign(&note.Note{Text: body}, witness.signer, logKey.signer)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ledger.ParseCheckpoint(both, testOrigin, note.VerifierList(logKey.verifier))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size != 3 {
		t.Fatalf("size %d", cp.Size)
	}
	// An unparseable extra line in the signature block of another (future) algorithm
	// is also just an unknown signature.
	extra := append(bytes.Clone(both), []byte("— witness2.example "+base64.StdEncoding.EncodeToString([]byte("\x00\x00\x00\x01\x04 not ed25519 at all"))+"\n")...)
	if _, err := ledger.ParseCheckpoint(extra, testOrigin, note.VerifierList(logKey.verifier)); err != nil {
		t.Fatalf("extra unknown signature: %v", err)
	}
	witnessOnly, _ := note.Sign(&note.Note{Text: body}, witness.signer)
	if _, err := ledger.ParseCheckpoint(witnessOnly, testOrigin, note.VerifierList(logKey.verifier)); !errors.Is(err, ledger.ErrBadSignature) {
		t.Fatalf("witness-only checkpoint: %v, want ErrBadSignature", err)
	}
}

func TestCheckpointBodyForms(t *testing.T) {
	k := newTestKey(t, testOrigin)
	root := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{testOrigin + "\n3\n" + root + "\n", true},
		{testOrigin + "\n3\n" + root + "\nextension line\nanother\n", true},
		{testOrigin + "\n03\n" + root + "\n", false},
		{testOrigin + "\n+3\n" + root + "\n", false},
		{testOrigin + "\n-3\n" + root + "\n", false},
		{testOrigin + "\n18446744073709551615\n" + root + "\n", false},
		{testOrigin + "\n3\n" + base64.StdEncoding.EncodeToString(make([]byte, 31)) + "\n", false},
		{testOrigin + "\n3\n" + base64.RawStdEncoding.EncodeToString(make([]byte, 32)) + "\n", false},
		{testOrigin + "\n3\n", false},
		{"\n3\n" + root + "\n", false},
	} {
		msg, err := note.Sign(&note.Note{Text: tc.body}, k.signer)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ledger.ParseCheckpoint(msg, testOrigin, note.VerifierList(k.verifier))
		if (err == nil) != tc.ok {
			t.Errorf("body %q: %v, want ok=%v", tc.body, err, tc.ok)
		}
	}
	for _, bad := range []string{"", "no signature\n", "x\n\n— y z\n"} {
		if _, err := ledger.ParseCheckpoint([]byte(bad), testOrigin, note.VerifierList(k.verifier)); err == nil {
			t.Errorf("note %q parsed", bad)
		}
	}
}

// Sign refuses a tree that does not extend the last signed checkpoint: the store's
// hashes were replaced, truncated or rewritten under the log.
func TestSignRefusesInconsistentTree(t *testing.T) {
	k := newTestKey(t, testOrigin)
	vs := note.VerifierList(k.verifier)
	leaves := leavesN(20)
	a, sa := newLog(t, k.signer)
	appendLeaves(t, a, sa, leaves[:7])
	note7, err := a.Sign()
	if err != nil {
		t.Fatal(err)
	}

	forked := slices2(leaves)
	forked[2] = []byte("rewritten history")
	for _, size := range []int{7, 12} {
		b, sb := newLog(t, nil)
		appendLeaves(t, b, sb, forked[:size])
		reopened, err := ledger.New(testOrigin, sb, int64(size), k.signer, note7, vs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reopened.Sign(); !errors.Is(err, ledger.ErrInconsistent) {
			t.Errorf("forked tree of size %d: Sign = %v, want ErrInconsistent", size, err)
		}
	}

	// A truncated store (rolled back below the checkpoint).
	short, err := ledger.New(testOrigin, sa, 5, k.signer, note7, vs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := short.Sign(); !errors.Is(err, ledger.ErrInconsistent) {
		t.Errorf("truncated log: Sign = %v, want ErrInconsistent", err)
	}

	// One stored interior hash altered in place, then the log reopened over it.
	tampered := newMemHashes()
	for x, h := range sa.m {
		tampered.m[x] = h
	}
	appendLeaves(t, a, sa, leaves[7:12])
	for x, h := range sa.m {
		tampered.m[x] = h
	}
	// The stored hash of the subtree over leaves 0..3, which every root from size 4
	// on is built from. (Altering a hash below it, such as the node over leaves 0
	// and 1, leaves every root unchanged: only inclusion proofs of those leaves fail.)
	x := tlog.StoredHashIndex(2, 0)
	h := tampered.m[x]
	h[0] ^= 0xff
	tampered.m[x] = h
	bad, err := ledger.New(testOrigin, tampered, 12, k.signer, note7, vs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Sign(); !errors.Is(err, ledger.ErrInconsistent) {
		t.Errorf("tampered stored hash: Sign = %v, want ErrInconsistent", err)
	}

	// The honest store, reopened with the last checkpoint, still signs.
	good, err := ledger.New(testOrigin, sa, 12, k.signer, note7, vs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := good.Sign(); err != nil {
		t.Errorf("consistent log: %v", err)
	}
}

func slices2(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	copy(out, in)
	return out
}

func TestKeyRotation(t *testing.T) {
	old := newTestKey(t, testOrigin)
	cur := newTestKey(t, testOrigin)
	if old.verifier.KeyHash() == cur.verifier.KeyHash() {
		t.Fatal("two generated keys share a key hash")
	}
	l, s := newLog(t, old.signer)
	appendLeaves(t, l, s, leavesN(3))
	cp1, err := l.Sign()
	if err != nil {
		t.Fatal(err)
	}

	both := note.VerifierList(old.verifier, cur.verifier)
	rotated, err := ledger.New(testOrigin, s, 3, cur.signer, cp1, both)
	if err != nil {
		t.Fatal(err)
	}
	appendLeaves(t, rotated, s, leavesN(4))
	cp2, err := rotated.Sign()
	if err != nil {
		t.Fatal(err)
	}
	for i, msg := range [][]byte{cp1, cp2} {
		if _, err := ledger.ParseCheckpoint(msg, testOrigin, both); err != nil {
			t.Errorf("checkpoint %d with both keys: %v", i+1, err)
		}
	}
	if _, err := ledger.ParseCheckpoint(cp2, testOrigin, note.VerifierList(old.verifier)); !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("new checkpoint with only the old key: %v, want ErrBadSignature", err)
	}
	if _, err := ledger.ParseCheckpoint(cp1, testOrigin, note.VerifierList(cur.verifier)); !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("old checkpoint with only the new key: %v, want ErrBadSignature", err)
	}
	// Opening with only the new key cannot read the old checkpoint: refuse rather than
	// sign without the consistency check.
	if _, err := ledger.New(testOrigin, s, 7, cur.signer, cp1, note.VerifierList(cur.verifier)); err == nil {
		t.Error("New accepted a last checkpoint it cannot verify")
	}
}

func TestKeyHelpers(t *testing.T) {
	if _, err := ledger.NewSigner("not a key"); err == nil {
		t.Error("NewSigner accepted garbage")
	}
	if _, err := ledger.NewVerifier("not a key"); err == nil {
		t.Error("NewVerifier accepted garbage")
	}
	if _, _, err := ledger.GenerateKey("bad name+with plus"); err == nil {
		t.Error("GenerateKey accepted an invalid name")
	}
}
