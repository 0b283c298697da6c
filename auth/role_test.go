package auth

import (
	"strings"
	"testing"
)

// TestGrantsMatrix spells out the whole policy, role by permission, independently of
// Grants: a change to Grants must change this table too.
func TestGrantsMatrix(t *testing.T) {
	//                      read:ops agg  fin  ledger ingest conf run export tokens
	matrix := map[Role][9]bool{
		Admin:    {true, true, true, true, true, true, true, true, true},
		Operator: {true, true, true, true, true, true, true, false, false},
		Investor: {false, true, true, false, false, false, false, false, false},
		Auditor:  {true, true, false, true, false, false, false, true, false},
	}
	cols := [9]Permission{ReadOperations, ReadAggregates, ReadFinance, ReadLedger, Ingest, Configure, Run, Export, AdminTokens}
	if len(Permissions()) != len(cols) {
		t.Fatalf("%d permissions defined, the matrix has %d columns", len(Permissions()), len(cols))
	}
	if len(Roles()) != len(matrix) {
		t.Fatalf("%d roles defined, the matrix has %d rows", len(Roles()), len(matrix))
	}
	for _, r := range Roles() {
		row, ok := matrix[r]
		if !ok {
			t.Errorf("role %s has no row in the matrix", r)
			continue
		}
		for i, p := range cols {
			if got := r.Can(p); got != row[i] {
				t.Errorf("%s.Can(%s) = %v, want %v", r, p, got, row[i])
			}
		}
	}
}

func TestAdminHasEveryPermission(t *testing.T) {
	for _, p := range Permissions() {
		if !Admin.Can(p) {
			t.Errorf("admin lacks %s", p)
		}
	}
}

func TestDenyByDefault(t *testing.T) {
	for _, r := range []Role{"", "root", "Admin", "ADMIN", " admin"} {
		for _, p := range Permissions() {
			if r.Can(p) {
				t.Errorf("unknown role %q can %s", r, p)
			}
		}
	}
	for _, p := range []Permission{"", "read:public", "read:*", "*", "Ingest", "admin"} {
		for _, r := range Roles() {
			if r.Can(p) {
				t.Errorf("%s can unknown permission %q", r, p)
			}
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles() {
		got, err := ParseRole(string(r))
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "root", "Admin", "operator "} {
		_, err := ParseRole(s)
		if err == nil {
			t.Errorf("ParseRole(%q) succeeded", s)
			continue
		}
		if want := "valid roles are admin, operator, investor, auditor"; !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRole(%q) error %q lacks %q", s, err, want)
		}
	}
}
