package server

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lifang-community/lifang/auth"
	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/privacy"
)

// OpenAPI is the API's OpenAPI 3.1 document, served at /api/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// Version is reported by /healthz.
var Version = "lifang 0.1.0"

func (s *Server) apiRoutes() []route {
	return []route{
		{"GET", "/healthz", "", s.healthz},
		{"GET", "/metrics", "", s.metricsHandler},
		{"GET", "/api/openapi.json", "", s.openapi},
		{"GET", "/api/v1/me", "*", s.me},
		{"GET", "/api/v1/summary", auth.ReadOperations, s.summary},
		{"GET", "/api/v1/timeseries", auth.ReadOperations, s.timeseries},
		{"GET", "/api/v1/forecast", auth.ReadOperations, s.forecast},
		{"GET", "/api/v1/points", auth.ReadOperations, s.points},
		{"GET", "/api/v1/readings", auth.ReadOperations, s.readings},
		{"POST", "/api/v1/readings", auth.Ingest, s.ingest},
		{"GET", "/api/v1/ledger/checkpoint", auth.ReadLedger, s.checkpoint},
		{"GET", "/api/v1/ledger/proof", auth.ReadLedger, s.proof},
		{"GET", "/api/v1/export", auth.Export, s.export},
		{"GET", "/api/v1/finance", auth.ReadFinance, s.finance},
		{"GET", "/api/v1/aggregates/household-energy", auth.ReadAggregates, s.householdEnergy},
		{"GET", "/api/v1/jobs", auth.Run, s.listJobs},
		{"POST", "/api/v1/jobs", auth.Run, s.startJob},
		{"GET", "/api/v1/jobs/{id}", auth.Run, s.getJob},
		{"DELETE", "/api/v1/jobs/{id}", auth.Run, s.cancelJob},
		{"GET", "/api/v1/jobs/{id}/events", auth.Run, s.jobEvents},
		{"GET", "/api/v1/site", auth.ReadOperations, s.siteView},
		{"GET", "/api/v1/site/plan", auth.ReadOperations, s.sitePlan},
		// An override changes how the site is operated: configure, which operators and
		// admins hold (auditors and investors change nothing).
		{"POST", "/api/v1/site/overrides", auth.Configure, s.postOverride},
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	_, err := s.op.summary()
	writeJSON(w, map[string]any{"status": "ok", "ready": err == nil, "tree_size": s.cfg.Log.Size(), "version": Version})
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b bytes.Buffer
	s.metrics.write(&b)
	fmt.Fprintf(&b, "# HELP lifang_ledger_tree_size Leaves in the transparency log.\n# TYPE lifang_ledger_tree_size gauge\nlifang_ledger_tree_size %d\n", s.cfg.Log.Size())
	s.writeSiteMetrics(r.Context(), &b)
	sp := s.cfg.Privacy.Spent()
	fmt.Fprintf(&b, "# HELP lifang_privacy_epsilon_spent Privacy budget spent on released aggregates.\n# TYPE lifang_privacy_epsilon_spent gauge\nlifang_privacy_epsilon_spent %g\n", sp.Epsilon)
	w.Write(b.Bytes())
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(OpenAPI)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	t, _ := auth.FromContext(r.Context())
	perms := []string{}
	for _, p := range auth.Permissions() {
		if t.Role.Can(p) {
			perms = append(perms, string(p))
		}
	}
	writeJSON(w, map[string]any{"id": t.ID, "name": t.Name, "role": t.Role, "permissions": perms})
}

// notReady answers 503 while the start-up simulation runs (with its progress).
func (s *Server) notReady(w http.ResponseWriter, err error) {
	if errors.Is(err, errNotReady) {
		msg := err.Error()
		if j, ok := s.jobs.get(s.bootJob); ok {
			p := j.snapshot().Progress
			msg = fmt.Sprintf("%s (%s %d/%d); retry shortly", msg, p.Stage, p.Done, p.Total)
		}
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusServiceUnavailable, "not_ready", msg)
		return
	}
	writeError(w, http.StatusInternalServerError, "simulation_failed", err.Error())
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	view := viewSummary
	if t, _ := auth.FromContext(r.Context()); !t.Role.Can(auth.ReadFinance) {
		view = viewSummaryNoFinance // an auditor reads operations, not finance
	}
	b, err := s.op.encoded(view)
	if err != nil {
		s.notReady(w, err)
		return
	}
	writeRaw(w, b)
}

// writeRaw writes JSON already encoded.
func writeRaw(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.Write(b)
}

func (s *Server) finance(w http.ResponseWriter, r *http.Request) {
	sum, err := s.op.summary()
	if err != nil {
		s.notReady(w, err)
		return
	}
	if sum.Finance == nil {
		writeError(w, http.StatusNotFound, "no_finance", "no finance block: "+sum.FinanceError)
		return
	}
	b, err := s.op.encoded(viewFinance)
	if err != nil {
		s.notReady(w, err)
		return
	}
	writeRaw(w, b)
}

// intParam reads an integer query parameter within [lo, hi], or def when absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("query parameter %s=%q must be an integer in [%d, %d]", name, v, lo, hi)
	}
	return n, nil
}

func (s *Server) timeseries(w http.ResponseWriter, r *http.Request) {
	policy := r.URL.Query().Get("policy")
	if policy == "" {
		policy = s.cfg.Policies[len(s.cfg.Policies)-1]
	}
	from, err := intParam(r, "from", 0, 0, 1<<20)
	if err == nil {
		var hours int
		hours, err = intParam(r, "hours", 168, 1, 24*31)
		if err == nil {
			var ts *Timeseries
			ts, err = s.op.timeseries(policy, from, hours)
			if err == nil {
				writeJSON(w, ts)
				return
			}
		}
	}
	if errors.Is(err, errNotReady) {
		s.notReady(w, err)
		return
	}
	writeError(w, http.StatusBadRequest, "bad_request", err.Error())
}

func (s *Server) forecast(w http.ResponseWriter, r *http.Request) {
	days, err := intParam(r, "days", 7, 1, 14)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	f, err := s.op.forecastLoad(days)
	if err != nil {
		if errors.Is(err, errNotReady) {
			s.notReady(w, err)
			return
		}
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	writeJSON(w, f)
}

func (s *Server) points(w http.ResponseWriter, r *http.Request) {
	ps, err := s.cfg.Store.Points(r.Context())
	if err != nil {
		s.internal(w, r, "points", err)
		return
	}
	if ps == nil {
		ps = []string{}
	}
	writeJSON(w, map[string]any{"points": ps})
}

// timeParam reads an RFC 3339 time, or def.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("query parameter %s=%q is not an RFC 3339 time", name, v)
	}
	return t, nil
}

func (s *Server) readings(w http.ResponseWriter, r *http.Request) {
	point := r.URL.Query().Get("point")
	if point == "" || len(point) > 256 {
		writeError(w, http.StatusBadRequest, "bad_request", "query parameter point is required (at most 256 bytes)")
		return
	}
	from, err := timeParam(r, "from", time.Unix(0, 0))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	to, err := timeParam(r, "to", s.cfg.Now().Add(24*time.Hour))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	limit, err := intParam(r, "limit", 1000, 1, 10000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	rs, err := s.cfg.Store.Range(r.Context(), point, from, to)
	if err != nil {
		s.internal(w, r, "readings", err)
		return
	}
	type out struct {
		Point     string  `json:"point"`
		Timestamp string  `json:"timestamp"`
		Value     float64 `json:"value"`
		Unit      string  `json:"unit"`
	}
	res := make([]out, 0, min(len(rs), limit))
	for _, x := range rs {
		if len(res) == limit {
			break
		}
		res = append(res, out{x.Point, x.Time.UTC().Format(time.RFC3339Nano), x.Value, x.Unit})
	}
	writeJSON(w, map[string]any{"point": point, "readings": res, "truncated": len(rs) > limit})
}

// ingest accepts {"readings":[…]} through the validating pipeline: the batch is
// durable and in the ledger when the answer comes back.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", s.cfg.MaxBody))
			return
		}
		writeError(w, http.StatusBadRequest, "bad_body", err.Error())
		return
	}
	t, _ := auth.FromContext(r.Context())
	in, err := ingest.DecodeJSON(body, "http:token:"+t.ID)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ingest.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, "bad_body", err.Error())
		return
	}
	res, err := s.Ingest(r.Context(), in)
	if err != nil {
		s.log.ErrorContext(r.Context(), "ingest failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "ingest failed; nothing was acknowledged, retry")
		return
	}
	writeJSON(w, res)
}

// Ingest is the server's ingest sink, shared by the HTTP endpoint and adapters (MQTT):
// one batch at a time, since the pipeline keeps per-point state for its checks.
func (s *Server) Ingest(ctx context.Context, in ingest.Input) (ingest.Result, error) {
	s.ingestMu.Lock()
	res, err := s.cfg.Pipeline.Ingest(ctx, in)
	s.ingestMu.Unlock()
	if err != nil {
		return res, err
	}
	if res.LeafIndex >= 0 {
		s.events.emit("ingest", res)
	}
	s.metrics.add(`lifang_ingest_readings_total{result="accepted"}`, uint64(res.Accepted))
	s.metrics.add(`lifang_ingest_readings_total{result="quarantined"}`, uint64(res.Quarantined))
	s.metrics.add(`lifang_ingest_readings_total{result="duplicate"}`, uint64(res.Duplicates))
	return res, nil
}

func b64(h [32]byte) string { return base64.StdEncoding.EncodeToString(h[:]) }

func (s *Server) publicKeys() []string {
	if s.cfg.PublicKeys == nil {
		return []string{}
	}
	return s.cfg.PublicKeys
}

func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request) {
	size, note, err := s.cfg.Store.LatestCheckpoint(r.Context())
	if err != nil || size == 0 {
		writeError(w, http.StatusNotFound, "no_checkpoint", "no checkpoint yet: nothing has been ingested")
		return
	}
	root, err := s.cfg.Log.Root(size)
	if err != nil {
		s.internal(w, r, "checkpoint root", err)
		return
	}
	writeJSON(w, map[string]any{"origin": s.cfg.Log.Origin(), "size": size, "root": b64(root), "note": string(note), "public_keys": s.publicKeys()})
}

func (s *Server) proof(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	size, note, err := s.cfg.Store.LatestCheckpoint(ctx)
	if err != nil || size == 0 {
		writeError(w, http.StatusNotFound, "no_checkpoint", "no checkpoint yet: nothing has been ingested")
		return
	}
	idx, err := intParam(r, "index", int(size-1), 0, int(size-1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	leaf, err := s.cfg.Store.Leaf(ctx, int64(idx))
	if err != nil {
		s.internal(w, r, "leaf", err)
		return
	}
	proof, err := s.cfg.Log.InclusionProof(int64(idx), size)
	if err != nil {
		s.internal(w, r, "proof", err)
		return
	}
	root, err := s.cfg.Log.Root(size)
	if err != nil {
		s.internal(w, r, "root", err)
		return
	}
	ps := make([]string, len(proof))
	for i, h := range proof {
		ps[i] = b64(h)
	}
	writeJSON(w, map[string]any{"leaf_index": idx, "tree_size": size, "leaf": base64.StdEncoding.EncodeToString(leaf),
		"leaf_hash": b64(ledger.LeafHash(leaf)), "proof": ps, "root": b64(root), "checkpoint_note": string(note), "public_keys": s.publicKeys()})
}

// export pages through the log's leaves for an auditor: [from, from+limit) of the
// latest checkpoint's tree, with the signed checkpoint and the verifier keys' origin.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	size, note, err := s.cfg.Store.LatestCheckpoint(ctx)
	if err != nil || size == 0 {
		writeError(w, http.StatusNotFound, "no_checkpoint", "no checkpoint yet: nothing has been ingested")
		return
	}
	from, err := intParam(r, "from", 0, 0, int(size))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	limit, err := intParam(r, "limit", 500, 1, 5000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	leaves := []string{}
	for i := int64(from); i < size && len(leaves) < limit; i++ {
		l, err := s.cfg.Store.Leaf(ctx, i)
		if err != nil {
			s.internal(w, r, "export leaf", err)
			return
		}
		leaves = append(leaves, base64.StdEncoding.EncodeToString(l))
	}
	next := from + len(leaves)
	writeJSON(w, map[string]any{"origin": s.cfg.Log.Origin(), "tree_size": size, "checkpoint_note": string(note), "from": from,
		"leaves": leaves, "next": next, "done": int64(next) >= size})
}

// aggregateCache keeps each released aggregate: asking again is post-processing of a
// release already paid for, so it costs no budget.
type aggregateCache struct {
	mu  sync.Mutex
	res map[string]map[string]any
}

// householdEnergy releases the mean annual household electricity use under
// differential privacy: each household contributes its own value clamped to
// [0, 20,000] kWh; the budget ledger refuses releases past its (ε, δ).
func (s *Server) householdEnergy(w http.ResponseWriter, r *http.Request) {
	eps := 0.5
	if v := r.URL.Query().Get("epsilon"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0.05 && f <= 2) {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("query parameter epsilon=%q must be a number in [0.05, 2]", v))
			return
		}
		eps = f
	}
	key := strconv.FormatFloat(eps, 'g', -1, 64)
	aggregates := &s.aggregates
	aggregates.mu.Lock()
	defer aggregates.mu.Unlock()
	budget := func() map[string]any {
		t, sp, rem := s.cfg.Privacy.Total(), s.cfg.Privacy.Spent(), s.cfg.Privacy.Remaining()
		return map[string]any{"epsilon_total": t.Epsilon, "epsilon_spent": sp.Epsilon, "epsilon_remaining": rem.Epsilon,
			"delta_total": t.Delta, "delta_spent": sp.Delta}
	}
	if c, ok := aggregates.res[s.cfg.Privacy.Scope()+key]; ok {
		out := map[string]any{}
		for k, v := range c {
			out[k] = v
		}
		out["budget"], out["cached"] = budget(), true
		writeJSON(w, out)
		return
	}
	values, err := s.op.householdValues()
	if err != nil {
		s.notReady(w, err)
		return
	}
	mech, err := privacy.NewLaplace(eps)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if err := s.cfg.Privacy.Spend("household-energy mean ε="+key, mech.Epsilon(), mech.Delta()); err != nil {
		if errors.Is(err, privacy.ErrBudgetExceeded) {
			writeError(w, http.StatusTooManyRequests, "privacy_budget_exhausted", err.Error())
			return
		}
		s.internal(w, r, "privacy ledger", err)
		return
	}
	res, err := privacy.Release(values, privacy.Query{Aggregate: privacy.Mean, Lo: 0, Hi: 20000, Unit: 1}, mech, s.cfg.PrivacySource)
	if err != nil {
		s.internal(w, r, "privacy release", err)
		return
	}
	out := map[string]any{"value": math.Round(res.Value*10) / 10, "unit": "kWh per household per year", "aggregate": res.Aggregate,
		"mechanism": res.Mechanism, "epsilon": res.Epsilon, "delta": res.Delta, "lo": res.Lo, "hi": res.Hi, "quantum": res.Unit,
		"statistics": res.Statistics, "source": "simulated year: each household's electricity use (building load × its group's share ÷ households)"}
	aggregates.res[s.cfg.Privacy.Scope()+key] = out
	o := map[string]any{}
	for k, v := range out {
		o[k] = v
	}
	o["budget"], o["cached"] = budget(), false
	writeJSON(w, o)
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.ErrorContext(r.Context(), "request failed", "what", what, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", what+" failed")
}

// decodeStrict reads a JSON body into v: unknown fields, trailing data and bodies over
// the limit are errors.
func (s *Server) decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "body over 64 KiB")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_body", "malformed JSON body: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad_body", "data after the JSON object")
		return false
	}
	return true
}

type jobRequest struct {
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params"`
}

func (s *Server) startJob(w http.ResponseWriter, r *http.Request) {
	var req jobRequest
	if !s.decodeStrict(w, r, &req) {
		return
	}
	strictParams := func(v any) error {
		if len(req.Params) == 0 || string(req.Params) == "null" {
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(req.Params))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("params: %v", err)
		}
		return nil
	}
	var j *job
	switch req.Kind {
	case "scenario":
		p := ScenarioParams{BatteryScale: 1, PVScale: 1, DiscountRate: 0.06, PayoutRatio: 0.95}
		if err := strictParams(&p); err == nil {
			err = p.validate()
			if err != nil {
				writeError(w, http.StatusBadRequest, "bad_params", err.Error())
				return
			}
		} else {
			writeError(w, http.StatusBadRequest, "bad_params", err.Error())
			return
		}
		j = s.jobs.start("scenario", p, func(ctx context.Context, j *job) (any, error) { return s.op.scenario(ctx, p, j.report) })
	case "simulate":
		p := SimulateParams{Seed: s.cfg.Seed, Policies: s.cfg.Policies}
		if err := strictParams(&p); err != nil {
			writeError(w, http.StatusBadRequest, "bad_params", err.Error())
			return
		}
		if err := p.validate(); err != nil {
			writeError(w, http.StatusBadRequest, "bad_params", err.Error())
			return
		}
		j = s.jobs.start("simulate", p, func(ctx context.Context, j *job) (any, error) { return s.op.resimulate(ctx, p, false, j.report) })
	case "monte_carlo":
		p := MonteCarloParams{Paths: 10000, Seed: 1}
		if err := strictParams(&p); err != nil {
			writeError(w, http.StatusBadRequest, "bad_params", err.Error())
			return
		}
		if p.Paths < 1 || p.Paths > 200000 {
			writeError(w, http.StatusBadRequest, "bad_params", fmt.Sprintf("params.paths: %d must be in [1, 200000]", p.Paths))
			return
		}
		j = s.jobs.start("monte_carlo", p, func(ctx context.Context, j *job) (any, error) { return s.op.monteCarlo(ctx, p, j.report) })
	default:
		writeError(w, http.StatusBadRequest, "bad_params", fmt.Sprintf("kind %q: want simulate, scenario or monte_carlo", req.Kind))
		return
	}
	w.Header().Set("Location", "/api/v1/jobs/"+j.Job.ID)
	b, _ := json.Marshal(j.snapshot())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	w.Write(append(b, '\n'))
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"jobs": s.jobs.list()})
}

func (s *Server) jobByPath(w http.ResponseWriter, r *http.Request) (*job, bool) {
	id := r.PathValue("id")
	j, ok := s.jobs.get(id)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no job "+strconv.Quote(id))
	}
	return j, ok
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	if j, ok := s.jobByPath(w, r); ok {
		writeJSON(w, j.snapshot())
	}
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	if j, ok := s.jobByPath(w, r); ok {
		j.cancel()
		select {
		case <-j.done:
		case <-time.After(5 * time.Second):
		}
		writeJSON(w, j.snapshot())
	}
}

// jobEvents streams a job's progress as server-sent events: `progress` while it runs,
// then one `done` with the job (whatever its final status).
func (s *Server) jobEvents(w http.ResponseWriter, r *http.Request) {
	j, ok := s.jobByPath(w, r)
	if !ok {
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "internal", "streaming unsupported")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	wake, unsub := j.subscribe()
	defer unsub()
	send := func(event string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		fl.Flush()
	}
	last := Progress{Stage: "\x00"}
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		snap := j.snapshot()
		if snap.Finished != nil {
			send("done", snap)
			return
		}
		if snap.Progress != last {
			send("progress", snap.Progress)
			last = snap.Progress
		}
		select {
		case <-wake:
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case <-j.done:
		case <-r.Context().Done():
			return
		}
	}
}

// withQueryToken lets EventSource, which cannot send headers, authenticate with
// ?access_token= on the events route only.
func withQueryToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("access_token"); tok != "" && r.Header.Get("Authorization") == "" &&
			strings.HasSuffix(r.URL.Path, "/events") {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		h.ServeHTTP(w, r)
	})
}
