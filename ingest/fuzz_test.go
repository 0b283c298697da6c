package ingest_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
)

// FuzzReadCSV: any input either fails as a whole with an error naming the file, or
// accounts for every data row as a reading or a rejection; it never panics.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"point,timestamp,value,unit\nm1,2026-03-01T00:00:00Z,1.5,kWh\n",
		"point,timestamp,value,unit\nm1,not-a-time,2,kWh\nm1,2026-03-01T00:15:00Z,abc,kWh\n",
		"timestamp,unit,point,value,quality\n2026-03-01T00:00:00Z,kW,m,1,estimated\n",
		"point,timestamp,value\n\"a,b\",2026-03-01T00:00:00Z,1\n",
		"\ufeffpoint,timestamp,value,unit\n\"unterminated,1,2,3\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rows := 0
		err := ingest.ReadCSV(strings.NewReader(s), "f.csv", 3, func(in ingest.Input) error {
			rows += len(in.Readings) + len(in.Rejected)
			if len(in.Raw) != len(in.Readings) {
				t.Fatalf("%d raw lines for %d readings", len(in.Raw), len(in.Readings))
			}
			for _, r := range in.Readings {
				if !reading.Finite(r.Value) || r.Point == "" || r.Unit == "" {
					t.Fatalf("bad reading passed the parser: %+v", r)
				}
			}
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), "f.csv") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// FuzzDecodeJSON: a body is either refused whole or every element is a reading, an
// event or a rejection.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"readings":[{"point":"m1","timestamp":"2026-03-01T00:00:00Z","value":1.5,"unit":"kWh"}]}`,
		`{"readings":[{"point":"m1","timestamp":"x","value":1,"unit":"kWh"},{"point":"m1"}],"events":[{"kind":"gate_in","source":"g","timestamp":"2026-03-01T00:00:00Z","attrs":{"a":"b"}}]}`,
		`{"readings":[{"value":1e400}]}`,
		`[1,2,3]`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := ingest.DecodeJSON(body, "fuzz")
		if err != nil {
			return
		}
		for _, r := range in.Readings {
			if !reading.Finite(r.Value) || r.Point == "" {
				t.Fatalf("bad reading passed: %+v", r)
			}
		}
		if bytes.Count(body, []byte("{")) < len(in.Readings)+len(in.Events)+len(in.Rejected) {
			t.Fatalf("more elements than objects in the body")
		}
	})
}
