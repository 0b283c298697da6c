package reading

import "strings"

// UnitInfo describes a known unit.
type UnitInfo struct {
	Symbol string // canonical symbol
	// Quantity is what it measures ("energy", "power", "volume", ...).
	Quantity string
	// Cumulative marks register units: a point in such a unit is a meter register that
	// only grows (until rollover or replacement).
	Cumulative bool
	// Min and Max bound plausible values (inclusive).
	Min, Max float64
	// BrickClass is the default Brick class of a point in this unit.
	BrickClass string
}

// Units are the units lifang accepts; readings in any other unit are quarantined.
var Units = []UnitInfo{
	{"kWh", "energy", true, 0, 1e12, "Electric_Energy_Sensor"},
	{"Wh", "energy", true, 0, 1e15, "Electric_Energy_Sensor"},
	{"MWh", "energy", true, 0, 1e9, "Electric_Energy_Sensor"},
	// kWh/interval is interval data (AMI load profile): the energy of the interval that
	// ends at the reading's time, not a register.
	{"kWh/interval", "interval_energy", false, 0, 1e9, "Electric_Energy_Sensor"},
	{"kW", "power", false, -1e6, 1e6, "Electric_Power_Sensor"},
	{"W", "power", false, -1e9, 1e9, "Electric_Power_Sensor"},
	{"kvar", "reactive_power", false, -1e6, 1e6, "Reactive_Power_Sensor"},
	{"V", "voltage", false, 0, 1e6, "Voltage_Sensor"},
	{"A", "current", false, -1e5, 1e5, "Current_Sensor"},
	{"Hz", "frequency", false, 0, 1000, "Frequency_Sensor"},
	{"%", "ratio", false, 0, 100, "State_Of_Charge_Sensor"},
	{"m3", "volume", true, 0, 1e12, "Water_Volume_Sensor"},
	{"m3/h", "flow", false, 0, 1e6, "Water_Flow_Sensor"},
	{"L", "volume", true, 0, 1e15, "Water_Volume_Sensor"},
	{"mm", "depth", false, 0, 1e4, "Rain_Sensor"},
	{"degC", "temperature", false, -90, 200, "Temperature_Sensor"},
	{"W/m2", "irradiance", false, 0, 2000, "Solar_Radiance_Sensor"},
	{"count", "count", false, 0, 1e9, "Occupancy_Count_Sensor"},
	{"CNY", "money", false, -1e12, 1e12, "Sensor"},
}

var unitAliases = map[string]string{
	"kwh": "kWh", "wh": "Wh", "mwh": "MWh", "kwh/interval": "kWh/interval", "kw": "kW", "w": "W", "kvar": "kvar", "v": "V", "a": "A", "hz": "Hz",
	"%": "%", "percent": "%", "m3": "m3", "m³": "m3", "m3/h": "m3/h", "m³/h": "m3/h", "l": "L", "mm": "mm",
	"degc": "degC", "°c": "degC", "c": "degC", "celsius": "degC", "w/m2": "W/m2", "w/m²": "W/m2",
	"count": "count", "cars": "count", "cny": "CNY", "yuan": "CNY",
}

// bySymbol finds a unit by its canonical symbol without folding case (the hot path:
// most readings carry the canonical symbol).
var bySymbol = func() map[string]UnitInfo {
	m := make(map[string]UnitInfo, len(Units))
	for _, u := range Units {
		m[u.Symbol] = u
	}
	return m
}()

// LookupUnit returns the known unit for a symbol or alias (case-insensitive).
func LookupUnit(s string) (UnitInfo, bool) {
	if u, ok := bySymbol[s]; ok {
		return u, true
	}
	sym, ok := unitAliases[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return UnitInfo{}, false
	}
	for _, u := range Units {
		if u.Symbol == sym {
			return u, true
		}
	}
	return UnitInfo{}, false
}
