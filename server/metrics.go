package server

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// metrics is a small Prometheus text-format registry (exposition format 0.0.4): the
// few series lifang needs do not justify client_golang's dependency tree.
type metrics struct {
	mu       sync.Mutex
	requests map[[3]string]uint64 // route, method, code
	hist     map[string]*histogram
	counters map[string]uint64 // name{labels} → value

	panics atomic.Uint64
	gauges []gauge
}

type gauge struct {
	name, help string
	f          func() float64
}

// Request-duration buckets (seconds).
var buckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts []uint64
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[[3]string]uint64{}, hist: map[string]*histogram{}, counters: map[string]uint64{}}
}

// instrument counts and times requests to a route.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		h.ServeHTTP(sw, r)
		code := sw.status
		if code == 0 {
			code = http.StatusOK
		}
		m.observe(route, r.Method, code, time.Since(t0).Seconds())
	})
}

func (m *metrics) observe(route, method string, code int, secs float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[3]string{route, method, strconv.Itoa(code)}]++
	hi := m.hist[route]
	if hi == nil {
		hi = &histogram{counts: make([]uint64, len(buckets))}
		m.hist[route] = hi
	}
	for i, b := range buckets {
		if secs <= b {
			hi.counts[i]++
		}
	}
	hi.sum += secs
	hi.n++
}

// add increases a counter, e.g. add(`lifang_ingest_readings_total{result="accepted"}`, n).
func (m *metrics) add(series string, n uint64) {
	m.mu.Lock()
	m.counters[series] += n
	m.mu.Unlock()
}

func (m *metrics) gauge(name, help string, f func() float64) {
	m.gauges = append(m.gauges, gauge{name, help, f})
}

func esc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// write renders the registry in the text exposition format.
func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP lifang_http_requests_total HTTP requests by route, method and status code.")
	fmt.Fprintln(w, "# TYPE lifang_http_requests_total counter")
	keys := make([][3]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0]+keys[i][1]+keys[i][2] < keys[j][0]+keys[j][1]+keys[j][2]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "lifang_http_requests_total{route=\"%s\",method=\"%s\",code=\"%s\"} %d\n", esc(k[0]), esc(k[1]), k[2], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP lifang_http_request_duration_seconds HTTP request latency by route.")
	fmt.Fprintln(w, "# TYPE lifang_http_request_duration_seconds histogram")
	routes := make([]string, 0, len(m.hist))
	for r := range m.hist {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		h := m.hist[r]
		for i, b := range buckets {
			fmt.Fprintf(w, "lifang_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %d\n", esc(r), strconv.FormatFloat(b, 'g', -1, 64), h.counts[i])
		}
		fmt.Fprintf(w, "lifang_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %d\n", esc(r), h.n)
		fmt.Fprintf(w, "lifang_http_request_duration_seconds_sum{route=\"%s\"} %g\n", esc(r), h.sum)
		fmt.Fprintf(w, "lifang_http_request_duration_seconds_count{route=\"%s\"} %d\n", esc(r), h.n)
	}
	fmt.Fprintln(w, "# HELP lifang_http_panics_total Handler panics recovered.")
	fmt.Fprintln(w, "# TYPE lifang_http_panics_total counter")
	fmt.Fprintf(w, "lifang_http_panics_total %d\n", m.panics.Load())
	names := map[string]bool{}
	series := make([]string, 0, len(m.counters))
	for s := range m.counters {
		series = append(series, s)
	}
	sort.Strings(series)
	for _, s := range series {
		name := s
		if i := strings.IndexByte(s, '{'); i >= 0 {
			name = s[:i]
		}
		if !names[name] {
			names[name] = true
			fmt.Fprintf(w, "# TYPE %s counter\n", name)
		}
		fmt.Fprintf(w, "%s %d\n", s, m.counters[s])
	}
	for _, g := range m.gauges {
		v := g.f()
		if math.IsNaN(v) {
			continue
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", g.name, g.help, g.name, g.name, v)
	}
	fmt.Fprintf(w, "# HELP lifang_goroutines Goroutines in the process.\n# TYPE lifang_goroutines gauge\nlifang_goroutines %d\n", runtime.NumGoroutine())
}
