package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// fakeChromium is a browser for `report --browser` that writes a small PDF
// where Chromium would print one, so the PDF path is tested without Chromium.
const fakeChromium = `#!/bin/sh
for a in "$@"; do case "$a" in --print-to-pdf=*) out="${a#--print-to-pdf=}";; esac; done
printf '%%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%%%EOF\n' > "$out"
`

// packFixture is a pack with a PDF from a small ingested database, the
// checkpoint an auditor saved when it was built, a later checkpoint of the
// same log, and a pack of another log.
type packFixture struct {
	db, pack, other string
	saved, later    string // checkpoint files
	otherCheckpoint []byte
	packVKey        string
	browser         string // fakeChromium
}

func newPackFixture(t *testing.T) *packFixture {
	t.Helper()
	dir := t.TempDir()
	f := &packFixture{db: reportDB(t), pack: filepath.Join(dir, "pack"), other: filepath.Join(dir, "other"),
		saved: filepath.Join(dir, "saved.checkpoint"), later: filepath.Join(dir, "later.checkpoint"), browser: filepath.Join(dir, "chromium")}
	if err := os.WriteFile(f.browser, []byte(fakeChromium), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCLI(t, "report", "--db", f.db, "--out", f.pack, "--browser", f.browser); code != 0 || !strings.Contains(out, "report.pdf") {
		t.Fatalf("report: exit %d: %s%s", code, out, stderr)
	}
	f.saveCheckpoint(t, f.db, f.saved)
	// The log grows after the pack: a checkpoint the auditor saves later.
	csv := filepath.Join(dir, "more.csv")
	os.WriteFile(csv, []byte("point,timestamp,value,unit\nroof/pv/energy,2026-03-02T00:00:00Z,900,kWh\n"), 0o644)
	if code, _, stderr := runCLI(t, "ingest", "csv", "--db", f.db, csv); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	f.saveCheckpoint(t, f.db, f.later)
	// Another log (its own key, the same default origin) and its pack.
	otherDB := reportDB(t)
	if code, _, stderr := runCLI(t, "report", "--db", otherDB, "--out", f.other, "--no-private", "--browser", "none"); code != 0 {
		t.Fatalf("report of the other log: %s", stderr)
	}
	f.otherCheckpoint, _ = os.ReadFile(filepath.Join(f.other, "data", "checkpoint"))
	keys, _ := os.ReadFile(filepath.Join(f.pack, "data", "keys.txt"))
	f.packVKey = strings.TrimSpace(string(keys))
	return f
}

func (f *packFixture) saveCheckpoint(t *testing.T, db, path string) {
	t.Helper()
	code, out, stderr := runCLI(t, "ledger", "checkpoint", "--db", db)
	if code != 0 {
		t.Fatalf("ledger checkpoint: %s", stderr)
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replaceIn replaces the first old in a pack file by new.
func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %q", path, old)
	}
	os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644)
}

// updateHash sets pack.json's SHA-256 of file to the file's, as a forger
// would (pack.json's own signature is left as it was).
func updateHash(t *testing.T, pack, file string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pack, filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	pj := filepath.Join(pack, "pack.json")
	src, _ := os.ReadFile(pj)
	re := regexp.MustCompile(`("` + regexp.QuoteMeta(file) + `": ")[0-9a-f]{64}(")`)
	if !re.Match(src) {
		t.Fatalf("pack.json lists no %s", file)
	}
	os.WriteFile(pj, re.ReplaceAll(src, []byte("${1}"+hex.EncodeToString(sum[:])+"${2}")), 0o644)
}

// forgeManifest re-signs pack.json as it now is with a fresh key of the log's
// name: the signed text is the original with pack.json's line updated.
func forgeManifest(t *testing.T, pack string) {
	t.Helper()
	sigPath := filepath.Join(pack, "pack.json.sig")
	sig, _ := os.ReadFile(sigPath)
	text, _, ok := strings.Cut(string(sig), "\n\n")
	if !ok {
		t.Fatalf("pack.json.sig is not a note: %s", sig)
	}
	pj, _ := os.ReadFile(filepath.Join(pack, "pack.json"))
	sum := sha256.Sum256(pj)
	text = regexp.MustCompile(`(?m)^sha256 [0-9a-f]{64} pack\.json$`).ReplaceAllString(text, "sha256 "+hex.EncodeToString(sum[:])+" pack.json")
	name, _, _ := strings.Cut(text[strings.Index(text, "origin ")+len("origin "):], "\n")
	sk, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(sk)
	msg, err := note.Sign(&note.Note{Text: text + "\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(sigPath, msg, 0o644)
}

// TestPackTamperSuite falsifies a real pack in each way the issue and the
// review found, and requires `verify --pack` to exit 1, without a panic,
// naming the failing check; the untouched pack passes.
func TestPackTamperSuite(t *testing.T) {
	t.Setenv("LIFANG_BROWSER", "none")
	f := newPackFixture(t)
	start := time.Now()

	for _, args := range [][]string{
		{"verify", "--pack", f.pack},
		{"verify", "--pack", f.pack, "--key", f.packVKey},
		{"verify", "--pack", f.pack, "--trusted-checkpoint", f.saved},
	} {
		code, out, stderr := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, ": OK") || !strings.Contains(out, "ok       manifest pack.json.sig: signed by") || !strings.Contains(out, "ok       pdf     report.pdf: a PDF") {
			t.Fatalf("%v: exit %d:\n%s%s", args, code, out, stderr)
		}
	}

	cases := []struct {
		name    string
		tamper  func(t *testing.T, pack string)
		trusted string // --trusted-checkpoint
		dir     string // verify this pack instead of the copy
		want    []string
	}{
		{name: "figure in pack.json, not re-signed", tamper: func(t *testing.T, pack string) {
			replaceIn(t, filepath.Join(pack, "pack.json"), `"value": 60,`, `"value": 61,`)
		}, want: []string{
			"MISMATCH manifest pack.json: sha256", "pack.json was changed after it was signed",
			"MISMATCH figure  meter/roof/pv/energy/readings: value: pack.json says 61 readings, re-derived 60 readings",
		}},
		{name: "reading in data/readings.csv, every hash updated", tamper: func(t *testing.T, pack string) {
			replaceIn(t, filepath.Join(pack, "data", "readings.csv"), "roof/pv/energy,2026-03-01T14:45:00Z,829.5,", "roof/pv/energy,2026-03-01T14:45:00Z,830.5,")
			updateHash(t, pack, "data/readings.csv")
		}, want: []string{
			"MISMATCH manifest data/readings.csv: sha256", "the file was changed after it was signed",
			"MISMATCH data    data/: altered (leaf",
			"MISMATCH figure  meter/roof/pv/energy/consumption: value: pack.json says 29.5 kWh, re-derived 30.5 kWh",
		}},
		{name: "report.html doctored, hash updated", tamper: func(t *testing.T, pack string) {
			replaceIn(t, filepath.Join(pack, "report.html"), "29.5 kWh", "92.5 kWh")
			updateHash(t, pack, "report.html")
		}, want: []string{"MISMATCH manifest report.html: sha256", "MISMATCH html    report.html: is not the rendering of pack.json's figures"}},
		{name: "report.pdf one byte flipped, hash updated", tamper: func(t *testing.T, pack string) {
			path := filepath.Join(pack, "report.pdf")
			b, _ := os.ReadFile(path)
			b[len(b)/2] ^= 0x20
			os.WriteFile(path, b, 0o644)
			updateHash(t, pack, "report.pdf")
		}, want: []string{"MISMATCH manifest report.pdf: sha256", "the file was changed after it was signed", "MISMATCH manifest pack.json: sha256"}},
		{name: "generated_by changed", tamper: func(t *testing.T, pack string) {
			replaceIn(t, filepath.Join(pack, "pack.json"), `"generated_by": "`+version+`"`, `"generated_by": "lifang 0.0.9"`)
		}, want: []string{
			"MISMATCH manifest pack.json: sha256",
			"MISMATCH pack    generated_by: the pack was generated by lifang 0.0.9, this is " + version,
			"MISMATCH html    report.html: is not the rendering",
		}},
		{name: "manifest forged with a fresh key", tamper: func(t *testing.T, pack string) {
			replaceIn(t, filepath.Join(pack, "pack.json"), `"value": 60,`, `"value": 61,`)
			forgeManifest(t, pack)
		}, want: []string{"MISMATCH manifest pack.json.sig: not signed by the log's key", "the manifest was forged or re-signed with another key"}},
		{name: "checkpoint swapped for another log's", tamper: func(t *testing.T, pack string) {
			os.WriteFile(filepath.Join(pack, "data", "checkpoint"), f.otherCheckpoint, 0o644)
			updateHash(t, pack, "data/checkpoint")
		}, want: []string{"MISMATCH manifest data/checkpoint: sha256", "MISMATCH data    data/: checkpoint: ledger: bad checkpoint signature: no signature by a known key"}},
		{name: "another log's whole pack against the saved checkpoint", dir: f.other, trusted: f.saved, want: []string{
			"MISMATCH trusted checkpoint: swapped: the trusted checkpoint is signed by lifang.local/unit (key hash",
		}},
		{name: "rolled back against a later trusted checkpoint", trusted: f.later, want: []string{
			"MISMATCH trusted checkpoint: rolled back: the data's tree has",
		}},
		{name: "NaN in data/readings.csv", tamper: func(t *testing.T, pack string) {
			replaceIn(t, filepath.Join(pack, "data", "readings.csv"), ",829.5,", ",NaN,")
		}, want: []string{`MISMATCH data    data/: export: readings.csv:`, `column value: "NaN": not a finite number`, "MISMATCH manifest data/readings.csv: sha256"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "pack")
				if err := os.CopyFS(dir, os.DirFS(f.pack)); err != nil {
					t.Fatal(err)
				}
			}
			if c.tamper != nil {
				c.tamper(t, dir)
			}
			args := []string{"verify", "--pack", dir}
			if c.trusted != "" {
				args = append(args, "--trusted-checkpoint", c.trusted)
			}
			code, out, stderr := runCLI(t, args...)
			if code != exitFail || !strings.Contains(out, ": FAILED") || !strings.Contains(stderr, "pack does not verify") {
				t.Fatalf("exit %d, want %d:\n%s%s", code, exitFail, out, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("verify output lacks %q:\n%s", w, out)
				}
			}
			if testing.Verbose() {
				t.Logf("%s", firstFailure(out))
			}
		})
	}
	t.Logf("tamper suite: %d cases in %v", len(cases), time.Since(start).Round(time.Millisecond))
}

// firstFailure is the first failed check in verify's output.
func firstFailure(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "MISMATCH") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// A pack.json that cannot be read is an exit 1 naming its line and field.
func TestPackUnreadableManifest(t *testing.T) {
	t.Setenv("LIFANG_BROWSER", "none")
	db := reportDB(t)
	pack := filepath.Join(t.TempDir(), "pack")
	if code, _, stderr := runCLI(t, "report", "--db", db, "--out", pack, "--no-private"); code != 0 {
		t.Fatal(stderr)
	}
	pj := filepath.Join(pack, "pack.json")
	b, _ := os.ReadFile(pj)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"truncated", b[:len(b)/3], "pack.json:"},
		{"bad UTF-8", bytes.Replace(b, []byte(version), []byte("lifang \xff"), 1), "pack.json:3:"},
		{"huge tree size", bytes.Replace(b, []byte(`"tree_size": `), []byte(`"tree_size": 1`+strings.Repeat("0", 30)), 1), "checkpoint.tree_size: JSON number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(pj, c.b, 0o644)
			code, _, stderr := runCLI(t, "verify", "--pack", pack)
			if code != exitFail || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q, want %d and %q", code, stderr, exitFail, c.want)
			}
		})
	}
	os.WriteFile(pj, b, 0o644)
	if code, out, stderr := runCLI(t, "verify", "--pack", pack, "--trusted-checkpoint", filepath.Join(t.TempDir(), "none")); code != exitFail || !strings.Contains(stderr, "--trusted-checkpoint") {
		t.Fatalf("a missing trusted checkpoint: exit %d: %s%s", code, out, stderr)
	}
}

// verify --export takes --trusted-checkpoint too.
func TestVerifyExportTrusted(t *testing.T) {
	db := reportDB(t)
	dir := t.TempDir()
	saved := filepath.Join(dir, "saved")
	code, cp, _ := runCLI(t, "ledger", "checkpoint", "--db", db)
	if code != 0 {
		t.Fatal("no checkpoint")
	}
	os.WriteFile(saved, []byte(cp), 0o644)
	ex := filepath.Join(dir, "export")
	if code, _, stderr := runCLI(t, "export", "--db", db, "--out", ex); code != 0 {
		t.Fatal(stderr)
	}
	if code, out, stderr := runCLI(t, "verify", "--export", ex, "--trusted-checkpoint", saved); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	other := reportDB(t)
	_, ocp, _ := runCLI(t, "ledger", "checkpoint", "--db", other)
	os.WriteFile(saved, []byte(ocp), 0o644)
	code, out, _ := runCLI(t, "verify", "--export", ex, "--trusted-checkpoint", saved)
	if code != exitFail || !strings.Contains(out, "trusted: checkpoint of another log: the trusted checkpoint is signed by") {
		t.Fatalf("another log's checkpoint: exit %d:\n%s", code, out)
	}
}
