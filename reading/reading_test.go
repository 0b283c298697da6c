package reading

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestCanonicalRoundTrip(t *testing.T) {
	tenth := 0.1 // a variable: the compiler folds constant 0.1+0.2 to exactly 0.3
	b := &Batch{Source: "csv:a.csv", Received: time.Date(2026, 3, 1, 8, 0, 0, 123, time.FixedZone("CST", 8*3600)),
		Readings: []Reading{
			{Point: "m1/elec", Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Value: tenth + 0.2, Unit: "kWh"},
			{Point: "m2", Time: time.Date(2026, 3, 1, 0, 0, 0, 5, time.UTC), Value: math.Copysign(0, -1), Unit: "kW", Quality: Estimated},
			{Point: "m3", Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Value: 1e-300, Unit: "%"},
		},
		Events: []Event{{Kind: EVSessionStart, Source: "CP1/1", Time: time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC), Attrs: map[string]string{"z": "1", "a": "2"}}},
	}
	leaf := b.Canonical()
	want := "lifang-batch/1\nsource csv:a.csv\nreceived 2026-03-01T00:00:00.000000123Z\nreadings 3\n" +
		"m1/elec\t2026-03-01T00:00:00Z\t0.30000000000000004\tkWh\tgood\n" +
		"m2\t2026-03-01T00:00:00.000000005Z\t-0\tkW\testimated\n" +
		"m3\t2026-03-01T00:00:00Z\t1e-300\t%\tgood\n" +
		"events 1\nev_session_start\t2026-03-01T01:00:00Z\tCP1/1\ta=2;z=1\n"
	if string(leaf) != want {
		t.Fatalf("canonical form:\n%s\nwant:\n%s", leaf, want)
	}
	back, err := ParseCanonical(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Canonical(), leaf) || math.Float64bits(back.Readings[1].Value) != math.Float64bits(math.Copysign(0, -1)) {
		t.Fatal("round trip changed the batch")
	}
}

func TestUnitsAndNames(t *testing.T) {
	for in, want := range map[string]string{"kwh": "kWh", " KW ": "kW", "m³": "m3", "°C": "degC", "percent": "%"} {
		if u, ok := LookupUnit(in); !ok || u.Symbol != want {
			t.Errorf("LookupUnit(%q) = %q, %v; want %q", in, u.Symbol, ok, want)
		}
	}
	if _, ok := LookupUnit("furlongs"); ok {
		t.Error("furlongs accepted")
	}
	for _, bad := range []string{"", "a\tb", "a\nb", "a=b", "a;b", string(make([]byte, 201))} {
		if ValidName(bad) == nil {
			t.Errorf("ValidName(%q) accepted", bad)
		}
	}
}

// FuzzParseCanonical: whatever parses re-encodes to the same bytes.
func FuzzParseCanonical(f *testing.F) {
	f.Add([]byte("lifang-batch/1\nsource s\nreceived 2026-03-01T00:00:00Z\nreadings 1\nm\t2026-03-01T00:00:00Z\t1\tkWh\tgood\nevents 0\n"))
	f.Add([]byte("lifang-batch/1\nsource s\nreceived 2026-03-01T00:00:00Z\nreadings 0\nevents 1\ngate_in\t2026-03-01T00:00:00Z\tg\ta=b\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseCanonical(data)
		if err != nil {
			return
		}
		if !bytes.Equal(b.Canonical(), data) {
			t.Fatalf("parsed but re-encodes differently")
		}
	})
}

func TestBrickTurtle(t *testing.T) {
	pts := []Point{NewPoint("bldg1/elec/active_energy", "kWh"), NewPoint("roof/pv/power", "kW"),
		NewPoint("tank/flow", "m3/h"), NewPoint("lot-A/occupancy", "count"), NewPoint("楼A/温度", "degC")}
	var b bytes.Buffer
	if err := WriteBrickTurtle(&b, "lifang.local/unit", pts); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"site:point_bldg1_2F_elec_2F_active_energy a brick:Electric_Energy_Sensor",
		"brick:hasUnit unit:KiloW-HR", "a brick:PV_Generation_Sensor", "a brick:Water_Flow_Sensor",
		"a brick:Occupancy_Count_Sensor", "brick:isPointOf site:asset_bldg1", `rdfs:label "楼A/温度"`,
		"@prefix site: <urn:lifang:lifang.local%2Funit/> .",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("turtle lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, " .\n") != len(pts)+5+4 { // points + assets + prefixes
		t.Errorf("unexpected statement count in\n%s", out)
	}
}

func TestAttrText(t *testing.T) {
	for in, want := range map[string]string{"a=b; c\nd": "a:b, c d", "ok": "ok", "x\x00y\x7f": "xy", "bad\xffutf8": "badutf8"} {
		if got := AttrText(in, 100); got != want || ValidAttrValue(got) != nil {
			t.Errorf("AttrText(%q) = %q, want %q (valid: %v)", in, got, want, ValidAttrValue(got))
		}
	}
	// Cut on a rune boundary: a cut inside 室 would leave invalid UTF-8.
	if got := AttrText("101室101室", 5); got != "101" || ValidAttrValue(got) != nil {
		t.Errorf("cut %q", got)
	}
}
