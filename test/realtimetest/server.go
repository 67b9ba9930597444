package realtimetest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
)

// WebSocket paths served by every Server. The first is what clients use
// behind the Supabase API gateway, the second is the Realtime server's own
// Phoenix socket path.
const (
	GatewayPath = "/realtime/v1/websocket"
	SocketPath  = "/socket/websocket"
)

// Defaults applied to zero Options fields.
const (
	// DefaultMaxChannelsPerClient is the server's max_channels_per_client.
	DefaultMaxChannelsPerClient = 100
	// DefaultMaxPayloadBytes is max_payload_size_in_kb (3000) plus the
	// server's 500 byte slack.
	DefaultMaxPayloadBytes = 3000*1024 + 500
	// MaxFrameBytes is the largest inbound WebSocket message the server reads.
	MaxFrameBytes = 5_000_000
)

// Options configures a Server. The zero value is ready to use.
type Options struct {
	// APIKey, when not empty and JWTSecret is empty, must match the
	// "apikey" query parameter (or the "x-api-key" header, which wins) of
	// every upgrade request, and the bearer token or "apikey" header of
	// every HTTP API request. Default: "" (no check).
	APIKey string
	// MaxChannelsPerClient limits the channels joined on one socket.
	// Default: 100.
	MaxChannelsPerClient int
	// MaxPayloadBytes limits the payload of a broadcast push.
	// Default: 3000*1024 + 500.
	MaxPayloadBytes int
	// Logger receives debug logs of every frame. Default: nil (silent).
	Logger *slog.Logger

	// Addr is the TCP address to listen on. Default: "127.0.0.1:0" (a
	// random port of the loopback interface).
	Addr string

	// JWTSecret, when not empty, switches on JWT verification (§1.5,
	// §3.3, §8): the socket token ("x-api-key" header, else "apikey"
	// query parameter), every channel token and every HTTP API token must
	// be an HS256/384/512 JWT signed with it, carrying "role" and an "exp"
	// in the future. APIKey is then not consulted. See SignJWT.
	JWTSecret string
	// Now is the clock used for JWT expiry, rate windows and stored
	// message times. Default: time.Now. Token re-check timers still run on
	// real time; with a custom clock use CheckTokens.
	Now func() time.Time
	// ConnectErrorDelay holds a refused handshake's HTTP answer back, like
	// the real server's CONNECT_ERROR_BACKOFF_MS (2 s there). Default: 0.
	ConnectErrorDelay time.Duration
	// JoinErrorDelay holds every join error reply back, like the real
	// server's CHANNEL_ERROR_BACKOFF_MS (5 s there). Default: 0.
	JoinErrorDelay time.Duration
	// PrivateOnly rejects joins of public channels with
	// "PrivateOnly: This project only allows private channels".
	PrivateOnly bool
	// Authorize decides the RLS policies of private channels (§8.3):
	// read (write=false) at join and on token refresh, write (write=true)
	// on the first broadcast / track of a channel and for private HTTP
	// broadcasts. ext is "broadcast" or "presence"; subTopic has no
	// "realtime:" prefix; claims are the channel token's claims (verified
	// with JWTSecret, else decoded without verification; nil if the token
	// is not a JWT). It runs on server goroutines and must not block.
	// Default: nil, which allows everything.
	Authorize func(claims map[string]any, subTopic string, ext string, write bool) bool
	// TokenCheckInterval caps the delay of the channel token re-check,
	// scheduled at min(TokenCheckInterval, exp - now) after each join and
	// refresh (§8.2). Default: 5 minutes.
	TokenCheckInterval time.Duration
	// MaxEventsPerSecond is the tenant events limit (§5.4; 100 on the
	// real server): client broadcast pushes, HTTP broadcasts and every
	// delivery to a channel count (see RateTick). While it is triggered,
	// a channel receiving a broadcast gets it, then "Too many messages per
	// second" and phx_close; the HTTP API answers 429. Default: 0
	// (unlimited).
	MaxEventsPerSecond int
	// RateTick switches the events and joins limits to the real server's
	// rate counters (rate_counter.ex, tenants.ex): counts are averaged
	// over up to 12 ticks of this length (5 s there) and the limits are
	// re-evaluated at each tick only. Default: 0 (fixed one-second
	// windows of the server clock, evaluated at every event: limits act
	// at once, which suits tests).
	RateTick time.Duration
	// MaxJoinsPerSecond is the tenant joins limit (100 on the real
	// server): over it a join is refused with "ClientJoinRateLimitReached:
	// Too many joins per second" and the socket closed. Default: 0
	// (unlimited).
	MaxJoinsPerSecond int
	// MaxConcurrentUsers limits the sockets that have joined a channel
	// (200 on the real server): a join from another socket is refused
	// with "ConnectionRateLimitReached: Too many connected users".
	// Default: 0 (unlimited).
	MaxConcurrentUsers int
	// IdleTimeout closes a socket that sent nothing (not even a heartbeat)
	// for that long, like Phoenix's websocket timeout (60 s on the real
	// server). Default: 0 (never).
	IdleTimeout time.Duration
	// PresencePushesPer30s is the per-channel client presence rate limit
	// (§6.1; 5 on the real server): one push more within a 30 s window
	// shuts the channel down with "Client presence rate limit exceeded".
	// Default: 0 (unlimited).
	PresencePushesPer30s int
	// HTTPRateLimit limits the HTTP broadcast API to that many requests
	// per second, answering 429 {"message":"You have exceeded your rate
	// limit"} beyond. Default: 0 (unlimited).
	HTTPRateLimit int

	// PostgresDSN, when not empty, switches on postgres_changes (§7) from
	// that PostgreSQL database (wal_level=logical, a superuser or a role
	// with REPLICATION that may SET ROLE to the tokens' roles, and the
	// "supabase_realtime" publication, which is never created; see
	// CheckPostgres) through logical replication, see postgres.go, rls.go
	// and WaitPostgres: joins get "Subscribed to PostgreSQL" (or a §7.4
	// error) system messages and matching INSERT/UPDATE/DELETE changes are
	// pushed as postgres_changes frames, filtered by row-level security
	// under the role and claims of each channel token. While the database
	// is unreachable every join fails with ReasonUnableToConnect. Package
	// test/pgtest starts a suitable throwaway database. Default: "" (no
	// database: bindings are echoed with their ids but no postgres_changes
	// system message or change is ever sent; replication_ready is answered
	// at once).
	PostgresDSN string

	// DiscardReceived stops recording inbound frames: Received and
	// Conn.Received stay empty (Conn.BroadcastsReceived still counts).
	// For benchmarks that push hundreds of thousands of frames, where
	// copying each one would make the server the bottleneck. Default:
	// false (every decoded inbound frame is recorded).
	DiscardReceived bool
}

// validate rejects negative limits and durations of the options added with
// the real server's limits.
func (o Options) validate() error {
	switch {
	case o.RateTick < 0:
		return errors.New("realtimetest: RateTick must not be negative")
	case o.IdleTimeout < 0:
		return errors.New("realtimetest: IdleTimeout must not be negative")
	case o.MaxJoinsPerSecond < 0:
		return errors.New("realtimetest: MaxJoinsPerSecond must not be negative")
	case o.MaxConcurrentUsers < 0:
		return errors.New("realtimetest: MaxConcurrentUsers must not be negative")
	}
	return nil
}

// Handshake records one WebSocket upgrade attempt, accepted or not.
type Handshake struct {
	Path   string
	Query  url.Values
	Header http.Header
	// Status is the HTTP status answered: 101 for accepted upgrades.
	Status int
	// ConnID is the id of the resulting Conn (0 when rejected).
	ConnID int
}

// Server is an in-process Supabase Realtime server listening on 127.0.0.1,
// modelled on net/http/httptest.Server. Create it with NewServer and stop it
// with Close.
type Server struct {
	opts     Options
	log      *slog.Logger
	ln       net.Listener
	http     *http.Server
	upgrader websocket.Upgrader
	hub      *hub
	hooks    hooks

	wg        sync.WaitGroup // every goroutine the server starts
	closeOnce sync.Once
	done      chan struct{} // closed by Close: interrupts artificial delays
	ext       serverExt     // tokens, limits, HTTP API and faults (faults.go)
	pg        *pgEngine     // postgres_changes; nil without PostgresDSN (postgres.go)

	mu         sync.Mutex // guards the fields below
	closed     bool
	conns      []*Conn
	connNotify chan struct{} // closed and replaced whenever conns grows
	handshakes []Handshake
	nextConnID int

	malformed atomic.Int64
}

// NewServer starts a Server on Options.Addr (default: a random port of
// 127.0.0.1). It panics if it cannot listen, like httptest.NewServer.
func NewServer(opts Options) *Server {
	s, err := Listen(opts)
	if err != nil {
		panic("realtimetest: failed to listen on a port: " + err.Error())
	}
	return s
}

// Listen is NewServer returning the listen error (or an invalid option)
// instead of panicking.
func Listen(opts Options) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.MaxChannelsPerClient <= 0 {
		opts.MaxChannelsPerClient = DefaultMaxChannelsPerClient
	}
	if opts.MaxPayloadBytes <= 0 {
		opts.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:       opts,
		log:        log,
		ln:         ln,
		done:       make(chan struct{}),
		connNotify: make(chan struct{}),
		upgrader: websocket.Upgrader{
			CheckOrigin:       func(*http.Request) bool { return true },
			EnableCompression: false,
		},
	}
	s.hub = newHub(s)
	mux := http.NewServeMux()
	mux.HandleFunc(GatewayPath, s.serveWebSocket)
	mux.HandleFunc(SocketPath, s.serveWebSocket)
	s.registerHTTP(mux)
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	s.startPostgres() // before serving: joins read s.pg
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return s, nil
}

// URL returns the base URL "http://127.0.0.1:<port>", the equivalent of a
// Supabase project URL (what supabase-js's createClient takes).
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// RealtimeURL returns "ws://127.0.0.1:<port>/realtime/v1", the endpoint a
// RealtimeClient is configured with (phoenix.js appends "/websocket").
func (s *Server) RealtimeURL() string { return "ws://" + s.ln.Addr().String() + "/realtime/v1" }

// WebSocketURL returns the full socket URL without query string,
// "ws://127.0.0.1:<port>/realtime/v1/websocket".
func (s *Server) WebSocketURL() string { return "ws://" + s.ln.Addr().String() + GatewayPath }

// Addr returns the listener address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close closes the listener and every socket (sending close code 1001 first,
// best effort) and waits until every goroutine the server started has
// exited. It is idempotent and safe to call concurrently.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := append([]*Conn(nil), s.conns...)
		close(s.connNotify) // wake WaitForConns callers
		s.connNotify = make(chan struct{})
		s.mu.Unlock()

		close(s.done)
		s.stopTimers()
		_ = s.http.Close() // listener + non-hijacked connections
		for _, c := range conns {
			c.shutdown()
		}
		s.stopPostgres()
		s.wg.Wait()
	})
}

// serveWebSocket validates the handshake (§1.3, §1.5) and upgrades.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()

	query := r.URL.Query()
	hs := Handshake{Path: r.URL.Path, Query: query, Header: r.Header.Clone()}
	reject := func(status int, body string) {
		hs.Status = status
		s.recordHandshake(hs)
		s.log.Debug("realtimetest: handshake rejected", "status", status, "query", r.URL.RawQuery)
		if body == "" {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}

	vsn, ok := negotiateVsn(query)
	if !ok {
		reject(http.StatusForbidden, "")
		return
	}
	codec, err := wire.CodecFor(vsn)
	if err != nil {
		reject(http.StatusForbidden, "")
		return
	}
	if status, body, ok := s.authenticateSocket(r, query); !ok {
		s.sleep(s.opts.ConnectErrorDelay)
		reject(status, body)
		return
	}

	if t := s.hooks.trailer.Swap(nil); t != nil {
		w = &trailerWriter{ResponseWriter: w, trailer: *t}
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader already answered with an HTTP error.
		hs.Status = http.StatusBadRequest
		s.recordHandshake(hs)
		return
	}
	ws.SetReadLimit(MaxFrameBytes)

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.nextConnID++
	c := newConn(s, s.nextConnID, ws, vsn, codec, r)
	s.conns = append(s.conns, c)
	hs.Status = http.StatusSwitchingProtocols
	hs.ConnID = c.id
	s.handshakes = append(s.handshakes, hs)
	close(s.connNotify)
	s.connNotify = make(chan struct{})
	s.wg.Add(2) // safe: this handler holds a count, and Close waits for it
	s.mu.Unlock()

	s.log.Debug("realtimetest: connected", "conn", c.id, "vsn", string(vsn), "query", r.URL.RawQuery)
	if code := s.hooks.closeOnAccept.Load(); code != 0 {
		c.Close(int(code), "")
	}
	go c.readLoop()
	go c.writeLoop()
}

// enter registers a handler goroutine unless the server is closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) recordHandshake(h Handshake) {
	s.mu.Lock()
	s.handshakes = append(s.handshakes, h)
	s.mu.Unlock()
}

// negotiateVsn maps the vsn query parameter to a serializer the way Phoenix
// does ("~> 1.0.0" / "~> 2.0.0"); absent means 1.0.0.
func negotiateVsn(q url.Values) (frame.Vsn, bool) {
	vals, present := q["vsn"]
	if !present || len(vals) == 0 {
		return frame.V1, true
	}
	v := vals[len(vals)-1]
	switch {
	case matchPatch(v, "1.0."):
		return frame.V1, true
	case matchPatch(v, "2.0."):
		return frame.V2, true
	}
	return "", false
}

// matchPatch reports whether v is prefix followed by a decimal patch number.
func matchPatch(v, prefix string) bool {
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Conns returns every connection accepted so far, in accept order,
// including connections that have since closed (see Conn.Done).
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Conn(nil), s.conns...)
}

// ActiveConns returns the accepted connections that are still open.
func (s *Server) ActiveConns() []*Conn {
	var out []*Conn
	for _, c := range s.Conns() {
		if !c.Closed() {
			out = append(out, c)
		}
	}
	return out
}

// WaitForConns blocks until at least n connections have been accepted since
// the server started (closed ones count, so WaitForConns(ctx, 2) waits for
// a reconnect) and returns Conns(). It fails when ctx ends first or the
// server is closed before n connections were accepted.
func (s *Server) WaitForConns(ctx context.Context, n int) ([]*Conn, error) {
	for {
		s.mu.Lock()
		if len(s.conns) >= n {
			out := append([]*Conn(nil), s.conns...)
			s.mu.Unlock()
			return out, nil
		}
		notify := s.connNotify
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return nil, errors.New("realtimetest: server closed")
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Conn returns the accepted connection with the given id, or nil.
func (s *Server) Conn(id int) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if c.id == id {
			return c
		}
	}
	return nil
}

// Handshakes returns every upgrade attempt on the WebSocket paths, in order,
// including the rejected ones (401, 403).
func (s *Server) Handshakes() []Handshake {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Handshake, len(s.handshakes))
	for i, h := range s.handshakes {
		h.Query = cloneValues(h.Query)
		h.Header = h.Header.Clone()
		out[i] = h
	}
	return out
}

// Malformed returns how many inbound frames, on all sockets, could not be
// decoded and were dropped.
func (s *Server) Malformed() int64 { return s.malformed.Load() }

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
