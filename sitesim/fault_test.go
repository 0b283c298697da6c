package sitesim

import (
	"strings"
	"testing"
	"time"
)

func TestParseFault(t *testing.T) {
	f, err := ParseFault("modbus-down:community-bess@2025-07-14T10:00:00+08:00/2h")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2025, 7, 14, 2, 0, 0, 0, time.UTC)
	if f.Kind != "modbus-down" || f.Device != "community-bess" || !f.From.Equal(from) || !f.To.Equal(from.Add(2*time.Hour)) {
		t.Fatalf("%+v", f)
	}
	if !f.Active(from) || f.Active(from.Add(2*time.Hour)) || f.Active(from.Add(-time.Second)) {
		t.Fatal("Active is not [from, to)")
	}
	if f, err := ParseFault("mqtt-drop:0.05"); err != nil || f.Share != 0.05 {
		t.Fatalf("%+v %v", f, err)
	}
	for in, want := range map[string]string{
		"nope":                                  "want KIND:ARGS",
		"melt:x":                                "unknown kind",
		"mqtt-drop:1":                           "in [0, 1)",
		"mqtt-drop:NaN":                         "in [0, 1)",
		"stale:feeder-a":                        "FROM/DURATION",
		"stale:feeder-a@x/2h":                   "want RFC 3339",
		"stale:a@2025-07-14T10:00:00+08:00/-1h": "positive",
		"reject-profiles:":                      "OCPP_ID",
	} {
		if _, err := ParseFault(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFault(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"modbus-down:b@2025-07-14T10:00:00+08:00/2h", "mqtt-drop:0.1", "reject-profiles:CP1", "stale:@/", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFault(s)
		if err != nil {
			return
		}
		switch flt.Kind {
		case "mqtt-drop":
			if !(flt.Share >= 0 && flt.Share < 1) {
				t.Fatalf("%q: share %g accepted", s, flt.Share)
			}
		case "modbus-down", "stale":
			if !flt.To.After(flt.From) || flt.Device == "" {
				t.Fatalf("%q: accepted %+v", s, flt)
			}
		}
	})
}
