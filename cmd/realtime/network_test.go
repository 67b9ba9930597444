package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/supabase-go/realtime/test/realtimetest"
)

func TestListenBroadcastAndTrackThroughTheServer(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{APIKey: "cli-key"})
	defer srv.Close()
	conn := []string{"--url", srv.URL(), "--key", "cli-key"}

	l := start(append([]string{"listen", "--channel", "room", "--broadcast", "*", "--presence", "-o", "json"}, conn...)...)
	l.waitErr(t, "channel room SUBSCRIBED")
	for _, want := range []string{"connecting to " + srv.URL(), "\nconnected\n"} {
		if !strings.Contains(l.err.String(), want) {
			t.Errorf("listen stderr lacks %q:\n%s", want, l.err.String())
		}
	}

	r := runCLI(t, append([]string{"broadcast", "--channel", "room", "--event", "hello", "--payload", `{"n":1}`, "--ack"}, conn...)...)
	if r.code != 0 || r.stdout != "acknowledged\n" {
		t.Fatalf("broadcast --ack: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, append([]string{"broadcast", "--channel", "room", "--event", "plain"}, conn...)...)
	if r.code != 0 || r.stdout != "sent\n" {
		t.Fatalf("broadcast: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, append([]string{"broadcast", "--channel", "room", "--event", "web", "--http"}, conn...)...)
	if r.code != 0 || r.stdout != "sent over HTTP (202 Accepted)\n" || r.stderr != "" {
		t.Fatalf("broadcast --http: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}

	tr := start(append([]string{"track", "--channel", "room", "--presence-key", "alice", "--state", `{"status":"online"}`}, conn...)...)
	tr.waitErr(t, "tracking on room; press Ctrl-C to stop")
	waitFor(t, "the listener to see alice join", func() bool { return strings.Contains(l.out.String(), `"key":"alice"`) })
	if !strings.Contains(tr.out.String(), "room presence join alice [{\"status\":\"online\"}]") {
		// track prints the channel's presence events, its own join first.
		waitFor(t, "track to print its own join", func() bool {
			return strings.Contains(tr.out.String(), "room presence join alice [{\"status\":\"online\"}]")
		})
	}
	if code := tr.stop(t); code != 0 {
		t.Fatalf("track exit %d:\n%s", code, tr.err.String())
	}
	if !strings.Contains(tr.err.String(), "stopped after") || !strings.Contains(tr.err.String(), "tracked on room") {
		t.Fatalf("track summary:\n%s", tr.err.String())
	}
	waitFor(t, "the listener to see alice leave", func() bool {
		return strings.Contains(l.out.String(), `"event":"leave","key":"alice"`)
	})

	waitFor(t, "three broadcasts", func() bool { return strings.Count(l.out.String(), `"type":"broadcast"`) == 3 })
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if m["type"] == "broadcast" {
			events = append(events, m)
		}
	}
	if events[0]["event"] != "hello" || events[0]["channel"] != "room" || events[1]["event"] != "plain" || events[2]["event"] != "web" {
		t.Fatalf("broadcasts: %v", events)
	}

	if code := l.stop(t); code != 0 {
		t.Fatalf("listen exit %d:\n%s", code, l.err.String())
	}
	lines := strings.Split(strings.TrimSpace(l.err.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "stopped after ") || !strings.Contains(last, " events on room") {
		t.Fatalf("listen summary: %q", last)
	}
	waitFor(t, "the leave to reach the server", func() bool {
		for _, f := range srv.Received() {
			if f.Frame.Event == "phx_leave" {
				return true
			}
		}
		return false
	})
	checkOnePrefix(t, l.err.String())
}

func TestEnvironmentVariablesSelectTheProject(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{APIKey: "env-key"})
	defer srv.Close()
	t.Setenv(envURL, srv.URL())
	t.Setenv(envKey, "env-key")
	t.Setenv(envToken, "")
	r := runCLI(t, "broadcast", "--channel", "room", "--event", "e", "--ack")
	if r.code != 0 || r.stdout != "acknowledged\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// A flag wins over the environment.
	r = runCLI(t, "broadcast", "--key", "wrong-key-value", "--channel", "room", "--event", "e")
	if r.code != 1 || !strings.Contains(r.stderr, "the server refused the connection: HTTP 401") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestRejectedKeyFailsAtOnceWithoutLeakingIt(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{APIKey: "right"})
	defer srv.Close()
	for _, cmd := range [][]string{
		{"listen", "--channel", "x", "--broadcast", "*"},
		{"track", "--channel", "x"},
		{"broadcast", "--channel", "x", "--event", "e"},
	} {
		// listen and track retry forever, but not a refused key: a person
		// must fix it.
		r := runCLI(t, append(cmd, "--url", srv.URL(), "--key", "wrong-key-value")...)
		if r.code != 1 || !strings.Contains(r.stderr, "realtime: the server refused the connection: HTTP 401: The token provided is not a valid JWT") {
			t.Errorf("%s: exit %d, stderr:\n%s", cmd[0], r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "wrong-key-value") {
			t.Errorf("%s: the key leaked into stderr:\n%s", cmd[0], r.stderr)
		}
		checkOnePrefix(t, r.stderr)
	}
	r := runCLI(t, "broadcast", "--channel", "x", "--event", "e", "--http", "--url", srv.URL(), "--key", "wrong-key-value")
	if r.code != 1 || !strings.Contains(r.stderr, "realtime: HTTP broadcast: 401") || strings.Contains(r.stderr, "wrong-key-value") {
		t.Errorf("broadcast --http: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	checkOnePrefix(t, r.stderr)
}

// broadcast --http --private posts to the private channel (?private=true)
// right after creating it.
func TestHTTPBroadcastPrivate(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()
	for i := 0; i < 5; i++ {
		r := runCLI(t, "broadcast", "--url", srv.URL(), "--key", "k", "--channel", "secret", "--event", "e", "--http", "--private")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	}
	reqs := srv.HTTPRequests()
	if len(reqs) != 5 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, req := range reqs {
		if req.Query.Get("private") != "true" {
			t.Fatalf("request %s?%s is not private", req.Path, req.Query.Encode())
		}
	}
}

// An acknowledged broadcast the server refuses exits 1 with its reason.
func TestBroadcastAckRefused(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{MaxPayloadBytes: 64})
	defer srv.Close()
	big := `{"text":"` + strings.Repeat("x", 200) + `"}`
	r := runCLI(t, "broadcast", "--url", srv.URL(), "--key", "k", "--channel", "room", "--event", "e", "--payload", big, "--ack")
	if r.code != exitFailure || !strings.Contains(r.stderr, "realtime: sent, but not acknowledged: ") || !strings.Contains(r.stderr, "payload_size_exceeded") {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	checkOnePrefix(t, r.stderr)
}
