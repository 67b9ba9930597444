package registry

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/supabase-go/realtime/messages"
)

type blockingHandler struct {
	mu      sync.Mutex
	events  []messages.Event
	release chan struct{}
	entered chan struct{} // optional: signalled as a call starts
}

func (h *blockingHandler) HandleEvent(_ context.Context, ev messages.Event) {
	if h.entered != nil {
		select {
		case h.entered <- struct{}{}:
		default:
		}
	}
	if h.release != nil {
		<-h.release
	}
	if b, ok := ev.(messages.BroadcastEvent); ok && b.Event == "panic" {
		panic("boom")
	}
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
}

func (h *blockingHandler) got() []messages.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]messages.Event(nil), h.events...)
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func bev(name string) messages.Event { return messages.BroadcastEvent{Channel: "c", Event: name} }

// A full queue drops events, counts them, and reports the gap in place.
func TestDispatcherOverflowIsReportedInPlace(t *testing.T) {
	stats := &Stats{}
	d := NewDispatcher(3, stats, nil, nil)
	h := &blockingHandler{release: make(chan struct{})}
	d.deliver("", h, bev("0")) // taken by the worker, which blocks
	waitUntil(t, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.client.items) == 0
	})
	for _, n := range []string{"1", "2", "3", "4", "5"} { // 4 and 5 overflow
		d.deliver("", h, bev(n))
	}
	if got := stats.HandlerDropped.Load(); got != 2 {
		t.Fatalf("HandlerDropped = %d, want 2", got)
	}
	close(h.release)
	// The gap is reported as soon as the queue drains, not when (or if)
	// the next event comes.
	waitUntil(t, func() bool { return len(h.got()) == 5 })
	d.deliver("", h, bev("6"))
	waitUntil(t, func() bool { return len(h.got()) == 6 })
	evs := h.got()
	want := []string{"0", "1", "2", "3", "overflow:2", "6"}
	for i, ev := range evs {
		var got string
		switch e := ev.(type) {
		case messages.BroadcastEvent:
			got = e.Event
		case messages.ErrorEvent:
			var oe *messages.HandlerOverflowError
			if !errors.As(e.Err, &oe) || !errors.Is(e.Err, messages.ErrHandlerOverflow) {
				t.Fatalf("event %d: %v", i, e.Err)
			}
			got = "overflow:" + string(rune('0'+oe.Dropped))
		}
		if got != want[i] {
			t.Fatalf("events = %v, want %v", evs, want)
		}
	}
	d.Close(time.Second)
	if q := stats.Queued.Load(); q != 0 {
		t.Fatalf("Queued = %d after draining", q)
	}
}

// A slow channel Handler does not hold up another queue; a panic is
// reported to the same Handler and the queue carries on.
func TestDispatcherQueuesAreIndependent(t *testing.T) {
	stats := &Stats{}
	d := NewDispatcher(0, stats, nil, nil)
	slow := &blockingHandler{release: make(chan struct{})}
	fast := &blockingHandler{}
	d.deliver("realtime:slow", slow, bev("a"))
	d.deliver("", fast, bev("panic"))
	d.deliver("", fast, bev("b"))
	waitUntil(t, func() bool { return len(fast.got()) == 2 })
	if e, ok := fast.got()[0].(messages.ErrorEvent); !ok || !errors.Is(e.Err, messages.ErrHandlerPanic) {
		t.Fatalf("first event = %#v, want the panic report", fast.got()[0])
	}
	if stats.HandlerPanics.Load() != 1 {
		t.Fatalf("HandlerPanics = %d", stats.HandlerPanics.Load())
	}
	close(slow.release)
	waitUntil(t, func() bool { return len(slow.got()) == 1 })
	// An idle channel queue is removed; the client queue stays.
	waitUntil(t, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		_, ok := d.queues["realtime:slow"]
		return !ok
	})
	d.Close(time.Second)
}

// Close discards what no Handler started on and waits for the call in
// progress; nothing is delivered afterwards.
func TestDispatcherClose(t *testing.T) {
	stats := &Stats{}
	d := NewDispatcher(0, stats, nil, nil)
	h := &blockingHandler{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	for _, n := range []string{"1", "2", "3"} {
		d.deliver("", h, bev(n))
	}
	<-h.entered
	closed := make(chan struct{})
	go func() { d.Close(10 * time.Second); close(closed) }()
	waitUntil(t, func() bool { return d.closed.Load() })
	select {
	case <-closed:
		t.Fatal("Close returned while a Handler call was in progress")
	default:
	}
	close(h.release)
	<-closed
	if n := len(h.got()); n != 1 {
		t.Fatalf("delivered %d events, want only the one in progress", n)
	}
	d.deliver("", h, bev("4"))
	if stats.Queued.Load() != 0 || len(h.got()) != 1 {
		t.Fatal("an event was queued after Close")
	}
}
