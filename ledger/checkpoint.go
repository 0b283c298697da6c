package ledger

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math"

	tdlog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a parsed, signature-checked C2SP tlog-checkpoint.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	// Note is the signed note text as received (body, blank line, signatures).
	Note []byte
}

// ParseCheckpoint opens a signed checkpoint note, requires at least one valid signature
// by a key in verifiers (signatures by unknown keys, such as witness cosignatures,
// are ignored) and the given origin, and parses the body with
// github.com/transparency-dev/formats/log. Extension lines after the root are
// allowed and ignored. A missing or failing signature wraps ErrBadSignature.
//
// formats/log.ParseCheckpoint is not used directly because it takes a single log
// verifier; with key rotation a log has several.
func ParseCheckpoint(noteText []byte, origin string, verifiers note.Verifiers) (*Checkpoint, error) {
	if verifiers == nil {
		return nil, fmt.Errorf("%w: no verifiers", ErrBadSignature)
	}
	n, err := note.Open(noteText, verifiers)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return nil, fmt.Errorf("%w: no signature by a known key", ErrBadSignature)
		case errors.As(err, &invalid):
			return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		return nil, fmt.Errorf("ledger: checkpoint: %w", err)
	}
	var c tdlog.Checkpoint
	if _, err := c.Unmarshal([]byte(n.Text)); err != nil {
		return nil, fmt.Errorf("ledger: checkpoint: %w", err)
	}
	if c.Origin != origin {
		return nil, fmt.Errorf("ledger: checkpoint origin %q, want %q", c.Origin, origin)
	}
	if len(c.Hash) != tlog.HashSize {
		return nil, fmt.Errorf("ledger: checkpoint root is %d bytes, want %d", len(c.Hash), tlog.HashSize)
	}
	if c.Size > math.MaxInt64 {
		return nil, fmt.Errorf("ledger: checkpoint size %d too large", c.Size)
	}
	// Unmarshal accepts non-canonical forms ("007", unpadded base64 variants); a
	// checkpoint has exactly one encoding, so compare with its re-encoding.
	if !bytes.HasPrefix([]byte(n.Text), c.Marshal()) {
		return nil, errors.New("ledger: checkpoint body is not in canonical form")
	}
	return &Checkpoint{
		Origin: c.Origin,
		Size:   int64(c.Size),
		Root:   tlog.Hash(c.Hash),
		Note:   append([]byte(nil), noteText...),
	}, nil
}

// Sign returns the signed checkpoint note for the log's current size. It first checks
// that the tree extends the last checkpoint the log signed or was opened with,
// verifying a consistency proof built from its stored hashes, and returns
// ErrInconsistent otherwise. The new checkpoint becomes the last one.
func (l *Log) Sign() ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.signer == nil {
		return nil, ErrNoSigner
	}
	size := l.size
	root, err := l.root(size)
	if err != nil {
		return nil, fmt.Errorf("ledger: sign: %w", err)
	}
	if err := l.checkExtends(l.last, size, root); err != nil {
		return nil, err
	}
	body := tdlog.Checkpoint{Origin: l.origin, Size: uint64(size), Hash: root[:]}.Marshal()
	msg, err := note.Sign(&note.Note{Text: string(body)}, l.signer)
	if err != nil {
		return nil, fmt.Errorf("ledger: sign checkpoint %d: %w", size, err)
	}
	l.last = &Checkpoint{Origin: l.origin, Size: size, Root: root, Note: msg}
	return append([]byte(nil), msg...), nil
}

// checkExtends returns ErrInconsistent unless the tree (size, root) extends last.
// The caller holds l.mu.
func (l *Log) checkExtends(last *Checkpoint, size int64, root tlog.Hash) error {
	switch {
	case last == nil:
		return nil
	case last.Size > size:
		return fmt.Errorf("%w: last checkpoint has %d leaves, log has %d", ErrInconsistent, last.Size, size)
	case last.Size == 0:
		if last.Root != emptyRoot {
			return fmt.Errorf("%w: last checkpoint has size 0 and a non-empty root", ErrInconsistent)
		}
		return nil
	}
	proof, err := l.consistencyProof(last.Size, size)
	if err != nil {
		return fmt.Errorf("ledger: sign: %w", err)
	}
	if err := VerifyConsistency(last.Size, size, proof, last.Root, root); err != nil {
		return fmt.Errorf("%w: from checkpoint %d to %d: %v", ErrInconsistent, last.Size, size, err)
	}
	return nil
}

// GenerateKey returns a new Ed25519 signer key and its verifier key in the
// golang.org/x/mod/sumdb/note text format. name is the key name, normally the origin;
// it must be a valid note key name (non-empty, no spaces or '+').
func GenerateKey(name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err == nil {
		// note.GenerateKey does not check the name; a key that cannot be parsed back
		// must not be handed out and stored.
		_, err = note.NewVerifier(vkey)
	}
	if err != nil {
		return "", "", fmt.Errorf("ledger: generate key %q: %w", name, err)
	}
	return skey, vkey, nil
}

// NewSigner parses a signer key from GenerateKey.
func NewSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger: signer key: %w", err)
	}
	return s, nil
}

// NewVerifier parses a verifier key from GenerateKey.
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("ledger: verifier key: %w", err)
	}
	return v, nil
}
