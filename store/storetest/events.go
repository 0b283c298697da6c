package storetest

import (
	"testing"
	"time"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// testEvents: Events returns one kind's events from leaves and the raw path alike, in
// time order, with their attributes.
func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	var l testLog
	swap2 := reading.Event{Kind: reading.MeterReplaced, Source: "m2", Time: at(2 * time.Hour), Attrs: map[string]string{"new_initial": "0"}}
	swap1 := reading.Event{Kind: reading.MeterReplaced, Source: "m1", Time: at(time.Hour), Attrs: map[string]string{}}
	l.commit(t, s, &reading.Batch{Source: "a", Received: at(0), Events: []reading.Event{swap2,
		{Kind: reading.GateIn, Source: "g", Time: at(0), Attrs: map[string]string{}}}})
	commitRaw(t, s, &reading.Batch{Source: "b", Received: at(0), Events: []reading.Event{swap1}})
	got, err := s.Events(ctx, reading.MeterReplaced)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Source != "m1" || got[1].Source != "m2" || got[1].Attrs["new_initial"] != "0" || !got[0].Time.Equal(swap1.Time) {
		t.Fatalf("Events(meter_replaced) = %+v", got)
	}
	if none, err := s.Events(ctx, reading.GateOut); err != nil || len(none) != 0 {
		t.Fatalf("Events(gate_out) = %+v, %v", none, err)
	}
}
