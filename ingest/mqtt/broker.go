package mqtt

import (
	"fmt"
	"log/slog"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// DefaultBrokerAddr is where StartBroker listens when given no address: loopback only,
// since the embedded broker lets every client in.
const DefaultBrokerAddr = "127.0.0.1:1883"

// Broker is an embedded MQTT broker (mochi-mqtt) for installations without one. It
// has no authentication: every client may connect, publish and subscribe.
type Broker struct {
	srv   *mochi.Server
	addr  string
	close sync.Once
}

// StartBroker starts a broker listening for MQTT over TCP on addr (host:port; port 0
// picks a free one; "" is DefaultBrokerAddr). Sessions and messages live in memory. A
// nil log discards the broker's log.
func StartBroker(addr string, log *slog.Logger) (*Broker, error) {
	if addr == "" {
		addr = DefaultBrokerAddr
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := mochi.New(&mochi.Options{Logger: log.With("component", "mqtt-broker")})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, fmt.Errorf("mqtt broker: %w", err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("mqtt broker: listen on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("mqtt broker: %w", err)
	}
	return &Broker{srv: srv, addr: tcp.Address()}, nil
}

// Addr is the host:port the broker is bound to.
func (b *Broker) Addr() string { return b.addr }

// Close disconnects every client and stops the broker; it may be called more than once.
func (b *Broker) Close() error {
	b.close.Do(func() { _ = b.srv.Close() })
	return nil
}
