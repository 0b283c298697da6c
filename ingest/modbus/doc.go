// Package modbus polls a meter or battery over Modbus TCP (Modbus Application Protocol
// v1.1b3, function code 3 "read holding registers"; client and test server from
// github.com/simonvetter/modbus) and sends what it reads to an ingest.Sink, one
// ingest.Input per poll with Source "modbus:<device>".
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
package modbus
