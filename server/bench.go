package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lifang-community/lifang/ingest"
)

// BenchOptions drive Bench: a server already serving at URL with a token allowed to
// read and ingest.
type BenchOptions struct {
	URL         string
	Token       string
	Paths       []string      // read endpoints
	Concurrency int           // clients
	Duration    time.Duration // per endpoint
	// Ingest load: batches of BatchSize readings posted by Concurrency clients for
	// Duration; then every acknowledged reading is looked up.
	BatchSize int
	// Count returns how many readings of a point the store holds (the loss check).
	Count func(ctx context.Context, point string) (int, error)
}

// BenchRead is one read endpoint under load.
type BenchRead struct {
	Path          string  `json:"path"`
	Requests      int64   `json:"requests"`
	Errors        int64   `json:"errors"`
	RequestsPerS  float64 `json:"requests_per_second"`
	P50Millis     float64 `json:"p50_ms"`
	P99Millis     float64 `json:"p99_ms"`
	MaxMillis     float64 `json:"max_ms"`
	BytesPerReply int     `json:"bytes_per_reply"`
}

// BenchIngest is the ingest load and its loss check.
type BenchIngest struct {
	Batches      int64   `json:"batches"`
	Readings     int64   `json:"readings_acknowledged"`
	Errors       int64   `json:"errors"`
	ReadingsPerS float64 `json:"readings_per_second"`
	P99Millis    float64 `json:"p99_ms"`
	Stored       int64   `json:"readings_stored"`
	Lost         int64   `json:"readings_lost"`
}

// BenchResult is `lifang bench serve`'s JSON.
type BenchResult struct {
	Concurrency int         `json:"concurrency"`
	Seconds     float64     `json:"seconds_per_endpoint"`
	Reads       []BenchRead `json:"reads"`
	Ingest      BenchIngest `json:"ingest"`
}

// Bench loads a running server over loopback.
func Bench(ctx context.Context, o BenchOptions) (*BenchResult, error) {
	tr := &http.Transport{MaxIdleConns: o.Concurrency * 2, MaxIdleConnsPerHost: o.Concurrency * 2, DialContext: (&net.Dialer{}).DialContext}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	res := &BenchResult{Concurrency: o.Concurrency, Seconds: o.Duration.Seconds()}
	for _, p := range o.Paths {
		r, err := benchRead(ctx, client, o, p)
		if err != nil {
			return nil, err
		}
		res.Reads = append(res.Reads, *r)
	}
	if o.BatchSize > 0 {
		in, err := benchIngest(ctx, client, o)
		if err != nil {
			return nil, err
		}
		res.Ingest = *in
	}
	return res, nil
}

// merged is every client's latencies, sorted.
func merged(lats [][]time.Duration) []time.Duration {
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	return all
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(len(lat)-1, int(q*float64(len(lat))))]
}

func benchRead(ctx context.Context, client *http.Client, o BenchOptions, path string) (*BenchRead, error) {
	var n, errs atomic.Int64
	var size atomic.Int64
	lats := make([][]time.Duration, o.Concurrency)
	stop := time.Now().Add(o.Duration)
	var wg sync.WaitGroup
	for c := 0; c < o.Concurrency; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for time.Now().Before(stop) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", o.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+o.Token)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				b, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lats[c] = append(lats[c], time.Since(t0))
				if resp.StatusCode != 200 {
					errs.Add(1)
				}
				size.Store(b)
				n.Add(1)
			}
		}(c)
	}
	t0 := time.Now()
	wg.Wait()
	el := time.Since(t0)
	all := merged(lats)
	r := &BenchRead{Path: path, Requests: n.Load(), Errors: errs.Load(), RequestsPerS: float64(n.Load()) / el.Seconds(),
		P50Millis: millis(pct(all, 0.5)), P99Millis: millis(pct(all, 0.99)), BytesPerReply: int(size.Load())}
	if len(all) > 0 {
		r.MaxMillis = millis(all[len(all)-1])
	}
	return r, nil
}

func benchIngest(ctx context.Context, client *http.Client, o BenchOptions) (*BenchIngest, error) {
	var batches, acked, errs atomic.Int64
	lats := make([][]time.Duration, o.Concurrency)
	stop := time.Now().Add(o.Duration)
	// Minute readings from a year ago (the pipeline quarantines future timestamps).
	base := time.Now().UTC().Add(-365 * 24 * time.Hour).Truncate(time.Minute)
	run := time.Now().UnixNano()
	var wg sync.WaitGroup
	for c := 0; c < o.Concurrency; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			point := fmt.Sprintf("bench/%d/client%d", run, c)
			for k := 0; time.Now().Before(stop) && ctx.Err() == nil; k++ {
				rs := make([]ingest.JSONReading, o.BatchSize)
				for i := range rs {
					t := base.Add(time.Duration(k*o.BatchSize+i) * time.Minute)
					v := float64(k*o.BatchSize + i)
					rs[i] = ingest.JSONReading{Point: point, Timestamp: t.Format(time.RFC3339), Value: &v, Unit: "kWh"}
				}
				body, _ := json.Marshal(map[string]any{"readings": rs})
				req, _ := http.NewRequestWithContext(ctx, "POST", o.URL+"/api/v1/readings", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+o.Token)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				var res ingest.Result
				err = json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				lats[c] = append(lats[c], time.Since(t0))
				if resp.StatusCode != 200 || err != nil || res.Accepted != o.BatchSize {
					errs.Add(1)
				}
				batches.Add(1)
				acked.Add(int64(res.Accepted))
			}
		}(c)
	}
	t0 := time.Now()
	wg.Wait()
	el := time.Since(t0)
	all := merged(lats)
	r := &BenchIngest{Batches: batches.Load(), Readings: acked.Load(), Errors: errs.Load(), ReadingsPerS: float64(acked.Load()) / el.Seconds(),
		P99Millis: millis(pct(all, 0.99))}
	if o.Count != nil {
		for c := 0; c < o.Concurrency; c++ {
			n, err := o.Count(ctx, fmt.Sprintf("bench/%d/client%d", run, c))
			if err != nil {
				return nil, err
			}
			r.Stored += int64(n)
		}
		r.Lost = r.Readings - r.Stored
	}
	return r, nil
}
