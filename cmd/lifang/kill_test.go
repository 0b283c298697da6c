package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lifang-community/lifang/audit"
	"github.com/lifang-community/lifang/reading"
)

// The test binary doubles as the lifang command when LIFANG_TEST_MAIN holds its
// arguments (one per line): a real ingest process the test can SIGKILL.
func TestMain(m *testing.M) {
	if args := os.Getenv("LIFANG_TEST_MAIN"); args != "" {
		os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startIngest runs `lifang ingest http` in a child process and returns its base URL.
func startIngest(t *testing.T, db string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LIFANG_TEST_MAIN="+strings.Join([]string{"ingest", "http", "--db", db, "--addr", "127.0.0.1:0"}, "\n"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("child did not start: %v", err)
	}
	f := strings.Fields(line)
	if len(f) < 3 || !strings.HasPrefix(f[2], "http://") {
		cmd.Process.Kill()
		t.Fatalf("unexpected first line %q", line)
	}
	go io.Copy(io.Discard, out)
	return cmd, f[2]
}

func batchBody(b int) ([]byte, []reading.Key) {
	var rs []map[string]any
	var keys []reading.Key
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 200 {
		ts := t0.Add(time.Duration(b*20+i/10) * 15 * time.Minute)
		p := fmt.Sprintf("m%d/elec/active_energy", i%10)
		rs = append(rs, map[string]any{"point": p, "timestamp": ts.Format(time.RFC3339), "value": 1000 + float64(b*20+i/10)*0.25, "unit": "kWh"})
		keys = append(keys, reading.Key{Point: p, Time: ts.UnixNano()})
	}
	body, _ := json.Marshal(map[string]any{"readings": rs})
	return body, keys
}

// A SIGKILL in the middle of a stream of batches loses no acknowledged reading, and the
// restarted process reconciles log and store so verify passes.
func TestSIGKILLLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	db := filepath.Join(t.TempDir(), "kill.db")
	cmd, base := startIngest(t, db)

	var mu sync.Mutex
	var acked [][]reading.Key
	done := make(chan struct{})
	go func() {
		defer close(done)
		client := &http.Client{Timeout: 10 * time.Second}
		for b := 0; b < 10000; b++ {
			body, keys := batchBody(b)
			resp, err := client.Post(base+"/api/v1/readings", "application/json", bytes.NewReader(body))
			if err != nil {
				return // the process is gone
			}
			var res struct{ Accepted int }
			json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && res.Accepted == len(keys) {
				mu.Lock()
				acked = append(acked, keys)
				mu.Unlock()
			}
		}
	}()
	// Kill mid-stream, once enough batches are acknowledged.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 25 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	<-done
	if len(acked) < 25 {
		t.Fatalf("only %d batches acknowledged before the deadline", len(acked))
	}

	// Restart: opening the database reconciles the log with the store.
	ctx := context.Background()
	d, err := openData(ctx, db, "", sqliteOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for b, keys := range acked {
		got, err := d.st.Existing(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(keys) {
			t.Fatalf("acknowledged batch %d: %d of %d readings survived the kill", b, len(got), len(keys))
		}
	}
	rep, err := audit.Verify(ctx, d.st, d.origin, d.verifiers)
	if err != nil {
		t.Fatalf("verify after restart: %v (%v)", err, rep.Findings)
	}
	t.Logf("%d batches acknowledged before SIGKILL; %d leaves, %d readings verified after restart", len(acked), rep.Leaves, rep.Readings)
}
