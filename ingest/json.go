package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// MaxBody is the largest HTTP batch body accepted (bytes).
const MaxBody = 16 << 20

// JSONReading is one reading in a JSON batch.
type JSONReading struct {
	Point     string   `json:"point"`
	Timestamp string   `json:"timestamp"`
	Value     *float64 `json:"value"`
	Unit      string   `json:"unit"`
	Quality   string   `json:"quality,omitempty"`
}

// JSONEvent is one event in a JSON batch.
type JSONEvent struct {
	Kind      string            `json:"kind"`
	Source    string            `json:"source"`
	Timestamp string            `json:"timestamp"`
	Attrs     map[string]string `json:"attrs,omitempty"`
}

// ErrBadBody is a request body that is not a JSON batch at all.
var ErrBadBody = errors.New("ingest: bad request body")

// DecodeJSON parses a batch {"readings":[…],"events":[…]}. A body that is not such an
// object is an error (ErrBadBody); an element that is malformed (unknown or missing
// fields, wrong types, bad timestamps) becomes a Rejected entry with its raw JSON and
// the reason, and the other elements go through.
func DecodeJSON(body []byte, source string) (Input, error) {
	in := Input{Source: source}
	var top struct {
		Readings []json.RawMessage `json:"readings"`
		Events   []json.RawMessage `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&top); err != nil {
		return in, fmt.Errorf("%w: %v (want {\"readings\":[{\"point\",\"timestamp\",\"value\",\"unit\"}]})", ErrBadBody, err)
	}
	if dec.More() {
		return in, fmt.Errorf("%w: trailing data after the batch object", ErrBadBody)
	}
	if len(top.Readings) > MaxBatch {
		return in, fmt.Errorf("%w: %d readings, at most %d in one batch", ErrTooLarge, len(top.Readings), MaxBatch)
	}
	for i, raw := range top.Readings {
		r, err := decodeReading(raw)
		if err != nil {
			in.Rejected = append(in.Rejected, store.Rejected{Source: source, Raw: string(raw), Reason: fmt.Sprintf("readings[%d]: %v", i, err)})
			continue
		}
		in.Readings = append(in.Readings, r)
		in.Raw = append(in.Raw, string(raw))
	}
	for i, raw := range top.Events {
		e, err := decodeEvent(raw)
		if err != nil {
			in.Rejected = append(in.Rejected, store.Rejected{Source: source, Raw: string(raw), Reason: fmt.Sprintf("events[%d]: %v", i, err)})
			continue
		}
		in.Events = append(in.Events, e)
	}
	return in, nil
}

func strict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

func decodeReading(raw []byte) (reading.Reading, error) {
	var j JSONReading
	var r reading.Reading
	if err := strict(raw, &j); err != nil {
		return r, err
	}
	if j.Point == "" {
		return r, fmt.Errorf("point: missing")
	}
	if j.Value == nil {
		return r, fmt.Errorf("value: missing")
	}
	if math.IsNaN(*j.Value) || math.IsInf(*j.Value, 0) {
		return r, fmt.Errorf("value: not finite")
	}
	t, err := time.Parse(time.RFC3339Nano, j.Timestamp)
	if err != nil {
		return r, fmt.Errorf("timestamp: %q is not RFC 3339", j.Timestamp)
	}
	if strings.TrimSpace(j.Unit) == "" {
		return r, fmt.Errorf("unit: missing")
	}
	q, err := reading.ParseQuality(j.Quality)
	if err != nil {
		return r, err
	}
	return reading.Reading{Point: j.Point, Time: t, Value: *j.Value, Unit: strings.TrimSpace(j.Unit), Quality: q}, nil
}

func decodeEvent(raw []byte) (reading.Event, error) {
	var j JSONEvent
	if err := strict(raw, &j); err != nil {
		return reading.Event{}, err
	}
	if j.Kind == "" || j.Source == "" {
		return reading.Event{}, fmt.Errorf("kind and source are required")
	}
	t, err := time.Parse(time.RFC3339Nano, j.Timestamp)
	if err != nil {
		return reading.Event{}, fmt.Errorf("timestamp: %q is not RFC 3339", j.Timestamp)
	}
	if j.Attrs == nil {
		j.Attrs = map[string]string{}
	}
	return reading.Event{Kind: reading.EventKind(j.Kind), Source: j.Source, Time: t, Attrs: j.Attrs}, nil
}

// Handler is the HTTP JSON batch endpoint (POST, Content-Type application/json): it
// answers 200 with the Result once the batch is durable and logged, 400 for a body
// that is not a batch, 413 for an oversized one, 405 for other methods and 503 when
// the sink fails (nothing acknowledged: retry). Errors use one JSON shape:
// {"error":{"status":…,"code":"…","message":"…"}}.
func Handler(sink Sink, lg *slog.Logger) http.Handler {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "POST a JSON batch")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", MaxBody))
				return
			}
			writeError(w, http.StatusBadRequest, "bad_body", err.Error())
			return
		}
		in, err := DecodeJSON(body, "http:"+r.RemoteAddr)
		switch {
		case errors.Is(err, ErrTooLarge):
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", err.Error())
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, "bad_body", err.Error())
			return
		}
		res, err := sink.Ingest(r.Context(), in)
		if err != nil {
			lg.ErrorContext(r.Context(), "ingest failed", "err", err, "remote", r.RemoteAddr)
			if errors.Is(err, ErrTooLarge) {
				writeError(w, http.StatusRequestEntityTooLarge, "too_large", err.Error())
				return
			}
			writeError(w, http.StatusServiceUnavailable, "unavailable", "ingest failed; nothing was acknowledged, retry")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	})
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The one error shape of lifang's HTTP API (see auth.ErrorBody).
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"status": status, "code": code, "message": msg}})
}
