package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lifang-community/lifang/ingest"
)

type failingSink struct{}

func (failingSink) Ingest(context.Context, ingest.Input) (ingest.Result, error) {
	return ingest.Result{}, errors.New("disk full")
}

func TestHTTPHandler(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(ingest.Handler(e.p, nil))
	defer srv.Close()
	post := func(body string) (int, map[string]any) {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	good := `{"readings":[{"point":"m1","timestamp":"2026-03-01T00:00:00Z","value":1.5,"unit":"kWh"},` +
		`{"point":"m1","timestamp":"2026-03-01T00:15:00Z","value":"2","unit":"kWh"},` +
		`{"point":"m1","timestamp":"2026-03-01T00:30:00Z","value":2.5,"unit":"furlongs"},` +
		`{"point":"m1","timestamp":"2026-03-01T00:45:00Z","value":3,"unit":"kWh","extra":1}]}`
	code, m := post(good)
	if code != 200 || m["accepted"] != 1.0 || m["quarantined"] != 3.0 {
		t.Fatalf("good batch: %d %v", code, m)
	}
	for _, c := range []struct {
		body string
		code int
	}{
		{`not json`, 400},
		{`{"readings":{}}`, 400},
		{`{"readings":[],"bogus":1}`, 400},
		{`{"readings":[]} trailing`, 400},
		{`{"readings":[` + strings.Repeat(`{"point":"m","timestamp":"2026-03-01T00:00:00Z","value":1,"unit":"kW"},`, ingest.MaxBatch) + `{}]}`, 413},
	} {
		if got, m := post(c.body); got != c.code || m["error"] == nil {
			t.Errorf("%.40q: status %d (%v), want %d with an error object", c.body, got, m, c.code)
		}
	}
	resp, _ := http.Get(srv.URL)
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	fail := httptest.NewServer(ingest.Handler(failingSink{}, nil))
	defer fail.Close()
	resp, _ = http.Post(fail.URL, "application/json", strings.NewReader(good))
	if resp.StatusCode != 503 {
		t.Errorf("failing sink: %d, want 503", resp.StatusCode)
	}
}
