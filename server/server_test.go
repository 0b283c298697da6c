package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/auth"
	"github.com/lifang-community/lifang/bus"
	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/privacy"
	"github.com/lifang-community/lifang/store/sqlite"
	"github.com/lifang-community/lifang/unit"
)

// harness is a server on a temporary SQLite database with one token per role.
type harness struct {
	srv    *Server
	ts     *httptest.Server
	tokens map[auth.Role]string
	st     *sqlite.Store
	log    *ledger.Log
}

var (
	bootOnce sync.Once
	shared   *harness
)

// testServer returns a booted server shared by the tests of this package (the start-up
// simulation runs once: baseline and rule-based, 300 Monte Carlo paths).
func testServer(t testing.TB) *harness {
	t.Helper()
	bootOnce.Do(func() {
		shared = newHarness(t, Config{Policies: []string{"business_as_usual", "rule_based"}, FinancePaths: 300})
		shared.srv.Start()
		shared.waitReady(t)
	})
	if shared == nil {
		t.Fatal("test server failed to start")
	}
	return shared
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	dir := t.TempDir()
	if tb, ok := t.(*testing.T); ok && shared == nil {
		_ = tb // the shared harness outlives the first test's TempDir cleanup only if made elsewhere
	}
	st, err := sqlite.Open(filepath.Join(dir, "lifang.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const origin = "test.lifang/unit"
	sk, vk, err := ledger.GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewSigner(sk)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ledger.NewVerifier(vk)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := ledger.New(origin, st, 0, signer, nil, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewSQLStore(ctx, st.DB(), auth.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Log, cfg.Tokens, cfg.PublicKeys = st, lg, tokens, []string{vk}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{srv: s, tokens: map[auth.Role]string{}, st: st, log: lg}
	for _, r := range auth.Roles() {
		plain, rec, err := auth.Issue(r, "test "+string(r))
		if err != nil {
			t.Fatal(err)
		}
		if err := tokens.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		h.tokens[r] = plain
	}
	h.ts = httptest.NewServer(s.Handler())
	return h
}

func (h *harness) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := h.srv.op.summary(); err == nil {
			return
		} else if !strings.Contains(err.Error(), "still running") {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("start-up simulation did not finish")
}

// do sends a request as role ("" for none) and returns status, content type and body.
func (h *harness) do(t testing.TB, role auth.Role, method, path string, body []byte) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+h.tokens[role])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return resp.StatusCode, ct, b
}

func readingsBody(point string, start time.Time, n int) []byte {
	var rs []map[string]any
	for i := 0; i < n; i++ {
		rs = append(rs, map[string]any{"point": point, "timestamp": start.Add(time.Duration(i) * time.Hour).Format(time.RFC3339), "value": 1.5 + float64(i), "unit": "kWh"})
	}
	b, _ := json.Marshal(map[string]any{"readings": rs})
	return b
}

// ingestSome makes sure the ledger has leaves.
func (h *harness) ingestSome(t testing.TB) {
	t.Helper()
	if h.log.Size() > 0 {
		return
	}
	st, _, b := h.do(t, auth.Operator, "POST", "/api/v1/readings", readingsBody("building/1/meter", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 24))
	if st != 200 {
		t.Fatalf("ingest %d: %s", st, b)
	}
}

// concrete fills a route pattern's path values.
func (h *harness) concrete(t testing.TB, pattern string) string {
	if !strings.Contains(pattern, "{id}") {
		return pattern
	}
	j := h.srv.jobs.start("scenario", nil, func(ctx context.Context, j *job) (any, error) { return map[string]any{"ok": true}, nil })
	<-j.done
	return strings.ReplaceAll(pattern, "{id}", j.Job.ID)
}

// requestFor is a valid request to the route.
func requestFor(rt route) (string, []byte) {
	q := ""
	var body []byte
	switch rt.Pattern {
	case "/api/v1/readings":
		if rt.Method == "GET" {
			q = "?point=building/1/meter"
		} else {
			body = readingsBody("building/2/meter", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), 3)
		}
	case "/api/v1/jobs":
		if rt.Method == "POST" {
			body = []byte(`{"kind":"monte_carlo","params":{"paths":50,"seed":3}}`)
		}
	case "/api/v1/timeseries":
		q = "?policy=rule_based&from=24&hours=24"
	case "/api/v1/forecast":
		q = "?days=2"
	case "/api/v1/site/plan":
		q = "?hours=6"
	case "/api/v1/site/overrides":
		body = []byte(`{"device":"bess-1","value_kw":0,"until":"2030-01-01T00:00:00Z","reason":"role matrix"}`)
	}
	return q, body
}

// TestRoleMatrix walks every endpoint × every role (and no token): no token → 401 on
// every protected endpoint, a role without the permission → 403, else it gets through.
func TestRoleMatrix(t *testing.T) {
	h := testServer(t)
	h.ingestSome(t)
	roles := append([]auth.Role{""}, auth.Roles()...)
	for _, rt := range h.srv.Routes() {
		for _, role := range roles {
			path := h.concrete(t, rt.Pattern)
			q, body := requestFor(rt)
			if rt.Pattern == "/api/v1/jobs/{id}/events" {
				q = "" // finished job: the stream ends at once
			}
			st, _, b := h.do(t, role, rt.Method, path+q, body)
			var want string
			switch {
			case rt.Perm == "":
				want = "through"
			case role == "":
				want = "401"
			case rt.Perm == "*" || role.Can(rt.Perm):
				want = "through"
			default:
				want = "403"
			}
			got := fmt.Sprint(st)
			if want == "through" && st != 401 && st != 403 && st < 500 {
				got = "through"
			}
			if got != want {
				t.Errorf("%s %s as %q: %d (%s), want %s", rt.Method, rt.Pattern, role, st, b, want)
			}
		}
	}
}

// TestOpenAPIMatchesLive calls every endpoint and validates the response body against
// the documented schema for its status; every route is documented and every documented
// path is served.
func TestOpenAPIMatchesLive(t *testing.T) {
	h := testServer(t)
	h.ingestSome(t)
	v, err := newValidator(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if v.doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi %v", v.doc["openapi"])
	}
	documented := map[string]bool{}
	for p, ops := range v.doc["paths"].(map[string]any) {
		for m := range ops.(map[string]any) {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	served := map[string]bool{}
	check := func(rt route, role auth.Role, path string, body []byte) {
		t.Helper()
		st, ct, b := h.do(t, role, rt.Method, path, body)
		schema, err := v.responseSchema(rt.Pattern, rt.Method, st, ct)
		if err != nil {
			t.Errorf("%s %s → %d: %v (%s)", rt.Method, path, st, err, truncate(b))
			return
		}
		if ct != "application/json" {
			return
		}
		var x any
		if err := json.Unmarshal(b, &x); err != nil {
			t.Errorf("%s %s: not JSON: %v", rt.Method, path, err)
			return
		}
		if err := v.validate(x, schema, "response"); err != nil {
			t.Errorf("%s %s → %d: %v", rt.Method, path, st, err)
		}
	}
	for _, rt := range h.srv.Routes() {
		served[rt.Method+" "+rt.Pattern] = true
		path := h.concrete(t, rt.Pattern)
		q, body := requestFor(rt)
		check(rt, auth.Admin, path+q, body)
		if rt.Perm != "" {
			check(rt, "", path+q, body) // 401, documented and in the error shape
		}
		if rt.Perm != "" && rt.Perm != "*" && !auth.Investor.Can(rt.Perm) {
			check(rt, auth.Investor, path+q, body) // 403
		}
	}
	// Documented error cases.
	check(route{Method: "GET", Pattern: "/api/v1/jobs/{id}"}, auth.Admin, "/api/v1/jobs/nope", nil)
	check(route{Method: "GET", Pattern: "/api/v1/timeseries"}, auth.Admin, "/api/v1/timeseries?hours=-1", nil)
	check(route{Method: "POST", Pattern: "/api/v1/readings"}, auth.Admin, "/api/v1/readings", []byte("{not json"))
	check(route{Method: "POST", Pattern: "/api/v1/jobs"}, auth.Admin, "/api/v1/jobs", []byte(`{"kind":"boil_ocean"}`))
	for k := range documented {
		if !served[k] {
			t.Errorf("documented but not served: %s", k)
		}
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("served but not documented: %s", k)
		}
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// TestIngestThenProof: readings posted are in the ledger, and the proof the API gives
// verifies against the root of the signed checkpoint.
func TestIngestThenProof(t *testing.T) {
	h := testServer(t)
	st, _, b := h.do(t, auth.Operator, "POST", "/api/v1/readings", readingsBody("building/3/meter", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 48))
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	var res struct {
		Accepted  int   `json:"accepted"`
		LeafIndex int64 `json:"leaf_index"`
	}
	json.Unmarshal(b, &res)
	if res.Accepted != 48 {
		t.Fatalf("accepted %d: %s", res.Accepted, b)
	}
	st, _, b = h.do(t, auth.Auditor, "GET", fmt.Sprintf("/api/v1/ledger/proof?index=%d", res.LeafIndex), nil)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	var p struct {
		LeafIndex int64    `json:"leaf_index"`
		TreeSize  int64    `json:"tree_size"`
		Leaf      string   `json:"leaf"`
		Proof     []string `json:"proof"`
		Root      string   `json:"root"`
	}
	json.Unmarshal(b, &p)
	leaf, _ := base64.StdEncoding.DecodeString(p.Leaf)
	if !strings.Contains(string(leaf), "building/3/meter") {
		t.Fatalf("leaf does not hold the readings: %q", leaf)
	}
	dec := func(s string) (h tlog.Hash) {
		x, _ := base64.StdEncoding.DecodeString(s)
		copy(h[:], x)
		return
	}
	var proof []tlog.Hash
	for _, s := range p.Proof {
		proof = append(proof, dec(s))
	}
	if err := ledger.VerifyInclusion(ledger.LeafHash(leaf), p.LeafIndex, p.TreeSize, proof, dec(p.Root)); err != nil {
		t.Fatal(err)
	}
	// The reading is readable back.
	st, _, b = h.do(t, auth.Operator, "GET", "/api/v1/readings?point=building/3/meter&limit=5", nil)
	if st != 200 || !strings.Contains(string(b), `"truncated":true`) {
		t.Fatalf("%d %s", st, b)
	}
}

// sse reads server-sent events until done.
func sse(t *testing.T, h *harness, id string, role auth.Role) (events []string, final Job) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.ts.URL+"/api/v1/jobs/"+id+"/events?access_token="+h.tokens[role], nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var event string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
			events = append(events, event)
		case strings.HasPrefix(line, "data: ") && event == "done":
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &final); err != nil {
				t.Fatal(err)
			}
			return events, final
		}
	}
	t.Fatalf("stream ended without done: %v", events)
	return
}

func TestScenarioJobOverSSE(t *testing.T) {
	h := testServer(t)
	st, _, b := h.do(t, auth.Operator, "POST", "/api/v1/jobs", []byte(`{"kind":"scenario","params":{"battery_scale":2,"pv_scale":1,"discount_rate":0.06,"payout_ratio":0.95}}`))
	if st != 202 {
		t.Fatalf("%d %s", st, b)
	}
	var j Job
	json.Unmarshal(b, &j)
	events, final := sse(t, h, j.ID, auth.Operator)
	if final.Status != jobDone {
		t.Fatalf("job %s: %s", final.Status, final.Error)
	}
	progress := 0
	for _, e := range events {
		if e == "progress" {
			progress++
		}
	}
	if progress < 3 {
		t.Fatalf("only %d progress events", progress)
	}
	var r ScenarioResult
	rb, _ := json.Marshal(final.Result)
	json.Unmarshal(rb, &r)
	// Twice the batteries under the same rule-based policy earn more from the spread.
	if !(r.Scenario.NOICNY > r.Base.NOICNY) || r.Base.NOICNY == 0 || r.Scenario.AssetValue == r.Base.AssetValue {
		t.Fatalf("scenario %+v", r)
	}
}

func TestCancelJob(t *testing.T) {
	h := testServer(t)
	st, _, b := h.do(t, auth.Admin, "POST", "/api/v1/jobs", []byte(`{"kind":"monte_carlo","params":{"paths":200000}}`))
	if st != 202 {
		t.Fatalf("%d %s", st, b)
	}
	var j Job
	json.Unmarshal(b, &j)
	time.Sleep(200 * time.Millisecond)
	st, _, b = h.do(t, auth.Admin, "DELETE", "/api/v1/jobs/"+j.ID, nil)
	json.Unmarshal(b, &j)
	if st != 200 || j.Status != jobCancelled {
		t.Fatalf("%d %s", st, b)
	}
	// A simulation stops too: the twin checks the job's context once a simulated day.
	st, _, b = h.do(t, auth.Admin, "POST", "/api/v1/jobs", []byte(`{"kind":"scenario"}`))
	if st != 202 {
		t.Fatalf("%d %s", st, b)
	}
	json.Unmarshal(b, &j)
	time.Sleep(50 * time.Millisecond)
	st, _, b = h.do(t, auth.Admin, "DELETE", "/api/v1/jobs/"+j.ID, nil)
	json.Unmarshal(b, &j)
	if st != 200 || j.Status != jobCancelled {
		t.Fatalf("scenario: %d %s", st, b)
	}
}

// TestBadInput: malformed, oversized and hostile requests get 4xx in the one error
// shape, and the server keeps serving.
func TestBadInput(t *testing.T) {
	h := testServer(t)
	big := bytes.Repeat([]byte("x"), 5<<20)
	cases := []struct {
		role         auth.Role
		method, path string
		body         []byte
		status       int
	}{
		{auth.Operator, "POST", "/api/v1/readings", []byte(`{"readings":[{"point":`), 400},
		{auth.Operator, "POST", "/api/v1/readings", []byte(`[]`), 400},
		{auth.Operator, "POST", "/api/v1/readings", big, 413},
		{auth.Operator, "POST", "/api/v1/jobs", []byte(`{"kind":"scenario","params":{"battery_scale":99}}`), 400},
		{auth.Operator, "POST", "/api/v1/jobs", []byte(`{"kind":"scenario","params":{"rm -rf":1}}`), 400},
		{auth.Operator, "POST", "/api/v1/jobs", []byte(`{"kind":"scenario"} {"x":1}`), 400},
		{auth.Operator, "POST", "/api/v1/jobs", big, 413},
		{auth.Operator, "GET", "/api/v1/readings?point=%27%3B%20DROP%20TABLE%20readings%3B--", nil, 200},
		{auth.Operator, "GET", "/api/v1/readings?point=x&from=yesterday", nil, 400},
		{auth.Operator, "GET", "/api/v1/timeseries?policy=<script>alert(1)</script>", nil, 400},
		{auth.Auditor, "GET", "/api/v1/ledger/proof?index=-5", nil, 400},
		{auth.Auditor, "GET", "/api/v1/ledger/proof?index=99999999999999999999", nil, 400},
		{auth.Operator, "GET", "/api/v1/jobs/..%2F..%2Fetc%2Fpasswd", nil, 404},
		{auth.Operator, "GET", "/api/v1/nope", nil, 404},
		{"", "GET", "/api/v1/../../../etc/passwd", nil, 404},
		{auth.Investor, "GET", "/api/v1/aggregates/household-energy?epsilon=1e9", nil, 400},
	}
	for _, c := range cases {
		st, ct, b := h.do(t, c.role, c.method, c.path, c.body)
		if st != c.status {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.path, st, c.status, truncate(b))
			continue
		}
		if st >= 400 {
			var e auth.ErrorBody
			if ct != "application/json" || json.Unmarshal(b, &e) != nil || e.Error.Status != st || e.Error.Code == "" {
				t.Errorf("%s %s: error not in the JSON shape: %s %s", c.method, c.path, ct, truncate(b))
			}
		}
	}
	// Bad tokens.
	for _, hdr := range []string{"Bearer", "Bearer lf_nope", "Basic YWRtaW46YWRtaW4=", "Bearer " + strings.Repeat("a", 10000)} {
		req, _ := http.NewRequest("GET", h.ts.URL+"/api/v1/summary", nil)
		req.Header.Set("Authorization", hdr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("Authorization %q: %d", hdr[:min(len(hdr), 30)], resp.StatusCode)
		}
	}
	if st, _, _ := h.do(t, "", "GET", "/healthz", nil); st != 200 {
		t.Fatal("server stopped serving")
	}
}

// TestPrivacyBudget: an investor gets the aggregate with its parameters; asking again
// is free (the same release), a new ε spends; past the budget the server refuses.
func TestPrivacyBudget(t *testing.T) {
	pl, err := privacy.NewLedger("household-energy-test", privacy.Budget{Epsilon: 1, Delta: 1e-6}, &privacy.MemoryStore{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	h := testServer(t)
	old := h.srv.cfg.Privacy
	h.srv.cfg.Privacy = pl
	defer func() { h.srv.cfg.Privacy = old }()
	get := func(eps string) (int, map[string]any) {
		st, _, b := h.do(t, auth.Investor, "GET", "/api/v1/aggregates/household-energy?epsilon="+eps, nil)
		var m map[string]any
		json.Unmarshal(b, &m)
		return st, m
	}
	st, a := get("0.6")
	if st != 200 || a["mechanism"] == nil || a["epsilon"].(float64) != 0.6 || a["cached"] != false {
		t.Fatalf("%d %v", st, a)
	}
	if v := a["value"].(float64); v < 1000 || v > 10000 {
		t.Fatalf("mean household use %v kWh is implausible", v)
	}
	st, b := get("0.6")
	if st != 200 || b["cached"] != true || b["value"] != a["value"] {
		t.Fatalf("repeat: %d %v", st, b)
	}
	st, c := get("0.5") // 0.6 + 0.5 > 1
	if st != 429 {
		t.Fatalf("over budget: %d %v", st, c)
	}
	if sp := pl.Spent().Epsilon; sp != 0.6 {
		t.Fatalf("spent %v after a refusal", sp)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	h := testServer(t)
	h.do(t, "", "GET", "/healthz", nil)
	st, ct, b := h.do(t, "", "GET", "/metrics", nil)
	if st != 200 || ct != "text/plain" {
		t.Fatalf("%d %s", st, ct)
	}
	for _, want := range []string{`lifang_http_requests_total{route="/healthz",method="GET",code="200"}`, "lifang_http_request_duration_seconds_bucket", "lifang_ledger_tree_size", "lifang_jobs_running"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "lifang_") {
			t.Errorf("metric without the lifang_ prefix: %s", line)
		}
	}
}

// TestGracefulShutdown: Serve returns when its context ends, after in-flight requests.
func TestGracefulShutdown(t *testing.T) {
	h := newHarness(t, Config{NoBoot: true})
	defer h.ts.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// FuzzIngest: whatever the body, the ingest endpoint answers below 500 and, for errors,
// in the JSON shape.
func FuzzIngest(f *testing.F) {
	f.Add([]byte(`{"readings":[{"point":"a","timestamp":"2026-01-01T00:00:00Z","value":1,"unit":"kWh"}]}`))
	f.Add([]byte(`{"readings":[{"point":"a","timestamp":"bad","value":"x","unit":"furlongs"}]}`))
	f.Add([]byte(`{"readings":null,"events":[{}]}`))
	f.Add([]byte("\x00\xff"))
	f.Add([]byte(`{"readings":[{"point":"` + strings.Repeat("a", 5000) + `","timestamp":"2026-01-01T00:00:00Z","value":1e308,"unit":"kWh"}]}`))
	h := newHarness(f, Config{NoBoot: true})
	defer h.ts.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/v1/readings", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.tokens[auth.Operator])
		h.srv.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code >= 400 {
			var e auth.ErrorBody
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Status != rec.Code {
				t.Fatalf("error shape: %s", rec.Body)
			}
		}
	})
}

// FuzzJobs: job requests never crash the server or start a job from a bad request.
func FuzzJobs(f *testing.F) {
	f.Add([]byte(`{"kind":"scenario","params":{"battery_scale":1.5}}`))
	f.Add([]byte(`{"kind":"monte_carlo","params":{"paths":-1}}`))
	f.Add([]byte(`{"kind":"scenario","params":{"pv_scale":"NaN"}}`))
	f.Add([]byte(`{"kind":1}`))
	h := newHarness(f, Config{NoBoot: true})
	defer h.ts.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/v1/jobs", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.tokens[auth.Operator])
		h.srv.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code == 202 {
			var j Job
			json.Unmarshal(rec.Body.Bytes(), &j)
			if jj, ok := h.srv.jobs.get(j.ID); ok {
				jj.cancel() // no heavy work in a fuzz loop
			}
		}
	})
}

// TestSummaryWithholdsFinance: the auditor reads operations, but the summary's finance
// block only with read:finance.
func TestSummaryWithholdsFinance(t *testing.T) {
	h := testServer(t)
	for role, want := range map[auth.Role]bool{auth.Operator: true, auth.Auditor: false} {
		st, _, b := h.do(t, role, "GET", "/api/v1/summary", nil)
		var m map[string]any
		json.Unmarshal(b, &m)
		if _, has := m["finance"]; st != 200 || has != want {
			t.Errorf("%s: status %d, finance present %v, want %v", role, st, has, want)
		}
		// Without read:finance no money figure of the operating result shows anywhere.
		for _, k := range []string{`"noi_cny"`, `"revenue_cny"`, `"opex_cny"`, `"noi_by_subsystem_cny"`, `"statement"`, `"economic"`, `"financial"`, `"noi_gain_cny"`, `"grid_savings_cny"`} {
			if has := bytes.Contains(b, []byte(k)); has != want {
				t.Errorf("%s: %s present %v, want %v", role, k, has, want)
			}
		}
		if !bytes.Contains(b, []byte(`"energy"`)) || !bytes.Contains(b, []byte(`"resilience"`)) {
			t.Errorf("%s: the operational summary lost its energy or resilience figures", role)
		}
	}
}

func TestSimulateJob(t *testing.T) {
	h := testServer(t)
	st, _, b := h.do(t, auth.Operator, "POST", "/api/v1/jobs", []byte(`{"kind":"simulate","params":{"policies":["no_such_policy"]}}`))
	if st != 400 {
		t.Fatalf("bad policy: %d %s", st, b)
	}
}

// TestEventsOnNATS: with a bus, committed batches and job changes are published on
// NATS JetStream (a real server; skips without LIFANG_NATS_URL).
func TestEventsOnNATS(t *testing.T) {
	url := os.Getenv("LIFANG_NATS_URL")
	if url == "" {
		t.Skip("LIFANG_NATS_URL not set: no NATS server to test against")
	}
	b, err := bus.Connect(url, "lifang-server-test")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	u, err := unit.Parse(examples.Community, "examples/community.yaml")
	if err != nil {
		t.Fatal(err)
	}
	u.Name = fmt.Sprintf("bus-test-%d", time.Now().UnixNano())
	h := newHarness(t, Config{NoBoot: true, Unit: u, Events: b})
	defer h.ts.Close()
	sub, err := b.Conn().SubscribeSync("lifang." + bus.Token(u.Name) + ".>")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if st, _, body := h.do(t, auth.Operator, "POST", "/api/v1/readings", readingsBody("building/9/meter", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), 5)); st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Accepted int `json:"accepted"`
	}
	if json.Unmarshal(m.Data, &res); !strings.HasSuffix(m.Subject, ".ingest") || res.Accepted != 5 {
		t.Fatalf("%s %s", m.Subject, m.Data)
	}
	j := h.srv.jobs.start("monte_carlo", nil, func(ctx context.Context, j *job) (any, error) { return nil, nil })
	<-j.done
	var states []string
	for len(states) < 3 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("job events %v: %v", states, err)
		}
		var jj Job
		json.Unmarshal(m.Data, &jj)
		if strings.HasSuffix(m.Subject, ".jobs.monte_carlo") && jj.ID == j.Job.ID {
			states = append(states, jj.Status)
		}
	}
	if strings.Join(states, ",") != "queued,running,done" {
		t.Fatalf("job states %v", states)
	}
}
