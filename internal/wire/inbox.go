package wire

import (
	"sync"

	"github.com/supabase-go/realtime/messages"
)

// InboxLimit is how many frames an Inbox holds before Put waits for the
// registry to Take. It bounds the memory of frames read but not yet routed
// (the reader then stops reading, and TCP pushes back on the server).
const InboxLimit = 4096

// Inbox carries decoded frames from a socket reader to the registry in
// batches: one mailbox message per batch instead of one per frame.
//
// The reader Puts every frame; Put reports when the registry must be told
// (the Inbox went from idle to non-empty), and the reader then sends the
// Inbox's Ready message. The registry Takes everything queued, handles it
// and Releases the batch, whose storage the reader reuses. A frame put
// after a Take always causes a new Ready, so no frame waits for the next
// one to arrive. Under load the registry takes many frames per message;
// when idle, a frame costs one message, as before.
//
// Put waits only when InboxLimit frames are queued, that is when the
// registry, which runs no user code (Handlers have queues of their own),
// is that far behind; it never waits on a Handler. Close releases a
// waiting Put for good.
type Inbox struct {
	// Ready is the message that tells the registry to Take. It is
	// allocated once per Inbox and sent by pointer.
	Ready *InboxReady

	mu        sync.Mutex
	room      sync.Cond // signalled by Take and Close
	items     []messages.Inbound
	spare     []messages.Inbound
	signalled bool
	closed    bool
}

// InboxReady tells the registry that its Inbox has frames.
type InboxReady struct{ Inbox *Inbox }

// NewInbox returns an empty Inbox.
func NewInbox() *Inbox {
	q := &Inbox{}
	q.room.L = &q.mu
	q.Ready = &InboxReady{Inbox: q}
	return q
}

// Put queues a frame and reports whether the caller must send q.Ready to
// the registry. It waits while the Inbox is full; after Close it drops the
// frame and returns false.
func (q *Inbox) Put(in messages.Inbound) (signal bool) {
	q.mu.Lock()
	for len(q.items) >= InboxLimit && !q.closed {
		q.room.Wait()
	}
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, in)
	if !q.signalled {
		q.signalled = true
		signal = true
	}
	q.mu.Unlock()
	return signal
}

// Take returns every queued frame, in order. The batch must be handed back
// with Release once handled.
func (q *Inbox) Take() []messages.Inbound {
	q.mu.Lock()
	batch := q.items
	q.items = q.spare[:0]
	q.spare = nil
	q.signalled = false
	q.room.Broadcast()
	q.mu.Unlock()
	return batch
}

// Release hands a handled batch back for reuse. The frames in it must not
// be used afterwards.
func (q *Inbox) Release(batch []messages.Inbound) {
	clear(batch) // drop references to frame bytes
	q.mu.Lock()
	if q.spare == nil || cap(batch) > cap(q.spare) {
		q.spare = batch[:0]
	}
	q.mu.Unlock()
}

// Close releases a Put waiting for room and makes later Puts drop their
// frame. The reader's owner calls it when the socket goes away.
func (q *Inbox) Close() {
	q.mu.Lock()
	q.closed = true
	q.room.Broadcast()
	q.mu.Unlock()
}
