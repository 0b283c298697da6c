package audit_test

import (
	"bytes"
	"context"
	"encoding/base64"
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

// signedLog is a database whose signing key the test holds, with the
// checkpoint note signed after each batch.
type signedLog struct {
	st     *sqlite.Store
	signer note.Signer
	v      note.Verifier
	vs     note.Verifiers
	notes  [][]byte // notes[i] signs the tree of i+1 leaves
}

// newSignedLog ingests batches batches of four meters under a key derived
// from seed (deterministic, so exports are the same bytes every run); bias
// changes the values from batch forkAt on.
func newSignedLog(t testing.TB, origin string, seed byte, batches, forkAt int, bias float64) *signedLog {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "s.db"), sqlite.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sk, vk, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 64)), origin)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveKey(context.Background(), origin, sk, vk, t0); err != nil {
		t.Fatal(err)
	}
	signer, _ := ledger.NewSigner(sk)
	v, _ := ledger.NewVerifier(vk)
	l := &signedLog{st: st, signer: signer, v: v, vs: note.VerifierList(v)}
	lg, err := ledger.New(origin, st, 0, signer, nil, l.vs)
	if err != nil {
		t.Fatal(err)
	}
	p := ingest.NewPipeline(st, lg, func() time.Time { return t0.Add(48 * time.Hour) }, nil)
	for b := range batches {
		var rs []reading.Reading
		for m := range 4 {
			v := 1000 + float64(b)*0.25 + float64(m)
			if b >= forkAt {
				v += bias
			}
			rs = append(rs, reading.Reading{Point: fmt.Sprintf("m%d/elec/active_energy", m), Time: t0.Add(time.Duration(b) * 15 * time.Minute), Value: v, Unit: "kWh"})
		}
		if _, err := p.Ingest(context.Background(), ingest.Input{Source: "test", Readings: rs}); err != nil {
			t.Fatal(err)
		}
		_, n, err := st.LatestCheckpoint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		l.notes = append(l.notes, n)
	}
	return l
}

func (l *signedLog) export(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := audit.WriteExport(context.Background(), l.st, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpenExportErrors(t *testing.T) {
	l := newSignedLog(t, origin, 1, 3, 3, 0)
	dir := l.export(t)
	header := "batch,seq,point,timestamp,value,unit,quality\n"
	row := func(v string) string { return "0,0,m1/elec/active_energy,2026-03-01T00:00:00Z," + v + ",kWh,good\n" }
	cases := []struct {
		name, file, content, want string
	}{
		{"NaN", "readings.csv", header + row("NaN"), `readings.csv:2: column value: "NaN": not a finite number`},
		{"Inf", "readings.csv", header + row("1") + row("-Inf"), `readings.csv:3: column value: "-Inf": not a finite number`},
		{"huge", "readings.csv", header + row("1e309"), `readings.csv:2: column value: "1e309": out of the range of a float64`},
		{"not a number", "readings.csv", header + row("abc"), `readings.csv:2: column value: "abc": not a number`},
		{"missing column", "readings.csv", "batch,seq,point,timestamp,value,unit\n", `readings.csv:1: header "batch,seq,point,timestamp,value,unit", want "batch,seq,point,timestamp,value,unit,quality"`},
		{"short row", "readings.csv", header + "0,0,m1/elec/active_energy,2026-03-01T00:00:00Z\n", "readings.csv:2: 4 fields, want 7 (batch,seq,point,timestamp,value,unit,quality): missing value,unit,quality"},
		{"truncated quote", "readings.csv", header + row("1") + `0,1,"m1/elec`, "readings.csv:3: extraneous or missing \" in quoted-field (truncated or malformed CSV)"},
		{"bad UTF-8", "readings.csv", header + row("1") + "0,1,m\xff,2026-03-01T00:00:00Z,1,kWh,good\n", "readings.csv:3: invalid UTF-8"},
		{"empty", "readings.csv", "", "readings.csv: empty: want the header batch,seq,point,timestamp,value,unit,quality"},
		{"bad time", "batches.csv", "index,source,received\n0,test,yesterday\n", `batches.csv:2: column received: "yesterday": not an RFC 3339 time`},
		{"bad event batch", "events.csv", "batch,seq,kind,source,timestamp,attrs\n-1,0,gate_in,g,2026-03-01T00:00:00Z,\n", `events.csv:2: column batch: "-1": not a batch index`},
		{"bad leaf", "leaves.txt", "bGlm\n!!\n", "leaves.txt:2: not a base64 leaf"},
		{"bad hash", "hashes.txt", "AAAA\n", "hashes.txt:1: not a base64 SHA-256 hash (32 bytes)"},
		{"missing keys", "keys.txt", "", "keys.txt: missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(d, c.file)
			if c.name == "missing keys" {
				os.Remove(path)
			} else {
				os.WriteFile(path, []byte(c.content), 0o644)
			}
			_, err := audit.OpenExport(d)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	// A FIFO (or a symbolic link to /dev/zero) is refused, not read forever.
	d := t.TempDir()
	os.CopyFS(d, os.DirFS(dir))
	os.Remove(filepath.Join(d, "checkpoint"))
	os.Symlink("/dev/zero", filepath.Join(d, "checkpoint"))
	if _, err := audit.OpenExport(d); err == nil || !strings.Contains(err.Error(), "checkpoint: not a regular file") {
		t.Fatalf("symlinked checkpoint: %v", err)
	}
}

// A checkpoint may claim any size its signer likes; a leaf any count. Neither
// may size an allocation.
func TestVerifyCraftedSizes(t *testing.T) {
	l := newSignedLog(t, origin, 2, 3, 3, 0)
	dir := l.export(t)
	var root [32]byte
	body := fmt.Sprintf("%s\n%d\n%s\n", origin, int64(1)<<62, base64.StdEncoding.EncodeToString(root[:]))
	msg, err := note.Sign(&note.Note{Text: body}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "checkpoint"), msg, 0o644)
	leaf := base64.StdEncoding.EncodeToString([]byte("lifang-batch/1\nsource test\nreceived 2026-03-03T00:00:00Z\nreadings 999999999999999\n"))
	lf := filepath.Join(dir, "leaves.txt")
	b, _ := os.ReadFile(lf)
	os.WriteFile(lf, []byte(leaf+"\n"+strings.SplitN(string(b), "\n", 2)[1]), 0o644)
	ex, err := audit.OpenExport(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), ex, origin, l.vs)
	if !errors.Is(err, audit.ErrFailed) {
		t.Fatalf("err %v, want ErrFailed", err)
	}
	var removed, leafBad bool
	for _, f := range rep.Findings {
		removed = removed || f.Kind == "removed" && strings.Contains(f.Detail, "the checkpoint signs 4611686018427387904")
		leafBad = leafBad || f.Kind == "leaf" && f.Leaf == 0 && strings.Contains(f.Detail, "claims 999999999999999 readings")
	}
	if !removed || !leafBad {
		t.Fatalf("findings: %v", rep.Findings)
	}
}

func TestCheckTrusted(t *testing.T) {
	l := newSignedLog(t, origin, 3, 5, 5, 0)
	ex, err := audit.OpenExport(l.export(t))
	if err != nil {
		t.Fatal(err)
	}
	fork := newSignedLog(t, origin, 3, 5, 3, 0.5) // same key, other readings from batch 3
	other := newSignedLog(t, origin, 4, 5, 5, 0)  // same origin, another key
	elsewhere := newSignedLog(t, "elsewhere.local/unit", 5, 5, 5, 0)
	both := note.VerifierList(l.v, elsewhere.v)

	for _, c := range []struct {
		name    string
		trusted []byte
		vs      note.Verifiers
		want    error
		detail  string
	}{
		{"from size 1", l.notes[0], l.vs, nil, ""},
		{"from size 3", l.notes[2], l.vs, nil, ""},
		{"same tree", l.notes[4], l.vs, nil, ""},
		{"fork before the trusted size", fork.notes[4], l.vs, audit.ErrForked, "at tree size 5 the data's root is"},
		{"fork proved by consistency", fork.notes[3], l.vs, audit.ErrForked, "does not extend the trusted tree of 4"},
		{"another key", other.notes[4], l.vs, audit.ErrSwapped, "the trusted checkpoint is signed by " + origin},
		{"another origin", elsewhere.notes[4], both, audit.ErrSwapped, `the data's checkpoint is of log "test.local/audit", the trusted one of "elsewhere.local/unit"`},
		{"garbage", []byte("not a note"), l.vs, audit.ErrFailed, "malformed note"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := audit.CheckTrusted(context.Background(), ex, c.trusted, c.vs)
			if c.want == nil {
				if err != nil || tr.TreeSize != 5 || tr.Key == "" {
					t.Fatalf("trusted %+v, err %v", tr, err)
				}
				return
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.detail) {
				t.Fatalf("err %v, want %v naming %q", err, c.want, c.detail)
			}
		})
	}

	// Rolled back: the data is the log at 2 leaves, the auditor saw 5.
	small := newSignedLog(t, origin, 3, 2, 5, 0)
	sx, _ := audit.OpenExport(small.export(t))
	if _, err := audit.CheckTrusted(context.Background(), sx, l.notes[4], l.vs); !errors.Is(err, audit.ErrRolledBack) ||
		!strings.Contains(err.Error(), "the data's tree has 2 leaves") {
		t.Fatalf("rolled back: %v", err)
	}
}
