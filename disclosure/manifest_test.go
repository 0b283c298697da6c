package disclosure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/privacy"
	"github.com/lifang-community/lifang/store/sqlite"
)

// testLog is a database with its ledger, to ingest into after a pack is built.
type testLog struct {
	st     *sqlite.Store
	p      *ingest.Pipeline
	sk, vk string
}

// fixedKey is a key pair derived from seed, so a pack built twice is the same
// bytes (the fuzz corpus depends on it).
func fixedKey(t testing.TB, origin string, seed byte) (skey, vkey string) {
	t.Helper()
	sk, vk, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 64)), origin)
	if err != nil {
		t.Fatal(err)
	}
	return sk, vk
}

// newLog opens a fresh database whose log (origin) is signed by (sk, vk).
// storeSKey false keeps only the public key in the database, as
// LIFANG_LEDGER_SKEY does.
func newLog(t testing.TB, dir, origin, sk, vk string, storeSKey bool) *testLog {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(dir, "t.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	stored := sk
	if !storeSKey {
		stored = ""
	}
	if err := st.SaveKey(context.Background(), origin, stored, vk, t0); err != nil {
		t.Fatal(err)
	}
	signer, _ := ledger.NewSigner(sk)
	ver, _ := ledger.NewVerifier(vk)
	l, err := ledger.New(origin, st, 0, signer, nil, note.VerifierList(ver))
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{st: st, p: ingest.NewPipeline(st, l, func() time.Time { return t0.Add(48 * time.Hour) }, nil), sk: sk, vk: vk}
}

// ingest adds one batch per step: two households and a PV register, every 15
// minutes from step from to step to (exclusive); bias changes the values, so
// two logs fed different biases fork.
func (l *testLog) ingest(t testing.TB, from, to int, bias float64) {
	t.Helper()
	var b strings.Builder
	b.WriteString("point,timestamp,value,unit\n")
	for i := from; i < to; i++ {
		ts := t0.Add(time.Duration(i) * 15 * time.Minute).Format(time.RFC3339)
		fmt.Fprintf(&b, "bldg1/hh01/elec,%s,%.3f,kWh\n", ts, 1000+0.125*float64(i)+bias)
		fmt.Fprintf(&b, "bldg1/hh02/elec,%s,%.3f,kWh\n", ts, 2000+0.25*float64(i)+bias)
		fmt.Fprintf(&b, "roof/pv/energy,%s,%.2f,kWh\n", ts, 500+0.35*float64(i)+bias)
	}
	if err := ingest.ReadCSV(strings.NewReader(b.String()), "csv:test", 9, func(in ingest.Input) error {
		_, err := l.p.Ingest(context.Background(), in)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// smallPack builds a pack of l's data into dir/pack, deterministically.
func smallPack(t testing.TB, l *testLog, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "pack")
	_, err := Build(context.Background(), l.st, Options{Out: out, Browser: BrowserNone, Version: "lifang test",
		Now:     func() time.Time { return t0.Add(72 * time.Hour) },
		Privacy: PrivacyOptions{LedgerPath: filepath.Join(dir, "ledger.jsonl"), Epsilon: 0.5, MaxKWh: 100, Noise: rand.NewPCG(1, 2)}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rehash updates every file hash in pack.json (leaving the manifest signature
// as it was): a forger's first step.
func rehash(t *testing.T, dir string) {
	t.Helper()
	p, err := ReadPack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Files, err = hashAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := writePack(dir, p); err != nil {
		t.Fatal(err)
	}
}

// resign signs pack.json as it now is with signer.
func resign(t *testing.T, dir string, signer note.Signer) {
	t.Helper()
	p, err := ReadPack(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, PackFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := writeManifest(dir, b, p, signer); err != nil {
		t.Fatal(err)
	}
}

// failedChecks verifies dir with opt and returns its failed checks, failing
// the test if it verifies.
func failedChecks(t *testing.T, dir string, opt VerifyOptions) string {
	t.Helper()
	rep, err := Verify(context.Background(), dir, opt)
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("verify: err %v, want ErrMismatch", err)
	}
	var failed []string
	for _, c := range rep.Checks {
		if !c.OK {
			failed = append(failed, c.String())
		}
	}
	return strings.Join(failed, "\n")
}

func TestManifest(t *testing.T) {
	tmp := t.TempDir()
	sk, vk := fixedKey(t, testOrigin, 1)
	l := newLog(t, tmp, testOrigin, sk, vk, true)
	l.ingest(t, 0, 12, 0)
	dir := smallPack(t, l, tmp)
	rep := mustVerify(t, dir)
	if c := rep.Checks[0]; c.Kind != "manifest" || !c.OK || !strings.Contains(c.Detail, "the key that signs data/checkpoint") {
		t.Fatalf("first check: %s", c)
	}
	sig, _ := os.ReadFile(filepath.Join(dir, SigFile))
	if !bytes.HasPrefix(sig, []byte(Format+" manifest\norigin "+testOrigin+"\ntree_size 4\nroot ")) || !bytes.Contains(sig, []byte(" pack.json\nsha256 ")) || !bytes.Contains(sig, []byte("\n— "+testOrigin+" ")) {
		t.Fatalf("pack.json.sig is not the documented note:\n%s", sig)
	}
	// The manifest cannot pass for a checkpoint of the log.
	ver, _ := ledger.NewVerifier(vk)
	if _, err := ledger.ParseCheckpoint(sig, testOrigin, note.VerifierList(ver)); err == nil {
		t.Fatal("the manifest parses as a checkpoint")
	}

	freshSK, freshVK := fixedKey(t, testOrigin, 9)
	fresh, _ := ledger.NewSigner(freshSK)
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []string
	}{
		{"unsigned", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, SigFile))
		}, []string{"manifest pack.json.sig: missing: pack.json is unsigned"}},
		{"figure changed", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, PackFile), `"value": 12,`, `"value": 13,`)
		}, []string{"pack.json was changed after it was signed", "meter/roof/pv/energy/readings: value: pack.json says 13 readings, re-derived 12", "report.html: is not the rendering"}},
		{"signature altered", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, SigFile))
			i := bytes.LastIndexByte(b[:len(b)-1], ' ') + 8
			b[i] ^= 0x01
			os.WriteFile(filepath.Join(dir, SigFile), b, 0o644)
		}, []string{"manifest pack.json.sig:"}},
		{"re-signed with a fresh key", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, PackFile), `"value": 12,`, `"value": 13,`)
			resign(t, dir, fresh)
		}, []string{"not signed by the log's key", "the manifest was forged or re-signed with another key"}},
		{"fresh key added to keys.txt, every hash updated", func(t *testing.T, dir string) {
			kf := filepath.Join(dir, DataDir, "keys.txt")
			b, _ := os.ReadFile(kf)
			os.WriteFile(kf, append(b, []byte(freshVK+"\n")...), 0o644)
			rehash(t, dir)
			resign(t, dir, fresh)
		}, []string{"but data/checkpoint is signed by " + testOrigin, "public_keys: pack.json lists"}},
		{"generated_by", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, PackFile), `"generated_by": "lifang test"`, `"generated_by": "lifang 9.9"`)
		}, []string{"pack.json was changed after it was signed", "report.html: is not the rendering"}},
		{"reading NaN", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, DataDir, "readings.csv"), ",500,kWh", ",NaN,kWh")
			rehash(t, dir)
		}, []string{`data/: export: readings.csv:4: column value: "NaN": not a finite number`, "cannot be re-derived", "pack.json was changed after it was signed"}},
		{"reading changed, every hash updated", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, DataDir, "readings.csv"), ",500,kWh", ",501,kWh")
			rehash(t, dir)
		}, []string{"pack.json was changed after it was signed", "altered (leaf 0): roof/pv/energy", "meter/roof/pv/energy/consumption: value"}},
		{"symlinked page", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, HTMLFile))
			os.Symlink("/dev/zero", filepath.Join(dir, HTMLFile))
		}, []string{"file    report.html: not a regular file"}},
		{"PDF said printed", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, PackFile), `"printed": false`, `"printed": true, "file": "report.pdf"`)
		}, []string{"report.pdf: pack.json does not list it", "report.pdf: missing"}},
		{"unit file without model figures", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, UnitFile), []byte("x: 1\n"), 0o644)
			rehash(t, dir)
		}, []string{"model   unit.yaml: is in the pack, but pack.json has no model figure"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := copyDir(t, dir)
			c.tamper(t, d)
			all := failedChecks(t, d, VerifyOptions{})
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("no failed check mentions %q; failed:\n%s", w, all)
				}
			}
		})
	}

	// --key: only that key is trusted, for the checkpoint and the manifest.
	mustFailWith := func(opt VerifyOptions, want ...string) {
		t.Helper()
		all := failedChecks(t, dir, opt)
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Errorf("no failed check mentions %q; failed:\n%s", w, all)
			}
		}
	}
	mustFailWith(VerifyOptions{Keys: []string{freshVK}}, "manifest pack.json.sig: not signed by the log's key (trusted: "+testOrigin+"+")
	if _, err := Verify(context.Background(), dir, VerifyOptions{Keys: []string{vk}}); err != nil {
		t.Fatalf("with the log's key: %v", err)
	}
}

func TestBuildSignsWithTheLogKey(t *testing.T) {
	tmp := t.TempDir()
	sk, vk := fixedKey(t, testOrigin, 2)
	l := newLog(t, tmp, testOrigin, sk, vk, false) // the database has only the public key
	l.ingest(t, 0, 6, 0)
	ledgerPath := filepath.Join(tmp, "ledger.jsonl")
	opt := Options{Out: filepath.Join(tmp, "a"), Browser: BrowserNone, Privacy: PrivacyOptions{LedgerPath: ledgerPath}}
	if _, err := Build(context.Background(), l.st, opt); err == nil || !strings.Contains(err.Error(), "LIFANG_LEDGER_SKEY") {
		t.Fatalf("without the signing key: %v", err)
	}
	otherSK, _ := fixedKey(t, testOrigin, 3)
	opt.Signer, _ = ledger.NewSigner(otherSK)
	if _, err := Build(context.Background(), l.st, opt); err == nil || !strings.Contains(err.Error(), "did not sign the exported checkpoint") {
		t.Fatalf("with another key: %v", err)
	}
	if _, err := os.Stat(ledgerPath); !os.IsNotExist(err) {
		t.Error("a pack that could not be signed charged the privacy budget")
	}
	opt.Signer, _ = ledger.NewSigner(sk)
	if _, err := Build(context.Background(), l.st, opt); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, opt.Out)
	spent, err := privacy.NewLedger(testOrigin, privacy.Budget{Epsilon: 1, Delta: 1e-6}, privacy.NewFileStore(ledgerPath), time.Now)
	if err != nil || spent.Spent().Epsilon != DefaultEpsilon {
		t.Fatalf("budget after one release: %+v, %v", spent, err)
	}
}

func TestTrustedCheckpoint(t *testing.T) {
	tmp := t.TempDir()
	sk, vk := fixedKey(t, testOrigin, 4)
	l := newLog(t, filepath.Join(tmp, "a"), testOrigin, sk, vk, true)
	l.ingest(t, 0, 6, 0) // two leaves
	old := smallPack(t, l, filepath.Join(tmp, "a"))
	oldCP, _ := os.ReadFile(filepath.Join(old, DataDir, "checkpoint"))
	l.ingest(t, 6, 15, 0) // three more
	newer := smallPack(t, l, filepath.Join(tmp, "a2"))
	newCP, _ := os.ReadFile(filepath.Join(newer, DataDir, "checkpoint"))

	// A fork: the same key, the same first leaves, then other readings.
	f := newLog(t, filepath.Join(tmp, "f"), testOrigin, sk, vk, true)
	f.ingest(t, 0, 6, 0)
	f.ingest(t, 6, 15, 0.5)
	forked := smallPack(t, f, filepath.Join(tmp, "f"))
	// Another log: same origin, another key; and another origin.
	osk, ovk := fixedKey(t, testOrigin, 5)
	o := newLog(t, filepath.Join(tmp, "o"), testOrigin, osk, ovk, true)
	o.ingest(t, 0, 15, 0)
	other := smallPack(t, o, filepath.Join(tmp, "o"))
	xsk, xvk := fixedKey(t, "other.local/unit", 6)
	x := newLog(t, filepath.Join(tmp, "x"), "other.local/unit", xsk, xvk, true)
	x.ingest(t, 0, 15, 0)
	_, xNote, _ := x.st.LatestCheckpoint(context.Background())

	ok := []struct {
		name    string
		dir     string
		trusted []byte
		want    string
	}{
		{"extends", newer, oldCP, "extends it to 5 leaves (a consistency proof of"},
		{"same tree", newer, newCP, "the same tree"},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Verify(context.Background(), c.dir, VerifyOptions{TrustedCheckpoint: c.trusted})
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, ch := range rep.Checks {
				found = found || ch.Kind == "trusted" && ch.OK && strings.Contains(ch.Detail, c.want)
			}
			if !found || rep.Trusted == nil {
				t.Errorf("no trusted check saying %q: %v", c.want, rep.Checks)
			}
		})
	}
	bad := []struct {
		name    string
		dir     string
		trusted []byte
		want    string
	}{
		{"rolled back", old, newCP, "trusted checkpoint: rolled back: the data's tree has 2 leaves"},
		{"forked at the same size", forked, newCP, "trusted checkpoint: forked: at tree size 5 the data's root is"},
		{"forked after the trusted size", forked, oldCP, "none"}, // extends: the fork is after leaf 2
		{"swapped key", other, newCP, "trusted checkpoint: swapped: the trusted checkpoint is signed by " + testOrigin},
		{"swapped origin", newer, xNote, "trusted checkpoint: swapped: the trusted checkpoint is signed by other.local/unit"},
		{"not a checkpoint", newer, []byte("hello\n"), "trusted checkpoint: not consistent: the trusted checkpoint: malformed note"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if c.want == "none" {
				if _, err := Verify(context.Background(), c.dir, VerifyOptions{TrustedCheckpoint: c.trusted}); err != nil {
					t.Fatalf("a log that extends the trusted tree before it forks from another copy: %v", err)
				}
				return
			}
			all := failedChecks(t, c.dir, VerifyOptions{TrustedCheckpoint: c.trusted})
			if !strings.Contains(all, c.want) {
				t.Errorf("no failed check mentions %q; failed:\n%s", c.want, all)
			}
		})
	}
	// Only --key is trusted: a trusted checkpoint by another key is a swap
	// even if the pack carries that key.
	all := failedChecks(t, other, VerifyOptions{Keys: []string{ovk, vk}, TrustedCheckpoint: newCP})
	if !strings.Contains(all, "swapped: the data's checkpoint is signed by "+testOrigin) {
		t.Errorf("want the key swap named; failed:\n%s", all)
	}
}

func TestReadPackErrors(t *testing.T) {
	tmp := t.TempDir()
	sk, vk := fixedKey(t, testOrigin, 7)
	l := newLog(t, tmp, testOrigin, sk, vk, true)
	l.ingest(t, 0, 3, 0)
	dir := smallPack(t, l, tmp)
	orig, _ := os.ReadFile(filepath.Join(dir, PackFile))
	line := func(s string) int { // the line of pack.json holding s
		i := bytes.Index(orig, []byte(s))
		if i < 0 {
			t.Fatalf("pack.json has no %q", s)
		}
		return 1 + bytes.Count(orig[:i], []byte("\n"))
	}
	cases := []struct {
		name     string
		old, new string
		want     string
	}{
		{"truncated", "", "", "pack.json:%d:%d: truncated"},
		{"bad UTF-8", `"lifang test"`, "\"lifang \xff\"", "pack.json:%d:27: invalid UTF-8"},
		{"NaN", `"tree_size": 1,`, `"tree_size": NaN,`, "pack.json:%d:18: invalid character 'N'"},
		{"huge number", `"tree_size": 1,`, `"tree_size": 1e400,`, "checkpoint.tree_size: JSON number 1e400 where int64 is wanted"},
		{"huge value", `"value": 3,`, `"value": 1e400,`, "figures[0].value: 1e400 is not a finite decimal"},
		{"missing value", `"value": 3,`, ``, "figures[0].value: missing"},
		{"renamed field", `"root": `, `"rot": `, `checkpoint.rot: unknown field`},
		{"unknown field", `"format"`, `"formats": 1, "format"`, "pack.json:%d:3: formats: unknown field"},
		{"duplicate field", `"format"`, `"generated_by": "x", "format"`, "generated_by: duplicate field"},
		{"trailing data", "", "", "data after the JSON object"},
		{"old format", `"lifang-disclosure/2"`, `"lifang-disclosure/1"`, "format: \"lifang-disclosure/1\", want \"lifang-disclosure/2\""},
		{"bad file hash", `"data/checkpoint": "`, `"data/checkpoint": "zz`, `files["data/checkpoint"]: "zz`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := copyDir(t, dir)
			var b []byte
			want := c.want
			switch c.name {
			case "truncated":
				b = orig[:len(orig)/2]
				want = fmt.Sprintf(want, 1+bytes.Count(b, []byte("\n")), len(b)-bytes.LastIndexByte(b, '\n'))
			case "trailing data":
				b = append(append([]byte(nil), orig...), "{}\n"...)
			default:
				if !bytes.Contains(orig, []byte(c.old)) {
					t.Fatalf("pack.json has no %q", c.old)
				}
				if strings.Contains(want, "%d") {
					want = fmt.Sprintf(want, line(c.old))
				}
				b = bytes.Replace(orig, []byte(c.old), []byte(c.new), 1)
			}
			os.WriteFile(filepath.Join(d, PackFile), b, 0o644)
			rep, err := Verify(context.Background(), d, VerifyOptions{})
			if err == nil || rep != nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err %v (report %v), want one containing %q", err, rep != nil, want)
			}
		})
	}
}
