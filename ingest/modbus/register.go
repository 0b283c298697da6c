package modbus

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/lifang-community/lifang/reading"
)

// Register describes one value a device exposes in its holding registers.
type Register struct {
	Name string // what the value is, for people and error messages
	// Point is the point name after "<device>/", e.g. "elec/active_energy_import".
	Point   string
	Address uint16 // of the first (for 32-bit values, the high) word
	Words   int    // 1 (16-bit) or 2 (32-bit, high word first)
	Signed  bool   // two's complement
	// Scale converts the raw integer to Unit: 0.01 for a register counting 0.01 kWh
	// when Unit is kWh, 0.001 for watts read as kW.
	Scale float64
	Unit  string // a canonical lifang unit symbol (reading.Units)
}

// DefaultMap is the register map of lifang's reference battery/meter (see the package
// documentation). Describe another device with a map of its own.
var DefaultMap = []Register{
	{Name: "active energy import", Point: "elec/active_energy_import", Address: 0, Words: 2, Scale: 0.01, Unit: "kWh"},
	{Name: "active energy export", Point: "elec/active_energy_export", Address: 2, Words: 2, Scale: 0.01, Unit: "kWh"},
	{Name: "active power", Point: "elec/active_power", Address: 4, Words: 2, Signed: true, Scale: 0.001, Unit: "kW"},
	{Name: "battery state of charge", Point: "battery/soc", Address: 6, Words: 1, Scale: 0.1, Unit: "%"},
	{Name: "battery temperature", Point: "battery/temperature", Address: 7, Words: 1, Signed: true, Scale: 0.1, Unit: "degC"},
	{Name: "grid voltage", Point: "elec/grid_voltage", Address: 8, Words: 1, Scale: 0.1, Unit: "V"},
}

// ValidateMap checks a register map for device: words, scales, units and point names
// lifang accepts, addresses within the 16-bit space, no point twice.
func ValidateMap(m []Register, device string) error {
	if err := reading.ValidName(device); err != nil {
		return fmt.Errorf("modbus: device: %w", err)
	}
	if len(m) == 0 {
		return fmt.Errorf("modbus: empty register map")
	}
	seen := make(map[string]bool, len(m))
	for i, r := range m {
		what := fmt.Sprintf("modbus: register %d (%q)", i, r.Name)
		if r.Words != 1 && r.Words != 2 {
			return fmt.Errorf("%s: %d words, want 1 or 2", what, r.Words)
		}
		if int(r.Address)+r.Words-1 > math.MaxUint16 {
			return fmt.Errorf("%s: address %d+%d past 65535", what, r.Address, r.Words)
		}
		if r.Scale == 0 || !reading.Finite(r.Scale) {
			return fmt.Errorf("%s: scale %v, want a finite non-zero number", what, r.Scale)
		}
		if u, ok := reading.LookupUnit(r.Unit); !ok || u.Symbol != r.Unit {
			return fmt.Errorf("%s: unit %q is not a canonical lifang unit", what, r.Unit)
		}
		p := device + "/" + r.Point
		if r.Point == "" {
			return fmt.Errorf("%s: no point", what)
		}
		if err := reading.ValidName(p); err != nil {
			return fmt.Errorf("%s: point: %w", what, err)
		}
		if seen[p] {
			return fmt.Errorf("%s: point %q named twice", what, p)
		}
		seen[p] = true
	}
	return nil
}

// Span returns the registers Decode needs for map m: count registers from address
// first. It returns 0, 0 for an empty map.
func Span(m []Register) (first uint16, count int) {
	if len(m) == 0 {
		return 0, 0
	}
	first = math.MaxUint16
	end := 0
	for _, r := range m {
		first = min(first, r.Address)
		end = max(end, int(r.Address)+max(r.Words, 1))
	}
	return first, end - int(first)
}

// Decode turns registers read from device into readings at instant at, one per
// register of m in map order. regs[i] is the register at address first+i, where first
// is the lowest address in m (see Span). Decode is pure.
func Decode(regs []uint16, m []Register, device string, at time.Time) ([]reading.Reading, error) {
	if err := ValidateMap(m, device); err != nil {
		return nil, err
	}
	first, count := Span(m)
	if len(regs) < count {
		return nil, fmt.Errorf("modbus: %d registers, map needs %d from address %d", len(regs), count, first)
	}
	out := make([]reading.Reading, 0, len(m))
	for _, r := range m {
		i := int(r.Address - first)
		var raw int64
		if r.Words == 2 {
			w := uint32(regs[i])<<16 | uint32(regs[i+1])
			if r.Signed {
				raw = int64(int32(w))
			} else {
				raw = int64(w)
			}
		} else {
			if r.Signed {
				raw = int64(int16(regs[i]))
			} else {
				raw = int64(regs[i])
			}
		}
		v := scale(raw, r.Scale)
		if !reading.Finite(v) {
			return nil, fmt.Errorf("modbus: register %q: %d × %v is not a finite number", r.Name, raw, r.Scale)
		}
		out = append(out, reading.Reading{Point: device + "/" + r.Point, Time: at.UTC(), Value: v, Unit: r.Unit, Quality: reading.Good})
	}
	return out, nil
}

// scale returns raw·s, dividing by 1/s when that is an integer: 123456 / 100 is the
// float64 nearest 1234.56, where 123456 · 0.01 is not.
func scale(raw int64, s float64) float64 {
	inv := 1 / s
	if n := math.Round(inv); n != 0 && math.Abs(n) < 1<<53 && math.Abs(inv-n) <= 1e-9*math.Abs(n) {
		return float64(raw) / n
	}
	return float64(raw) * s
}

// block is one read request: count registers from address start.
type block struct {
	start uint16
	count int
}

// maxRead is the most holding registers one Modbus request may read (MAP spec §6.3).
const maxRead = 125

// plan groups the registers of m into reads of at most maxRead registers that cover
// only addresses the map names.
func plan(m []Register) []block {
	rs := slices.Clone(m)
	slices.SortFunc(rs, func(a, b Register) int { return int(a.Address) - int(b.Address) })
	var out []block
	for _, r := range rs {
		end := int(r.Address) + r.Words
		if n := len(out); n > 0 {
			b := &out[n-1]
			bEnd := int(b.start) + b.count
			if int(r.Address) <= bEnd && end-int(b.start) <= maxRead {
				b.count = max(bEnd, end) - int(b.start)
				continue
			}
		}
		out = append(out, block{start: r.Address, count: r.Words})
	}
	return out
}
