// Package bus publishes what the operating unit does — batches committed to the
// ledger, jobs started and finished — on NATS JetStream, so other services (a fleet
// scheduler, a city dashboard, a second region) can follow it without polling.
//
// Subjects: lifang.<unit>.ingest for each committed batch (the ingest result) and
// lifang.<unit>.jobs.<kind> for each job state change. Messages are JSON. The stream
// LIFANG (subjects lifang.>) keeps them; it is created on first use.
package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// StreamName is the JetStream stream that keeps lifang's events.
const StreamName = "LIFANG"

// NATS publishes to a NATS server with JetStream.
type NATS struct {
	nc *nats.Conn
	js nats.JetStreamContext
}

// Connect connects to url (nats://host:port) and makes sure the stream exists.
func Connect(url, name string) (*NATS, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.Timeout(5*time.Second), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("bus: connect %s: %w", url, err)
	}
	js, err := nc.JetStream(nats.MaxWait(5 * time.Second))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	if _, err := js.StreamInfo(StreamName); errors.Is(err, nats.ErrStreamNotFound) {
		_, err = js.AddStream(&nats.StreamConfig{Name: StreamName, Subjects: []string{"lifang.>"}, MaxAge: 7 * 24 * time.Hour,
			Storage: nats.FileStorage, Discard: nats.DiscardOld})
		if err != nil && !errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
			nc.Close()
			return nil, fmt.Errorf("bus: create stream %s: %w", StreamName, err)
		}
	} else if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: stream %s: %w", StreamName, err)
	}
	return &NATS{nc: nc, js: js}, nil
}

// Publish sends data on subject and waits for JetStream's acknowledgement.
func (n *NATS) Publish(ctx context.Context, subject string, data []byte) error {
	if _, err := n.js.Publish(subject, data, nats.Context(ctx)); err != nil {
		return fmt.Errorf("bus: publish %s: %w", subject, err)
	}
	return nil
}

// Conn is the underlying connection (for subscribers).
func (n *NATS) Conn() *nats.Conn { return n.nc }

// Close drains and closes the connection.
func (n *NATS) Close() error { return n.nc.Drain() }

// Token makes a string safe as one subject token (no dots, spaces or wildcards).
func Token(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '.', ' ', '*', '>', '\t', '\n', '\r':
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "_"
	}
	return s
}
