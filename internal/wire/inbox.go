package wire

import (
	"sync"
	"sync/atomic"

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
//
// The Inbox also knows when every frame put has been released, which is
// when the reader's read buffer holds nothing anyone uses: Park hands the
// buffer over while the reader waits for the socket, and the buffer is
// recycled at once or by the Release that brings the count to zero,
// unless the reader takes it back first (Unpark).
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
	held      int     // frames put and not yet released
	parked    *[]byte // see Park
	recycle   func(*[]byte)

	// put counts the frames Put (only the reader writes it); released
	// those Released. See Drained.
	put      uint64
	released atomic.Uint64
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
	q.held++
	q.put++
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

// Drained reports whether every frame put so far has been released, that
// is handled by the registry: nothing the reader queued is still on its
// way. Only the goroutine that Puts may call it; no lock is taken.
func (q *Inbox) Drained() bool { return q.released.Load() == q.put }

// Release hands a handled batch back for reuse. The frames in it must not
// be used afterwards.
func (q *Inbox) Release(batch []messages.Inbound) {
	n := len(batch)
	clear(batch) // drop references to frame bytes
	q.mu.Lock()
	if q.spare == nil || cap(batch) > cap(q.spare) {
		q.spare = batch[:0]
	}
	q.held -= n
	buf, recycle := q.drained()
	q.mu.Unlock()
	q.released.Add(uint64(n))
	if buf != nil {
		recycle(buf)
	}
}

// Park hands the reader's read buffer to the Inbox while the reader waits
// for the next message. Once every frame put so far has been released
// (at once, or at the Release that brings the count to zero), the buffer
// is passed to recycle, unless Unpark took it back first. Nothing may use
// the buffer after Park except through Unpark.
func (q *Inbox) Park(buf *[]byte, recycle func(*[]byte)) {
	q.mu.Lock()
	q.parked, q.recycle = buf, recycle
	buf, recycle = q.drained()
	q.mu.Unlock()
	if buf != nil {
		recycle(buf)
	}
}

// Unpark takes back the parked buffer, or returns nil if it was recycled
// (or none was parked).
func (q *Inbox) Unpark() *[]byte {
	q.mu.Lock()
	buf := q.parked
	q.parked, q.recycle = nil, nil
	q.mu.Unlock()
	return buf
}

// drained takes the parked buffer when no frame is held. q.mu is held.
func (q *Inbox) drained() (*[]byte, func(*[]byte)) {
	if q.held != 0 || q.parked == nil {
		return nil, nil
	}
	buf, recycle := q.parked, q.recycle
	q.parked, q.recycle = nil, nil
	return buf, recycle
}

// Close releases a Put waiting for room and makes later Puts drop their
// frame. The reader's owner calls it when the socket goes away.
func (q *Inbox) Close() {
	q.mu.Lock()
	q.closed = true
	q.room.Broadcast()
	q.mu.Unlock()
}
