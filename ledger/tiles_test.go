package ledger_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/ledger"
)

// memLeaves is the fake of the store's Leaf and LatestCheckpoint.
type memLeaves struct {
	leaves [][]byte
	note   []byte
	size   int64
}

func (m *memLeaves) Leaf(_ context.Context, i int64) ([]byte, error) {
	if i < 0 || i >= int64(len(m.leaves)) {
		return nil, fmt.Errorf("leaf %d: %w", i, fs.ErrNotExist)
	}
	return m.leaves[i], nil
}

func (m *memLeaves) LatestCheckpoint(context.Context) (int64, []byte, error) {
	if m.note == nil {
		return 0, nil, fmt.Errorf("checkpoint: %w", fs.ErrNotExist)
	}
	return m.size, m.note, nil
}

func get(t *testing.T, srv *httptest.Server, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decodeBundle(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatalf("bundle: %d trailing bytes", len(b))
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			t.Fatalf("bundle: entry of %d bytes, %d left", n, len(b)-2)
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out
}

func TestTilesHandler(t *testing.T) {
	k := newTestKey(t, testOrigin)
	l, s := newLog(t, k.signer)
	leaves := leavesN(300)
	leaves[7] = nil // an empty entry
	appendLeaves(t, l, s, leaves)
	store := &memLeaves{leaves: leaves}
	srv := httptest.NewServer(ledger.TilesHandler(l, store, store))
	defer srv.Close()

	if code, _ := get(t, srv, "/checkpoint"); code != http.StatusNotFound {
		t.Fatalf("/checkpoint before signing: %d, want 404", code)
	}
	msg, err := l.Sign()
	if err != nil {
		t.Fatal(err)
	}
	store.note, store.size = msg, 300
	code, body := get(t, srv, "/checkpoint")
	if code != http.StatusOK || !bytes.Equal(body, msg) {
		t.Fatalf("/checkpoint: %d %q", code, body)
	}
	cp, err := ledger.ParseCheckpoint(body, testOrigin, note.VerifierList(k.verifier))
	if err != nil || cp.Size != 300 {
		t.Fatalf("served checkpoint: %+v, %v", cp, err)
	}

	// Level-0 hash tiles are the leaf hashes.
	checkHashes := func(path string, from, to int) {
		t.Helper()
		code, body := get(t, srv, path)
		if code != http.StatusOK || len(body) != (to-from)*tlog.HashSize {
			t.Fatalf("%s: %d, %d bytes", path, code, len(body))
		}
		for i := from; i < to; i++ {
			h := ledger.LeafHash(leaves[i])
			if !bytes.Equal(body[(i-from)*tlog.HashSize:][:tlog.HashSize], h[:]) {
				t.Fatalf("%s: hash %d differs from the leaf's", path, i)
			}
		}
	}
	checkHashes("/tile/0/000", 0, 256)
	checkHashes("/tile/0/001.p/44", 256, 300)
	checkHashes("/tile/0/000.p/10", 0, 10)

	// The level-1 tile's first hash is the root of the first 256 leaves.
	code, body = get(t, srv, "/tile/1/000.p/1")
	if r256, _ := l.Root(256); code != http.StatusOK || !bytes.Equal(body, r256[:]) {
		t.Fatalf("/tile/1/000.p/1: %d %x, want root of 256 %x", code, body, r256)
	}

	checkEntries := func(path string, from, to int) {
		t.Helper()
		code, body := get(t, srv, path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", path, code)
		}
		got := decodeBundle(t, body)
		if len(got) != to-from {
			t.Fatalf("%s: %d entries, want %d", path, len(got), to-from)
		}
		for i := range got {
			if !bytes.Equal(got[i], leaves[from+i]) {
				t.Fatalf("%s: entry %d differs", path, from+i)
			}
		}
	}
	checkEntries("/tile/entries/000", 0, 256)
	checkEntries("/tile/entries/001.p/44", 256, 300)

	for path, want := range map[string]int{
		"/tile/0/001":           http.StatusNotFound, // full tile not there yet
		"/tile/0/001.p/45":      http.StatusNotFound,
		"/tile/entries/001":     http.StatusNotFound,
		"/tile/entries/002.p/1": http.StatusNotFound,
		"/tile/1/000":           http.StatusNotFound,
		"/tile/1/000.p/2":       http.StatusNotFound,
		"/tile/2/000.p/1":       http.StatusNotFound,
		"/tile/7/000.p/1":       http.StatusNotFound,
		"/tile/0/x009/x223/x372/x036/x854/x775/807": http.StatusNotFound, // MaxInt64
		"/tile/0/1":                        http.StatusBadRequest, // not 3 digits
		"/tile/0/x000/001":                 http.StatusBadRequest, // leading x000
		"/tile/0/000.p/0":                  http.StatusBadRequest,
		"/tile/0/000.p/256":                http.StatusBadRequest,
		"/tile/0/000.p/-1":                 http.StatusBadRequest,
		"/tile/0/000.p/":                   http.StatusBadRequest,
		"/tile/00/000":                     http.StatusBadRequest,
		"/tile/8/000":                      http.StatusBadRequest,
		"/tile/-1/000":                     http.StatusBadRequest,
		"/tile/data/000":                   http.StatusBadRequest,
		"/tile/8/0/000":                    http.StatusBadRequest, // the sumdb layout with height
		"/tile/0/abc":                      http.StatusBadRequest,
		"/tile/0/":                         http.StatusBadRequest,
		"/tile/":                           http.StatusBadRequest,
		"/tile/entries":                    http.StatusBadRequest,
		"/tile/0/x1000/000":                http.StatusBadRequest,
		"/tile/0/x9223372036854775807/000": http.StatusBadRequest,
		"/tile/0/x999/x999/x999/x999/x999/x999/999":      http.StatusBadRequest, // overflows int64
		"/tile/0/x009/x999/x999/x999/x999/x999/x999/999": http.StatusBadRequest,
		"/checkpoint/x": http.StatusNotFound,
		"/":             http.StatusNotFound,
	} {
		if code, body := get(t, srv, path); code != want {
			t.Errorf("GET %s: %d %q, want %d", path, code, body, want)
		}
	}
	resp, err := http.Post(srv.URL+"/checkpoint", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /checkpoint: %d, want 405", resp.StatusCode)
	}

	// A leaf altered in the store no longer matches the log: refuse to serve it.
	store.leaves = slices2(leaves)
	store.leaves[3] = []byte("altered")
	if code, _ := get(t, srv, "/tile/entries/000"); code != http.StatusInternalServerError {
		t.Errorf("bundle with an altered leaf: %d, want 500", code)
	}
}

// Leaves longer than 65535 bytes cannot be framed in an entry bundle.
func TestTilesHandlerOversizedLeaf(t *testing.T) {
	l, s := newLog(t, nil)
	leaves := [][]byte{bytes.Repeat([]byte{'a'}, 1<<16)}
	appendLeaves(t, l, s, leaves)
	store := &memLeaves{leaves: leaves}
	srv := httptest.NewServer(ledger.TilesHandler(l, store, store))
	defer srv.Close()
	if code, _ := get(t, srv, "/tile/entries/000.p/1"); code != http.StatusInternalServerError {
		t.Errorf("oversized leaf: %d, want 500", code)
	}
	if code, _ := get(t, srv, "/tile/0/000.p/1"); code != http.StatusOK {
		t.Errorf("hash tile of an oversized leaf: %d, want 200", code)
	}
}

// Without a CheckpointReader the handler serves the Log's own last checkpoint.
func TestTilesHandlerLogCheckpoint(t *testing.T) {
	k := newTestKey(t, testOrigin)
	l, s := newLog(t, k.signer)
	appendLeaves(t, l, s, leavesN(3))
	srv := httptest.NewServer(ledger.TilesHandler(l, &memLeaves{}, nil))
	defer srv.Close()
	if code, _ := get(t, srv, "/checkpoint"); code != http.StatusNotFound {
		t.Fatalf("/checkpoint before signing: %d, want 404", code)
	}
	msg, err := l.Sign()
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, srv, "/checkpoint"); code != http.StatusOK || !bytes.Equal(body, msg) {
		t.Fatalf("/checkpoint: %d %q", code, body)
	}
}
