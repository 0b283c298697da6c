package modbus

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	mb "github.com/simonvetter/modbus"
)

// Defaults and bounds of BatteryConfig.
const (
	// DefaultRetries is the number of retries when BatteryConfig.Retries is 0.
	DefaultRetries = 2
	// NoRetries, as BatteryConfig.Retries, makes one attempt only.
	NoRetries = -1
	// MaxRetries bounds BatteryConfig.Retries.
	MaxRetries = 10
	// RetryBackoff is the wait before the first retry; it doubles for each further
	// retry, up to MaxRetryBackoff.
	RetryBackoff    = 100 * time.Millisecond
	MaxRetryBackoff = 5 * time.Second
)

// Statuses of a CommandResult.
const (
	StatusAccepted = "Accepted" // written, and read back equal
	StatusMismatch = "Mismatch" // written, but read back different
	StatusTimeout  = "Timeout"  // no answer in time, after every attempt
	StatusError    = "Error"    // an exception, a transport error, or a command that cannot be sent
)

// ErrClosed is the error of a BatteryClient call after Close.
var ErrClosed = errors.New("modbus: battery client closed")

// BatteryConfig says how to reach one BESS.
type BatteryConfig struct {
	URL    string // tcp://host:port
	UnitID uint8  // Modbus unit (slave) id, sent as is
	// Timeout bounds one request, and the connection set-up; 0 means DefaultTimeout.
	Timeout time.Duration
	// Retries is the number of attempts after the first on a timeout or a transport
	// error, waiting RetryBackoff, then twice as long each time; 0 means
	// DefaultRetries, NoRetries means none. Exceptions are never retried: the device
	// answered.
	Retries int
	// Log receives connection and command events; nil discards them.
	Log *slog.Logger
}

func (c *BatteryConfig) validate() error {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.Retries == 0:
		c.Retries = DefaultRetries
	case c.Retries == NoRetries:
		c.Retries = 0
	}
	hostPort, ok := strings.CutPrefix(c.URL, "tcp://")
	if !ok {
		return fmt.Errorf("modbus: battery: url %q: want tcp://host:port", c.URL)
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return fmt.Errorf("modbus: battery: url %q: want tcp://host:port: %w", c.URL, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); host == "" || err != nil || n == 0 {
		return fmt.Errorf("modbus: battery: url %q: want tcp://host:port with a host and a port from 1 to 65535", c.URL)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("modbus: battery: timeout %v: want a positive duration", c.Timeout)
	}
	if c.Retries < 0 || c.Retries > MaxRetries {
		return fmt.Errorf("modbus: battery: retries %d: want 0 (default %d) to %d, or NoRetries (%d)", c.Retries, DefaultRetries, MaxRetries, NoRetries)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// CommandResult is the outcome of a command to the battery, for the audit trail.
type CommandResult struct {
	Status string // StatusAccepted, StatusMismatch, StatusTimeout or StatusError
	// Detail says what went wrong: both sides of a mismatch, the error of a timeout or
	// an error. It is empty when the command was accepted.
	Detail string
	// Attempts is the number of write-and-read-back passes made, from 1 to 1+Retries;
	// 0 when the command was not sent at all.
	Attempts int
	// Written are the register words of the function-16 request, from address 10,
	// whether or not the device took them (Status says). Nil when nothing was sent.
	Written []uint16
	// ReadBackKW is the power setpoint read back from registers 10–11; 0 when nothing
	// was read back.
	ReadBackKW float64
}

// BatteryClient steers and reads one BESS with lifang's reference register map (see
// the package documentation) over one Modbus TCP connection. It dials on first use and,
// after a timeout or a transport error, drops the connection and dials again on the
// next attempt. Its methods are safe for concurrent use; they take turns on the
// connection.
type BatteryClient struct {
	cfg   BatteryConfig
	log   *slog.Logger
	mbLog *log.Logger // simonvetter/modbus's own messages, at debug level

	mu     sync.Mutex // held for a whole call: one request at a time on the wire
	conn   *mb.ModbusClient
	closed bool
}

// NewBatteryClient validates cfg and returns a client that has not dialled yet.
func NewBatteryClient(cfg BatteryConfig) (*BatteryClient, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := cfg.Log.With("adapter", "modbus", "url", cfg.URL, "unit_id", cfg.UnitID)
	return &BatteryClient{cfg: cfg, log: l, mbLog: slog.NewLogLogger(l.Handler(), slog.LevelDebug)}, nil
}

// Read reads every register of the battery (two requests: 0–8 and 10–17) and decodes
// them into a status at instant at.
func (b *BatteryClient) Read(ctx context.Context, at time.Time) (BatteryStatus, error) {
	regs, attempts, err := b.run(ctx, func(c *mb.ModbusClient) ([]uint16, error) {
		regs := make([]uint16, batteryWords)
		for _, r := range batteryReads {
			got, err := readHolding(c, r.start, r.count)
			if err != nil {
				return nil, err
			}
			copy(regs[r.start:], got)
		}
		return regs, nil
	})
	if err != nil {
		return BatteryStatus{}, fmt.Errorf("modbus: battery at %s: %w (%d attempts)", b.cfg.URL, err, attempts)
	}
	return DecodeBatteryStatus(regs, at)
}

// SetPower commands the battery to follow kw (+ charge, − discharge), rounded to the
// nearest W: one function-16 request writes registers 10–13 (setpoint, mode 1 and
// commTimeoutS, 0 turning the battery's watchdog off), then registers 10–13 are read
// back and compared. A timeout or a transport error in either request repeats both,
// which is safe: the setpoint is absolute. NaN, ±Inf or a setpoint past the int32 W
// register is StatusError without a request.
func (b *BatteryClient) SetPower(ctx context.Context, kw float64, commTimeoutS uint16) CommandResult {
	sp, err := setpointWords(kw)
	if err != nil {
		b.log.Warn("power setpoint not sent", "power_kw", kw, "err", err)
		return CommandResult{Status: StatusError, Detail: err.Error()}
	}
	return b.command(ctx, append(sp, ModeRemote, commTimeoutS))
}

// Standby commands the battery to idle: one function-16 request writes setpoint 0 and
// mode 0 (registers 10–12, leaving the comm timeout as it is), then registers 10–13
// are read back and compared.
func (b *BatteryClient) Standby(ctx context.Context) CommandResult {
	return b.command(ctx, []uint16{0, 0, ModeStandby})
}

// command writes words from address 10 and reads registers 10–13 back.
func (b *BatteryClient) command(ctx context.Context, words []uint16) CommandResult {
	res := CommandResult{Written: words}
	back, attempts, err := b.run(ctx, func(c *mb.ModbusClient) ([]uint16, error) {
		if err := c.WriteRegisters(addrPowerSetpoint, words); err != nil {
			return nil, fmt.Errorf("write holding registers %d..%d: %w", addrPowerSetpoint, addrPowerSetpoint+len(words)-1, err)
		}
		got, err := readHolding(c, addrPowerSetpoint, controlWords)
		if err != nil {
			return nil, fmt.Errorf("read back: %w", err)
		}
		return got, nil
	})
	res.Attempts = attempts
	l := b.log.With("written", describeControl(words), "attempts", attempts)
	switch {
	case err != nil:
		res.Status, res.Detail = StatusError, err.Error()
		if isTimeout(err) {
			res.Status = StatusTimeout
		}
		l.Warn("battery command failed", "status", res.Status, "err", err)
		return res
	case !slices.Equal(back[:len(words)], words):
		res.Status = StatusMismatch
		res.Detail = fmt.Sprintf("wrote %s; read back %s", describeControl(words), describeControl(back))
	default:
		res.Status = StatusAccepted
	}
	res.ReadBackKW = scale(int64(int32(uint32(back[0])<<16|uint32(back[1]))), 0.001)
	l.Info("battery command", "status", res.Status, "read_back_kw", res.ReadBackKW, "detail", res.Detail)
	return res
}

// Close drops the connection, once a call in progress is done; later calls fail with
// ErrClosed.
func (b *BatteryClient) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.conn == nil {
		return nil
	}
	err := b.conn.Close()
	b.conn = nil
	if err != nil {
		return fmt.Errorf("modbus: battery at %s: close: %w", b.cfg.URL, err)
	}
	return nil
}

// pass is one attempt at a call's requests on an open connection; it returns the
// register words the call wants.
type pass func(c *mb.ModbusClient) ([]uint16, error)

// run makes up to 1+Retries attempts at p, dialling when there is no connection and
// backing off between attempts, and returns the words of the first that succeeds or
// the error of the last. It stops early on an exception (the device answered), when
// ctx is done, or when the request could not be sent at all.
func (b *BatteryClient) run(ctx context.Context, p pass) (words []uint16, attempts int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, 0, ErrClosed
	}
	wait := RetryBackoff
	for {
		if err := ctx.Err(); err != nil {
			return nil, attempts, err
		}
		attempts++
		words, err = b.attempt(ctx, p)
		if err == nil || !retryable(err) || attempts > b.cfg.Retries || ctx.Err() != nil {
			return words, attempts, err
		}
		b.log.Debug("attempt failed, retrying", "attempt", attempts, "backoff", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, attempts, fmt.Errorf("%w, after: %w", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, MaxRetryBackoff)
	}
}

// attempt runs p once, dialling first if need be. After a timeout or a transport error
// the connection is dropped: its state is unknown (a late reply may still arrive).
func (b *BatteryClient) attempt(ctx context.Context, p pass) ([]uint16, error) {
	if b.conn == nil {
		c, err := b.dial(ctx)
		if err != nil {
			return nil, err
		}
		b.conn = c
	}
	c := b.conn
	words, abandoned, err := await(ctx, 0, func() ([]uint16, error) { return p(c) }, func() { c.Close() })
	switch {
	case abandoned: // c closes itself once p returns
		b.conn = nil
	case err != nil && !isException(err):
		c.Close()
		b.conn = nil
		b.log.Info("connection dropped", "err", err)
	}
	return words, err
}

// dial opens a connection, within Timeout (the library's own dial timeout is 5 s).
func (b *BatteryClient) dial(ctx context.Context) (*mb.ModbusClient, error) {
	c, err := mb.NewClient(&mb.ClientConfiguration{URL: b.cfg.URL, Timeout: b.cfg.Timeout, Logger: b.mbLog})
	if err != nil {
		return nil, fmt.Errorf("modbus client: %w", err)
	}
	_, _, err = await(ctx, b.cfg.Timeout, func() (struct{}, error) { return struct{}{}, c.Open() }, func() { c.Close() })
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := c.SetUnitId(b.cfg.UnitID); err != nil {
		c.Close()
		return nil, fmt.Errorf("unit id: %w", err)
	}
	b.log.Info("connected")
	return c, nil
}

// readHolding reads count holding registers from start, checking the count.
func readHolding(c *mb.ModbusClient, start uint16, count int) ([]uint16, error) {
	got, err := c.ReadRegisters(start, uint16(count), mb.HOLDING_REGISTER)
	if err == nil && len(got) != count {
		err = fmt.Errorf("%d registers in the reply, asked for %d", len(got), count)
	}
	if err != nil {
		return nil, fmt.Errorf("read holding registers %d..%d: %w", start, int(start)+count-1, err)
	}
	return got, nil
}

// timeoutError is a wait that await gave up.
type timeoutError time.Duration

func (e timeoutError) Error() string { return fmt.Sprintf("no answer within %v", time.Duration(e)) }
func (timeoutError) Timeout() bool   { return true }

// await runs f in its own goroutine and waits for it, for ctx, and for limit when it
// is positive (simonvetter/modbus calls take no context). When it stops waiting before
// f returns, it reports abandoned and cleanup runs once f has returned.
func await[T any](ctx context.Context, limit time.Duration, f func() (T, error), cleanup func()) (v T, abandoned bool, err error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	var mu sync.Mutex
	finished, gaveUp := false, false
	go func() {
		v, err := f()
		mu.Lock()
		finished = true
		g := gaveUp
		mu.Unlock()
		if g {
			cleanup()
			return
		}
		done <- result{v, err}
	}()
	var expired <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		expired = t.C
	}
	select {
	case r := <-done:
		return r.v, false, r.err
	case <-ctx.Done():
		err = ctx.Err()
	case <-expired:
		err = timeoutError(limit)
	}
	mu.Lock()
	gaveUp = true
	fin := finished
	mu.Unlock()
	if fin { // f returned meanwhile and is sending its result: take it
		r := <-done
		return r.v, false, r.err
	}
	return v, true, err
}

// exceptions are the answers of a device that understood the request and refused it.
var exceptions = []error{
	mb.ErrIllegalFunction, mb.ErrIllegalDataAddress, mb.ErrIllegalDataValue, mb.ErrServerDeviceFailure,
	mb.ErrAcknowledge, mb.ErrServerDeviceBusy, mb.ErrMemoryParityError, mb.ErrGWPathUnavailable,
	mb.ErrGWTargetFailedToRespond,
}

func isException(err error) bool {
	for _, e := range exceptions {
		if errors.Is(err, e) {
			return true
		}
	}
	// simonvetter/modbus has no sentinel for an exception code it does not know.
	return strings.Contains(err.Error(), "unknown exception code")
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, mb.ErrRequestTimedOut) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &t) && t.Timeout())
}

// retryable says whether another attempt may succeed where this one failed: after a
// timeout or a transport error, not after an exception, a request the library refused
// to send, or the end of the caller's context.
func retryable(err error) bool {
	return !isException(err) && !errors.Is(err, mb.ErrUnexpectedParameters) && !errors.Is(err, mb.ErrConfigurationError) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
