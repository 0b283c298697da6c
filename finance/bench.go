package finance

import (
	"context"
	"fmt"
	"time"
)

// BenchOperatingYear is a fixed operating year of the size of the demo community, for
// benchmarks that must not depend on a simulation.
func BenchOperatingYear() OperatingYear {
	return OperatingYear{Name: "bench community", Start: "2027-01",
		RevenueCNY: map[string]float64{"energy": 1.8e6, "ev_charging": 0.7e6, "parking": 6.1e6, "rentals": 3.76e6, "water": 0.05e6},
		OpexCNY:    map[string]float64{"community": 0.36e6, "energy": 1.26e6, "ev_charging": 0.28e6, "parking": 0.77e6, "rentals": 0.44e6, "water": 0.03e6},
		CapexCNY:   2.5e7, BatteryKWh: 2000, BatterySoHAfter: 0.975, BatteryCNYPerKWh: 750}
}

// Stretch sets a deal's horizon to months, keeping its structure valid.
func Stretch(d *Deal, months int) error {
	if months < 24 || months > 600 {
		return fmt.Errorf("--months: %d must be between 24 and 600", months)
	}
	d.Months = months
	for i := range d.Tranches {
		t := &d.Tranches[i]
		t.TermMonths = min(t.TermMonths, months)
		t.LegalMonths = min(max(t.LegalMonths, t.TermMonths), months)
		if t.Kind == "equity" {
			t.TermMonths, t.LegalMonths = months, months
		}
	}
	if d.Debt != nil {
		d.Debt.TenorMonths = min(d.Debt.TenorMonths, months)
	}
	return d.Validate()
}

// BenchMonteCarlo times the Monte Carlo alone (every path runs the projection and the
// full waterfall) and returns its seconds.
func BenchMonteCarlo(d *Deal, paths, workers int) (float64, error) {
	m, err := compile(cloneDeal(d))
	if err != nil {
		return 0, err
	}
	if _, err := m.schedules(); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if _, err := m.monteCarlo(context.Background(), paths, 1, workers, nil); err != nil {
		return 0, err
	}
	return time.Since(t0).Seconds(), nil
}
