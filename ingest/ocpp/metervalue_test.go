package ocpp

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/lifang-community/lifang/reading"
)

// sha256Hex is the expected id_tag_hash, computed apart from the code under test.
func sha256Hex(s string) string {
	h := sha256.New()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func TestParseSampledValue(t *testing.T) {
	at := time.Date(2025, 3, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		sv    types.SampledValue
		point string
		value float64
		unit  string
		err   string
	}{
		{types.SampledValue{Value: "1500"}, "CP/1/energy_active_import_register", 1500, "Wh", ""},
		{types.SampledValue{Value: "12.5", Unit: "kWh"}, "CP/1/energy_active_import_register", 12.5, "kWh", ""},
		{types.SampledValue{Value: "7.2", Measurand: "Power.Active.Import", Unit: "kW"}, "CP/1/power_active_import", 7.2, "kW", ""},
		{types.SampledValue{Value: "7200", Measurand: "Power.Active.Import"}, "CP/1/power_active_import", 7200, "W", ""},
		{types.SampledValue{Value: "16", Measurand: "Current.Import", Phase: "L2"}, "CP/1/current_import_l2", 16, "A", ""},
		{types.SampledValue{Value: "230", Measurand: "Voltage", Phase: "L1-N", Unit: "V"}, "CP/1/voltage_l1_n", 230, "V", ""},
		{types.SampledValue{Value: "81", Measurand: "SoC", Location: "EV", Unit: "Percent"}, "CP/1/soc_ev", 81, "%", ""},
		{types.SampledValue{Value: "35.5", Measurand: "Temperature", Location: "Body", Unit: "Celsius"}, "CP/1/temperature_body", 35.5, "degC", ""},
		{types.SampledValue{Value: "35.5", Measurand: "Temperature", Unit: "Celcius"}, "CP/1/temperature", 35.5, "degC", ""},
		{types.SampledValue{Value: "300", Measurand: "Temperature", Unit: "K"}, "CP/1/temperature", 300 - 273.15, "degC", ""},
		{types.SampledValue{Value: "212", Measurand: "Temperature", Unit: "Fahrenheit"}, "CP/1/temperature", 100, "degC", ""},
		{types.SampledValue{Value: "50.01", Measurand: "Frequency"}, "CP/1/frequency", 50.01, "Hz", ""},
		{types.SampledValue{Value: "1500", Measurand: "Power.Reactive.Import"}, "CP/1/power_reactive_import", 1.5, "kvar", ""},
		{types.SampledValue{Value: "1", Location: "Outlet", Format: "Raw"}, "CP/1/energy_active_import_register", 1, "Wh", ""},
		{types.SampledValue{Value: "-1.5e3", Measurand: "Power.Active.Export"}, "CP/1/power_active_export", -1500, "W", ""},
		{types.SampledValue{Value: "abc"}, "", 0, "", "not a decimal number"},
		{types.SampledValue{Value: ""}, "", 0, "", "not a decimal number"},
		{types.SampledValue{Value: "NaN"}, "", 0, "", "not a decimal number"},
		{types.SampledValue{Value: "Inf"}, "", 0, "", "not a decimal number"},
		{types.SampledValue{Value: "0x10"}, "", 0, "", "not a decimal number"},
		{types.SampledValue{Value: "1_000"}, "", 0, "", "not a decimal number"},
		{types.SampledValue{Value: " 12"}, "", 0, "", "not a decimal number"},
		{types.SampledValue{Value: "1e"}, "", 0, "", "not a decimal number"},
		{types.SampledValue{Value: "1e999"}, "", 0, "", "out of range"},
		{types.SampledValue{Value: "1e308", Measurand: "Temperature", Unit: "Fahrenheit"}, "", 0, "", ""}, // finite: kept
		{types.SampledValue{Value: "AbCd", Format: "SignedData"}, "", 0, "", "signed meter value"},
		{types.SampledValue{Value: "0.9", Measurand: "Power.Factor"}, "", 0, "", "no lifang unit"},
		{types.SampledValue{Value: "10", Measurand: "Energy.Reactive.Import.Register", Unit: "kvarh"}, "", 0, "", "no lifang unit"},
		{types.SampledValue{Value: "10", Measurand: "Power.Active.Import", Unit: "kVA"}, "", 0, "", "no lifang equivalent"},
		{types.SampledValue{Value: "10", Measurand: "Energy.Active.Import.Register", Unit: "A"}, "", 0, "", "does not measure energy"},
		{types.SampledValue{Value: "10", Measurand: "Bogus"}, "", 0, "", "unknown measurand"},
		{types.SampledValue{Value: "10", Phase: "L4"}, "", 0, "", "unknown phase"},
		{types.SampledValue{Value: "10", Location: "Roof"}, "", 0, "", "unknown location"},
	}
	for _, tt := range tests {
		r, err := parseSampledValue("CP", 1, at, tt.sv)
		if tt.err != "" || tt.point == "" {
			if tt.err == "" {
				if err != nil {
					t.Errorf("%+v: %v", tt.sv, err)
				}
				continue
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%+v: error %v, want %q", tt.sv, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tt.sv, err)
			continue
		}
		if r.Point != tt.point || math.Abs(r.Value-tt.value) > 1e-9 || r.Unit != tt.unit || !r.Time.Equal(at) ||
			r.Time.Location() != time.UTC || r.Quality != reading.Good {
			t.Errorf("%+v: got %+v, want %s %v %s", tt.sv, r, tt.point, tt.value, tt.unit)
		}
	}
}

// Every measurand and unit the tables name gives a point lifang accepts, or an error.
func TestTablesAgreeWithReadingUnits(t *testing.T) {
	for m, info := range measurands {
		if err := reading.ValidName("CP/1/" + info.name); err != nil {
			t.Errorf("%s: %v", m, err)
		}
		if info.quantity != "" {
			u, ok := reading.LookupUnit(units[info.unit].symbol)
			if !ok || u.Quantity != info.quantity {
				t.Errorf("%s: default unit %q gives %+v", m, info.unit, u)
			}
		}
	}
	for o, c := range units {
		if u, ok := reading.LookupUnit(c.symbol); !ok || u.Symbol != c.symbol {
			t.Errorf("OCPP unit %s maps to %q, not a canonical lifang unit", o, c.symbol)
		}
	}
}

// FuzzMeterValue: whatever a charger sends, parsing a sampled value never panics, and
// a value it accepts is a finite number of a canonical unit on a valid point.
func FuzzMeterValue(f *testing.F) {
	f.Add("1500", "", "", "", "", "")
	f.Add("7.2", "Power.Active.Import", "kW", "L1", "Outlet", "Raw")
	f.Add("abc", "Energy.Active.Import.Register", "Wh", "", "", "")
	f.Add("-0.5e-3", "Temperature", "Fahrenheit", "", "Body", "")
	f.Add("1e308", "Power.Reactive.Export", "kvar", "L3-L1", "EV", "")
	f.Add("NaN", "SoC", "Percent", "N", "Inlet", "SignedData")
	f.Add("+.5", "Frequency", "K", "L2-N", "Cable", "")
	f.Fuzz(func(t *testing.T, value, measurand, unit, phase, location, format string) {
		at := time.Unix(1740816000, 0)
		sv := types.SampledValue{Value: value, Measurand: types.Measurand(measurand), Unit: types.UnitOfMeasure(unit),
			Phase: types.Phase(phase), Location: types.Location(location), Format: types.ValueFormat(format)}
		r, err := parseSampledValue("CP1", 1, at, sv)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty reason")
			}
			return
		}
		if !reading.Finite(r.Value) {
			t.Fatalf("%+v: value %v", sv, r.Value)
		}
		if err := reading.ValidName(r.Point); err != nil {
			t.Fatalf("%+v: point: %v", sv, err)
		}
		if !strings.HasPrefix(r.Point, "CP1/1/") {
			t.Fatalf("%+v: point %q", sv, r.Point)
		}
		if u, ok := reading.LookupUnit(r.Unit); !ok || u.Symbol != r.Unit {
			t.Fatalf("%+v: unit %q", sv, r.Unit)
		}
		if !r.Time.Equal(at) || r.Quality != reading.Good {
			t.Fatalf("%+v: %+v", sv, r)
		}
		// Without conversion the value is exactly what the charger wrote.
		m := sv.Measurand
		if m == "" {
			m = types.MeasurandEnergyActiveImportRegister
		}
		eff := sv.Unit
		if eff == "" || m == types.MeasurandFrequency {
			eff = measurands[m].unit
		}
		if c := units[eff]; c.scale == 1 && c.offset == 0 {
			if want, _ := strconv.ParseFloat(value, 64); r.Value != want {
				t.Fatalf("%+v: value %v, want %v", sv, r.Value, want)
			}
		}
	})
}
