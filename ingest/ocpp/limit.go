package ocpp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// Limit is a charging limit. Unit is "W" or "A"; Phases (1 or 3) is sent as
// numberPhases when Unit is "A" (and may be 0 when Unit is "W").
type Limit struct {
	Value  float64 // in Unit, ≥ 0
	Unit   string
	Phases int
}

func (l Limit) String() string {
	if l.Unit == "A" {
		return fmt.Sprintf("%s A × %d phases", strconv.FormatFloat(l.Value, 'f', -1, 64), l.Phases)
	}
	return strconv.FormatFloat(l.Value, 'f', -1, 64) + " " + l.Unit
}

func (l Limit) validate() error {
	if math.IsNaN(l.Value) || math.IsInf(l.Value, 0) || l.Value < 0 {
		return fmt.Errorf("limit value %v: want a finite number ≥ 0", l.Value)
	}
	switch l.Unit {
	case "W":
		if l.Phases != 0 && l.Phases != 1 && l.Phases != 3 {
			return fmt.Errorf("phases %d: want 1 or 3 (or 0 with W)", l.Phases)
		}
	case "A":
		if l.Phases != 1 && l.Phases != 3 {
			return fmt.Errorf("phases %d: want 1 or 3 with A", l.Phases)
		}
	default:
		return fmt.Errorf("unit %q: want W or A", l.Unit)
	}
	return nil
}

// LimitStackLevel is the stackLevel of every profile lifang sets. With OCPP 1.6's
// replacement rule (§3.13.2: a profile with the same id, or the same stackLevel and
// purpose on the connector, replaces the old one) each new limit replaces the last,
// and ClearLimit can clear lifang's profiles by connector and stack level.
const LimitStackLevel = 1

// CompositeDurationS is the duration, in seconds, of the GetCompositeSchedule that
// confirms a limit.
const CompositeDurationS = 3600

// Profile ids are profileIDBase + profileIDStride·connector + the purpose's code, the
// same for every limit of a connector and purpose.
const (
	profileIDBase   = 100000
	profileIDStride = 10
)

// ProfileID is the chargingProfileId lifang uses for its limits on a connector with
// the purpose TxDefaultProfile or TxProfile.
func ProfileID(connector int, purpose types.ChargingProfilePurposeType) int {
	code := 1
	if purpose == types.ChargingProfilePurposeTxProfile {
		code = 2
	}
	return profileIDBase + profileIDStride*connector + code
}

// SetLimit limits the charging of a connector from at (the controller's clock, which
// may be simulated: the schedule never uses time.Now). It sends SetChargingProfile
// with an Absolute, one-period schedule starting at at: a TxProfile for the open
// transaction when there is one, else a TxDefaultProfile for the connector. Once
// Accepted, a GetCompositeSchedule over CompositeDurationS checks that the charger
// applies it (CommandResult.Confirmed).
func (c *CentralSystem) SetLimit(ctx context.Context, cp string, connector int, at time.Time, l Limit) CommandResult {
	const action = "SetChargingProfile"
	if connector < 1 {
		return c.invalid(cp, action, fmt.Errorf("connector %d: want ≥ 1", connector))
	}
	if at.IsZero() {
		return c.invalid(cp, action, errors.New("start time is zero"))
	}
	if err := l.validate(); err != nil {
		return c.invalid(cp, action, err)
	}
	// OCPP 1.6's schema wants the limit a multiple of 0.1 (chargingSchedulePeriod.limit,
	// multipleOf 0.1): round down, so the charger never gets more than asked.
	l.Value = math.Floor(l.Value*10+1e-9) / 10
	unit := types.ChargingRateUnitType(l.Unit)
	tx := c.openTransaction(cp, connector)
	purpose := types.ChargingProfilePurposeTxDefaultProfile
	if tx != 0 {
		purpose = types.ChargingProfilePurposeTxProfile
	}
	period := types.NewChargingSchedulePeriod(0, l.Value)
	if unit == types.ChargingRateUnitAmperes {
		phases := l.Phases
		period.NumberPhases = &phases
	}
	schedule := types.NewChargingSchedule(unit, period)
	schedule.StartSchedule = types.NewDateTime(at.UTC())
	id := ProfileID(connector, purpose)
	profile := types.NewChargingProfile(id, LimitStackLevel, purpose, types.ChargingProfileKindAbsolute, schedule)
	where := fmt.Sprintf("connector %d", connector)
	if tx != 0 {
		profile.TransactionId = tx
		where += fmt.Sprintf(" transaction %d", tx)
	}
	what := fmt.Sprintf("%s %s id %d %s: %v from %s", action, purpose, id, where, l, schedule.StartSchedule.FormatTimestamp())
	req := smartcharging.NewSetChargingProfileRequest(connector, profile)
	return c.simple(ctx, cp, what, req, marshalRequest(req), func(r ocpp.Response) (string, bool) {
		conf, ok := r.(*smartcharging.SetChargingProfileConfirmation)
		if !ok {
			return "", false
		}
		return string(conf.Status), true
	}, func(t *turn, res *CommandResult) {
		var detail string
		res.Confirmed, detail = t.confirm(ctx, connector, at, l)
		res.Detail += "; " + detail
	})
}

// confirm asks the charger for its composite schedule and checks that the limit in
// force at at is l.
func (t *turn) confirm(ctx context.Context, connector int, at time.Time, l Limit) (bool, string) {
	req := smartcharging.NewGetCompositeScheduleRequest(connector, CompositeDurationS)
	req.ChargingRateUnit = types.ChargingRateUnitType(l.Unit)
	r := t.call(ctx, req)
	if r.status != "" {
		return false, "GetCompositeSchedule: " + r.status + ": " + r.detail
	}
	conf, ok := r.resp.(*smartcharging.GetCompositeScheduleConfirmation)
	if !ok {
		return false, fmt.Sprintf("GetCompositeSchedule: unexpected answer %T", r.resp)
	}
	if conf.Status != smartcharging.GetCompositeScheduleStatusAccepted {
		return false, "GetCompositeSchedule: " + string(conf.Status)
	}
	got, unit, err := compositeAt(conf, at)
	if err != nil {
		return false, "GetCompositeSchedule: " + err.Error()
	}
	if unit != l.Unit {
		return false, fmt.Sprintf("GetCompositeSchedule: in %s, asked for %s: not compared", unit, l.Unit)
	}
	tol := 1.0 // W
	if unit == "A" {
		tol = 0.1
	}
	tol = math.Max(tol, 0.01*l.Value)
	if math.Abs(got-l.Value) > tol {
		return false, fmt.Sprintf("GetCompositeSchedule: %s %s in force, not the limit set", strconv.FormatFloat(got, 'f', -1, 64), unit)
	}
	return true, fmt.Sprintf("GetCompositeSchedule: %s %s in force: confirmed", strconv.FormatFloat(got, 'f', -1, 64), unit)
}

// compositeAt is the limit of a composite schedule in force at at: the schedule's
// first period when at is before its start (the charger's clock is ahead of ours).
func compositeAt(conf *smartcharging.GetCompositeScheduleConfirmation, at time.Time) (float64, string, error) {
	s := conf.ChargingSchedule
	if s == nil || len(s.ChargingSchedulePeriod) == 0 {
		return 0, "", errors.New("no schedule in the answer")
	}
	start := conf.ScheduleStart
	if start == nil {
		start = s.StartSchedule
	}
	offset := 0
	if start != nil && !start.IsZero() {
		offset = int(at.Truncate(time.Second).Sub(start.Truncate(time.Second)) / time.Second)
	}
	if s.Duration != nil && offset >= *s.Duration {
		return 0, "", fmt.Errorf("schedule of %d s starting %s ends before %s", *s.Duration, start.FormatTimestamp(),
			types.FormatTimestamp(at))
	}
	p := s.ChargingSchedulePeriod[0]
	for _, q := range s.ChargingSchedulePeriod[1:] {
		if q.StartPeriod <= offset && q.StartPeriod >= p.StartPeriod {
			p = q
		}
	}
	return p.Limit, string(s.ChargingRateUnit), nil
}

// ClearLimit removes lifang's limits from a connector, TxProfile and
// TxDefaultProfile: ClearChargingProfile for the connector at LimitStackLevel. The
// charger then falls back to what it applies without them. Status Unknown means there
// was nothing to clear.
func (c *CentralSystem) ClearLimit(ctx context.Context, cp string, connector int) CommandResult {
	const action = "ClearChargingProfile"
	if connector < 1 {
		return c.invalid(cp, action, fmt.Errorf("connector %d: want ≥ 1", connector))
	}
	req := smartcharging.NewClearChargingProfileRequest()
	conn, level := connector, LimitStackLevel
	req.ConnectorId, req.StackLevel = &conn, &level
	what := fmt.Sprintf("%s connector %d stackLevel %d", action, connector, level)
	return c.simple(ctx, cp, what, req, marshalRequest(req), func(r ocpp.Response) (string, bool) {
		conf, ok := r.(*smartcharging.ClearChargingProfileConfirmation)
		if !ok {
			return "", false
		}
		return string(conf.Status), true
	}, nil)
}
