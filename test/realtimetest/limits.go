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

// Join errors of the tenant limits (realtime_channel.ex).
const (
	ReasonTooManyUsers = "ConnectionRateLimitReached: Too many connected users"
	ReasonTooManyJoins = "ClientJoinRateLimitReached: Too many joins per second"
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

// RealLimits returns Options with the real server's limits and delays
// (config/runtime.exs, lib/realtime/tenants.ex, Phoenix's websocket
// timeout): join errors held 5 s, refused handshakes 2 s, 100 events/s and
// 100 joins/s averaged over 5 s ticks, 200 concurrent users, 100 channels
// per socket, 5 presence pushes per 30 s, a 60 s idle timeout. The zero
// Options turn all of these off (except the channel limit) so tests go
// fast; cmd/realtime-server and package devenv use these.
func RealLimits() Options {
	return Options{
		JoinErrorDelay:       5 * time.Second,
		ConnectErrorDelay:    2 * time.Second,
		MaxEventsPerSecond:   100,
		MaxJoinsPerSecond:    100,
		MaxConcurrentUsers:   200,
		MaxChannelsPerClient: DefaultMaxChannelsPerClient,
		PresencePushesPer30s: 5,
		IdleTimeout:          60 * time.Second,
		RateTick:             5 * time.Second,
	}
}

// rateCounter is a tenant rate limit (events, joins).
//
// With a tick (Options.RateTick, 5 s on the real server) it follows
// lib/realtime/rate_counter/rate_counter.ex: at every tick of the server
// clock the count becomes a bucket (the last 12 are kept), the average is
// sum / buckets / tick seconds, the limit triggers when the average
// reaches the limit and clears when it drops below. Ticks are evaluated
// lazily, at the next use after they are due.
//
// Without a tick (the Go API's default) it counts in fixed one-second
// windows and triggers as soon as a window's count exceeds the limit, so
// tests need not wait for ticks.
type rateCounter struct {
	mu        sync.Mutex
	count     int
	start     time.Time // immediate mode: the window
	next      time.Time // tick mode: when the next tick is due
	buckets   []int     // tick mode: newest first
	avg       float64
	triggered bool
}

// rateMaxBuckets is rate_counter.ex's max_bucket_len of the tenant
// counters (12 ticks of 5 s: a one-minute average).
const rateMaxBuckets = 12

func (r *rateCounter) advanceLocked(now time.Time, tick time.Duration, limit int) {
	if tick <= 0 {
		if start := now.Truncate(time.Second); !start.Equal(r.start) {
			r.start, r.count = start, 0
		}
		r.triggered = limit > 0 && r.count > limit
		return
	}
	if r.next.IsZero() {
		r.next = now.Add(tick)
		return
	}
	for n := 0; !now.Before(r.next); n++ {
		if n > rateMaxBuckets { // idle for longer than the window
			r.next = now.Add(tick)
			break
		}
		r.buckets = append([]int{r.count}, r.buckets...)
		if len(r.buckets) > rateMaxBuckets {
			r.buckets = r.buckets[:rateMaxBuckets]
		}
		r.count = 0
		sum := 0
		for _, b := range r.buckets {
			sum += b
		}
		r.avg = float64(sum) / float64(len(r.buckets)) / tick.Seconds()
		if r.triggered {
			r.triggered = r.avg >= float64(limit)
		} else {
			r.triggered = limit > 0 && r.avg >= float64(limit)
		}
		r.next = r.next.Add(tick)
	}
}

// add counts n events.
func (r *rateCounter) add(now time.Time, tick time.Duration, limit, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advanceLocked(now, tick, limit)
	r.count += n
	if tick <= 0 {
		r.triggered = limit > 0 && r.count > limit
	}
}

// state returns whether the limit is triggered and the rate: the count of
// the current second (immediate mode) or the last average (tick mode).
func (r *rateCounter) state(now time.Time, tick time.Duration, limit int) (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advanceLocked(now, tick, limit)
	if tick <= 0 {
		return r.triggered, r.count
	}
	return r.triggered, int(r.avg)
}

// countEvents adds n to the tenant events counter (§5.4).
func (s *Server) countEvents(n int) {
	if s.opts.MaxEventsPerSecond > 0 && n > 0 {
		s.ext.events.add(s.now(), s.opts.RateTick, s.opts.MaxEventsPerSecond, n)
	}
}

// eventsPerSecond is the events rate (see rateCounter.state).
func (s *Server) eventsPerSecond() int {
	_, n := s.ext.events.state(s.now(), s.opts.RateTick, s.opts.MaxEventsPerSecond)
	return n
}

// eventsTriggered reports whether the events limit is triggered.
func (s *Server) eventsTriggered() bool {
	if s.opts.MaxEventsPerSecond <= 0 {
		return false
	}
	t, _ := s.ext.events.state(s.now(), s.opts.RateTick, s.opts.MaxEventsPerSecond)
	return t
}

// eventsAtLimit reports whether the HTTP API refuses a single event: the
// current second is full (no tick) or the limit is triggered (tick).
func (s *Server) eventsAtLimit() bool {
	limit := s.opts.MaxEventsPerSecond
	if limit <= 0 {
		return false
	}
	if s.opts.RateTick <= 0 {
		return s.eventsPerSecond() >= limit
	}
	return s.eventsTriggered()
}

// EventsPerSecond returns the tenant events rate: with Options.RateTick
// the last average (events per second over up to 12 ticks), else the
// count of the current second of the server clock. It is only maintained
// when Options.MaxEventsPerSecond is set.
func (s *Server) EventsPerSecond() int { return s.eventsPerSecond() }

// deliver fans d out to the subscribers of key (except exclude), applying
// the events limit as realtime_channel.ex does on :update_rate_counter:
// each delivery counts one event, the message is delivered, and every
// receiving channel is then shut down with "Too many messages per second"
// + phx_close while the limit is triggered (§5.4).
func (s *Server) deliver(key topicKey, exclude *channel, d delivery) {
	if s.opts.MaxEventsPerSecond <= 0 {
		s.hub.fanout(key, exclude, d)
		return
	}
	receivers := s.hub.receivers(key, exclude, d.event())
	s.hub.fanout(key, exclude, d)
	s.countEvents(len(receivers))
	if s.eventsTriggered() {
		for _, ch := range receivers {
			ch.conn.shutdownChannel(ch, MsgTooManyMessages)
		}
	}
}

// joinLimited applies Options.MaxConcurrentUsers and
// Options.MaxJoinsPerSecond to a join of c (realtime_channel.ex
// limit_max_users, limit_joins); it returns the join error reason and
// whether the socket is then disconnected.
func (c *Conn) joinLimited() (string, bool) {
	s := c.srv
	if maxUsers := s.opts.MaxConcurrentUsers; maxUsers > 0 && !c.counted.Load() {
		n := 0
		for _, o := range s.ActiveConns() {
			if o.counted.Load() {
				n++
			}
		}
		if n >= maxUsers {
			return ReasonTooManyUsers, false
		}
	}
	if limit := s.opts.MaxJoinsPerSecond; limit > 0 {
		now := s.now()
		if t, _ := s.ext.joins.state(now, s.opts.RateTick, limit); t {
			return ReasonTooManyJoins, true
		}
		s.ext.joins.add(now, s.opts.RateTick, limit, 1)
		if s.opts.RateTick <= 0 {
			if t, _ := s.ext.joins.state(now, 0, limit); t {
				return ReasonTooManyJoins, true
			}
		}
	}
	return "", false
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
