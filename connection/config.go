package connection

import (
	"context"
	"github.com/supabase-go/realtime/internal/redact"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/gorilla/websocket"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/registry"
)

// Config configures the connection actor. All fields are required unless
// noted.
type Config struct {
	// URL is the full socket URL, query included.
	URL string
	// Header is sent with the upgrade request (optional).
	Header http.Header
	// Codec encodes and decodes frames for the negotiated vsn.
	Codec wire.Codec
	// Dialer dials the socket (optional; a copy of
	// websocket.DefaultDialer with TLS verification on).
	Dialer *websocket.Dialer
	// Timeout bounds the access-token call plus the dial, and every write.
	Timeout time.Duration
	// Heartbeat is the heartbeat interval.
	Heartbeat time.Duration
	// ReadLimit is the largest inbound WebSocket message, in bytes
	// (optional; 0 means DefaultReadLimit). A larger message makes the
	// client close the socket with 1009 (message too big) and reconnect.
	ReadLimit int64
	// AccessToken is called before every connect (optional).
	AccessToken func(context.Context) (string, error)
	// Refs issues message refs; shared with the registry.
	Refs *wire.Refs
	// Epochs numbers incarnations; owned by the supervisor.
	Epochs *actors.Epoch
	// Clock drives heartbeats.
	Clock actors.Clock
	// Registry receives inbound frames.
	Registry *actor.PID
	// Routes is the registry's routing table (optional): data frames of
	// joined channels go from the reader straight to the Handlers'
	// Dispatcher when it has their route (see registry.Routes).
	Routes *registry.Routes
	// Logger (optional, silent by default).
	Logger *slog.Logger
	// Stats counts what the connection sees (optional).
	Stats *Stats
	// Redact removes the client's secrets from the server's text (close
	// reasons, rejected-upgrade bodies) before it goes into an error
	// (optional; nil: one that knows the URL's API key and the tokens
	// the connection fetches).
	Redact *redact.Redactor
}

// Stats are counters shared with the client. Safe for concurrent use.
type Stats struct {
	FramesIn  atomic.Uint64
	FramesOut atomic.Uint64
	Malformed atomic.Uint64
	// Oversized counts messages refused for exceeding the read limit;
	// each one closed its socket (1009).
	Oversized atomic.Uint64
	// UnknownReplies counts heartbeat replies whose ref is not the
	// heartbeat in flight.
	UnknownReplies atomic.Uint64
	// HeartbeatsSent counts heartbeats written to the socket.
	HeartbeatsSent atomic.Uint64
	// HeartbeatsOK counts heartbeats the server answered with "ok".
	HeartbeatsOK atomic.Uint64
	// HeartbeatErrors counts heartbeats answered with another status or
	// that could not be written.
	HeartbeatErrors atomic.Uint64
	// HeartbeatTimeouts counts heartbeats unanswered when the next was due.
	HeartbeatTimeouts atomic.Uint64
	// HeartbeatRTT is the last heartbeat round trip, in nanoseconds.
	HeartbeatRTT atomic.Int64
	// LastHeartbeat is the last heartbeat outcome.
	LastHeartbeat messages.HeartbeatRecord
}

// DefaultReadLimit is the read limit when Config.ReadLimit is 0: 4 MiB.
// The largest message a Realtime server sends on purpose is a broadcast
// at the default payload limit (max_payload_size_in_kb 3000 KB + 500 B =
// 3,072,500 B) inside its envelope, or a postgres change near the 1 MiB
// WAL record limit with its old record; 4 MiB leaves more than 1 MiB of
// envelope headroom and still refuses a 5 MB frame, the server's own
// inbound cap.
const DefaultReadLimit int64 = 4 << 20

// Connecting tells the parent that an incarnation started dialing.
type Connecting struct{ Epoch uint64 }

// Opened tells the parent that the socket is open. Token is the access
// token fetched before the dial ("" if none).
type Opened struct {
	Epoch uint64
	Token string
}

// Closing tells the parent that the socket is being closed on purpose.
type Closing struct{ Epoch uint64 }
