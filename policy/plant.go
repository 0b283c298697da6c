package policy

import (
	"context"
	"fmt"
	"time"
)

// A Plant is what a controller acts on: the digital twin (twin.Sim), or the site's real
// devices (site.Controller). The same policy runs against either.
type Plant interface {
	// Observe returns what can be known at the start of the step beginning at at.
	Observe(ctx context.Context, at time.Time) (*Observation, error)
	// Apply carries out the setpoints decided on that observation and reports what the
	// plant did with them.
	Apply(ctx context.Context, at time.Time, sp Setpoints) (Applied, error)
}

// Applied is what a plant did with a step's setpoints, keyed like them.
type Applied struct {
	// BatteryKW and ChargerKW are the powers the devices were set to (the twin: what they
	// ran at; the site: what they acknowledged), after the plant's limits.
	BatteryKW map[string]float64
	ChargerKW map[string]float64
	// StartedJobs are the runs started in the step.
	StartedJobs []int
	// Refused lists setpoints the plant could not carry out, with the reason.
	Refused []string
}

// Step runs one step of the loop: observe, decide, apply.
func Step(ctx context.Context, p Plant, pol Policy, at time.Time) (Applied, error) {
	o, err := p.Observe(ctx, at)
	if err != nil {
		return Applied{}, fmt.Errorf("observe %s: %w", at.Format(time.RFC3339), err)
	}
	a, err := p.Apply(ctx, at, pol.Decide(o))
	if err != nil {
		return a, fmt.Errorf("apply %s: %w", at.Format(time.RFC3339), err)
	}
	return a, nil
}
