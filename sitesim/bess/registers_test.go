package bess

import (
	"math"
	"slices"
	"testing"
	"time"

	mb "github.com/simonvetter/modbus"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// The raw words of the documented map, from the table in doc.go.
func TestUpdateScaling(t *testing.T) {
	var b bank
	clamped := b.update(State{ImportKWh: 1234.56, ExportKWh: 7.89, PowerKW: -2.5, SoCPct: 75.5, TemperatureC: -5.2,
		GridVoltageV: 230.1, EnergyKWh: 186.42, MaxChargeKW: 250, MaxDischargeKW: 120.3})
	if len(clamped) != 0 {
		t.Errorf("clamped %v", clamped)
	}
	want := []uint16{
		0x0001, 0xe240, // 123456
		0, 789,
		0xffff, 0xf63c, // −2500
		755, uint16(0xffcc), 2301, // −52
		0,
		0, 0, 0, 0, // control registers: untouched
		0, 18642,
		2500, 1203,
	}
	if got := b.regs[:]; !slices.Equal(got, want) {
		t.Errorf("registers\n got %v\nwant %v", got, want)
	}
}

func TestUpdateClamps(t *testing.T) {
	var b bank
	b.regs[regSetpoint+1], b.regs[regMode], b.regs[regCommTimeout] = 7, 1, 60
	clamped := b.update(State{ImportKWh: -1, ExportKWh: 1e12, PowerKW: math.NaN(), SoCPct: 100.04, TemperatureC: -1e6,
		GridVoltageV: math.Inf(1), EnergyKWh: math.Inf(-1), MaxChargeKW: 7000, MaxDischargeKW: 0.04})
	if want := []string{"import_kwh", "export_kwh", "power_kw", "temperature_c", "grid_voltage_v", "energy_kwh", "max_charge_kw"}; !slices.Equal(clamped, want) {
		t.Errorf("clamped %v, want %v", clamped, want)
	}
	want := []uint16{0, 0, 0xffff, 0xffff, 0, 0, 1000, 0x8000, 0xffff, 0, 0, 7, 1, 60, 0, 0, 0xffff, 0}
	if got := b.regs[:]; !slices.Equal(got, want) {
		t.Errorf("registers\n got %v\nwant %v", got, want)
	}
}

func TestBankAccess(t *testing.T) {
	tests := []struct {
		name  string
		write bool
		addr  uint16
		args  []uint16 // writes; for reads, len is the quantity
		err   error
	}{
		{"read all of 0–8", false, 0, make([]uint16, 9), nil},
		{"read all of 10–17", false, 10, make([]uint16, 8), nil},
		{"read one word of a 32-bit value", false, 1, make([]uint16, 1), nil},
		{"read through 9", false, 0, make([]uint16, 18), mb.ErrIllegalDataAddress},
		{"read 9", false, 9, make([]uint16, 1), mb.ErrIllegalDataAddress},
		{"read past the map", false, 17, make([]uint16, 2), mb.ErrIllegalDataAddress},
		{"read far away", false, 40000, make([]uint16, 1), mb.ErrIllegalDataAddress},
		{"read nothing", false, 0, nil, mb.ErrIllegalDataAddress},
		{"write 10–13", true, 10, []uint16{0xffff, 0x0001, 1, 60}, nil},
		{"write mode alone", true, 12, []uint16{1}, nil},
		{"write comm timeout alone", true, 13, []uint16{65535}, nil},
		{"write setpoint alone", true, 10, []uint16{0, 5}, nil},
		{"write high setpoint word alone", true, 10, []uint16{0}, mb.ErrIllegalDataAddress},
		{"write low setpoint word and mode", true, 11, []uint16{5, 1}, mb.ErrIllegalDataAddress},
		{"write mode 2", true, 12, []uint16{2}, mb.ErrIllegalDataValue},
		{"write 10–13 with mode 7", true, 10, []uint16{0, 0, 7, 0}, mb.ErrIllegalDataValue},
		{"write SoC", true, 6, []uint16{500}, mb.ErrIllegalDataAddress},
		{"write 10–14 (energy stored is read-only)", true, 10, []uint16{0, 0, 1, 0, 0}, mb.ErrIllegalDataAddress},
		{"write max charge", true, 16, []uint16{1}, mb.ErrIllegalDataAddress},
		{"write 9", true, 9, []uint16{0}, mb.ErrIllegalDataAddress},
		{"write 8–11", true, 8, []uint16{0, 0, 0, 0}, mb.ErrIllegalDataAddress},
		{"write nothing", true, 10, nil, mb.ErrIllegalDataAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bank
			b.update(State{SoCPct: 50})
			before := b.regs
			var err error
			if tt.write {
				err = b.write(tt.addr, tt.args, t0)
			} else {
				var got []uint16
				got, err = b.read(tt.addr, uint16(len(tt.args)))
				if err == nil && len(got) != len(tt.args) {
					t.Errorf("read %d registers, want %d", len(got), len(tt.args))
				}
			}
			// The library maps errors to exception codes by equality: they must be its sentinels.
			if err != tt.err {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			switch {
			case tt.write && err == nil:
				if got := b.regs[tt.addr : int(tt.addr)+len(tt.args)]; !slices.Equal(got, tt.args) || !b.lastWrite.Equal(t0) {
					t.Errorf("registers %v after writing %v, last write %v", got, tt.args, b.lastWrite)
				}
			case b.regs != before || !b.lastWrite.IsZero():
				t.Errorf("a refused or read request changed the registers: %v → %v, last write %v", before, b.regs, b.lastWrite)
			}
		})
	}
}

func TestWatchdog(t *testing.T) {
	var b bank
	// −120.5 kW, mode 1, comm timeout 60 s.
	w := int32(-120500)
	sp := uint32(w)
	if err := b.write(regSetpoint, []uint16{uint16(sp >> 16), uint16(sp), 1, 60}, t0); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		after time.Duration
		kw    float64
		mode  uint16
	}{
		{0, -120.5, ModeRemote},
		{-time.Hour, -120.5, ModeRemote}, // a clock behind the last write: not expired
		{60 * time.Second, -120.5, ModeRemote},
		{60*time.Second + 1, 0, ModeStandby},
		{30 * time.Second, 0, ModeStandby}, // latched until the next write sets mode 1
	} {
		fired := b.watchdog(t0.Add(tt.after))
		kw, mode := b.command()
		if kw != tt.kw || mode != tt.mode || fired != (tt.after == 60*time.Second+1) {
			t.Errorf("at +%v: %v kW, mode %d, fired %v; want %v kW, mode %d", tt.after, kw, mode, fired, tt.kw, tt.mode)
		}
	}
	if b.regs[regMode] != ModeStandby || b.get32(regSetpoint) != sp {
		t.Errorf("after the watchdog: mode %d, setpoint %#x", b.regs[regMode], b.get32(regSetpoint))
	}
	// A write of the mode alone re-arms it.
	t1 := t0.Add(time.Hour)
	if err := b.write(regMode, []uint16{1}, t1); err != nil {
		t.Fatal(err)
	}
	if b.watchdog(t1.Add(time.Minute)); b.regs[regMode] != ModeRemote {
		t.Error("mode fell back after exactly the comm timeout")
	}
	// Comm timeout 0: never.
	if err := b.write(regCommTimeout, []uint16{0}, t1); err != nil {
		t.Fatal(err)
	}
	if b.watchdog(t1.Add(1000 * time.Hour)) {
		t.Error("watchdog fired with comm timeout 0")
	}
	// Mode 0: setpoint not in force.
	if err := b.write(regMode, []uint16{0}, t1); err != nil {
		t.Fatal(err)
	}
	if kw, mode := b.command(); kw != 0 || mode != ModeStandby {
		t.Errorf("standby: %v kW, mode %d", kw, mode)
	}
}
