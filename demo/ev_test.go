package demo

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/twin"
)

func TestEVSessions(t *testing.T) {
	u, m, in := demoYear(t, 7)
	cap := 0.8 * u.EV.Fleet.BatteryKWh
	byCharger := make([][]twin.EVSession, len(m.Chargers))
	byVehicle := map[string][]twin.EVSession{}
	energy := 0.0
	for i, s := range in.EVSessions {
		if s.Depart <= s.Arrive || s.EnergyKWh <= 0 || s.EnergyKWh > cap+1e-9 || s.Depart > in.Steps {
			t.Fatalf("session %d: %+v", i, s)
		}
		if s.MaxKW != u.EV.Fleet.MaxChargeKW {
			t.Fatalf("session %d: MaxKW %g", i, s.MaxKW)
		}
		byCharger[s.Charger] = append(byCharger[s.Charger], s)
		byVehicle[s.Vehicle] = append(byVehicle[s.Vehicle], s)
		energy += s.EnergyKWh
	}
	overlaps := func(ss []twin.EVSession) bool {
		slices.SortFunc(ss, func(a, b twin.EVSession) int { return a.Arrive - b.Arrive })
		for i := 1; i < len(ss); i++ {
			if ss[i].Arrive < ss[i-1].Depart {
				return true
			}
		}
		return false
	}
	for c, ss := range byCharger {
		if overlaps(ss) {
			t.Errorf("charger %s holds overlapping sessions", m.Chargers[c].Name)
		}
	}
	for v, ss := range byVehicle {
		if overlaps(ss) {
			t.Errorf("vehicle %s is at two chargers at once", v)
		}
	}
	// Overnight sessions use AC chargers, and most plug-ins are in the evening.
	evening, dcLong := 0, 0
	for _, s := range in.EVSessions {
		if h := s.Arrive % 24; h >= 17 && h <= 23 {
			evening++
		}
		if strings.HasPrefix(m.Chargers[s.Charger].Name, "dc") && s.Depart-s.Arrive > 6 {
			dcLong++
		}
	}
	if evening < len(in.EVSessions)/2 || dcLong > 0 {
		t.Errorf("%d of %d sessions arrive 17–23 h; %d long sessions on DC chargers", evening, len(in.EVSessions), dcLong)
	}
	// Energy: what the fleet drives, less the sessions that found no charger.
	g, _ := newGen(u, m, 7)
	g.w = g.weather()
	if _, err := g.evSessions(); err != nil {
		t.Fatal(err)
	}
	driven := float64(u.EV.Fleet.Vehicles) * u.EV.Fleet.DailyKmMean * 365 * u.EV.Fleet.KWhPer100Km / 100
	t.Logf("%d sessions, %.0f MWh (fleet drives %.0f MWh); %d sessions found no free charger", len(in.EVSessions), energy/1000, driven/1000, g.evUnplugged)
	plugged := float64(len(in.EVSessions)) / float64(len(in.EVSessions)+g.evUnplugged)
	if math.Abs(energy-driven*plugged) > 0.15*driven {
		t.Errorf("charged %.0f kWh, want ≈ %.0f (driven × plugged share %.2f)", energy, driven*plugged, plugged)
	}
}
