package modbus

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/sitesim/bess"
)

// simClock is the emulator's simulated clock.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var batteryT0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func startBESS(t *testing.T, unit uint8, clock func() time.Time) *bess.Server {
	t.Helper()
	s, err := bess.Start(bess.Config{UnitID: unit, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newBatteryClient(t *testing.T, cfg BatteryConfig) *BatteryClient {
	t.Helper()
	b, err := NewBatteryClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestBatteryClientAgainstEmulator(t *testing.T) {
	clock := &simClock{t: batteryT0}
	dev := startBESS(t, 1, clock.Now)
	dev.Update(bess.State{ImportKWh: 1234.56, ExportKWh: 7.89, PowerKW: -2.5, SoCPct: 75.5, TemperatureC: 25.3,
		GridVoltageV: 230.1, EnergyKWh: 186.42, MaxChargeKW: 250, MaxDischargeKW: 120.3})
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + dev.Addr(), UnitID: 1})
	ctx := context.Background()

	// Discharge at 120.5 kW.
	res := b.SetPower(ctx, -120.5, 60)
	want := CommandResult{Status: StatusAccepted, Attempts: 1, Written: []uint16{0xfffe, 0x294c, 1, 60}, ReadBackKW: -120.5}
	if !equalResult(res, want) {
		t.Fatalf("SetPower:\n got %+v\nwant %+v", res, want)
	}
	if kw, mode, last := dev.Command(clock.Now()); kw != -120.5 || mode != bess.ModeRemote || !last.Equal(batteryT0) {
		t.Errorf("device: %v kW, mode %d, last write %v", kw, mode, last)
	}
	// The audit trail's words are what the device got, in one function-16 request.
	if log := dev.WriteLog(); len(log) != 1 || log[0].Addr != 10 || !slices.Equal(log[0].Words, res.Written) {
		t.Errorf("device write log %+v, client wrote %v", log, res.Written)
	}

	at := batteryT0.Add(time.Second)
	st, err := b.Read(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	wantSt := BatteryStatus{At: at, ImportKWh: 1234.56, ExportKWh: 7.89, PowerKW: -2.5, SoCPct: 75.5, TemperatureC: 25.3, GridVoltageV: 230.1,
		EnergyKWh: 186.42, MaxChargeKW: 250, MaxDischargeKW: 120.3, SetpointKW: -120.5, Mode: ModeRemote, CommTimeoutS: 60}
	if st != wantSt {
		t.Errorf("Read:\n got %+v\nwant %+v", st, wantSt)
	}

	// Standby: setpoint 0, mode 0, comm timeout left as it was.
	res = b.Standby(ctx)
	if want := (CommandResult{Status: StatusAccepted, Attempts: 1, Written: []uint16{0, 0, 0}}); !equalResult(res, want) {
		t.Fatalf("Standby:\n got %+v\nwant %+v", res, want)
	}
	if kw, mode, _ := dev.Command(clock.Now()); kw != 0 || mode != bess.ModeStandby {
		t.Errorf("device after Standby: %v kW, mode %d", kw, mode)
	}
	if st, err := b.Read(ctx, at); err != nil || st.Mode != ModeStandby || st.SetpointKW != 0 || st.CommTimeoutS != 60 {
		t.Errorf("Read after Standby: %+v, %v", st, err)
	}

	// Setpoints go to the nearest W.
	for _, tt := range []struct{ kw, device float64 }{{0.0004, 0}, {33.3336, 33.334}, {-0.0015, -0.002}, {250, 250}} {
		if res := b.SetPower(ctx, tt.kw, 0); res.Status != StatusAccepted || res.ReadBackKW != tt.device {
			t.Errorf("SetPower(%v): %+v", tt.kw, res)
		}
		if kw, _, _ := dev.Command(clock.Now()); kw != tt.device {
			t.Errorf("SetPower(%v): device follows %v kW, want %v", tt.kw, kw, tt.device)
		}
	}
}

// The battery's own watchdog: 61 s on the emulator's clock without a write is standby.
func TestBatteryClientCommTimeout(t *testing.T) {
	clock := &simClock{t: batteryT0}
	dev := startBESS(t, 1, clock.Now)
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + dev.Addr(), UnitID: 1})
	ctx := context.Background()
	if res := b.SetPower(ctx, 80, 60); res.Status != StatusAccepted {
		t.Fatalf("SetPower: %+v", res)
	}
	clock.Advance(60 * time.Second)
	if kw, mode, _ := dev.Command(clock.Now()); kw != 80 || mode != bess.ModeRemote {
		t.Errorf("after 60 s: %v kW, mode %d", kw, mode)
	}
	clock.Advance(time.Second)
	if kw, mode, last := dev.Command(clock.Now()); kw != 0 || mode != bess.ModeStandby || !last.Equal(batteryT0) {
		t.Errorf("after 61 s: %v kW, mode %d, last write %v", kw, mode, last)
	}
	if st, err := b.Read(ctx, clock.Now()); err != nil || st.Mode != ModeStandby || st.SetpointKW != 80 {
		t.Errorf("Read after the watchdog: %+v, %v", st, err)
	}
	// A fresh command re-arms the battery.
	if res := b.SetPower(ctx, 80, 60); res.Status != StatusAccepted {
		t.Fatalf("SetPower again: %+v", res)
	}
	clock.Advance(59 * time.Second)
	if kw, mode, _ := dev.Command(clock.Now()); kw != 80 || mode != bess.ModeRemote {
		t.Errorf("re-armed: %v kW, mode %d", kw, mode)
	}
}

// The device going away: every attempt fails fast, and the client reconnects once it
// is back.
func TestBatteryClientReconnect(t *testing.T) {
	dev := startBESS(t, 1, nil)
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + dev.Addr(), UnitID: 1, Timeout: 500 * time.Millisecond})
	ctx := context.Background()
	if res := b.SetPower(ctx, 10, 0); res.Status != StatusAccepted {
		t.Fatalf("SetPower: %+v", res)
	}
	if err := dev.SetDown(true); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := b.SetPower(ctx, 20, 0)
	elapsed := time.Since(start)
	if (res.Status != StatusError && res.Status != StatusTimeout) || res.Attempts != 1+DefaultRetries || res.Detail == "" ||
		!slices.Equal(res.Written, []uint16{0, 20000, 1, 0}) {
		t.Errorf("SetPower while down: %+v", res)
	}
	// Backoff 100 + 200 ms; refused connections are immediate.
	if elapsed < 300*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("SetPower while down took %v", elapsed)
	}
	t.Logf("while down: %s after %v: %s", res.Status, elapsed, res.Detail)
	if _, err := b.Read(ctx, time.Now()); err == nil || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("Read while down: %v", err)
	}

	if err := dev.SetDown(false); err != nil {
		t.Fatal(err)
	}
	if res := b.SetPower(ctx, 30, 0); res.Status != StatusAccepted || res.Attempts != 1 {
		t.Errorf("SetPower after the device came back: %+v", res)
	}
	if kw, _, _ := dev.Command(time.Now()); kw != 30 {
		t.Errorf("device follows %v kW", kw)
	}
}

// A wrong unit id is an exception (0x0B from the emulator): reported at once, not retried.
func TestBatteryClientWrongUnitID(t *testing.T) {
	dev := startBESS(t, 1, nil)
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + dev.Addr(), UnitID: 2})
	ctx := context.Background()
	res := b.SetPower(ctx, 10, 0)
	if res.Status != StatusError || res.Attempts != 1 || !strings.Contains(res.Detail, "gateway target device failed to respond") {
		t.Errorf("SetPower: %+v", res)
	}
	if _, err := b.Read(ctx, time.Now()); !errors.Is(err, mb.ErrGWTargetFailedToRespond) {
		t.Errorf("Read: %v", err)
	}
	if st := dev.Stats(); st.Requests != 2 || st.Exceptions != 2 || st.Writes != 0 {
		t.Errorf("device stats %+v", st)
	}
}

// A setpoint that cannot be encoded is not sent.
func TestBatteryClientBadSetpoint(t *testing.T) {
	dev := startBESS(t, 1, nil)
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + dev.Addr(), UnitID: 1})
	for _, kw := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 3e6} {
		res := b.SetPower(context.Background(), kw, 0)
		if res.Status != StatusError || res.Attempts != 0 || res.Written != nil || res.Detail == "" {
			t.Errorf("SetPower(%v): %+v", kw, res)
		}
	}
	if st := dev.Stats(); st.Requests != 0 {
		t.Errorf("device got %d requests", st.Requests)
	}
}

// clampingDevice is a BESS that limits the setpoint to ±50 kW, as real ones do.
type clampingDevice struct {
	mu   sync.Mutex
	regs [batteryWords]uint16
}

func (d *clampingDevice) HandleHoldingRegisters(req *mb.HoldingRegistersRequest) ([]uint16, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	end := int(req.Addr) + int(req.Quantity)
	if end > batteryWords {
		return nil, mb.ErrIllegalDataAddress
	}
	if !req.IsWrite {
		return slices.Clone(d.regs[req.Addr:end]), nil
	}
	copy(d.regs[req.Addr:end], req.Args)
	w := max(-50000, min(50000, int32(uint32(d.regs[10])<<16|uint32(d.regs[11]))))
	d.regs[10], d.regs[11] = uint16(uint32(w)>>16), uint16(uint32(w))
	return nil, nil
}

func (d *clampingDevice) HandleCoils(*mb.CoilsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}
func (d *clampingDevice) HandleDiscreteInputs(*mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}
func (d *clampingDevice) HandleInputRegisters(*mb.InputRegistersRequest) ([]uint16, error) {
	return nil, mb.ErrIllegalFunction
}

func TestBatteryClientMismatch(t *testing.T) {
	addr := freePort(t)
	srv, err := mb.NewServer(&mb.ServerConfiguration{URL: "tcp://" + addr, Logger: slog.NewLogLogger(slog.DiscardHandler, 0)}, &clampingDevice{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + addr, UnitID: 1})
	res := b.SetPower(context.Background(), -120.5, 60)
	want := CommandResult{Status: StatusMismatch, Attempts: 1, Written: []uint16{0xfffe, 0x294c, 1, 60}, ReadBackKW: -50,
		Detail: "wrote setpoint -120500 W, mode 1, comm timeout 60 s; read back setpoint -50000 W, mode 1, comm timeout 60 s"}
	if !equalResult(res, want) {
		t.Errorf("\n got %+v\nwant %+v", res, want)
	}
	if res := b.SetPower(context.Background(), 49.9, 60); res.Status != StatusAccepted {
		t.Errorf("within the clamp: %+v", res)
	}
}

// scriptedDevice answers each Modbus TCP request with reply(request frame); nil means
// no answer at all. It stands for devices that misbehave.
func scriptedDevice(t *testing.T, reply func(req []byte) []byte) (addr string, requests func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				for {
					hdr := make([]byte, 7)
					if _, err := io.ReadFull(c, hdr); err != nil {
						return
					}
					body := make([]byte, int(binary.BigEndian.Uint16(hdr[4:]))-1)
					if _, err := io.ReadFull(c, body); err != nil {
						return
					}
					mu.Lock()
					n++
					mu.Unlock()
					if out := reply(append(hdr, body...)); out != nil {
						c.Write(out)
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// frame is a Modbus TCP reply to req with pdu (function code first).
func frame(req []byte, pdu ...byte) []byte {
	out := slices.Clone(req[:7])
	binary.BigEndian.PutUint16(out[4:], uint16(len(pdu)+1))
	return append(out, pdu...)
}

func TestBatteryClientMisbehavingDevices(t *testing.T) {
	tests := []struct {
		name     string
		reply    func(req []byte) []byte
		status   string
		attempts int
		detail   string
	}{
		{"silent", func([]byte) []byte { return nil }, StatusTimeout, 2, "request timed out"},
		{"unknown exception code", func(req []byte) []byte { return frame(req, req[7]|0x80, 0x42) }, StatusError, 1, "unknown exception code"},
		{"write echo of another quantity", func(req []byte) []byte { return frame(req, 0x10, 0, 10, 0, 9) }, StatusError, 2, "protocol error"},
		{"a device that acknowledges writes and forgets them", func(req []byte) []byte {
			if req[7] == 0x10 {
				return frame(req, req[7:12]...)
			}
			return frame(req, 0x03, 8, 0, 0, 0, 0, 0, 0, 0, 0) // four registers of 0
		}, StatusMismatch, 1, "read back setpoint 0 W, mode 0, comm timeout 0 s"},
		{"read reply with a bad byte count", func(req []byte) []byte {
			if req[7] == 0x10 {
				return frame(req, req[7:12]...)
			}
			return frame(req, 0x03, 200, 0, 0, 0, 0, 0, 0, 0, 0)
		}, StatusError, 2, "read back"},
		{"reply from another unit", func(req []byte) []byte {
			out := frame(req, req[7:12]...)
			out[6]++
			return out
		}, StatusError, 2, "bad unit id"},
		{"reply with another function code", func(req []byte) []byte { return frame(req, 0x06, 0, 10, 0, 0) }, StatusError, 2, "protocol error"},
		{"garbage MBAP length", func(req []byte) []byte { return []byte{req[0], req[1], 0, 0, 0xff, 0xff, 1, 0x10} }, StatusError, 2, "protocol error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, requests := scriptedDevice(t, tt.reply)
			b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + addr, UnitID: 1, Timeout: 200 * time.Millisecond, Retries: 1})
			start := time.Now()
			res := b.SetPower(context.Background(), 1, 0)
			if res.Status != tt.status || res.Attempts != tt.attempts || !strings.Contains(res.Detail, tt.detail) {
				t.Errorf("%+v, want %s after %d attempts with %q", res, tt.status, tt.attempts, tt.detail)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if st, err := b.Read(context.Background(), time.Now()); err == nil {
				t.Errorf("Read succeeded: %+v", st)
			}
			t.Logf("%d requests: %s", requests(), res.Detail)
		})
	}
}

// The caller's context bounds a call even when the device never answers.
func TestBatteryClientContext(t *testing.T) {
	addr, _ := scriptedDevice(t, func([]byte) []byte { return nil })
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + addr, UnitID: 1, Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := b.SetPower(ctx, 1, 0)
	if d := time.Since(start); d > time.Second {
		t.Errorf("SetPower took %v with a 150 ms context", d)
	}
	if res.Status != StatusTimeout || res.Attempts != 1 || !strings.Contains(res.Detail, "deadline exceeded") {
		t.Errorf("%+v", res)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := b.Read(ctx, time.Now()); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: %v", err)
	}
	if res := b.Standby(ctx); res.Status != StatusError || res.Attempts != 0 {
		t.Errorf("Standby with a cancelled context: %+v", res)
	}
}

func TestBatteryClientClose(t *testing.T) {
	dev := startBESS(t, 1, nil)
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + dev.Addr(), UnitID: 1})
	if _, err := b.Read(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Read(context.Background(), time.Now()); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if res := b.SetPower(context.Background(), 1, 0); res.Status != StatusError || res.Attempts != 0 {
		t.Errorf("SetPower after Close: %+v", res)
	}
}

// Callers share one client; the race detector watches.
func TestBatteryClientConcurrent(t *testing.T) {
	dev := startBESS(t, 1, nil)
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + dev.Addr(), UnitID: 1})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				if res := b.SetPower(context.Background(), float64(i*100+j), 30); res.Status != StatusAccepted {
					t.Errorf("%+v", res)
				}
				if _, err := b.Read(context.Background(), time.Now()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for j := range 100 {
			dev.Update(bess.State{SoCPct: float64(j % 100)})
		}
	})
	wg.Wait()
}

func TestBatteryConfig(t *testing.T) {
	b, err := NewBatteryClient(BatteryConfig{URL: "tcp://bess1.site:502"})
	if err != nil {
		t.Fatal(err)
	}
	if b.cfg.Timeout != DefaultTimeout || b.cfg.Retries != DefaultRetries {
		t.Errorf("defaults: %+v", b.cfg)
	}
	if b, err := NewBatteryClient(BatteryConfig{URL: "tcp://[::1]:502", Retries: NoRetries}); err != nil || b.cfg.Retries != 0 {
		t.Errorf("NoRetries: %v, %+v", err, b)
	}
	for _, cfg := range []BatteryConfig{
		{},
		{URL: "bess1:502"},
		{URL: "rtu:///dev/ttyUSB0"},
		{URL: "tcp://"},
		{URL: "tcp://bess1"},
		{URL: "tcp://:502"},
		{URL: "tcp://bess1:0"},
		{URL: "tcp://bess1:65536"},
		{URL: "tcp://bess1:modbus"},
		{URL: "tcp://bess1:502", Timeout: -time.Second},
		{URL: "tcp://bess1:502", Retries: MaxRetries + 1},
		{URL: "tcp://bess1:502", Retries: -2},
	} {
		if _, err := NewBatteryClient(cfg); err == nil || !strings.HasPrefix(err.Error(), "modbus: battery: ") {
			t.Errorf("NewBatteryClient(%+v): %v", cfg, err)
		}
	}
}

// The poller reads BatteryMap from the emulator in three requests.
func TestPollBatteryMap(t *testing.T) {
	dev := startBESS(t, 1, nil)
	dev.Update(bess.State{ImportKWh: 1234.56, ExportKWh: 7.89, PowerKW: -2.5, SoCPct: 75.5, TemperatureC: -5.2,
		GridVoltageV: 230.1, EnergyKWh: 186.42, MaxChargeKW: 250, MaxDischargeKW: 120.3})
	b := newBatteryClient(t, BatteryConfig{URL: "tcp://" + dev.Addr(), UnitID: 1})
	if res := b.SetPower(context.Background(), -120.5, 0); res.Status != StatusAccepted {
		t.Fatal(res)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan ingest.Input, 1)
	sink := sinkFunc(func(ctx context.Context, in ingest.Input) (ingest.Result, error) {
		select {
		case got <- in:
		default:
		}
		cancel()
		return ingest.Result{}, nil
	})
	before := dev.Stats().Requests
	at := batteryT0
	Poll(ctx, Config{URL: "tcp://" + dev.Addr(), UnitID: 1, Device: "bess1", Map: BatteryMap}, sink, func() time.Time { return at }, nil)
	in := <-got
	if len(in.Rejected) != 0 {
		t.Fatalf("rejected %+v", in.Rejected)
	}
	checkReadings(t, in.Readings, []reading.Reading{
		{Point: "bess1/elec/active_energy_import", Value: 1234.56, Unit: "kWh"},
		{Point: "bess1/elec/active_energy_export", Value: 7.89, Unit: "kWh"},
		{Point: "bess1/elec/active_power", Value: -2.5, Unit: "kW"},
		{Point: "bess1/battery/soc", Value: 75.5, Unit: "%"},
		{Point: "bess1/battery/temperature", Value: -5.2, Unit: "degC"},
		{Point: "bess1/elec/grid_voltage", Value: 230.1, Unit: "V"},
		{Point: "bess1/battery/power_setpoint", Value: -120.5, Unit: "kW"},
		{Point: "bess1/battery/max_charge_power", Value: 250, Unit: "kW"},
		{Point: "bess1/battery/max_discharge_power", Value: 120.3, Unit: "kW"},
	}, at)
	if st := dev.Stats(); st.Requests-before != 3 || st.Exceptions != 0 {
		t.Errorf("device stats %+v (%d before the poll)", st, before)
	}
}

func equalResult(a, b CommandResult) bool {
	return a.Status == b.Status && a.Detail == b.Detail && a.Attempts == b.Attempts && slices.Equal(a.Written, b.Written) &&
		a.ReadBackKW == b.ReadBackKW
}
