package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// ingestHandler stands in for POST /readings: it echoes the principal it was given.
var ingestHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	t, ok := FromContext(r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}
	if t.Hash != "" {
		http.Error(w, "hash in context", http.StatusInternalServerError)
		return
	}
	w.Write([]byte("ok " + t.ID + " " + string(t.Role)))
})

func TestMiddleware(t *testing.T) {
	clock := newClock()
	s, _ := openSQLite(t, clock)
	ctx := t.Context()
	issue := func(r Role) (string, Token) {
		plain, rec, err := Issuer{Now: clock.now}.Issue(r, string(r)+" test")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return plain, rec
	}
	opPlain, op := issue(Operator)
	invPlain, _ := issue(Investor)
	revPlain, rev := issue(Admin)
	if err := s.Revoke(ctx, rev.ID); err != nil {
		t.Fatal(err)
	}
	unknown, _, _ := Issue(Admin, "never stored")

	var logs bytes.Buffer
	a := NewAuthenticator(s, slog.New(slog.NewJSONHandler(&logs, nil)))
	h := a.Middleware(Ingest)(ingestHandler)

	cases := []struct {
		name      string
		headers   []string // Authorization values; nil for none
		status    int
		code      string
		challenge string // substring of WWW-Authenticate
	}{
		{"no header", nil, 401, "unauthorized", `Bearer realm="lifang"`},
		{"empty header", []string{""}, 401, "unauthorized", "invalid_request"},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, 401, "unauthorized", "invalid_request"},
		{"token without scheme", []string{opPlain}, 401, "unauthorized", "invalid_request"},
		{"scheme without token", []string{"Bearer "}, 401, "unauthorized", "invalid_request"},
		{"two tokens", []string{"Bearer " + opPlain + " " + opPlain}, 401, "unauthorized", "invalid_request"},
		{"two headers", []string{"Bearer " + opPlain, "Bearer " + opPlain}, 401, "unauthorized", "invalid_request"},
		{"unknown token", []string{"Bearer " + unknown}, 401, "unauthorized", "invalid_token"},
		{"not our format", []string{"Bearer abc.def"}, 401, "unauthorized", "invalid_token"},
		{"revoked token", []string{"Bearer " + revPlain}, 401, "unauthorized", "invalid_token"},
		{"investor on ingest", []string{"Bearer " + invPlain}, 403, "forbidden", `error="insufficient_scope", scope="ingest"`},
		{"operator", []string{"Bearer " + opPlain}, 200, "", ""},
		{"operator lower-case scheme", []string{"bearer " + opPlain}, 200, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs.Reset()
			req := httptest.NewRequest("POST", "/v1/readings", nil)
			for _, v := range c.headers {
				req.Header.Add("Authorization", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, c.status, rec.Body)
			}
			if c.status == 200 {
				if want := "ok " + op.ID + " operator"; rec.Body.String() != want {
					t.Errorf("body %q, want %q", rec.Body, want)
				}
				if logs.Len() != 0 {
					t.Errorf("success logged a denial: %s", logs.String())
				}
				return
			}
			checkErrorBody(t, rec, c.status, c.code)
			if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, c.challenge) {
				t.Errorf("WWW-Authenticate %q lacks %q", got, c.challenge)
			}
			// The denial is logged, without any token material.
			if !strings.Contains(logs.String(), `"msg":"auth: request denied"`) {
				t.Errorf("denial not logged: %s", logs.String())
			}
			for _, secret := range []string{opPlain, invPlain, revPlain, unknown, opPlain[12:], invPlain[12:], revPlain[12:], unknown[12:], op.Hash, rev.Hash} {
				if strings.Contains(logs.String(), secret) || strings.Contains(rec.Body.String(), secret) {
					t.Errorf("token material in log or body: %s / %s", logs.String(), rec.Body)
				}
			}
		})
	}

	// The revoked denial names the token by ID, so an operator can find it.
	logs.Reset()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+revPlain)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !strings.Contains(logs.String(), `"reason":"revoked"`) || !strings.Contains(logs.String(), rev.ID) {
		t.Errorf("revoked denial log: %s", logs.String())
	}
}

// TestRevocationIsImmediate: a token that worked is refused on the next request.
func TestRevocationIsImmediate(t *testing.T) {
	s, _ := openSQLite(t, newClock())
	plain, rec, _ := Issue(Operator, "")
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	h := NewAuthenticator(s, slog.New(slog.DiscardHandler)).Require(ReadOperations, ingestHandler)
	do := func() int {
		req := httptest.NewRequest("GET", "/v1/energy", nil)
		req.Header.Set("Authorization", "Bearer "+plain)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if c := do(); c != 200 {
		t.Fatalf("before revoke: %d", c)
	}
	if err := s.Revoke(t.Context(), rec.ID); err != nil {
		t.Fatal(err)
	}
	if c := do(); c != 401 {
		t.Errorf("after revoke: %d, want 401", c)
	}
}

func TestMiddlewareStoreFailure(t *testing.T) {
	plain, _, _ := Issue(Admin, "")
	h := NewAuthenticator(&fakeLookup{err: errors.New("database is locked")}, slog.New(slog.DiscardHandler)).Require(Ingest, ingestHandler)
	req := httptest.NewRequest("POST", "/v1/readings", nil)
	req.Header.Set("Authorization", "Bearer "+plain)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	checkErrorBody(t, rec, 500, "internal")
}

// checkErrorBody checks the response is exactly the one JSON error shape.
func checkErrorBody(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	var body ErrorBody
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	if body.Error.Status != status || body.Error.Code != code || body.Error.Message == "" {
		t.Errorf("error body %+v, want status %d code %s and a message", body, status, code)
	}
}

func TestWriteErrorShape(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, http.StatusUnauthorized, CodeUnauthorized, `missing "token"`)
	want := `{"error":{"status":401,"code":"unauthorized","message":"missing \"token\""}}` + "\n"
	if rec.Body.String() != want {
		t.Errorf("body\n%s\nwant\n%s", rec.Body, want)
	}
	if rec.Code != 401 || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("status %d, headers %v", rec.Code, rec.Header())
	}
}

func TestParseBearer(t *testing.T) {
	good := map[string]string{
		"Bearer abc":          "abc",
		"bearer abc":          "abc",
		"BEARER abc":          "abc",
		"Bearer   abc":        "abc",
		"Bearer a-b.c_d~e+f/": "a-b.c_d~e+f/",
		"Bearer YWJj==":       "YWJj==",
	}
	for h, want := range good {
		got, err := ParseBearer(h)
		if err != nil || got != want {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q", h, got, err, want)
		}
	}
	bad := []string{
		"", "Bearer", "Bearer ", "Bearer  ", "Basic abc", "Bearerabc", " Bearer abc",
		"Bearer\tabc", "Bearer abc ", "Bearer abc def", "Bearer a=b", "Bearer =", "Bearer ab\x00c",
		"Bearer " + strings.Repeat("a", maxTokenLen+1), "Token abc", "Bearer é",
	}
	for _, h := range bad {
		if got, err := ParseBearer(h); err == nil {
			t.Errorf("ParseBearer(%q) = %q, want an error", h, got)
		}
	}
}

// FuzzParseBearer: the parser never panics, and what it accepts is a clean token68
// that parses back to itself.
func FuzzParseBearer(f *testing.F) {
	plain, _, _ := Issue(Operator, "")
	for _, s := range []string{
		"", "Bearer", "Bearer ", "Bearer " + plain, "bearer " + plain, "Basic dXNlcjpwYXNz",
		"Bearer a=", "Bearer ==", "Bearer a b", "Bearer \x00", "Bearer \xff\xfe", "Bearer\t" + plain,
		"Bearer  " + plain, "BEARER x", "Bearer " + strings.Repeat("a", 600), " ", "Bearer é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := ParseBearer(h)
		if err != nil {
			if tok != "" {
				t.Errorf("error with a token %q", tok)
			}
			return
		}
		if tok == "" || len(tok) > maxTokenLen || strings.ContainsAny(tok, " \t\r\n,\"") || !token68(tok) {
			t.Errorf("ParseBearer(%q) accepted %q", h, tok)
		}
		if again, err := ParseBearer("Bearer " + tok); err != nil || again != tok {
			t.Errorf("round trip of %q: %q, %v", tok, again, err)
		}
		wellFormed(tok) // must not panic on anything the parser passes on
	})
}
