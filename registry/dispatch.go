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

// Dispatcher runs Handlers off the registry's goroutine, so a slow Handler
// delays only the events behind it: joins, acks, channel states and
// heartbeats carry on. Events of channels that share a Handler (the
// client's) are handed to it in the order the registry routed them, one at
// a time; a channel with a Handler of its own has a queue of its own.
//
// A queue holds at most Limit events. When it is full the registry never
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
	stats    *Stats
	logger   *slog.Logger
	lifetime context.Context

	mu     sync.Mutex
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
	return &Dispatcher{limit: limit, stats: stats, logger: logger, lifetime: lifetime, queues: map[string]*queue{}}
}

type item struct {
	h  messages.Handler
	ev messages.Event
}

type queue struct {
	d   *Dispatcher
	key string
	// Guarded by d.mu.
	items   []item
	spare   []item
	running bool
	dropped uint64
}

// deliver queues ev for h under key ("" for the client's Handler, the
// topic for a channel's own). It never blocks.
func (d *Dispatcher) deliver(key string, h messages.Handler, ev messages.Event) {
	d.mu.Lock()
	if d.closed.Load() {
		d.mu.Unlock()
		return
	}
	q := d.queues[key]
	if q == nil {
		q = &queue{d: d, key: key}
		d.queues[key] = q
	}
	if len(q.items) >= d.limit {
		q.dropped++
		d.mu.Unlock()
		d.stats.HandlerDropped.Add(1)
		return
	}
	if q.dropped > 0 {
		// The report takes the place of the dropped events (one slot
		// over the limit at most).
		q.items = append(q.items, item{h, messages.ErrorEvent{Channel: key, Err: &messages.HandlerOverflowError{Channel: key, Dropped: q.dropped}}})
		q.dropped = 0
		d.stats.Queued.Add(1)
	}
	q.items = append(q.items, item{h, ev})
	d.stats.Queued.Add(1)
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
		clear(batch) // do not pin delivered events
		d.mu.Lock()
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
	for _, q := range d.queues {
		d.stats.Queued.Add(-int64(len(q.items)))
		clear(q.items)
		q.items = q.items[:0]
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
