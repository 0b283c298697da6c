package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/audit"
	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store/sqlite"
)

const origin = "test.local/audit"

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// fixture ingests three batches of ten meters into a fresh SQLite database.
func fixture(t *testing.T) (*sqlite.Store, note.Verifiers, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.db")
	st, err := sqlite.Open(path, sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sk, vk, _ := ledger.GenerateKey(origin)
	signer, _ := ledger.NewSigner(sk)
	v, _ := ledger.NewVerifier(vk)
	vs := note.VerifierList(v)
	if err := st.SaveKey(context.Background(), origin, sk, vk, t0); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(origin, st, 0, signer, nil, vs)
	if err != nil {
		t.Fatal(err)
	}
	p := ingest.NewPipeline(st, l, func() time.Time { return t0.Add(48 * time.Hour) }, nil)
	for b := range 3 {
		var rs []reading.Reading
		for i := range 40 {
			step := b*4 + i/10
			rs = append(rs, reading.Reading{Point: fmt.Sprintf("m%d/elec/active_energy", i%10),
				Time: t0.Add(time.Duration(step) * 15 * time.Minute), Value: 1000 + float64(step)*0.25 + float64(i%10), Unit: "kWh"})
		}
		ev := []reading.Event{{Kind: reading.GateIn, Source: "gate-1", Time: t0.Add(time.Duration(b) * time.Hour), Attrs: map[string]string{"lane": "2"}}}
		if _, err := p.Ingest(context.Background(), ingest.Input{Source: "test", Readings: rs, Events: ev}); err != nil {
			t.Fatal(err)
		}
	}
	return st, vs, vk
}

func verify(t *testing.T, src audit.Source, vs note.Verifiers) (*audit.Report, error) {
	t.Helper()
	return audit.Verify(context.Background(), src, origin, vs)
}

func TestVerifyUntouched(t *testing.T) {
	st, vs, _ := fixture(t)
	rep, err := verify(t, st, vs)
	if err != nil || !rep.OK || rep.Leaves != 3 || rep.Readings != 120 {
		t.Fatalf("report %+v, err %v", rep, err)
	}
}

// Each kind of tampering fails verification and names what changed.
func TestVerifyNamesTampering(t *testing.T) {
	target := "m3/elec/active_energy@2026-03-01T01:15:00Z"
	cases := []struct {
		name, sql, kind, reading string
	}{
		{"altered value", `UPDATE readings SET value = value + 0.001 WHERE point_id = (SELECT id FROM points WHERE name = 'm3/elec/active_energy') AND ts = %d`, "altered", target},
		{"deleted reading", `DELETE FROM readings WHERE point_id = (SELECT id FROM points WHERE name = 'm3/elec/active_energy') AND ts = %d`, "removed", target},
		{"inserted into a batch", `INSERT INTO readings(id, point_id, ts, value, unit, quality, batch) SELECT (1 << 24) | 999, id, %d + 1, 1, 'kWh', 0, 1 FROM points WHERE name = 'm3/elec/active_energy'`, "added", "m3/elec/active_energy@2026-03-01T01:15:00.000000001Z"},
		{"inserted outside the log", `INSERT INTO readings(id, point_id, ts, value, unit, quality, batch) SELECT 99999999999, id, %d + 2, 1, 'kWh', 0, -1 FROM points WHERE name = 'm3/elec/active_energy'`, "uncovered", "m3/elec/active_energy@2026-03-01T01:15:00.000000002Z"},
		{"changed unit", `UPDATE readings SET unit = 'MWh' WHERE point_id = (SELECT id FROM points WHERE name = 'm3/elec/active_energy') AND ts = %d`, "altered", target},
	}
	ts := t0.Add(5 * 15 * time.Minute).UnixNano()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, vs, _ := fixture(t)
			if _, err := st.DB().Exec(fmt.Sprintf(c.sql, ts)); err != nil {
				t.Fatal(err)
			}
			rep, err := verify(t, st, vs)
			if !errors.Is(err, audit.ErrFailed) || rep == nil || rep.OK {
				t.Fatalf("tampering not detected: %+v, %v", rep, err)
			}
			found := false
			for _, f := range rep.Findings {
				if f.Kind == c.kind && strings.HasPrefix(f.Reading, c.reading) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s finding naming %s in %v", c.kind, c.reading, rep.Findings)
			}
		})
	}
}

func TestVerifyLeafAndHashTampering(t *testing.T) {
	st, vs, _ := fixture(t)
	// Rewrite a leaf and its readings consistently: the root no longer matches the signature.
	if _, err := st.DB().Exec(`UPDATE batches SET leaf = CAST(replace(CAST(leaf AS TEXT), 'gate-1', 'gate-9') AS BLOB) WHERE idx = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`UPDATE events SET source = 'gate-9' WHERE batch = 1`); err != nil {
		t.Fatal(err)
	}
	rep, err := verify(t, st, vs)
	if err == nil || rep.OK {
		t.Fatal("a rewritten leaf passed")
	}
	var root, hash bool
	for _, f := range rep.Findings {
		root = root || f.Kind == "root"
		hash = hash || (f.Kind == "hash" && f.Leaf == 1)
	}
	if !root || !hash {
		t.Fatalf("want root and hash findings on leaf 1: %v", rep.Findings)
	}
}

func TestVerifyWrongKey(t *testing.T) {
	st, _, _ := fixture(t)
	_, vk, _ := ledger.GenerateKey(origin)
	v, _ := ledger.NewVerifier(vk)
	if _, err := verify(t, st, note.VerifierList(v)); err == nil {
		t.Fatal("a checkpoint verified under another key")
	}
}

func TestExportRoundTrip(t *testing.T) {
	st, vs, _ := fixture(t)
	dir := t.TempDir()
	n, err := audit.WriteExport(context.Background(), st, dir)
	if err != nil || n != 3 {
		t.Fatalf("export: %d leaves, %v", n, err)
	}
	ex, err := audit.OpenExport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := verify(t, ex, vs); err != nil || !rep.OK || rep.Readings != 120 {
		t.Fatalf("export verify: %+v, %v", rep, err)
	}
	// Alter one value in the exported CSV: verify names it.
	path := filepath.Join(dir, "readings.csv")
	b, _ := os.ReadFile(path)
	old := "m3/elec/active_energy,2026-03-01T01:15:00Z,1004.25,"
	if !strings.Contains(string(b), old) {
		t.Fatalf("export lacks %q", old)
	}
	os.WriteFile(path, []byte(strings.Replace(string(b), old, "m3/elec/active_energy,2026-03-01T01:15:00Z,1004.26,", 1)), 0o644)
	ex, err = audit.OpenExport(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify(t, ex, vs)
	if err == nil || len(rep.Findings) == 0 || !strings.HasPrefix(rep.Findings[0].Reading, "m3/elec/active_energy@2026-03-01T01:15:00Z") {
		t.Fatalf("tampered export: %+v, %v", rep, err)
	}
	// A broken export names the file and line.
	os.WriteFile(path, []byte("batch,seq,point,timestamp,value,unit,quality\n0,0,m1,2026-03-01T00:00:00Z,abc,kWh,good\n"), 0o644)
	if _, err := audit.OpenExport(dir); err == nil || !strings.Contains(err.Error(), "readings.csv:2") {
		t.Fatalf("broken export: %v", err)
	}
}
