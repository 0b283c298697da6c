package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Job states.
const (
	jobQueued    = "queued"
	jobRunning   = "running"
	jobDone      = "done"
	jobFailed    = "failed"
	jobCancelled = "cancelled"
)

// Progress is a job's stage and how far it got.
type Progress struct {
	Stage string `json:"stage"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// Job is a long run: its state, progress and, once done, its result.
type Job struct {
	ID       string     `json:"id"`
	Kind     string     `json:"kind"`
	Status   string     `json:"status"`
	Params   any        `json:"params,omitempty"`
	Progress Progress   `json:"progress"`
	Result   any        `json:"result,omitempty"`
	Error    string     `json:"error,omitempty"`
	Created  time.Time  `json:"created"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
}

type job struct {
	mu     sync.Mutex
	Job    Job
	cancel context.CancelFunc
	subs   map[chan struct{}]bool
	done   chan struct{}
	now    func() time.Time
}

// report updates progress and wakes subscribers.
func (j *job) report(stage string, done, total int) {
	j.mu.Lock()
	j.Job.Progress = Progress{Stage: stage, Done: done, Total: total}
	j.notify()
	j.mu.Unlock()
}

func (j *job) notify() {
	for c := range j.subs {
		select {
		case c <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// snapshot is a copy safe to encode.
func (j *job) snapshot() Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.Job
}

func (j *job) subscribe() (chan struct{}, func()) {
	c := make(chan struct{}, 1)
	j.mu.Lock()
	j.subs[c] = true
	j.mu.Unlock()
	return c, func() {
		j.mu.Lock()
		delete(j.subs, c)
		j.mu.Unlock()
	}
}

// jobs runs at most one job at a time (they are CPU-bound on a small machine); the
// others wait queued. It keeps the last maxJobs jobs.
type jobs struct {
	mu      sync.Mutex
	byID    map[string]*job
	order   []string
	slot    chan struct{}
	now     func() time.Time
	metrics *metrics
	wg      sync.WaitGroup
	// onChange hears each state change (queued, running, finished).
	onChange func(Job)
}

const maxJobs = 200

func newJobs(now func() time.Time, m *metrics) *jobs {
	js := &jobs{byID: map[string]*job{}, slot: make(chan struct{}, 1), now: now, metrics: m}
	m.gauge("lifang_jobs_running", "Jobs running now.", func() float64 { return float64(js.count(jobRunning)) })
	m.gauge("lifang_jobs_queued", "Jobs waiting for the runner.", func() float64 { return float64(js.count(jobQueued)) })
	return js
}

func (js *jobs) count(status string) int {
	js.mu.Lock()
	defer js.mu.Unlock()
	n := 0
	for _, j := range js.byID {
		j.mu.Lock()
		if j.Job.Status == status {
			n++
		}
		j.mu.Unlock()
	}
	return n
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// start queues fn as a job of kind and returns it at once.
func (js *jobs) start(kind string, params any, fn func(ctx context.Context, j *job) (any, error)) *job {
	ctx, cancel := context.WithCancel(context.Background())
	j := &job{Job: Job{ID: newID(), Kind: kind, Status: jobQueued, Params: params, Created: js.now().UTC()},
		cancel: cancel, subs: map[chan struct{}]bool{}, done: make(chan struct{}), now: js.now}
	js.mu.Lock()
	js.byID[j.Job.ID] = j
	js.order = append(js.order, j.Job.ID)
	for len(js.order) > maxJobs {
		old := js.byID[js.order[0]]
		old.mu.Lock()
		finished := old.Job.Finished != nil
		old.mu.Unlock()
		if !finished {
			break
		}
		delete(js.byID, js.order[0])
		js.order = js.order[1:]
	}
	js.mu.Unlock()
	js.changed(j)
	js.wg.Add(1)
	go func() {
		defer js.wg.Done()
		defer cancel()
		defer close(j.done)
		select {
		case js.slot <- struct{}{}:
		case <-ctx.Done():
			js.finish(j, nil, ctx.Err())
			return
		}
		defer func() { <-js.slot }()
		t := js.now().UTC()
		j.mu.Lock()
		j.Job.Status, j.Job.Started = jobRunning, &t
		j.notify()
		j.mu.Unlock()
		js.changed(j)
		res, err := func() (res any, err error) {
			defer func() {
				if v := recover(); v != nil {
					err = fmt.Errorf("job panicked: %v", v)
				}
			}()
			return fn(ctx, j)
		}()
		js.finish(j, res, err)
	}()
	return j
}

func (js *jobs) finish(j *job, res any, err error) {
	t := js.now().UTC()
	j.mu.Lock()
	j.Job.Finished = &t
	switch {
	case err == nil:
		j.Job.Status, j.Job.Result = jobDone, res
	case errors.Is(err, context.Canceled):
		j.Job.Status, j.Job.Error = jobCancelled, "cancelled"
	default:
		j.Job.Status, j.Job.Error = jobFailed, err.Error()
	}
	status, kind := j.Job.Status, j.Job.Kind
	j.notify()
	j.mu.Unlock()
	js.changed(j)
	js.metrics.add(fmt.Sprintf(`lifang_jobs_total{kind=%q,status=%q}`, kind, status), 1)
}

func (js *jobs) changed(j *job) {
	if js.onChange != nil {
		js.onChange(j.snapshot())
	}
}

func (js *jobs) get(id string) (*job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.byID[id]
	return j, ok
}

func (js *jobs) list() []Job {
	js.mu.Lock()
	ids := append([]string(nil), js.order...)
	js.mu.Unlock()
	out := make([]Job, 0, len(ids))
	for _, id := range ids {
		if j, ok := js.get(id); ok {
			s := j.snapshot()
			s.Result = nil // the list is light; GET /jobs/{id} has the result
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	return out
}

func (js *jobs) cancelAll() {
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.byID {
		j.cancel()
	}
}

// wait blocks until every job goroutine ended or ctx does.
func (js *jobs) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { js.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
