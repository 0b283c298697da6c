package ocpp

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/audit"
	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store/sqlite"
)

// A charging session from a simulated charger over a real WebSocket ends up in the
// SQLite store and the ledger, and verifies.
func TestSessionIntoLedger(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "o.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sk, vk, _ := ledger.GenerateKey("test.local/ocpp")
	signer, _ := ledger.NewSigner(sk)
	v, _ := ledger.NewVerifier(vk)
	l, err := ledger.New("test.local/ocpp", st, 0, signer, nil, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	p := ingest.NewPipeline(st, l, func() time.Time { return t0.Add(2 * time.Hour) }, nil)
	cs := startCentralSystem(t, Config{}, p)
	cp := connectCharger(t, cs, "CP7")
	at := func(min int) *types.DateTime { return types.NewDateTime(t0.Add(time.Duration(min) * time.Minute)) }
	start, err := cp.StartTransaction(1, "TAG1", 1000, at(0))
	if err != nil {
		t.Fatal(err)
	}
	tx := start.TransactionId
	for i, wh := range []string{"1500", "2200", "1900"} { // the last goes backwards: quarantined
		mv := types.MeterValue{Timestamp: at(10 * (i + 1)), SampledValue: []types.SampledValue{{Value: wh, Measurand: types.MeasurandEnergyActiveImportRegister, Unit: types.UnitOfMeasureWh}}}
		if _, err := cp.MeterValues(1, []types.MeterValue{mv}, func(r *core.MeterValuesRequest) { r.TransactionId = &tx }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cp.StopTransaction(3600, at(40), tx); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rs, err := st.Range(ctx, "CP7/1/energy_active_import_register", t0, t0.Add(time.Hour))
	if err != nil || len(rs) != 2 || rs[1].Value != 2200 || rs[1].Unit != "Wh" {
		t.Fatalf("stored readings %+v, %v", rs, err)
	}
	q, _ := st.Quarantined(ctx, "open", 0)
	if len(q) != 1 {
		t.Fatalf("quarantine: %+v", q)
	}
	b, err := st.BatchReadings(ctx, 0)
	if err != nil || len(b.Events) != 1 || b.Events[0].Kind != reading.EVSessionStart {
		t.Fatalf("first leaf: %+v, %v", b, err)
	}
	if rep, err := audit.Verify(ctx, st, "test.local/ocpp", note.VerifierList(v)); err != nil || rep.Leaves < 4 {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}
