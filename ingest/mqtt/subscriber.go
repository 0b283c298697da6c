package mqtt

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/lifang-community/lifang/ingest"
)

const (
	connectTimeout = 10 * time.Second
	keepAlive      = 30 // seconds
	// ackInterval is how often paho sends the acks marked since (in arrival order).
	ackInterval = 10 * time.Millisecond
	minBackoff  = 250 * time.Millisecond
	maxBackoff  = 30 * time.Second
)

// Run subscribes to the unit's topics on cfg.BrokerURL, decodes each message (Decode),
// groups them into Inputs and passes these to sink, acknowledging a message only once
// sink returned nil for the Input holding it (see the package doc). It reconnects with
// exponential backoff when the connection drops or sink fails, and blocks until ctx is
// done, then returns nil. It returns at once an error wrapping ErrConfig if cfg is
// invalid. A nil log discards the log.
func Run(ctx context.Context, cfg Config, sink ingest.Sink, log *slog.Logger) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if sink == nil {
		return fmt.Errorf("%w: nil sink", ErrConfig)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("broker", cfg.BrokerURL, "client_id", cfg.ClientID)
	delay := minBackoff
	for {
		progress, err := session(ctx, cfg, sink, log)
		if ctx.Err() != nil {
			return nil
		}
		if progress {
			delay = minBackoff
		}
		log.WarnContext(ctx, "mqtt connection ended, reconnecting", "err", err, "after", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		delay = min(2*delay, maxBackoff)
	}
}

// session runs one connection until it drops, sink fails or ctx is done. Messages it
// received but did not get through sink are left unacknowledged, for the broker to
// redeliver on the next connection. progress reports whether any Input went through.
func session(ctx context.Context, cfg Config, sink ingest.Sink, log *slog.Logger) (progress bool, err error) {
	addr, err := dialAddr(cfg.BrokerURL)
	if err != nil {
		return false, err
	}
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(cctx, "tcp", addr)
	if err != nil {
		return false, err
	}

	// The paho handler runs on paho's goroutine; it hands messages over until the
	// session stops, then drops them (they stay unacknowledged).
	msgs := make(chan *paho.Publish, MaxInflight)
	stopped := make(chan struct{})
	lost := make(chan error, 1)
	connLost := func(err error) {
		select {
		case lost <- err:
		default:
		}
	}
	cli := paho.NewClient(paho.ClientConfig{
		Conn:                       conn,
		EnableManualAcknowledgment: true,
		SendAcksInterval:           ackInterval,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			select {
			case msgs <- pr.Packet:
			case <-stopped:
			}
			return true, nil
		}},
		OnClientError: connLost,
		OnServerDisconnect: func(d *paho.Disconnect) {
			reason := ""
			if d.Properties != nil {
				reason = d.Properties.ReasonString
			}
			connLost(fmt.Errorf("broker sent DISCONNECT, reason code %#x %s", d.ReasonCode, reason))
		},
	})
	expiry := uint32(cfg.SessionExpiry / time.Second)
	recvMax := uint16(MaxInflight)
	maxPacket := uint32(4*cfg.MaxPayload + 64<<10)
	ca, err := cli.Connect(cctx, &paho.Connect{
		ClientID:   cfg.ClientID,
		CleanStart: false, // resume the session: unacknowledged messages come again
		KeepAlive:  keepAlive,
		Properties: &paho.ConnectProperties{
			SessionExpiryInterval: &expiry,
			ReceiveMaximum:        &recvMax,
			MaximumPacketSize:     &maxPacket,
		},
	})
	if err != nil {
		close(stopped)
		if ca != nil {
			return false, fmt.Errorf("connect: reason code %#x: %w", ca.ReasonCode, err)
		}
		return false, fmt.Errorf("connect: %w", err)
	}
	connected := true
	defer func() {
		close(stopped)
		if connected {
			// Let paho send the acks of the last Input before the connection goes.
			time.Sleep(2 * ackInterval)
		}
		_ = cli.Disconnect(&paho.Disconnect{ReasonCode: 0}) // the session stays
	}()

	subscribed, err := subscribe(cctx, cli, cfg, ca.SessionPresent, log)
	if err != nil {
		return false, err
	}
	cancel()
	log.InfoContext(ctx, "mqtt subscribed", "topics", cfg.topics(), "qos", cfg.QoS, "session_present", ca.SessionPresent, "deferred", !subscribed)
	if cfg.Subscribed != nil {
		cfg.Subscribed() // a deferred subscription still has the session's: messages flow
	}

	var (
		pend     []*paho.Publish // in arrival order, the order acks must go in
		groups   []*group        // one per unit, in order of first message
		readings int
		timer    = time.NewTimer(time.Hour)
	)
	timer.Stop()
	flush := func() error {
		timer.Stop()
		for _, g := range groups {
			in := g.input()
			if len(in.Readings)+len(in.Events)+len(in.Rejected) == 0 {
				continue
			}
			res, err := sink.Ingest(ctx, in)
			if err != nil {
				return fmt.Errorf("sink refused %s (%d messages, %d readings; left unacknowledged): %w", in.Source, g.messages, len(in.Readings), err)
			}
			log.DebugContext(ctx, "mqtt input ingested", "source", in.Source, "messages", g.messages,
				"accepted", res.Accepted, "quarantined", res.Quarantined, "duplicates", res.Duplicates, "events", res.Events)
		}
		for _, p := range pend {
			if err := cli.Ack(p); err != nil {
				log.WarnContext(ctx, "mqtt ack", "topic", p.Topic, "packet_id", p.PacketID, "err", err)
			}
		}
		pend, groups, readings, progress = pend[:0], groups[:0], 0, true
		if !subscribed {
			// The acks, once sent, free the broker's packet identifiers.
			time.Sleep(3 * ackInterval)
			sctx, cancel := context.WithTimeout(ctx, connectTimeout)
			defer cancel()
			var err error
			if subscribed, err = subscribe(sctx, cli, cfg, true, log); err != nil {
				return err
			}
			if subscribed {
				log.InfoContext(ctx, "mqtt subscribed after acknowledging redelivered messages", "topics", cfg.topics())
			}
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return progress, ctx.Err()
		case err := <-lost:
			connected = false
			return progress, fmt.Errorf("connection lost: %w", err)
		case <-timer.C:
			if err := flush(); err != nil {
				return progress, err
			}
		case p := <-msgs:
			in := Decode(p.Topic, p.Payload, cfg.MaxPayload)
			if readings+len(in.Readings) > ingest.MaxBatch {
				if err := flush(); err != nil {
					return progress, err
				}
			}
			if len(pend) == 0 {
				timer.Reset(cfg.FlushInterval)
			}
			pend = append(pend, p)
			readings += len(in.Readings)
			groups = addTo(groups, p.Topic, in)
			if readings >= ingest.MaxBatch || len(pend) >= MaxInflight {
				if err := flush(); err != nil {
					return progress, err
				}
			}
		}
	}
}

// group gathers the decoded messages of one unit.
type group struct {
	unit     string
	prefix   []string // topic levels common to all its messages
	in       ingest.Input
	messages int
}

func addTo(groups []*group, topic string, in ingest.Input) []*group {
	levels := strings.Split(topic, "/")
	unit := ""
	if len(levels) > 1 {
		unit = levels[1]
	}
	var g *group
	for _, x := range groups {
		if x.unit == unit {
			g = x
			break
		}
	}
	if g == nil {
		g = &group{unit: unit, prefix: levels}
		groups = append(groups, g)
	}
	n := 0
	for n < len(g.prefix) && n < len(levels) && g.prefix[n] == levels[n] {
		n++
	}
	g.prefix = g.prefix[:n]
	g.messages++
	g.in.Readings = append(g.in.Readings, in.Readings...)
	g.in.Raw = append(g.in.Raw, in.Raw...)
	g.in.Events = append(g.in.Events, in.Events...)
	g.in.Rejected = append(g.in.Rejected, in.Rejected...)
	return groups
}

// input is the group's Input, whose Source is "mqtt:" and the common topic levels.
func (g *group) input() ingest.Input {
	in := g.in
	in.Source = "mqtt:" + strings.Join(g.prefix, "/")
	return in
}

// pidInUse is the SUBACK reason code "Packet Identifier in use".
const pidInUse = 0x91

// subscribe subscribes to cfg's topics. mochi-mqtt (v2.7.9) refuses a SUBSCRIBE whose
// packet identifier equals that of a PUBLISH it has in flight to the client, although
// MQTT 5 §2.2.1 keeps the two directions apart: this happens when a resumed session
// redelivers messages. Such a refusal leaves subscribed false and no error: the
// session is present and, having messages in flight, has its subscriptions; the caller
// subscribes again once it has acknowledged them.
func subscribe(ctx context.Context, cli *paho.Client, cfg Config, sessionPresent bool, log *slog.Logger) (subscribed bool, err error) {
	subs := make([]paho.SubscribeOptions, 0, 2)
	for _, t := range cfg.topics() {
		subs = append(subs, paho.SubscribeOptions{Topic: t, QoS: cfg.QoS})
	}
	sa, err := cli.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs})
	if err != nil && sa != nil && sessionPresent && !slices.ContainsFunc(sa.Reasons, func(rc byte) bool { return rc != pidInUse }) {
		log.InfoContext(ctx, "mqtt broker has messages in flight under the SUBSCRIBE's packet identifier; keeping the session's subscriptions for now")
		return false, nil
	}
	if err != nil {
		if sa != nil {
			return false, fmt.Errorf("subscribe %v: reason codes %#x: %w", cfg.topics(), sa.Reasons, err)
		}
		return false, fmt.Errorf("subscribe %v: %w", cfg.topics(), err)
	}
	for i, rc := range sa.Reasons {
		if i < len(subs) && rc < subs[i].QoS {
			log.WarnContext(ctx, "mqtt broker granted a lower QoS: messages may be lost", "topic", subs[i].Topic, "qos", rc)
		}
	}
	return true, nil
}
