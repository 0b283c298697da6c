package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/auth"
	"github.com/lifang-community/lifang/store/sqlite"
)

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestTokenCreateListRevoke(t *testing.T) {
	db := filepath.Join(t.TempDir(), "new.db") // absent: create makes it
	code, stdout, stderr := runCLI(t, "token", "create", "--db", db, "--role", "operator", "--name", "scada gw")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	plain := lastLine(stdout)
	if !strings.HasPrefix(plain, "lf_") || len(plain) != 64 {
		t.Fatalf("last line %q is not a token; stdout:\n%s", plain, stdout)
	}
	first := strings.SplitN(stdout, "\n", 2)[0]
	if want := "created token " + plain[:11] + ` role=operator name="scada gw"`; first != want {
		t.Errorf("first line %q, want %q", first, want)
	}
	if strings.Contains(stderr, plain) {
		t.Error("token printed to stderr too")
	}

	// The printed token authenticates against the database, which also has the
	// readings schema.
	st, err := sqlite.Open(db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := auth.NewSQLStore(t.Context(), st.DB(), auth.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.Verify(t.Context(), s, plain)
	if err != nil || tok.Role != auth.Operator || tok.Name != "scada gw" {
		t.Fatalf("Verify = %+v, %v", tok, err)
	}
	st.Close()

	// list shows the token but never its secret or hash.
	for _, args := range [][]string{{"token", "list", "--db", db}, {"token", "list", "--db", db, "--json"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if !strings.Contains(out, tok.ID) || !strings.Contains(out, "operator") {
			t.Errorf("%v lacks the token:\n%s", args, out)
		}
		if strings.Contains(out, plain[12:]) || strings.Contains(out, tok.Hash) {
			t.Errorf("%v prints secret material:\n%s", args, out)
		}
	}
	_, out, _ := runCLI(t, "token", "list", "--db", db, "--json")
	var listed []map[string]any
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 1 || listed[0]["id"] != tok.ID {
		t.Errorf("list --json: %v, %s", err, out)
	}

	// revoke by the printed prefix; the token then fails.
	if code, out, errOut := runCLI(t, "token", "revoke", "--db", db, "--id", plain[:11]); code != 0 || out != "revoked token "+tok.ID+"\n" {
		t.Fatalf("revoke: exit %d: %q %s", code, out, errOut)
	}
	st, _ = sqlite.Open(db, sqlite.Options{})
	defer st.Close()
	s, _ = auth.NewSQLStore(t.Context(), st.DB(), auth.SQLite)
	if _, err := auth.Verify(t.Context(), s, plain); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("after revoke: %v", err)
	}
	if code, _, errOut := runCLI(t, "token", "revoke", "--db", db, "--id", "nosuchid"); code != exitFail || !strings.Contains(errOut, "no token with id") {
		t.Errorf("revoke unknown: exit %d: %s", code, errOut)
	}
}

func TestTokenUsageErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"token"}, "usage: lifang token"},
		{[]string{"token", "mint"}, `unknown subcommand "mint"`},
		{[]string{"token", "create", "--db", db, "--role", "root"}, `unknown role "root": valid roles are admin, operator, investor, auditor`},
		{[]string{"token", "create", "--db", db}, "--db and --role are required (roles: admin, operator, investor, auditor)"},
		{[]string{"token", "create", "--role", "admin"}, "--db and --role are required"},
		{[]string{"token", "create", "--db", db, "--role", "admin", "--name", "a\x01b"}, "control character"},
		{[]string{"token", "revoke", "--db", db}, "--id is required"},
		{[]string{"token", "list"}, "--db PATH"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
	// list and revoke do not create a database a typo named.
	if code, _, _ := runCLI(t, "token", "list", "--db", filepath.Join(dir, "typo.db")); code != exitFail {
		t.Errorf("list of a missing file: exit %d", code)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*")); len(matches) != 0 {
		t.Errorf("usage errors left files: %v", matches)
	}
}
