package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/test/realtimetest"
)

// A join the server never answers: broadcast fails after --timeout,
// listen says so and keeps trying until the server answers.
func TestJoinTimeout(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()
	srv.OnJoin(func(realtimetest.JoinRequest) realtimetest.JoinAction { return realtimetest.Ignore })
	conn := []string{"--url", srv.URL(), "--key", "k", "--channel", "slow", "--timeout", "300ms"}

	r := runCLI(t, append([]string{"broadcast", "--event", "e"}, conn...)...)
	if r.code != exitFailure || !strings.Contains(r.stderr, "realtime: channel slow: no answer to the join within 300ms (--timeout)") {
		t.Fatalf("broadcast: exit %d, stderr:\n%s", r.code, r.stderr)
	}

	l := start(append([]string{"listen", "--broadcast", "*"}, conn...)...)
	l.waitErr(t, "channel slow: no answer to the join within 300ms; retrying")
	srv.OnJoin(nil)
	l.waitErr(t, "channel slow SUBSCRIBED")
	if code := l.stop(t); code != 0 {
		t.Fatalf("listen: exit %d, stderr:\n%s", code, l.err.String())
	}
}

// --token goes into the joins; a token the server refuses fails the
// command without printing it.
func TestToken(t *testing.T) {
	const secret = "cli-test-secret-0123456789"
	exp := time.Now().Add(time.Hour).Unix()
	anon := realtimetest.SignJWT(secret, map[string]any{"role": "anon", "exp": exp})
	user := realtimetest.SignJWT(secret, map[string]any{"role": "authenticated", "sub": "user-1", "exp": exp})
	srv := realtimetest.NewServer(realtimetest.Options{JWTSecret: secret})
	defer srv.Close()

	r := runCLI(t, "broadcast", "--url", srv.URL(), "--key", anon, "--token", user, "--channel", "room", "--event", "e", "--ack")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	sent := false
	for _, f := range srv.Received() {
		if f.Frame.Event == "phx_join" {
			var p struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.Unmarshal(f.Frame.Payload, &p)
			sent = sent || p.AccessToken == user
		}
	}
	if !sent {
		t.Fatal("no join carried the --token")
	}

	bad := realtimetest.SignJWT("another-secret-0123456789", map[string]any{"role": "authenticated", "exp": exp})
	t.Setenv(envToken, bad) // from the environment this time
	r = runCLI(t, "listen", "--url", srv.URL(), "--key", anon, "--channel", "room", "--presence")
	if r.code != exitFailure || !strings.Contains(r.stderr, "realtime: channel room: the server refused the join: ") ||
		!strings.Contains(r.stderr, "Failed to validate JWT signature") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, bad) || strings.Contains(r.stderr, anon) {
		t.Fatalf("a token leaked:\n%s", r.stderr)
	}
	checkOnePrefix(t, r.stderr)
}

// --debug adds the client's log on stderr, without the key.
func TestDebug(t *testing.T) {
	r := runCLI(t, "broadcast", "--debug", "--max-attempts", "2", "--url", "http://"+freeAddr(t), "--key", "debug-key-value", "--channel", "room", "--event", "e")
	if r.code != exitFailure || !strings.Contains(r.stderr, "level=DEBUG") || !strings.Contains(r.stderr, "reconnecting") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "debug-key-value") {
		t.Fatalf("the key leaked into the debug log:\n%s", r.stderr)
	}
	r = runCLI(t, "broadcast", "--max-attempts", "1", "--url", "http://"+freeAddr(t), "--key", "k", "--channel", "room", "--event", "e")
	if strings.Contains(r.stderr, "level=") {
		t.Fatalf("a log without --debug:\n%s", r.stderr)
	}
}
