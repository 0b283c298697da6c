package settle

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/unit"
)

type memReadings struct {
	rs  map[string][]reading.Reading
	evs []reading.Event
}

func (m *memReadings) Range(_ context.Context, p string, from, to time.Time) ([]reading.Reading, error) {
	var out []reading.Reading
	for _, r := range m.rs[p] {
		if !r.Time.Before(from) && r.Time.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memReadings) Events(_ context.Context, k reading.EventKind) ([]reading.Event, error) {
	var out []reading.Event
	for _, e := range m.evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out, nil
}

const handUnit = `name: hand
location: {latitude_deg: 23, longitude_deg: 113, time_zone: Asia/Shanghai}
simulation: {start: "2025-01-01"}
buildings: [{name: A, households: 10}]
tariffs:
  electricity:
    seasons:
      - name: all
        months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        periods:
          - {name: valley, price_cny_per_kwh: 0.247, hours: ["0-8"]}
          - {name: flat, price_cny_per_kwh: 0.65, hours: ["8-24"]}
    export_cny_per_kwh: 0.453
    demand_charge_cny_per_kw_month: 30
    resident_cny_per_kwh: 0.62
  ev_charging: {service_fee_cny_per_kwh: 0.6, energy_cny_per_kwh: 0.65}
site:
  mqtt: {broker: tcp://127.0.0.1:1883}
  meters:
    - {id: grid, role: grid}
    - {id: "101室", role: household, household_level: true}
`

// A hand case: registers at 06:00, 07:00, 08:00, 09:00 and (after a gap) 12:00 local on
// 1 March 2025, plus an EV session, a payment and an expense.
func TestMeteredHandCase(t *testing.T) {
	u, err := unit.Parse([]byte(handUnit), "hand.yaml")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := func(h int) time.Time { return time.Date(2025, 3, 1, h, 0, 0, 0, loc) }
	reg := func(p string, vals ...float64) []reading.Reading {
		hours := []int{6, 7, 8, 9, 12}
		var out []reading.Reading
		for i, v := range vals {
			out = append(out, reading.Reading{Point: p, Time: at(hours[i]), Value: v, Unit: "kWh"})
		}
		return out
	}
	m := &memReadings{rs: map[string][]reading.Reading{
		"grid/elec/active_energy_import": reg("grid/elec/active_energy_import", 1000.5, 1010.5, 1030.25, 1045.25, 1099.25),
		"grid/elec/active_energy_export": reg("grid/elec/active_energy_export", 50, 50, 50, 52.5, 60),
		"101室/elec/active_energy_import": reg("101室/elec/active_energy_import", 7, 7.5, 8, 8.25, 9),
	}, evs: []reading.Event{
		{Kind: reading.EVSessionStart, Source: "CP1/1", Time: at(7), Attrs: map[string]string{"transaction_id": "3", "meter_start_wh": "1000"}},
		{Kind: reading.EVSessionStop, Source: "CP1/1", Time: at(9), Attrs: map[string]string{"transaction_id": "3", "meter_stop_wh": "13500"}},
		{Kind: EventPayment, Source: "operator", Time: at(10), Attrs: map[string]string{"amount_cny": "3200.00", "subsystem": "rentals", "item": "rent, flat 3-201"}},
		{Kind: EventExpense, Source: "operator", Time: at(11), Attrs: map[string]string{"amount_cny": "1234.56", "category": "maintenance", "document_sha256": "ab12"}},
	}}
	cp := Checkpoint{Origin: "o", TreeSize: 9, RootHash: "cm9vdA=="}
	s, err := Metered(context.Background(), m, u, "2025-03", cp)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range s.Lines {
		got[l.Item] = l.AmountCNY
		if l.Checkpoint != cp {
			t.Errorf("%s: checkpoint %+v", l.Item, l.Checkpoint)
		}
	}
	// By hand: valley intervals 06–07 (10 kWh) and 07–08 (19.75 kWh) at 0.247 = 7.34825 → 7.35;
	// flat 08–09 (15 kWh) and 09–12 (54 kWh, a gap) at 0.65 = 44.85;
	// export 08–09 2.5 and 09–12 7.5 kWh × 0.453 = 4.53; demand: peak mean power 19.75 kW × 30 = 592.50;
	// residents 2 kWh × 0.62 = 1.24; EV 12.5 kWh × 1.25 = 15.625 → 15.63; rent 3200; expense −1234.56.
	want := map[string]string{"grid import, valley": "-7.35", "grid import, flat": "-44.85", "export credit": "4.53", "demand charge": "-592.50",
		"resident electricity sales": "1.24", "charging sales": "15.63", "rent, flat 3-201": "3200.00", "maintenance": "-1234.56"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("lines %v, want %v", got, want)
	}
	// NOI is the sum of the rounded lines.
	if s.NOICNY != "1342.14" {
		t.Errorf("NOI %s, want 1342.14", s.NOICNY)
	}
	var gaps, incomplete int
	for _, f := range s.Flags {
		switch f.Kind {
		case "estimated":
			gaps++
			if !strings.Contains(f.From, "T09:00:00+08:00") || !strings.Contains(f.To, "T12:00:00+08:00") {
				t.Errorf("gap flag %+v", f)
			}
		case "incomplete_month":
			incomplete++
		}
	}
	if gaps != 3 || incomplete != 6 { // 3 registers each with the 09–12 gap, and no reading at either end of March
		t.Errorf("flags: %d estimated, %d incomplete: %+v", gaps, incomplete, s.Flags)
	}
}

func TestFen(t *testing.T) {
	for in, want := range map[string]string{"7.34825": "7.35", "-7.345": "-7.35", "0.004": "0.00", "-0.005": "-0.01", "15.625": "15.63", "1234567.891": "1234567.89"} {
		r, _ := parseRat(in)
		if got := fen(r); got != want {
			t.Errorf("fen(%s) = %s, want %s", in, got, want)
		}
	}
}

// The second formulation: the same hours as interval data (kWh/interval, the energy of
// the hour ending at each reading) settle to the same lines, to the fen.
func TestMeteredIntervalDataSameMonth(t *testing.T) {
	u, err := unit.Parse([]byte(handUnit), "hand.yaml")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := func(h int) time.Time { return time.Date(2025, 3, 1, h, 0, 0, 0, loc) }
	iv := func(p string, vals ...float64) []reading.Reading { // hours ending 07:00 … 12:00
		var out []reading.Reading
		for i, v := range vals {
			out = append(out, reading.Reading{Point: p, Time: at(7 + i), Value: v, Unit: "kWh/interval"})
		}
		return out
	}
	m := &memReadings{rs: map[string][]reading.Reading{
		"grid/elec/active_energy_import": iv("grid/elec/active_energy_import", 10, 19.75, 15, 18, 18, 18),
		"grid/elec/active_energy_export": iv("grid/elec/active_energy_export", 0, 0, 2.5, 2.5, 2.5, 2.5),
		"101室/elec/active_energy_import": iv("101室/elec/active_energy_import", 0.5, 0.5, 0.25, 0.25, 0.25, 0.25),
	}, evs: []reading.Event{
		{Kind: reading.EVSessionStart, Source: "CP1/1", Time: at(7), Attrs: map[string]string{"transaction_id": "3", "meter_start_wh": "1000"}},
		{Kind: reading.EVSessionStop, Source: "CP1/1", Time: at(9), Attrs: map[string]string{"transaction_id": "3", "meter_stop_wh": "13500"}},
		{Kind: EventPayment, Source: "operator", Time: at(10), Attrs: map[string]string{"amount_cny": "3200.00", "subsystem": "rentals", "item": "rent, flat 3-201"}},
		{Kind: EventExpense, Source: "operator", Time: at(11), Attrs: map[string]string{"amount_cny": "1234.56", "category": "maintenance", "document_sha256": "ab12"}},
	}}
	s, err := Metered(context.Background(), m, u, "2025-03", Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"grid import, valley": "-7.35", "grid import, flat": "-44.85", "export credit": "4.53", "demand charge": "-592.50",
		"resident electricity sales": "1.24", "charging sales": "15.63", "rent, flat 3-201": "3200.00", "maintenance": "-1234.56"}
	for _, l := range s.Lines {
		if want[l.Item] != l.AmountCNY {
			t.Errorf("%s: %s, want %s (as from the registers)", l.Item, l.AmountCNY, want[l.Item])
		}
	}
	if len(s.Lines) != len(want) || s.NOICNY != "1342.14" {
		t.Errorf("%d lines, NOI %s; want %d and 1342.14", len(s.Lines), s.NOICNY, len(want))
	}
	// A missing hour of interval data is flagged, not estimated.
	m.rs["grid/elec/active_energy_import"] = append(m.rs["grid/elec/active_energy_import"][:3], m.rs["grid/elec/active_energy_import"][4:]...)
	s, _ = Metered(context.Background(), m, u, "2025-03", Checkpoint{})
	var missing int
	for _, f := range s.Flags {
		if f.Kind == "missing" && f.Point == "grid/elec/active_energy_import" {
			missing++
		}
	}
	if missing != 1 {
		t.Errorf("flags %+v: want one missing interval", s.Flags)
	}
}
