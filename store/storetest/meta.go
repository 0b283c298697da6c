package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lifang-community/lifang/store"
)

func testQuarantine(t *testing.T, s store.Store) {
	ctx := t.Context()
	items := []store.Rejected{
		{Source: "csv:meters.csv", Received: time.Date(2024, 3, 1, 8, 0, 0, 1, cst), Raw: "meter/1,2024-03-01T00:00:00Z,abc,kWh", Reason: "value \"abc\" is not a number"},
		{Source: "mqtt:lifang/site1", Received: at(time.Minute), Raw: "{\"point\":\"楼A\",\n\"value\":1}", Reason: "unit missing"},
		{Source: "ocpp:CP1", Received: at(2 * time.Minute), Raw: "", Reason: "empty payload"},
	}
	ids, err := s.Quarantine(ctx, items)
	if err != nil {
		t.Fatalf("Quarantine: %v", err)
	}
	if len(ids) != len(items) {
		t.Fatalf("Quarantine gave %d ids for %d items", len(ids), len(items))
	}
	more, err := s.Quarantine(ctx, []store.Rejected{{Source: "csv:b", Received: at(time.Hour), Raw: "x", Reason: "bad"}})
	if err != nil || len(more) != 1 {
		t.Fatalf("Quarantine(one more) = %v, %v", more, err)
	}
	ids = append(ids, more...)
	items = append(items, store.Rejected{Source: "csv:b", Received: at(time.Hour), Raw: "x", Reason: "bad"})
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids %v do not increase", ids)
		}
	}
	want := func(i int, status string) store.Rejected {
		r := items[i]
		r.ID, r.Status = ids[i], status
		return r
	}
	if err := s.SetQuarantineStatus(ctx, ids[1], "replayed"); err != nil {
		t.Fatalf("SetQuarantineStatus(replayed): %v", err)
	}
	if err := s.SetQuarantineStatus(ctx, ids[2], "dismissed"); err != nil {
		t.Fatalf("SetQuarantineStatus(dismissed): %v", err)
	}
	err = s.SetQuarantineStatus(ctx, ids[3]+100, "dismissed")
	wantErr(t, "SetQuarantineStatus(unknown id)", err, store.ErrNotFound)
	for _, tc := range []struct {
		status string
		limit  int
		want   []store.Rejected
	}{
		{"", 10, []store.Rejected{want(0, "open"), want(1, "replayed"), want(2, "dismissed"), want(3, "open")}},
		{"", 2, []store.Rejected{want(0, "open"), want(1, "replayed")}},
		{"open", 10, []store.Rejected{want(0, "open"), want(3, "open")}},
		{"open", 1, []store.Rejected{want(0, "open")}},
		{"replayed", 10, []store.Rejected{want(1, "replayed")}},
		{"dismissed", 10, []store.Rejected{want(2, "dismissed")}},
	} {
		t.Run(fmt.Sprintf("status=%q,limit=%d", tc.status, tc.limit), func(t *testing.T) {
			got, err := s.Quarantined(ctx, tc.status, tc.limit)
			if err != nil {
				t.Fatalf("Quarantined: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Quarantined = %+v, want %+v", got, tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.ID != w.ID || g.Source != w.Source || !g.Received.Equal(w.Received) || g.Raw != w.Raw ||
					g.Reason != w.Reason || g.Status != w.Status {
					t.Errorf("entry %d = %+v, want %+v", i, g, w)
				}
				checkUTC(t, fmt.Sprintf("entry %d", i), g.Received)
			}
		})
	}
}

func testCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	note := func(size int64, sig string) []byte {
		return fmt.Appendf(nil, "lifang.example/log\n%d\nAAAA=\n\n— lifang %s\n", size, sig)
	}
	for _, tc := range []struct {
		name     string
		size     int64
		note     []byte
		wantSize int64
		wantNote []byte
	}{
		{"first", 1, note(1, "a"), 1, note(1, "a")},
		{"larger", 3, note(3, "a"), 3, note(3, "a")},
		{"smaller saved later", 2, note(2, "a"), 3, note(3, "a")},
		{"same size saved again", 3, note(3, "b"), 3, note(3, "b")},
		{"much larger", 1 << 40, note(1<<40, "a"), 1 << 40, note(1<<40, "a")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.SaveCheckpoint(ctx, tc.size, tc.note); err != nil {
				t.Fatalf("SaveCheckpoint: %v", err)
			}
			size, n, err := s.LatestCheckpoint(ctx)
			if err != nil {
				t.Fatalf("LatestCheckpoint: %v", err)
			}
			if size != tc.wantSize || !bytes.Equal(n, tc.wantNote) {
				t.Errorf("LatestCheckpoint = %d, %q; want %d, %q", size, n, tc.wantSize, tc.wantNote)
			}
		})
	}
}

func testKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	type key struct {
		name    string
		created time.Time
	}
	saved := []key{{"lifang.example+1", at(0)}, {"lifang.example+3", at(2 * time.Hour).In(cst)}, {"lifang.example+2", at(time.Hour)}}
	for i, k := range saved {
		if err := s.SaveKey(ctx, k.name, "PRIVATE+KEY+"+k.name, k.name+"+vkey", k.created); err != nil {
			t.Fatalf("SaveKey %d: %v", i, err)
		}
	}
	skeys, vkeys, err := s.Keys(ctx)
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	order := []string{"lifang.example+3", "lifang.example+2", "lifang.example+1"}
	var wantS, wantV []string
	for _, n := range order {
		wantS, wantV = append(wantS, "PRIVATE+KEY+"+n), append(wantV, n+"+vkey")
	}
	if !slices.Equal(skeys, wantS) || !slices.Equal(vkeys, wantV) {
		t.Errorf("Keys = %q, %q; want newest first %q, %q", skeys, vkeys, wantS, wantV)
	}
}
