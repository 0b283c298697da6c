package ocpp

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocppj"
	"github.com/lorenzodonini/ocpp-go/ws"

	"github.com/lifang-community/lifang/ingest"
)

// callTimeout bounds every request of a test charger.
const callTimeout = 5 * time.Second

// fakeSink records what it is given; fail, when set, decides the error of each call.
type fakeSink struct {
	mu     sync.Mutex
	inputs []ingest.Input
	fail   func(ctx context.Context, in ingest.Input) error
}

func (s *fakeSink) Ingest(ctx context.Context, in ingest.Input) (ingest.Result, error) {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		if err := fail(ctx, in); err != nil {
			return ingest.Result{LeafIndex: -1}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inputs = append(s.inputs, in)
	return ingest.Result{Accepted: len(in.Readings), Events: len(in.Events), LeafIndex: int64(len(s.inputs) - 1)}, nil
}

func (s *fakeSink) setFail(f func(ctx context.Context, in ingest.Input) error) {
	s.mu.Lock()
	s.fail = f
	s.mu.Unlock()
}

func (s *fakeSink) got() []ingest.Input {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ingest.Input(nil), s.inputs...)
}

// testLogger writes the package's logs to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// startCentralSystem starts a central system on a free loopback port.
func startCentralSystem(t *testing.T, cfg Config, sink ingest.Sink) *CentralSystem {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cs := NewCentralSystem(cfg, sink, testLogger(t))
	if err := cs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cs.Stop)
	return cs
}

// connectCharger connects a simulated charger, ocpp-go's own charge point, over a real
// WebSocket; its requests time out after callTimeout.
func connectCharger(t *testing.T, cs *CentralSystem, id string) ocpp16.ChargePoint {
	t.Helper()
	client := ws.NewClient()
	dispatcher := ocppj.NewDefaultClientDispatcher(ocppj.NewFIFOClientQueue(0))
	dispatcher.SetTimeout(callTimeout)
	endpoint := ocppj.NewClient(id, client, dispatcher, nil, core.Profile)
	cp := ocpp16.NewChargePoint(id, endpoint, client)
	if err := cp.Start("ws://" + cs.Addr()); err != nil {
		t.Fatalf("charger %s: %v", id, err)
	}
	t.Cleanup(cp.Stop)
	return cp
}
