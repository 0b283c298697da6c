package disclosure

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/ledger"
)

var writeCorpus = flag.Bool("write-fuzz-corpus", false, "(re)write the seed corpus under testdata/fuzz/")

// fuzzPack builds a small pack (two households and a PV register, four
// steps, two leaves) whose bytes are the same every run: fixed key, clock and
// noise. It returns the pack and its files' contents.
func fuzzPack(t testing.TB) (string, []string, map[string][]byte) {
	t.Helper()
	tmp := t.TempDir()
	sk, vk := fixedKey(t, testOrigin, 11)
	l := newLog(t, tmp, testOrigin, sk, vk, true)
	l.ingest(t, 0, 4, 0)
	dir := smallPack(t, l, tmp)
	names, err := packFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, PackFile, SigFile)
	slices.Sort(names)
	orig := map[string][]byte{}
	for _, n := range names {
		if orig[n], err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(n))); err != nil {
			t.Fatal(err)
		}
	}
	return dir, names, orig
}

// pickFile is the file a fuzz input names: itself if it is one, else one
// chosen by its hash.
func pickFile(files []string, name []byte) string {
	if i := slices.Index(files, string(name)); i >= 0 {
		return files[i]
	}
	h := fnv.New32a()
	h.Write(name)
	return files[h.Sum32()%uint32(len(files))]
}

// packSeeds are each file as built, and the tampering the issue found or the
// tamper suite tries, each as one file's new content.
func packSeeds(t testing.TB, orig map[string][]byte) map[string][2][]byte {
	seeds := map[string][2][]byte{}
	for n, b := range orig {
		seeds["orig-"+strings.NewReplacer("/", "-", ".", "-").Replace(n)] = [2][]byte{[]byte(n), b}
	}
	pj, rd := orig[PackFile], orig["data/readings.csv"]
	add := func(name, file string, b []byte) {
		if bytes.Equal(b, orig[file]) {
			t.Fatalf("seed %s does not change %s", name, file)
		}
		seeds[name] = [2][]byte{[]byte(file), b}
	}
	add("pack-truncated", PackFile, pj[:len(pj)/2])
	add("pack-bad-utf8", PackFile, bytes.Replace(pj, []byte("lifang test"), []byte("lifang \xfftest"), 1))
	add("pack-generated-by", PackFile, bytes.Replace(pj, []byte(`"generated_by": "lifang test"`), []byte(`"generated_by": "lifang 9"`), 1))
	add("pack-huge-tree-size", PackFile, bytes.Replace(pj, []byte(`"tree_size": 2,`), []byte(`"tree_size": 9223372036854775807,`), 1))
	add("pack-huge-value", PackFile, bytes.Replace(pj, []byte(`"value": 4,`), []byte(`"value": 1e400,`), 1))
	add("pack-figure", PackFile, bytes.Replace(pj, []byte(`"value": 4,`), []byte(`"value": 5,`), 1))
	add("readings-nan", "data/readings.csv", bytes.Replace(rd, []byte(",500,kWh"), []byte(",NaN,kWh"), 1))
	add("readings-huge", "data/readings.csv", bytes.Replace(rd, []byte(",500,kWh"), []byte(",1e308,kWh"), 1))
	add("readings-missing-column", "data/readings.csv", bytes.Replace(rd, []byte(",quality\n"), []byte("\n"), 1))
	add("readings-truncated", "data/readings.csv", rd[:len(rd)/2])
	add("html-doctored", HTMLFile, bytes.Replace(orig[HTMLFile], []byte("kWh"), []byte("MWh"), 1))
	fresh, _ := fixedKey(t, testOrigin, 12)
	signer, err := ledger.NewSigner(fresh)
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePack(pj)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := note.Sign(&note.Note{Text: packManifest(pj, p).text()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	add("sig-forged", SigFile, forged)
	return seeds
}

// FuzzVerifyPack replaces one file of a small valid pack with the input and
// verifies it: it must not panic, the untouched pack must verify, and any
// change to a file other than the signature must fail (the signature note may
// change in ways that keep it valid, such as an added cosignature). Only a
// pack.json that cannot be read gives no report.
func FuzzVerifyPack(f *testing.F) {
	dir, names, orig := fuzzPack(f)
	for _, s := range packSeeds(f, orig) {
		f.Add(s[0], s[1])
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, name, content []byte) {
		target := pickFile(names, name)
		path := filepath.Join(dir, filepath.FromSlash(target))
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(path, orig[target], 0o644)
		rep, err := Verify(ctx, dir, VerifyOptions{Version: "lifang test"})
		same := bytes.Equal(content, orig[target])
		switch {
		case same && err != nil:
			t.Fatalf("the untouched pack does not verify: %v", err)
		case !same && target != SigFile && err == nil:
			t.Fatalf("a changed %s verifies", target)
		case rep == nil && err != nil && (target != PackFile || !strings.HasPrefix(err.Error(), PackFile)):
			t.Fatalf("no report for a changed %s: %v", target, err)
		case rep != nil && err != nil && !errors.Is(err, ErrMismatch):
			t.Fatalf("a report with an error that is no mismatch: %v", err)
		case rep != nil && rep.OK != (err == nil):
			t.Fatalf("report OK %v, err %v", rep.OK, err)
		}
	})
}

// TestWriteFuzzCorpus writes FuzzVerifyPack's seeds under testdata/fuzz/ in
// Go's corpus format, with -write-fuzz-corpus.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("run with -write-fuzz-corpus to rewrite testdata/fuzz/FuzzVerifyPack")
	}
	_, _, orig := fuzzPack(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzVerifyPack")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range packSeeds(t, orig) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\n", s[0], s[1])
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
