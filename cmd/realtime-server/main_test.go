package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/supabase-go/realtime/internal/logbuf"
	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// start runs the command and waits for its banner.
func start(t *testing.T, args ...string) (banner string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut logbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &out, &errOut) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "API key:") {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("run returned early: %v (stderr: %s)", err, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no banner; stdout: %q stderr: %q", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return out.String(), func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			return errors.New("run did not return after cancel")
		}
	}
}

func field(t *testing.T, banner, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s+(\S+)`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("no %q in banner %q", name, banner)
	}
	return m[1]
}

func TestServesWithMintedAnonKey(t *testing.T) {
	banner, stop := start(t, "-addr", "127.0.0.1:0", "-jwt-secret", "secret-secret-secret-secret-secret", "-log-level", "debug")
	key := field(t, banner, "API key")
	if strings.Count(key, ".") != 2 {
		t.Fatalf("API key %q is not a JWT", key)
	}
	wsURL := field(t, banner, "websocket URL")
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL, err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`["1","1","realtime:room","phx_join",{"config":{}}]`)); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := `["1","1","realtime:room","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`; string(msg) != want {
		t.Fatalf("join reply %s, want %s", msg, want)
	}

	// The HTTP API accepts the printed key.
	req, _ := http.NewRequest(http.MethodPost, field(t, banner, "broadcast URL"), strings.NewReader(`{"messages":[{"topic":"room","event":"e","payload":{"a":1}}]}`))
	req.Header.Set("apikey", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("broadcast status %d", resp.StatusCode)
	}
	_, msg, err = ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := `[null,null,"realtime:room","broadcast",{"payload":{"a":1},"event":"e","type":"broadcast"}]`; string(msg) != want {
		t.Fatalf("broadcast %s, want %s", msg, want)
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// The socket is closed with 1001 on shutdown.
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("read after shutdown: %v, want close 1001", err)
	}
	_ = ws.Close()
}

func TestAPIKeyWithoutSecret(t *testing.T) {
	banner, stop := start(t, "-addr", "0.0.0.0:0", "-anon-key", "anon")
	if got := field(t, banner, "API key"); got != "anon" {
		t.Fatalf("API key %q", got)
	}
	wsURL := field(t, banner, "websocket URL")
	if !strings.HasPrefix(wsURL, "ws://127.0.0.1:") {
		t.Fatalf("websocket URL %q should dial the loopback address", wsURL)
	}
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.Close()
	bad := strings.Replace(wsURL, "apikey=anon", "apikey=nope", 1)
	if _, resp, err := websocket.DefaultDialer.Dial(bad, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial with a wrong key: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestFlagErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-log-level", "loud"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "-log-level") {
		t.Fatalf("bad level: %v", err)
	}
	if err := run(context.Background(), []string{"-h"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := run(context.Background(), []string{"-addr", ln.Addr().String()}, &out, &errOut); err == nil {
		t.Fatal("listening on a taken address should fail")
	}
}

// The defaults are the real server's (config/runtime.exs, tenants.ex,
// Phoenix's websocket timeout); each flag overrides one.
func TestRealDefaultsAndTheirFlags(t *testing.T) {
	var errOut bytes.Buffer
	c, err := parseFlags(nil, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	o := c.opts
	if o.JoinErrorDelay != 5*time.Second || o.ConnectErrorDelay != 2*time.Second ||
		o.MaxEventsPerSecond != 100 || o.MaxJoinsPerSecond != 100 || o.MaxConcurrentUsers != 200 ||
		o.MaxChannelsPerClient != 100 || o.PresencePushesPer30s != 5 || o.IdleTimeout != 60*time.Second ||
		o.RateTick != 5*time.Second {
		t.Fatalf("defaults %+v", o)
	}
	c, err = parseFlags([]string{"-join-error-delay", "0", "-connect-error-delay", "0", "-max-events-per-second", "0",
		"-max-joins-per-second", "7", "-max-users", "0", "-max-channels", "3", "-presence-per-30s", "0",
		"-idle-timeout", "0", "-rate-tick", "0"}, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	o = c.opts
	if o.JoinErrorDelay != 0 || o.ConnectErrorDelay != 0 || o.MaxEventsPerSecond != 0 || o.MaxJoinsPerSecond != 7 ||
		o.MaxConcurrentUsers != 0 || o.MaxChannelsPerClient != 3 || o.PresencePushesPer30s != 0 || o.IdleTimeout != 0 || o.RateTick != 0 {
		t.Fatalf("overridden %+v", o)
	}
	for _, bad := range [][]string{{"-max-users", "-1"}, {"-idle-timeout", "-1s"}, {"-max-channels", "0"}} {
		if _, err := parseFlags(bad, &errOut); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// -join-error-delay holds join errors back (5 s by default, see TestRealDefaultsAndTheirFlags).
func TestJoinErrorDelayFlag(t *testing.T) {
	banner, stop := start(t, "-addr", "127.0.0.1:0", "-join-error-delay", "300ms")
	ws, _, err := websocket.DefaultDialer.Dial(field(t, banner, "websocket URL"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	began := time.Now()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`["1","1","realtime:","phx_join",{"config":{}}]`)); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), "TopicNameRequired") {
		t.Fatalf("reply %s", msg)
	}
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Fatalf("join error answered after %v, want at least the 300ms delay", d)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// A database that cannot serve postgres_changes stops the command at
// start with what is wrong and how to fix it.
func TestUnusableDatabaseFailsAtStart(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-postgres", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2"}, &out, &errOut)
	if !errors.Is(err, realtimetest.ErrPostgresUnreachable) || !strings.Contains(err.Error(), "fix: check the host, port") {
		t.Fatalf("unreachable database: %v", err)
	}
	if strings.Contains(out.String(), "project URL") {
		t.Fatalf("served despite the failed check: %s", out.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := pgtest.Start(ctx, pgtest.Options{NoPublication: true, Settings: map[string]string{"wal_level": "replica"}})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer cluster.Stop()
	err = run(ctx, []string{"-addr", "127.0.0.1:0", "-postgres", cluster.DSN()}, &out, &errOut)
	if !errors.Is(err, realtimetest.ErrWalLevel) || !errors.Is(err, realtimetest.ErrNoPublication) ||
		!strings.Contains(err.Error(), "ALTER SYSTEM SET wal_level = logical") || !strings.Contains(err.Error(), "CREATE PUBLICATION supabase_realtime") {
		t.Fatalf("wal_level=replica without publication: %v", err)
	}
}
