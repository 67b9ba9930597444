package registry

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/messages"
)

// DefaultHandlerQueue is the default number of events that may wait for a
// Handler before events are dropped (and the drop reported).
const DefaultHandlerQueue = 65536

// DefaultHandlerQueueBytes is the default bound on the payload bytes of
// the events waiting for (or being handed to) one Handler queue: 64 MiB.
// The event count alone would let a server that sends large payloads to a
// slow Handler hold DefaultHandlerQueue times the read limit.
const DefaultHandlerQueueBytes int64 = 64 << 20

// Dispatcher runs Handlers off the registry's goroutine, so a slow Handler
// delays only the events behind it: joins, acks, channel states and
// heartbeats carry on. Events of channels that share a Handler (the
// client's) are handed to it in the order the registry routed them, one at
// a time; a channel with a Handler of its own has a queue of its own.
//
// A queue holds at most Limit events, and at most MaxBytes bytes of
// payloads (eventBytes) counting the batch its Handler is working through;
// an event arriving at an empty queue is always taken. When it is full the registry never
// waits (it would stall every other channel, and the socket reader behind
// it): the event is dropped, counted in Stats.HandlerDropped, and an
// ErrorEvent carrying a *messages.HandlerOverflowError takes its place in
// the queue, so the Handler learns exactly where events are missing.
//
// A queue's worker goroutine exists only while the queue has events; an
// idle client has none. The Dispatcher is created by the supervisor, is
// shared by every registry incarnation (events queued before a restart are
// still delivered), and is closed when the client closes.
type Dispatcher struct {
	limit    int
	maxBytes int64
	stats    *Stats
	logger   *slog.Logger
	lifetime context.Context

	mu sync.Mutex
	// client is the queue of the client's Handler; queues holds those of
	// channels with a Handler of their own (nil until the first).
	client queue
	queues map[string]*queue
	closed atomic.Bool // set under mu; read without it by workers
	wg     sync.WaitGroup
}

// NewDispatcher returns a dispatcher whose queues hold at most limit events
// (DefaultHandlerQueue if limit <= 0). Handlers get lifetime as their
// context.
func NewDispatcher(limit int, stats *Stats, logger *slog.Logger, lifetime context.Context) *Dispatcher {
	if limit <= 0 {
		limit = DefaultHandlerQueue
	}
	if stats == nil {
		stats = &Stats{}
	}
	if logger == nil {
		logger = actors.DiscardLogger()
	}
	if lifetime == nil {
		lifetime = context.Background()
	}
	d := &Dispatcher{limit: limit, maxBytes: DefaultHandlerQueueBytes, stats: stats, logger: logger, lifetime: lifetime}
	d.client.d = d
	return d
}

// LimitBytes sets the payload bytes a queue may hold (n <= 0 keeps
// DefaultHandlerQueueBytes) and returns d. Call it before the first event.
func (d *Dispatcher) LimitBytes(n int64) *Dispatcher {
	if n > 0 {
		d.maxBytes = n
	}
	return d
}

// eventBytes is what an event holds in payload bytes: the part a server
// controls the size of.
func eventBytes(ev messages.Event) int64 {
	n := 0
	switch e := ev.(type) {
	case messages.BroadcastEvent:
		n = len(e.Event) + len(e.Payload) + len(e.Binary) + len(e.Meta)
	case messages.ChangeEvent:
		n = len(e.Record) + len(e.OldRecord)
		for _, c := range e.Columns {
			n += len(c.Name) + len(c.Type)
		}
		for _, s := range e.Errors {
			n += len(s)
		}
		for _, id := range e.IDs {
			n += len(id)
		}
	case messages.PresenceEvent:
		n = len(e.Key)
		for _, ms := range [...][]messages.PresenceMeta{e.Current, e.Joined, e.Left} {
			for _, m := range ms {
				n += len(m.Ref) + len(m.Payload)
			}
		}
	case messages.SystemEvent:
		n = len(e.Message)
	}
	return int64(n)
}

type item struct {
	h    messages.Handler
	ev   messages.Event
	size int64 // eventBytes(ev)
}

type queue struct {
	d   *Dispatcher
	key string
	// Guarded by d.mu.
	items    []item
	spare    []item
	bytes    int64 // sizes of items plus the batch being handed out
	running  bool
	dropped  uint64           // events dropped since the last report
	droppedH messages.Handler // the Handler they were for
}

// reportDrops queues the report of the events dropped since the last one,
// in their place, for h (one slot over the limit at most). d.mu is held.
func (q *queue) reportDrops(h messages.Handler) {
	q.items = append(q.items, item{h: h, ev: messages.ErrorEvent{Channel: q.key, Err: &messages.HandlerOverflowError{Channel: q.key, Dropped: q.dropped}}})
	q.dropped, q.droppedH = 0, nil
	q.d.stats.Queued.Add(1)
}

// deliver queues ev for h under key ("" for the client's Handler, the
// topic for a channel's own). It never blocks.
func (d *Dispatcher) deliver(key string, h messages.Handler, ev messages.Event) {
	d.mu.Lock()
	d.enqueue(key, h, ev)
}

// deliverRouted queues ev as deliver does if r is still the route in slot
// (see Routes), and reports whether it was.
func (d *Dispatcher) deliverRouted(slot *routeSlot, r *route, key string, h messages.Handler, ev messages.Event) bool {
	d.mu.Lock()
	if slot.cur.Load() != r {
		d.mu.Unlock()
		return false
	}
	d.enqueue(key, h, ev)
	return true
}

// enqueue is deliver's work; d.mu is held, and enqueue releases it.
func (d *Dispatcher) enqueue(key string, h messages.Handler, ev messages.Event) {
	if d.closed.Load() {
		d.mu.Unlock()
		return
	}
	q := &d.client
	if key != "" {
		q = d.queues[key]
		if q == nil {
			if d.queues == nil {
				d.queues = map[string]*queue{}
			}
			q = &queue{d: d, key: key}
			d.queues[key] = q
		}
	}
	size := eventBytes(ev)
	if len(q.items) >= d.limit || (q.bytes > 0 && q.bytes+size > d.maxBytes) {
		q.dropped++
		q.droppedH = h
		d.mu.Unlock()
		d.stats.HandlerDropped.Add(1)
		return
	}
	if q.dropped > 0 {
		q.reportDrops(q.droppedH)
	}
	q.items = append(q.items, item{h: h, ev: ev, size: size})
	q.bytes += size
	d.stats.Queued.Add(1)
	d.stats.QueuedBytes.Add(size)
	if !q.running {
		q.running = true
		d.wg.Add(1)
		go q.run()
	}
	d.mu.Unlock()
}

// run hands the queue's events to their Handlers until it is empty, then
// exits. It is the queue's only consumer.
func (q *queue) run() {
	d := q.d
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(q.items) == 0 && q.dropped > 0 && !d.closed.Load() {
			// Drained after dropping: report now rather than when (or
			// if) the next event comes.
			q.reportDrops(q.droppedH)
		}
		if len(q.items) == 0 || d.closed.Load() {
			q.running = false
			if q.key != "" {
				delete(d.queues, q.key) // a channel's queue goes when idle
			}
			d.mu.Unlock()
			return
		}
		batch := q.items
		q.items = q.spare[:0]
		d.mu.Unlock()

		for i := range batch {
			if d.closed.Load() {
				d.stats.Queued.Add(-int64(len(batch) - i)) // discarded
				break
			}
			d.invoke(batch[i].h, batch[i].ev, true)
			d.stats.Queued.Add(-1)
			d.stats.Delivered.Add(1)
		}
		var done int64
		for i := range batch {
			done += batch[i].size
		}
		clear(batch) // do not pin delivered events
		d.mu.Lock()
		q.bytes -= done
		d.stats.QueuedBytes.Add(-done)
		q.spare = batch[:0]
		d.mu.Unlock()
	}
}

// invoke calls the Handler and recovers a panic, reporting it as an
// ErrorEvent to the same Handler (once: a panic while handling that report
// is only logged).
func (d *Dispatcher) invoke(h messages.Handler, ev messages.Event, report bool) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		d.stats.HandlerPanics.Add(1)
		err := &messages.HandlerPanicError{Value: v, Stack: debug.Stack(), Event: ev}
		d.logger.Error("realtime: handler panicked", slog.Any("panic", v), slog.String("channel", ev.ChannelName()))
		if report {
			d.invoke(h, messages.ErrorEvent{Channel: ev.ChannelName(), Err: err}, false)
		}
	}()
	h.HandleEvent(d.lifetime, ev)
}

// Close stops accepting events, discards the ones no Handler has started
// on, and waits (at most wait) for the Handler calls in progress to
// return. Handlers' context (the client's lifetime) is cancelled by then,
// so a Handler that honours it returns promptly.
func (d *Dispatcher) Close(wait time.Duration) {
	d.mu.Lock()
	d.closed.Store(true)
	d.client.discard()
	for _, q := range d.queues {
		q.discard()
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		d.logger.Warn("realtime: a Handler did not return after Close", slog.Duration("waited", wait))
	}
}

// discard drops the events no Handler has started on. d.mu is held.
func (q *queue) discard() {
	d := q.d
	d.stats.Queued.Add(-int64(len(q.items)))
	var dropped int64
	for i := range q.items {
		dropped += q.items[i].size
	}
	q.bytes -= dropped
	d.stats.QueuedBytes.Add(-dropped)
	clear(q.items)
	q.items = q.items[:0]
}
