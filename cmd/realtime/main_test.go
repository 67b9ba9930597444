package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/logbuf"
	"github.com/supabase-go/realtime/test/realtimetest"
)

func TestDemoPrintsBroadcastsAndSummary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"demo", "-messages", "3"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{
		"channel lobby SUBSCRIBED",
		"system postgres_changes: Subscribed to PostgreSQL",
		"presence join  alice", "presence join  bob",
		"broadcast chat  from alice #3", "broadcast chat  from bob #3",
		"postgres INSERT public.todos id=9223372036854775807", "amount=123456789012345678901234567890.123456789",
		"postgres UPDATE public.todos id=1", "postgres DELETE public.todos id=1",
		"presence leave alice", "presence leave bob",
		"broadcast       6", "postgres        4", "latency (send → Handler): p50",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
}

func TestUnknownCommandFails(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"nope"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), `unknown command "nope"`) {
		t.Fatalf("stderr: %s", errOut.String())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestListenAndBroadcastTalkThroughTheServer(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{APIKey: "cli-key"})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut logbuf.Buffer
	listenDone := make(chan int, 1)
	go func() {
		listenDone <- run(ctx, []string{"listen", "--url", srv.URL(), "--key", "cli-key", "--channel", "room", "--broadcast", "*", "--json"}, &out, &errOut)
	}()
	waitFor(t, "the listener to subscribe", func() bool { return strings.Contains(errOut.String(), "channel room SUBSCRIBED") })

	var bout, berr bytes.Buffer
	if code := run(context.Background(), []string{"broadcast", "--url", srv.URL(), "--key", "cli-key", "--channel", "room", "--event", "hello", "--payload", `{"n":1}`, "--ack"}, &bout, &berr); code != 0 {
		t.Fatalf("broadcast exit %d: %s", code, berr.String())
	}
	if !strings.Contains(bout.String(), "acknowledged") {
		t.Fatalf("broadcast output: %s", bout.String())
	}
	bout.Reset()
	if code := run(context.Background(), []string{"broadcast", "--url", srv.URL(), "--key", "cli-key", "--channel", "room", "--event", "web", "--http"}, &bout, &berr); code != 0 {
		t.Fatalf("http broadcast exit %d: %s", code, berr.String())
	}
	waitFor(t, "both broadcasts", func() bool { return strings.Count(out.String(), "\n") >= 2 })
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("not JSON: %q", lines[0])
	}
	if first["type"] != "broadcast" || first["event"] != "hello" || first["channel"] != "room" {
		t.Fatalf("first event: %v", first)
	}
	if !strings.Contains(lines[1], `"event":"web"`) {
		t.Fatalf("second event: %s", lines[1])
	}
	cancel() // Ctrl-C
	if code := <-listenDone; code != 0 {
		t.Fatalf("listen exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "leaving") {
		t.Fatalf("listen did not leave: %s", errOut.String())
	}
	waitFor(t, "the leave to reach the server", func() bool {
		for _, f := range srv.Received() {
			if f.Frame.Event == "phx_leave" {
				return true
			}
		}
		return false
	})
}

func TestClearErrorsForBadURLAndRejectedKey(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{APIKey: "right"})
	defer srv.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"listen", "--url", srv.URL(), "--key", "wrong", "--channel", "x", "--broadcast", "*"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "the server refused the connection: HTTP 401: The token provided is not a valid JWT") {
		t.Fatalf("exit %d, stderr: %s", code, errOut.String())
	}
	if strings.Contains(errOut.String(), "wrong") {
		t.Fatalf("the key leaked into stderr: %s", errOut.String())
	}
	errOut.Reset()
	code = run(context.Background(), []string{"listen", "--url", "ftp://example", "--key", "k", "--channel", "x", "--broadcast", "*"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "invalid url") {
		t.Fatalf("exit %d, stderr: %s", code, errOut.String())
	}
	errOut.Reset()
	code = run(context.Background(), []string{"listen", "--url", srv.URL(), "--key", "right", "--channel", "x", "--postgres", "BOGUS:public.t"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "--postgres") {
		t.Fatalf("exit %d, stderr: %s", code, errOut.String())
	}
}
