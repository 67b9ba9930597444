package realtime_test

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	realtime "github.com/supabase-go/realtime"
)

// A server that accepts the socket with an extension the client did not
// offer (permessage-deflate with the parameters gorilla's dialer accepts
// without having asked) fails the connect
// with a ConnectError that says so (RFC 6455 §4.1), instead of a protocol
// error at the first compressed frame.
func TestConnectRefusesAnExtensionNotOffered(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(conn))
			if err != nil {
				conn.Close()
				continue
			}
			h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
			_, _ = conn.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(h[:]) + "\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n"))
			conn.Close()
		}
	}()

	var mu sync.Mutex
	var got []error
	c, err := realtime.New("http://"+ln.Addr().String(), "anon-key", realtime.WithMaxReconnectAttempts(1),
		realtime.WithHandler(realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) {
			if s, ok := ev.(realtime.ConnectionStateEvent); ok && s.Err != nil {
				mu.Lock()
				got = append(got, s.Err)
				mu.Unlock()
			}
		})))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
		ln.Close()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		errs := append([]error(nil), got...)
		mu.Unlock()
		if len(errs) > 0 {
			var ce *realtime.ConnectError
			if !errors.As(errs[0], &ce) || !strings.Contains(errs[0].Error(), `extension "permessage-deflate; server_no_context_takeover`) {
				t.Fatalf("got %v, want a ConnectError about the extension", errs[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection error reported")
		}
		time.Sleep(10 * time.Millisecond) // polling, not an assertion
	}
}
