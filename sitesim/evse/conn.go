package evse

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ocppj"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// noAutoReconnect turns off ocpp-go's own reconnection (its first wait): the emulator
// redials with a fresh client instead, so that each connection boots again.
const noAutoReconnect = 1000 * time.Hour

// session is one websocket connection to the central system.
type session struct {
	cp   ocpp16.ChargePoint
	down chan struct{} // closed when the connection dropped or was stopped
	once sync.Once

	mu      sync.RWMutex // held for reading while handing ocpp-go a request
	stopped bool
	// inflight counts requests ocpp-go has not called back for.
	inflight sync.WaitGroup
	drain    time.Duration // how long stop waits for them
}

func (s *session) markDown() { s.once.Do(func() { close(s.down) }) }

// stop ends the connection. ocpp-go must not be given a request after its Stop began,
// and on a live connection its requests in flight are let finish first: ocpp-go v0.19's
// ws.Client may otherwise write to the queue its cleanup closes (a panic).
func (s *session) stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	s.mu.Unlock()
	select {
	case <-s.down: // dropped: ocpp-go has cleaned up and writes nothing more
	default:
		drained := make(chan struct{})
		go func() {
			s.inflight.Wait()
			close(drained)
		}()
		timer := time.NewTimer(s.drain)
		select {
		case <-drained:
		case <-s.down:
		case <-timer.C:
		}
		timer.Stop()
	}
	s.markDown()
	s.cp.Stop()
}

// connect dials once and boots.
func (c *ChargePoint) connect(ctx context.Context) (*session, error) {
	client := ws.NewClient()
	tc := ws.NewClientTimeoutConfig()
	tc.HandshakeTimeout = c.cfg.CallTimeout
	tc.RetryBackOffWaitMinimum = noAutoReconnect
	tc.RetryBackOffRandomRange = 0
	client.SetTimeoutConfig(tc)
	dispatcher := ocppj.NewDefaultClientDispatcher(ocppj.NewFIFOClientQueue(0))
	dispatcher.SetTimeout(c.cfg.CallTimeout)
	endpoint := ocppj.NewClient(c.cfg.ID, client, dispatcher, nil, core.Profile, smartcharging.Profile, remotetrigger.Profile)
	s := &session{down: make(chan struct{}), drain: c.cfg.CallTimeout}
	endpoint.SetOnDisconnectedHandler(func(err error) {
		c.log.Warn("connection lost", "err", err)
		s.markDown()
	})
	s.cp = ocpp16.NewChargePoint(c.cfg.ID, endpoint, client)
	h := &handler{c}
	s.cp.SetCoreHandler(h)
	s.cp.SetSmartChargingHandler(h)
	s.cp.SetRemoteTriggerHandler(h)
	if err := s.cp.Start(c.cfg.URL); err != nil {
		return nil, fmt.Errorf("evse %s: connect to %s: %w", c.cfg.ID, c.cfg.URL, err)
	}
	if err := c.boot(ctx, s); err != nil {
		s.stop()
		return nil, err
	}
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	c.log.Info("connected", "url", c.cfg.URL)
	return s, nil
}

// dialLoop connects, retrying with exponential backoff until ctx or the charge point
// ends.
func (c *ChargePoint) dialLoop(ctx context.Context) (*session, error) {
	backoff := c.cfg.Backoff
	for attempt := 1; ; attempt++ {
		s, err := c.connect(ctx)
		if err == nil {
			return s, nil
		}
		c.log.Warn("connect failed", "attempt", attempt, "retry_in", backoff, "err", err)
		timer := time.NewTimer(backoff)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("evse %s: dial %s: %w (last error: %w)", c.cfg.ID, c.cfg.URL, ctx.Err(), err)
		case <-c.ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("evse %s: %w", c.cfg.ID, ErrClosed)
		}
		backoff = min(2*backoff, maxBackoffFactor*c.cfg.Backoff)
	}
}

// supervise redials whenever the connection drops, until Close.
func (c *ChargePoint) supervise(s *session) {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			c.drop(s)
			return
		case <-s.down:
		}
		c.drop(s)
		ns, err := c.dialLoop(c.ctx)
		if err != nil {
			return
		}
		s = ns
	}
}

func (c *ChargePoint) drop(s *session) {
	c.mu.Lock()
	if c.sess == s {
		c.sess = nil
	}
	c.mu.Unlock()
	s.stop()
}

// boot sends BootNotification until accepted, then each connector's status.
func (c *ChargePoint) boot(ctx context.Context, s *session) error {
	for {
		resp, err := c.callOn(ctx, s, core.NewBootNotificationRequest(c.cfg.Model, c.cfg.Vendor))
		if err != nil {
			return err
		}
		conf, ok := resp.(*core.BootNotificationConfirmation)
		if !ok {
			return fmt.Errorf("evse %s: BootNotification: unexpected answer %T", c.cfg.ID, resp)
		}
		if conf.Status == core.RegistrationStatusAccepted {
			c.mu.Lock()
			c.stats.Boots++
			if conf.Interval > 0 {
				c.settings[keyHeartbeatInterval] = strconv.Itoa(conf.Interval)
			}
			c.mu.Unlock()
			break
		}
		// Pending or Rejected: ask again after the interval the central system gave.
		wait := time.Duration(conf.Interval) * time.Second
		if wait <= 0 {
			wait = 10 * time.Second
		}
		c.log.Warn("boot not accepted", "status", conf.Status, "retry_in", wait)
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("evse %s: boot %s: %w", c.cfg.ID, conf.Status, ctx.Err())
		case <-s.down:
			timer.Stop()
			return fmt.Errorf("evse %s: boot: %w", c.cfg.ID, ErrOffline)
		}
	}
	for i := 1; i <= c.cfg.Connectors; i++ {
		if err := c.sendStatusOn(ctx, s, i); err != nil {
			return err
		}
	}
	return nil
}

// callOn sends req on s and waits for the answer, ctx, or the connection dropping.
func (c *ChargePoint) callOn(ctx context.Context, s *session, req ocpp.Request) (ocpp.Response, error) {
	type result struct {
		resp ocpp.Response
		err  error
	}
	ch := make(chan result, 1)
	s.mu.RLock()
	if s.stopped {
		s.mu.RUnlock()
		return nil, fmt.Errorf("evse %s: %s: %w", c.cfg.ID, req.GetFeatureName(), ErrOffline)
	}
	s.inflight.Add(1)
	var once sync.Once
	err := s.cp.SendRequestAsync(req, func(resp ocpp.Response, err error) {
		once.Do(func() {
			ch <- result{resp, err}
			s.inflight.Done()
		})
	})
	s.mu.RUnlock()
	if err != nil {
		s.inflight.Done()
		return nil, fmt.Errorf("evse %s: %s: %w", c.cfg.ID, req.GetFeatureName(), err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("evse %s: %s: %w", c.cfg.ID, req.GetFeatureName(), r.err)
		}
		if r.resp == nil {
			return nil, fmt.Errorf("evse %s: %s: empty answer", c.cfg.ID, req.GetFeatureName())
		}
		return r.resp, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("evse %s: %s: %w", c.cfg.ID, req.GetFeatureName(), ctx.Err())
	case <-s.down:
		return nil, fmt.Errorf("evse %s: %s: %w", c.cfg.ID, req.GetFeatureName(), ErrOffline)
	}
}

// call sends req on the current connection.
func (c *ChargePoint) call(ctx context.Context, req ocpp.Request) (ocpp.Response, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s == nil {
		return nil, fmt.Errorf("evse %s: %s: %w", c.cfg.ID, req.GetFeatureName(), ErrOffline)
	}
	return c.callOn(ctx, s, req)
}

// statusRequest is a StatusNotification of the connector's current status.
func (c *ChargePoint) statusRequest(connector int) *core.StatusNotificationRequest {
	c.mu.Lock()
	status := c.conns[connector].status
	c.mu.Unlock()
	req := core.NewStatusNotificationRequest(connector, core.NoError, status)
	req.Timestamp = types.NewDateTime(c.cfg.Clock())
	return req
}

func (c *ChargePoint) sendStatusOn(ctx context.Context, s *session, connector int) error {
	_, err := c.callOn(ctx, s, c.statusRequest(connector))
	return err
}

// setStatus records the connector's status and notifies the central system.
func (c *ChargePoint) setStatus(ctx context.Context, connector int, status core.ChargePointStatus) error {
	c.mu.Lock()
	c.conns[connector].status = status
	c.mu.Unlock()
	_, err := c.call(ctx, c.statusRequest(connector))
	return err
}

// heartbeats sends a Heartbeat every HeartbeatInterval seconds of wall time (it keeps
// the connection known to be alive; it carries no timestamp of the simulated clock).
func (c *ChargePoint) heartbeats() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		interval, _ := strconv.Atoi(c.settings[keyHeartbeatInterval])
		c.mu.Unlock()
		if interval <= 0 {
			interval = 300
		}
		timer := time.NewTimer(time.Duration(interval) * time.Second)
		select {
		case <-c.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.cfg.CallTimeout)
		if _, err := c.call(ctx, core.NewHeartbeatRequest()); err != nil && !errors.Is(err, ErrOffline) {
			c.log.Warn("heartbeat failed", "err", err)
		}
		cancel()
	}
}
