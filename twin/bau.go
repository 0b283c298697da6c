package twin

// BusinessAsUsual is how a community runs without an operator: the batteries sit idle,
// EVs charge at full power from the moment they plug in, appliances run when asked,
// parking has one fixed price and first-fit allocation with no buffer before an
// owner's return, rooms sell at the list price, and the tank is left as it is.
type BusinessAsUsual struct {
	m  *Model
	sp Setpoints
}

// NewBusinessAsUsual returns the baseline policy for a model.
func NewBusinessAsUsual(m *Model) *BusinessAsUsual {
	p := &BusinessAsUsual{m: m}
	p.sp.BatteryKW = make([]float64, len(m.Batteries))
	p.sp.ChargerKW = make([]float64, len(m.Chargers))
	p.sp.LotPriceCNYPerH = make([]float64, len(m.Parking.Lots))
	for i := range p.sp.LotPriceCNYPerH {
		p.sp.LotPriceCNYPerH[i] = m.Parking.FixedCNYPerH
	}
	return p
}

// Name implements Policy.
func (*BusinessAsUsual) Name() string { return "business_as_usual" }

// Decide implements Policy.
func (p *BusinessAsUsual) Decide(o *Observation) Setpoints {
	sp := p.sp
	for c, ch := range o.Chargers {
		sp.ChargerKW[c] = 0
		if ch.Connected {
			sp.ChargerKW[c] = ch.PowerKW
		}
	}
	sp.StartJobs = sp.StartJobs[:0]
	for _, j := range o.Jobs {
		sp.StartJobs = append(sp.StartJobs, j.Index)
	}
	p.sp.StartJobs = sp.StartJobs
	return sp
}

var _ Policy = (*BusinessAsUsual)(nil)
