// Package server is `lifang serve`: the HTTP API (OpenAPI 3.1 document in
// openapi.json), token authentication with roles, long runs as jobs with progress over
// server-sent events, Prometheus metrics, and the embedded bilingual dashboard.
//
// Every endpoint is deny-by-default: it names the permission it needs (see routes)
// and auth.Authenticator refuses requests without a valid token (401) or with a role
// lacking the permission (403). Errors have one JSON shape, auth.ErrorBody.
//
// For a commissioned unit (a site: section) the site endpoints and the dashboard's site
// page read what `lifang operate` (package site) ledgered in the same store — readings,
// control decisions, commands, answers, alarms and overrides — and an operator can pin
// a setpoint with an override, ledgered through the same ingest pipeline as readings.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/lifang-community/lifang/auth"
	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/privacy"
	"github.com/lifang-community/lifang/server/web"
	"github.com/lifang-community/lifang/store"
	"github.com/lifang-community/lifang/unit"
)

// Config is what a server runs on. Store, Log and Tokens are required.
type Config struct {
	Unit     *unit.Unit // the community (the embedded demo unit when nil)
	UnitName string     // where it came from, for /api/v1/summary
	Seed     uint64
	// Policies simulated at start (default business_as_usual, rule_based, mpc).
	Policies     []string
	FinancePaths int // Monte Carlo paths of the finance block (default 2000)

	Store store.Store
	Log   *ledger.Log
	// PublicKeys are the log's note verifier keys ("name+hash+key"), served with
	// checkpoints and proofs so a browser can check the signature itself.
	PublicKeys []string
	Pipeline   *ingest.Pipeline
	Tokens     auth.TokenStore

	// Privacy is the budget of the investor-facing aggregates; nil: an in-memory
	// ledger of ε = 10 (per server run).
	Privacy *privacy.Ledger
	// PrivacySource draws the noise (nil: crypto/rand).
	PrivacySource privacy.Source

	Logger  *slog.Logger
	Now     func() time.Time
	MaxBody int64 // largest request body (default 4 MiB)
	// NoBoot skips the start-up simulation (tests of the API alone).
	NoBoot bool
	// Events, when set, receives every committed batch and job state change
	// (lifang.<unit>.ingest, lifang.<unit>.jobs.<kind>); see package bus.
	Events Publisher
}

// Server is the HTTP service.
type Server struct {
	cfg     Config
	log     *slog.Logger
	auth    *auth.Authenticator
	handler http.Handler
	metrics *metrics
	jobs    *jobs
	op      *operation
	routes  []route
	bootJob string

	ingestMu   sync.Mutex
	events     *events
	aggregates aggregateCache
	site       siteState
}

// route is one API endpoint and the permission it needs ("" anonymous, "*" any token).
type route struct {
	Method, Pattern string
	Perm            auth.Permission
	h               http.HandlerFunc
}

// Routes lists the endpoints with their permissions (for docs and the role matrix).
func (s *Server) Routes() []route { return s.routes }

// New builds a server; Start launches its start-up simulation.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Log == nil || cfg.Tokens == nil {
		return nil, errors.New("server: Store, Log and Tokens are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	if cfg.FinancePaths <= 0 {
		cfg.FinancePaths = 2000
	}
	if len(cfg.Policies) == 0 {
		cfg.Policies = []string{"business_as_usual", "rule_based", "mpc"}
	}
	if cfg.Pipeline == nil {
		cfg.Pipeline = ingest.NewPipeline(cfg.Store, cfg.Log, cfg.Now, cfg.Logger)
	}
	if cfg.Privacy == nil {
		l, err := privacy.NewLedger("household-energy", privacy.Budget{Epsilon: 10, Delta: 1e-6}, &privacy.MemoryStore{}, cfg.Now)
		if err != nil {
			return nil, err
		}
		cfg.Privacy = l
	}
	s := &Server{cfg: cfg, log: cfg.Logger, auth: auth.NewAuthenticator(cfg.Tokens, cfg.Logger), metrics: newMetrics(),
		aggregates: aggregateCache{res: map[string]map[string]any{}}}
	unitName := "demo"
	if cfg.Unit != nil {
		unitName = cfg.Unit.Name
	}
	s.events = newEvents(cfg.Events, unitName, cfg.Logger, s.metrics)
	s.jobs = newJobs(cfg.Now, s.metrics)
	s.jobs.onChange = func(j Job) { j.Result = nil; s.events.emit("jobs."+j.Kind, j) }
	s.op = newOperation(cfg)
	s.routes = s.apiRoutes()
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		var h http.Handler = rt.h
		switch rt.Perm {
		case "":
		case "*":
			h = s.auth.Authenticated(h)
		default:
			h = s.auth.Require(rt.Perm, h)
		}
		if strings.HasSuffix(rt.Pattern, "/events") {
			h = withQueryToken(h)
		}
		mux.Handle(rt.Method+" "+rt.Pattern, s.metrics.instrument(rt.Pattern, h))
	}
	static, err := fs.Sub(web.FS, "static")
	if err != nil {
		return nil, err
	}
	files := http.FileServerFS(static)
	mux.Handle("/", s.metrics.instrument("/", securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here")
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		if _, err := fs.Stat(static, name); err != nil {
			writeError(w, http.StatusNotFound, "not_found", "no such page: "+r.URL.Path)
			return
		}
		files.ServeHTTP(w, r)
	}))))
	// Anything else under /api is JSON, never the dashboard: 405 for a known path with
	// another method, else 404.
	mux.Handle("/api/", s.metrics.instrument("/api/*", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowed(r.URL.Path); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow, ", "))
			return
		}
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})))
	s.handler = s.recoverer(s.logRequests(mux))
	return s, nil
}

// allowed lists the methods routed for a path.
func (s *Server) allowed(path string) []string {
	var out []string
	ps := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range s.routes {
		rs := strings.Split(strings.Trim(rt.Pattern, "/"), "/")
		if len(rs) != len(ps) {
			continue
		}
		match := true
		for i := range rs {
			if !strings.HasPrefix(rs[i], "{") && rs[i] != ps[i] {
				match = false
				break
			}
		}
		if match {
			out = append(out, rt.Method)
		}
	}
	return out
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Start launches the start-up simulation as the first job (unless NoBoot).
func (s *Server) Start() {
	if s.cfg.NoBoot {
		return
	}
	j := s.jobs.start("simulate", nil, func(ctx context.Context, j *job) (any, error) {
		return s.op.boot(ctx, j.report)
	})
	s.bootJob = j.Job.ID
}

// WaitReady blocks until the start-up simulation is done (or failed, or timeout).
func (s *Server) WaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := s.op.summary()
		if err == nil || !errors.Is(err, errNotReady) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server: not ready after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops accepting,
// lets requests in flight finish (up to 10 s) and cancels running jobs.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.jobs.cancelAll()
	err := srv.Shutdown(shut)
	<-errc
	s.jobs.wait(shut)
	return err
}

// writeJSON writes v with status 200.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "encoding the response failed")
		return
	}
	writeRaw(w, append(b, '\n'))
}

// writeError writes the one error shape.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	auth.WriteError(w, status, code, msg)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Flush lets server-sent events through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one structured line per request (4xx and 5xx at warn and error).
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		lvl := slog.LevelDebug
		switch {
		case sw.status >= 500:
			lvl = slog.LevelError
		case sw.status >= 400:
			lvl = slog.LevelWarn
		}
		s.log.Log(r.Context(), lvl, "http", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "ms", float64(time.Since(t0).Microseconds())/1000, "remote", r.RemoteAddr)
	})
}

// recoverer turns a handler panic into a 500 with the JSON error, logged with its stack.
func (s *Server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.metrics.panics.Add(1)
				s.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		h.ServeHTTP(w, r)
	})
}
