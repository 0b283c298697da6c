package ocpp

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/lifang-community/lifang/reading"
)

// measurandInfo is what lifang knows of an OCPP 1.6 measurand: the point suffix, the
// quantity its unit must measure (reading.UnitInfo.Quantity) and the unit OCPP implies
// when a sampled value names none.
type measurandInfo struct {
	name     string // snake_case point suffix
	quantity string
	unit     types.UnitOfMeasure // default when the sampled value has no unit
}

// measurands covers every OCPP 1.6 measurand (§7.31). The ones with no lifang unit
// (power factor, RPM, reactive energy) are listed with an empty quantity so that they
// are quarantined with a reason rather than silently dropped.
var measurands = map[types.Measurand]measurandInfo{
	types.MeasurandCurrentExport:                {"current_export", "current", types.UnitOfMeasureA},
	types.MeasurandCurrentImport:                {"current_import", "current", types.UnitOfMeasureA},
	types.MeasurandCurrentOffered:               {"current_offered", "current", types.UnitOfMeasureA},
	types.MeasurandEnergyActiveExportRegister:   {"energy_active_export_register", "energy", types.UnitOfMeasureWh},
	types.MeasurandEnergyActiveImportRegister:   {"energy_active_import_register", "energy", types.UnitOfMeasureWh},
	types.MeasurandEnergyReactiveExportRegister: {"energy_reactive_export_register", "", ""},
	types.MeasurandEnergyReactiveImportRegister: {"energy_reactive_import_register", "", ""},
	types.MeasurandEnergyActiveExportInterval:   {"energy_active_export_interval", "energy", types.UnitOfMeasureWh},
	types.MeasurandEnergyActiveImportInterval:   {"energy_active_import_interval", "energy", types.UnitOfMeasureWh},
	types.MeasurandEnergyReactiveExportInterval: {"energy_reactive_export_interval", "", ""},
	types.MeasurandEnergyReactiveImportInterval: {"energy_reactive_import_interval", "", ""},
	// OCPP 1.6 has no unit for frequency: it is always hertz (§7.31, Frequency).
	types.MeasurandFrequency:           {"frequency", "frequency", unitHertz},
	types.MeasurandPowerActiveExport:   {"power_active_export", "power", types.UnitOfMeasureW},
	types.MeasurandPowerActiveImport:   {"power_active_import", "power", types.UnitOfMeasureW},
	types.MeasurandPowerFactor:         {"power_factor", "", ""},
	types.MeasurandPowerOffered:        {"power_offered", "power", types.UnitOfMeasureW},
	types.MeasurandPowerReactiveExport: {"power_reactive_export", "reactive_power", types.UnitOfMeasureVar},
	types.MeasurandPowerReactiveImport: {"power_reactive_import", "reactive_power", types.UnitOfMeasureVar},
	types.MeasurandRPM:                 {"rpm", "", ""},
	types.MeasurandSoC:                 {"soc", "ratio", types.UnitOfMeasurePercent},
	types.MeasurandTemperature:         {"temperature", "temperature", types.UnitOfMeasureCelsius},
	types.MeasurandVoltage:             {"voltage", "voltage", types.UnitOfMeasureV},
}

// unitHertz stands for the frequency unit OCPP 1.6 does not have.
const unitHertz types.UnitOfMeasure = "Hz"

// unitConv maps an OCPP unit of measure to a lifang unit: value·scale + offset.
type unitConv struct {
	symbol        string
	scale, offset float64
}

var units = map[types.UnitOfMeasure]unitConv{
	types.UnitOfMeasureWh:         {"Wh", 1, 0},
	types.UnitOfMeasureKWh:        {"kWh", 1, 0},
	types.UnitOfMeasureW:          {"W", 1, 0},
	types.UnitOfMeasureKW:         {"kW", 1, 0},
	types.UnitOfMeasureVar:        {"kvar", 1e-3, 0},
	types.UnitOfMeasureKvar:       {"kvar", 1, 0},
	types.UnitOfMeasureA:          {"A", 1, 0},
	types.UnitOfMeasureV:          {"V", 1, 0},
	types.UnitOfMeasurePercent:    {"%", 1, 0},
	types.UnitOfMeasureCelsius:    {"degC", 1, 0},
	types.UnitOfMeasureCelcius:    {"degC", 1, 0}, // the misspelling is in the OCPP 1.6 schema
	types.UnitOfMeasureK:          {"degC", 1, -273.15},
	types.UnitOfMeasureFahrenheit: {"degC", 5.0 / 9, -32 * 5.0 / 9},
	unitHertz:                     {"Hz", 1, 0},
}

// phases are the OCPP 1.6 phase values; they become a point suffix ("l1", "l1_n").
var phases = map[types.Phase]bool{
	types.PhaseL1: true, types.PhaseL2: true, types.PhaseL3: true, types.PhaseN: true,
	types.PhaseL1N: true, types.PhaseL2N: true, types.PhaseL3N: true,
	types.PhaseL1L2: true, types.PhaseL2L3: true, types.PhaseL3L1: true,
}

var locations = map[types.Location]bool{
	types.LocationBody: true, types.LocationCable: true, types.LocationEV: true,
	types.LocationInlet: true, types.LocationOutlet: true,
}

// parseSampledValue turns one OCPP sampled value of connector on charge point cp at
// instant at into a reading. The point is "<cp>/<connector>/<measurand>", followed by
// "_<phase>" when the value names a phase and "_<location>" when it was measured
// anywhere but the outlet (OCPP's default), so that values of different phases or
// locations never collide on one point.
func parseSampledValue(cp string, connector int, at time.Time, sv types.SampledValue) (reading.Reading, error) {
	if sv.Format == types.ValueFormatSignedData {
		return reading.Reading{}, fmt.Errorf("signed meter value: verifying signed data is not supported")
	}
	if sv.Format != "" && sv.Format != types.ValueFormatRaw {
		return reading.Reading{}, fmt.Errorf("value format %q: want Raw or SignedData", sv.Format)
	}
	m := sv.Measurand
	if m == "" {
		m = types.MeasurandEnergyActiveImportRegister
	}
	info, ok := measurands[m]
	if !ok {
		return reading.Reading{}, fmt.Errorf("unknown measurand %q", m)
	}
	if info.quantity == "" {
		return reading.Reading{}, fmt.Errorf("measurand %s has no lifang unit", m)
	}
	unit := sv.Unit
	if unit == "" || m == types.MeasurandFrequency {
		unit = info.unit
	}
	conv, ok := units[unit]
	if !ok {
		return reading.Reading{}, fmt.Errorf("unit %q of %s has no lifang equivalent", unit, m)
	}
	if u, _ := reading.LookupUnit(conv.symbol); u.Quantity != info.quantity {
		return reading.Reading{}, fmt.Errorf("unit %q does not measure %s (%s)", unit, info.quantity, m)
	}

	point := cp + "/" + strconv.Itoa(connector) + "/" + info.name
	if sv.Phase != "" {
		if !phases[sv.Phase] {
			return reading.Reading{}, fmt.Errorf("unknown phase %q", sv.Phase)
		}
		point += "_" + strings.ReplaceAll(strings.ToLower(string(sv.Phase)), "-", "_")
	}
	if sv.Location != "" && sv.Location != types.LocationOutlet {
		if !locations[sv.Location] {
			return reading.Reading{}, fmt.Errorf("unknown location %q", sv.Location)
		}
		point += "_" + strings.ToLower(string(sv.Location))
	}

	v, err := parseDecimal(sv.Value)
	if err != nil {
		return reading.Reading{}, err
	}
	v = v*conv.scale + conv.offset
	if !reading.Finite(v) {
		return reading.Reading{}, fmt.Errorf("value %q out of range", sv.Value)
	}
	return reading.Reading{Point: point, Time: at.UTC(), Value: v, Unit: conv.symbol, Quality: reading.Good}, nil
}

// parseDecimal accepts what OCPP calls a decimal value: an optional sign, digits with an
// optional fraction, an optional exponent. strconv.ParseFloat alone would also take
// "NaN", "Inf", hexadecimal floats and underscores.
func parseDecimal(s string) (float64, error) {
	if !isDecimal(s) {
		return 0, fmt.Errorf("value %q is not a decimal number", truncate(s, 40))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("value %q out of range", truncate(s, 40))
	}
	return v, nil
}

func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// truncate keeps reasons short when a charger sends a long garbage value; the whole
// value is kept in the quarantined raw input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
