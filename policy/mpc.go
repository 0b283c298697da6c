package policy

import (
	"math"
	"time"

	"github.com/lifang-community/lifang/optimize"
)

// MPC is the model-predictive policy: the batteries (as one fleet) follow an
// hourly re-planned dispatch LP over the next Horizon steps, fed by forecasts of the
// household load and PV made from the past only, with the step's measured net load in
// place of its forecast and the same real-time layer as MPC; everything else (EVs,
// shiftable runs, parking, tank) is decided by the rule-based policy.
type MPC struct {
	*RuleBased
	Horizon   int
	Load, PV  Forecaster
	TimeLimit time.Duration

	house, pv []float64
	planner   *optimize.Planner
	Fallbacks int
	plan      []float64
}

// LastPlan is the fleet battery power (kW, + charge) the last step's plan scheduled for
// each step of its horizon (nil when it fell back to the rule-based decision): what the
// operator view shows against what happened.
func (p *MPC) LastPlan() []float64 { return p.plan }

// NewMPC makes the policy with its forecasters (load: the household load's, pv: PV's,
// surplus: the rule-based layer's PV-surplus forecaster); Close frees its solver.
func NewMPC(r Rules, load, pv, surplus Forecaster) (*MPC, error) {
	pl, err := optimize.NewPlanner()
	if err != nil {
		return nil, err
	}
	rb := NewRuleBased(r)
	rb.Surplus = surplus
	// No time limit by default: a limit hit on a busy machine would change the result,
	// and the twin must be deterministic. Live control may set one.
	return &MPC{RuleBased: rb, Horizon: 24, planner: pl, Load: load, PV: pv}, nil
}

// Close frees the solver.
func (p *MPC) Close() { p.planner.Close() }

// Name implements Policy.
func (*MPC) Name() string { return "mpc" }

// Decide implements Policy.
func (p *MPC) Decide(o *Observation) Setpoints {
	sp := p.RuleBased.Decide(o)
	house := o.LoadKW + o.FlexKW
	defer func() {
		p.house = append(p.house, house)
		p.pv = append(p.pv, o.PVKW)
	}()
	if len(o.Batteries) == 0 {
		return sp
	}
	ev := 0.0
	for _, ch := range o.Chargers { // in observation order: the sum is reproducible
		ev += sp.ChargerKW[ch.ID]
	}
	var b optimize.Battery
	for _, s := range o.Batteries {
		b.CapacityKWh += s.MaxKWh
		b.MinKWh += s.MinKWh
		b.MaxKWh += s.MaxKWh
		b.InitialKWh += s.EnergyKWh
		b.PowerKW += s.PowerKW
		b.EtaCharge, b.EtaDischarge = s.EtaCharge, s.EtaDischarge
	}
	b.InitialKWh = math.Min(math.Max(b.InitialKWh, b.MinKWh), b.MaxKWh)
	h := min(p.Horizon, len(o.PriceAhead))
	actual := house + ev - o.PVKW
	net := make([]float64, h)
	net[0] = actual
	if len(p.house) >= 7*24 {
		lf := p.Load.Predict(p.house, o.Time, h)
		pf := p.PV.Predict(p.pv, o.Time, h)
		for k := 1; k < h; k++ {
			net[k] = lf[k] - math.Max(pf[k], 0)
		}
	} else {
		for k := 1; k < h; k++ { // a week of history first: persistence meanwhile
			net[k] = actual
		}
	}
	c, d := 0.0, 0.0
	// Like the rule-based policy, grid charging stays under the highest household load
	// of the last week, so shifting energy into cheap hours does not make a new peak.
	capKW := house
	for _, v := range p.house[max(0, len(p.house)-7*24):] {
		capKW = math.Max(capKW, v)
	}
	caps := make([]float64, h)
	for k := range caps {
		caps[k] = capKW
	}
	plan, err := p.planner.Plan(net, o.PriceAhead[:h], o.ExportCNYPerKWh, b, o.DtH, p.TimeLimit, caps)
	if err != nil {
		p.Fallbacks++
		p.plan = nil
		return sp // the rule-based battery decision stands
	}
	p.plan = p.plan[:0]
	for k := range plan.ChargeKW {
		p.plan = append(p.plan, plan.ChargeKW[k]-plan.DischargeKW[k])
	}
	c, d = plan.ChargeKW[0], plan.DischargeKW[0]
	var fleet float64
	switch {
	case actual < 0 && o.ExportCNYPerKWh < o.ImportCNYPerKWh*b.EtaCharge*b.EtaDischarge:
		fleet = math.Max(c-d, -actual)
	case d > c:
		// Follow the planned discharge (the plan already saw this step's measured net),
		// never into export.
		fleet = -math.Min(d-c, math.Max(0, actual))
	default:
		fleet = c - d
	}
	for _, s := range o.Batteries {
		sp.BatteryKW[s.ID] = fleet * s.PowerKW / b.PowerKW
	}
	return sp
}

var _ Policy = (*MPC)(nil)
