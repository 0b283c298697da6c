package evse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
)

// Defaults of Config fields left zero.
const (
	DefaultVoltageV    = 230
	DefaultCallTimeout = 10 * time.Second
	DefaultBackoff     = 200 * time.Millisecond
	DefaultVendor      = "lifang"
	DefaultModel       = "sitesim-evse"
)

// maxBackoffFactor bounds the reconnection backoff at this multiple of Config.Backoff.
const maxBackoffFactor = 32

// Errors callers branch on; returned wrapped.
var (
	ErrOffline       = errors.New("not connected to the central system")
	ErrNoTransaction = errors.New("no transaction on the connector")
	ErrBusy          = errors.New("connector busy")
	ErrNotPlugged    = errors.New("no EV plugged in")
	ErrUnavailable   = errors.New("connector unavailable")
	ErrNotAuthorized = errors.New("idTag not accepted")
	ErrClosed        = errors.New("charge point closed")
)

// Config configures an emulated charge point.
type Config struct {
	// URL is the central system, e.g. ws://127.0.0.1:8887; the charge point id is
	// appended as the last path element.
	URL string
	// ID is the charge point id.
	ID string
	// Connectors is the number of connectors, ≥ 1.
	Connectors int
	// MaxCurrentA is the charger's maximum current per phase, in A (> 0).
	MaxCurrentA float64
	// Phases is 1 or 3.
	Phases int
	// VoltageV is the phase voltage in V; 0 means DefaultVoltageV.
	VoltageV float64
	// Clock is the emulator's (simulated) clock: every timestamp the charger sends
	// comes from it and profiles are evaluated at it; nil means time.Now. It must not
	// call the ChargePoint.
	Clock func() time.Time
	// RejectProfiles is a fault: every SetChargingProfile is answered Rejected.
	RejectProfiles bool
	// DefaultLimitW is what the charger applies, in W, when no TxProfile or
	// TxDefaultProfile is in force; 0 means its maximum.
	DefaultLimitW float64
	// Log receives the emulator's logs; nil discards them.
	Log *slog.Logger

	// CallTimeout bounds each request to the central system and the websocket
	// handshake; 0 means DefaultCallTimeout.
	CallTimeout time.Duration
	// Backoff is the first wait before redialling, doubled after each failure up to
	// 32 times as long; 0 means DefaultBackoff.
	Backoff time.Duration
	// Vendor and Model go in the BootNotification; empty means DefaultVendor and
	// DefaultModel.
	Vendor, Model string
}

func (cfg *Config) defaults() {
	if cfg.VoltageV == 0 {
		cfg.VoltageV = DefaultVoltageV
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Vendor == "" {
		cfg.Vendor = DefaultVendor
	}
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
}

// Validate says what is wrong with a configuration, after defaults.
func (cfg *Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(cfg.URL, "ws://") && !strings.HasPrefix(cfg.URL, "wss://") {
		errs = append(errs, fmt.Errorf("url %q: want ws://host:port[/path] or wss://…", cfg.URL))
	}
	if cfg.ID == "" || strings.ContainsAny(cfg.ID, "/?# ") {
		errs = append(errs, fmt.Errorf("id %q: want a non-empty id without '/', '?', '#' or spaces", cfg.ID))
	}
	if cfg.Connectors < 1 {
		errs = append(errs, fmt.Errorf("connectors %d: want ≥ 1", cfg.Connectors))
	}
	if !(cfg.MaxCurrentA > 0) || math.IsInf(cfg.MaxCurrentA, 0) {
		errs = append(errs, fmt.Errorf("max_current_a %v: want a finite number > 0", cfg.MaxCurrentA))
	}
	if cfg.Phases != 1 && cfg.Phases != 3 {
		errs = append(errs, fmt.Errorf("phases %d: want 1 or 3", cfg.Phases))
	}
	if !(cfg.VoltageV > 0) || math.IsInf(cfg.VoltageV, 0) {
		errs = append(errs, fmt.Errorf("voltage_v %v: want a finite number > 0", cfg.VoltageV))
	}
	if math.IsNaN(cfg.DefaultLimitW) || math.IsInf(cfg.DefaultLimitW, 0) || cfg.DefaultLimitW < 0 {
		errs = append(errs, fmt.Errorf("default_limit_w %v: want a finite number ≥ 0", cfg.DefaultLimitW))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("evse config: %w", err)
	}
	return nil
}

// ChargePoint is an emulated OCPP 1.6J charge point.
type ChargePoint struct {
	cfg  Config
	log  *slog.Logger
	elec electrical

	mu       sync.Mutex
	conns    []connState // index = connector id; 0 unused
	profiles []installed
	settings map[string]string // configuration keys (handler.go)
	stats    Stats
	sess     *session // nil while not connected (and booted)
	closing  bool

	ctx    context.Context // ended by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// connState is one connector.
type connState struct {
	status      core.ChargePointStatus
	plugged     bool // an EV is plugged in
	busy        bool // Plug or Unplug in progress
	inoperative bool // ChangeAvailability Inoperative
	tx          int  // open transaction, 0 if none
	txStart     time.Time
	idTag       string
	registerWh  float64 // Energy.Active.Import.Register, Wh
}

// Stats is what the charge point did so far.
type Stats struct {
	ProfilesReceived int // SetChargingProfile requests
	ProfilesAccepted int
	ProfilesRejected int
	ProfilesCleared  int // profiles removed by ClearChargingProfile
	// LastLimit is the first period's limit of the last accepted profile, in
	// LastLimitUnit ("W" or "A"; "" before any).
	LastLimit     float64
	LastLimitUnit string
	// MeterWh is the energy register of each connector (key: connector id), in Wh.
	MeterWh   map[int]float64
	Boots     int  // accepted BootNotifications: 1 + reconnections and resets
	Connected bool // connected and booted now
}

// Dial connects to the central system, retrying with backoff until ctx ends, sends a
// BootNotification and a StatusNotification Available for each connector. From then
// on the charge point reconnects by itself when the connection drops, re-sending its
// boot and statuses, until Close.
func Dial(ctx context.Context, cfg Config) (*ChargePoint, error) {
	c, err := newChargePoint(cfg)
	if err != nil {
		return nil, err
	}
	s, err := c.dialLoop(ctx)
	if err != nil {
		c.cancel()
		return nil, err
	}
	c.wg.Add(2)
	go c.supervise(s)
	go c.heartbeats()
	return c, nil
}

// newChargePoint is a charge point not connected yet.
func newChargePoint(cfg Config) (*ChargePoint, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &ChargePoint{
		cfg: cfg,
		log: cfg.Log.With("charge_point", cfg.ID),
		elec: electrical{
			phases:   cfg.Phases,
			voltageV: cfg.VoltageV,
			maxW:     cfg.MaxCurrentA * float64(cfg.Phases) * cfg.VoltageV,
			defaultW: cfg.DefaultLimitW,
		},
		conns:    make([]connState, cfg.Connectors+1),
		settings: defaultSettings(cfg),
		stats:    Stats{MeterWh: map[int]float64{}},
	}
	for i := 1; i <= cfg.Connectors; i++ {
		c.conns[i].status = core.ChargePointStatusAvailable
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Close disconnects and stops reconnecting. Open transactions stay open, as they would
// on a charger that lost power.
func (c *ChargePoint) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
		c.cancel()
		c.wg.Wait()
		c.log.Info("closed")
	})
	return nil
}

// async runs f on a goroutine that Close waits for, unless closing.
func (c *ChargePoint) async(f func(ctx context.Context)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asyncLocked(f)
}

// asyncLocked is async with c.mu held.
func (c *ChargePoint) asyncLocked(f func(ctx context.Context)) {
	if c.closing {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f(c.ctx)
	}()
}

// Stats returns a copy of the counters.
func (c *ChargePoint) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.MeterWh = make(map[int]float64, c.cfg.Connectors)
	for i := 1; i <= c.cfg.Connectors; i++ {
		s.MeterWh[i] = c.conns[i].registerWh
	}
	s.Connected = c.sess != nil
	return s
}

// LimitW is the limit in force on connector at Clock(), in W: the TxProfile of the
// open transaction over the connector's TxDefaultProfile over connector 0's, the
// highest stackLevel winning within a purpose; capped by the ChargePointMaxProfile and
// by MaxCurrentA·Phases·VoltageV; DefaultLimitW (or the maximum) when none applies.
// Limits in A are converted with the phases (numberPhases, at most Phases) × VoltageV.
// 0 for a connector the charger does not have.
func (c *ChargePoint) LimitW(connector int) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if connector < 1 || connector > c.cfg.Connectors {
		return 0
	}
	return c.limitWLocked(connector, c.cfg.Clock())
}

func (c *ChargePoint) limitWLocked(connector int, now time.Time) float64 {
	st := &c.conns[connector]
	anchor := now
	if st.tx != 0 {
		anchor = st.txStart
	}
	return c.elec.composite(c.profiles, connector, now, st.tx, anchor)
}

func (c *ChargePoint) checkConnector(connector int) error {
	if connector < 1 || connector > c.cfg.Connectors {
		return fmt.Errorf("evse %s: connector %d: the charger has 1–%d", c.cfg.ID, connector, c.cfg.Connectors)
	}
	return nil
}
