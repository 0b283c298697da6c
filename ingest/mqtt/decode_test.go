package mqtt

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
)

const (
	batchTopic  = "lifang/u1/readings"
	pointTopic  = "lifang/u1/readings/bldg1/elec/active_energy"
	eventsTopic = "lifang/u1/events"
)

var t0 = time.Date(2024, 5, 1, 4, 0, 0, 0, time.UTC) // 2024-05-01T12:00:00+08:00

type decodeCase struct {
	name    string
	topic   string
	payload string
	max     int
	// readings and events expected; rejects are substrings expected in the reasons
	// (one per rejection, in order), with the Raw each must have ("" = the payload).
	readings []reading.Reading
	raw      []string
	events   []reading.Event
	rejects  []string
	rejRaw   []string
}

var decodeCases = []decodeCase{
	{
		name:  "batch",
		topic: batchTopic,
		payload: `{"readings":[
			{"point":"bldg1/elec/active_energy","timestamp":"2024-05-01T12:00:00+08:00","value":1.5,"unit":"kWh","quality":"good"},
			{"point":"bldg1/elec/power","timestamp":"2024-05-01T04:00:00.25Z","value":-3e2,"unit":" kW ","quality":"estimated"},
			{"point":"pv","timestamp":"2024-05-01T04:00:00Z","value":0,"unit":"furlongs"}]}`,
		readings: []reading.Reading{
			{Point: "bldg1/elec/active_energy", Time: t0, Value: 1.5, Unit: "kWh"},
			{Point: "bldg1/elec/power", Time: t0.Add(250 * time.Millisecond), Value: -300, Unit: "kW", Quality: reading.Estimated},
			{Point: "pv", Time: t0, Value: 0, Unit: "furlongs"}, // units are the pipeline's business
		},
		raw: []string{
			`{"point":"bldg1/elec/active_energy","timestamp":"2024-05-01T12:00:00+08:00","value":1.5,"unit":"kWh","quality":"good"}`,
			`{"point":"bldg1/elec/power","timestamp":"2024-05-01T04:00:00.25Z","value":-3e2,"unit":" kW ","quality":"estimated"}`,
			`{"point":"pv","timestamp":"2024-05-01T04:00:00Z","value":0,"unit":"furlongs"}`,
		},
	},
	{name: "empty batch", topic: batchTopic, payload: `{"readings":[]}`},
	{
		name:     "single reading",
		topic:    pointTopic,
		payload:  `{"timestamp":"2024-05-01T12:00:00+08:00","value":42,"unit":"kWh"}`,
		readings: []reading.Reading{{Point: "bldg1/elec/active_energy", Time: t0, Value: 42, Unit: "kWh"}},
		raw:      []string{`{"timestamp":"2024-05-01T12:00:00+08:00","value":42,"unit":"kWh"}`},
	},
	{
		name:     "single reading with quality",
		topic:    "lifang/u1/readings/meter",
		payload:  `{"quality":"substituted","unit":"m3","value":7.25,"timestamp":"2024-05-01T04:00:00Z"}`,
		readings: []reading.Reading{{Point: "meter", Time: t0, Value: 7.25, Unit: "m3", Quality: reading.Substituted}},
		raw:      []string{`{"quality":"substituted","unit":"m3","value":7.25,"timestamp":"2024-05-01T04:00:00Z"}`},
	},
	{
		name:    "events",
		topic:   eventsTopic,
		payload: `{"events":[{"kind":"gate_in","source":"gate-1","timestamp":"2024-05-01T04:00:00Z","attrs":{"plate_hash":"9f86d081"}},{"kind":"ev_session_stop","source":"CP1/1","timestamp":"2024-05-01T12:00:00+08:00"}]}`,
		events: []reading.Event{
			{Kind: reading.GateIn, Source: "gate-1", Time: t0, Attrs: map[string]string{"plate_hash": "9f86d081"}},
			{Kind: reading.EVSessionStop, Source: "CP1/1", Time: t0, Attrs: map[string]string{}},
		},
	},

	// Whole payloads refused.
	{name: "malformed JSON", topic: batchTopic, payload: `{"readings":[{"point":"a",}]}`, rejects: []string{"malformed JSON: invalid character '}'"}},
	{name: "not JSON", topic: pointTopic, payload: `hello`, rejects: []string{"malformed JSON"}},
	{name: "empty payload", topic: pointTopic, payload: ``, rejects: []string{"malformed JSON: unexpected end of JSON input"}},
	{name: "trailing data", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"} {}`, rejects: []string{"malformed JSON"}},
	{name: "not an object", topic: batchTopic, payload: `[1,2]`, rejects: []string{"want an object, got an array"}},
	{name: "unknown top-level field", topic: batchTopic, payload: `{"readings":[],"unit":"u1"}`, rejects: []string{`unknown field "unit" (want only "readings")`}},
	{name: "missing readings", topic: batchTopic, payload: `{}`, rejects: []string{`missing field "readings"`}},
	{name: "readings not an array", topic: batchTopic, payload: `{"readings":{"point":"a"}}`, rejects: []string{`field "readings": want an array, got an object`}},
	{name: "duplicate top-level field", topic: batchTopic, payload: `{"readings":[],"readings":[]}`, rejects: []string{`field "readings" appears more than once`}},
	{name: "events on the batch topic", topic: batchTopic, payload: `{"events":[]}`, rejects: []string{`unknown field "events"`}},
	{name: "unknown field", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh","colour":"red"}`, rejects: []string{`unknown field "colour" (want timestamp, value, unit, quality)`}},
	{name: "point on a single-reading topic", topic: pointTopic, payload: `{"point":"x","timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"}`, rejects: []string{`unknown field "point"`}},
	{name: "missing value", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","unit":"kWh"}`, rejects: []string{`missing field "value"`}},
	{name: "missing everything", topic: pointTopic, payload: `{}`, rejects: []string{`missing field "timestamp"; missing field "value"; missing field "unit"`}},
	{name: "string value", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":"1.5","unit":"kWh"}`, rejects: []string{`field "value": want a number, got a string`}},
	{name: "null value", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":null,"unit":"kWh"}`, rejects: []string{`field "value": want a number, got null`}},
	{name: "NaN via huge exponent", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":1e999,"unit":"kWh"}`, rejects: []string{`field "value": 1e999 is not a finite float64`}},
	{name: "negative overflow", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":-2e308,"unit":"kWh"}`, rejects: []string{`-2e308 is not a finite float64`}},
	{name: "bad timestamp", topic: pointTopic, payload: `{"timestamp":"2024-05-01 12:00:00","value":1,"unit":"kWh"}`, rejects: []string{`field "timestamp": "2024-05-01 12:00:00" is not an RFC 3339 time`}},
	{name: "timestamp without zone", topic: pointTopic, payload: `{"timestamp":"2024-05-01T12:00:00","value":1,"unit":"kWh"}`, rejects: []string{`is not an RFC 3339 time`}},
	{name: "numeric timestamp", topic: pointTopic, payload: `{"timestamp":1714536000,"value":1,"unit":"kWh"}`, rejects: []string{`field "timestamp": want a string, got a number`}},
	{name: "unit not a string", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":1,"unit":5}`, rejects: []string{`field "unit": want a string, got a number`}},
	{name: "bad quality", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh","quality":"meh"}`, rejects: []string{`field "quality": quality "meh"`}},
	{name: "duplicate field", topic: pointTopic, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":1,"value":2,"unit":"kWh"}`, rejects: []string{`field "value" appears more than once`}},
	{name: "too large", topic: pointTopic, max: 64, payload: `{"timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh","pad":"` + strings.Repeat("x", 100) + `"}`,
		rejects: []string{"payload of 168 bytes is over the limit of 64 bytes"}},
	{name: "not UTF-8", topic: pointTopic, payload: "{\"timestamp\":\"2024-05-01T04:00:00Z\",\"value\":1,\"unit\":\"k\xffWh\"}",
		rejects: []string{"payload is not UTF-8 text"}, rejRaw: []string{"{\"timestamp\":\"2024-05-01T04:00:00Z\",\"value\":1,\"unit\":\"k\uFFFDWh\"}"}},
	{name: "NUL byte", topic: pointTopic, payload: "{\"timestamp\":\"2024-05-01T04:00:00Z\",\"value\":1,\"unit\":\"kWh\"}\x00",
		rejects: []string{"invalid or NUL bytes"}, rejRaw: []string{"{\"timestamp\":\"2024-05-01T04:00:00Z\",\"value\":1,\"unit\":\"kWh\"}\uFFFD"}},
	{name: "unknown topic", topic: "lifang/u1/status", payload: `{}`, rejects: []string{`topic "lifang/u1/status" is not a lifang topic`}},
	{name: "empty point", topic: "lifang/u1/readings/", payload: `{}`, rejects: []string{"has an empty point"}},
	{name: "empty unit", topic: "lifang//readings", payload: `{"readings":[]}`, rejects: []string{"has an empty unit"}},
	{name: "events sub-topic", topic: "lifang/u1/events/gate-1", payload: `{}`, rejects: []string{"is not a lifang topic"}},

	// Bad elements of a batch: the good ones go through.
	{
		name:  "batch with one bad element",
		topic: batchTopic,
		payload: `{"readings":[{"point":"a","timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"},
			{"point":"b","timestamp":"2024-05-01T04:00:00Z","value":"2","unit":"kWh"},
			{"point":"c","timestamp":"2024-05-01T04:00:00Z","value":3,"unit":"kWh"}]}`,
		readings: []reading.Reading{
			{Point: "a", Time: t0, Value: 1, Unit: "kWh"},
			{Point: "c", Time: t0, Value: 3, Unit: "kWh"},
		},
		raw: []string{
			`{"point":"a","timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"}`,
			`{"point":"c","timestamp":"2024-05-01T04:00:00Z","value":3,"unit":"kWh"}`,
		},
		rejects: []string{`readings[1]: field "value": want a number, got a string`},
		rejRaw:  []string{`{"point":"b","timestamp":"2024-05-01T04:00:00Z","value":"2","unit":"kWh"}`},
	},
	{
		name:     "batch with every kind of bad element",
		topic:    batchTopic,
		payload:  `{"readings":[7,{"point":"a","timestamp":"2024-05-01T04:00:00Z","value":1e400,"unit":"kWh"},{"point":"b","timestamp":"yesterday","value":1,"unit":"kWh","x":1},{"point":"c","timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"},{"point":1,"value":1}]}`,
		readings: []reading.Reading{{Point: "c", Time: t0, Value: 1, Unit: "kWh"}},
		raw:      []string{`{"point":"c","timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"}`},
		rejects: []string{
			`readings[0]: want an object, got a number`,
			`readings[1]: field "value": 1e400 is not a finite float64`,
			`readings[2]: field "timestamp": "yesterday" is not an RFC 3339 time (like 2024-05-01T12:00:00+08:00); unknown field "x"`,
			`readings[4]: field "point": want a string, got a number; missing field "timestamp"; missing field "unit"`,
		},
		rejRaw: []string{`7`, `{"point":"a","timestamp":"2024-05-01T04:00:00Z","value":1e400,"unit":"kWh"}`, `{"point":"b","timestamp":"yesterday","value":1,"unit":"kWh","x":1}`, `{"point":1,"value":1}`},
	},
	{
		name:    "events with bad elements",
		topic:   eventsTopic,
		payload: `{"events":[{"kind":"gate_out","source":"gate-2","timestamp":"2024-05-01T04:00:00Z","attrs":{}},{"kind":"gate_in","source":"gate-1","timestamp":"2024-05-01T04:00:00Z","attrs":{"n":1}},{"kind":"gate_in","timestamp":"2024-05-01T04:00:00Z"},{"kind":"gate_in","source":"g","timestamp":"2024-05-01T04:00:00Z","attrs":{"a":"1","a":"2"}}]}`,
		events:  []reading.Event{{Kind: reading.GateOut, Source: "gate-2", Time: t0, Attrs: map[string]string{}}},
		rejects: []string{
			`events[1]: field "attrs": "n": want a string, got a number`,
			`events[2]: missing field "source"`,
			`events[3]: field "attrs": field "a" appears more than once`,
		},
		rejRaw: []string{
			`{"kind":"gate_in","source":"gate-1","timestamp":"2024-05-01T04:00:00Z","attrs":{"n":1}}`,
			`{"kind":"gate_in","timestamp":"2024-05-01T04:00:00Z"}`,
			`{"kind":"gate_in","source":"g","timestamp":"2024-05-01T04:00:00Z","attrs":{"a":"1","a":"2"}}`,
		},
	},
}

func TestDecode(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			in := Decode(c.topic, []byte(c.payload), c.max)
			if want := "mqtt:" + c.topic; in.Source != want {
				t.Errorf("source %q, want %q", in.Source, want)
			}
			if !reflect.DeepEqual(in.Readings, c.readings) {
				t.Errorf("readings\n got %+v\nwant %+v", in.Readings, c.readings)
			}
			if !reflect.DeepEqual(in.Raw, c.raw) {
				t.Errorf("raw\n got %q\nwant %q", in.Raw, c.raw)
			}
			if !reflect.DeepEqual(in.Events, c.events) {
				t.Errorf("events\n got %+v\nwant %+v", in.Events, c.events)
			}
			if len(in.Rejected) != len(c.rejects) {
				t.Fatalf("%d rejected, want %d: %+v", len(in.Rejected), len(c.rejects), in.Rejected)
			}
			for i, r := range in.Rejected {
				if !strings.Contains(r.Reason, c.rejects[i]) {
					t.Errorf("rejected[%d] reason %q, want it to contain %q", i, r.Reason, c.rejects[i])
				}
				if r.Source != "mqtt:"+c.topic {
					t.Errorf("rejected[%d] source %q", i, r.Source)
				}
				want := c.payload
				if i < len(c.rejRaw) {
					want = c.rejRaw[i]
				}
				if c.max > 0 && len(c.payload) > c.max {
					want = c.payload[:min(len(c.payload), rawCut)]
				}
				if r.Raw != want {
					t.Errorf("rejected[%d] raw %q, want %q", i, r.Raw, want)
				}
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	// An oversized payload keeps only its first 4 KiB, cut on a character boundary.
	big := append([]byte(`{"xy":"`), bytes.Repeat([]byte("é"), 3000)...) // 7 + 6000 bytes: the cut falls inside an é
	in := Decode(pointTopic, big, 5000)
	if len(in.Rejected) != 1 {
		t.Fatalf("%+v", in.Rejected)
	}
	if !strings.Contains(in.Rejected[0].Reason, "payload of 6007 bytes is over the limit of 5000 bytes (raw keeps its first 4096 bytes)") {
		t.Errorf("reason %q", in.Rejected[0].Reason)
	}
	if raw := in.Rejected[0].Raw; len(raw) != rawCut-1 || !utf8.ValidString(raw) || !strings.HasPrefix(string(big), raw) {
		t.Errorf("raw of %d bytes, valid %v", len(raw), utf8.ValidString(raw))
	}

	// More than ingest.MaxBatch elements is refused whole; exactly MaxBatch is fine.
	batch := func(n int) []byte {
		el := `{"point":"p","timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"}`
		return []byte(`{"readings":[` + strings.TrimSuffix(strings.Repeat(el+",", n), ",") + `]}`)
	}
	in = Decode(batchTopic, batch(ingest.MaxBatch+1), 64<<20)
	if len(in.Readings) != 0 || len(in.Rejected) != 1 || !strings.Contains(in.Rejected[0].Reason, "50001 elements, at most 50000") {
		t.Errorf("MaxBatch+1: %d readings, rejected %+v", len(in.Readings), reasons(in))
	}
	in = Decode(batchTopic, batch(ingest.MaxBatch), 64<<20)
	if len(in.Readings) != ingest.MaxBatch || len(in.Rejected) != 0 {
		t.Errorf("MaxBatch: %d readings, rejected %v", len(in.Readings), reasons(in))
	}
}

func reasons(in ingest.Input) []string {
	var out []string
	for _, r := range in.Rejected {
		out = append(out, r.Reason)
	}
	return out
}

// FuzzDecode checks that Decode never panics, is deterministic, accounts for every
// message, and that what it accepts is what encoding/json reads in the raw element.
func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add(c.topic, []byte(c.payload))
	}
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		const max = 1 << 12
		in := Decode(topic, payload, max)
		if again := Decode(topic, payload, max); !reflect.DeepEqual(in, again) {
			t.Fatalf("not deterministic:\n%+v\n%+v", in, again)
		}
		if in.Source != "mqtt:"+topic || len(in.Raw) != len(in.Readings) {
			t.Fatalf("source %q, %d raw for %d readings", in.Source, len(in.Raw), len(in.Readings))
		}
		for _, r := range in.Rejected {
			if r.Source != in.Source || r.Reason == "" || !utf8.ValidString(r.Raw) || strings.ContainsRune(r.Raw, 0) || !utf8.ValidString(r.Reason) {
				t.Fatalf("bad rejection %+v", r)
			}
		}
		if len(payload) > max && (len(in.Rejected) != 1 || len(in.Readings)+len(in.Events) != 0) {
			t.Fatalf("oversized payload gave %+v", in)
		}
		if len(in.Readings)+len(in.Events)+len(in.Rejected) == 0 {
			// Only an empty batch may yield nothing.
			var b map[string][]json.RawMessage
			if err := json.Unmarshal(payload, &b); err != nil || len(b) != 1 || len(b["readings"])+len(b["events"]) != 0 {
				t.Fatalf("%q on %q yielded nothing", payload, topic)
			}
		}
		for i, r := range in.Readings {
			if !reading.Finite(r.Value) || r.Time.Location() != time.UTC || !utf8.ValidString(in.Raw[i]) {
				t.Fatalf("reading %+v from %q", r, in.Raw[i])
			}
			var want struct {
				Timestamp time.Time
				Value     float64
				Unit      string
			}
			if err := json.Unmarshal([]byte(in.Raw[i]), &want); err != nil {
				t.Fatalf("accepted %q, which encoding/json refuses: %v", in.Raw[i], err)
			}
			if !want.Timestamp.Equal(r.Time) || want.Value != r.Value || strings.TrimSpace(want.Unit) != r.Unit {
				t.Fatalf("decoded %+v from %q, encoding/json reads %+v", r, in.Raw[i], want)
			}
			if math.Signbit(want.Value) != math.Signbit(r.Value) {
				t.Fatalf("sign of %v vs %v", r.Value, want.Value)
			}
		}
	})
}
