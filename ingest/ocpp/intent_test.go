package ocpp

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseSessionIntent(t *testing.T) {
	dep := time.Date(2031, 6, 1, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		data string
		want SessionIntent
		err  string
	}{
		{`{"connector":1,"transaction_id":12,"departure":"2031-06-01T17:30:00+08:00","energy_kwh":23.5}`,
			SessionIntent{Connector: 1, TransactionID: 12, Departure: dep, EnergyNeedKWh: 23.5}, ""},
		{`{"connector":2,"departure":"2031-06-01T09:30:00Z"}`, SessionIntent{Connector: 2, Departure: dep}, ""},
		{`{"connector":3,"energy_kwh":0}`, SessionIntent{Connector: 3}, ""},
		{`{"connector":1,"max_power_kw":11}`, SessionIntent{Connector: 1, MaxPowerKW: 11}, ""},
		{`{"connector":1,"max_power_kw":-1}`, SessionIntent{}, "max_power_kw"},
		{`{"connector":1,"max_power_kw":1000.5}`, SessionIntent{}, "max_power_kw"},
		{` {"energy_kwh":1000,"connector":1} `, SessionIntent{Connector: 1, EnergyNeedKWh: 1000}, ""},
		{``, SessionIntent{}, "EOF"},
		{`[]`, SessionIntent{}, "want a JSON object"},
		{`{"Connector":1,"energy_kwh":1}`, SessionIntent{}, "unknown field"}, // found by FuzzSessionIntent
		{`{"connector":1,"energy_kwh":1,"connector":2}`, SessionIntent{}, "given twice"},
		{`{"connector":1,"energy_kwh":1`, SessionIntent{}, "EOF"},
		{`{"connector":1,"energy_kwh":1}{}`, SessionIntent{}, "data after"},
		{`{"energy_kwh":1}`, SessionIntent{}, "connector: missing"},
		{`{"connector":null,"energy_kwh":1}`, SessionIntent{}, "connector: missing"},
		{`{"connector":0,"energy_kwh":1}`, SessionIntent{}, "want ≥ 1"},
		{`{"connector":1.5,"energy_kwh":1}`, SessionIntent{}, "cannot unmarshal"},
		{`{"connector":1,"transaction_id":-1,"energy_kwh":1}`, SessionIntent{}, "transaction_id"},
		{`{"connector":1}`, SessionIntent{}, "none of departure"},
		{`{"connector":1,"departure":"tomorrow"}`, SessionIntent{}, "not RFC 3339"},
		{`{"connector":1,"departure":"2031-06-01 09:30:00"}`, SessionIntent{}, "not RFC 3339"},
		{`{"connector":1,"energy_kwh":-1}`, SessionIntent{}, "energy_kwh"},
		{`{"connector":1,"energy_kwh":1001}`, SessionIntent{}, "energy_kwh"},
		{`{"connector":1,"energy_kwh":1e999}`, SessionIntent{}, "cannot unmarshal"},
		{`{"connector":1,"energy_kwh":"5"}`, SessionIntent{}, "cannot unmarshal"},
		{`{"connector":1,"energy_kwh":1,"soc":80}`, SessionIntent{}, "unknown field"},
		{`{"connector":1,"energy_kwh":1,"pad":"` + strings.Repeat("x", maxIntentBytes) + `"}`, SessionIntent{}, "bytes"},
	}
	for _, tt := range tests {
		got, err := ParseSessionIntent([]byte(tt.data))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%.60s: error %v, want %q", tt.data, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%.60s: %+v, %v; want %+v", tt.data, got, err, tt.want)
		}
	}
}

// FuzzSessionIntent: whatever a charger sends, the decoder never panics; what it
// accepts is within bounds and survives encoding and decoding again unchanged.
func FuzzSessionIntent(f *testing.F) {
	for _, s := range []string{
		`{"connector":1,"transaction_id":12,"departure":"2031-06-01T17:30:00+08:00","energy_kwh":23.5}`,
		`{"connector":2,"departure":"2031-06-01T09:30:00.123456789Z"}`,
		`{"connector":1,"energy_kwh":0}`,
		`{"connector":1,"max_power_kw":0}`,
		`{"connector":3,"max_power_kw":150.5,"energy_kwh":60}`,
		`{"connector":0}`,
		`{"connector":1,"energy_kwh":1e400}`,
		`{"connector":1,"departure":"0000-01-01T00:00:00-23:59"}`,
		`{"connector":9223372036854775807,"transaction_id":9223372036854775807,"energy_kwh":1000}`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseSessionIntent(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty reason")
			}
			return
		}
		if in.Connector < 1 || in.TransactionID < 0 || math.IsNaN(in.EnergyNeedKWh) || in.EnergyNeedKWh < 0 ||
			in.EnergyNeedKWh > MaxEnergyNeedKWh || math.IsNaN(in.MaxPowerKW) || in.MaxPowerKW < 0 || in.MaxPowerKW > MaxDeclaredPowerKW ||
			(in.Departure.IsZero() && in.EnergyNeedKWh == 0 && in.MaxPowerKW == 0 &&
				!strings.Contains(string(data), "energy_kwh") && !strings.Contains(string(data), "max_power_kw")) {
			t.Fatalf("%q accepted as %+v", data, in)
		}
		if !in.Departure.IsZero() && in.Departure.Location() != time.UTC {
			t.Fatalf("%q: departure %v not in UTC", data, in.Departure)
		}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		again, err := ParseSessionIntent(b)
		if err != nil || !again.Departure.Equal(in.Departure) || again.Connector != in.Connector ||
			again.TransactionID != in.TransactionID || again.EnergyNeedKWh != in.EnergyNeedKWh || again.MaxPowerKW != in.MaxPowerKW {
			t.Fatalf("%q → %+v → %s → %+v, %v", data, in, b, again, err)
		}
	})
}
