package mqtt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// DefaultMaxPayload is the largest payload in bytes Decode accepts when given no limit.
const DefaultMaxPayload = 1 << 20

// rawCut is how many bytes of an oversized payload are kept in its store.Rejected.
const rawCut = 4 << 10

// Decode parses one message published on topic. It is pure: the same topic and payload
// give the same Input. maxPayload is the size limit in bytes (DefaultMaxPayload when
// <= 0). The Input's Source is "mqtt:<topic>"; Raw[i] is the JSON that Readings[i]
// came from (the batch element, or the whole payload on a single-reading topic).
func Decode(topic string, payload []byte, maxPayload int) ingest.Input {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	in := ingest.Input{Source: "mqtt:" + topic}
	reject := func(raw, reason string) {
		in.Rejected = append(in.Rejected, store.Rejected{Source: in.Source, Raw: raw, Reason: reason})
	}
	if len(payload) > maxPayload {
		reason := fmt.Sprintf("payload of %d bytes is over the limit of %d bytes", len(payload), maxPayload)
		if len(payload) > rawCut {
			reason += fmt.Sprintf(" (raw keeps its first %d bytes)", rawCut)
		}
		reject(cutUTF8(payload, rawCut), reason)
		return in
	}
	// Raw must be storable as text (PostgreSQL refuses NUL), or the Sink would fail
	// on it and the message would come back for ever. JSON has no raw NUL anyway.
	if !utf8.Valid(payload) || bytes.IndexByte(payload, 0) >= 0 {
		reject(text(payload), "payload is not UTF-8 text: it has invalid or NUL bytes (raw shows them as U+FFFD)")
		return in
	}
	raw := string(payload)
	kind, point, err := parseTopic(topic)
	if err != nil {
		reject(raw, err.Error())
		return in
	}
	// Syntax first, so that a broken payload is reported as such rather than by
	// whatever field happens to come before the break.
	var whole json.RawMessage
	if err := json.Unmarshal(payload, &whole); err != nil {
		reject(raw, "malformed JSON: "+jsonError(err))
		return in
	}
	switch kind {
	case topicReading:
		r, err := decodeReading(payload, point)
		if err != nil {
			reject(raw, err.Error())
			return in
		}
		in.Readings, in.Raw = []reading.Reading{r}, []string{raw}
	case topicReadings, topicEvents:
		field := "readings"
		if kind == topicEvents {
			field = "events"
		}
		elems, err := decodeList(payload, field)
		if err != nil {
			reject(raw, err.Error())
			return in
		}
		for i, el := range elems {
			if kind == topicEvents {
				e, err := decodeEvent(el)
				if err != nil {
					reject(string(el), fmt.Sprintf("events[%d]: %v", i, err))
					continue
				}
				in.Events = append(in.Events, e)
				continue
			}
			r, err := decodeReading(el, "")
			if err != nil {
				reject(string(el), fmt.Sprintf("readings[%d]: %v", i, err))
				continue
			}
			in.Readings = append(in.Readings, r)
			in.Raw = append(in.Raw, string(el))
		}
	}
	return in
}

type topicKind int

const (
	topicReadings topicKind = iota // lifang/<unit>/readings
	topicReading                   // lifang/<unit>/readings/<point…>
	topicEvents                    // lifang/<unit>/events
)

// parseTopic classifies a topic and returns the point named by a single-reading topic.
func parseTopic(topic string) (topicKind, string, error) {
	bad := func(why string) error {
		return fmt.Errorf("topic %q %s; want lifang/<unit>/readings, lifang/<unit>/readings/<point> or lifang/<unit>/events", topic, why)
	}
	parts := strings.SplitN(topic, "/", 4)
	if len(parts) < 3 || parts[0] != "lifang" {
		return 0, "", bad("is not a lifang topic")
	}
	if parts[1] == "" {
		return 0, "", bad("has an empty unit")
	}
	switch {
	case parts[2] == "readings" && len(parts) == 3:
		return topicReadings, "", nil
	case parts[2] == "readings":
		if parts[3] == "" {
			return 0, "", bad("has an empty point")
		}
		return topicReading, parts[3], nil
	case parts[2] == "events" && len(parts) == 3:
		return topicEvents, "", nil
	}
	return 0, "", bad("is not a lifang topic")
}

// decodeList returns the elements of the only member, field, of a JSON object.
func decodeList(payload []byte, field string) ([]json.RawMessage, error) {
	var list json.RawMessage
	err := members(payload, func(name string, v json.RawMessage) error {
		if name != field {
			return fmt.Errorf("unknown field %q (want only %q)", name, field)
		}
		list = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	if list == nil {
		return nil, fmt.Errorf("missing field %q", field)
	}
	if k := kindOf(list); k != "an array" {
		return nil, fmt.Errorf("field %q: want an array, got %s", field, k)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(list, &elems); err != nil {
		return nil, fmt.Errorf("field %q: %s", field, jsonError(err))
	}
	if len(elems) > ingest.MaxBatch {
		return nil, fmt.Errorf("field %q: %d elements, at most %d (ingest.MaxBatch) in one message", field, len(elems), ingest.MaxBatch)
	}
	return elems, nil
}

// decodeReading decodes a reading object; point is the point named by the topic, or
// "" when the object must carry its own.
func decodeReading(raw []byte, point string) (reading.Reading, error) {
	var r reading.Reading
	fields := []string{"point", "timestamp", "value", "unit", "quality"}
	if point != "" {
		r.Point, fields = point, fields[1:]
	}
	err := decodeObject(raw, fields, len(fields)-1, func(name string, v json.RawMessage) (bool, error) { // quality is optional
		var err error
		switch {
		case name == "point" && point == "":
			r.Point, err = str(v)
		case name == "timestamp":
			r.Time, err = timestamp(v)
		case name == "value":
			r.Value, err = number(v)
		case name == "unit":
			r.Unit, err = str(v)
			r.Unit = strings.TrimSpace(r.Unit)
		case name == "quality":
			var s string
			if s, err = str(v); err == nil {
				r.Quality, err = reading.ParseQuality(s)
			}
		default:
			return false, nil
		}
		return true, err
	})
	return r, err
}

// decodeEvent decodes an event object.
func decodeEvent(raw []byte) (reading.Event, error) {
	e := reading.Event{Attrs: map[string]string{}}
	fields := []string{"kind", "source", "timestamp", "attrs"}
	err := decodeObject(raw, fields, len(fields)-1, func(name string, v json.RawMessage) (bool, error) { // attrs is optional
		var err error
		switch name {
		case "kind":
			var s string
			s, err = str(v)
			e.Kind = reading.EventKind(s)
		case "source":
			e.Source, err = str(v)
		case "timestamp":
			e.Time, err = timestamp(v)
		case "attrs":
			err = members(v, func(k string, v json.RawMessage) error {
				s, err := str(v)
				if err != nil {
					return fmt.Errorf("%q: %v", k, err)
				}
				e.Attrs[k] = s
				return nil
			})
		default:
			return false, nil
		}
		return true, err
	})
	return e, err
}

// decodeObject decodes a JSON object strictly: field sets one member and reports
// whether it knows it; every unknown member, bad value and missing required field (the
// first nRequired of fields) is one problem, all reported together.
func decodeObject(raw []byte, fields []string, nRequired int, field func(name string, v json.RawMessage) (bool, error)) error {
	var problems []string
	seen := map[string]bool{}
	err := members(raw, func(name string, v json.RawMessage) error {
		known, err := field(name, v)
		switch {
		case !known:
			problems = append(problems, fmt.Sprintf("unknown field %q (want %s)", name, strings.Join(fields, ", ")))
		case err != nil:
			seen[name] = true
			problems = append(problems, fmt.Sprintf("field %q: %v", name, err))
		default:
			seen[name] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	problems = append(problems, missing(seen, fields[:nRequired])...)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func missing(seen map[string]bool, required []string) []string {
	var out []string
	for _, f := range required {
		if !seen[f] {
			out = append(out, fmt.Sprintf("missing field %q", f))
		}
	}
	return out
}

// members calls member for each member of the JSON object raw, in order. raw must be
// syntactically valid JSON; members fails if it is not an object or if a name appears
// twice (encoding/json would silently keep the last).
func members(raw []byte, member func(name string, v json.RawMessage) error) error {
	if k := kindOf(raw); k != "an object" {
		return fmt.Errorf("want an object, got %s", k)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return errors.New(jsonError(err))
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errors.New(jsonError(err))
		}
		name, _ := tok.(string) // object keys are always strings
		if seen[name] {
			return fmt.Errorf("field %q appears more than once", name)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return errors.New(jsonError(err))
		}
		if err := member(name, v); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return errors.New(jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func str(v json.RawMessage) (string, error) {
	if k := kindOf(v); k != "a string" {
		return "", fmt.Errorf("want a string, got %s", k)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errors.New(jsonError(err))
	}
	return s, nil
}

func number(v json.RawMessage) (float64, error) {
	if k := kindOf(v); k != "a number" {
		return 0, fmt.Errorf("want a number, got %s", k)
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || !reading.Finite(f) {
		return 0, fmt.Errorf("%s is not a finite float64", v)
	}
	return f, nil
}

func timestamp(v json.RawMessage) (time.Time, error) {
	s, err := str(v)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (like 2024-05-01T12:00:00+08:00)", s)
	}
	return t.UTC(), nil
}

// kindOf names the JSON type of a syntactically valid value.
func kindOf(v []byte) string {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonError describes an encoding/json error without the Go type names it mentions.
func jsonError(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s at byte %d", strings.TrimPrefix(syn.Error(), "json: "), syn.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// cutUTF8 returns at most the first n bytes of b, not splitting a character, as text.
func cutUTF8(b []byte, n int) string {
	if len(b) > n {
		i := n
		for i > 0 && n-i < utf8.UTFMax && !utf8.RuneStart(b[i]) {
			i--
		}
		b = b[:i]
	}
	return text(b)
}

// text returns b as valid UTF-8 without NUL, replacing bad bytes with U+FFFD.
func text(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", "\uFFFD")
}
