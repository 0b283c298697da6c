package modbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/reading"
)

// deviceRegisters serves a register array as holding registers, like a real device.
type deviceRegisters struct {
	mu   sync.Mutex
	regs []uint16
}

func (d *deviceRegisters) set(regs []uint16) {
	d.mu.Lock()
	d.regs = append([]uint16(nil), regs...)
	d.mu.Unlock()
}

func (d *deviceRegisters) HandleHoldingRegisters(req *mb.HoldingRegistersRequest) ([]uint16, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if req.IsWrite {
		return nil, mb.ErrIllegalFunction
	}
	end := int(req.Addr) + int(req.Quantity)
	if end > len(d.regs) {
		return nil, mb.ErrIllegalDataAddress
	}
	return append([]uint16(nil), d.regs[req.Addr:end]...), nil
}

func (d *deviceRegisters) HandleCoils(*mb.CoilsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}
func (d *deviceRegisters) HandleDiscreteInputs(*mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}
func (d *deviceRegisters) HandleInputRegisters(*mb.InputRegistersRequest) ([]uint16, error) {
	return nil, mb.ErrIllegalFunction
}

// freePort returns a loopback port nothing listens on (the modbus server does not say
// which port it bound).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startServer(t *testing.T, addr string, d *deviceRegisters) *mb.ModbusServer {
	t.Helper()
	s, err := mb.NewServer(&mb.ServerConfiguration{URL: "tcp://" + addr, Timeout: 30 * time.Second, MaxClients: 4,
		Logger: log.New(io.Discard, "", 0)}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// stepSink hands each poll's input to the test and holds the poller until the test
// says go on, so that the test decides what the next poll sees.
type stepSink struct {
	inputs chan ingest.Input
	next   chan struct{}
}

func (s *stepSink) Ingest(ctx context.Context, in ingest.Input) (ingest.Result, error) {
	select {
	case s.inputs <- in:
	case <-ctx.Done():
		return ingest.Result{}, ctx.Err()
	}
	select {
	case <-s.next:
		return ingest.Result{Accepted: len(in.Readings), LeafIndex: -1}, nil
	case <-ctx.Done():
		return ingest.Result{}, ctx.Err()
	}
}

// TestPollDevice runs the poller against a real Modbus TCP server on loopback: values,
// then changed values, then the server going away and coming back.
func TestPollDevice(t *testing.T) {
	addr := freePort(t)
	dev := &deviceRegisters{}
	dev.set(referenceRegisters(123456, 789, -2500, 755, 253, 2301))
	srv := startServer(t, addr, dev)
	defer func() { srv.Stop() }()

	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	polls := 0
	clock := func() time.Time { // each poll reads the clock once: poll n is at t0 + n minutes
		mu.Lock()
		defer mu.Unlock()
		polls++
		return t0.Add(time.Duration(polls-1) * time.Minute)
	}
	sink := &stepSink{inputs: make(chan ingest.Input), next: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Poll(ctx, Config{URL: "tcp://" + addr, UnitID: 1, Device: "bess1", Interval: 10 * time.Millisecond,
			Timeout: time.Second}, sink, clock, slog.New(slog.DiscardHandler))
	}()
	poll := 0
	next := func() ingest.Input {
		t.Helper()
		select {
		case in := <-sink.inputs:
			poll++
			if in.Source != "modbus:bess1" {
				t.Errorf("poll %d: source %q", poll, in.Source)
			}
			return in
		case <-ctx.Done():
			t.Fatalf("no poll %d", poll+1)
			return ingest.Input{}
		}
	}
	at := func() time.Time { return t0.Add(time.Duration(poll-1) * time.Minute) }

	in := next()
	checkReadings(t, in.Readings, []reading.Reading{
		{Point: "bess1/elec/active_energy_import", Value: 1234.56, Unit: "kWh"},
		{Point: "bess1/elec/active_energy_export", Value: 7.89, Unit: "kWh"},
		{Point: "bess1/elec/active_power", Value: -2.5, Unit: "kW"},
		{Point: "bess1/battery/soc", Value: 75.5, Unit: "%"},
		{Point: "bess1/battery/temperature", Value: 25.3, Unit: "degC"},
		{Point: "bess1/elec/grid_voltage", Value: 230.1, Unit: "V"},
	}, at())
	if len(in.Rejected) != 0 || len(in.Raw) != 6 || in.Raw[2] != "holding 4 0xffff 0xf63c (active power)" {
		t.Errorf("poll 1: rejected %+v, raw %q", in.Rejected, in.Raw)
	}

	// The device's values change: the next poll sees them.
	dev.set(referenceRegisters(123500, 789, 3000, 760, -52, 2298))
	sink.next <- struct{}{}
	in = next()
	checkReadings(t, in.Readings, []reading.Reading{
		{Point: "bess1/elec/active_energy_import", Value: 1235, Unit: "kWh"},
		{Point: "bess1/elec/active_energy_export", Value: 7.89, Unit: "kWh"},
		{Point: "bess1/elec/active_power", Value: 3, Unit: "kW"},
		{Point: "bess1/battery/soc", Value: 76, Unit: "%"},
		{Point: "bess1/battery/temperature", Value: -5.2, Unit: "degC"},
		{Point: "bess1/elec/grid_voltage", Value: 229.8, Unit: "V"},
	}, at())

	// The device goes away: polls go on, each recording why it read nothing.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		sink.next <- struct{}{}
		in = next()
		if len(in.Readings) != 0 || len(in.Rejected) != 1 {
			t.Fatalf("poll %d with the device down: %+v", poll, in)
		}
		r := in.Rejected[0]
		if r.Reason == "" || r.Source != "modbus:bess1" || !r.Received.Equal(at()) || !strings.Contains(r.Raw, "holding registers 0..8") {
			t.Errorf("poll %d: rejected %+v", poll, r)
		}
		t.Logf("poll %d: %s", poll, r.Reason)
	}

	// The device comes back on the same address: the poller reconnects.
	dev.set(referenceRegisters(123600, 800, 0, 770, 200, 2300))
	srv = startServer(t, addr, dev)
	sink.next <- struct{}{}
	in = next()
	if len(in.Rejected) != 0 {
		t.Fatalf("poll %d after the device came back: %+v", poll, in.Rejected)
	}
	checkReadings(t, in.Readings, []reading.Reading{
		{Point: "bess1/elec/active_energy_import", Value: 1236, Unit: "kWh"},
		{Point: "bess1/elec/active_energy_export", Value: 8, Unit: "kWh"},
		{Point: "bess1/elec/active_power", Value: 0, Unit: "kW"},
		{Point: "bess1/battery/soc", Value: 77, Unit: "%"},
		{Point: "bess1/battery/temperature", Value: 20, Unit: "degC"},
		{Point: "bess1/elec/grid_voltage", Value: 230, Unit: "V"},
	}, at())

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Poll returned %v, want context.Canceled", err)
	}
}

// A device that answers with an exception (here: the map reaches past its registers)
// is a rejection too, and a sink error does not stop the poller.
func TestPollExceptionAndSinkError(t *testing.T) {
	addr := freePort(t)
	dev := &deviceRegisters{}
	dev.set(make([]uint16, 5)) // the default map needs 9
	srv := startServer(t, addr, dev)
	defer srv.Stop()

	got := make(chan ingest.Input, 100)
	sink := sinkFunc(func(ctx context.Context, in ingest.Input) (ingest.Result, error) {
		got <- in
		return ingest.Result{}, fmt.Errorf("database is down")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Poll(ctx, Config{URL: "tcp://" + addr, UnitID: 1, Device: "m", Interval: 5 * time.Millisecond}, sink, time.Now, nil)
	}()
	for i := range 3 { // the sink fails every time, yet polls keep coming
		select {
		case in := <-got:
			if len(in.Rejected) != 1 || !strings.Contains(in.Rejected[0].Reason, "illegal data address") {
				t.Fatalf("poll %d: %+v", i+1, in)
			}
		case <-ctx.Done():
			t.Fatalf("poll %d never came", i+1)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Poll returned %v", err)
	}
}

type sinkFunc func(ctx context.Context, in ingest.Input) (ingest.Result, error)

func (f sinkFunc) Ingest(ctx context.Context, in ingest.Input) (ingest.Result, error) {
	return f(ctx, in)
}

func TestPollConfigErrors(t *testing.T) {
	ok := Config{URL: "tcp://127.0.0.1:1", Device: "d", Interval: time.Second}
	for name, f := range map[string]func(c *Config){
		"no url":       func(c *Config) { c.URL = "" },
		"rtu url":      func(c *Config) { c.URL = "rtu:///dev/ttyUSB0" },
		"bare scheme":  func(c *Config) { c.URL = "tcp://" },
		"no device":    func(c *Config) { c.Device = "" },
		"bad device":   func(c *Config) { c.Device = "a\tb" },
		"bad map":      func(c *Config) { c.Map = []Register{{Name: "x", Point: "x", Words: 1, Scale: 1, Unit: "kw"}} },
		"neg interval": func(c *Config) { c.Interval = -time.Second },
	} {
		c := ok
		f(&c)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := Poll(ctx, c, sinkFunc(nil), time.Now, nil)
		cancel()
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: Poll returned %v, want a config error", name, err)
		}
	}
}
