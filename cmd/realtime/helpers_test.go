package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/logbuf"
)

// result is one run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line in-process, as main does, and returns its
// exit code and output.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// background is a long-running command (listen, track) started in-process;
// stop is its Ctrl-C.
type background struct {
	out, err logbuf.Buffer
	cancel   context.CancelFunc
	done     chan int
}

func start(args ...string) *background {
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{cancel: cancel, done: make(chan int, 1)}
	go func() { b.done <- run(ctx, args, &b.out, &b.err) }()
	return b
}

// stop interrupts the command and returns its exit code.
func (b *background) stop(t *testing.T) int {
	t.Helper()
	b.cancel()
	select {
	case code := <-b.done:
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("the command did not stop after the interrupt; stderr:\n%s", b.err.String())
		return -1
	}
}

// waitFor polls cond until it holds (20 s at most).
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

func (b *background) waitErr(t *testing.T, want string) {
	t.Helper()
	waitFor(t, want, func() bool { return strings.Contains(b.err.String(), want) })
}

// freeAddr returns a loopback address nothing listens on (a port the
// kernel just handed out and that was closed again).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// checkOnePrefix fails when an error line carries the "realtime: " prefix
// more than once (a topic, "realtime:room", is not a prefix).
func checkOnePrefix(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Count(line, "realtime: ") > 1 {
			t.Errorf("doubled prefix: %q", line)
		}
	}
}
