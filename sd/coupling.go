package sd

import (
	"fmt"
	"math"
)

// Constant returns the value of a constant auxiliary (or a stock's constant initial
// value) by display name.
func (m *Model) Constant(name string) (float64, error) {
	v, err := m.constVar(name)
	if err != nil {
		return 0, err
	}
	return constValue(v.eqn), nil
}

// Drivers are annual paths of a run, in the form the finance engine consumes: one value
// per whole year from the start, by variable.
type Drivers struct {
	Years []float64            `json:"years"`
	Paths map[string][]float64 `json:"paths"`
}

// AnnualDrivers samples the named variables of a result at each whole year.
func AnnualDrivers(r *Result, names []string) (*Drivers, error) {
	if len(r.Times) == 0 {
		return nil, fmt.Errorf("sd: empty result")
	}
	d := &Drivers{Paths: map[string][]float64{}}
	for y := math.Ceil(r.Times[0]); y <= r.Times[len(r.Times)-1]+1e-9; y++ {
		d.Years = append(d.Years, y)
	}
	for _, n := range names {
		for _, y := range d.Years {
			v, err := r.At(n, y)
			if err != nil {
				return nil, err
			}
			d.Paths[n] = append(d.Paths[n], v)
		}
	}
	return d, nil
}

// BatteryCycleBound is the strategic bound the long-term model hands the optimiser:
// the most equivalent full cycles a year that keep the battery's state of health above
// the replacement threshold for lifeYears, given linear calendar fade (per year) and
// cycle fade (per cycle): (1 − threshold − calendar·life) / (cycle·life). It is 0 when
// calendar fade alone ends the life earlier.
func BatteryCycleBound(threshold, calendarPerYear, perCycle, lifeYears float64) float64 {
	if perCycle <= 0 || lifeYears <= 0 {
		return math.Inf(1)
	}
	return math.Max(0, (1-threshold-calendarPerYear*lifeYears)/(perCycle*lifeYears))
}
