package disclosure

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

// Household meters declared in the commissioning are never published, whatever they
// are called: names the old pattern missed (room101, unit-102, 101室) included.
func TestDeclaredHouseholdsNeverPublished(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "h.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sk, vk, _ := ledger.GenerateKey(testOrigin)
	if err := st.SaveKey(ctx, testOrigin, sk, vk, t0); err != nil {
		t.Fatal(err)
	}
	signer, _ := ledger.NewSigner(sk)
	ver, _ := ledger.NewVerifier(vk)
	l, err := ledger.New(testOrigin, st, 0, signer, nil, note.VerifierList(ver))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("point,timestamp,value,unit\n")
	houses := []string{"room101", "unit-102", "101室"}
	for i := range 24 {
		ts := t0.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
		for h, id := range houses {
			fmt.Fprintf(&b, "%s/elec/active_energy_import,%s,%.3f,kWh\n", id, ts, 100*float64(h+1)+0.4*float64(i))
		}
		fmt.Fprintf(&b, "grid-main/elec/active_energy_import,%s,%.2f,kWh\n", ts, 5000+12.5*float64(i))
	}
	p := ingest.NewPipeline(st, l, func() time.Time { return t0.Add(48 * time.Hour) }, nil)
	if err := ingest.ReadCSV(strings.NewReader(b.String()), "csv:h.csv", 100, func(in ingest.Input) error {
		_, err := p.Ingest(ctx, in)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	dir, pack := build(t, st, filepath.Join(t.TempDir(), "ledger.jsonl"), func(o *Options) { o.HouseholdMeters = houses })
	for _, f := range []string{PackFile, "report.html"} {
		body, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range houses {
			if strings.Contains(string(body), id) {
				t.Errorf("%s names the household meter %s", f, id)
			}
		}
		if !strings.Contains(string(body), "grid-main") {
			t.Errorf("%s lost the grid meter", f)
		}
	}
	var private bool
	for _, f := range pack.Figures {
		if pr := f.Privacy; pr != nil {
			private = true
			// Post-processing: never negative, never beyond every household at the bound.
			v, _ := parseDecimal(string(f.Value))
			if v.Sign() < 0 || v.Cmp(noisyValue(pr.Published[1], pr.Bounds.Unit)) > 0 || pr.ContributorCount != 3 || pr.Published[1] != 3*100_000 {
				t.Errorf("released %s kWh with clamp %v (%d contributors)", f.Value, pr.Published, pr.ContributorCount)
			}
			// The verification bound is stated in kWh with the noise's spread: ε = 0.5 on a
			// 100 kWh bound is a discrete Laplace of scale 200 kWh (σ ≈ 282.8 kWh).
			if pr.Tail.BoundKWh == "" || pr.Tail.StdDevKWh < 282 || pr.Tail.StdDevKWh > 284 {
				t.Errorf("tail stated as %+v", pr.Tail)
			}
		}
	}
	if !private {
		t.Fatal("no private household figure: the declared meters were not taken as households")
	}
	mustVerify(t, dir)
	// The declaration is signed: dropping a meter from it fails verify.
	edit(t, filepath.Join(dir, DataDir, HouseholdMetersFile), "room101\n", "")
	mustFail(t, dir, HouseholdMetersFile)
}
