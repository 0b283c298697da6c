package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFinanceRun runs the example deal through the CLI and checks result.json's contract.
func TestFinanceRun(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "finance", "run", "--deal", "../../finance/testdata/deals/community.json", "--paths", "200", "--seed", "3", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	need := map[string][]string{
		"valuation": {"npv", "nav", "irr"},
		"creit":     {"distributable_amount", "distribution_rate", "assets_to_net_assets", "checks"},
		"risk":      {"cfar95", "p_dscr_breach", "distribution_rate_p5", "distribution_rate_p50", "distribution_rate_p95"},
	}
	for block, keys := range need {
		m, ok := r[block].(map[string]any)
		if !ok {
			t.Fatalf("no %s block", block)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s.%s missing", block, k)
			}
		}
	}
	rows := r["projection"].([]any)
	for _, k := range []string{"revenue", "opex", "ebitda", "capex", "debt_service", "distributable", "distribution", "dscr"} {
		if _, ok := rows[0].(map[string]any)[k]; !ok {
			t.Errorf("projection row lacks %s", k)
		}
	}
	for _, tr := range r["tranches"].([]any) {
		for _, k := range []string{"name", "wal_years", "irr", "pd", "el"} {
			if _, ok := tr.(map[string]any)[k]; !ok {
				t.Errorf("tranche lacks %s", k)
			}
		}
	}
	if !strings.Contains(stdout, "CFaR95") {
		t.Errorf("no headline: %s", stdout)
	}
}

func TestFinanceRunBadDeal(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n \"name\": \"x\",\n \"months\": 12,\n \"cash_flows\": [1,2],\n \"tranches\": [{\"name\": \"A\", \"balance\": -1}],\n \"waterfall\": [{\"pay\": \"equity\"}]\n}\n"), 0o644)
	code, _, stderr := runCLI(t, "finance", "run", "--deal", bad, "--out", dir)
	if code != exitFail || !strings.Contains(stderr, "bad.json") || !strings.Contains(stderr, "tranches[0].balance: -1.00 must not be negative") ||
		!strings.Contains(stderr, "cash_flows: 2 months given, months is 12") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "finance", "run", "--deal", bad)
	if code != exitUsage {
		t.Fatalf("missing --out: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "result.json")); err == nil {
		t.Fatal("a bad deal wrote a result")
	}
}

func TestBenchFinance(t *testing.T) {
	code, stdout, stderr := runCLI(t, "bench", "finance", "--paths", "200", "--months", "120", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var m map[string]float64
	dec := json.NewDecoder(strings.NewReader(stdout))
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	m = map[string]float64{}
	for k, v := range raw {
		if f, ok := v.(float64); ok {
			m[k] = f
		}
	}
	if m["paths"] != 200 || m["months"] != 120 || m["paths_per_second"] <= 0 || m["seconds"] <= 0 {
		t.Fatalf("bench output %s", stdout)
	}
}

// TestFinanceDealRoundTrip: the demo's operated year written as a deal file runs.
func TestFinanceDealRoundTrip(t *testing.T) {
	dir := t.TempDir()
	deal := filepath.Join(dir, "deal.json")
	code, _, stderr := runCLI(t, "finance", "deal", "--policy", "rule_based", "--out", deal, "--quiet")
	if code != 0 {
		t.Fatalf("deal: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "finance", "run", "--deal", deal, "--paths", "100", "--out", dir, "--quiet")
	if code != 0 || !strings.Contains(stdout, "distribution") {
		t.Fatalf("run: exit %d: %s %s", code, stdout, stderr)
	}
	if code, _, _ := runCLI(t, "finance", "deal", "--policy", "nope", "--out", deal); code != exitUsage {
		t.Fatalf("bad policy: exit %d", code)
	}
}
