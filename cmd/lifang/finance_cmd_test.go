package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The 京保REIT (508068) H1-2023 figures from shared/data/finance/creit_cases.md.
var jingbaoBridgeArgs = []string{"finance", "bridge", "--net-profit", "15503130.26", "--da", "11747711.58", "--interest", "0", "--income-tax", "-1071810.17"}

func TestFinanceBridgeJingbao(t *testing.T) {
	code, stdout, stderr := runCLI(t, append(jingbaoBridgeArgs, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var b struct {
		EBITDA        json.Number `json:"ebitda"`
		Distributable json.Number `json:"distributable_amount"`
		Adjustments   []struct {
			Name   string      `json:"name"`
			Amount json.Number `json:"amount"`
		} `json:"adjustments"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	if b.EBITDA != "26179031.67" || b.Distributable != "26179031.67" {
		t.Fatalf("ebitda %s, distributable %s; want 26179031.67", b.EBITDA, b.Distributable)
	}

	code, stdout, stderr = runCLI(t, append(jingbaoBridgeArgs, "--adjust", "capex=-1000000", "--adjust", "reserves=-179031.67")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"26179031.67", "capex", "-1000000.00", "25000000.00"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

func TestFinanceBridgeUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{append(jingbaoBridgeArgs, "--adjust", "capx=5"), `unknown adjustment "capx": want one of capex`},
		{[]string{"finance", "bridge", "--net-profit", "1", "--da", "2"}, "missing --interest, --income-tax"},
		{[]string{"finance", "bridge", "--net-profit", "abc", "--da", "2", "--interest", "0", "--income-tax", "0"}, `--net-profit: "abc" is not a decimal amount`},
		{[]string{"finance", "nope"}, `unknown finance command "nope": want one of bridge`},
		{[]string{"finance"}, "usage: lifang finance ("},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", tt.args, code, stderr, exitUsage, tt.want)
		}
	}
}

func writeFlows(t *testing.T, csv string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flows.csv")
	if err := os.WriteFile(p, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFinanceXIRR(t *testing.T) {
	p := writeFlows(t, "date,amount\n2023-02-10,-500000\n2023-09-01,20000\n2024-03-15,21000\n2024-12-31,22500\n2025-08-20,23000\n2026-06-30,540000\n")
	code, stdout, stderr := runCLI(t, "finance", "xirr", "--in", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		XIRR        float64
		Flows       int
		First, Last string
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	// Reference: bisection in the finance package's tests gives 0.0750713490.
	if math.Abs(got.XIRR-0.0750713490) > 1e-6 || got.Flows != 6 || got.First != "2023-02-10" || got.Last != "2026-06-30" {
		t.Fatalf("got %+v", got)
	}

	old := financeStdin
	defer func() { financeStdin = old }()
	financeStdin = strings.NewReader("date,amount\n2023-02-10,-500000\n2023-09-01,20000\n2024-03-15,21000\n2024-12-31,22500\n2025-08-20,23000\n2026-06-30,540000\n")
	if code, stdout2, stderr := runCLI(t, "finance", "xirr"); code != 0 || stdout2 != stdout {
		t.Fatalf("from stdin: exit %d, %s %s", code, stdout2, stderr)
	}
}

func TestFinanceXIRRFailures(t *testing.T) {
	tests := []struct{ csv, want string }{
		{"date,amount\n2023-01-01,100\n2024-01-01,110\n", "cash flows have no sign change: an IRR does not exist"},
		{"date,amount\n2023-01-01,-100\n2023-13-01,110\n", `line 3: date "2023-13-01": not an ISO date (YYYY-MM-DD)`},
		{"date,amount\n2023-01-01,-100\n2023-02-01,abc\n", `line 3: amount "abc": not a number`},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, "finance", "xirr", "--in", writeFlows(t, tt.csv))
		if code != exitFail || !strings.Contains(stderr, tt.want) {
			t.Errorf("exit %d, stderr %q; want exit %d with %q", code, stderr, exitFail, tt.want)
		}
	}
}
