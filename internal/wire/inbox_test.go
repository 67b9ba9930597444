package wire

import (
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/messages"
)

func TestInboxSignalsOncePerBatchInOrder(t *testing.T) {
	q := NewInbox()
	if !q.Put(messages.Inbound{Epoch: 1}) {
		t.Fatal("first Put into an idle Inbox must signal")
	}
	for i := 2; i <= 5; i++ {
		if q.Put(messages.Inbound{Epoch: uint64(i)}) {
			t.Fatalf("Put %d signalled again before a Take", i)
		}
	}
	batch := q.Take()
	for i, in := range batch {
		if in.Epoch != uint64(i+1) {
			t.Fatalf("batch out of order: %d at %d", in.Epoch, i)
		}
	}
	if !q.Put(messages.Inbound{Epoch: 6}) {
		t.Fatal("a Put after a Take must signal, or the frame would wait for the next one")
	}
	q.Release(batch)
	if got := q.Take(); len(got) != 1 || got[0].Epoch != 6 {
		t.Fatalf("second batch = %v", got)
	}
}

func TestInboxFullPutWaitsForTakeOrClose(t *testing.T) {
	q := NewInbox()
	for i := 0; i < InboxLimit; i++ {
		q.Put(messages.Inbound{})
	}
	put := make(chan bool)
	go func() { put <- q.Put(messages.Inbound{Epoch: 9}) }()
	select {
	case <-put:
		t.Fatal("Put into a full Inbox returned before a Take")
	case <-time.After(50 * time.Millisecond):
	}
	if n := len(q.Take()); n != InboxLimit {
		t.Fatalf("took %d frames, want %d", n, InboxLimit)
	}
	if !<-put {
		t.Fatal("the Put released by Take must signal")
	}
	if got := q.Take(); len(got) != 1 || got[0].Epoch != 9 {
		t.Fatalf("after the wait: %d frames", len(got))
	}

	for i := 0; i < InboxLimit; i++ {
		q.Put(messages.Inbound{})
	}
	go func() { put <- q.Put(messages.Inbound{}) }()
	q.Close()
	if <-put {
		t.Fatal("a Put released by Close must not signal")
	}
	if q.Put(messages.Inbound{}) {
		t.Fatal("Put after Close signalled")
	}
}

func TestFrameOwnCopiesAndKeepsNil(t *testing.T) {
	buf := []byte(`{"a":1}{"m":2}`)
	f := frame.Frame{Payload: buf[:7], Meta: buf[7:]}
	f.Own()
	buf[1], buf[8] = 'X', 'Y'
	if string(f.Payload) != `{"a":1}` || string(f.Meta) != `{"m":2}` {
		t.Fatalf("Own did not copy: %s %s", f.Payload, f.Meta)
	}
	if cap(f.Payload) != len(f.Payload) {
		t.Fatal("an append to Payload could overwrite Meta")
	}
	g := frame.Frame{Payload: []byte{}}
	g.Own()
	if g.Payload == nil || g.Meta != nil {
		t.Fatalf("nil-ness changed: payload nil=%v meta nil=%v", g.Payload == nil, g.Meta == nil)
	}
	var h frame.Frame
	h.Own()
	if h.Payload != nil || h.Meta != nil {
		t.Fatal("Own of an empty frame allocated")
	}
}

func TestInboxParkRecyclesTheBufferOnceEveryFrameIsReleased(t *testing.T) {
	q := NewInbox()
	var recycled []*[]byte
	recycle := func(b *[]byte) { recycled = append(recycled, b) }

	// Nothing held: recycled at once.
	a := new([]byte)
	q.Park(a, recycle)
	if len(recycled) != 1 || recycled[0] != a {
		t.Fatalf("idle Park did not recycle the buffer: %v", recycled)
	}
	if q.Unpark() != nil {
		t.Fatal("Unpark returned a recycled buffer")
	}

	// Frames held: kept until the Release that brings the count to zero.
	q.Put(messages.Inbound{Epoch: 1})
	q.Put(messages.Inbound{Epoch: 2})
	first := q.Take()
	q.Put(messages.Inbound{Epoch: 3})
	b := new([]byte)
	q.Park(b, recycle)
	q.Release(first)
	if len(recycled) != 1 {
		t.Fatal("recycled while a frame was still held")
	}
	q.Release(q.Take())
	if len(recycled) != 2 || recycled[1] != b {
		t.Fatalf("the draining Release did not recycle the parked buffer: %v", recycled)
	}

	// Taken back before the frames are released: never recycled.
	q.Put(messages.Inbound{Epoch: 4})
	c := new([]byte)
	q.Park(c, recycle)
	if got := q.Unpark(); got != c {
		t.Fatalf("Unpark = %p, want the parked buffer %p", got, c)
	}
	q.Release(q.Take())
	if len(recycled) != 2 {
		t.Fatal("a buffer taken back was recycled")
	}
}

// BenchmarkInboxParkUnpark is what the reader adds per message to hand its
// read chunk over while it waits (frames still held, so no recycling).
func BenchmarkInboxParkUnpark(b *testing.B) {
	q := NewInbox()
	q.Put(messages.Inbound{})
	buf := new([]byte)
	recycle := func(*[]byte) { b.Fatal("recycled while a frame is held") }
	b.ReportAllocs()
	for b.Loop() {
		q.Park(buf, recycle)
		if q.Unpark() != buf {
			b.Fatal("lost the parked buffer")
		}
	}
}
