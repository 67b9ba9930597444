package realtimetest

import (
	"sync"
	"time"
)

// System messages of the limits (§5.4, §6.1, §9.1).
const (
	MsgTooManyMessages         = "Too many messages per second"
	MsgClientPresenceRateLimit = "Client presence rate limit exceeded"
	MsgTrackSizeExceeded       = "Track message size exceeded"
)

// presenceWindow is the window of the client presence rate limit.
const presenceWindow = 30 * time.Second

// rateWindow counts events in fixed windows of the server clock (aligned
// to multiples of the window length).
type rateWindow struct {
	mu    sync.Mutex
	start time.Time
	count int
}

func (w *rateWindow) rollLocked(now time.Time, window time.Duration) {
	if start := now.Truncate(window); !start.Equal(w.start) {
		w.start, w.count = start, 0
	}
}

// add adds n events and returns the count of the current window.
func (w *rateWindow) add(now time.Time, window time.Duration, n int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rollLocked(now, window)
	w.count += n
	return w.count
}

// get returns the count of the current window.
func (w *rateWindow) get(now time.Time, window time.Duration) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rollLocked(now, window)
	return w.count
}

// countEvents adds n to the tenant events counter (§5.4).
func (s *Server) countEvents(n int) {
	if s.opts.MaxEventsPerSecond > 0 && n > 0 {
		s.ext.events.add(s.now(), time.Second, n)
	}
}

// eventsPerSecond is the events count of the current second.
func (s *Server) eventsPerSecond() int { return s.ext.events.get(s.now(), time.Second) }

// eventsTriggered reports whether the events limit is exceeded.
func (s *Server) eventsTriggered() bool {
	return s.opts.MaxEventsPerSecond > 0 && s.eventsPerSecond() > s.opts.MaxEventsPerSecond
}

// EventsPerSecond returns the stand-in's tenant event counter for the
// current second of the server clock (see Options.MaxEventsPerSecond); it
// is only maintained when that limit is set.
func (s *Server) EventsPerSecond() int { return s.eventsPerSecond() }

// deliver fans d out to the subscribers of key (except exclude), applying
// the events limit: each delivery counts one event, and while the limit
// is exceeded every channel that would receive the message is shut down
// with "Too many messages per second" + phx_close instead (§5.4).
func (s *Server) deliver(key topicKey, exclude *channel, d delivery) {
	if s.opts.MaxEventsPerSecond <= 0 {
		s.hub.fanout(key, exclude, d)
		return
	}
	receivers := s.hub.receivers(key, exclude, d.event())
	if s.eventsTriggered() {
		for _, ch := range receivers {
			ch.conn.shutdownChannel(ch, MsgTooManyMessages)
		}
		return
	}
	s.hub.fanout(key, exclude, d)
	s.countEvents(len(receivers))
}

// receivers returns the subscribers of key, except exclude, that may
// receive event.
func (h *hub) receivers(key topicKey, exclude *channel, event string) []*channel {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.topics[key]
	if ts == nil {
		return nil
	}
	out := make([]*channel, 0, len(ts.subs))
	for _, ch := range ts.subs {
		if ch != exclude && ch.x.receives(event) {
			out = append(out, ch)
		}
	}
	return out
}

// presenceRateLimited applies the client presence rate limit of one
// channel (§6.1): at most Options.PresencePushesPer30s presence pushes
// per 30 s window, the window starting with the first push.
func (c *Conn) presenceRateLimited(ch *channel) bool {
	limit := c.srv.opts.PresencePushesPer30s
	x := ch.x
	if limit <= 0 || x == nil {
		return false
	}
	now := c.srv.now()
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case x.presenceResetAt.IsZero() || now.After(x.presenceResetAt):
		x.presenceCount, x.presenceResetAt = 1, now.Add(presenceWindow)
		return false
	case x.presenceCount >= limit:
		return true
	}
	x.presenceCount++
	return false
}

// event returns the Phoenix event of a delivery.
func (d delivery) event() string {
	if d.v2 != nil {
		return d.v2.Event
	}
	if d.v1 != nil {
		return d.v1.Event
	}
	return ""
}
