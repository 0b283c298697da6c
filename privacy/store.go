package privacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// MemoryStore keeps entries in memory. The zero value is ready to use.
type MemoryStore struct {
	mu      sync.Mutex
	entries []Entry
}

// Load returns a copy of the entries.
func (s *MemoryStore) Load() ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries), nil
}

// Append records e.
func (s *MemoryStore) Append(e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, e)
	return nil
}

// FileStore keeps entries in a JSON Lines file, one [Entry] object per line.
// Append never rewrites a recorded line: it writes the existing bytes plus the
// new line to a temporary file in the same directory, syncs it and renames it
// over the original, so a crash leaves either the old or the new ledger. It
// refuses to append to a file that fails to parse, and to a file that gained
// or lost entries since this store last read it (another writer).
type FileStore struct {
	path string

	mu   sync.Mutex
	seen int // entries at the last Load or Append; -1 before any
}

// NewFileStore returns the store for path; the file need not exist yet.
func NewFileStore(path string) *FileStore { return &FileStore{path: path, seen: -1} }

// Path returns the file's path.
func (s *FileStore) Path() string { return s.path }

// Load reads and validates every entry. A missing file is an empty ledger.
// A malformed line is an [ErrCorruptLedger] error naming the file and line.
func (s *FileStore) Load() ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, entries, err := s.read()
	if err != nil {
		return nil, err
	}
	s.seen = len(entries)
	return entries, nil
}

// Append atomically adds e as the file's last line.
func (s *FileStore) Append(e Entry) error {
	if err := e.validate(); err != nil {
		return err
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("privacy: encode ledger entry: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, entries, err := s.read()
	if err != nil {
		return err
	}
	if s.seen >= 0 && len(entries) != s.seen {
		return fmt.Errorf("%w: %s: has %d entries, expected %d: modified by another writer; reload the ledger",
			ErrCorruptLedger, s.path, len(entries), s.seen)
	}
	perm := fs.FileMode(0o644)
	if fi, err := os.Stat(s.path); err == nil {
		perm = fi.Mode().Perm()
	}
	out := make([]byte, 0, len(data)+len(line)+1)
	out = append(append(append(out, data...), line...), '\n')
	if err := writeFileAtomic(s.path, out, perm); err != nil {
		return fmt.Errorf("privacy: append to ledger %s: %w", s.path, err)
	}
	s.seen = len(entries) + 1
	return nil
}

func (s *FileStore) read() ([]byte, []Entry, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("privacy: read ledger: %w", err)
	}
	entries, err := parseEntries(s.path, data)
	return data, entries, err
}

// parseEntries decodes JSON Lines strictly: unknown fields, blank lines,
// trailing data, invalid entries and a last line without its newline (a
// torn write) are all corruption.
func parseEntries(path string, data []byte) ([]Entry, error) {
	var entries []Entry
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil, fmt.Errorf("%w: %s line %d: missing newline (torn write?)", ErrCorruptLedger, path, n)
		}
		line := data[:i]
		data = data[i+1:]
		if len(bytes.TrimSpace(line)) == 0 {
			return nil, fmt.Errorf("%w: %s line %d: blank line", ErrCorruptLedger, path, n)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var e Entry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", ErrCorruptLedger, path, n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: %s line %d: trailing data after entry", ErrCorruptLedger, path, n)
		}
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", ErrCorruptLedger, path, n, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Persist the rename; not every platform can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Interface guards.
var (
	_ Store = (*MemoryStore)(nil)
	_ Store = (*FileStore)(nil)
)
