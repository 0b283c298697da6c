package site

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Metrics are the live loop's Prometheus metrics (text exposition format 0.0.4):
//
//	lifang_operate_commands_total{device,protocol,status}  commands by device and result
//	lifang_operate_steps_total                              steps decided
//	lifang_operate_step_seconds{quantile}                   wall time of a step (observe, decide, command, ledger): p50, p90, p99 of the last 1,000
//	lifang_operate_step_seconds_sum / _count
//	lifang_operate_fallbacks_total{fallback}                observation fallbacks (stale meter, battery standby, …)
//	lifang_operate_data_staleness_seconds{point}            age of the newest reading of each meter at the last step (simulated time when the clock is)
//	lifang_operate_alarms_open                              alarms raised and not cleared
//	lifang_operate_last_step                                index of the last step decided
type Metrics struct {
	mu        sync.Mutex
	commands  map[[3]string]int
	fallbacks map[string]int
	stale     map[string]float64
	steps     int
	last      int
	alarms    int
	durs      []float64
	sum       float64
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{commands: map[[3]string]int{}, fallbacks: map[string]int{}, stale: map[string]float64{}, last: -1}
}

func (m *Metrics) step(rep *StepReport, took time.Duration, alarms int, staleness map[string]float64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range rep.Outcomes {
		m.commands[[3]string{o.Device, o.Protocol, o.Status}]++
	}
	for _, f := range rep.Fallback {
		m.fallbacks[f]++
	}
	for p, s := range staleness {
		m.stale[p] = s
	}
	m.steps++
	m.last = rep.Step
	m.alarms = alarms
	d := took.Seconds()
	m.sum += d
	m.durs = append(m.durs, d)
	if len(m.durs) > 1000 {
		m.durs = m.durs[len(m.durs)-1000:]
	}
}

// WriteTo writes the metrics in the Prometheus text format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP lifang_operate_commands_total Commands sent by the live loop, by device, protocol and result.\n# TYPE lifang_operate_commands_total counter\n")
	keys := make([][3]string, 0, len(m.commands))
	for k := range m.commands {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [3]string) int { return strings.Compare(a[0]+a[1]+a[2], b[0]+b[1]+b[2]) })
	for _, k := range keys {
		fmt.Fprintf(&b, "lifang_operate_commands_total{device=%q,protocol=%q,status=%q} %d\n", k[0], k[1], k[2], m.commands[k])
	}
	fmt.Fprintf(&b, "# HELP lifang_operate_steps_total Steps decided.\n# TYPE lifang_operate_steps_total counter\nlifang_operate_steps_total %d\n", m.steps)
	fmt.Fprintf(&b, "# HELP lifang_operate_last_step Index of the last step decided.\n# TYPE lifang_operate_last_step gauge\nlifang_operate_last_step %d\n", m.last)
	b.WriteString("# HELP lifang_operate_step_seconds Wall time of a step: observe, decide, command and ledger.\n# TYPE lifang_operate_step_seconds summary\n")
	sorted := slices.Clone(m.durs)
	slices.Sort(sorted)
	for _, q := range []float64{0.5, 0.9, 0.99} {
		v := math.NaN()
		if len(sorted) > 0 {
			v = sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
		}
		fmt.Fprintf(&b, "lifang_operate_step_seconds{quantile=\"%g\"} %g\n", q, v)
	}
	fmt.Fprintf(&b, "lifang_operate_step_seconds_sum %g\nlifang_operate_step_seconds_count %d\n", m.sum, m.steps)
	b.WriteString("# HELP lifang_operate_fallbacks_total Observation fallbacks, by kind.\n# TYPE lifang_operate_fallbacks_total counter\n")
	fbs := make([]string, 0, len(m.fallbacks))
	for k := range m.fallbacks {
		fbs = append(fbs, k)
	}
	slices.Sort(fbs)
	for _, k := range fbs {
		fmt.Fprintf(&b, "lifang_operate_fallbacks_total{fallback=%q} %d\n", k, m.fallbacks[k])
	}
	b.WriteString("# HELP lifang_operate_data_staleness_seconds Age of each meter's newest reading at the last step.\n# TYPE lifang_operate_data_staleness_seconds gauge\n")
	pts := make([]string, 0, len(m.stale))
	for k := range m.stale {
		pts = append(pts, k)
	}
	slices.Sort(pts)
	for _, k := range pts {
		fmt.Fprintf(&b, "lifang_operate_data_staleness_seconds{point=%q} %g\n", k, m.stale[k])
	}
	fmt.Fprintf(&b, "# HELP lifang_operate_alarms_open Alarms raised and not cleared.\n# TYPE lifang_operate_alarms_open gauge\nlifang_operate_alarms_open %d\n", m.alarms)
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}
