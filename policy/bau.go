package policy

// BusinessAsUsual is how a community runs without an operator: the batteries sit idle,
// EVs charge at full power from the moment they plug in, appliances run when asked,
// parking has one fixed price and first-fit allocation with no buffer before an
// owner's return, rooms sell at the list price, and the tank is left as it is.
type BusinessAsUsual struct {
	rules Rules
	sp    Setpoints
}

// NewBusinessAsUsual returns the baseline policy.
func NewBusinessAsUsual(r Rules) *BusinessAsUsual { return &BusinessAsUsual{rules: r} }

// Name implements Policy.
func (*BusinessAsUsual) Name() string { return "business_as_usual" }

// Decide implements Policy.
func (p *BusinessAsUsual) Decide(o *Observation) Setpoints {
	sp := &p.sp
	clearMap(&sp.BatteryKW)
	clearMap(&sp.ChargerKW)
	clearMap(&sp.LotPriceCNYPerH)
	for _, b := range o.Batteries {
		sp.BatteryKW[b.ID] = 0
	}
	for _, ch := range o.Chargers {
		sp.ChargerKW[ch.ID] = 0
		if ch.Connected {
			sp.ChargerKW[ch.ID] = ch.PowerKW
		}
	}
	for _, l := range o.Lots {
		sp.LotPriceCNYPerH[l.ID] = p.rules.Parking.FixedCNYPerH
	}
	sp.StartJobs = sp.StartJobs[:0]
	for _, j := range o.Jobs {
		sp.StartJobs = append(sp.StartJobs, j.ID)
	}
	return *sp
}

var _ Policy = (*BusinessAsUsual)(nil)
