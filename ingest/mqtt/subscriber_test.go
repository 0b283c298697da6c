package mqtt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/lifang-community/lifang/ingest"
)

// fakeSink records the Inputs it is given; fail, if set, decides the error of call n.
type fakeSink struct {
	mu     sync.Mutex
	inputs []ingest.Input
	errs   []error
	fail   func(n int, in ingest.Input) error
}

func (s *fakeSink) Ingest(_ context.Context, in ingest.Input) (ingest.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.fail != nil {
		err = s.fail(len(s.inputs), in)
	}
	s.inputs = append(s.inputs, in)
	s.errs = append(s.errs, err)
	if err != nil {
		return ingest.Result{LeafIndex: -1}, err
	}
	return ingest.Result{Accepted: len(in.Readings), Quarantined: len(in.Rejected), Events: len(in.Events), LeafIndex: -1}, nil
}

// waitFor polls until cond holds for the calls so far, or fails the test.
func (s *fakeSink) waitFor(t *testing.T, what string, cond func(inputs []ingest.Input, errs []error) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.mu.Lock()
		ok := cond(s.inputs, s.errs)
		n := len(s.inputs)
		s.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.mu.Lock()
			defer s.mu.Unlock()
			t.Fatalf("timed out waiting for %s; %d calls: %+v, errors %v", what, n, s.inputs, s.errs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// accepted returns the points of the readings of the Inputs the sink took, with their
// values, in order ("point=value").
func accepted(inputs []ingest.Input, errs []error) []string {
	var out []string
	for i, in := range inputs {
		if errs[i] != nil {
			continue
		}
		for _, r := range in.Readings {
			out = append(out, fmt.Sprintf("%s=%g", r.Point, r.Value))
		}
	}
	return out
}

// brokers runs test against the embedded broker and against the one in
// LIFANG_MQTT_URL (skipped when unset).
func brokers(t *testing.T, test func(t *testing.T, url string)) {
	t.Run("embedded", func(t *testing.T) {
		b, err := StartBroker("127.0.0.1:0", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := b.Close(); err != nil {
				t.Error(err)
			}
		})
		test(t, "tcp://"+b.Addr())
	})
	t.Run("env", func(t *testing.T) {
		url := os.Getenv("LIFANG_MQTT_URL")
		if url == "" {
			t.Skip("LIFANG_MQTT_URL is not set (e.g. tcp://127.0.0.1:1883)")
		}
		test(t, url)
	})
}

// uniqueUnit is a topic level no other test or run uses.
func uniqueUnit(t *testing.T) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("%s-%x", strings.ToLower(name), time.Now().UnixNano())
}

// testLog passes the subscriber's log to t.Log and signals each subscription.
type testLog struct {
	t          *testing.T
	subscribed chan struct{}
}

func (w *testLog) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	if bytes.Contains(p, []byte("mqtt subscribed")) {
		w.subscribed <- struct{}{}
	}
	return len(p), nil
}

// start runs Run until the returned stop is called (or the test ends) and waits for
// its first subscription. subscribed signals each later one.
func start(t *testing.T, cfg Config, sink ingest.Sink) (stop func(), subscribed <-chan struct{}) {
	t.Helper()
	w := &testLog{t: t, subscribed: make(chan struct{}, 100)}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, sink, log) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-w.subscribed:
	case err := <-done:
		t.Fatalf("Run returned %v before subscribing", err)
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not subscribe")
	}
	return stop, w.subscribed
}

// publish sends messages at QoS 1 (so they are at the broker when it returns).
func publish(t *testing.T, url string, msgs ...[2]string) {
	t.Helper()
	addr, err := dialAddr(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cli := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := cli.Connect(ctx, &paho.Connect{ClientID: fmt.Sprintf("lifang-test-pub-%x", time.Now().UnixNano()), CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	defer cli.Disconnect(&paho.Disconnect{})
	for _, m := range msgs {
		if _, err := cli.Publish(ctx, &paho.Publish{Topic: m[0], QoS: 1, Payload: []byte(m[1])}); err != nil {
			t.Fatalf("publish on %s: %v", m[0], err)
		}
	}
}

func testConfig(url, unit string) Config {
	return Config{
		BrokerURL:     url,
		Unit:          unit,
		ClientID:      "lifang-test-" + unit,
		FlushInterval: 50 * time.Millisecond,
		SessionExpiry: time.Minute, // do not leave sessions behind on a shared broker
	}
}

func TestEndToEnd(t *testing.T) {
	brokers(t, func(t *testing.T, url string) {
		unit := uniqueUnit(t)
		sink := &fakeSink{}
		start(t, testConfig(url, unit), sink)

		pre := "lifang/" + unit
		publish(t, url,
			[2]string{pre + "/readings", `{"readings":[{"point":"a","timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"},{"point":"b","timestamp":"2024-05-01T04:00:00Z","value":2,"unit":"kWh","quality":"estimated"}]}`},
			[2]string{pre + "/readings/bldg1/elec/power", `{"timestamp":"2024-05-01T12:00:00+08:00","value":3,"unit":"kW"}`},
			[2]string{pre + "/readings/c", `{"timestamp":"2024-05-01T04:00:00Z","value":`},
			[2]string{pre + "/events", `{"events":[{"kind":"gate_in","source":"gate-1","timestamp":"2024-05-01T04:00:00Z","attrs":{"plate_hash":"ab"}}]}`},
		)
		sink.waitFor(t, "3 readings, 1 event and 1 rejection", func(inputs []ingest.Input, errs []error) bool {
			var ev, rej int
			for _, in := range inputs {
				ev += len(in.Events)
				rej += len(in.Rejected)
			}
			return len(accepted(inputs, errs)) == 3 && ev == 1 && rej == 1
		})

		sink.mu.Lock()
		defer sink.mu.Unlock()
		if got, want := strings.Join(accepted(sink.inputs, sink.errs), " "), "a=1 b=2 bldg1/elec/power=3"; got != want {
			t.Errorf("readings %s, want %s", got, want)
		}
		for _, in := range sink.inputs {
			if !strings.HasPrefix(in.Source, "mqtt:"+pre) || len(in.Raw) != len(in.Readings) {
				t.Errorf("input source %q, %d raw for %d readings", in.Source, len(in.Raw), len(in.Readings))
			}
			for _, r := range in.Rejected {
				if r.Source != "mqtt:"+pre+"/readings/c" || r.Raw != `{"timestamp":"2024-05-01T04:00:00Z","value":` || !strings.Contains(r.Reason, "malformed JSON") {
					t.Errorf("rejection %+v", r)
				}
			}
			for _, e := range in.Events {
				if e.Kind != "gate_in" || e.Source != "gate-1" || e.Attrs["plate_hash"] != "ab" {
					t.Errorf("event %+v", e)
				}
			}
		}
	})
}

// TestRedelivery: a message is acknowledged only once the sink took it. A sink error
// makes the broker deliver it again; once taken it does not come again.
func TestRedelivery(t *testing.T) {
	brokers(t, func(t *testing.T, url string) {
		unit := uniqueUnit(t)
		cfg := testConfig(url, unit)
		sink := &fakeSink{fail: func(n int, _ ingest.Input) error {
			if n == 0 {
				return errors.New("store unavailable")
			}
			return nil
		}}
		stop, subscribed := start(t, cfg, sink)
		publish(t, url, [2]string{"lifang/" + unit + "/readings/p", `{"timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"}`})
		sink.waitFor(t, "the reading refused, then delivered again", func(inputs []ingest.Input, errs []error) bool {
			return len(inputs) >= 2 && errs[0] != nil && len(inputs[0].Readings) == 1 && strings.Join(accepted(inputs, errs), " ") == "p=1"
		})
		select {
		case <-subscribed: // the redelivery came on a new connection
		default:
			t.Error("no second subscription: the message was not redelivered by the broker")
		}
		stop()

		// A new subscriber with the same session sees only new messages: p=1 was acked.
		sink2 := &fakeSink{}
		start(t, cfg, sink2)
		publish(t, url, [2]string{"lifang/" + unit + "/readings/p", `{"timestamp":"2024-05-01T04:00:01Z","value":2,"unit":"kWh"}`})
		sink2.waitFor(t, "the new reading", func(inputs []ingest.Input, errs []error) bool {
			return len(accepted(inputs, errs)) > 0
		})
		time.Sleep(100 * time.Millisecond)
		sink2.mu.Lock()
		defer sink2.mu.Unlock()
		if got := strings.Join(accepted(sink2.inputs, sink2.errs), " "); got != "p=2" {
			t.Errorf("after restart the sink got %s, want p=2 only", got)
		}
	})
}

// TestCrashRedelivery: messages whose Input never got through come again to the next
// subscriber on the same session, as after a crash.
func TestCrashRedelivery(t *testing.T) {
	brokers(t, func(t *testing.T, url string) {
		unit := uniqueUnit(t)
		cfg := testConfig(url, unit)
		down := &fakeSink{fail: func(int, ingest.Input) error { return errors.New("disk full") }}
		stop, _ := start(t, cfg, down)
		publish(t, url,
			[2]string{"lifang/" + unit + "/readings", `{"readings":[{"point":"q","timestamp":"2024-05-01T04:00:00Z","value":1,"unit":"kWh"}]}`},
			[2]string{"lifang/" + unit + "/readings/r", `{"timestamp":"2024-05-01T04:00:00Z","value":2,"unit":"kWh"}`},
		)
		down.waitFor(t, "a refused input", func(inputs []ingest.Input, _ []error) bool { return len(inputs) > 0 })
		stop()

		up := &fakeSink{}
		start(t, cfg, up)
		up.waitFor(t, "both readings again", func(inputs []ingest.Input, errs []error) bool {
			got := accepted(inputs, errs)
			slices.Sort(got) // mochi-mqtt redelivers in no particular order
			return strings.Join(got, " ") == "q=1 r=2"
		})
	})
}

func TestGroupSource(t *testing.T) {
	in := ingest.Input{}
	cases := []struct {
		topics []string
		want   []string
	}{
		{[]string{"lifang/u1/readings"}, []string{"mqtt:lifang/u1/readings"}},
		{[]string{"lifang/u1/readings/a/b", "lifang/u1/readings/a/c"}, []string{"mqtt:lifang/u1/readings/a"}},
		{[]string{"lifang/u1/readings", "lifang/u1/events", "lifang/u2/events"}, []string{"mqtt:lifang/u1", "mqtt:lifang/u2/events"}},
	}
	for _, c := range cases {
		var groups []*group
		for _, topic := range c.topics {
			groups = addTo(groups, topic, in)
		}
		var got []string
		for _, g := range groups {
			got = append(got, g.input().Source)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%v: sources %v, want %v", c.topics, got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	good := Config{BrokerURL: "tcp://127.0.0.1:1883", Unit: "u1"}
	cases := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.BrokerURL = "http://127.0.0.1:1883" }, "BrokerURL"},
		{func(c *Config) { c.BrokerURL = "127.0.0.1:1883" }, "BrokerURL"},
		{func(c *Config) { c.BrokerURL = "tcp://127.0.0.1:1883/x" }, "BrokerURL"},
		{func(c *Config) { c.Unit = "" }, "Unit"},
		{func(c *Config) { c.Unit = "a/b" }, "Unit"},
		{func(c *Config) { c.Unit = "#" }, "Unit"},
		{func(c *Config) { c.QoS = 3 }, "QoS"},
		{func(c *Config) { c.MaxPayload = -1 }, "MaxPayload"},
		{func(c *Config) { c.FlushInterval = -time.Second }, "FlushInterval"},
		{func(c *Config) { c.SessionExpiry = time.Millisecond }, "SessionExpiry"},
	}
	for _, c := range cases {
		cfg := good
		c.edit(&cfg)
		err := Run(context.Background(), cfg, &fakeSink{}, nil)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want ErrConfig naming %s", cfg, err, c.want)
		}
	}
	d, err := good.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if d.QoS != 1 || d.MaxPayload != 1<<20 || d.FlushInterval != 200*time.Millisecond || d.ClientID != "lifang-ingest-u1" || d.SessionExpiry != 24*time.Hour {
		t.Errorf("defaults %+v", d)
	}
	all := Config{BrokerURL: "mqtt://broker", Unit: "+"}
	if d, err := all.withDefaults(); err != nil || d.ClientID != "lifang-ingest-all" {
		t.Errorf("%+v, %v", d, err)
	}
	if a, _ := dialAddr("mqtt://broker"); a != "broker:1883" {
		t.Errorf("default port: %s", a)
	}
}
