package bess

import (
	"errors"
	"io"
	"log"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	mb "github.com/simonvetter/modbus"
)

// fakeClock is an emulator's simulated clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func startTest(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// rawClient is a plain simonvetter client, not lifang's.
func rawClient(t *testing.T, addr string, unit uint8) *mb.ModbusClient {
	t.Helper()
	c, err := mb.NewClient(&mb.ClientConfiguration{URL: "tcp://" + addr, Timeout: 2 * time.Second, Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	c.SetUnitId(unit)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestServerRegisters(t *testing.T) {
	clock := &fakeClock{t: t0}
	s := startTest(t, Config{UnitID: 3, Clock: clock.Now})
	if host, port, err := net.SplitHostPort(s.Addr()); err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr %q", s.Addr())
	}
	s.Update(State{ImportKWh: 1234.56, ExportKWh: 7.89, PowerKW: -2.5, SoCPct: 75.5, TemperatureC: 25.3,
		GridVoltageV: 230.1, EnergyKWh: 186.42, MaxChargeKW: 250, MaxDischargeKW: 120.3})
	c := rawClient(t, s.Addr(), 3)

	low, err := c.ReadRegisters(0, 9, mb.HOLDING_REGISTER)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint16{1, 0xe240, 0, 789, 0xffff, 0xf63c, 755, 253, 2301}; !slices.Equal(low, want) {
		t.Errorf("registers 0–8: %v, want %v", low, want)
	}
	// A client writes −120.5 kW, mode 1, comm timeout 60 s in one function-16 request.
	w := int32(-120500)
	sp := uint32(w)
	cmd := []uint16{uint16(sp >> 16), uint16(sp), 1, 60}
	if err := c.WriteRegisters(10, cmd); err != nil {
		t.Fatal(err)
	}
	high, err := c.ReadRegisters(10, 8, mb.HOLDING_REGISTER)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(slices.Clone(cmd), 0, 18642, 2500, 1203); !slices.Equal(high, want) {
		t.Errorf("registers 10–17: %v, want %v", high, want)
	}
	if kw, mode, last := s.Command(clock.Now()); kw != -120.5 || mode != ModeRemote || !last.Equal(t0) {
		t.Errorf("Command: %v kW, mode %d, last write %v", kw, mode, last)
	}

	// Function 6 writes one register.
	clock.Advance(10 * time.Second)
	if err := c.WriteRegister(13, 0); err != nil {
		t.Fatal(err)
	}

	// Exceptions, over the wire.
	for _, tt := range []struct {
		name string
		do   func() error
		want error
	}{
		{"write SoC (fn 6)", func() error { return c.WriteRegister(6, 0) }, mb.ErrIllegalDataAddress},
		{"write energy stored (fn 16)", func() error { return c.WriteRegisters(14, []uint16{0, 1}) }, mb.ErrIllegalDataAddress},
		{"write 10–14", func() error { return c.WriteRegisters(10, []uint16{0, 0, 1, 0, 0}) }, mb.ErrIllegalDataAddress},
		{"write one setpoint word", func() error { return c.WriteRegister(11, 7) }, mb.ErrIllegalDataAddress},
		{"write mode 2", func() error { return c.WriteRegister(12, 2) }, mb.ErrIllegalDataValue},
		{"read 9", func() error { _, err := c.ReadRegisters(9, 1, mb.HOLDING_REGISTER); return err }, mb.ErrIllegalDataAddress},
		{"read 0–17", func() error { _, err := c.ReadRegisters(0, 18, mb.HOLDING_REGISTER); return err }, mb.ErrIllegalDataAddress},
		{"read 18", func() error { _, err := c.ReadRegisters(18, 1, mb.HOLDING_REGISTER); return err }, mb.ErrIllegalDataAddress},
		{"read input registers", func() error { _, err := c.ReadRegisters(0, 1, mb.INPUT_REGISTER); return err }, mb.ErrIllegalFunction},
		{"read coils", func() error { _, err := c.ReadCoils(0, 1); return err }, mb.ErrIllegalFunction},
	} {
		if err := tt.do(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}

	// Nothing refused was written.
	high, err = c.ReadRegisters(10, 4, mb.HOLDING_REGISTER)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint16{cmd[0], cmd[1], 1, 0}; !slices.Equal(high, want) {
		t.Errorf("registers 10–13 after refused writes: %v, want %v", high, want)
	}
	if got, want := s.Stats(), (Stats{Requests: 15, Writes: 2, Exceptions: 10}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	log := s.WriteLog()
	if len(log) != 2 || log[0].Addr != 10 || !slices.Equal(log[0].Words, cmd) || !log[0].At.Equal(t0) ||
		log[1].Addr != 13 || !slices.Equal(log[1].Words, []uint16{0}) || !log[1].At.Equal(t0.Add(10*time.Second)) || log[1].Client == "" {
		t.Errorf("write log %+v", log)
	}
}

// Another unit id gets exception 0x0B at once, for any function.
func TestServerOtherUnitID(t *testing.T) {
	s := startTest(t, Config{Addr: "127.0.0.1:0", UnitID: 1})
	c := rawClient(t, s.Addr(), 2)
	start := time.Now()
	if _, err := c.ReadRegisters(0, 9, mb.HOLDING_REGISTER); !errors.Is(err, mb.ErrGWTargetFailedToRespond) {
		t.Errorf("read: %v", err)
	}
	if err := c.WriteRegisters(10, []uint16{0, 1000, 1, 0}); !errors.Is(err, mb.ErrGWTargetFailedToRespond) {
		t.Errorf("write: %v", err)
	}
	if _, err := c.ReadCoils(0, 1); !errors.Is(err, mb.ErrGWTargetFailedToRespond) {
		t.Errorf("coils: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("answers took %v", d)
	}
	if kw, mode, last := s.Command(time.Now()); kw != 0 || mode != ModeStandby || !last.IsZero() {
		t.Errorf("a write for another unit took effect: %v kW, mode %d, %v", kw, mode, last)
	}
}

// Every request runs the watchdog on the emulator's clock: a read after the comm
// timeout sees mode 0.
func TestServerWatchdogOnRead(t *testing.T) {
	clock := &fakeClock{t: t0}
	s := startTest(t, Config{UnitID: 1, Clock: clock.Now})
	c := rawClient(t, s.Addr(), 1)
	if err := c.WriteRegisters(10, []uint16{0, 5000, 1, 30}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(31 * time.Second)
	got, err := c.ReadRegisters(10, 4, mb.HOLDING_REGISTER)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint16{0, 5000, 0, 30}; !slices.Equal(got, want) {
		t.Errorf("after the comm timeout: %v, want %v", got, want)
	}
	// A write of the setpoint alone does not re-enable remote mode.
	if err := c.WriteRegisters(10, []uint16{0, 6000}); err != nil {
		t.Fatal(err)
	}
	if kw, mode, _ := s.Command(clock.Now()); kw != 0 || mode != ModeStandby {
		t.Errorf("%v kW, mode %d", kw, mode)
	}
}

func TestServerSetDown(t *testing.T) {
	s := startTest(t, Config{UnitID: 1})
	c := rawClient(t, s.Addr(), 1)
	if err := c.WriteRegisters(10, []uint16{0, 1000, 1, 0}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDown(true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDown(true); err != nil {
		t.Fatalf("second SetDown(true): %v", err)
	}
	// The open connection is closed, and a new one is refused.
	if _, err := c.ReadRegisters(0, 1, mb.HOLDING_REGISTER); err == nil {
		t.Error("read on a connection to a server that is down")
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial while down: %v, want connection refused", err)
	}
	if err := s.SetDown(false); err != nil {
		t.Fatal(err)
	}
	// Back on the same address, with the registers it had.
	c = rawClient(t, s.Addr(), 1)
	got, err := c.ReadRegisters(10, 4, mb.HOLDING_REGISTER)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint16{0, 1000, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("after down and up: %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDown(false); !errors.Is(err, ErrClosed) {
		t.Errorf("SetDown after Close: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	s := startTest(t, Config{})
	for _, addr := range []string{"nonsense", "127.0.0.1", s.Addr()} {
		if s2, err := Start(Config{Addr: addr}); err == nil {
			s2.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
}

// Many clients at once, while the emulator updates and reads the command.
func TestServerConcurrent(t *testing.T) {
	s := startTest(t, Config{UnitID: 1})
	var wg sync.WaitGroup
	for i := range 4 {
		c := rawClient(t, s.Addr(), 1)
		wg.Go(func() {
			for j := range 50 {
				if err := c.WriteRegisters(10, []uint16{0, uint16(i*100 + j), 1, 0}); err != nil {
					t.Error(err)
					return
				}
				if _, err := c.ReadRegisters(0, 9, mb.HOLDING_REGISTER); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for j := range 200 {
			s.Update(State{SoCPct: float64(j % 100), EnergyKWh: float64(j)})
			s.Command(time.Now())
			s.Stats()
			s.WriteLog()
		}
	})
	wg.Wait()
	if st := s.Stats(); st.Writes != 200 || st.Requests != 400 || st.Exceptions != 0 {
		t.Errorf("stats %+v", st)
	}
}
