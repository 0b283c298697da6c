package twin

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lifang-community/lifang/policy"
)

// Sim is the twin as a plant stepped from outside: Observe returns the observation of
// the current step, Apply runs the step under a controller's setpoints. Run is a loop of
// the two; a hardware-in-the-loop emulator steps a Sim while it waits for commands that
// arrive over real protocols. Like Run, a Sim is pure: the same inputs and setpoints
// give the same result.
type Sim struct {
	r        *run
	t        int
	observed *policy.Observation
	done     bool
}

// ErrFinished is returned when a Sim is stepped past its horizon.
var ErrFinished = errors.New("twin: simulation finished")

// NewSim prepares a run of the model on the inputs; policy names the result.
func NewSim(m *Model, in *Inputs, name string) (*Sim, error) {
	if err := in.Validate(m); err != nil {
		return nil, fmt.Errorf("twin: %w", err)
	}
	return &Sim{r: newRun(m, in, name)}, nil
}

// Step is the index of the current step (Steps when finished).
func (s *Sim) Step() int { return s.t }

// Steps is the horizon in steps.
func (s *Sim) Steps() int { return s.r.in.Steps }

// Done reports whether every step has run.
func (s *Sim) Done() bool { return s.t >= s.r.in.Steps }

// Time is the start of the current step.
func (s *Sim) Time() time.Time { return s.r.at(s.t) }

// Observe implements policy.Plant: the observation of the step starting at at, which
// must be the current step (a twin is stepped in order). It runs the events at the
// step's start the first time it is called; the observation is valid until Apply.
func (s *Sim) Observe(_ context.Context, at time.Time) (*policy.Observation, error) {
	if s.Done() {
		return nil, ErrFinished
	}
	if !at.Equal(s.Time()) {
		return nil, fmt.Errorf("twin: observe %s: the current step starts at %s", at.Format(time.RFC3339), s.Time().Format(time.RFC3339))
	}
	if s.observed == nil {
		s.observed = s.r.begin(s.t)
	}
	return s.observed, nil
}

// Apply implements policy.Plant: it runs the step under sp and moves to the next.
func (s *Sim) Apply(ctx context.Context, at time.Time, sp policy.Setpoints) (policy.Applied, error) {
	out, err := s.Run(ctx, at, sp)
	if err != nil {
		return policy.Applied{}, err
	}
	a := policy.Applied{BatteryKW: map[string]float64{}, ChargerKW: map[string]float64{}, StartedJobs: out.Started}
	for i, b := range s.r.m.Batteries {
		a.BatteryKW[b.Name] = out.Batteries[i].PowerKW
	}
	for i, ch := range s.r.m.Chargers {
		a.ChargerKW[ch.Name] = out.ChargerKW[i]
	}
	return a, nil
}

// Run is Apply returning the twin's full record of the step.
func (s *Sim) Run(ctx context.Context, at time.Time, sp policy.Setpoints) (StepOutcome, error) {
	o, err := s.Observe(ctx, at)
	if err != nil {
		return StepOutcome{}, err
	}
	t := s.t
	s.r.apply(t, o, sp)
	s.observed = nil
	s.t++
	return s.outcome(t), nil
}

var _ policy.Plant = (*Sim)(nil)

// Finish ends the run and returns its result; the Sim cannot be stepped after it.
func (s *Sim) Finish() *Result {
	if s.done {
		return s.r.res
	}
	s.done = true
	return s.r.finish() // steps that did not run are zero in the series
}

// StepOutcome is what the plant did in one step: powers are means over the step.
type StepOutcome struct {
	Step       int
	ImportKW   float64
	ExportKW   float64
	LoadKW     float64 // non-shiftable
	FlexKW     float64 // shiftable runs
	EVKW       float64 // AC power of all chargers
	PVAvailKW  float64
	PVUsedKW   float64
	BatteryKW  float64 // AC, + charge
	ChargerKW  []float64
	Batteries  []BatteryOutcome
	WaterM3    float64 // tank volume at the end of the step
	SpilledM3  float64
	SuppliedM3 float64
	// Started are the shiftable runs started in the step (chosen or forced).
	Started []int
}

// BatteryOutcome is one battery after a step.
type BatteryOutcome struct {
	PowerKW   float64 // AC, + charge
	EnergyKWh float64 // stored at the end of the step
	// ChargeKW and DischargeKW are what it could take and give in the next step.
	MaxChargeKW, MaxDischargeKW float64
	StateOfHealth               float64
}

func (s *Sim) outcome(t int) StepOutcome {
	r, se := s.r, &s.r.res.Series
	o := StepOutcome{Step: t, ImportKW: se.ImportKW[t], ExportKW: se.ExportKW[t], LoadKW: se.LoadKW[t], FlexKW: se.FlexKW[t],
		EVKW: se.EVKW[t], PVAvailKW: se.PVAvailKW[t], PVUsedKW: se.PVUsedKW[t], BatteryKW: se.BatteryKW[t],
		WaterM3: se.WaterVolumeM3[t], SpilledM3: se.WaterSpillM3[t], SuppliedM3: se.WaterSuppliedM3[t]}
	o.ChargerKW = append([]float64(nil), r.evApplied...)
	o.Started = append([]int(nil), r.startedNow...)
	for i, b := range r.bats {
		c, d := b.limits(r.dt)
		o.Batteries = append(o.Batteries, BatteryOutcome{PowerKW: r.batApplied[i], EnergyKWh: b.energyKWh,
			MaxChargeKW: c, MaxDischargeKW: d, StateOfHealth: b.soh})
	}
	return o
}

// Window returns the inputs of n steps from step from: per-step series sliced, events
// that begin inside the window shifted to it (a stay that runs past its end is cut
// there). from must fall on the first step of a day, since rentals sell by the day.
func (in *Inputs) Window(from, n int) (*Inputs, error) {
	if from < 0 || n <= 0 || from+n > in.Steps {
		return nil, fmt.Errorf("twin: window [%d, %d) outside the %d steps of the inputs", from, from+n, in.Steps)
	}
	perDay := int(math.Round(24 / in.Step.Hours()))
	if from%perDay != 0 {
		return nil, fmt.Errorf("twin: window starts at step %d, not at the start of a day (every %d steps)", from, perDay)
	}
	day0, days := from/perDay, (n+perDay-1)/perDay
	out := *in
	out.Start = in.Start.Add(in.Step * time.Duration(from))
	out.Steps = n
	cut := func(s []float64) []float64 {
		if s == nil {
			return nil
		}
		return append([]float64(nil), s[from:from+n]...)
	}
	out.BuildingLoadKW = make([][]float64, len(in.BuildingLoadKW))
	for b, s := range in.BuildingLoadKW {
		out.BuildingLoadKW[b] = cut(s)
	}
	out.PVKWPerKWp = make([][]float64, len(in.PVKWPerKWp))
	for a, s := range in.PVKWPerKWp {
		out.PVKWPerKWp[a] = cut(s)
	}
	out.TempC, out.RainMM, out.RainForecast24hMM = cut(in.TempC), cut(in.RainMM), cut(in.RainForecast24hMM)
	out.ImportPriceCNYPerKWh, out.CarbonKgPerKWh, out.WaterDemandM3 = cut(in.ImportPriceCNYPerKWh), cut(in.CarbonKgPerKWh), cut(in.WaterDemandM3)
	inside := func(t int) bool { return t >= from && t < from+n }
	out.EVSessions = nil
	for _, s := range in.EVSessions {
		if inside(s.Arrive) {
			s.Arrive -= from
			s.Depart -= from
			out.EVSessions = append(out.EVSessions, s)
		}
	}
	out.Jobs = nil
	for _, j := range in.Jobs {
		if inside(j.Earliest) {
			j.Earliest -= from
			j.Latest -= from
			j.ProfileKW = append([]float64(nil), j.ProfileKW...)
			out.Jobs = append(out.Jobs, j)
		}
	}
	out.ParkingRequests = nil
	for _, q := range in.ParkingRequests {
		if inside(q.Arrive) {
			q.Arrive -= from
			q.Depart = min(q.Depart-from, n)
			if q.Depart > q.Arrive {
				out.ParkingRequests = append(out.ParkingRequests, q)
			}
		}
	}
	out.ResidentWindows = nil
	for _, w := range in.ResidentWindows {
		w.From, w.To = max(w.From-from, 0), min(w.To-from, n)
		if w.To > w.From {
			out.ResidentWindows = append(out.ResidentWindows, w)
		}
	}
	out.RentalRequests = nil
	for _, q := range in.RentalRequests {
		if q.Day >= day0 && q.Day < day0+days {
			q.Day -= day0
			out.RentalRequests = append(out.RentalRequests, q)
		}
	}
	out.Tenancies = nil
	for _, tn := range in.Tenancies {
		tn.From, tn.To = max(tn.From-day0, 0), min(tn.To-day0, days)
		if tn.To > tn.From {
			out.Tenancies = append(out.Tenancies, tn)
		}
	}
	out.Households = append([]HouseholdGroup(nil), in.Households...)
	return &out, nil
}
