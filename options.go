package realtime

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/connection"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/registry"
)

// Option configures a Client. Each option validates its argument; New fails
// on the first invalid one.
type Option func(*options) error

// Vsn selects the wire serializer version.
type Vsn = frame.Vsn

// Serializer versions.
const (
	// Vsn1 is "1.0.0": JSON objects, no binary payloads.
	Vsn1 = frame.V1
	// Vsn2 is "2.0.0": JSON arrays plus binary broadcasts. The default.
	Vsn2 = frame.V2
)

// Clock is the time source for heartbeats, timeouts and backoff.
type Clock = actors.Clock

// Defaults.
const (
	DefaultTimeout           = 10 * time.Second
	DefaultHeartbeatInterval = 30 * time.Second
	DefaultSendBufferSize    = 100
	// DefaultReadLimit is the largest inbound WebSocket message: 4 MiB
	// (see WithReadLimit).
	DefaultReadLimit = connection.DefaultReadLimit
	// DefaultPresenceMaxMetas and DefaultPresenceMaxBytes bound each
	// channel's presence state (see WithPresenceLimits).
	DefaultPresenceMaxMetas = 50_000
	DefaultPresenceMaxBytes = 16 << 20
	// MinReadLimit is the smallest read limit WithReadLimit accepts.
	MinReadLimit = 64 << 10
)

type options struct {
	name           string
	missedSince    time.Time
	timeout        time.Duration
	heartbeat      time.Duration
	reconnectAfter func(int) time.Duration
	rejoinAfter    func(int) time.Duration
	maxAttempts    int
	accessToken    func(context.Context) (string, error)
	params         url.Values
	logLevel       string
	vsn            Vsn
	logger         *slog.Logger
	handler        Handler
	bufferSize     int
	handlerQueue   int
	// handlerQueueBytes bounds each Handler queue's payload bytes.
	handlerQueueBytes int64
	clock             Clock
	dialer            *websocket.Dialer
	header            http.Header
	httpFallback      bool
	httpClient        *http.Client
	readLimit         int64
	presenceMetas     int
	presenceBytes     int
}

func defaultOptions() options {
	return options{
		name:              "realtime",
		timeout:           DefaultTimeout,
		heartbeat:         DefaultHeartbeatInterval,
		vsn:               Vsn2,
		bufferSize:        DefaultSendBufferSize,
		handlerQueue:      DefaultHandlerQueue,
		handlerQueueBytes: DefaultHandlerQueueBytes,
		readLimit:         DefaultReadLimit,
		presenceMetas:     DefaultPresenceMaxMetas,
		presenceBytes:     DefaultPresenceMaxBytes,
		clock:             actors.RealClock{},
		logger:            actors.DiscardLogger(),
	}
}

func invalid(option, reason string) error {
	return &messages.OptionError{Option: option, Reason: reason}
}

// WithMissedSince makes the first join of each channel of the client
// report MissedSince t in its ChannelStatusEvent, as a rejoin reports the
// gap of a dropped socket: for a client that takes over subscriptions from
// another process whose last coverage was at t (package fleet sets it on a
// handover), so the Handler knows to fetch what changed since then.
// Default: zero (a first join reports nothing missed).
func WithMissedSince(t time.Time) Option {
	return func(o *options) error {
		o.missedSince = t
		return nil
	}
}

// WithName names the client: its top-level actor is named after it plus a
// number unique among the live clients of the process ("realtime-7"), so
// any number of clients may share a name. It must not contain "/".
// Default: "realtime".
func WithName(name string) Option {
	return func(o *options) error {
		if name == "" {
			return invalid("name", "must not be empty")
		}
		if strings.Contains(name, "/") {
			return invalid("name", `must not contain "/"`)
		}
		o.name = name
		return nil
	}
}

// WithTimeout bounds the dial (with the access-token call), every join,
// leave and acknowledged push, and every socket write. Default: 10 s.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return invalid("timeout", "must be positive")
		}
		o.timeout = d
		return nil
	}
}

// WithHeartbeatInterval sets how often a heartbeat is sent. A heartbeat
// still unanswered at the next tick closes the socket and reconnects.
// Default: 30 s, as the Elixir client documents (realtime-js uses 25 s).
// The server drops sockets idle for 60 s and a timeout takes two
// intervals to detect, so stay at or below 30 s.
func WithHeartbeatInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return invalid("heartbeat interval", "must be positive")
		}
		o.heartbeat = d
		return nil
	}
}

// WithReconnectAfter replaces the reconnect backoff: f(tries) is the delay
// before reconnect attempt tries (1-based; reset once a connection opens).
// Default: 1 s, 2 s, 4 s, 8 s, then 10 s, each reduced by up to 20 % jitter.
func WithReconnectAfter(f func(tries int) time.Duration) Option {
	return func(o *options) error {
		if f == nil {
			return invalid("reconnect after", "must not be nil")
		}
		o.reconnectAfter = f
		return nil
	}
}

// WithRejoinAfter replaces the channel rejoin backoff used after a join
// error or timeout. Default: 1 s, 2 s, 5 s, then 10 s.
func WithRejoinAfter(f func(tries int) time.Duration) Option {
	return func(o *options) error {
		if f == nil {
			return invalid("rejoin after", "must not be nil")
		}
		o.rejoinAfter = f
		return nil
	}
}

// WithMaxReconnectAttempts stops reconnecting after n consecutive failed
// attempts; the client then stays closed and reports ErrReconnectLimit. A
// connection that opened and closed again before it proved healthy (no
// heartbeat and no join answered, and up less than 30 s) is a failed
// attempt too, and so is not a reason to reset the reconnect backoff.
// Default: 0, never give up.
func WithMaxReconnectAttempts(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return invalid("max reconnect attempts", "must not be negative")
		}
		o.maxAttempts = n
		return nil
	}
}

// WithAccessToken sets the callback that returns the user's JWT. It is
// called before every connect; the token goes into every phx_join.
// Default: none (the server authorizes channels with the API key).
func WithAccessToken(f func(ctx context.Context) (string, error)) Option {
	return func(o *options) error {
		if f == nil {
			return invalid("access token", "must not be nil")
		}
		o.accessToken = f
		return nil
	}
}

// WithParams adds query parameters to the socket URL. apikey and vsn are
// set by the client and cannot be overridden here. Default: none.
func WithParams(p url.Values) Option {
	return func(o *options) error {
		for k := range p {
			if k == "apikey" || k == "vsn" {
				return invalid("params", "must not set "+k)
			}
		}
		o.params = p
		return nil
	}
}

// WithLogLevel sets the server-side log level of this connection:
// "info", "warning" or "error". Default: unset (the server uses "error").
func WithLogLevel(level string) Option {
	return func(o *options) error {
		switch level {
		case "info", "warning", "error":
			o.logLevel = level
			return nil
		}
		return invalid("log level", `must be "info", "warning" or "error"`)
	}
}

// WithVsn selects the serializer. Default: Vsn2 ("2.0.0"), as realtime-js.
func WithVsn(v Vsn) Option {
	return func(o *options) error {
		if _, err := wire.CodecFor(v); err != nil {
			return invalid("vsn", `must be "1.0.0" or "2.0.0"`)
		}
		o.vsn = v
		return nil
	}
}

// WithLogger sets the logger of the client and of protoactor-go. Default:
// silent. Secrets never appear in log records.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return invalid("logger", "must not be nil")
		}
		o.logger = l
		return nil
	}
}

// WithHandler sets the Handler that receives the client's events. Default:
// none (events are dropped).
func WithHandler(h Handler) Option {
	return func(o *options) error {
		if h == nil {
			return invalid("handler", "must not be nil")
		}
		o.handler = h
		return nil
	}
}

// WithSendBufferSize caps the pushes buffered while their channel cannot
// send (socket down, channel not joined yet). A push into a full buffer
// returns ErrBufferFull. Default: 100.
func WithSendBufferSize(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return invalid("send buffer size", "must be at least 1")
		}
		o.bufferSize = n
		return nil
	}
}

// WithReadLimit caps the size of one inbound WebSocket message, in bytes,
// so a misbehaving server cannot make the client allocate without bound.
// A larger message is not read: the client closes the socket with 1009
// (message too big), reconnects and rejoins, counts it in
// Stats.OversizedFrames and reports it: the ConnectionStateEvent of the
// close carries a *CloseError with code 1009 wrapping ErrFrameTooLarge. Default: 4 MiB — the server's largest payload (a
// broadcast at max_payload_size_in_kb 3000 KB + 500 B = 3,072,500 B; a
// postgres change near the 1 MiB WAL record limit with its old record)
// plus more than 1 MiB of envelope headroom, and below the 5 MB frame cap
// the server applies to its own input. Raise it if a project allows
// larger payloads or a channel's presence_state can exceed it. Minimum:
// 64 KiB.
func WithReadLimit(n int64) Option {
	return func(o *options) error {
		if n < MinReadLimit {
			return invalid("read limit", "must be at least 65536 bytes")
		}
		o.readLimit = n
		return nil
	}
}

// WithPresenceLimits bounds each channel's presence state, so a server
// cannot make the client hold presence without bound: at most maxMetas
// metas over all keys, and at most maxBytes bytes (keys, phx_refs and meta
// JSON, plus a fixed 48 bytes per meta and 64 per key). A presence_state or
// presence_diff that would grow a channel's state beyond either bound is
// applied up to it; the rest of its joins are refused — those members get
// no join event and are missing from PresenceState — counted in
// Stats.PresenceDropped and reported as an ErrorEvent with a
// *PresenceLimitError (wrapping ErrPresenceLimit). Leaves always apply, and
// an update at the limit that replaces a meta still does. Default: 50,000
// metas and 16 MiB per channel — well above the default concurrent-user
// limits of Supabase's plans, and four full-size presence_state messages
// at the default read limit.
func WithPresenceLimits(maxMetas, maxBytes int) Option {
	return func(o *options) error {
		if maxMetas < 1 {
			return invalid("presence limits", "maxMetas must be at least 1")
		}
		if maxBytes < 1024 {
			return invalid("presence limits", "maxBytes must be at least 1024")
		}
		o.presenceMetas, o.presenceBytes = maxMetas, maxBytes
		return nil
	}
}

// DefaultHandlerQueue is the default WithHandlerQueue.
const DefaultHandlerQueue = registry.DefaultHandlerQueue

// DefaultHandlerQueueBytes is the default WithHandlerQueueBytes: 64 MiB.
const DefaultHandlerQueueBytes = registry.DefaultHandlerQueueBytes

// WithHandlerQueueBytes caps, in bytes, the payloads (broadcast payloads,
// postgres records, presence metas, system texts) of the events waiting
// for a Handler, counting the batch it is working through. With
// WithHandlerQueue alone, a server sending large payloads to a slow
// Handler could make the client hold the queue length times the read
// limit. Beyond the bound events are dropped and reported exactly as for
// a full queue (Stats.HandlerDropped, *HandlerOverflowError); an event
// reaching an empty queue is always taken. Default: 64 MiB per queue.
// Minimum: 64 KiB.
func WithHandlerQueueBytes(n int64) Option {
	return func(o *options) error {
		if n < MinReadLimit {
			return invalid("handler queue bytes", "must be at least 65536 bytes")
		}
		o.handlerQueueBytes = n
		return nil
	}
}

// WithHandlerQueue caps the events waiting for a Handler. Handlers run on
// goroutines of their own, one queue for the client's Handler and one for
// each channel with a ChannelHandler, so a slow Handler never stalls the
// socket, heartbeats, joins or acks. If a Handler falls so far behind that
// its queue is full, further events are dropped, counted in
// Stats.HandlerDropped, and an ErrorEvent carrying a
// *HandlerOverflowError takes their place, so the gap is never silent.
// Default: 65536 events.
func WithHandlerQueue(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return invalid("handler queue", "must be at least 1")
		}
		o.handlerQueue = n
		return nil
	}
}

// WithClock replaces the clock behind heartbeats, timeouts and backoff, for
// tests. Default: the wall clock.
func WithClock(c Clock) Option {
	return func(o *options) error {
		if c == nil {
			return invalid("clock", "must not be nil")
		}
		o.clock = c
		return nil
	}
}

// WithDialer sets the WebSocket dialer (proxy, TLS roots…). Certificate
// verification is never turned off by the client. Default: a copy of
// websocket.DefaultDialer.
func WithDialer(d *websocket.Dialer) Option {
	return func(o *options) error {
		if d == nil {
			return invalid("dialer", "must not be nil")
		}
		o.dialer = d
		return nil
	}
}

// WithHTTPFallback makes Broadcast go over HTTP (POST
// …/realtime/v1/api/broadcast) while the socket is not open or the channel
// not joined, instead of buffering. Default: false.
func WithHTTPFallback(on bool) Option {
	return func(o *options) error { o.httpFallback = on; return nil }
}

// WithHTTPClient sets the HTTP client of HTTPSend and the HTTP fallback.
// Certificate verification is never turned off by the client, and
// redirects are never followed (they would carry the API key and token
// elsewhere; a 3xx answer is an *HTTPError), whatever the client's
// CheckRedirect. Default: http.DefaultClient, bounded per request by
// WithTimeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return invalid("http client", "must not be nil")
		}
		o.httpClient = hc
		return nil
	}
}

// WithHeader adds HTTP headers to the upgrade request (for example
// x-* headers that RLS policies read). Default: none.
func WithHeader(h http.Header) Option {
	return func(o *options) error {
		o.header = h.Clone()
		return nil
	}
}

// ManualClock is a Clock for tests: time moves only when Advance is
// called, and due timers fire inside Advance.
type ManualClock = actors.ManualClock

// NewManualClock returns a ManualClock set to start.
func NewManualClock(start time.Time) *ManualClock { return actors.NewManualClock(start) }
