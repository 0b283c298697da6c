package bess

import (
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	mb "github.com/simonvetter/modbus"
)

// DefaultAddr is where a Server listens when Config.Addr is empty: a free loopback port.
const DefaultAddr = "127.0.0.1:0"

// MaxWriteLog is the number of writes a Server keeps for WriteLog, the latest.
const MaxWriteLog = 1024

// ErrClosed is returned by SetDown after Close.
var ErrClosed = errors.New("bess: server closed")

// Config configures one emulated BESS.
type Config struct {
	// Addr is the host:port to listen on; port 0 picks a free one (see Server.Addr),
	// and "" means DefaultAddr.
	Addr string
	// UnitID is the Modbus unit id the device answers; requests for another get
	// exception 0x0B (gateway target device failed to respond).
	UnitID uint8
	// Clock is the emulator's simulated clock, read at every request to time writes
	// and run the comm-timeout watchdog; nil means time.Now. It must not call the
	// Server.
	Clock func() time.Time
	// Log receives writes, exceptions and watchdog events; nil discards them.
	Log *slog.Logger
}

// State is what the emulator's battery model says after a step: the values Update
// writes to the read-only registers.
type State struct {
	ImportKWh, ExportKWh float64 // cumulative AC energy registers
	PowerKW              float64 // AC power, + import (charge), − export (discharge)
	SoCPct               float64 // state of charge, 0–100 %
	TemperatureC         float64
	GridVoltageV         float64
	EnergyKWh            float64 // energy stored
	MaxChargeKW          float64 // what the battery can take now
	MaxDischargeKW       float64 // what the battery can give now
}

// Stats count what a Server was asked. Requests the library rejects before the device
// sees them (malformed frames, more than 125 registers) are not counted.
type Stats struct {
	Requests   uint64 // requests for any unit id and function code
	Writes     uint64 // writes accepted (function 6 or 16)
	Exceptions uint64 // requests answered with an exception
}

// Write is one write the device accepted.
type Write struct {
	At     time.Time // by Config.Clock
	Addr   uint16    // of the first register written
	Words  []uint16  // the register values, from Addr
	Client string    // the client's host:port
}

// Server is one emulated BESS on Modbus TCP. Its methods are safe for concurrent use.
type Server struct {
	cfg   Config
	addr  string
	log   *slog.Logger
	mbLog *log.Logger

	life   sync.Mutex // guards mb, down and closed; never held with mu
	mb     *mb.ModbusServer
	down   bool
	closed bool

	mu       sync.Mutex // guards what follows
	bank     bank
	stats    Stats
	writeLog []Write
}

// Start listens on cfg.Addr and serves the device in standby, with every register 0
// until the first Update.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("bess: addr %q: want host:port: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg}
	// simonvetter/modbus listens itself and does not say on which port, so a free port
	// is found first; another process may take it in between, hence the retries.
	for try := 1; ; try++ {
		addr := cfg.Addr
		if port == "0" {
			if addr, err = freePort(host); err != nil {
				return nil, fmt.Errorf("bess: addr %q: %w", cfg.Addr, err)
			}
		}
		s.addr = addr
		s.log = cfg.Log.With("device", "bess", "addr", addr, "unit_id", cfg.UnitID)
		s.mbLog = slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
		err = s.listen()
		if err == nil {
			break
		}
		if port != "0" || try == 5 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("bess: %w", err)
		}
	}
	s.log.Info("listening")
	return s, nil
}

// freePort returns host:port with a port nothing listens on just now.
func freePort(host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// listen starts a fresh library server on s.addr (a stopped one is not restarted: a
// new one starts from clean connection state).
func (s *Server) listen() error {
	srv, err := mb.NewServer(&mb.ServerConfiguration{URL: "tcp://" + s.addr, Logger: s.mbLog}, handler{s})
	if err != nil {
		return fmt.Errorf("modbus server on %s: %w", s.addr, err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	s.mb = srv
	return nil
}

// Addr returns the host:port the server listens on, with the port it picked.
func (s *Server) Addr() string { return s.addr }

// Update sets registers 0–8 and 14–17 from st (see the package documentation).
func (s *Server) Update(st State) {
	s.mu.Lock()
	clamped := s.bank.update(st)
	s.mu.Unlock()
	if len(clamped) > 0 {
		s.log.Warn("state outside its registers, clamped", "values", clamped, "state", st)
	}
}

// Command returns the power setpoint in force at instant at, in kW (+ charge), the
// mode, and when the last write arrived (zero before the first). It is 0 and
// ModeStandby in standby, including when the comm-timeout watchdog fired: mode
// remote with a comm timeout of n > 0 s and at more than n s after the last write.
func (s *Server) Command(at time.Time) (kw float64, mode uint16, lastWrite time.Time) {
	s.mu.Lock()
	fired := s.bank.watchdog(at)
	kw, mode = s.bank.command()
	lastWrite = s.bank.lastWrite
	s.mu.Unlock()
	if fired {
		s.log.Info("comm timeout: standby", "at", at, "last_write", lastWrite)
	}
	return kw, mode, lastWrite
}

// SetDown injects a network fault: down closes the listener and every open connection,
// so that clients get "connection refused"; up listens again on the same address. The
// registers and the watchdog are unaffected. Setting the state it is in does nothing.
func (s *Server) SetDown(down bool) error {
	s.life.Lock()
	defer s.life.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case down == s.down:
		return nil
	case down:
		if err := s.mb.Stop(); err != nil {
			return fmt.Errorf("bess: down: %w", err)
		}
		s.log.Info("down")
	default:
		if err := s.listen(); err != nil {
			return fmt.Errorf("bess: up: %w", err)
		}
		s.log.Info("up")
	}
	s.down = down
	return nil
}

// Stats returns the counts of requests so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// WriteLog returns the writes the device accepted, oldest first, the latest
// MaxWriteLog of them.
func (s *Server) WriteLog() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.writeLog)
	for i := range out {
		out[i].Words = slices.Clone(out[i].Words)
	}
	return out
}

// Close stops the server and closes every connection.
func (s *Server) Close() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.down {
		return nil
	}
	if err := s.mb.Stop(); err != nil {
		return fmt.Errorf("bess: close: %w", err)
	}
	s.log.Info("closed")
	return nil
}

// handler serves the library's requests from the Server's registers. Its errors must
// be the library's sentinels, unwrapped: the library maps them to exception codes by
// equality.
type handler struct{ s *Server }

var _ mb.RequestHandler = handler{}

func (h handler) HandleHoldingRegisters(req *mb.HoldingRegistersRequest) ([]uint16, error) {
	s := h.s
	now := s.cfg.Clock()
	s.mu.Lock()
	s.stats.Requests++
	fired := s.bank.watchdog(now)
	var res []uint16
	var err error
	switch {
	case req.UnitId != s.cfg.UnitID:
		err = mb.ErrGWTargetFailedToRespond
	case req.IsWrite:
		if len(req.Args) != int(req.Quantity) {
			err = mb.ErrIllegalDataValue
		} else {
			err = s.bank.write(req.Addr, req.Args, now)
		}
	default:
		res, err = s.bank.read(req.Addr, req.Quantity)
	}
	if err != nil {
		s.stats.Exceptions++
	} else if req.IsWrite {
		s.stats.Writes++
		if len(s.writeLog) == MaxWriteLog {
			s.writeLog = slices.Delete(s.writeLog, 0, 1)
		}
		s.writeLog = append(s.writeLog, Write{At: now, Addr: req.Addr, Words: slices.Clone(req.Args), Client: req.ClientAddr})
	}
	s.mu.Unlock()

	if fired {
		s.log.Info("comm timeout: standby", "at", now)
	}
	attrs := []any{"client", req.ClientAddr, "request_unit_id", req.UnitId, "addr", req.Addr, "quantity", req.Quantity}
	switch {
	case err != nil:
		s.log.Debug("exception", append(attrs, "write", req.IsWrite, "err", err)...)
	case req.IsWrite:
		s.log.Info("write", append(attrs, "words", req.Args)...)
	}
	return res, err
}

func (h handler) HandleCoils(req *mb.CoilsRequest) ([]bool, error) { return nil, h.refuse(req.UnitId) }

func (h handler) HandleDiscreteInputs(req *mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, h.refuse(req.UnitId)
}

func (h handler) HandleInputRegisters(req *mb.InputRegistersRequest) ([]uint16, error) {
	return nil, h.refuse(req.UnitId)
}

// refuse answers a request for anything but holding registers: exception 0x01, or
// 0x0B for another unit id.
func (h handler) refuse(unitID uint8) error {
	h.s.mu.Lock()
	h.s.stats.Requests++
	h.s.stats.Exceptions++
	h.s.mu.Unlock()
	if unitID != h.s.cfg.UnitID {
		return mb.ErrGWTargetFailedToRespond
	}
	return mb.ErrIllegalFunction
}
