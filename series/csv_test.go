package series

import (
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	tab, err := ReadCSV(strings.NewReader("timestamp,a,b\n2025-01-01T00:00,1,2.5\n2025-01-01T01:00,3,4\n"), "x.csv", "timestamp")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := tab.Column("a")
	if tab.Rows() != 2 || a[1] != 3 || len(tab.Times) != 2 {
		t.Fatalf("got %+v", tab)
	}
	if _, err := tab.Column("c"); err == nil || !strings.Contains(err.Error(), "x.csv") {
		t.Fatalf("missing column: %v", err)
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, c := range []struct{ in, time, want string }{
		{"", "", "x.csv: empty file"},
		{"a,b\n1,2\n3,zz\n", "", `x.csv:3: column "b": "zz" is not a number`},
		{"a,b\n1,NaN\n", "", `x.csv:2: column "b"`},
		{"a,a\n1,2\n", "", `x.csv:1: column "a" appears twice`},
		{"a,b\n1,2\n", "t", `x.csv:1: no time column "t"`},
		{"a,b\n", "", "x.csv: no data rows"},
		{"a,b\n1,2,3\n", "", "x.csv:2:"},
	} {
		_, err := ReadCSV(strings.NewReader(c.in), "x.csv", c.time)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}
