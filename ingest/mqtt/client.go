package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// Client is a small reconnecting MQTT 5 client for the live loop's own traffic —
// commands, acknowledgements, the emulator's clock and meter publications — as opposed
// to Run, which feeds the ledger. Subscriptions are kept across reconnects; a publish
// while disconnected waits for the connection until its context ends.
type Client struct {
	cfg ClientConfig
	log *slog.Logger

	mu     sync.Mutex
	cli    *paho.Client
	ready  chan struct{} // closed while connected
	subs   []subscription
	closed bool
	cancel context.CancelFunc
	done   chan struct{}
}

// ClientConfig configures Dial.
type ClientConfig struct {
	BrokerURL string
	// ClientID must be unique among the broker's clients.
	ClientID string
	// Will, when set, is published by the broker if the connection ends without a
	// DISCONNECT (the process was killed): a controller's "offline" presence.
	Will *Will
	Log  *slog.Logger
}

// Will is a last-will message (QoS 1).
type Will struct {
	Topic   string
	Payload []byte
	Retain  bool
}

type subscription struct {
	filter  string
	qos     byte
	handler func(topic string, payload []byte)
}

// Dial connects to the broker, and keeps reconnecting (exponential backoff) until Close.
// It returns once the first connection is up, or ctx's error.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	if _, err := dialAddr(cfg.BrokerURL); err != nil {
		return nil, fmt.Errorf("%w: BrokerURL: %v", ErrConfig, err)
	}
	if cfg.ClientID == "" || strings.ContainsAny(cfg.ClientID, "/+#\x00") {
		return nil, fmt.Errorf("%w: ClientID %q: want a non-empty id without '/', '+' or '#'", ErrConfig, cfg.ClientID)
	}
	lg := cfg.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	rctx, cancel := context.WithCancel(context.Background())
	c := &Client{cfg: cfg, log: lg.With("mqtt_client", cfg.ClientID), ready: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go c.loop(rctx)
	select {
	case <-c.readyChan():
		return c, nil
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("mqtt: connect to %s: %w", cfg.BrokerURL, ctx.Err())
	}
}

func (c *Client) readyChan() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}

func (c *Client) loop(ctx context.Context) {
	defer close(c.done)
	backoff := minBackoff
	for ctx.Err() == nil {
		lost, err := c.connect(ctx)
		if err != nil {
			c.log.Warn("mqtt connect failed", "broker", c.cfg.BrokerURL, "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = minBackoff
		select {
		case <-ctx.Done():
			c.mu.Lock()
			cli := c.cli
			c.mu.Unlock()
			_ = cli.Disconnect(&paho.Disconnect{ReasonCode: 0})
			return
		case err := <-lost:
			c.log.Warn("mqtt connection lost", "err", err)
			c.mu.Lock()
			c.cli = nil
			c.ready = make(chan struct{})
			c.mu.Unlock()
		}
	}
}

func (c *Client) connect(ctx context.Context) (<-chan error, error) {
	addr, _ := dialAddr(c.cfg.BrokerURL)
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(cctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	lost := make(chan error, 1)
	connLost := func(err error) {
		select {
		case lost <- err:
		default:
		}
	}
	cli := paho.NewClient(paho.ClientConfig{
		Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			c.dispatch(pr.Packet.Topic, pr.Packet.Payload)
			return true, nil
		}},
		OnClientError: connLost,
		OnServerDisconnect: func(d *paho.Disconnect) {
			connLost(fmt.Errorf("broker sent DISCONNECT, reason code %#x", d.ReasonCode))
		},
	})
	cp := &paho.Connect{ClientID: c.cfg.ClientID, CleanStart: true, KeepAlive: keepAlive}
	if w := c.cfg.Will; w != nil {
		cp.WillMessage = &paho.WillMessage{Topic: w.Topic, Payload: w.Payload, Retain: w.Retain, QoS: 1}
	}
	if _, err := cli.Connect(cctx, cp); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	c.mu.Lock()
	subs := append([]subscription(nil), c.subs...)
	c.mu.Unlock()
	for _, s := range subs {
		if _, err := cli.Subscribe(cctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: s.filter, QoS: s.qos}}}); err != nil {
			_ = cli.Disconnect(&paho.Disconnect{})
			return nil, fmt.Errorf("subscribe %s: %w", s.filter, err)
		}
	}
	c.mu.Lock()
	c.cli = cli
	close(c.ready)
	c.mu.Unlock()
	return lost, nil
}

func (c *Client) dispatch(topic string, payload []byte) {
	c.mu.Lock()
	var hs []func(string, []byte)
	for _, s := range c.subs {
		if Match(s.filter, topic) {
			hs = append(hs, s.handler)
		}
	}
	c.mu.Unlock()
	for _, h := range hs {
		h(topic, payload)
	}
}

// Subscribe adds a subscription (kept across reconnects); handler runs on the
// client's receive goroutine and must not block for long.
func (c *Client) Subscribe(ctx context.Context, filter string, qos byte, handler func(topic string, payload []byte)) error {
	c.mu.Lock()
	c.subs = append(c.subs, subscription{filter: filter, qos: qos, handler: handler})
	cli := c.cli
	c.mu.Unlock()
	if cli == nil {
		return nil // subscribed on (re)connect
	}
	if _, err := cli.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}}); err != nil {
		return fmt.Errorf("mqtt: subscribe %s: %w", filter, err)
	}
	return nil
}

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("mqtt: client closed")

// Publish sends one message; at QoS 1 it returns once the broker acknowledged it.
func (c *Client) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	for {
		c.mu.Lock()
		cli, ready, closed := c.cli, c.ready, c.closed
		c.mu.Unlock()
		if closed {
			return ErrClosed
		}
		if cli == nil {
			select {
			case <-ready:
				continue
			case <-ctx.Done():
				return fmt.Errorf("mqtt: publish %s: not connected: %w", topic, ctx.Err())
			}
		}
		_, err := cli.Publish(ctx, &paho.Publish{Topic: topic, Payload: payload, QoS: qos, Retain: retain})
		if err != nil {
			return fmt.Errorf("mqtt: publish %s: %w", topic, err)
		}
		return nil
	}
}

// Close disconnects and stops reconnecting.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	<-c.done
	return nil
}

// Match reports whether topic matches an MQTT topic filter with + and # wildcards.
func Match(filter, topic string) bool {
	f, t := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, level := range f {
		if level == "#" {
			return true
		}
		if i >= len(t) || (level != "+" && level != t[i]) {
			return false
		}
	}
	return len(f) == len(t)
}
