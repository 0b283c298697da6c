package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/lifang-community/lifang/bus"
)

// Publisher sends an event on a subject (bus.NATS in production).
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte) error
}

// events forwards the server's events to a Publisher from one goroutine, in order,
// without slowing the requests that raise them: when the queue is full an event is
// dropped, counted and logged (the store, not the bus, is the system of record).
type events struct {
	pub     Publisher
	prefix  string
	q       chan event
	log     *slog.Logger
	metrics *metrics
}

type event struct {
	subject string
	data    []byte
}

func newEvents(pub Publisher, unit string, lg *slog.Logger, m *metrics) *events {
	if pub == nil {
		return nil
	}
	e := &events{pub: pub, prefix: "lifang." + bus.Token(unit) + ".", q: make(chan event, 4096), log: lg, metrics: m}
	go e.loop()
	return e
}

func (e *events) loop() {
	for ev := range e.q {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := e.pub.Publish(ctx, ev.subject, ev.data)
		cancel()
		if err != nil {
			e.metrics.add(`lifang_bus_events_total{result="failed"}`, 1)
			e.log.Warn("bus publish failed", "subject", ev.subject, "err", err)
			continue
		}
		e.metrics.add(`lifang_bus_events_total{result="published"}`, 1)
	}
}

// emit queues v as JSON on prefix+subject; a nil *events does nothing.
func (e *events) emit(subject string, v any) {
	if e == nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	select {
	case e.q <- event{e.prefix + subject, b}:
	default:
		e.metrics.add(`lifang_bus_events_total{result="dropped"}`, 1)
		e.log.Warn("bus queue full: event dropped", "subject", e.prefix+subject)
	}
}
