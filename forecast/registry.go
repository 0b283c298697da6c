package forecast

import (
	"fmt"
	"slices"
	"strings"
)

// Registry entries are hourly models (a day of 24 steps); a model for another step
// size is built with its own Period or Days. The registry is the one place the CLI,
// the policies (the MPC's load and PV forecasters, the rule-based PV-surplus
// forecaster) and the server pick a forecaster by name.
var registry = func() map[string]Model {
	cal := DefaultCalendar()
	r := map[string]Model{
		"snaive_weekly":     SeasonalNaive{Period: 7 * 24, Label: "snaive_weekly"},
		"median3":           DayProfile{Days: 3, Label: "median3"},
		"median7":           DayProfile{Days: 7, Label: "median7"},
		"q30_7":             DayProfile{Days: 7, Quantile: 0.3, Label: "q30_7"},
		"q35_7":             DayProfile{Days: 7, Quantile: 0.35, Label: "q35_7"},
		"q40_7":             DayProfile{Days: 7, Quantile: 0.4, Label: "q40_7"},
		"q60_7":             DayProfile{Days: 7, Quantile: 0.6, Label: "q60_7"},
		"q70_7":             DayProfile{Days: 7, Quantile: 0.7, Label: "q70_7"},
		"q80_7":             DayProfile{Days: 7, Quantile: 0.8, Label: "q80_7"},
		"q30_14":            DayProfile{Days: 14, Quantile: 0.3, Label: "q30_14"},
		"q40_14":            DayProfile{Days: 14, Quantile: 0.4, Label: "q40_14"},
		"daytype_wmedian10": DayTypeProfile{Days: 10, Decay: 0.9, Calendar: cal, Label: "daytype_wmedian10"},
	}
	for _, m := range DefaultModels(24, cal) {
		r[m.Name()] = m
	}
	return r
}()

// Lookup returns the registered hourly model of that name.
func Lookup(name string) (Model, error) {
	if m, ok := registry[name]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("forecast: unknown model %q (registered: %s)", name, strings.Join(Names(), ", "))
}

// MustLookup is Lookup for names fixed in code; it panics on an unknown name, which
// a test of the caller catches.
func MustLookup(name string) Model {
	m, err := Lookup(name)
	if err != nil {
		panic(err)
	}
	return m
}

// Names are the registered models, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
