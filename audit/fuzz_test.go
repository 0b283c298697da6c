package audit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/audit"
	"github.com/lifang-community/lifang/reading"
)

var writeCorpus = flag.Bool("write-fuzz-corpus", false, "(re)write the seed corpus under testdata/fuzz/")

// exportFiles are the files of an export, in the order a fuzz input's name
// selects them by.
var exportFiles = []string{"batches.csv", "checkpoint", "events.csv", "hashes.txt", "keys.txt", "leaves.txt", "readings.csv"}

// fuzzExport is a small export (three leaves of four meters, a key derived
// from a fixed seed, so its bytes are the same every run).
func fuzzExport(t testing.TB) (*signedLog, string, map[string][]byte) {
	t.Helper()
	l := newSignedLog(t, origin, 42, 3, 3, 0)
	dir := l.export(t)
	orig := map[string][]byte{}
	for _, n := range exportFiles {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		orig[n] = b
	}
	return l, dir, orig
}

// pickFile is the file a fuzz input names: itself if it is one, else one
// chosen by its hash.
func pickFile(files []string, name []byte) string {
	for _, f := range files {
		if string(name) == f {
			return f
		}
	}
	h := fnv.New32a()
	h.Write(name)
	return files[h.Sum32()%uint32(len(files))]
}

// exportSeeds are each file as exported, and crafted variants of the kinds
// that once panicked or were accepted: non-finite and huge values, truncated
// and malformed CSV, bad UTF-8, a leaf claiming a huge count.
func exportSeeds(orig map[string][]byte) map[string][2][]byte {
	seeds := map[string][2][]byte{}
	for _, n := range exportFiles {
		seeds["orig-"+strings.ReplaceAll(n, ".", "-")] = [2][]byte{[]byte(n), orig[n]}
	}
	rd := orig["readings.csv"]
	first := bytes.Index(rd, []byte("\n")) + 1
	line2 := rd[first : first+bytes.Index(rd[first:], []byte("\n"))+1]
	fields := strings.Split(strings.TrimSuffix(string(line2), "\n"), ",")
	withValue := func(v string) []byte {
		f := append([]string(nil), fields...)
		f[4] = v
		return append(append([]byte(nil), rd[:first]...), []byte(strings.Join(f, ",")+"\n"+string(rd[first+len(line2):]))...)
	}
	seeds["readings-nan"] = [2][]byte{[]byte("readings.csv"), withValue("NaN")}
	seeds["readings-inf"] = [2][]byte{[]byte("readings.csv"), withValue("+Inf")}
	seeds["readings-huge"] = [2][]byte{[]byte("readings.csv"), withValue("1.7976931348623157e308")}
	seeds["readings-truncated"] = [2][]byte{[]byte("readings.csv"), rd[:len(rd)/2]}
	seeds["readings-missing-column"] = [2][]byte{[]byte("readings.csv"), bytes.Replace(rd, []byte(",quality\n"), []byte("\n"), 1)}
	seeds["readings-bad-utf8"] = [2][]byte{[]byte("readings.csv"), bytes.Replace(rd, []byte("m1/"), []byte("m\xff/"), 1)}
	seeds["checkpoint-truncated"] = [2][]byte{[]byte("checkpoint"), orig["checkpoint"][:len(orig["checkpoint"])/2]}
	seeds["leaves-huge-count"] = [2][]byte{[]byte("leaves.txt"),
		[]byte(base64.StdEncoding.EncodeToString([]byte("lifang-batch/1\nsource test\nreceived 2026-03-03T00:00:00Z\nreadings 9223372036854775807\n")) + "\n")}
	return seeds
}

// FuzzOpenExport replaces one file of a small valid export with the input and
// reads it: an error must name that file, a read export must hold only finite
// values, and auditing it must not panic nor verify another root.
func FuzzOpenExport(f *testing.F) {
	l, src, orig := fuzzExport(f)
	seeds := exportSeeds(orig)
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	ctx := context.Background()
	good, err := audit.OpenExport(src)
	if err != nil {
		f.Fatal(err)
	}
	want, err := audit.Verify(ctx, good, origin, l.vs)
	if err != nil {
		f.Fatal(err)
	}
	work := f.TempDir()
	if err := os.CopyFS(work, os.DirFS(src)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, content []byte) {
		target := pickFile(exportFiles, name)
		path := filepath.Join(work, target)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(path, orig[target], 0o644)
		ex, err := audit.OpenExport(work)
		if err != nil {
			if !strings.Contains(err.Error(), target) {
				t.Fatalf("the error does not name %s: %v", target, err)
			}
			return
		}
		n, _ := ex.TreeSize(ctx)
		for i := range n + 1 {
			if b, err := ex.BatchReadings(ctx, i); err == nil {
				for _, r := range b.Readings {
					if !reading.Finite(r.Value) {
						t.Fatalf("leaf %d: value %v read", i, r.Value)
					}
				}
			}
		}
		rep, err := audit.Verify(ctx, ex, origin, l.vs)
		if err == nil && rep.Root != want.Root {
			t.Fatalf("a changed %s verifies against root %s, not %s", target, rep.Root, want.Root)
		}
		audit.CheckTrusted(ctx, ex, l.notes[0], l.vs)
	})
}

// TestWriteFuzzCorpus writes FuzzOpenExport's seeds under testdata/fuzz/ in
// Go's corpus format, with -write-fuzz-corpus.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("run with -write-fuzz-corpus to rewrite testdata/fuzz/FuzzOpenExport")
	}
	_, _, orig := fuzzExport(t)
	if err := writeSeeds(filepath.Join("testdata", "fuzz", "FuzzOpenExport"), exportSeeds(orig)); err != nil {
		t.Fatal(err)
	}
}

// writeSeeds writes each seed as a `go test fuzz v1` file named by its key.
func writeSeeds(dir string, seeds map[string][2][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\n", s[0], s[1])
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}
