package demo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Stream ids: one PCG stream per sub-model (and per entity where a unit has many), so
// that the numbers of one model never depend on another's draws.
const (
	streamSky             uint64 = iota + 1 // daily sky states, cloudiness, rain
	streamTemp                              // temperature anomalies
	streamForecast                          // rain forecast errors
	streamEV                                // EV fleet
	streamParkingResident                   // owners' declared free windows
	streamParkingVisitor                    // visitor and commuter requests
	streamWater                             // water demand noise
	streamHouseholds                        // household incomes
)

// Per-entity stream families: id = family<<32 | index.
const (
	familyLoad     uint64 = 1 // per building
	familyFlexible uint64 = 2 // per flexible population
	familyRental   uint64 = 3 // per rental group
)

// ErrUnit reports a unit the generator cannot work with.
var ErrUnit = errors.New("demo: unsupported unit")

// gen carries the state shared by the sub-models of one Generate call.
type gen struct {
	u    *unit.Unit
	m    *twin.Model
	seed uint64

	start   time.Time
	sph     int // steps per hour
	steps   int // horizon in steps
	hours   int // horizon in hours (ceil)
	genDays int // days generated: ≥ 366 and ≥ horizon days + 1
	cal     calendar
	w       *weather

	evUnplugged int // EV sessions that found no free charger (whole generated period)
}

// Generate returns the synthetic inputs of unit u (defaults applied) and its model m
// for the given seed. Equal arguments give identical Inputs.
func Generate(u *unit.Unit, m *twin.Model, seed uint64) (*twin.Inputs, error) {
	g, err := newGen(u, m, seed)
	if err != nil {
		return nil, err
	}
	in := &twin.Inputs{Start: g.start, Step: time.Duration(60/g.sph) * time.Minute, Steps: g.steps}

	g.w = g.weather()
	in.TempC = g.interpolate(g.w.tempC)
	in.RainMM = g.split(g.w.rainMM)
	in.RainForecast24hMM = g.hold(g.w.forecastMM)
	in.PVKWPerKWp = make([][]float64, len(g.w.pv))
	for a, s := range g.w.pv {
		in.PVKWPerKWp[a] = g.hold(s)
	}
	in.CarbonKgPerKWh = g.carbon()

	in.BuildingLoadKW = g.loads()
	if in.EVSessions, err = g.evSessions(); err != nil {
		return nil, err
	}
	if in.Jobs, err = g.jobs(); err != nil {
		return nil, err
	}
	in.ResidentWindows = g.residentWindows()
	in.ParkingRequests = g.parkingRequests()
	in.RentalRequests, in.Tenancies = g.rentals()
	in.WaterDemandM3 = g.waterDemand()
	in.Households = g.households()
	return in, nil
}

func newGen(u *unit.Unit, m *twin.Model, seed uint64) (*gen, error) {
	if u == nil || m == nil {
		return nil, fmt.Errorf("%w: nil unit or model", ErrUnit)
	}
	if len(u.Buildings) != len(m.Buildings) || len(u.PV) != len(m.PV) || len(u.Flexible) != len(m.Flexible) ||
		len(u.Rentals) != len(m.Rentals) || len(u.Parking.Lots) != len(m.Parking.Lots) {
		return nil, fmt.Errorf("%w: model was not built from this unit (FromUnit)", ErrUnit)
	}
	stepMin := u.Simulation.StepMinutes
	if stepMin == 0 {
		stepMin = unit.DefaultStepMinutes
	}
	if stepMin < 1 || stepMin > 60 || 60%stepMin != 0 {
		return nil, fmt.Errorf("%w: simulation.step_minutes = %d, want a divisor of 60 (15, 30, 60)", ErrUnit, stepMin)
	}
	hours := u.Simulation.Hours
	if hours == 0 {
		hours = unit.DefaultHours
	}
	if hours < 0 {
		return nil, fmt.Errorf("%w: simulation.hours = %d, want > 0", ErrUnit, hours)
	}
	loc := m.Loc
	if loc == nil {
		loc = time.UTC
	}
	start, err := time.ParseInLocation(time.DateOnly, u.Simulation.Start, loc)
	if err != nil {
		return nil, fmt.Errorf("%w: simulation.start %q: want YYYY-MM-DD", ErrUnit, u.Simulation.Start)
	}
	g := &gen{u: u, m: m, seed: seed, start: start, sph: 60 / stepMin, hours: hours}
	g.steps = hours * g.sph
	g.genDays = max((hours+23)/24, 365) + 1
	g.cal = newCalendar(start, g.genDays)
	return g, nil
}

// stream returns the independent random source of one sub-model. Seed and id are
// passed through SplitMix64 so that neighbouring ids give unrelated PCG states.
func (g *gen) stream(id uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(g.seed), splitmix64(id^0x6a09e667f3bcc909)))
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// yearHours is the calibration period: the first 365 days.
const yearHours = 365 * 24

// hold expands an hourly power series to the horizon's steps, holding each value.
func (g *gen) hold(hourly []float64) []float64 {
	out := make([]float64, g.steps)
	for s := range out {
		out[s] = hourly[s/g.sph]
	}
	return out
}

// split expands an hourly amount (mm, m³) to steps, dividing it evenly.
func (g *gen) split(hourly []float64) []float64 {
	out := make([]float64, g.steps)
	k := 1 / float64(g.sph)
	for s := range out {
		out[s] = hourly[s/g.sph] * k
	}
	return out
}

// interpolate expands an hourly state (°C) to steps, linear between hour centres.
func (g *gen) interpolate(hourly []float64) []float64 {
	out := make([]float64, g.steps)
	if g.sph == 1 {
		copy(out, hourly)
		return out
	}
	for s := range out {
		x := (float64(s)+0.5)/float64(g.sph) - 0.5 // position in hour-centre units
		i := int(math.Floor(x))
		f := x - float64(i)
		i0, i1 := max(i, 0), min(i+1, len(hourly)-1)
		out[s] = hourly[i0]*(1-f) + hourly[i1]*f
	}
	return out
}

// stepOf converts day d and a fractional local hour to a step index (floor).
func (g *gen) stepOf(d int, hour float64) int {
	return int(math.Floor((float64(d*24) + hour) * float64(g.sph)))
}

// stepCeil is stepOf rounded up.
func (g *gen) stepCeil(d int, hour float64) int {
	return int(math.Ceil((float64(d*24)+hour)*float64(g.sph) - 1e-9))
}

// poisson draws a Poisson count: Knuth's product method below 30, a rounded normal
// approximation above (error < 1 % in the tails that matter here).
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda < 30 {
		l, p, k := math.Exp(-lambda), 1.0, 0
		for {
			p *= r.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	return max(int(math.Floor(lambda+math.Sqrt(lambda)*r.NormFloat64()+0.5)), 0)
}

// lognormal draws median·exp(σZ).
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// normalClip draws N(mean, sd) clipped to [lo, hi].
func normalClip(r *rand.Rand, mean, sd, lo, hi float64) float64 {
	return math.Min(math.Max(mean+sd*r.NormFloat64(), lo), hi)
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

func orDefault(v, def float64) float64 {
	if v > 0 {
		return v
	}
	return def
}
