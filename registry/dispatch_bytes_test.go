package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/supabase-go/realtime/messages"
)

// big returns a broadcast whose payload is n bytes (eventBytes n+1).
func big(name string, n int) messages.Event {
	return messages.BroadcastEvent{Channel: "c", Event: name, Payload: bytes.Repeat([]byte("x"), n)}
}

// A queue holds at most LimitBytes of payloads, counting the batch its
// Handler is working through: beyond it events are dropped and reported
// like a full queue, and the byte account returns to zero.
func TestDispatcherBoundsQueuedBytes(t *testing.T) {
	stats := &Stats{}
	d := NewDispatcher(1000, stats, nil, nil).LimitBytes(1000)
	h := &blockingHandler{release: make(chan struct{})}
	d.deliver("", h, big("0", 399)) // 400 bytes, taken by the worker, which blocks
	waitUntil(t, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.client.items) == 0
	})
	d.deliver("", h, big("1", 299)) // 700 held
	d.deliver("", h, big("2", 399)) // 1100 > 1000: dropped
	d.deliver("", h, big("3", 299)) // 1000: taken, after the report of 2
	d.deliver("", h, bev("4"))      // 1001: dropped
	if got := stats.HandlerDropped.Load(); got != 2 {
		t.Fatalf("HandlerDropped = %d, want 2", got)
	}
	if got := stats.QueuedBytes.Load(); got != 1000 {
		t.Fatalf("QueuedBytes = %d, want 1000", got)
	}
	close(h.release)
	// Once drained, the gap of 4 is reported in place, without waiting
	// for another event.
	waitUntil(t, func() bool { return len(h.got()) == 5 })
	waitUntil(t, func() bool { return stats.QueuedBytes.Load() == 0 })
	d.deliver("", h, big("5", 899))
	waitUntil(t, func() bool { return len(h.got()) == 6 })
	evs := h.got()[:6]
	var names []string
	for _, ev := range evs {
		switch e := ev.(type) {
		case messages.BroadcastEvent:
			names = append(names, e.Event)
		case messages.ErrorEvent:
			var oe *messages.HandlerOverflowError
			if !errors.As(e.Err, &oe) || oe.Dropped != 1 {
				t.Fatalf("overflow report: %v", e.Err)
			}
			names = append(names, "overflow")
		}
	}
	want := []string{"0", "1", "overflow", "3", "overflow", "5"}
	if len(names) != len(want) {
		t.Fatalf("events %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("events %v, want %v", names, want)
		}
	}
	// An event larger than the bound still reaches an idle queue.
	d.deliver("", h, big("huge", 5000))
	waitUntil(t, func() bool { return len(h.got()) == 7 })
	d.Close(time.Second)
	if q, b := stats.Queued.Load(), stats.QueuedBytes.Load(); q != 0 || b != 0 {
		t.Fatalf("Queued = %d, QueuedBytes = %d after draining", q, b)
	}
}

func TestEventBytes(t *testing.T) {
	for _, tc := range []struct {
		ev   messages.Event
		want int64
	}{
		{messages.BroadcastEvent{Event: "ab", Payload: []byte(`{"x":1}`), Meta: []byte(`{}`)}, 2 + 7 + 2},
		{messages.BroadcastEvent{Event: "b", Binary: []byte{1, 2, 3}}, 4},
		{messages.ChangeEvent{Record: []byte(`{"id":1}`), OldRecord: []byte(`{}`), Columns: []messages.Column{{Name: "id", Type: "int8"}},
			Errors: []string{"e"}, IDs: []json.RawMessage{[]byte("12")}}, 8 + 2 + 6 + 1 + 2},
		{messages.PresenceEvent{Key: "k", Current: []messages.PresenceMeta{{Ref: "r", Payload: []byte(`{}`)}},
			Joined: []messages.PresenceMeta{{Ref: "s", Payload: []byte(`{"a":1}`)}}}, 1 + 3 + 8},
		{messages.SystemEvent{Message: "hello"}, 5},
		{messages.ErrorEvent{Err: errors.New("x")}, 0},
	} {
		if got := eventBytes(tc.ev); got != tc.want {
			t.Errorf("eventBytes(%T) = %d, want %d", tc.ev, got, tc.want)
		}
	}
}
