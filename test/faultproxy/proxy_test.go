package faultproxy_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/test/faultproxy"
)

// echoServer echoes every connection until closed.
type echoServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.conns = append(e.conns, c)
			e.mu.Unlock()
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				_, _ = io.Copy(c, c)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(e.close)
	return e
}

func (e *echoServer) close() {
	_ = e.ln.Close()
	e.mu.Lock()
	for _, c := range e.conns {
		_ = c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

func newProxy(t *testing.T, target string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		waitNoLeaks(t)
	})
	return p
}

// waitNoLeaks waits (generously) until no goroutine of the proxy is left.
func waitNoLeaks(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := leakcheck.Goroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Close:\n%s", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dial(t *testing.T, p *faultproxy.Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip writes msg and reads it back, bounded by a generous deadline.
func roundTrip(t *testing.T, c net.Conn, msg []byte) {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("got %q, want %q", got, msg)
	}
}

// expectReset dials the proxy and expects the connection to fail: the
// reset may already fail the connect, or the first read.
func expectReset(t *testing.T, p *faultproxy.Proxy) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("dial: %v, want ECONNRESET", err)
		}
		return
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write([]byte("x"))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read on a reset connection: %v, want a reset or EOF", err)
	}
}

func TestForwardsBothWays(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, []byte("hello"))
	big := bytes.Repeat([]byte("0123456789"), 50_000) // 500 kB, many chunks
	roundTrip(t, c, big)
	if p.Accepted() != 1 || p.Active() != 1 {
		t.Fatalf("accepted %d active %d, want 1 and 1", p.Accepted(), p.Active())
	}
}

func TestOrderlyCloseIsPassedOn(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, []byte("x"))
	_ = c.(*net.TCPConn).CloseWrite()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read after half-close: %v, want EOF", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Active() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the pair was not released after both sides closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCutResetsBothSides(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, []byte("before"))
	if n := p.Cut(); n != 1 {
		t.Fatalf("Cut() = %d, want 1", n)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Read(make([]byte, 16))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after Cut: %v, want ECONNRESET", err)
	}
	// The proxy still accepts new connections.
	c2 := dial(t, p)
	roundTrip(t, c2, []byte("after"))
	if p.Cuts() != 1 || p.Accepted() != 2 {
		t.Fatalf("cuts %d accepted %d, want 1 and 2", p.Cuts(), p.Accepted())
	}
}

func TestBlackholeHoldsBytesAndKeepsTheSocketOpen(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, []byte("warm"))
	p.Blackhole(true)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	// Nothing can arrive while the hole is on; the socket is neither
	// closed nor reset, so the read only times out.
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := c.Read(make([]byte, 4))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read in the black hole: %v, want a timeout", err)
	}
	// A new connection is held too.
	c2 := dial(t, p)
	if _, err := c2.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	p.Blackhole(false)
	got := make([]byte, 4)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
		t.Fatalf("after the hole: %q, %v; want the held bytes", got, err)
	}
	got = make([]byte, 3)
	_ = c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c2, got); err != nil || string(got) != "new" {
		t.Fatalf("new conn after the hole: %q, %v", got, err)
	}
}

func TestBlackholeHoldsTheCloseToo(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, []byte("warm"))
	p.Blackhole(true)
	e.close() // the server side closes: its FIN must not get through
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read in the black hole after the server closed: %v, want a timeout", err)
	}
	p.Blackhole(false)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the hole: %v, want the held EOF", err)
	}
}

func TestLatencyDelaysEachDirection(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, []byte("warm"))
	p.SetLatency(150 * time.Millisecond)
	start := time.Now()
	roundTrip(t, c, []byte("slow"))
	// A lower bound only: bytes cannot arrive early, however loaded the
	// machine is.
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("round trip took %v, want at least 2 × 150 ms", el)
	}
	p.SetLatency(0)
	roundTrip(t, c, []byte("fast again"))
}

func TestBandwidthThrottles(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	p.SetBandwidth(20_000)
	start := time.Now()
	roundTrip(t, c, bytes.Repeat([]byte{'b'}, 20_000))
	// 20 kB at 20 kB/s takes about a second in each direction (they
	// overlap); at least 0.9 s in all.
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("20 kB at 20 kB/s took %v", el)
	}
	p.SetBandwidth(0)
	roundTrip(t, c, bytes.Repeat([]byte{'c'}, 200_000))
}

func TestRefuseResetsNewConnections(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.ln.Addr().String())
	kept := dial(t, p)
	roundTrip(t, kept, []byte("kept"))
	p.Refuse(true)
	expectReset(t, p)
	if p.Refused() != 1 {
		t.Fatalf("Refused() = %d, want 1", p.Refused())
	}
	roundTrip(t, kept, []byte("existing connections are not touched"))
	p.Refuse(false)
	c2 := dial(t, p)
	roundTrip(t, c2, []byte("accepted again"))
}

func TestTargetDownResetsTheClient(t *testing.T) {
	e := newEcho(t)
	addr := e.ln.Addr().String()
	e.close()
	p := newProxy(t, addr)
	expectReset(t, p)
	deadline := time.Now().Add(10 * time.Second)
	for p.FailedDials() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("FailedDials() = %d, want 1", p.FailedDials())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseEndsEveryGoroutineEvenInABlackhole(t *testing.T) {
	e := newEcho(t)
	p, err := faultproxy.New(e.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		roundTrip(t, c, []byte("up"))
	}
	p.Blackhole(true)
	p.SetLatency(time.Hour)
	for _, c := range conns {
		_, _ = c.Write(bytes.Repeat([]byte{'h'}, 100_000))
	}
	p.Close()
	p.Close() // idempotent
	waitNoLeaks(t)
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Fatal("the proxy still accepts after Close")
	}
}
