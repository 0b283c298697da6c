package bus

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestPublishToJetStream publishes on a real NATS server and reads the message back
// from the stream (skips without LIFANG_NATS_URL).
func TestPublishToJetStream(t *testing.T) {
	url := os.Getenv("LIFANG_NATS_URL")
	if url == "" {
		t.Skip("LIFANG_NATS_URL not set: no NATS server to test against")
	}
	b, err := Connect(url, "lifang-test")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	subject := fmt.Sprintf("lifang.test%d.ingest", time.Now().UnixNano())
	sub, err := b.js.SubscribeSync(subject, nats.DeliverAll())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := b.Publish(context.Background(), subject, []byte(`{"accepted":3}`)); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != `{"accepted":3}` {
		t.Fatalf("got %s", m.Data)
	}
	if _, err := Connect("nats://127.0.0.1:1", "x"); err == nil {
		t.Fatal("connecting to a closed port succeeded")
	}
}

func TestToken(t *testing.T) {
	for in, want := range map[string]string{"a.b c": "a_b_c", "": "_", "x>*": "x__", "社区": "社区"} {
		if got := Token(in); got != want {
			t.Errorf("Token(%q) = %q, want %q", in, got, want)
		}
	}
}
