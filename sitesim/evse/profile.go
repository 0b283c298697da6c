package evse

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// What the emulated charger advertises and enforces of smart charging (OCPP 1.6
// configuration keys ChargeProfileMaxStackLevel, MaxChargingProfilesInstalled,
// ChargingScheduleMaxPeriods).
const (
	MaxStackLevel              = 10
	MaxProfilesInstalled       = 20
	MaxChargingSchedulePeriods = 24
)

// maxOccurrences bounds the recurrences of one profile looked at in a composite.
const maxOccurrences = 1000

// installed is a charging profile the charger holds.
type installed struct {
	connector int
	p         types.ChargingProfile // TransactionId filled in for a TxProfile
	// received is the charger's clock when it got the profile: the start of an
	// Absolute schedule that names none.
	received time.Time
}

// electrical is what converts between amperes and watts and caps every limit.
type electrical struct {
	phases   int
	voltageV float64
	maxW     float64 // MaxCurrentA · phases · voltageV
	defaultW float64 // applied when no Tx/TxDefault profile is in force
}

// toW converts a schedule limit to watts: amperes per phase times the phases used
// (numberPhases when given, at most the charger's) times the phase voltage.
func (e electrical) toW(limit float64, unit types.ChargingRateUnitType, numberPhases *int) float64 {
	if unit != types.ChargingRateUnitAmperes {
		return limit
	}
	ph := e.phases
	if numberPhases != nil && *numberPhases >= 1 && *numberPhases < ph {
		ph = *numberPhases
	}
	return limit * float64(ph) * e.voltageV
}

// fromW converts watts to the unit, with the charger's phases for amperes.
func (e electrical) fromW(w float64, unit types.ChargingRateUnitType) float64 {
	if unit == types.ChargingRateUnitAmperes {
		return w / (float64(e.phases) * e.voltageV)
	}
	return w
}

// validateProfile checks what OCPP 1.6 asks of a profile for connector, with
// connectors on the charger; tx is the connector's open transaction (0 if none).
func validateProfile(connector, connectors int, p *types.ChargingProfile, tx int) error {
	if connector < 0 || connector > connectors {
		return fmt.Errorf("connector %d: the charger has 1–%d", connector, connectors)
	}
	if p.StackLevel < 0 || p.StackLevel > MaxStackLevel {
		return fmt.Errorf("stackLevel %d: want 0–%d", p.StackLevel, MaxStackLevel)
	}
	switch p.ChargingProfilePurpose {
	case types.ChargingProfilePurposeChargePointMaxProfile:
		if connector != 0 {
			return fmt.Errorf("ChargePointMaxProfile on connector %d: only on connector 0", connector)
		}
	case types.ChargingProfilePurposeTxDefaultProfile:
	case types.ChargingProfilePurposeTxProfile:
		if connector == 0 {
			return errors.New("TxProfile on connector 0: want the connector of the transaction")
		}
		if tx == 0 {
			return fmt.Errorf("TxProfile: no transaction on connector %d", connector)
		}
		if p.TransactionId != 0 && p.TransactionId != tx {
			return fmt.Errorf("TxProfile for transaction %d: transaction %d is open on connector %d", p.TransactionId, tx, connector)
		}
	default:
		return fmt.Errorf("purpose %q unknown", p.ChargingProfilePurpose)
	}
	switch p.ChargingProfileKind {
	case types.ChargingProfileKindAbsolute, types.ChargingProfileKindRelative:
	case types.ChargingProfileKindRecurring:
		if p.RecurrencyKind != types.RecurrencyKindDaily && p.RecurrencyKind != types.RecurrencyKindWeekly {
			return fmt.Errorf("recurring profile with recurrencyKind %q: want Daily or Weekly", p.RecurrencyKind)
		}
		if p.ChargingSchedule != nil && p.ChargingSchedule.StartSchedule == nil {
			return errors.New("recurring profile without startSchedule")
		}
	default:
		return fmt.Errorf("kind %q unknown", p.ChargingProfileKind)
	}
	if p.ValidFrom != nil && p.ValidTo != nil && !p.ValidTo.After(p.ValidFrom.Time) {
		return errors.New("validTo not after validFrom")
	}
	s := p.ChargingSchedule
	if s == nil {
		return errors.New("no chargingSchedule")
	}
	if s.ChargingRateUnit != types.ChargingRateUnitWatts && s.ChargingRateUnit != types.ChargingRateUnitAmperes {
		return fmt.Errorf("chargingRateUnit %q: want W or A", s.ChargingRateUnit)
	}
	if len(s.ChargingSchedulePeriod) == 0 || len(s.ChargingSchedulePeriod) > MaxChargingSchedulePeriods {
		return fmt.Errorf("%d periods: want 1–%d", len(s.ChargingSchedulePeriod), MaxChargingSchedulePeriods)
	}
	for i, sp := range s.ChargingSchedulePeriod {
		if i == 0 && sp.StartPeriod != 0 {
			return fmt.Errorf("first period starts at %d s: want 0", sp.StartPeriod)
		}
		if i > 0 && sp.StartPeriod <= s.ChargingSchedulePeriod[i-1].StartPeriod {
			return fmt.Errorf("period %d starts at %d s, not after the one before", i, sp.StartPeriod)
		}
		if math.IsNaN(sp.Limit) || math.IsInf(sp.Limit, 0) || sp.Limit < 0 {
			return fmt.Errorf("period %d: limit %v", i, sp.Limit)
		}
		if sp.NumberPhases != nil && (*sp.NumberPhases < 1 || *sp.NumberPhases > 3) {
			return fmt.Errorf("period %d: numberPhases %d: want 1–3", i, *sp.NumberPhases)
		}
	}
	return nil
}

// install adds a profile following OCPP 1.6 §3.13.2: it replaces one with the same
// id, or with the same stackLevel and purpose on the same connector.
func install(ps []installed, in installed) ([]installed, error) {
	ps = slices.DeleteFunc(ps, func(x installed) bool {
		return x.p.ChargingProfileId == in.p.ChargingProfileId ||
			(x.connector == in.connector && x.p.ChargingProfilePurpose == in.p.ChargingProfilePurpose && x.p.StackLevel == in.p.StackLevel)
	})
	if len(ps) >= MaxProfilesInstalled {
		return ps, fmt.Errorf("%d profiles installed already", len(ps))
	}
	return append(ps, in), nil
}

// clearCriteria is a ClearChargingProfile request: id alone, or any of the others.
type clearCriteria struct {
	id, connector, stackLevel *int
	purpose                   types.ChargingProfilePurposeType
}

// clearProfiles removes the profiles that match and says how many did.
func clearProfiles(ps []installed, c clearCriteria) ([]installed, int) {
	n := len(ps)
	ps = slices.DeleteFunc(ps, func(x installed) bool {
		if c.id != nil {
			return x.p.ChargingProfileId == *c.id
		}
		return (c.connector == nil || x.connector == *c.connector) &&
			(c.stackLevel == nil || x.p.StackLevel == *c.stackLevel) &&
			(c.purpose == "" || x.p.ChargingProfilePurpose == c.purpose)
	})
	return ps, n - len(ps)
}

// dropTransaction removes the TxProfiles of a transaction that ended: they apply to it
// alone.
func dropTransaction(ps []installed, tx int) []installed {
	return slices.DeleteFunc(ps, func(x installed) bool {
		return x.p.ChargingProfilePurpose == types.ChargingProfilePurposeTxProfile && x.p.TransactionId == tx
	})
}

// start is when the schedule instance in force at t began; anchor is the start of a
// Relative schedule (the transaction's start, or the evaluation's when there is none).
func (in *installed) start(t, anchor time.Time) time.Time {
	s := in.p.ChargingSchedule
	switch in.p.ChargingProfileKind {
	case types.ChargingProfileKindRelative:
		return anchor
	case types.ChargingProfileKindRecurring:
		base, period := s.StartSchedule.Time, in.recurrence()
		if t.Before(base) {
			return base
		}
		return base.Add(t.Sub(base) / period * period)
	default:
		if s.StartSchedule != nil && !s.StartSchedule.IsZero() {
			return s.StartSchedule.Time
		}
		return in.received
	}
}

// recurrence is the period of a Recurring profile.
func (in *installed) recurrence() time.Duration {
	if in.p.RecurrencyKind == types.RecurrencyKindWeekly {
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// limitW is the profile's limit in watts at t, and whether it is in force then.
func (e electrical) limitW(in *installed, t, anchor time.Time) (float64, bool) {
	p := &in.p
	if p.ValidFrom != nil && t.Before(p.ValidFrom.Time) {
		return 0, false
	}
	if p.ValidTo != nil && !t.Before(p.ValidTo.Time) {
		return 0, false
	}
	s := p.ChargingSchedule
	start := in.start(t, anchor)
	if t.Before(start) {
		return 0, false
	}
	elapsed := t.Sub(start)
	if s.Duration != nil && elapsed >= time.Duration(*s.Duration)*time.Second {
		return 0, false
	}
	off := int(elapsed / time.Second)
	i, _ := slices.BinarySearchFunc(s.ChargingSchedulePeriod, off+1, func(sp types.ChargingSchedulePeriod, v int) int {
		return cmp.Compare(sp.StartPeriod, v)
	})
	if i == 0 {
		return 0, false
	}
	sp := s.ChargingSchedulePeriod[i-1]
	return e.toW(sp.Limit, s.ChargingRateUnit, sp.NumberPhases), true
}

// best is the limit of the highest stack level in force at t among the profiles that
// match.
func (e electrical) best(ps []installed, t, anchor time.Time, match func(*installed) bool) (float64, bool) {
	level, w, found := -1, 0.0, false
	for i := range ps {
		in := &ps[i]
		if !match(in) || in.p.StackLevel <= level {
			continue
		}
		if v, ok := e.limitW(in, t, anchor); ok {
			level, w, found = in.p.StackLevel, v, true
		}
	}
	return w, found
}

// composite is the limit in watts in force on connector at t: the TxProfile of the
// open transaction tx, else the connector's TxDefaultProfile, else connector 0's, else
// the default; capped by the ChargePointMaxProfile and the charger's maximum. (The
// ChargePointMaxProfile caps each connector here, not their sum.) Connector 0 is the
// charge point: its ChargePointMaxProfile and maximum only.
func (e electrical) composite(ps []installed, connector int, t time.Time, tx int, anchor time.Time) float64 {
	lim, found := 0.0, false
	if connector == 0 {
		lim, found = e.maxW, true
	}
	if !found && tx != 0 {
		lim, found = e.best(ps, t, anchor, func(in *installed) bool {
			return in.connector == connector && in.p.ChargingProfilePurpose == types.ChargingProfilePurposeTxProfile &&
				in.p.TransactionId == tx
		})
	}
	for _, conn := range []int{connector, 0} {
		if found {
			break
		}
		lim, found = e.best(ps, t, anchor, func(in *installed) bool {
			return in.connector == conn && in.p.ChargingProfilePurpose == types.ChargingProfilePurposeTxDefaultProfile
		})
	}
	if !found {
		lim = e.maxW
		if e.defaultW > 0 {
			lim = e.defaultW
		}
	}
	if w, ok := e.best(ps, t, anchor, func(in *installed) bool {
		return in.connector == 0 && in.p.ChargingProfilePurpose == types.ChargingProfilePurposeChargePointMaxProfile
	}); ok {
		lim = math.Min(lim, w)
	}
	return math.Min(lim, e.maxW)
}

// changes are the instants in (from, to) at which a profile's limit may change.
func (in *installed) changes(from, to, anchor time.Time) []time.Time {
	var out []time.Time
	add := func(t time.Time) {
		if t.After(from) && t.Before(to) {
			out = append(out, t)
		}
	}
	if in.p.ValidFrom != nil {
		add(in.p.ValidFrom.Time)
	}
	if in.p.ValidTo != nil {
		add(in.p.ValidTo.Time)
	}
	s := in.p.ChargingSchedule
	for st, n := in.start(from, anchor), 0; st.Before(to) && n < maxOccurrences; n++ {
		add(st)
		for _, sp := range s.ChargingSchedulePeriod {
			add(st.Add(time.Duration(sp.StartPeriod) * time.Second))
		}
		if s.Duration != nil {
			add(st.Add(time.Duration(*s.Duration) * time.Second))
		}
		if in.p.ChargingProfileKind != types.ChargingProfileKindRecurring {
			break
		}
		st = st.Add(in.recurrence())
	}
	return out
}

// period is one step of a composite schedule.
type period struct {
	offsetS int     // from the schedule's start
	limitW  float64 // W
}

// compositeSchedule is the composite limit on connector over durationS seconds from
// from, as steps; the limit changes at most at whole seconds of the profiles'
// schedules.
func (e electrical) compositeSchedule(ps []installed, connector int, from time.Time, durationS int, tx int, anchor time.Time) []period {
	to := from.Add(time.Duration(durationS) * time.Second)
	times := []time.Time{from}
	for i := range ps {
		times = append(times, ps[i].changes(from, to, anchor)...)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var out []period
	for _, t := range times {
		off := int(math.Ceil(t.Sub(from).Seconds()))
		if off >= durationS && durationS > 0 {
			break
		}
		w := e.composite(ps, connector, from.Add(time.Duration(off)*time.Second), tx, anchor)
		if len(out) > 0 && out[len(out)-1].offsetS == off {
			out = out[:len(out)-1]
		}
		if len(out) == 0 || out[len(out)-1].limitW != w {
			out = append(out, period{off, w})
		}
	}
	return out
}
