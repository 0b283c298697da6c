package kpi

import (
	"math"
	"testing"
)

// A constant 10 kW critical load, no PV, 50 kWh usable at η_d = 1 carries exactly 5 h
// from every start; with η_d = 0.8 it carries 4 h.
func TestOutageHandCase(t *testing.T) {
	n := 48
	crit, pv, start := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range crit {
		crit[i] = 10
		start[i] = 60
	}
	b := Backup{CapacityKWh: 100, MinKWh: 10, MaxKWh: 90, PowerKW: 50, EtaCharge: 1, EtaDischarge: 1}
	r := Outage(crit, pv, start, b, 1, 168, []int{4, 5, 6})
	if r.MinHours != 5 || r.MaxHours != 5 || r.MeanHours != 5 {
		t.Fatalf("η=1: got min %g mean %g max %g, want 5", r.MinHours, r.MeanHours, r.MaxHours)
	}
	if r.SurvivalProbability[5] != 1 || r.SurvivalProbability[6] != 0 {
		t.Fatalf("survival %v", r.SurvivalProbability)
	}
	b.EtaDischarge = 0.8
	if r := Outage(crit, pv, start, b, 1, 168, nil); math.Abs(r.MeanHours-4) > 1e-12 {
		t.Fatalf("η=0.8: mean %g, want 4", r.MeanHours)
	}
}

// PV that covers the load by day and recharges the battery lets the outage run to the cap.
func TestOutagePVRecharge(t *testing.T) {
	n := 24 * 10
	crit, pv, start := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range crit {
		crit[i] = 5
		if h := i % 24; h >= 8 && h < 16 {
			pv[i] = 30
		}
		start[i] = 90
	}
	b := Backup{CapacityKWh: 100, MinKWh: 10, MaxKWh: 90, PowerKW: 50, EtaCharge: 1, EtaDischarge: 1}
	r := Outage(crit, pv, start, b, 1, 72, []int{72})
	if r.MinHours != 72 || r.SurvivalProbability[72] != 1 {
		t.Fatalf("got min %g, P(72) %g; want the 72-h cap everywhere", r.MinHours, r.SurvivalProbability[72])
	}
	// Too much load for the inverter: the outage fails at once.
	for i := range crit {
		crit[i] = 60
	}
	pv = make([]float64, n)
	if r := Outage(crit, pv, start, b, 1, 72, nil); r.MaxHours != 0 {
		t.Fatalf("load above the battery's power: max %g h, want 0", r.MaxHours)
	}
}
