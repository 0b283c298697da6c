package bess

import (
	"math"
	"time"

	mb "github.com/simonvetter/modbus"
)

// Register addresses (see the package documentation).
const (
	regImport       = 0  // uint32, 0.01 kWh
	regExport       = 2  // uint32, 0.01 kWh
	regPower        = 4  // int32, 1 W
	regSoC          = 6  // uint16, 0.1 %
	regTemperature  = 7  // int16, 0.1 °C
	regVoltage      = 8  // uint16, 0.1 V
	regSetpoint     = 10 // int32, 1 W, writable
	regMode         = 12 // uint16, writable
	regCommTimeout  = 13 // uint16, 1 s, writable
	regEnergyStored = 14 // uint32, 0.01 kWh
	regMaxCharge    = 16 // uint16, 0.1 kW
	regMaxDischarge = 17 // uint16, 0.1 kW

	numRegs = 18
)

// Battery modes, the values of register 12.
const (
	ModeStandby uint16 = 0 // idle, power 0
	ModeRemote  uint16 = 1 // follow the power setpoint
)

// named marks the addresses the map names; writable those a client may write.
var named, writable = func() (n, w [numRegs]bool) {
	for a := range numRegs {
		n[a] = a != 9
	}
	for a := regSetpoint; a <= regCommTimeout; a++ {
		w[a] = true
	}
	return n, w
}()

// bank is the device's register file and watchdog. It is not safe for concurrent use:
// Server locks around it.
type bank struct {
	regs      [numRegs]uint16
	lastWrite time.Time // of the last accepted write; zero before the first
}

// watchdog falls back to standby when mode is remote, the comm timeout is on, and no
// write arrived for longer than it before at. It reports whether it fired.
func (b *bank) watchdog(at time.Time) bool {
	timeout := time.Duration(b.regs[regCommTimeout]) * time.Second
	if b.regs[regMode] != ModeRemote || timeout == 0 || at.Sub(b.lastWrite) <= timeout {
		return false
	}
	b.regs[regMode] = ModeStandby
	return true
}

// command returns the power in force (kW, + charge) and the mode, after the watchdog.
func (b *bank) command() (kw float64, mode uint16) {
	if b.regs[regMode] != ModeRemote {
		return 0, ModeStandby
	}
	return float64(int32(b.get32(regSetpoint))) / 1000, ModeRemote
}

func (b *bank) get32(a int) uint32 { return uint32(b.regs[a])<<16 | uint32(b.regs[a+1]) }

func (b *bank) put32(a int, v uint32) { b.regs[a], b.regs[a+1] = uint16(v>>16), uint16(v) }

// read returns quantity registers from addr, or exception 0x02 if any is not named.
func (b *bank) read(addr, quantity uint16) ([]uint16, error) {
	if err := inMap(addr, quantity); err != nil {
		return nil, err
	}
	out := make([]uint16, quantity)
	copy(out, b.regs[addr:int(addr)+int(quantity)])
	return out, nil
}

// write applies a write request at instant now, all or nothing: exception 0x02 when
// it touches an unnamed or read-only address or half of the setpoint, 0x03 for a mode
// other than 0 or 1.
func (b *bank) write(addr uint16, args []uint16, now time.Time) error {
	if len(args) == 0 || len(args) > numRegs {
		return mb.ErrIllegalDataAddress
	}
	if err := inMap(addr, uint16(len(args))); err != nil {
		return err
	}
	end := int(addr) + len(args)
	for a := int(addr); a < end; a++ {
		if !writable[a] {
			return mb.ErrIllegalDataAddress
		}
	}
	covers := func(a int) bool { return int(addr) <= a && a < end }
	if covers(regSetpoint) != covers(regSetpoint+1) {
		return mb.ErrIllegalDataAddress // one word of the 32-bit setpoint alone
	}
	if covers(regMode) {
		if m := args[regMode-int(addr)]; m != ModeStandby && m != ModeRemote {
			return mb.ErrIllegalDataValue
		}
	}
	copy(b.regs[addr:end], args)
	b.lastWrite = now
	return nil
}

// inMap returns exception 0x02 unless every address from addr on for quantity
// registers is named.
func inMap(addr, quantity uint16) error {
	end := int(addr) + int(quantity)
	if quantity == 0 || end > numRegs {
		return mb.ErrIllegalDataAddress
	}
	for a := int(addr); a < end; a++ {
		if !named[a] {
			return mb.ErrIllegalDataAddress
		}
	}
	return nil
}

// update sets the read-only registers from st, rounding each value to its raw step and
// clamping it to the register's range. It returns the names of the values it had to
// clamp or replace (NaN).
func (b *bank) update(st State) (clamped []string) {
	put := func(name string, v, perUnit, lo, hi float64) int64 {
		raw := math.Round(v * perUnit)
		switch {
		case math.IsNaN(raw):
			raw = 0
			clamped = append(clamped, name)
		case raw < lo:
			raw = lo
			clamped = append(clamped, name)
		case raw > hi:
			raw = hi
			clamped = append(clamped, name)
		}
		return int64(raw)
	}
	b.put32(regImport, uint32(put("import_kwh", st.ImportKWh, 100, 0, math.MaxUint32)))
	b.put32(regExport, uint32(put("export_kwh", st.ExportKWh, 100, 0, math.MaxUint32)))
	b.put32(regPower, uint32(int32(put("power_kw", st.PowerKW, 1000, math.MinInt32, math.MaxInt32))))
	b.regs[regSoC] = uint16(put("soc_pct", st.SoCPct, 10, 0, 1000))
	b.regs[regTemperature] = uint16(int16(put("temperature_c", st.TemperatureC, 10, math.MinInt16, math.MaxInt16)))
	b.regs[regVoltage] = uint16(put("grid_voltage_v", st.GridVoltageV, 10, 0, math.MaxUint16))
	b.put32(regEnergyStored, uint32(put("energy_kwh", st.EnergyKWh, 100, 0, math.MaxUint32)))
	b.regs[regMaxCharge] = uint16(put("max_charge_kw", st.MaxChargeKW, 10, 0, math.MaxUint16))
	b.regs[regMaxDischarge] = uint16(put("max_discharge_kw", st.MaxDischargeKW, 10, 0, math.MaxUint16))
	return clamped
}
