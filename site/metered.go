package site

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Metered is the grid bill of a period from the ledgered registers of the grid meter.
type Metered struct {
	ImportKWh   float64 `json:"import_kwh"`
	ExportKWh   float64 `json:"export_kwh"`
	GridCostCNY float64 `json:"grid_cost_cny"`
	// Readings and Gaps say how complete the registers were: a gap is an interval
	// between consecutive readings longer than one step (its energy is still counted,
	// priced at the interval's start).
	Readings int `json:"register_readings"`
	Gaps     int `json:"gaps"`
}

// Meter computes the grid meter's import and export in [from, to] as the advance of
// its cumulative registers between consecutive readings, and the cost as each import
// advance × the TOU price in force at the interval's start (local time).
func Meter(ctx context.Context, st Readings, gridMeter unit.SiteMeter, from, to time.Time, tariff twin.Tariff, loc *time.Location, step time.Duration) (Metered, error) {
	var m Metered
	imp, err := st.Range(ctx, gridMeter.ImportPoint(), from, to.Add(time.Nanosecond))
	if err != nil {
		return m, fmt.Errorf("site: metered import: %w", err)
	}
	exp, err := st.Range(ctx, gridMeter.ExportPoint(), from, to.Add(time.Nanosecond))
	if err != nil {
		return m, fmt.Errorf("site: metered export: %w", err)
	}
	m.Readings = len(imp)
	for i := 1; i < len(imp); i++ {
		d := imp[i].Value - imp[i-1].Value
		m.ImportKWh += d
		p, _ := tariff.ImportPrice(imp[i-1].Time.In(loc))
		m.GridCostCNY += d * p
		if imp[i].Time.Sub(imp[i-1].Time) > step {
			m.Gaps++
		}
	}
	for i := 1; i < len(exp); i++ {
		m.ExportKWh += exp[i].Value - exp[i-1].Value
	}
	m.ImportKWh = math.Round(m.ImportKWh*1000) / 1000
	m.ExportKWh = math.Round(m.ExportKWh*1000) / 1000
	m.GridCostCNY = math.Round(m.GridCostCNY*100) / 100
	return m, nil
}
