package disclosure

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Format is the pack.json format this package writes and reads. Format 1 had
// no signed manifest; format 2 packs carry pack.json.sig.
const Format = "lifang-disclosure/2"

// Files of a pack, relative to its directory.
const (
	PackFile   = "pack.json"
	HTMLFile   = "report.html"
	PDFFile    = "report.pdf"
	DataDir    = "data"
	UnitFile   = "unit.yaml"
	LedgerFile = "privacy-ledger.jsonl"
)

// ErrMismatch is returned (wrapped) by [Verify] when any check fails.
var ErrMismatch = errors.New("disclosure: pack does not verify")

// Pack is pack.json.
type Pack struct {
	Format      string `json:"format"`
	GeneratedBy string `json:"generated_by"`
	// Generated is when the pack was built (RFC 3339, UTC).
	Generated string `json:"generated"`
	// Checkpoint is the signed tree head every metered and private figure derives from.
	Checkpoint CheckpointRef `json:"checkpoint"`
	// PublicKeys are the log's note verifier keys as the export carries them.
	PublicKeys []string `json:"public_keys"`
	// HouseholdRule says which points count as household-level (see HouseholdRule).
	HouseholdRule string   `json:"household_rule"`
	Figures       []Figure `json:"figures"`
	PDF           PDFInfo  `json:"pdf"`
	Notes         []Note   `json:"notes,omitempty"`
	// Files maps every other file of the pack (slash-separated path) to its
	// SHA-256 in hex.
	Files map[string]string `json:"files"`
}

// CheckpointRef names a signed checkpoint.
type CheckpointRef struct {
	Origin   string `json:"origin"`
	TreeSize int64  `json:"tree_size"`
	Root     string `json:"root"` // base64, as in the checkpoint note
}

// Figure is one disclosed number.
type Figure struct {
	ID      string `json:"id"`
	LabelZH string `json:"label_zh"`
	LabelEN string `json:"label_en"`
	// Value is an exact decimal.
	Value      json.Number `json:"value"`
	Unit       string      `json:"unit"`
	Derivation string      `json:"derivation"`
	Provenance Provenance  `json:"provenance"`
	Privacy    *Privacy    `json:"privacy,omitempty"`
}

// Provenance says what a figure derives from.
type Provenance struct {
	Checkpoint *CheckpointRef `json:"checkpoint,omitempty"`
	Points     []string       `json:"points,omitempty"`
	// Selector describes the points a figure aggregates when naming them would
	// disclose more than the figure (the private aggregate).
	Selector string `json:"selector,omitempty"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`

	// Model figures.
	Model      string   `json:"model,omitempty"`
	UnitFile   string   `json:"unit_file,omitempty"`
	UnitSHA256 string   `json:"unit_sha256,omitempty"`
	Seed       *uint64  `json:"seed,omitempty"`
	Policies   []string `json:"policies,omitempty"`
	Paths      int      `json:"monte_carlo_paths,omitempty"`
	GOARCH     string   `json:"goarch,omitempty"`
}

// Privacy records how a private figure was released.
type Privacy struct {
	Mechanism string  `json:"mechanism"`
	Aggregate string  `json:"aggregate"`
	Epsilon   float64 `json:"epsilon"`
	Delta     float64 `json:"delta"`
	Bounds    Bounds  `json:"bounds"`
	// Sensitivity, Noisy and Tail.Bound are in quantisation units (Bounds.Unit).
	Sensitivity int64 `json:"sensitivity"`
	// ScaleParam is "t" (discrete Laplace) or "sigma2" (discrete Gaussian σ²);
	// Scale is its exact rational, ScaleValue its float.
	ScaleParam string  `json:"scale_param"`
	Scale      string  `json:"scale"`
	ScaleValue float64 `json:"scale_value"`
	Rho        float64 `json:"rho,omitempty"`
	Noisy      int64   `json:"noisy_units"`
	Tail       Tail    `json:"tail"`
	// Contributors is "households", or "assets" when no household points exist;
	// ContributorCount how many.
	Contributors     string `json:"contributors"`
	ContributorCount int    `json:"contributor_count"`
	// Published is the post-processing clamp of the released value, in quanta: the
	// noisy sum is clamped to [0, ContributorCount × hi] (post-processing costs no
	// privacy), so a release is never negative nor more than every contributor at
	// the bound. Noisy is the value before it.
	Published [2]int64 `json:"published_clamp_units"`
	Budget    Budget   `json:"budget"`
}

// Bounds clamp one contributor's value: [Lo, Hi] in ValueUnit, quantised to Unit.
type Bounds struct {
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	Unit      float64 `json:"unit"`
	ValueUnit string  `json:"value_unit"`
}

// Tail is the bound the noise stays within except with probability Probability.
type Tail struct {
	Probability float64 `json:"probability"`
	Bound       int64   `json:"bound_units"`
	// BoundKWh is Bound in kWh and StdDevKWh the noise's standard deviation in kWh:
	// the released total is within ±BoundKWh of the exact clamped total except with
	// probability Probability, and typically within ±StdDevKWh.
	BoundKWh  string  `json:"bound_kwh"`
	StdDevKWh float64 `json:"stddev_kwh"`
}

// Budget is the ledger charge behind a private figure.
type Budget struct {
	Scope        string  `json:"scope"`
	Ledger       string  `json:"ledger"` // file in the pack (a copy of the ledger after the charge)
	Entry        string  `json:"entry"`
	TotalEpsilon float64 `json:"total_epsilon"`
	TotalDelta   float64 `json:"total_delta"`
	SpentEpsilon float64 `json:"spent_epsilon"`
	SpentDelta   float64 `json:"spent_delta"`
}

// PDFInfo says whether report.pdf was printed.
type PDFInfo struct {
	File    string `json:"file,omitempty"`
	Printed bool   `json:"printed"`
	Note    string `json:"note,omitempty"`
}

// Note is a remark in both languages.
type Note struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// writePack writes pack.json and returns its bytes, which the manifest signs.
func writePack(dir string, p *Pack) ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	return b, os.WriteFile(filepath.Join(dir, PackFile), b, 0o644)
}

// hashFile returns the SHA-256 of a file in hex.
func hashFile(path string) (string, error) {
	if err := regular(path); err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// packFiles lists every file under dir except pack.json and its signature, as
// sorted slash-separated relative paths. Non-regular files are listed too, so
// a hash check names them.
func packFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != PackFile && rel != SigFile {
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// hashAll hashes every file of the pack but pack.json and pack.json.sig.
func hashAll(dir string) (map[string]string, error) {
	names, err := packFiles(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		if out[n], err = hashFile(filepath.Join(dir, filepath.FromSlash(n))); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// shortRoot is the first characters of a base64 root, for display.
func shortRoot(root string) string {
	if len(root) > 12 {
		return root[:12] + "…"
	}
	return root
}

// safeRel reports whether a pack-relative path stays inside the pack.
func safeRel(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "" {
			return false
		}
	}
	return true
}
