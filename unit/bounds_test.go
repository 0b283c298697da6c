package unit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// laughs is a "billion laughs" document: anchor i holds fan aliases of anchor i-1,
// so the last one expands to fan^levels nodes. merge spreads them with merge keys
// (mappings) instead of lists.
func laughs(levels, fan int, merge bool) string {
	var b strings.Builder
	b.WriteString("name: x\nbuildings:\n  - &l0 {name: A, households: 1}\n")
	for i := 1; i <= levels; i++ {
		items := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), fan), ", ")
		if merge {
			fmt.Fprintf(&b, "  - &l%d {<<: [%s]}\n", i, items)
		} else {
			fmt.Fprintf(&b, "  - &l%d [%s]\n", i, items)
		}
	}
	return b.String()
}

// longKey is laughs with a key of n bytes in the mapping that is merged 10^levels times.
func longKey(n, levels int) string {
	s := laughs(levels, 10, true)
	return strings.Replace(s, "{name: A, households: 1}", "{name: A, households: 1, ? "+strings.Repeat("k", n)+" : 1}", 1)
}

// nested is a document whose first field holds depth lists, one inside the other.
func nested(depth int) string {
	return "name: x\nlocation: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n"
}

// mergeChain is a document where anchor i merges anchor i-1, n times over.
func mergeChain(n int) string {
	var b strings.Builder
	b.WriteString("name: x\nbuildings:\n  - &m0 {name: A, households: 1}\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - &m%d {<<: *m%d}\n", i, i-1)
	}
	return b.String()
}

func TestParseBounds(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
	}{
		{"merge key names its own mapping", "location: &a\n  city: x\n  <<: *a\n",
			"bomb.yaml:3: location: alias *a refers to itself (a cycle: &a at line 1 contains it)"},
		{"merge list names its own mapping", "location: &a\n  city: x\n  <<: [{}, *a]\n",
			"bomb.yaml:3: location: alias *a refers to itself (a cycle"},
		{"merged mapping merges its parent", "location: &a {<<: {<<: *a}}\n",
			"bomb.yaml:1: location: alias *a refers to itself (a cycle"},
		{"list holds itself", "buildings: &b [*b]\n",
			"bomb.yaml:1: buildings[0]: alias *b refers to itself (a cycle"},
		{"list holds itself two levels down", "name: x\nbuildings: &b [{name: [*b]}]\n",
			"bomb.yaml:2: buildings[0].name[0]: alias *b refers to itself (a cycle"},
		{"key holds itself", "? &k [*k]\n: 1\n", "bomb.yaml:1: alias *k refers to itself (a cycle"},
		{"billion laughs through merge keys", laughs(9, 10, true),
			"bomb.yaml:8: the document expands to more than 100000 nodes through aliases (an alias bomb?)"},
		{"billion laughs through lists", laughs(9, 10, false),
			"bomb.yaml:8: the document expands to more than 100000 nodes through aliases (an alias bomb?)"},
		{"wide and shallow laughs", laughs(2, 1000, false), "the document expands to more than 100000 nodes through aliases"},
		{"many plain nodes", "name: x\nresilience: {outage_hours: [" + strings.Repeat("1,", MaxNodes) + "1]}\n",
			"bomb.yaml:2: the document has more than 100000 nodes"},
		{"deep lists", nested(MaxDepth + 1),
			"bomb.yaml:2: location" + strings.Repeat("[0]", 17) + "...: nested more than 100 levels deep"},
		{"deep merge chain", mergeChain(MaxDepth + 1), "bomb.yaml:101: buildings[98]: nested more than 100 levels deep through aliases and merge keys"},
		{"long key aliased", longKey(10_000, 4), // a did-you-mean over 10^4 copies of it took 38 s
			"bomb.yaml:3: buildings[0]." + strings.Repeat("k", 60) + "...: unknown field (valid: name,"},
		{"too many bytes", "name: x\n" + strings.Repeat("#", MaxBytes), "bomb.yaml: the file is larger than 1048576 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse([]byte(c.data), "bomb.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse error = %.500v, want it to contain %q", err, c.want)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Errorf("error is %T, want Errors", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Parse took %v", d)
			}
		})
	}
}

// TestParseWithinBounds: documents at the limits get past the bounds to the walk and
// validation, and report there as usual.
func TestParseWithinBounds(t *testing.T) {
	for _, c := range []struct {
		name, data string
	}{
		{"laughs just under the node limit", laughs(4, 10, true)},
		{"nested to the depth limit", nested(MaxDepth - 1)},
		{"merge chain to the depth limit", mergeChain(MaxDepth - 3)},
		{"an alias used twice in one list", "name: x\nlocation: &l {city: x}\nbuildings: [{<<: [*l, *l]}]\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.data), "ok.yaml")
			if err == nil {
				t.Fatal("Parse succeeded; the documents are incomplete units")
			}
			for _, bound := range []string{"cycle", "alias bomb", "more than", "levels deep"} {
				if strings.Contains(err.Error(), bound) {
					t.Errorf("Parse error = %.500v, hit a bound", err)
				}
			}
		})
	}
}

// TestMergedErrorsOnce: a mapping merged twice into the same place has its problems
// reported once.
func TestMergedErrorsOnce(t *testing.T) {
	data := "name: x\nbuildings:\n  - &b {name: A, households: 1, colour: red}\n  - {<<: [*b, *b]}\n"
	_, err := Parse([]byte(data), "x.yaml")
	if err == nil {
		t.Fatal("Parse succeeded, want unknown field colour")
	}
	if got := strings.Count(err.Error(), "colour: unknown field"); got != 2 {
		t.Errorf("%d unknown-field errors, want 2 (buildings[0] and buildings[1]):\n%v", got, err)
	}
}

func TestLoadReadsAtMostMaxBytes(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := Load("/dev/zero"); err == nil || !strings.Contains(err.Error(), "/dev/zero: the file is larger than") {
			t.Errorf("Load(/dev/zero) error = %.200v, want the file is larger", err)
		}
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte("name: x\n"+strings.Repeat("#", 4*MaxBytes)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ": the file is larger than"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load error = %v, want it to contain %q", err, want)
	}
}

func TestShorten(t *testing.T) {
	long := strings.Repeat("a", 70)
	for in, want := range map[string]string{
		"grid.transformer_kva":          "grid.transformer_kva",
		"x" + strings.Repeat("[0]", 30): "x" + strings.Repeat("[0]", 19) + "...",
		long:                            long[:60] + "...",
		strings.Repeat("a", 59) + "é" + "bbbbbbbbb": strings.Repeat("a", 59) + "...",
	} {
		if got := shorten(in); got != want {
			t.Errorf("shorten(%q) = %q, want %q", in, got, want)
		}
	}
}
