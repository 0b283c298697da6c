package disclosure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/privacy"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store/sqlite"
)

const testOrigin = "test.local/unit"

// meterCSV is a few hundred readings: five household registers (one wraps at
// 10⁵), a PV register, a state of charge and a power point, every 15 minutes.
func meterCSV(households bool) string {
	var b strings.Builder
	b.WriteString("point,timestamp,value,unit\n")
	for i := range 48 {
		ts := t0.Add(time.Duration(i) * 15 * time.Minute).Format(time.RFC3339)
		if households {
			for h := 1; h <= 5; h++ {
				v := fmt.Sprintf("%.3f", 1000*float64(h)+float64(i)*0.125*float64(h)+0.001*float64(h))
				if h == 3 {
					v = fmt.Sprint((99960 + i) % 100000) // wraps at 10⁵
				}
				fmt.Fprintf(&b, "bldg1/hh%02d/elec,%s,%s,kWh\n", h, ts, v)
			}
		}
		fmt.Fprintf(&b, "roof/pv/energy,%s,%.2f,kWh\n", ts, 500+float64(i)*0.35)
		fmt.Fprintf(&b, "bess/soc,%s,%d,%%\n", ts, 40+i%20)
		fmt.Fprintf(&b, "grid/power,%s,%.1f,kW\n", ts, -3+float64(i%9)*1.1)
	}
	return b.String()
}

// newStore ingests meterCSV through the real pipeline into a SQLite database,
// plus a meter replacement on grid/import.
func newStore(t *testing.T, households bool) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sk, vk, err := ledger.GenerateKey(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveKey(ctx, testOrigin, sk, vk, t0); err != nil {
		t.Fatal(err)
	}
	signer, _ := ledger.NewSigner(sk)
	ver, _ := ledger.NewVerifier(vk)
	l, err := ledger.New(testOrigin, st, 0, signer, nil, note.VerifierList(ver))
	if err != nil {
		t.Fatal(err)
	}
	p := ingest.NewPipeline(st, l, func() time.Time { return t0.Add(48 * time.Hour) }, nil)
	accepted := 0
	if err := ingest.ReadCSV(strings.NewReader(meterCSV(households)), "csv:meters.csv", 100, func(in ingest.Input) error {
		res, err := p.Ingest(ctx, in)
		accepted += res.Accepted
		return err
	}); err != nil {
		t.Fatal(err)
	}
	kwh := func(min int, v float64) reading.Reading {
		return reading.Reading{Point: "grid/import", Time: t0.Add(time.Duration(min) * time.Minute), Value: v, Unit: "kWh"}
	}
	res, err := p.Ingest(ctx, ingest.Input{Source: "test", Readings: []reading.Reading{kwh(0, 1000), kwh(15, 1010), kwh(30, 3), kwh(45, 8)},
		Events: []reading.Event{{Kind: reading.MeterReplaced, Source: "grid/import", Time: t0.Add(20 * time.Minute),
			Attrs: map[string]string{"old_final": "1015", "new_initial": "0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	accepted += res.Accepted
	want := 48*3 + 4
	if households {
		want += 48 * 5
	}
	if accepted != want {
		t.Fatalf("pipeline accepted %d readings, want %d", accepted, want)
	}
	return st
}

type buildOpt func(*Options)

func build(t *testing.T, st Source, ledgerPath string, opts ...buildOpt) (string, *Pack) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pack")
	opt := Options{Out: out, Browser: BrowserNone, Version: "lifang test",
		Now:     func() time.Time { return t0.Add(72 * time.Hour) },
		Privacy: PrivacyOptions{LedgerPath: ledgerPath, Epsilon: 0.5, MaxKWh: 100, Noise: rand.NewPCG(1, 2)}}
	for _, o := range opts {
		o(&opt)
	}
	p, err := Build(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	return out, p
}

func withModel(o *Options) {
	o.Model = ModelOptions{Unit: examples.Community, Name: "examples/community.yaml"}
}

func figure(t *testing.T, p *Pack, id string) Figure {
	t.Helper()
	for _, f := range p.Figures {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no figure %s", id)
	return Figure{}
}

// mustVerify fails the test unless the pack verifies.
func mustVerify(t *testing.T, dir string) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), dir, VerifyOptions{})
	if err != nil {
		var b strings.Builder
		if rep != nil {
			for _, c := range rep.Checks {
				if !c.OK {
					b.WriteString("\n  " + c.String())
				}
			}
		}
		t.Fatalf("verify: %v%s", err, b.String())
	}
	return rep
}

// mustFail verifies dir and requires failure with a failed check containing each want.
func mustFail(t *testing.T, dir string, want ...string) {
	t.Helper()
	rep, err := Verify(context.Background(), dir, VerifyOptions{})
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("verify: err %v, want ErrMismatch", err)
	}
	var failed []string
	for _, c := range rep.Checks {
		if !c.OK {
			failed = append(failed, c.String())
		}
	}
	all := strings.Join(failed, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("no failed check mentions %q; failed:\n%s", w, all)
		}
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editPack rewrites pack.json through f, keeping every file hash as it was
// and the manifest signature as it was (so it no longer verifies).
func editPack(t *testing.T, dir string, f func(*Pack)) {
	t.Helper()
	p, err := ReadPack(dir)
	if err != nil {
		t.Fatal(err)
	}
	f(p)
	if _, err := writePack(dir, p); err != nil {
		t.Fatal(err)
	}
}

func TestBuildAndVerify(t *testing.T) {
	st := newStore(t, true)
	ledgerPath := filepath.Join(t.TempDir(), "privacy-ledger.jsonl")
	dir, p := build(t, st, ledgerPath, withModel)

	// The figures are what the data says.
	for id, want := range map[string]string{
		"meter/roof/pv/energy/readings":    "48",
		"meter/roof/pv/energy/consumption": "16.45", // 47 × 0.35
		"meter/grid/import/consumption":    "23",    // 10, replacement 5 + 3, then 5
		"meter/bess/soc/sum":               "2328",
	} {
		if got := figure(t, p, id); string(got.Value) != want {
			t.Errorf("%s = %s, want %s", id, got.Value, want)
		}
	}
	for _, f := range p.Figures {
		if strings.Contains(f.ID, "hh0") {
			t.Errorf("household point published individually: %s", f.ID)
		}
		if strings.HasPrefix(f.ID, "meter/") && (f.Provenance.Checkpoint == nil || f.Provenance.Checkpoint.Root != p.Checkpoint.Root) {
			t.Errorf("%s: provenance lacks the checkpoint", f.ID)
		}
	}
	priv := figure(t, p, privateHouseholdsID)
	pr := priv.Privacy
	if pr.Contributors != "households" || pr.Epsilon != 0.5 || pr.Sensitivity != 100_000 || pr.Scale != "200000" || pr.Budget.SpentEpsilon != 0.5 {
		t.Errorf("private figure parameters: %+v", pr)
	}
	for _, id := range []string{"model/noi/business_as_usual", "model/noi/rule_based", "model/creit/distribution_rate", "model/risk/cfar95"} {
		f := figure(t, p, id)
		if f.Provenance.UnitSHA256 == "" || f.Provenance.Seed == nil || *f.Provenance.Seed != 7 {
			t.Errorf("%s: provenance %+v", id, f.Provenance)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, HTMLFile))
	zh := strings.Index(string(html), "计量数据")
	en := strings.Index(string(html), "Metered figures")
	if zh < 0 || en < zh || !strings.Contains(string(html), "root "+shortRoot(p.Checkpoint.Root)) || !strings.Contains(string(html), "ε = 0.5") {
		t.Error("report.html lacks the bilingual headings, the checkpoint or ε")
	}
	if _, err := os.Stat(filepath.Join(dir, PDFFile)); err == nil || p.PDF.Printed || !strings.Contains(string(html), "browser: none") {
		t.Error("without a browser the pack has a PDF or no note saying why")
	}
	rep := mustVerify(t, dir)
	if !rep.KeyFromPack || rep.Audit == nil || rep.Audit.Leaves == 0 {
		t.Errorf("report: %+v", rep)
	}

	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []string
	}{
		{"export reading", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "data", "readings.csv"), "roof/pv/energy,2026-03-01T11:45:00Z,516.45,", "roof/pv/energy,2026-03-01T11:45:00Z,517.45,")
		}, []string{"file    data/readings.csv: sha256", "altered", "meter/roof/pv/energy/consumption: value: pack.json says 16.45 kWh, re-derived 17.45 kWh"}},
		{"report.html", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, HTMLFile), "16.45 kWh", "61.45 kWh")
		}, []string{"file    report.html: sha256", "html    report.html: is not the rendering"}},
		{"figure value", func(t *testing.T, dir string) {
			editPack(t, dir, func(p *Pack) {
				for i := range p.Figures {
					if p.Figures[i].ID == "meter/grid/import/consumption" {
						p.Figures[i].Value = "24"
					}
				}
			})
		}, []string{"meter/grid/import/consumption: value: pack.json says 24 kWh, re-derived 23 kWh", "report.html: is not the rendering"}},
		{"model figure", func(t *testing.T, dir string) {
			editPack(t, dir, func(p *Pack) {
				for i := range p.Figures {
					if p.Figures[i].ID == "model/risk/cfar95" {
						p.Figures[i].Value = "1.00"
					}
				}
			})
		}, []string{"model/risk/cfar95: value: pack.json says 1.00 CNY, re-derived"}},
		{"unit.yaml", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, UnitFile), "seed: 7", "seed: 8")
		}, []string{"file    unit.yaml: sha256", "model/noi/rule_based: unit.yaml has sha256"}},
		{"private value", func(t *testing.T, dir string) {
			editPack(t, dir, func(p *Pack) {
				f := &p.Figures[len(p.Figures)-1]
				f.Privacy.Noisy += 50 * f.Privacy.Tail.Bound
				f.Value = json.Number(decimalString(noisyValue(f.Privacy.Noisy, f.Privacy.Bounds.Unit)))
			})
		}, []string{privateHouseholdsID + ": value:", "beyond the post-processing clamp", "beyond the tail bound"}},
		{"private scale", func(t *testing.T, dir string) {
			editPack(t, dir, func(p *Pack) { p.Figures[len(p.Figures)-1].Privacy.Epsilon = 5 })
		}, []string{"scale t = 200000, but sensitivity/epsilon = 100000/5 = 20000", "privacy-ledger.jsonl:1: entry"}},
		{"added file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "data", "extra.csv"), []byte("x\n"), 0o644)
		}, []string{"data/extra.csv: in the pack but not listed"}},
		{"removed ledger", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, LedgerFile))
		}, []string{"privacy-ledger.jsonl: listed in pack.json but missing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := copyDir(t, dir)
			c.tamper(t, d)
			mustFail(t, d, c.want...)
		})
	}
}

func TestBudgetRefusesPastTotal(t *testing.T) {
	st := newStore(t, true)
	ledgerPath := filepath.Join(t.TempDir(), "ledger.jsonl")
	big := func(o *Options) { o.Privacy.Epsilon = 0.6 }
	build(t, st, ledgerPath, big)
	out := filepath.Join(t.TempDir(), "second")
	_, err := Build(context.Background(), st, Options{Out: out, Browser: BrowserNone,
		Privacy: PrivacyOptions{LedgerPath: ledgerPath, Epsilon: 0.6}})
	if !errors.Is(err, privacy.ErrBudgetExceeded) {
		t.Fatalf("second release: err %v, want ErrBudgetExceeded", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a refused release left a partial pack")
	}
	// What is left (ε 0.4) can still be spent.
	build(t, st, ledgerPath, func(o *Options) { o.Privacy.Epsilon = 0.4 })
}

func TestNoHouseholdsGaussian(t *testing.T) {
	st := newStore(t, false)
	dir, p := build(t, st, filepath.Join(t.TempDir(), "l.jsonl"), func(o *Options) {
		o.Privacy.Mechanism, o.Privacy.Epsilon, o.Privacy.Delta = "gaussian", 0.5, 1e-7
	})
	f := figure(t, p, privateAssetsID)
	if f.Privacy.Contributors != "assets" || f.Privacy.Mechanism != privacy.NameDiscreteGaussian || !strings.Contains(f.LabelEN, "no household points") {
		t.Errorf("private figure: %+v", f)
	}
	figure(t, p, "meter/roof/pv/energy/consumption")
	mustVerify(t, dir)
}

func TestPDF(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("no /usr/bin/chromium: the PDF path is not tested here")
	}
	st := newStore(t, true)
	dir, p := build(t, st, filepath.Join(t.TempDir(), "l.jsonl"), func(o *Options) { o.Browser = "" })
	if !p.PDF.Printed {
		t.Fatalf("no PDF: %s", p.PDF.Note)
	}
	b, err := os.ReadFile(filepath.Join(dir, PDFFile))
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF")) {
		t.Fatalf("report.pdf does not start with %%PDF (%v)", err)
	}
	mustVerify(t, dir)
	d := copyDir(t, dir)
	os.WriteFile(filepath.Join(d, PDFFile), append(b, '\n'), 0o644)
	mustFail(t, d, "report.pdf: sha256")
}

func TestBrowserFailsGivesNote(t *testing.T) {
	st := newStore(t, true)
	dir, p := build(t, st, filepath.Join(t.TempDir(), "l.jsonl"), func(o *Options) { o.Browser = "/bin/false" })
	if p.PDF.Printed || p.PDF.Note == "" {
		t.Fatalf("pdf: %+v", p.PDF)
	}
	html, _ := os.ReadFile(filepath.Join(dir, HTMLFile))
	if !strings.Contains(string(html), "No PDF was printed") {
		t.Error("report.html does not say the PDF is missing")
	}
	mustVerify(t, dir)
}

func TestOutMustBeEmpty(t *testing.T) {
	st := newStore(t, false)
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "keep.txt"), []byte("mine"), 0o644)
	_, err := Build(context.Background(), st, Options{Out: out, Browser: BrowserNone, Privacy: PrivacyOptions{Skip: true}})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err %v, want a refusal to write into a non-empty directory", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "keep.txt")); string(b) != "mine" {
		t.Error("Build touched a file it did not write")
	}
}

func TestVerifyKeysAndVersions(t *testing.T) {
	st := newStore(t, true)
	dir, _ := build(t, st, filepath.Join(t.TempDir(), "l.jsonl"))
	_, vkeys, err := st.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), dir, VerifyOptions{Keys: vkeys, Version: "lifang test"})
	if err != nil || rep.KeyFromPack {
		t.Fatalf("with the published key: %v, key from pack %v", err, rep.KeyFromPack)
	}
	_, other, _ := ledger.GenerateKey(testOrigin)
	rep, err = Verify(context.Background(), dir, VerifyOptions{Keys: []string{other}})
	if !errors.Is(err, ErrMismatch) || rep.Checks == nil {
		t.Fatalf("with another key: err %v, want ErrMismatch", err)
	}
	// Another version still re-renders report.html, and says the versions
	// differ as a failed check: a version was once a reason to skip the page.
	rep, err = Verify(context.Background(), dir, VerifyOptions{Version: "lifang 9"})
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("verified by another version: err %v, want ErrMismatch", err)
	}
	var html, version bool
	for _, c := range rep.Checks {
		html = html || c.Kind == "html" && c.OK && strings.Contains(c.Detail, "byte for byte")
		version = version || c.Kind == "pack" && c.Name == "generated_by" && !c.OK && strings.Contains(c.Detail, "generated by lifang test, this is lifang 9")
	}
	if !html || !version {
		t.Errorf("want the page re-rendered and the version named: %v", rep.Checks)
	}
}

func TestEmptyDatabase(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "e.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := filepath.Join(t.TempDir(), "pack")
	_, err = Build(context.Background(), st, Options{Out: out, Browser: BrowserNone, Privacy: PrivacyOptions{Skip: true}})
	if err == nil || !strings.Contains(err.Error(), "no signed checkpoint") {
		t.Fatalf("err %v, want no signed checkpoint", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a failed build left a directory")
	}
}
