package site

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lifang-community/lifang/ingest/mqtt"
)

// MQTTCommander sends Commands on lifang/<unit>/commands/<device> (QoS 1) and waits
// for the Ack with the same id on lifang/<unit>/acks/<device>. No answer within
// Timeout is retried (same id: a device treats a repeated id as the same command) up
// to Retries times with doubling backoff, then it is a timeout.
type MQTTCommander struct {
	Client  *mqtt.Client
	Unit    string
	Timeout time.Duration
	Retries int
	Log     *slog.Logger

	mu      sync.Mutex
	waiting map[string]chan Ack
	once    sync.Once
}

// Start subscribes to the acknowledgements.
func (m *MQTTCommander) Start(ctx context.Context) error {
	m.waiting = map[string]chan Ack{}
	if m.Log == nil {
		m.Log = slog.New(slog.DiscardHandler)
	}
	return m.Client.Subscribe(ctx, "lifang/"+m.Unit+"/acks/+", 1, func(topic string, payload []byte) {
		var a Ack
		if err := DecodeStrict(payload, &a); err != nil {
			m.Log.Warn("bad acknowledgement", "topic", topic, "err", err)
			return
		}
		m.mu.Lock()
		ch := m.waiting[a.ID]
		m.mu.Unlock()
		if ch != nil {
			select {
			case ch <- a:
			default:
			}
		}
	})
}

// Send implements Commander.
func (m *MQTTCommander) Send(ctx context.Context, device string, c Command) Outcome {
	o := Outcome{ID: c.ID, Device: device, Protocol: "mqtt", Action: c.Action}
	payload, err := json.Marshal(c)
	if err != nil {
		o.Status, o.Detail = TimedOut, err.Error()
		return o
	}
	ch := make(chan Ack, 1)
	m.mu.Lock()
	m.waiting[c.ID] = ch
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.waiting, c.ID)
		m.mu.Unlock()
	}()
	backoff := 200 * time.Millisecond
	for attempt := 0; attempt <= m.Retries; attempt++ {
		o.Attempts = attempt + 1
		pctx, cancel := context.WithTimeout(ctx, m.Timeout)
		err := m.Client.Publish(pctx, TopicCommand(m.Unit, device), payload, 1, false)
		if err == nil {
			select {
			case a := <-ch:
				cancel()
				o.Detail = a.Detail
				if a.Status == "accepted" {
					o.Status = Acked
				} else {
					o.Status = Rejected
				}
				return o
			case <-pctx.Done():
			}
		}
		cancel()
		o.Detail = fmt.Sprintf("no acknowledgement within %v", m.Timeout)
		if err != nil {
			o.Detail = err.Error()
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff *= 2
	}
	o.Status = TimedOut
	return o
}

var _ Commander = (*MQTTCommander)(nil)
