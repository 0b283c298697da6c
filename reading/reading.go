// Package reading is lifang's metered-data model: points (what is measured, with a
// Brick class and a unit), readings (one value of a point at a time), events (EV
// charging sessions, parking gates), and the canonical bytes of a batch — the exact
// bytes the ledger commits to, so anyone can recompute a leaf from stored data.
package reading

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Quality flags a reading's provenance.
type Quality uint8

const (
	// Good is a value read from the device as is.
	Good Quality = iota
	// Estimated is a value the device or gateway estimated.
	Estimated
	// Substituted is a value an operator entered to replace a bad one.
	Substituted
)

func (q Quality) String() string {
	switch q {
	case Good:
		return "good"
	case Estimated:
		return "estimated"
	case Substituted:
		return "substituted"
	}
	return "quality(" + strconv.Itoa(int(q)) + ")"
}

// ParseQuality accepts "", "good", "estimated", "substituted" (case-insensitive).
func ParseQuality(s string) (Quality, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "good":
		return Good, nil
	case "estimated":
		return Estimated, nil
	case "substituted":
		return Substituted, nil
	}
	return 0, fmt.Errorf("quality %q: want good, estimated or substituted", s)
}

// Reading is one value of a point. Time is stored and encoded in UTC to the nanosecond.
type Reading struct {
	Point   string
	Time    time.Time
	Value   float64
	Unit    string // a canonical unit symbol (see Units)
	Quality Quality
}

// Key identifies a reading: one value per point and instant.
type Key struct {
	Point string
	Time  int64 // Unix nanoseconds
}

// Key returns the reading's identity.
func (r *Reading) Key() Key { return Key{Point: r.Point, Time: r.Time.UnixNano()} }

// EventKind names what happened.
type EventKind string

const (
	EVSessionStart EventKind = "ev_session_start"
	EVSessionStop  EventKind = "ev_session_stop"
	GateIn         EventKind = "gate_in"
	GateOut        EventKind = "gate_out"
	// MeterReplaced marks that the meter behind point Source was replaced at Time: its
	// register restarts, and readings from Time on are compared only with each other.
	MeterReplaced EventKind = "meter_replaced"
)

// Event is a discrete occurrence reported by a device: a charging session starting or
// stopping, a car passing a parking gate. Attrs are sorted by key in the canonical form.
type Event struct {
	Kind   EventKind
	Source string // device id: charge point id and connector, gate id
	Time   time.Time
	Attrs  map[string]string
}

// ValidName reports whether s can name a point, a source or an attribute: 1–200 bytes
// of printable UTF-8 without tabs, newlines or '='/';' (which the canonical form uses).
func ValidName(s string) error {
	if s == "" {
		return fmt.Errorf("empty name")
	}
	if len(s) > 200 {
		return fmt.Errorf("name of %d bytes, want <= 200", len(s))
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == '\t' || c == '=' || c == ';' || c == 0xfffd {
			return fmt.Errorf("name %q contains %q", s, c)
		}
	}
	return nil
}

// MaxAttrValue is the longest event attribute value, in bytes: enough for a
// controller decision's observation (base64url JSON) while a batch's events still fit
// the ledger's 64 KiB entries.
const MaxAttrValue = 32 << 10

// ValidAttrValue reports whether s can be an event attribute's value: what ValidName
// allows, up to MaxAttrValue bytes.
func ValidAttrValue(s string) error {
	if len(s) > MaxAttrValue {
		return fmt.Errorf("value of %d bytes, want <= %d", len(s), MaxAttrValue)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == '\t' || c == '=' || c == ';' || c == 0xfffd {
			return fmt.Errorf("value contains %q", c)
		}
	}
	return nil
}

// FormatValue is the canonical text of a value: the shortest decimal that parses back
// to the same float64.
func FormatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// FormatTime is the canonical text of an instant: RFC 3339 in UTC with nanoseconds
// when there are any.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Finite reports whether v is a usable number (not NaN or ±Inf).
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
