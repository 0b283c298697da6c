// Package bess emulates the Modbus TCP interface of lifang's reference battery (BESS)
// for hardware-in-the-loop site emulation: one Server per battery, serving holding
// registers with function codes 3 (read), 6 (write single) and 16 (write multiple) of
// the Modbus Application Protocol v1.1b3, on the server of github.com/simonvetter/modbus.
//
// The package owns the device's side of the register map, not its physics: the site
// emulator steps its own battery model, calls Update with the result, and asks Command
// which power setpoint is in force. The register map is the one ingest/modbus
// documents; it is written out again here, independently, so that a scaling error on
// either side shows up in tests between the two:
//
//	address  words  type    raw unit  access  register
//	0–1      2      uint32  0.01 kWh  read    active energy import (cumulative)
//	2–3      2      uint32  0.01 kWh  read    active energy export (cumulative)
//	4–5      2      int32   1 W       read    active power (+ import, − export)
//	6        1      uint16  0.1 %     read    state of charge
//	7        1      int16   0.1 °C    read    temperature
//	8        1      uint16  0.1 V     read    grid voltage
//	10–11    2      int32   1 W       write   power setpoint (+ charge, − discharge)
//	12       1      uint16  enum      write   mode: 0 standby, 1 remote setpoint
//	13       1      uint16  1 s       write   comm timeout (0 = off)
//	14–15    2      uint32  0.01 kWh  read    energy stored
//	16       1      uint16  0.1 kW    read    max charge power
//	17       1      uint16  0.1 kW    read    max discharge power
//
// 32-bit values are two registers, high word first. Update rounds each value to the
// nearest raw step and clamps it to the register's range (NaN becomes 0, and is
// logged). Writable registers read back what was last written.
//
// Exceptions, as a real device answers them:
//   - an address the map does not name (9, or 18 and above), read or written: 0x02
//     (illegal data address);
//   - a write touching a read-only register, or only one word of the 32-bit setpoint:
//     0x02, and nothing of the request is written;
//   - a mode other than 0 or 1: 0x03 (illegal data value), nothing written;
//   - coils, discrete inputs, input registers: 0x01 (illegal function);
//   - a request for a unit id other than Config.UnitID: 0x0B (gateway target device
//     failed to respond), the answer of a Modbus TCP gateway whose serial device is
//     silent. The server always answers, so that a client with a wrong unit id learns
//     it at once rather than by timing out.
//
// The power setpoint is not limited to the power limits the emulator reports: a real
// BESS clamps, and the caller's physics does too.
//
// The comm-timeout watchdog runs on the emulator's clock (Config.Clock): while the mode
// is 1 and the comm timeout is not 0, if no write arrives for more than comm-timeout
// seconds the device falls back to standby by itself. The mode register then reads 0
// until a write sets it to 1 again; the setpoint register keeps its value. The
// watchdog is evaluated at every request (by Config.Clock) and at every Command (at
// the instant given).
//
// SetDown injects a network fault: the listener and every connection close, clients
// get "connection refused", and the device keeps its registers, so that a client that
// reconnects finds the state it left (with the watchdog still counting).
package bess
