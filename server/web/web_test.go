package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func readStatic(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(Static(), name)
	if err != nil {
		t.Fatalf("embedded %s: %v", name, err)
	}
	return string(b)
}

func staticFiles(t *testing.T, ext string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ext) {
			return err
		}
		out[p] = readStatic(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEmbeddedFiles(t *testing.T) {
	for _, name := range []string{"index.html", "style.css", "i18n.json", "js/app.js", "js/api.js", "js/i18n.js", "js/dom.js",
		"js/ui.js", "js/charts.js", "js/merkle.js", "js/overview.js", "js/operations.js", "js/ledger.js", "js/finance.js", "js/scenarios.js", "js/site.js"} {
		if s := readStatic(t, name); len(s) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	// Every module a script imports, and every local file index.html links, is embedded.
	imports := regexp.MustCompile(`(?m)^import[^'"]*['"](\./[^'"]+)['"]`)
	for p, src := range staticFiles(t, ".js") {
		for _, m := range imports.FindAllStringSubmatch(src, -1) {
			target := path.Join(path.Dir(p), m[1])
			if _, err := fs.Stat(Static(), target); err != nil {
				t.Errorf("%s imports %s: %v", p, m[1], err)
			}
		}
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"#:]+)"`)
	for _, m := range refs.FindAllStringSubmatch(readStatic(t, "index.html"), -1) {
		if strings.HasPrefix(m[1], "/api/") {
			continue
		}
		if _, err := fs.Stat(Static(), m[1]); err != nil {
			t.Errorf("index.html links %s: %v", m[1], err)
		}
	}
}

// TestStaticSize keeps the dashboard small enough to load quickly over a slow link.
func TestStaticSize(t *testing.T) {
	total := 0
	fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			total += len(readStatic(t, p))
		}
		return nil
	})
	if total >= 160_000 {
		t.Errorf("static files total %d bytes, want under 160 kB", total)
	}
}

// i18nFile is static/i18n.json: the languages, then each key's translations in that
// order.
type i18nFile struct {
	Languages []string            `json:"languages"`
	Messages  map[string][]string `json:"messages"`
}

// dictionaries returns language → key → text.
func dictionaries(t *testing.T) map[string]map[string]string {
	t.Helper()
	var f i18nFile
	dec := json.NewDecoder(strings.NewReader(readStatic(t, "i18n.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("i18n.json: %v", err)
	}
	if !slices.Equal(f.Languages, []string{"zh-CN", "en"}) {
		t.Fatalf("i18n.json languages %q, want [zh-CN en] (zh-CN is the default)", f.Languages)
	}
	d := map[string]map[string]string{}
	for i, lang := range f.Languages {
		d[lang] = map[string]string{}
		for k, v := range f.Messages {
			if len(v) != len(f.Languages) {
				t.Errorf("key %q has %d translations, want %d", k, len(v), len(f.Languages))
				continue
			}
			d[lang][k] = v[i]
		}
	}
	return d
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

func TestDictionariesMatch(t *testing.T) {
	d := dictionaries(t)
	zh, en := d["zh-CN"], d["en"]
	if len(zh) < 100 {
		t.Fatalf("i18n.json has only %d messages", len(zh))
	}
	for k, v := range zh {
		e := en[k]
		if strings.TrimSpace(v) == "" || strings.TrimSpace(e) == "" {
			t.Errorf("key %q has an empty translation", k)
		}
		pz := slices.Compact(slices.Sorted(slices.Values(names(v))))
		pe := slices.Compact(slices.Sorted(slices.Values(names(e))))
		if !slices.Equal(pz, pe) {
			t.Errorf("key %q: placeholders %v in zh-CN, %v in en", k, pz, pe)
		}
	}
}

func names(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestKeysUsedExist checks every key the HTML (data-i18n, data-i18n-placeholder,
// data-i18n-aria-label, data-i18n-title) and the scripts (t('key')) use. Keys built
// from data go through tk(), which falls back to the raw name.
func TestKeysUsedExist(t *testing.T) {
	d := dictionaries(t)
	htmlKey := regexp.MustCompile(`data-i18n(?:-[a-z-]+)?="([^"]+)"`)
	jsKey := regexp.MustCompile(`\bt\(\s*'([^']+)'`)
	used := map[string][]string{}
	for _, m := range htmlKey.FindAllStringSubmatch(readStatic(t, "index.html"), -1) {
		used[m[1]] = append(used[m[1]], "index.html")
	}
	for p, src := range staticFiles(t, ".js") {
		for _, m := range jsKey.FindAllStringSubmatch(src, -1) {
			used[m[1]] = append(used[m[1]], p)
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in use: is the pattern still right?", len(used))
	}
	for k, where := range used {
		for lang, dict := range d {
			if _, ok := dict[k]; !ok {
				t.Errorf("key %q (used in %s) is missing from %s", k, strings.Join(slices.Compact(slices.Sorted(slices.Values(where))), ", "), lang)
			}
		}
	}
}

// TestStaticTextMatches: the Chinese text index.html shows before the dictionaries load
// is the zh-CN dictionary's, so the page does not change when they arrive.
func TestStaticTextMatches(t *testing.T) {
	zh := dictionaries(t)["zh-CN"]
	for _, m := range regexp.MustCompile(`data-i18n="([^"]+)"[^>]*>([^<]*)<`).FindAllStringSubmatch(readStatic(t, "index.html"), -1) {
		if zh[m[1]] != m[2] {
			t.Errorf("index.html shows %q for %s, the dictionary %q", m[2], m[1], zh[m[1]])
		}
	}
}

// TestOverviewLabelsStatic: the four KPI family labels are in the HTML served at "/"
// before any script runs, and their keys translate to the English names.
func TestOverviewLabelsStatic(t *testing.T) {
	html := readStatic(t, "index.html")
	d := dictionaries(t)
	for _, f := range []struct{ key, zh, en string }{
		{"family.economic", "经济", "Economic"},
		{"family.resilience", "韧性", "Resilience"},
		{"family.social", "社会", "Social"},
		{"family.financial", "金融", "Financial"},
	} {
		if !strings.Contains(html, `data-i18n="`+f.key+`">`+f.zh+`<`) {
			t.Errorf("index.html lacks the static label %s (%s)", f.zh, f.key)
		}
		if d["zh-CN"][f.key] != f.zh || d["en"][f.key] != f.en {
			t.Errorf("%s translates to %q / %q, want %q / %q", f.key, d["zh-CN"][f.key], d["en"][f.key], f.zh, f.en)
		}
	}
	if !strings.Contains(html, `<html lang="zh-CN">`) {
		t.Error(`index.html must start in zh-CN (<html lang="zh-CN">)`)
	}
}

// TestTestIDs pins the hooks browser tests rely on.
func TestTestIDs(t *testing.T) {
	html := readStatic(t, "index.html")
	for _, r := range []string{"overview", "energy", "site", "forecasts", "parking", "water", "rentals", "ledger", "finance", "scenarios"} {
		if !strings.Contains(html, `href="#/`+r+`" id="nav-`+r+`" data-testid="nav-`+r+`"`) {
			t.Errorf("nav link for %s is missing or changed", r)
		}
	}
	ids := regexp.MustCompile(`data-testid="([^"]+)"`).FindAllStringSubmatch(html, -1)
	seen := map[string]bool{}
	for _, m := range ids {
		if seen[m[1]] {
			t.Errorf("data-testid %q appears twice in index.html", m[1])
		}
		seen[m[1]] = true
	}
	for _, id := range []string{"lang-toggle", "page-title", "signin-form", "token-input", "kpi-economic", "kpi-resilience", "kpi-social", "kpi-financial"} {
		if !seen[id] {
			t.Errorf("index.html lacks data-testid %q", id)
		}
	}
	if !strings.Contains(readStatic(t, "js/app.js"), "window.lifang = Object.freeze({\n  ready,\n  ...merkle,") ||
		!strings.Contains(readStatic(t, "js/merkle.js"), "export async function verifyInclusion(") {
		t.Error("window.lifang no longer exposes the verifier (verifyInclusion and the other merkle.js exports)")
	}
}

type jsCase struct {
	Name      string   `json:"name"`
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  int64    `json:"tree_size"`
	Leaf      string   `json:"leaf"`
	LeafHash  string   `json:"leaf_hash,omitempty"`
	Proof     []string `json:"proof"`
	Root      string   `json:"root"`
	OK        bool     `json:"ok"`
}

// TestMerkleJS runs the browser verifier under Node (skipped without node): the RFC
// 6962 vector, and proofs made by Go's tlog (what the ledger serves) for trees of
// several sizes, with tampered copies that must fail.
func TestMerkleJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: the verifier is checked in the browser by the ledger page's self-test")
	}
	var hashes []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	leaf := func(i int64) []byte {
		return []byte("lifang-batch/1\nsource test\nreceived 2026-03-01T00:00:00Z\nreadings 1\nm" + string(rune('a'+i%26)) + "\t2026-03-01T00:00:00Z\t" + string(rune('0'+i%10)) + "\tkWh\tgood\n")
	}
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	var cases []jsCase
	const n = 23
	for i := int64(0); i < n; i++ {
		hs, err := tlog.StoredHashes(i, leaf(i), reader)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	for _, size := range []int64{1, 2, 7, 8, 13, 23} {
		root, err := tlog.TreeHash(size, reader)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int64{0, size / 2, size - 1} {
			p, err := tlog.ProveRecord(size, i, reader)
			if err != nil {
				t.Fatal(err)
			}
			proof := make([]string, len(p))
			for k, h := range p {
				proof[k] = b64(h[:])
			}
			lh := tlog.RecordHash(leaf(i))
			c := jsCase{Name: "good", LeafIndex: i, TreeSize: size, Leaf: b64(leaf(i)), LeafHash: b64(lh[:]), Proof: proof, Root: b64(root[:]), OK: true}
			cases = append(cases, c)
			bad := c
			bad.Name, bad.Leaf, bad.LeafHash, bad.OK = "changed leaf", b64(append(leaf(i), 'x')), "", false
			cases = append(cases, bad)
			if len(proof) > 0 {
				bad = c
				bad.Name, bad.Proof, bad.OK = "short proof", proof[1:], false
				cases = append(cases, bad)
			}
			if size > 1 {
				bad = c
				bad.Name, bad.LeafIndex, bad.LeafHash, bad.OK = "wrong index", (i+1)%size, "", false
				bad.Leaf = c.Leaf
				cases = append(cases, bad)
			}
		}
	}
	file := filepath.Join(t.TempDir(), "cases.json")
	b, _ := json.Marshal(cases)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, filepath.Join("testdata", "merkle_vector.mjs"), file).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestVerifyNoteJS checks the browser's Ed25519 signed-note verifier under Node against
// notes signed by Go's sumdb/note, with keys whose base64 holds '+' and '/'.
func TestVerifyNoteJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: the browser test checks the signature in Chromium")
	}
	type noteCase struct {
		Name string `json:"name"`
		Note string `json:"note"`
		VKey string `json:"vkey"`
		Want int    `json:"want"`
	}
	var cases []noteCase
	plus := 0
	for i := 0; i < 40; i++ {
		skey, vkey, err := note.GenerateKey(rand.Reader, "lifang.test/unit")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(vkey, "+") > 2 {
			plus++
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		text := fmt.Sprintf("lifang.test/unit\n%d\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 10+i)
		msg, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, noteCase{"good", string(msg), vkey, 1},
			noteCase{"altered text", strings.Replace(string(msg), fmt.Sprint(10+i), fmt.Sprint(11+i), 1), vkey, 0})
	}
	if plus == 0 {
		t.Fatal("no key with '+' in its base64 among 40: the case this test is for was not exercised")
	}
	file := filepath.Join(t.TempDir(), "notes.json")
	b, _ := json.Marshal(cases)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, filepath.Join("testdata", "note_vector.mjs"), file).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
