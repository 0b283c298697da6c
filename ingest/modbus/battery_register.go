package modbus

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Addresses of the reference battery's registers past DefaultMap (see the package
// documentation).
const (
	addrPowerSetpoint = 10 // int32, 1 W, writable
	addrMode          = 12 // uint16 enum, writable
	addrCommTimeout   = 13 // uint16, 1 s, writable
	addrEnergyStored  = 14 // uint32, 0.01 kWh
	addrMaxCharge     = 16 // uint16, 0.1 kW
	addrMaxDischarge  = 17 // uint16, 0.1 kW

	// controlWords is the number of writable registers, 10–13, read back after a command.
	controlWords = 4
	// batteryWords is the span of the battery map: addresses 0–17 (9 is not named).
	batteryWords = 18
)

// Battery modes, the values of register 12.
const (
	ModeStandby uint16 = 0 // idle, power 0
	ModeRemote  uint16 = 1 // follow the power setpoint in registers 10–11
)

// BatteryMap is the read map of lifang's reference battery: DefaultMap plus the power
// setpoint as read back and the power limits the battery reports. Polling it takes
// three requests (0–8, 10–11, 16–17), none reading an address the map does not name.
//
// It leaves out the mode and the comm timeout (no lifang unit measures them) and the
// energy stored: lifang treats every kWh point as a cumulative meter register and
// would quarantine a battery's energy as "went backwards" each time it discharges.
// BatteryClient.Read returns all three.
var BatteryMap = append(slices.Clone(DefaultMap), []Register{
	{Name: "battery power setpoint", Point: "battery/power_setpoint", Address: addrPowerSetpoint, Words: 2, Signed: true, Scale: 0.001, Unit: "kW"},
	{Name: "battery max charge power", Point: "battery/max_charge_power", Address: addrMaxCharge, Words: 1, Scale: 0.1, Unit: "kW"},
	{Name: "battery max discharge power", Point: "battery/max_discharge_power", Address: addrMaxDischarge, Words: 1, Scale: 0.1, Unit: "kW"},
}...)

// batteryReads are the requests BatteryClient.Read makes: every named address of the
// reference battery, skipping the unnamed address 9.
var batteryReads = []block{{0, 9}, {10, 8}}

// BatteryStatus is one reading of the reference battery's registers.
type BatteryStatus struct {
	At time.Time // when the registers were read, by the caller's clock

	ImportKWh, ExportKWh float64 // cumulative AC energy registers
	PowerKW              float64 // AC power, + import (charge), − export (discharge)
	SoCPct               float64 // state of charge, 0–100 %
	TemperatureC         float64
	GridVoltageV         float64
	EnergyKWh            float64 // energy stored
	MaxChargeKW          float64 // what the battery can take now
	MaxDischargeKW       float64 // what the battery can give now
	SetpointKW           float64 // power setpoint as read back, + charge, − discharge
	Mode                 uint16  // ModeStandby or ModeRemote
	CommTimeoutS         uint16  // the battery's own watchdog, 0 = off
}

// DecodeBatteryStatus decodes the reference battery's registers read at instant at:
// regs[i] is the register at address i, for i from 0 to at least 17 (regs[9] is not
// named and is ignored). It rejects what the map makes impossible: a state of charge
// above 100 % or a mode other than 0 or 1. DecodeBatteryStatus is pure.
func DecodeBatteryStatus(regs []uint16, at time.Time) (BatteryStatus, error) {
	if len(regs) < batteryWords {
		return BatteryStatus{}, fmt.Errorf("modbus: battery: %d registers, want %d from address 0", len(regs), batteryWords)
	}
	u32 := func(a int) int64 { return int64(uint32(regs[a])<<16 | uint32(regs[a+1])) }
	s32 := func(a int) int64 { return int64(int32(uint32(regs[a])<<16 | uint32(regs[a+1]))) }
	st := BatteryStatus{
		At:             at,
		ImportKWh:      scale(u32(0), 0.01),
		ExportKWh:      scale(u32(2), 0.01),
		PowerKW:        scale(s32(4), 0.001),
		SoCPct:         scale(int64(regs[6]), 0.1),
		TemperatureC:   scale(int64(int16(regs[7])), 0.1),
		GridVoltageV:   scale(int64(regs[8]), 0.1),
		SetpointKW:     scale(s32(addrPowerSetpoint), 0.001),
		Mode:           regs[addrMode],
		CommTimeoutS:   regs[addrCommTimeout],
		EnergyKWh:      scale(u32(addrEnergyStored), 0.01),
		MaxChargeKW:    scale(int64(regs[addrMaxCharge]), 0.1),
		MaxDischargeKW: scale(int64(regs[addrMaxDischarge]), 0.1),
	}
	if st.SoCPct > 100 {
		return BatteryStatus{}, fmt.Errorf("modbus: battery: state of charge %v %% (register 6 = %d): want 0–100", st.SoCPct, regs[6])
	}
	if st.Mode != ModeStandby && st.Mode != ModeRemote {
		return BatteryStatus{}, fmt.Errorf("modbus: battery: mode %d (register 12): want 0 (standby) or 1 (remote setpoint)", st.Mode)
	}
	return st, nil
}

// setpointWords are registers 10–11 for a power setpoint of kw, rounded to the nearest
// W (halves away from zero).
func setpointWords(kw float64) ([]uint16, error) {
	if math.IsNaN(kw) || math.IsInf(kw, 0) {
		return nil, fmt.Errorf("modbus: battery: power setpoint %v kW: want a finite number", kw)
	}
	w := math.Round(kw * 1000)
	if w < math.MinInt32 || w > math.MaxInt32 {
		return nil, fmt.Errorf("modbus: battery: power setpoint %v kW: outside the int32 W register (±%v kW)", kw, float64(math.MaxInt32)/1000)
	}
	u := uint32(int32(w))
	return []uint16{uint16(u >> 16), uint16(u)}, nil
}

// describeControl says what control registers 10–13 (or a prefix of them) hold.
func describeControl(words []uint16) string {
	s := ""
	if len(words) >= 2 {
		s = fmt.Sprintf("setpoint %d W", int32(uint32(words[0])<<16|uint32(words[1])))
	}
	if len(words) >= 3 {
		s += fmt.Sprintf(", mode %d", words[2])
	}
	if len(words) >= 4 {
		s += fmt.Sprintf(", comm timeout %d s", words[3])
	}
	return s
}
