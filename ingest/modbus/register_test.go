package modbus

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lifang-community/lifang/reading"
)

// registers of the reference device holding the values of the package documentation.
func referenceRegisters(energyImport, energyExport uint32, powerW int32, soc uint16, temp int16, volt uint16) []uint16 {
	return []uint16{
		uint16(energyImport >> 16), uint16(energyImport),
		uint16(energyExport >> 16), uint16(energyExport),
		uint16(uint32(powerW) >> 16), uint16(uint32(powerW)),
		soc, uint16(temp), volt,
	}
}

func TestDecodeDefaultMap(t *testing.T) {
	at := time.Date(2025, 3, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	regs := referenceRegisters(123456, 4294967295, -2500, 755, -52, 2301)
	got, err := Decode(regs, DefaultMap, "bess1", at)
	if err != nil {
		t.Fatal(err)
	}
	want := []reading.Reading{
		{Point: "bess1/elec/active_energy_import", Value: 1234.56, Unit: "kWh"},
		{Point: "bess1/elec/active_energy_export", Value: 42949672.95, Unit: "kWh"},
		{Point: "bess1/elec/active_power", Value: -2.5, Unit: "kW"},
		{Point: "bess1/battery/soc", Value: 75.5, Unit: "%"},
		{Point: "bess1/battery/temperature", Value: -5.2, Unit: "degC"},
		{Point: "bess1/elec/grid_voltage", Value: 230.1, Unit: "V"},
	}
	checkReadings(t, got, want, at)
}

func checkReadings(t *testing.T, got, want []reading.Reading, at time.Time) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d readings, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		// Values must be exact: they are what the ledger commits to.
		if g.Point != w.Point || g.Value != w.Value || g.Unit != w.Unit || !g.Time.Equal(at) || g.Time.Location() != time.UTC ||
			g.Quality != reading.Good {
			t.Errorf("reading %d:\n got %+v\nwant %+v at %v", i, g, w, at)
		}
		if u, _ := reading.LookupUnit(g.Unit); g.Value < u.Min || g.Value > u.Max {
			t.Errorf("reading %d: %v %s outside what lifang accepts", i, g.Value, g.Unit)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	at := time.Unix(0, 0)
	regs := make([]uint16, 9)
	bad := func(f func(r *Register)) []Register {
		m := []Register{{Name: "x", Point: "p", Address: 0, Words: 1, Scale: 1, Unit: "W"}}
		f(&m[0])
		return m
	}
	tests := []struct {
		regs   []uint16
		m      []Register
		device string
		err    string
	}{
		{regs[:8], DefaultMap, "d", "8 registers, map needs 9"},
		{nil, DefaultMap, "d", "0 registers"},
		{regs, nil, "d", "empty register map"},
		{regs, DefaultMap, "", "device"},
		{regs, DefaultMap, "a=b", "device"},
		{regs, bad(func(r *Register) { r.Words = 3 }), "d", "3 words"},
		{regs, bad(func(r *Register) { r.Words = 0 }), "d", "0 words"},
		{regs, bad(func(r *Register) { r.Scale = 0 }), "d", "scale"},
		{regs, bad(func(r *Register) { r.Scale = math.NaN() }), "d", "scale"},
		{regs, bad(func(r *Register) { r.Unit = "kw" }), "d", "not a canonical lifang unit"},
		{regs, bad(func(r *Register) { r.Unit = "furlong" }), "d", "not a canonical lifang unit"},
		{regs, bad(func(r *Register) { r.Point = "" }), "d", "no point"},
		{regs, bad(func(r *Register) { r.Point = "a;b" }), "d", "point"},
		{regs, bad(func(r *Register) { r.Address, r.Words = 65535, 2 }), "d", "past 65535"},
		{[]uint16{65535}, bad(func(r *Register) { r.Scale = math.MaxFloat64 }), "d", "not a finite number"},
		{regs, append(bad(func(*Register) {}), bad(func(r *Register) { r.Address = 1 })...), "d", "named twice"},
	}
	for _, tt := range tests {
		_, err := Decode(tt.regs, tt.m, tt.device, at)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Decode(%v, %+v, %q) = %v, want %q", tt.regs, tt.m, tt.device, err, tt.err)
		}
	}
}

// A map somewhere else in the address space: regs start at its lowest address.
func TestDecodeOffsetMap(t *testing.T) {
	m := []Register{
		{Name: "v", Point: "v", Address: 40002, Words: 1, Scale: 0.1, Unit: "V"},
		{Name: "e", Point: "e", Address: 40000, Words: 2, Scale: 1, Unit: "Wh"},
		{Name: "s", Point: "s", Address: 40010, Words: 2, Signed: true, Scale: 1, Unit: "W"},
	}
	first, count := Span(m)
	if first != 40000 || count != 12 {
		t.Fatalf("span %d+%d", first, count)
	}
	regs := make([]uint16, count)
	regs[0], regs[1], regs[2] = 1, 2, 2301
	regs[10], regs[11] = 0xffff, 0xfffe
	at := time.Unix(1740816000, 0)
	got, err := Decode(regs, m, "m", at)
	if err != nil {
		t.Fatal(err)
	}
	checkReadings(t, got, []reading.Reading{
		{Point: "m/v", Value: 230.1, Unit: "V"},
		{Point: "m/e", Value: 65538, Unit: "Wh"},
		{Point: "m/s", Value: -2, Unit: "W"},
	}, at)
}

func TestPlan(t *testing.T) {
	m := []Register{
		{Address: 8, Words: 1}, {Address: 0, Words: 2}, {Address: 2, Words: 2}, // contiguous 0..3 and 8
		{Address: 300, Words: 2}, {Address: 301, Words: 1}, // overlapping
		{Address: 1000, Words: 2}, {Address: 1002, Words: 2}, {Address: 1124, Words: 2}, // past 125 registers
	}
	got := plan(m)
	want := []block{{0, 4}, {8, 1}, {300, 2}, {1000, 4}, {1124, 2}}
	if len(got) != len(want) {
		t.Fatalf("plan %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("plan %v, want %v", got, want)
		}
	}
	// The default map is one read of 9 registers.
	if got := plan(DefaultMap); len(got) != 1 || got[0] != (block{0, 9}) {
		t.Errorf("default map plan %v", got)
	}
}

func TestScale(t *testing.T) {
	for _, tt := range []struct {
		raw  int64
		s    float64
		want float64
	}{
		{123456, 0.01, 1234.56}, {-2500, 0.001, -2.5}, {755, 0.1, 75.5}, {3, 1, 3}, {3, 2.5, 7.5}, {10, -1, -10}, {7, 1.0 / 3, 7.0 / 3},
	} {
		if got := scale(tt.raw, tt.s); got != tt.want {
			t.Errorf("scale(%d, %v) = %v, want %v", tt.raw, tt.s, got, tt.want)
		}
	}
}

// FuzzDecode: Decode never panics, whatever the registers and the map, and what it
// accepts is one finite reading per register on a valid point.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0, 1, 0xe2, 0x40}, uint16(0), 2, false, 0.01, "kWh", "elec/e", uint16(6), 1, true, 0.1, "degC", "bess")
	f.Add([]byte{0xff, 0xff, 0xf6, 0x3c, 0x02, 0xf3}, uint16(4), 2, true, 0.001, "kW", "p", uint16(6), 1, false, 0.1, "%", "d")
	f.Add([]byte{}, uint16(65535), 2, false, 1.0, "W", "x", uint16(0), 0, false, 0.0, "", "")
	f.Add([]byte{0xff, 0xff}, uint16(0), 1, false, math.MaxFloat64, "Wh", "x", uint16(0), 3, false, math.Inf(1), "kw", "a=b")
	f.Fuzz(func(t *testing.T, data []byte, a1 uint16, w1 int, s1 bool, sc1 float64, u1, p1 string,
		a2 uint16, w2 int, s2 bool, sc2 float64, u2, device string) {
		regs := make([]uint16, len(data)/2)
		for i := range regs {
			regs[i] = binary.BigEndian.Uint16(data[2*i:])
		}
		m := []Register{
			{Name: "one", Point: p1, Address: a1, Words: w1, Signed: s1, Scale: sc1, Unit: u1},
			{Name: "two", Point: "two", Address: a2, Words: w2, Signed: s2, Scale: sc2, Unit: u2},
		}
		at := time.Unix(1740816000, 0)
		got, err := Decode(regs, m, device, at)
		if err != nil {
			return
		}
		if len(got) != len(m) {
			t.Fatalf("%d readings for %d registers", len(got), len(m))
		}
		for i, r := range got {
			if !reading.Finite(r.Value) || reading.ValidName(r.Point) != nil || r.Unit != m[i].Unit || !r.Time.Equal(at) {
				t.Fatalf("reading %d: %+v", i, r)
			}
			if r.Point != device+"/"+m[i].Point {
				t.Fatalf("reading %d: point %q", i, r.Point)
			}
		}
	})
}
