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
