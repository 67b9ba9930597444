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

	"github.com/supabase-go/realtime/messages"
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
	// APIKey, when not empty, must match the "apikey" query parameter (or
	// the "x-api-key" header, which wins) of every upgrade request.
	// Default: "" (no check).
	APIKey string
	// MaxChannelsPerClient limits the channels joined on one socket.
	// Default: 100.
	MaxChannelsPerClient int
	// MaxPayloadBytes limits the payload of a broadcast push.
	// Default: 3000*1024 + 500.
	MaxPayloadBytes int
	// Logger receives debug logs of every frame. Default: nil (silent).
	Logger *slog.Logger
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

	mu         sync.Mutex // guards the fields below
	closed     bool
	conns      []*Conn
	connNotify chan struct{} // closed and replaced whenever conns grows
	handshakes []Handshake
	nextConnID int

	malformed atomic.Int64
}

// NewServer starts a Server on a random port of 127.0.0.1. It panics if it
// cannot listen, like httptest.NewServer.
func NewServer(opts Options) *Server {
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("realtimetest: failed to listen on a port: " + err.Error())
	}
	s := &Server{
		opts:       opts,
		log:        log,
		ln:         ln,
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
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return s
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

		_ = s.http.Close() // listener + non-hijacked connections
		for _, c := range conns {
			c.shutdown()
		}
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
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}

	vsn, ok := negotiateVsn(query)
	if !ok {
		reject(http.StatusForbidden, "")
		return
	}
	codec, err := messages.CodecFor(vsn)
	if err != nil {
		reject(http.StatusForbidden, "")
		return
	}
	if s.opts.APIKey != "" {
		key := r.Header.Get("x-api-key")
		if key == "" {
			key = query.Get("apikey")
		}
		switch {
		case key == "":
			reject(http.StatusUnauthorized, `{"error":"API key is missing"}`)
			return
		case key != s.opts.APIKey:
			reject(http.StatusUnauthorized, `{"error":"The token provided is not a valid JWT"}`)
			return
		}
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
func negotiateVsn(q url.Values) (messages.Vsn, bool) {
	vals, present := q["vsn"]
	if !present || len(vals) == 0 {
		return messages.V1, true
	}
	v := vals[len(vals)-1]
	switch {
	case matchPatch(v, "1.0."):
		return messages.V1, true
	case matchPatch(v, "2.0."):
		return messages.V2, true
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
