package modbus

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// Defaults for the zero values of Config.
const (
	DefaultInterval = 10 * time.Second
	DefaultTimeout  = 2 * time.Second
)

// Config configures a poller.
type Config struct {
	URL    string // tcp://host:port
	UnitID uint8  // Modbus unit (slave) id, sent as is
	Device string // names the points: "<device>/<Register.Point>"
	Map    []Register
	// Interval is the time between polls; 0 means DefaultInterval.
	Interval time.Duration
	// Timeout bounds one request; 0 means DefaultTimeout.
	Timeout time.Duration
}

func (c *Config) validate() error {
	if c.Map == nil {
		c.Map = DefaultMap
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if !strings.HasPrefix(c.URL, "tcp://") || len(c.URL) == len("tcp://") {
		return fmt.Errorf("modbus: url %q: want tcp://host:port", c.URL)
	}
	if err := reading.ValidName(c.Device); err != nil {
		return fmt.Errorf("modbus: device: %w", err)
	}
	if c.Interval < 0 || c.Timeout < 0 {
		return fmt.Errorf("modbus: interval %v, timeout %v: want positive durations", c.Interval, c.Timeout)
	}
	return ValidateMap(c.Map, c.Device)
}

// Poll reads cfg.Map from the device every cfg.Interval, starting at once, and sends
// each poll to sink as one Input, readings timestamped by clock. A failed read becomes
// an Input holding a store.Rejected with the error, and the next poll reconnects. A
// sink error is logged and the poll's data dropped: the next poll reads the device
// again. Poll returns an error for an invalid config, or ctx.Err() once ctx is done.
func Poll(ctx context.Context, cfg Config, sink ingest.Sink, clock func() time.Time, log *slog.Logger) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &poller{cfg: cfg, sink: sink, clock: clock, blocks: plan(cfg.Map),
		log: log.With("adapter", "modbus", "device", cfg.Device, "url", cfg.URL)}
	p.first, p.count = Span(cfg.Map)
	defer p.disconnect()
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	for {
		p.poll(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

type poller struct {
	cfg    Config
	sink   ingest.Sink
	clock  func() time.Time
	log    *slog.Logger
	blocks []block
	first  uint16
	count  int
	client *mb.ModbusClient // nil while disconnected
}

func (p *poller) poll(ctx context.Context) {
	at := p.clock()
	in := ingest.Input{Source: "modbus:" + p.cfg.Device}
	regs, err := p.read()
	if err == nil {
		in.Readings, err = Decode(regs, p.cfg.Map, p.cfg.Device, at)
	}
	if err != nil {
		p.log.Warn("poll failed", "err", err)
		in.Rejected = []store.Rejected{{
			Source:   in.Source,
			Received: at.UTC(),
			Raw:      fmt.Sprintf("read holding registers %d..%d of unit %d at %s", p.first, int(p.first)+p.count-1, p.cfg.UnitID, p.cfg.URL),
			Reason:   err.Error(),
		}}
	} else {
		in.Raw = make([]string, len(p.cfg.Map))
		for i, r := range p.cfg.Map {
			in.Raw[i] = rawRegister(r, regs[r.Address-p.first:][:r.Words])
		}
	}
	res, err := p.sink.Ingest(ctx, in)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Error("ingest failed, poll dropped", "err", err)
		}
		return
	}
	p.log.Debug("polled", "accepted", res.Accepted, "quarantined", res.Quarantined, "rejected", len(in.Rejected))
}

// rawRegister is the input a reading came from, kept if the reading is quarantined.
func rawRegister(r Register, words []uint16) string {
	var b strings.Builder
	fmt.Fprintf(&b, "holding %d", r.Address)
	for _, w := range words {
		fmt.Fprintf(&b, " 0x%04x", w)
	}
	fmt.Fprintf(&b, " (%s)", r.Name)
	return b.String()
}

// read reads the whole span of the map, connecting first if need be; on an error the
// connection is dropped so that the next poll starts afresh.
func (p *poller) read() ([]uint16, error) {
	if p.client == nil {
		c, err := mb.NewClient(&mb.ClientConfiguration{
			URL:     p.cfg.URL,
			Timeout: p.cfg.Timeout,
			Logger:  slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
		})
		if err != nil {
			return nil, fmt.Errorf("modbus client: %w", err)
		}
		if err := c.Open(); err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
		if err := c.SetUnitId(p.cfg.UnitID); err != nil {
			c.Close()
			return nil, fmt.Errorf("unit id: %w", err)
		}
		p.client = c
		p.log.Info("connected")
	}
	regs := make([]uint16, p.count)
	for _, b := range p.blocks {
		got, err := p.client.ReadRegisters(b.start, uint16(b.count), mb.HOLDING_REGISTER)
		if err == nil && len(got) != b.count {
			err = fmt.Errorf("%d registers in the reply, asked for %d", len(got), b.count)
		}
		if err != nil {
			p.disconnect()
			return nil, fmt.Errorf("read holding registers %d..%d: %w", b.start, int(b.start)+b.count-1, err)
		}
		copy(regs[b.start-p.first:], got)
	}
	return regs, nil
}

func (p *poller) disconnect() {
	if p.client != nil {
		p.client.Close()
		p.client = nil
	}
}
