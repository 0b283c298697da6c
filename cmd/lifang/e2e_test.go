package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/lifang-community/lifang/audit"
	"github.com/lifang-community/lifang/ingest/mqtt"
)

// mqttPublish sends QoS 1 messages (topic, payload) to a broker at host:port.
func mqttPublish(t *testing.T, addr string, msgs ...[2]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cli := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := cli.Connect(ctx, &paho.Connect{ClientID: fmt.Sprintf("e2e-pub-%x", time.Now().UnixNano()), CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	defer cli.Disconnect(&paho.Disconnect{})
	for _, m := range msgs {
		if _, err := cli.Publish(ctx, &paho.Publish{Topic: m[0], QoS: 1, Payload: []byte(m[1])}); err != nil {
			t.Fatal(err)
		}
	}
}

// MQTT messages end up stored, logged and verifiable; a malformed one is quarantined.
// Runs against the embedded broker and, when LIFANG_MQTT_URL is set, the real one.
func TestMQTTToLedger(t *testing.T) {
	brokers := map[string]string{}
	b, err := mqtt.StartBroker("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	brokers["embedded"] = b.Addr()
	if u := os.Getenv("LIFANG_MQTT_URL"); u != "" {
		brokers["mosquitto"] = strings.TrimPrefix(strings.TrimPrefix(u, "tcp://"), "mqtt://")
	} else {
		t.Log("LIFANG_MQTT_URL unset: testing the embedded broker only")
	}
	for name, addr := range brokers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			d, err := openData(ctx, filepath.Join(t.TempDir(), "m.db"), "", sqliteOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			unit := fmt.Sprintf("e2e%x", time.Now().UnixNano())
			done := make(chan error, 1)
			go func() {
				done <- mqtt.Run(ctx, mqtt.Config{BrokerURL: "tcp://" + addr, Unit: unit, ClientID: "e2e-" + unit,
					FlushInterval: 20 * time.Millisecond, SessionExpiry: time.Minute}, d.pipeline(nil), nil)
			}()
			time.Sleep(300 * time.Millisecond) // let the subscription settle
			mqttPublish(t, addr,
				[2]string{"lifang/" + unit + "/readings", `{"readings":[{"point":"m1/elec","timestamp":"2026-03-01T00:00:00Z","value":10,"unit":"kWh"},{"point":"m1/elec","timestamp":"2026-03-01T00:15:00Z","value":11,"unit":"kWh"}]}`},
				[2]string{"lifang/" + unit + "/readings/m2/power", `{"timestamp":"2026-03-01T00:00:00Z","value":3.5,"unit":"kW"}`},
				[2]string{"lifang/" + unit + "/readings", `{"readings":[{"point":"m1/elec","timestamp":"nope","value":1,"unit":"kWh"}]}`},
			)
			deadline := time.Now().Add(10 * time.Second)
			for {
				n, _ := d.st.TreeSize(ctx)
				q, _ := d.st.Quarantined(ctx, "", 0)
				got, _ := d.st.Range(ctx, "m1/elec", time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
				m2, _ := d.st.Range(ctx, "m2/power", time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
				if n > 0 && len(got) == 2 && len(m2) == 1 && len(q) == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 10 s: %d leaves, %d+%d readings, %d quarantined", n, len(got), len(m2), len(q))
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			<-done
			if rep, err := audit.Verify(context.Background(), d.st, d.origin, d.verifiers); err != nil {
				t.Fatalf("verify: %v %v", err, rep.Findings)
			}
		})
	}
}

func TestPointsBrick(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "r.csv")
	os.WriteFile(csv, []byte("point,timestamp,value,unit\nroof/pv/energy,2026-03-01T00:00:00Z,5,kWh\ntank/flow,2026-03-01T00:00:00Z,1.5,m3/h\n"), 0o644)
	db := filepath.Join(dir, "p.db")
	if code, _, stderr := runCLI(t, "ingest", "csv", "--db", db, csv); code != 0 {
		t.Fatal(stderr)
	}
	code, out, stderr := runCLI(t, "points", "--db", db)
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{"a brick:PV_Generation_Sensor", "a brick:Water_Flow_Sensor", "unit:M3-PER-HR"} {
		if !strings.Contains(out, want) {
			t.Errorf("Brick export lacks %q:\n%s", want, out)
		}
	}
}
