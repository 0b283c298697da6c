package finance

import (
	"fmt"
	"math"
	"sort"
)

// SDDrivers maps variables of the long-term system-dynamics model
// (sd/models/operating_unit.xmile, `lifang sd drivers`) to the finance engine's factor
// drivers. A path becomes the driver's base value year by year as its ratio to the
// first year, since the operating year already reflects the first year's level. A price
// path replaces the growth assumption of the subsystem it drives.
var SDDrivers = map[string]string{
	"Occupancy":           "occupancy",
	"Tariff Index":        "spread",
	"Parking Price Index": "parking_demand",
}

// ApplyDriverPaths sets the deal's driver paths from annual paths by SD variable name
// and returns the drivers it set. Every projected year must be covered.
func (d *Deal) ApplyDriverPaths(paths map[string][]float64) ([]string, error) {
	if d.Operating == nil {
		return nil, fmt.Errorf("driver paths need an operating deal (this one gives cash_flows)")
	}
	years := (d.Months + 11) / 12
	var set []string
	names := make([]string, 0, len(paths))
	for n := range paths {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		drv, ok := SDDrivers[name]
		if !ok {
			continue
		}
		p := paths[name]
		if len(p) < years {
			return nil, fmt.Errorf("driver path %q: %d years given, the projection needs %d", name, len(p), years)
		}
		if p[0] <= 0 || math.IsNaN(p[0]) {
			return nil, fmt.Errorf("driver path %q: first value %g must be > 0", name, p[0])
		}
		v := make([]float64, years)
		for y := range v {
			if math.IsNaN(p[y]) || math.IsInf(p[y], 0) || p[y] < 0 {
				return nil, fmt.Errorf("driver path %q: year %d is %g", name, y+1, p[y])
			}
			v[y] = p[y] / p[0]
		}
		if d.Operating.DriverPaths == nil {
			d.Operating.DriverPaths = map[string][]float64{}
		}
		d.Operating.DriverPaths[drv] = v
		if sub := map[string]string{"spread": "energy", "parking_demand": "parking"}[drv]; sub != "" {
			g := map[string]float64{}
			for k, x := range d.Operating.Growth {
				g[k] = x
			}
			g[sub] = 0
			d.Operating.Growth = g
		}
		set = append(set, drv)
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("no driver path names a known variable (known: Occupancy, Tariff Index, Parking Price Index)")
	}
	return set, d.Validate()
}
