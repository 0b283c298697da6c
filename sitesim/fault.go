package sitesim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Fault is an injected failure. Kinds:
//   - modbus-down:<battery>@<from>/<duration>: the BESS's Modbus server refuses
//     connections for the period;
//   - stale:<meter>@<from>/<duration>: the meter publishes nothing for the period;
//   - reject-profiles:<ocpp_id>: the charger answers every SetChargingProfile Rejected;
//   - mqtt-drop:<share>: that share of the emulator's MQTT publications is dropped
//     (seeded, so a run is repeatable).
type Fault struct {
	Kind   string
	Device string
	From   time.Time
	To     time.Time
	Share  float64
}

// Active reports whether a timed fault is in force at t.
func (f Fault) Active(t time.Time) bool { return !t.Before(f.From) && t.Before(f.To) }

// ParseFault reads one --fault value.
func ParseFault(s string) (Fault, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Fault{}, fmt.Errorf("fault %q: want KIND:ARGS (modbus-down:BATTERY@FROM/DURATION, stale:METER@FROM/DURATION, reject-profiles:OCPP_ID, mqtt-drop:SHARE)", s)
	}
	f := Fault{Kind: kind}
	switch kind {
	case "mqtt-drop":
		v, err := strconv.ParseFloat(rest, 64)
		if err != nil || !(v >= 0 && v < 1) {
			return Fault{}, fmt.Errorf("fault %q: share %q: want a number in [0, 1)", s, rest)
		}
		f.Share = v
		return f, nil
	case "reject-profiles":
		if rest == "" {
			return Fault{}, fmt.Errorf("fault %q: want reject-profiles:OCPP_ID", s)
		}
		f.Device = rest
		return f, nil
	case "modbus-down", "stale":
		dev, period, ok := strings.Cut(rest, "@")
		if !ok || dev == "" {
			return Fault{}, fmt.Errorf("fault %q: want %s:DEVICE@FROM/DURATION, e.g. %s:x@2025-07-14T10:00:00+08:00/2h", s, kind, kind)
		}
		from, dur, ok := strings.Cut(period, "/")
		if !ok {
			return Fault{}, fmt.Errorf("fault %q: period %q: want FROM/DURATION", s, period)
		}
		t, err := time.Parse(time.RFC3339, from)
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: from %q: want RFC 3339", s, from)
		}
		d, err := time.ParseDuration(dur)
		if err != nil || d <= 0 {
			return Fault{}, fmt.Errorf("fault %q: duration %q: want a positive Go duration such as 2h", s, dur)
		}
		f.Device, f.From, f.To = dev, t, t.Add(d)
		return f, nil
	}
	return Fault{}, fmt.Errorf("fault %q: unknown kind %q (valid: modbus-down, stale, reject-profiles, mqtt-drop)", s, kind)
}
