package unit

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed-* files of testdata/fuzz/FuzzParse")

// FuzzParse: any input either parses or fails as Errors, each naming the file; it
// never panics, overflows the stack or runs out of memory. The committed seed corpus is
// every testdata/*.yaml file and the bombs of TestParseBounds (TestFuzzCorpus keeps it
// so); the examples are added at run time.
func FuzzParse(f *testing.F) {
	// Added here rather than committed, so that editing an example does not make the
	// corpus stale.
	for _, path := range []string{"../examples/community.yaml", "../examples/site.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := Parse(data, "fuzz.yaml")
		if err == nil {
			if u == nil {
				t.Fatal("Parse returned neither a unit nor an error")
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error is %T %q, want Errors", err, err)
		}
		for _, e := range errs {
			if e.File != "fuzz.yaml" {
				t.Fatalf("error %q does not name the file", e)
			}
		}
	})
}

const corpusDir = "testdata/fuzz/FuzzParse"

// fuzzSeeds returns the seed inputs by corpus file name.
func fuzzSeeds(t *testing.T) map[string][]byte {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"seed-bomb-merge-self":        []byte("location: &a\n  city: x\n  <<: *a\n"),
		"seed-bomb-list-self":         []byte("buildings: &b [*b]\n"),
		"seed-bomb-laughs-merge":      []byte(laughs(9, 10, true)),
		"seed-bomb-laughs-list":       []byte(laughs(9, 10, false)),
		"seed-bomb-deep":              []byte(nested(MaxDepth + 1)),
		"seed-bomb-deep-merge-chain":  []byte(mergeChain(MaxDepth + 1)),
		"seed-bomb-key-self":          []byte("? &k [*k]\n: 1\n"),
		"seed-bomb-merge-parent-self": []byte("location: &a {<<: {<<: *a}}\n"),
		"seed-bomb-long-key":          []byte(longKey(5000, 3)),
		// inputs that made earlier yaml.v3 versions panic (go-yaml/yaml#665, #666, #744, #855)
		"seed-yaml-v3-665": []byte("#\n-\n-\n0"),
		"seed-yaml-v3-666": []byte("0: [:!00 \xef"),
		"seed-yaml-v3-744": []byte("#\n - - QI\xd7"),
		"seed-yaml-v3-855": []byte("#\n-\n{"),
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds["seed-"+strings.TrimSuffix(filepath.Base(f), ".yaml")] = data
	}
	return seeds
}

// corpusFile is data in the format of go test's fuzzing corpus (internal/fuzz).
func corpusFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
}

// TestFuzzCorpus checks that the committed seed corpus matches fuzzSeeds; run with
// -update-corpus to rewrite it.
func TestFuzzCorpus(t *testing.T) {
	seeds := fuzzSeeds(t)
	if *updateCorpus {
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range seeds {
		path := filepath.Join(corpusDir, name)
		want := corpusFile(data)
		if *updateCorpus {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (%v): run go test ./unit -run TestFuzzCorpus -update-corpus", path, err)
		}
	}
	stale, _ := filepath.Glob(filepath.Join(corpusDir, "seed-*"))
	for _, path := range stale {
		if _, ok := seeds[filepath.Base(path)]; ok {
			continue
		}
		if *updateCorpus {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s is no longer a seed: run go test ./unit -run TestFuzzCorpus -update-corpus", path)
	}
}
