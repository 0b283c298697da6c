// Package modbus polls a meter or battery over Modbus TCP (Modbus Application Protocol
// v1.1b3, function code 3 "read holding registers"; client and test server from
// github.com/simonvetter/modbus) and sends what it reads to an ingest.Sink, one
// ingest.Input per poll with Source "modbus:<device>". It also steers a battery
// (BatteryClient, function code 16 "write multiple registers").
//
// A device is described by a register map, a []Register; DefaultMap describes lifang's
// reference battery/meter:
//
//	address  words  type    raw unit    reading unit  point
//	0–1      2      uint32  0.01 kWh    kWh           <device>/elec/active_energy_import  (cumulative register)
//	2–3      2      uint32  0.01 kWh    kWh           <device>/elec/active_energy_export  (cumulative register)
//	4–5      2      int32   1 W         kW (÷1000)    <device>/elec/active_power          (+ import, − export)
//	6        1      uint16  0.1 %       %             <device>/battery/soc
//	7        1      int16   0.1 °C      degC          <device>/battery/temperature
//	8        1      uint16  0.1 V       V             <device>/elec/grid_voltage
//
// The reference battery adds its control registers and power limits. BatteryMap is
// DefaultMap plus the points without a †; BatteryClient reads and writes them all:
//
//	address  words  type    raw unit    reading unit  point
//	10–11    2      int32   1 W         kW (÷1000)    <device>/battery/power_setpoint       (writable; + charge, − discharge)
//	12       1      uint16  enum        –             <device>/battery/mode †               (writable; 0 standby: idle, power 0; 1 remote setpoint)
//	13       1      uint16  1 s         –             <device>/battery/comm_timeout †       (writable; see below)
//	14–15    2      uint32  0.01 kWh    kWh           <device>/battery/energy_stored †
//	16       1      uint16  0.1 kW      kW            <device>/battery/max_charge_power     (what the battery can take now)
//	17       1      uint16  0.1 kW      kW            <device>/battery/max_discharge_power  (what it can give now)
//
// Address 9 is not named. With mode 1 and a comm timeout of n > 0, a battery that
// receives no write for n seconds falls back to standby by itself. The points marked
// † are not in BatteryMap: mode and comm timeout have no lifang unit, and lifang checks
// every kWh point as a cumulative register, which a battery's stored energy is not.
// BatteryStatus carries them.
//
// Registers are big-endian 16-bit words; a 32-bit value is two consecutive registers,
// high word first. A reading's value is the raw integer times Register.Scale, computed
// as a division when the scale is 1/n (so 123456 × 0.01 is exactly 1234.56), and its
// time is that of the poll, from the injected clock.
//
// Each poll reads the map in as few requests as it can without reading an address the
// map does not name (many devices answer such a read with an exception), at most 125
// registers a request. When a read fails the poll sends an Input holding one
// store.Rejected with the error as its reason, drops the connection and dials again at
// the next poll; cumulative registers make a missed poll cost nothing but resolution.
//
// BatteryClient steers a battery. SetPower writes registers 10–13 in one
// function-16 request (write multiple registers, so that the setpoint, the mode and
// the comm timeout change together) and reads them back; Standby writes 10–12. The
// CommandResult says whether the battery took the command (Accepted), answered with
// something else (Mismatch), did not answer (Timeout) or refused (Error), with the
// words written for the audit trail. Timeouts and transport errors are retried with
// exponential backoff on a fresh connection; exceptions are not, since the device
// answered. Set a comm timeout: it is the battery's own guard against lifang going
// away, where the client's retries are not. sitesim/bess emulates the battery.
package modbus
