package disclosure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/ledger"
)

// SigFile is the signed manifest: a C2SP signed note (golang.org/x/mod/sumdb/note)
// by the log's key over the checkpoint and the SHA-256 of pack.json and of
// every other file; see doc.go.
const SigFile = "pack.json.sig"

// manifestHeader is the first line of the signed text. It is no log origin, so
// the note cannot be taken for a checkpoint, nor a checkpoint for a manifest.
const manifestHeader = Format + " manifest"

// manifest is what the signed note states: the checkpoint the pack derives
// from and the SHA-256 (hex) of every file but the note itself, pack.json
// included.
type manifest struct {
	cp    CheckpointRef
	files map[string]string
}

// text is the note text: the header, the checkpoint, then one "sha256 HEX
// PATH" line per file, pack.json first, the others in path order.
func (m manifest) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\norigin %s\ntree_size %d\nroot %s\n", manifestHeader, m.cp.Origin, m.cp.TreeSize, m.cp.Root)
	fmt.Fprintf(&b, "sha256 %s %s\n", m.files[PackFile], PackFile)
	for _, n := range slices.Sorted(maps.Keys(m.files)) {
		if n != PackFile {
			fmt.Fprintf(&b, "sha256 %s %s\n", m.files[n], n)
		}
	}
	return b.String()
}

// parseManifest reads a manifest note's text strictly.
func parseManifest(text string) (manifest, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	m := manifest{files: map[string]string{}}
	if len(lines) < 5 || lines[0] != manifestHeader {
		return m, fmt.Errorf("the signed text is not a %s manifest (first line %s)", Format, firstLine(text))
	}
	field := func(i int, name string) (string, error) {
		v, ok := strings.CutPrefix(lines[i], name+" ")
		if !ok {
			return "", fmt.Errorf("signed line %d: want %q, got %s", i+1, name, firstLine(lines[i]))
		}
		return v, nil
	}
	var err error
	if m.cp.Origin, err = field(1, "origin"); err != nil {
		return m, err
	}
	size, err := field(2, "tree_size")
	if err != nil {
		return m, err
	}
	if m.cp.TreeSize, err = strconv.ParseInt(size, 10, 64); err != nil {
		return m, fmt.Errorf("signed line 3: tree size %s", firstLine(size))
	}
	if m.cp.Root, err = field(3, "root"); err != nil {
		return m, err
	}
	for i := 4; i < len(lines); i++ {
		v, err := field(i, "sha256")
		if err != nil {
			return m, err
		}
		h, path, _ := strings.Cut(v, " ")
		if _, err := hex.DecodeString(h); err != nil || len(h) != 64 || !safeRel(path) || m.files[path] != "" {
			return m, fmt.Errorf("signed line %d: %s is no new file's SHA-256", i+1, firstLine(lines[i]))
		}
		m.files[path] = h
	}
	if m.files[PackFile] == "" {
		return m, fmt.Errorf("the signed manifest gives no SHA-256 of %s", PackFile)
	}
	return m, nil
}

// sha256Hex is the SHA-256 of b in hex.
func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// packManifest is the manifest of a pack whose pack.json is packJSON.
func packManifest(packJSON []byte, p *Pack) manifest {
	files := maps.Clone(p.Files)
	if files == nil {
		files = map[string]string{}
	}
	files[PackFile] = sha256Hex(packJSON)
	return manifest{cp: p.Checkpoint, files: files}
}

// writeManifest signs the manifest of pack.json's bytes and writes pack.json.sig.
func writeManifest(dir string, packJSON []byte, p *Pack, signer note.Signer) error {
	msg, err := note.Sign(&note.Note{Text: packManifest(packJSON, p).text()}, signer)
	if err != nil {
		return fmt.Errorf("disclosure: sign the manifest: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, SigFile), msg, 0o644)
}

// keyID identifies a note key: its name and 32-bit key hash.
type keyID struct {
	name string
	hash uint32
}

func (k keyID) String() string { return fmt.Sprintf("%s (key hash %08x)", k.name, k.hash) }

func sigKeys(sigs []note.Signature) []keyID {
	out := make([]keyID, len(sigs))
	for i, s := range sigs {
		out[i] = keyID{s.Name, s.Hash}
	}
	return out
}

func joinKeys(ks []keyID) string {
	if len(ks) == 0 {
		return "no key"
	}
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.String()
	}
	return strings.Join(parts, ", ")
}

// checkpointSigners are the keys among vs whose signature on the checkpoint
// note verifies; nil if none does.
func checkpointSigners(cpNote []byte, vs note.Verifiers) []keyID {
	if vs == nil {
		return nil
	}
	n, err := note.Open(cpNote, vs)
	if err != nil {
		return nil
	}
	return sigKeys(n.Sigs)
}

// manifestSigner picks the key to sign the manifest with: the one that signed
// the exported checkpoint, so one key vouches for the data and for the pack.
// want (Options.Signer) is used if given; otherwise the store's signing keys
// are searched.
func manifestSigner(ctx context.Context, src Source, want note.Signer, cpSigners []keyID) (note.Signer, error) {
	signed := func(s note.Signer) bool {
		for _, k := range cpSigners {
			if k.name == s.Name() && k.hash == s.KeyHash() {
				return true
			}
		}
		return false
	}
	if want != nil {
		if !signed(want) {
			return nil, fmt.Errorf("disclosure: the signing key %s did not sign the exported checkpoint (signed by %s): the manifest must be signed with the log's key",
				keyID{want.Name(), want.KeyHash()}, joinKeys(cpSigners))
		}
		return want, nil
	}
	skeys, _, err := src.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("disclosure: %w", err)
	}
	for _, sk := range skeys {
		if sk == "" {
			continue
		}
		s, err := ledger.NewSigner(sk)
		if err != nil {
			return nil, fmt.Errorf("disclosure: stored signing key: %w", err)
		}
		if signed(s) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("disclosure: the database holds no signing key for the exported checkpoint (signed by %s), and the manifest must be signed with it: set LIFANG_LEDGER_SKEY to the log's key",
		joinKeys(cpSigners))
}

// verifyManifest checks pack.json.sig: a signed note, by a key among vs that
// also signed data/checkpoint (cpSigners), stating the pack's checkpoint and
// the SHA-256 of pack.json's exact bytes and of every other file in the pack.
// Each file that differs from what was signed is named.
func verifyManifest(r *Report, dir string, packJSON []byte, p *Pack, vs note.Verifiers, trustedKeys []string, cpSigners []keyID) {
	fail := func(format string, args ...any) { r.add("manifest", SigFile, false, format, args...) }
	msg, err := readRegular(filepath.Join(dir, SigFile))
	if errors.Is(err, os.ErrNotExist) {
		fail("missing: pack.json is unsigned, so nothing binds its figures and file hashes to the log's key")
		return
	}
	if err != nil {
		fail("%v", err)
		return
	}
	if vs == nil {
		fail("no public key to check the signature with")
		return
	}
	n, err := note.Open(msg, vs)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			fail("not signed by the log's key (trusted: %s) but by %s: the manifest was forged or re-signed with another key",
				strings.Join(keyNames(trustedKeys), ", "), joinKeys(sigKeys(unverified.Note.UnverifiedSigs)))
		case errors.As(err, &invalid):
			fail("the signature by %s does not verify: %s was altered", keyID{invalid.Name, invalid.Hash}, SigFile)
		default:
			fail("not a signed note: %v", err)
		}
		return
	}
	signers := sigKeys(n.Sigs)
	same := false
	for _, k := range signers {
		for _, c := range cpSigners {
			same = same || k == c
		}
	}
	before := len(r.Checks)
	switch {
	case !same && len(cpSigners) == 0:
		fail("signed by %s, but data/checkpoint carries no signature by a trusted key: the manifest must be signed by the key that signs the log", joinKeys(signers))
	case !same:
		fail("signed by %s, but data/checkpoint is signed by %s: the manifest must be signed by the key that signs the log", joinKeys(signers), joinKeys(cpSigners))
	}
	// A trusted key signed it, so what it states can still name what changed.
	m, err := parseManifest(n.Text)
	if err != nil {
		fail("%v", err)
		return
	}
	if m.cp != p.Checkpoint {
		fail("signed for checkpoint %s@%d root %s, pack.json says %s@%d root %s",
			m.cp.Origin, m.cp.TreeSize, m.cp.Root, p.Checkpoint.Origin, p.Checkpoint.TreeSize, p.Checkpoint.Root)
	}
	got := sha256Hex(packJSON)
	if got != m.files[PackFile] {
		r.add("manifest", PackFile, false, "sha256 %s, the signed manifest says %s: pack.json was changed after it was signed", got, m.files[PackFile])
	}
	for _, name := range slices.Sorted(maps.Keys(m.files)) {
		if name == PackFile {
			continue
		}
		h, err := hashFile(filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case errors.Is(err, os.ErrNotExist):
			r.add("manifest", name, false, "in the signed manifest but missing from the pack")
		case err != nil:
			r.add("manifest", name, false, "%v", err)
		case h != m.files[name]:
			r.add("manifest", name, false, "sha256 %s, the signed manifest says %s: the file was changed after it was signed", h, m.files[name])
		}
	}
	present, _ := packFiles(dir)
	for _, name := range present {
		if _, ok := m.files[name]; !ok {
			r.add("manifest", name, false, "in the pack but not in the signed manifest")
		}
	}
	if len(r.Checks) > before {
		return
	}
	r.add("manifest", SigFile, true, "signed by %s, the key that signs data/checkpoint, over %s (sha256 %s…), the %d files it lists and checkpoint %s@%d",
		joinKeys(signers), PackFile, got[:16], len(m.files)-1, p.Checkpoint.Origin, p.Checkpoint.TreeSize)
}

// keyNames are verifier keys without their public key part: "name+hash".
func keyNames(vkeys []string) []string {
	out := make([]string, len(vkeys))
	for i, k := range vkeys {
		name, rest, _ := strings.Cut(k, "+")
		hash, _, _ := strings.Cut(rest, "+")
		out[i] = name + "+" + hash
	}
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	if len(l) > 80 {
		l = l[:80] + "…"
	}
	return strconv.Quote(l)
}
