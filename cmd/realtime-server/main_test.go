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
