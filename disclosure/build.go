package disclosure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/audit"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/store"
)

// Source is what Build reads: a store's signed data and keys (store.Store).
type Source interface {
	audit.ExportSource
}

// Options configure Build.
type Options struct {
	// Out is the pack directory; it must not exist or be empty.
	Out     string
	Model   ModelOptions
	Privacy PrivacyOptions
	// Browser is the Chromium to print report.pdf with: "" finds one
	// (/usr/bin/chromium, then chromium on PATH), BrowserNone prints nothing.
	Browser    string
	PDFTimeout time.Duration // DefaultPDFTimeout when zero
	// Version names the software in the pack and in model provenance ("lifang 0.1.0").
	Version string
	// Now stamps the pack and the ledger entry; nil means time.Now.
	Now func() time.Time
	// Signer signs the manifest (pack.json.sig). It must be the key that signed
	// the exported checkpoint; nil means that key from the store's signing keys.
	Signer note.Signer
	// HouseholdMeters are the meters declared household-level (the unit's
	// site.meters[].household_level): their points enter only the private aggregate.
	HouseholdMeters []string
}

// Build writes a disclosure pack of src's signed data to opt.Out and returns
// pack.json's content, signed in pack.json.sig by the key that signed the
// exported checkpoint. It refuses data that does not verify, and a private
// release the budget cannot afford (privacy.ErrBudgetExceeded); the budget is
// charged before the noise is drawn and is not refunded if a later step fails.
func Build(ctx context.Context, src Source, opt Options) (p *Pack, err error) {
	if opt.Out == "" {
		return nil, errors.New("disclosure: no output directory")
	}
	if opt.Version == "" {
		opt.Version = "lifang"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.PDFTimeout == 0 {
		opt.PDFTimeout = DefaultPDFTimeout
	}
	opt.Privacy.defaults()
	if err := opt.Privacy.valid(); err != nil {
		return nil, err
	}
	if _, _, err := src.LatestCheckpoint(ctx); errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("disclosure: the database has no signed checkpoint yet: ingest readings first")
	}
	cleanup, err := prepareOut(opt.Out)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	now := opt.Now().UTC()

	// The export first: the figures derive from exactly the leaves it carries.
	dataDir := filepath.Join(opt.Out, DataDir)
	if _, err := audit.WriteExport(ctx, src, dataDir); err != nil {
		return nil, err
	}
	ex, err := audit.OpenExport(dataDir)
	if err != nil {
		return nil, err
	}
	if len(ex.PublicKeys) == 0 {
		return nil, errors.New("disclosure: the data carries no public key")
	}
	vs, err := verifiers(ex.PublicKeys)
	if err != nil {
		return nil, err
	}
	rep, err := audit.Verify(ctx, ex, keyName(ex.PublicKeys[0]), vs)
	if err != nil {
		if rep != nil && len(rep.Findings) > 0 {
			return nil, fmt.Errorf("disclosure: the data does not verify, refusing to disclose from it (%d finding(s), first: %s): %w", len(rep.Findings), rep.Findings[0], err)
		}
		return nil, fmt.Errorf("disclosure: the data does not verify, refusing to disclose from it: %w", err)
	}
	cp := CheckpointRef{Origin: rep.Origin, TreeSize: rep.TreeSize, Root: rep.Root}
	// The manifest's key before anything is charged: one key vouches for the
	// data and for the pack, and a pack that cannot be signed is not written.
	_, cpNote, err := ex.LatestCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	signer, err := manifestSigner(ctx, src, opt.Signer, checkpointSigners(cpNote, vs))
	if err != nil {
		return nil, err
	}

	// Metered figures from the database, pinned to the exported checkpoint.
	m, err := collect(ctx, src, cp)
	if err != nil {
		return nil, fmt.Errorf("disclosure: %w", err)
	}
	hm := slices.Clone(opt.HouseholdMeters)
	slices.Sort(hm)
	hm = slices.Compact(hm)
	m.houses = declared(hm)
	c := selectContributors(m)
	// The declared household meters go with the data (for the auditor, under the
	// signed manifest), not into pack.json: their names are not for publication.
	if err := os.WriteFile(filepath.Join(dataDir, HouseholdMetersFile), []byte(strings.Join(hm, "\n")+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("disclosure: %w", err)
	}
	p = &Pack{Format: Format, GeneratedBy: opt.Version, Generated: now.Format(time.RFC3339), Checkpoint: cp,
		PublicKeys: ex.PublicKeys, HouseholdRule: HouseholdRule}
	undeclared := map[string]bool{}
	for _, s := range m.series {
		if h, ok, decl := m.houses.of(s.point); ok && !decl {
			undeclared[h] = true
		}
	}
	if n := len(undeclared); n > 0 { // counted, never named: a name would publish the household
		p.Notes = append(p.Notes, Note{ZH: fmt.Sprintf("%d 个住户的计量点名称看似住户级，但未在 site: 中声明：按住户级处理，不单独公布", n),
			EN: fmt.Sprintf("%d households' points look household-level by name but no meter declares them: they are treated as household-level and not published; declare them with household_level: true in the unit's site: section", n)})
	}
	p.Figures = meteredFigures(m, c.hasHouses)

	if opt.Model.Unit != nil {
		name := opt.Model.Name
		if name == "" {
			name = UnitFile
		}
		md, err := runModel(ctx, opt.Model.Unit, name, opt.Model.Seed)
		if err != nil {
			return nil, err
		}
		figs, notes := md.figures(opt.Version)
		p.Figures = append(p.Figures, figs...)
		p.Notes = append(p.Notes, notes...)
		if err := os.WriteFile(filepath.Join(opt.Out, UnitFile), opt.Model.Unit, 0o644); err != nil {
			return nil, err
		}
	} else {
		p.Notes = append(p.Notes, Note{ZH: "未给出单元文件，未披露运营与财务模型指标。", EN: "No unit file was given: no operating or finance model figures."})
	}

	// The private figure last: its budget is spent only once everything else worked.
	switch {
	case opt.Privacy.Skip:
		p.Notes = append(p.Notes, Note{ZH: "未发布差分隐私汇总。", EN: "No differentially private aggregate was released."})
	case len(c.values) == 0:
		p.Notes = append(p.Notes, Note{ZH: "没有能量计量点，未发布差分隐私汇总。", EN: "No point is in an energy unit: no differentially private aggregate."})
	default:
		f, err := privateFigure(m, c, opt.Privacy, now)
		if err != nil {
			return nil, err
		}
		p.Figures = append(p.Figures, f)
		if err := copyFile(opt.Privacy.LedgerPath, filepath.Join(opt.Out, LedgerFile)); err != nil {
			return nil, err
		}
	}

	if err := writeReport(ctx, opt, p); err != nil {
		return nil, err
	}
	if p.Files, err = hashAll(opt.Out); err != nil {
		return nil, err
	}
	b, err := writePack(opt.Out, p)
	if err != nil {
		return nil, err
	}
	if err := writeManifest(opt.Out, b, p, signer); err != nil {
		return nil, err
	}
	return p, nil
}

// writeReport writes report.html and tries report.pdf; without a PDF, the page
// and pack.json say why.
func writeReport(ctx context.Context, opt Options, p *Pack) error {
	htmlPath, pdfPath := filepath.Join(opt.Out, HTMLFile), filepath.Join(opt.Out, PDFFile)
	write := func() error {
		b, err := renderHTML(p)
		if err != nil {
			return err
		}
		return os.WriteFile(htmlPath, b, 0o644)
	}
	p.PDF = PDFInfo{File: PDFFile, Printed: true}
	if err := write(); err != nil {
		return err
	}
	browser, err := findBrowser(opt.Browser)
	if err == nil {
		err = printPDF(ctx, browser, htmlPath, pdfPath, opt.PDFTimeout)
	}
	if err == nil {
		return nil
	}
	os.Remove(pdfPath)
	p.PDF = PDFInfo{Printed: false, Note: err.Error()}
	return write()
}

// prepareOut creates dir (or accepts an empty one) and returns what undoes it.
func prepareOut(dir string) (cleanup func(), err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		return func() { os.RemoveAll(dir) }, nil
	case err != nil:
		return nil, err
	case len(entries) > 0:
		return nil, fmt.Errorf("disclosure: %s is not empty; a pack is written to a new or empty directory", dir)
	}
	return func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// keyName is the name part of a note verifier key "name+hash+key": the origin.
func keyName(vkey string) string {
	name, _, _ := strings.Cut(vkey, "+")
	return name
}

func verifiers(vkeys []string) (note.Verifiers, error) {
	var vs []note.Verifier
	for _, vk := range vkeys {
		v, err := ledger.NewVerifier(vk)
		if err != nil {
			return nil, fmt.Errorf("public key %q: %w", vk, err)
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), nil
}
