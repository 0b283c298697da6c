package citylearn

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/twin"
)

const chargerHeader = "electric_vehicle_charger_state,electric_vehicle_id,electric_vehicle_battery_capacity_khw,current_soc,electric_vehicle_departure_time,electric_vehicle_required_soc_departure,electric_vehicle_estimated_arrival_time,electric_vehicle_estimated_soc_arrival"

func TestReadSessions(t *testing.T) {
	cases := []struct {
		name        string
		skip, steps int
		rows        []string
		want        []twin.EVSession
	}{
		{"countdown", 0, 5, []string{"3,,,,,,,", "1,A,60,40,2.0,80,,", "1,A,60,55,1.0,80,,", "1,A,60,20,0.0,80,,", "3,,,,,,,"},
			[]twin.EVSession{{Charger: 2, Vehicle: "A", Arrive: 1, Depart: 4, EnergyKWh: 24}}},
		{"announced arrivals are not stays", 0, 4, []string{"2,A,60,40,,,1,40", "1,A,60,40,1,80,,", "1,A,60,40,0,80,,", "2,B,50,30,,,0,30"},
			[]twin.EVSession{{Charger: 2, Vehicle: "A", Arrive: 1, Depart: 3, EnergyKWh: 24}}},
		{"back to back, countdown restarts", 0, 4, []string{"1,A,60,40,1,80,,", "1,A,60,40,0,80,,", "1,A,60,70,1,80,,", "1,A,60,40,0,80,,"},
			[]twin.EVSession{{Charger: 2, Vehicle: "A", Arrive: 0, Depart: 2, EnergyKWh: 24}, {Charger: 2, Vehicle: "A", Arrive: 2, Depart: 4, EnergyKWh: 6}}},
		{"vehicle changes", 0, 2, []string{"1,A,60,40,0,80,,", "1,B,50,40,0,50,,"},
			[]twin.EVSession{{Charger: 2, Vehicle: "A", Arrive: 0, Depart: 1, EnergyKWh: 24}, {Charger: 2, Vehicle: "B", Arrive: 1, Depart: 2, EnergyKWh: 5}}},
		{"countdown ends at 1", 0, 3, []string{"1,A,60,40,2,80,,", "1,A,60,40,1,80,,", "3,,,,,,,"},
			[]twin.EVSession{{Charger: 2, Vehicle: "A", Arrive: 0, Depart: 2, EnergyKWh: 24}}},
		{"no departure time", 0, 3, []string{"1,A,60,40,,80,,", "1,A,60,40,,80,,", "3,,,,,,,"},
			[]twin.EVSession{{Charger: 2, Vehicle: "A", Arrive: 0, Depart: 2, EnergyKWh: 24}}},
		{"clipped at the last step", 0, 2, []string{"1,A,60,40,3,80,,", "1,A,60,40,2,80,,", "1,A,60,40,1,80,,", "1,A,60,40,0,80,,"},
			[]twin.EVSession{{Charger: 2, Vehicle: "A", Arrive: 0, Depart: 2, EnergyKWh: 24}}},
		{"begun before the first step", 2, 2, []string{"1,A,60,40,2,80,,", "1,A,60,40,1,80,,", "1,A,60,40,0,80,,", "3,,,,,,,"},
			[]twin.EVSession{{Charger: 2, Vehicle: "A", Arrive: 0, Depart: 1, EnergyKWh: 24}}},
		{"ended before the first step", 2, 1, []string{"1,A,60,40,1,80,,", "1,A,60,40,0,80,,", "3,,,,,,,"}, nil},
		{"already charged", 0, 1, []string{"1,A,60,90,0,80,,"},
			[]twin.EVSession{{Charger: 2, Vehicle: "A", Arrive: 0, Depart: 1, EnergyKWh: 0}}},
		{"capacity from electric_vehicles_def", 0, 1, []string{"1,V,,40,0,80,,"},
			[]twin.EVSession{{Charger: 2, Vehicle: "V", Arrive: 0, Depart: 1, EnergyKWh: 40}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			body := chargerHeader + "\n" + strings.Join(c.rows, "\n") + "\n"
			if err := os.WriteFile(filepath.Join(d, "c.csv"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			im := &importer{dir: d, skip: c.skip, steps: c.steps, stepHours: 1, vehicles: map[string]float64{"V": 100}}
			got, err := im.readSessions("c.csv", 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 && len(c.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
	t.Run("no capacity anywhere", func(t *testing.T) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "c.csv"), []byte(chargerHeader+"\n3,,,,,,,\n1,W,,40,0,80,,\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		im := &importer{dir: d, steps: 2, stepHours: 1}
		_, err := im.readSessions("c.csv", 0)
		if err == nil || !strings.Contains(err.Error(), `c.csv:3: vehicle "W": no battery capacity`) {
			t.Errorf("error %v", err)
		}
	})
}

// Depart is the first row after the connected run; the data's departure countdown
// says the same for nearly every stay (a few count down to 1, or are cut short).
func TestSessionsFollowCountdown(t *testing.T) {
	d := dataset(t, "2022_all_plus_evs")
	u, in, _, err := Import(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	withDep, agree := 0, 0
	for ci, c := range u.EV.Chargers {
		f := readCSV(t, filepath.Join(d, c.Name+".csv"))
		state, id, dep := f.col["electric_vehicle_charger_state"], f.col["electric_vehicle_id"], f.col["electric_vehicle_departure_time"]
		connected, covered := 0, 0
		for _, r := range f.rows[:in.Steps] {
			if r[state] == "1" {
				connected++
			}
		}
		for _, s := range in.EVSessions {
			if s.Charger != ci {
				continue
			}
			covered += s.Depart - s.Arrive
			for k := s.Arrive; k < s.Depart; k++ {
				if r := f.rows[k]; r[state] != "1" || r[id] != s.Vehicle {
					t.Fatalf("%s: session %+v covers row %d (state %s, vehicle %s)", c.Name, s, k+2, r[state], r[id])
				}
			}
			v := f.rows[s.Arrive][dep]
			if v == "" || s.Depart == in.Steps {
				continue
			}
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			withDep++
			stay := s.Depart - s.Arrive
			if stay == int(n)+1 {
				agree++
			} else if stay > int(n)+1 {
				t.Errorf("%s: session %+v outstays its departure time %v", c.Name, s, n)
			}
		}
		if covered != connected {
			t.Errorf("%s: sessions cover %d rows, %d are connected", c.Name, covered, connected)
		}
	}
	t.Logf("%d of %d stays last exactly departure_time + 1 steps", agree, withDep)
	if withDep == 0 || float64(agree) < 0.95*float64(withDep) {
		t.Errorf("only %d of %d stays agree with the departure countdown", agree, withDep)
	}
}
