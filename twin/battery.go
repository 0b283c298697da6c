package twin

import "math"

// battery is the state of one store. Energies are in kWh of stored (DC) energy; powers
// are AC-side kW: charging p draws p from the bus and stores η_c·p·Δt, discharging p
// delivers p to the bus and removes p·Δt/η_d (REFERENCES: battery storage).
type battery struct {
	spec      BatterySpec
	energyKWh float64
	soh       float64 // state of health: usable capacity / nameplate
	ageing    *blastLFP

	chargedKWh, dischargedKWh float64 // AC-side throughput, for loss accounting
	selfLossKWh               float64
}

func newBattery(s BatterySpec) *battery {
	b := &battery{spec: s, energyKWh: s.SoCInitial * s.CapacityKWh, soh: 1}
	if s.Ageing == "blast_lfp" {
		b.ageing = &blastLFP{}
	}
	return b
}

// capacityKWh is the usable capacity after fade.
func (b *battery) capacityKWh() float64 { return b.spec.CapacityKWh * b.soh }
func (b *battery) minKWh() float64      { return b.spec.SoCMin * b.capacityKWh() }
func (b *battery) maxKWh() float64      { return b.spec.SoCMax * b.capacityKWh() }

// limits returns the AC power the battery can take (charge ≥ 0) and give (discharge ≥ 0)
// during a step of dt hours, given power and SoC limits.
func (b *battery) limits(dt float64) (chargeKW, dischargeKW float64) {
	chargeKW = math.Min(b.spec.PowerKW, math.Max(0, b.maxKWh()-b.energyKWh)/(b.spec.EtaCharge*dt))
	dischargeKW = math.Min(b.spec.PowerKW, math.Max(0, b.energyKWh-b.minKWh())*b.spec.EtaDischarge/dt)
	return chargeKW, dischargeKW
}

// selfDischarge applies E ← E(1−σ)^dt before the step's dispatch.
func (b *battery) selfDischarge(dt float64) {
	if b.spec.SelfDischargePerHour <= 0 {
		return
	}
	loss := b.energyKWh * (1 - math.Pow(1-b.spec.SelfDischargePerHour, dt))
	b.energyKWh -= loss
	b.selfLossKWh += loss
}

// apply dispatches p kW (+ charge, − discharge) for dt hours, clipped to the limits;
// it returns the AC power actually exchanged with the bus.
func (b *battery) apply(p, dt float64) float64 {
	c, d := b.limits(dt)
	switch {
	case p > 0:
		p = math.Min(p, c)
		b.energyKWh += b.spec.EtaCharge * p * dt
		b.chargedKWh += p * dt
	case p < 0:
		p = -math.Min(-p, d)
		b.energyKWh += p * dt / b.spec.EtaDischarge
		b.dischargedKWh += -p * dt
	}
	return p
}

// endOfDay ages the battery with the day's stress and updates its state of health.
func (b *battery) endOfDay(day dayStress) {
	if b.ageing == nil {
		return
	}
	b.soh = b.ageing.step(day)
}

// dayStress summarises one day of operation for the ageing model.
type dayStress struct {
	days    float64 // length of the period in days
	meanSoC float64
	tempC   float64
	efc     float64 // equivalent full cycles in the period (throughput / 2 / capacity)
	dod     float64 // depth of discharge of the period (max−min SoC)
	cRate   float64 // mean |power| / capacity while cycling
}

// blastLFP is NREL BLAST-Lite's LFP-Gr 250 Ah model (REFERENCES: battery storage):
//
//	q = 1 − q_cal − q_cyc,  q_cal = k_cal t^0.526,  q_cyc = k_cyc EFC^0.828
//	k_cal = 8.37e4 exp(−5210/T) exp(−3560 Ua(SOC)/T)
//	k_cyc = (4.38e-8 + 1.55e-8 DoD + 1.68e-7 C-rate)(exp(2190/T) + exp(−1.55e5/T))
//
// Stress varies day to day, so each loss term advances by the virtual-time rule of
// BLAST-Lite: find the time (or EFC) that would give today's loss under today's rate,
// add the day, and re-evaluate. Valid 10–45 °C and ≤ 0.65C.
type blastLFP struct {
	qCal, qCyc float64
}

// anodePotential is the graphite open-circuit potential Ua (V) at a state of charge,
// the fit BLAST-Lite uses for its LFP-Gr cells.
func anodePotential(soc float64) float64 {
	x := 0.0085 + soc*(0.78-0.0085)
	return 0.6379 + 0.5416*math.Exp(-305.5309*x) + 0.044*math.Tanh(-(x-0.1958)/0.1088) -
		0.1978*math.Tanh((x-1.0571)/0.0854) - 0.6875*math.Tanh((x+0.0117)/0.0529) -
		0.0175*math.Tanh((x-0.5692)/0.0875)
}

const (
	blastPCal = 0.526
	blastPCyc = 0.828
)

func blastKCal(soc, tempC float64) float64 {
	T := tempC + 273.15
	return 8.37e4 * math.Exp(-5210/T) * math.Exp(-3560*anodePotential(soc)/T)
}

func blastKCyc(dod, cRate, tempC float64) float64 {
	T := tempC + 273.15
	return (4.38e-8 + 1.55e-8*dod + 1.68e-7*cRate) * (math.Exp(2190/T) + math.Exp(-1.55e5/T))
}

// step advances the model by one period and returns the relative capacity q.
func (m *blastLFP) step(d dayStress) float64 {
	temp := math.Min(45, math.Max(10, d.tempC))
	if kc := blastKCal(d.meanSoC, temp); kc > 0 {
		tEq := math.Pow(m.qCal/kc, 1/blastPCal)
		m.qCal = kc * math.Pow(tEq+d.days, blastPCal)
	}
	if d.efc > 0 {
		if ky := blastKCyc(d.dod, math.Min(d.cRate, 0.65), temp); ky > 0 {
			nEq := math.Pow(m.qCyc/ky, 1/blastPCyc)
			m.qCyc = ky * math.Pow(nEq+d.efc, blastPCyc)
		}
	}
	return math.Max(0, 1-m.qCal-m.qCyc)
}
