package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/ledger"
)

// Errors of CheckTrusted, wrapped with what differs. Each also wraps ErrFailed.
var (
	// ErrSwapped: the data's checkpoint is of another log than the trusted
	// one: another origin, or not signed by the key that signed the trusted one.
	ErrSwapped = fmt.Errorf("%w: checkpoint of another log", ErrFailed)
	// ErrRolledBack: the data's tree is smaller than the trusted one.
	ErrRolledBack = fmt.Errorf("%w: log rolled back", ErrFailed)
	// ErrForked: the data's tree does not extend the trusted one: another root
	// at the same size, or a consistency proof that does not verify.
	ErrForked = fmt.Errorf("%w: log forked", ErrFailed)
)

// Trusted is what CheckTrusted established.
type Trusted struct {
	Origin      string `json:"origin"`
	Key         string `json:"key"` // the key both checkpoints are signed by: name and key hash
	TrustedSize int64  `json:"trusted_tree_size"`
	TrustedRoot string `json:"trusted_root"`
	TreeSize    int64  `json:"tree_size"`
	Root        string `json:"root"`
	ProofHashes int    `json:"proof_hashes"`
}

// CheckTrusted checks src's signed checkpoint against trusted, a checkpoint
// note of the same log an auditor saved earlier (as `lifang ledger checkpoint`
// prints it): both must carry the same origin and a signature by the same key
// in verifiers, and src's tree must extend the trusted one, which an RFC 6962
// consistency proof built from src's stored hashes (tlog.ProveTree) shows
// against both signed roots (tlog.CheckTree). The proof's hashes need no trust:
// they either hash to both signed roots or the check fails.
//
// A failure wraps ErrSwapped, ErrRolledBack or ErrForked when it is one of
// those, else ErrFailed (a trusted note that is not a valid checkpoint, or data
// whose own checkpoint does not verify).
func CheckTrusted(ctx context.Context, src Source, trusted []byte, verifiers note.Verifiers) (*Trusted, error) {
	_, text, err := src.LatestCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: the data has no checkpoint: %v", ErrFailed, err)
	}
	tr, trSigs, err := openCheckpoint(trusted, verifiers)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return nil, fmt.Errorf("%w: the trusted checkpoint is signed by %s, not by a key the data is checked with: the data is another log's (or the log's key was replaced)",
				ErrSwapped, describeSigs(unverified.Note.UnverifiedSigs))
		}
		return nil, fmt.Errorf("%w: the trusted checkpoint: %v", ErrFailed, err)
	}
	cur, curSigs, err := openCheckpoint(text, verifiers)
	if err != nil {
		return nil, fmt.Errorf("%w: the data's checkpoint: %v", ErrFailed, err)
	}
	out := &Trusted{Origin: cur.Origin, TrustedSize: tr.Size, TrustedRoot: tr.Root.String(), TreeSize: cur.Size, Root: cur.Root.String()}
	if cur.Origin != tr.Origin {
		return out, fmt.Errorf("%w: the data's checkpoint is of log %q, the trusted one of %q", ErrSwapped, cur.Origin, tr.Origin)
	}
	for _, s := range curSigs {
		for _, t := range trSigs {
			if s.Name == t.Name && s.Hash == t.Hash {
				out.Key = describeSigs([]note.Signature{s})
			}
		}
	}
	if out.Key == "" {
		return out, fmt.Errorf("%w: the data's checkpoint is signed by %s, the trusted one by %s", ErrSwapped, describeSigs(curSigs), describeSigs(trSigs))
	}
	switch {
	case tr.Size > cur.Size:
		return out, fmt.Errorf("%w: the data's tree has %d leaves (root %s), the trusted checkpoint already signed %d (root %s)",
			ErrRolledBack, cur.Size, cur.Root, tr.Size, tr.Root)
	case tr.Size == cur.Size:
		if tr.Root != cur.Root {
			return out, fmt.Errorf("%w: at tree size %d the data's root is %s, the trusted checkpoint's %s: the log was rewritten",
				ErrForked, cur.Size, cur.Root, tr.Root)
		}
		return out, nil
	case tr.Size == 0:
		return out, nil // every tree extends the empty one
	}
	proof, err := tlog.ProveTree(cur.Size, tr.Size, src)
	if err != nil {
		return out, fmt.Errorf("%w: the data's hashes cannot prove tree %d extends tree %d: %v", ErrFailed, cur.Size, tr.Size, err)
	}
	out.ProofHashes = len(proof)
	if err := tlog.CheckTree(proof, cur.Size, cur.Root, tr.Size, tr.Root); err != nil {
		return out, fmt.Errorf("%w: the data's tree of %d leaves (root %s) does not extend the trusted tree of %d (root %s): %v",
			ErrForked, cur.Size, cur.Root, tr.Size, tr.Root, err)
	}
	return out, nil
}

// openCheckpoint verifies a checkpoint note under verifiers and returns it
// with the signatures that verified.
func openCheckpoint(text []byte, verifiers note.Verifiers) (*ledger.Checkpoint, []note.Signature, error) {
	if verifiers == nil {
		verifiers = note.VerifierList()
	}
	n, err := note.Open(text, verifiers)
	if err != nil {
		return nil, nil, err
	}
	origin, _, _ := strings.Cut(n.Text, "\n")
	cp, err := ledger.ParseCheckpoint(text, origin, verifiers)
	if err != nil {
		return nil, nil, err
	}
	return cp, n.Sigs, nil
}

// describeSigs names the keys of signatures: "name (key hash 0a1b2c3d)".
func describeSigs(sigs []note.Signature) string {
	if len(sigs) == 0 {
		return "no key"
	}
	parts := make([]string, len(sigs))
	for i, s := range sigs {
		parts[i] = fmt.Sprintf("%s (key hash %08x)", s.Name, s.Hash)
	}
	return strings.Join(parts, ", ")
}
