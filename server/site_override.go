package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lifang-community/lifang/auth"
	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
)

// MaxOverride is how far past the latest step an override may run.
const MaxOverride = 7 * 24 * time.Hour

// overrideRequest is the body of POST /api/v1/site/overrides. ValueKW is raw so that a
// missing value, a string and an out-of-range number each get their own message.
type overrideRequest struct {
	Device  string          `json:"device"`
	ValueKW json.RawMessage `json:"value_kw"`
	Until   string          `json:"until"`
	Reason  string          `json:"reason"`
}

// OverrideCreated is the answer to POST /api/v1/site/overrides: the control_override
// event as ledgered, and where.
type OverrideCreated struct {
	Kind      string            `json:"kind"`
	Source    string            `json:"source"`
	Time      string            `json:"time"`
	Attrs     map[string]string `json:"attrs"`
	LeafIndex int64             `json:"leaf_index"`
	TreeSize  int64             `json:"tree_size"`
}

// postOverride pins a battery's or charger's setpoint until a time: one control_override
// event through the ingest pipeline, so it is in the ledger before the answer. The event
// is stamped with the site's clock (the latest step), which is what the controller
// compares it with; the server's clock is kept in requested_at.
func (s *Server) postOverride(w http.ResponseWriter, r *http.Request) {
	d, ok := s.siteOr(w, r)
	if !ok {
		return
	}
	var req overrideRequest
	if !s.decodeOverride(w, r, &req) {
		return
	}
	v, err := validateOverride(&req, d)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_override", err.Error())
		return
	}
	t, _ := auth.FromContext(r.Context())
	by := attrText(t.Name)
	if by == "" {
		by = "token " + t.ID
	}
	e := reading.Event{Kind: kindOverride, Source: by, Time: d.asOf, Attrs: map[string]string{
		"device": req.Device, "value_kw": strconv.FormatFloat(v, 'f', -1, 64), "until": req.Until, "by": by, "reason": req.Reason,
		"token_id": t.ID, "requested_at": s.cfg.Now().UTC().Format(time.RFC3339)}}
	res, err := s.Ingest(r.Context(), ingest.Input{Source: "http:token:" + t.ID, Events: []reading.Event{e}})
	if err != nil {
		s.log.ErrorContext(r.Context(), "override ingest failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "ingest failed; the override was not recorded, retry")
		return
	}
	if res.Events != 1 {
		// The pipeline quarantined it: the site's clock is ahead of the server's.
		writeError(w, http.StatusConflict, "override_refused", fmt.Sprintf("the ingest pipeline refused the override event stamped %s (the latest step) by the server's clock %s: %v",
			rfc(d.asOf), rfc(s.cfg.Now()), res.Reasons))
		return
	}
	s.log.InfoContext(r.Context(), "override set", "device", req.Device, "value_kw", v, "until", req.Until, "by", by, "leaf_index", res.LeafIndex)
	b, _ := json.Marshal(OverrideCreated{Kind: string(e.Kind), Source: e.Source, Time: rfc(e.Time), Attrs: e.Attrs, LeafIndex: res.LeafIndex, TreeSize: res.TreeSize})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	w.Write(append(b, '\n'))
}

// decodeOverride is decodeStrict with a hint for JSON's missing NaN and Infinity.
func (s *Server) decodeOverride(w http.ResponseWriter, r *http.Request, v *overrideRequest) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "body over 64 KiB")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := "malformed JSON body: " + err.Error()
		if bytes.Contains(body, []byte("NaN")) || bytes.Contains(body, []byte("Infinity")) {
			msg += " (JSON has no NaN or Infinity: value_kw must be a finite number)"
		}
		writeError(w, http.StatusBadRequest, "bad_body", msg+`; want {"device", "value_kw", "until", "reason"}`)
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad_body", "data after the JSON object")
		return false
	}
	return true
}

// validateOverride checks a request against the site and returns the value in kW.
func validateOverride(req *overrideRequest, d *siteData) (float64, error) {
	var rng *OverrideRange
	var valid []string
	for _, dev := range d.view.Devices {
		if dev.Override == nil {
			continue
		}
		valid = append(valid, dev.ID)
		if dev.ID == req.Device {
			rng = dev.Override
		}
	}
	if req.Device == "" {
		return 0, fmt.Errorf("device: required; valid: %s", strings.Join(valid, ", "))
	}
	if rng == nil {
		return 0, fmt.Errorf("device %q is not a battery or charger of the site; valid: %s", req.Device, strings.Join(valid, ", "))
	}
	raw := bytes.TrimSpace(req.ValueKW)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fmt.Errorf("value_kw: required, a number of kW in [%g, %g]", rng.MinKW, rng.MaxKW)
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			return 0, fmt.Errorf("value_kw: %q is a string; want a finite number of kW in [%g, %g]", str, rng.MinKW, rng.MaxKW)
		}
		return 0, fmt.Errorf("value_kw: %s is not a finite number of kW (%v)", raw, err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < rng.MinKW || v > rng.MaxKW {
		what := "nameplate power_kw"
		if rng.MinKW < 0 {
			what += ": + charges, − discharges"
		}
		return 0, fmt.Errorf("value_kw: %g kW is outside %s's range [%g, %g] kW (%s)", v, req.Device, rng.MinKW, rng.MaxKW, what)
	}
	until, err := time.Parse(time.RFC3339, req.Until)
	if err != nil {
		return 0, fmt.Errorf("until: %q is not an RFC 3339 time (e.g. %s)", req.Until, rfc(d.asOf.Add(4*time.Hour)))
	}
	until = until.Truncate(time.Second) // as ledgered: whole seconds
	next := d.asOf.Add(d.step)
	switch {
	case !until.After(next):
		return 0, fmt.Errorf("until: %s is not after the next step (%s; the latest step is %s): the override would never apply", req.Until, rfc(next), rfc(d.asOf))
	case until.After(d.asOf.Add(MaxOverride)):
		return 0, fmt.Errorf("until: %s is more than %s after the latest step (%s): at most %s", req.Until, MaxOverride, rfc(d.asOf), rfc(d.asOf.Add(MaxOverride)))
	}
	req.Until = until.UTC().Format(time.RFC3339)
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case req.Reason == "":
		return 0, errors.New("reason: required: say why the setpoint is pinned (it is ledgered with the override)")
	case len(req.Reason) > 500:
		return 0, fmt.Errorf("reason: %d bytes, want at most 500", len(req.Reason))
	case reading.ValidAttrValue(req.Reason) != nil || strings.ContainsAny(req.Reason, "\n\r\t"):
		return 0, errors.New("reason: may not contain '=', ';' or control characters (the ledger's separators)")
	}
	return v, nil
}

// attrText makes s usable as an event source and attribute: printable, without the
// ledger's separators, at most 200 bytes.
func attrText(s string) string {
	s = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || c == '=' || c == ';' || c == 0xfffd {
			return ' '
		}
		return c
	}, s)
	s = strings.TrimSpace(s)
	for len(s) > 200 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}
