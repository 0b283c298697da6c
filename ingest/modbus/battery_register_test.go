package modbus

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifang-community/lifang/reading"
)

// batteryRegisters are registers 0–17 of the reference battery holding the values of
// the package documentation's examples.
func batteryRegisters(setpointW int32, mode, commTimeoutS uint16, energy uint32, maxCharge, maxDischarge uint16) []uint16 {
	regs := append(referenceRegisters(123456, 789, -2500, 755, -52, 2301), 0)
	return append(regs,
		uint16(uint32(setpointW)>>16), uint16(uint32(setpointW)), mode, commTimeoutS,
		uint16(energy>>16), uint16(energy), maxCharge, maxDischarge)
}

func TestDecodeBatteryStatus(t *testing.T) {
	at := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	regs := batteryRegisters(-120500, 1, 60, 18642, 2500, 1203)
	regs[9] = 0xdead // not named: ignored
	got, err := DecodeBatteryStatus(regs, at)
	if err != nil {
		t.Fatal(err)
	}
	want := BatteryStatus{At: at, ImportKWh: 1234.56, ExportKWh: 7.89, PowerKW: -2.5, SoCPct: 75.5, TemperatureC: -5.2, GridVoltageV: 230.1,
		EnergyKWh: 186.42, MaxChargeKW: 250, MaxDischargeKW: 120.3, SetpointKW: -120.5, Mode: ModeRemote, CommTimeoutS: 60}
	if got != want { // exact: 0.01 kWh steps decode to the nearest float64
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeBatteryStatusErrors(t *testing.T) {
	for _, tt := range []struct {
		regs []uint16
		err  string
	}{
		{nil, "0 registers, want 18"},
		{batteryRegisters(0, 0, 0, 0, 0, 0)[:17], "17 registers, want 18"},
		{func() []uint16 { r := batteryRegisters(0, 0, 0, 0, 0, 0); r[6] = 1001; return r }(), "state of charge 100.1 %"},
		{batteryRegisters(0, 2, 0, 0, 0, 0), "mode 2"},
		{batteryRegisters(0, 0xffff, 0, 0, 0, 0), "mode 65535"},
	} {
		if _, err := DecodeBatteryStatus(tt.regs, time.Time{}); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("DecodeBatteryStatus(%v): %v, want %q", tt.regs, err, tt.err)
		}
	}
}

func TestBatteryMap(t *testing.T) {
	if err := ValidateMap(BatteryMap, "bess1"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(BatteryMap[:len(DefaultMap)], DefaultMap) {
		t.Error("BatteryMap does not start with DefaultMap")
	}
	// Three reads, none of an unnamed address (9, 12–15).
	if got, want := plan(BatteryMap), []block{{0, 9}, {10, 2}, {16, 2}}; !slices.Equal(got, want) {
		t.Errorf("plan %v, want %v", got, want)
	}
	// No kWh point: lifang would check it as a cumulative register.
	for _, r := range BatteryMap[len(DefaultMap):] {
		if u, _ := reading.LookupUnit(r.Unit); u.Cumulative {
			t.Errorf("%s: cumulative unit %s", r.Name, r.Unit)
		}
	}
	// Decode and DecodeBatteryStatus agree.
	at := time.Unix(1740816000, 0)
	regs := batteryRegisters(-120500, 1, 60, 18642, 2500, 1203)
	rs, err := Decode(regs, BatteryMap, "bess1", at)
	if err != nil {
		t.Fatal(err)
	}
	checkReadings(t, rs[len(DefaultMap):], []reading.Reading{
		{Point: "bess1/battery/power_setpoint", Value: -120.5, Unit: "kW"},
		{Point: "bess1/battery/max_charge_power", Value: 250, Unit: "kW"},
		{Point: "bess1/battery/max_discharge_power", Value: 120.3, Unit: "kW"},
	}, at)
}

func TestSetpointWords(t *testing.T) {
	for _, tt := range []struct {
		kw   float64
		want []uint16
	}{
		{-120.5, []uint16{0xfffe, 0x294c}},
		{0, []uint16{0, 0}},
		{math.Copysign(0, -1), []uint16{0, 0}},
		{0.0005, []uint16{0, 1}}, // halves away from zero
		{-0.0005, []uint16{0xffff, 0xffff}},
		{0.00049, []uint16{0, 0}},
		{2147483.647, []uint16{0x7fff, 0xffff}},
		{-2147483.648, []uint16{0x8000, 0}},
	} {
		got, err := setpointWords(tt.kw)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("setpointWords(%v) = %#x, %v; want %#x", tt.kw, got, err, tt.want)
		}
	}
	for _, kw := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 2147483.648, -2147483.649, 1e300} {
		if got, err := setpointWords(kw); err == nil {
			t.Errorf("setpointWords(%v) = %#x, want an error", kw, got)
		}
	}
}

// encodeBatteryStatus is the inverse of DecodeBatteryStatus, for the fuzz target.
func encodeBatteryStatus(st BatteryStatus) []uint16 {
	r := func(v, perUnit float64) int64 { return int64(math.Round(v * perUnit)) }
	u32 := func(v int64) []uint16 { return []uint16{uint16(uint32(v) >> 16), uint16(uint32(v))} }
	regs := slices.Concat(u32(r(st.ImportKWh, 100)), u32(r(st.ExportKWh, 100)), u32(r(st.PowerKW, 1000)),
		[]uint16{uint16(r(st.SoCPct, 10)), uint16(int16(r(st.TemperatureC, 10))), uint16(r(st.GridVoltageV, 10)), 0},
		u32(r(st.SetpointKW, 1000)), []uint16{st.Mode, st.CommTimeoutS}, u32(r(st.EnergyKWh, 100)),
		[]uint16{uint16(r(st.MaxChargeKW, 10)), uint16(r(st.MaxDischargeKW, 10))})
	return regs
}

// FuzzDecodeBatteryStatus: whatever a device answers, decoding does not panic, and what
// it accepts is finite, within the map's ranges, and encodes back to the same words.
func FuzzDecodeBatteryStatus(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 2*batteryWords))
	f.Fuzz(func(t *testing.T, data []byte) {
		regs := make([]uint16, len(data)/2)
		for i := range regs {
			regs[i] = binary.BigEndian.Uint16(data[2*i:])
		}
		at := time.Unix(1740816000, 0)
		st, err := DecodeBatteryStatus(regs, at)
		if err != nil {
			return
		}
		for i, v := range []float64{st.ImportKWh, st.ExportKWh, st.PowerKW, st.SoCPct, st.TemperatureC, st.GridVoltageV, st.EnergyKWh,
			st.MaxChargeKW, st.MaxDischargeKW, st.SetpointKW} {
			if !reading.Finite(v) {
				t.Fatalf("value %d: %v", i, v)
			}
		}
		if st.SoCPct < 0 || st.SoCPct > 100 || st.Mode > ModeRemote || !st.At.Equal(at) || st.ImportKWh < 0 ||
			st.EnergyKWh < 0 || st.MaxChargeKW < 0 || st.MaxDischargeKW < 0 {
			t.Fatalf("out of range: %+v", st)
		}
		got := encodeBatteryStatus(st)
		want := slices.Clone(regs[:batteryWords])
		want[9] = 0 // not named
		if !slices.Equal(got, want) {
			t.Fatalf("%+v encodes to\n%v, read from\n%v", st, got, want)
		}
	})
}
