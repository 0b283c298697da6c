package privacy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileStoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := NewLedger("meters", Budget{Epsilon: 1, Delta: 1e-6}, NewFileStore(path), fakeClock())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name       string
		eps, delta float64
	}{{"q1", 0.1, 0}, {"q2", 0.2, 5e-7}, {"q3", 0.3, 0}} {
		if err := l.Spend(s.name, s.eps, s.delta); err != nil {
			t.Fatal(err)
		}
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Spend("too much", 0.5, 0); !errors.Is(err, ErrBudgetExceeded) {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("refused spend changed the file")
	}
	if n := bytes.Count(after, []byte("\n")); n != 3 {
		t.Fatalf("file has %d lines:\n%s", n, after)
	}
	if !strings.HasPrefix(string(after), `{"scope":"meters","name":"q1","epsilon":0.1,"delta":0,"time":"2026-01-01T00:01:00Z"}`+"\n") {
		t.Errorf("first line: %s", after)
	}

	again, err := NewLedger("meters", Budget{Epsilon: 1, Delta: 1e-6}, NewFileStore(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Remaining(); got != (Budget{Epsilon: 0.4, Delta: 5e-7}) {
		t.Errorf("reloaded remaining %+v", got)
	}
	if a, b := again.Entries(), l.Entries(); len(a) != len(b) || !a[2].Time.Equal(b[2].Time) || a[1] != (Entry{Scope: "meters", Name: "q2", Epsilon: 0.2, Delta: 5e-7, Time: a[1].Time}) {
		t.Errorf("reloaded entries %+v, want %+v", a, b)
	}
	tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
	if len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

func TestFileStoreCorrupt(t *testing.T) {
	good := `{"scope":"s","name":"a","epsilon":0.1,"delta":0,"time":"2026-01-01T00:00:00Z"}` + "\n"
	tests := []struct {
		name, content, want string
	}{
		{"invalid JSON", good + "{not json}\n", "line 2: invalid character"},
		{"unknown field", good + good[:len(good)-2] + `,"extra":1}` + "\n", `line 2: json: unknown field "extra"`},
		{"torn write", good + good[:20], "line 2: missing newline"},
		{"blank line", good + "\n" + good, "line 2: blank line"},
		{"trailing data", good + strings.TrimSuffix(good, "\n") + " {}\n", "line 2: trailing data"},
		{"bad epsilon", strings.Replace(good, "0.1", "-0.1", 1), "line 1: privacy: invalid parameter: epsilon must be a finite number > 0"},
		{"bad delta", strings.Replace(good, `"delta":0`, `"delta":1`, 1), "line 1: privacy: invalid parameter: delta must be in [0, 1)"},
		{"missing time", strings.Replace(good, `,"time":"2026-01-01T00:00:00Z"`, "", 1), "line 1: privacy: invalid parameter: entry time is zero"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.jsonl")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := NewLedger("s", Budget{Epsilon: 1}, NewFileStore(path), nil)
			if !errors.Is(err, ErrCorruptLedger) || !strings.Contains(err.Error(), path+" "+tc.want) {
				t.Fatalf("err = %v\nwant ErrCorruptLedger containing %q", err, path+" "+tc.want)
			}
			// Appending to a corrupt file is refused and leaves it untouched.
			if err := NewFileStore(path).Append(Entry{Scope: "s", Name: "b", Epsilon: 0.1, Time: fakeClock()()}); !errors.Is(err, ErrCorruptLedger) {
				t.Fatalf("append to corrupt file: %v", err)
			}
			if b, _ := os.ReadFile(path); string(b) != tc.content {
				t.Fatal("corrupt file was modified")
			}
		})
	}
}

func TestFileStoreDetectsOtherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	a, err := NewLedger("s", Budget{Epsilon: 1}, NewFileStore(path), fakeClock())
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLedger("s", Budget{Epsilon: 1}, NewFileStore(path), fakeClock())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Spend("from b", 0.7, 0); err != nil {
		t.Fatal(err)
	}
	// a has not seen b's spend; appending would overspend the scope.
	if err := a.Spend("from a", 0.7, 0); !errors.Is(err, ErrCorruptLedger) || !strings.Contains(err.Error(), "modified by another writer") {
		t.Fatalf("err = %v", err)
	}
	if len(a.Entries()) != 0 {
		t.Fatal("a recorded a spend it failed to persist")
	}
}

func TestFileStoreMissingFileIsEmpty(t *testing.T) {
	s := NewFileStore(filepath.Join(t.TempDir(), "absent.jsonl"))
	entries, err := s.Load()
	if err != nil || len(entries) != 0 {
		t.Fatalf("Load of missing file = %v, %v", entries, err)
	}
	if err := s.Append(Entry{Scope: "s", Name: "", Epsilon: 1, Time: fakeClock()()}); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("append of invalid entry: %v", err)
	}
}
