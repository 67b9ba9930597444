package registry

import (
	"context"
	"github.com/supabase-go/realtime/internal/redact"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/store"
)

// Config configures the registry actor.
type Config struct {
	// Handler receives every event (optional; a channel may override it).
	Handler messages.Handler
	// Timeout bounds joins, leaves and acknowledged pushes.
	Timeout time.Duration
	// RejoinAfter is the channel rejoin backoff (optional; DefaultRejoin).
	RejoinAfter func(tries int) time.Duration
	// BufferSize caps the pushes buffered while channels cannot send.
	BufferSize int
	// PresenceMaxMetas and PresenceMaxBytes bound each channel's presence
	// state (optional; 0 means no bound). Metas beyond are refused,
	// counted and reported.
	PresenceMaxMetas int
	PresenceMaxBytes int
	// HandlerQueue caps the events waiting for each Handler queue
	// (optional; DefaultHandlerQueue). See Dispatcher.
	HandlerQueue int
	// HandlerQueueBytes caps the payload bytes waiting for each Handler
	// queue (optional; DefaultHandlerQueueBytes). See Dispatcher.
	HandlerQueueBytes int64
	// AccessToken is called before every rejoin and ahead of the token's
	// expiry (optional).
	AccessToken func(context.Context) (string, error)
	// Clock drives timeouts (optional; real clock).
	Clock actors.Clock
	// Logger (optional; silent).
	Logger *slog.Logger
	// Redact knows the client's secrets; every token the registry gets is
	// added to it, and the server's text in errors (join and push error
	// reasons, auth errors) passes through it (optional; nil: none).
	Redact *redact.Redactor

	// Filled in by the supervisor.
	// Table holds the channel records; the registry writes it
	// synchronously and resumes from it after a restart.
	Table      *store.Table
	Refs       *wire.Refs
	Store      *actor.PID
	Connection *actor.PID
	Lifetime   context.Context
	Stats      *Stats
	// OpenEpoch returns the epoch of the open connection, 0 if none.
	OpenEpoch func() uint64
	Token     *Token
	// Dispatch runs the Handlers; it outlives registry restarts.
	Dispatch *Dispatcher
	// Routes is the data plane's routing table the registry publishes
	// (optional; nil: every frame goes through the registry). It must
	// deliver to Dispatch.
	Routes *Routes
	// Presence publishes each channel's presence state for readers.
	Presence *PresenceView
	// Gens issues timer generations that stay unique across registry
	// restarts, so a timer message of an earlier instance never matches.
	Gens *atomic.Uint64
}

// PresenceView is the presence state of every channel, published by the
// registry before it delivers the presence events that produced it, so a
// Handler (or anyone it signals) reading it sees at least what the events
// said. Safe for concurrent use; the published states are immutable.
type PresenceView struct{ m sync.Map } // topic → messages.PresenceState

// Get returns the presence state of a topic (nil if none).
func (v *PresenceView) Get(topic string) messages.PresenceState {
	if s, ok := v.m.Load(topic); ok {
		return s.(messages.PresenceState)
	}
	return nil
}

func (v *PresenceView) set(topic string, s messages.PresenceState) { v.m.Store(topic, s) }
func (v *PresenceView) drop(topic string)                          { v.m.Delete(topic) }

// Stats are the registry's counters. Safe for concurrent use.
type Stats struct {
	// Delivered counts events handed to a Handler.
	Delivered atomic.Uint64
	// Queued is the number of events waiting for a Handler.
	Queued atomic.Int64
	// QueuedBytes is the payload bytes of the events waiting for (or
	// being handed to) a Handler.
	QueuedBytes atomic.Int64
	// HandlerDropped counts events dropped because a Handler's queue was
	// full (each gap is reported by a HandlerOverflowError).
	HandlerDropped atomic.Uint64
	// Stale counts frames dropped for a stale join_ref.
	Stale atomic.Uint64
	// Unrouted counts frames for topics with no channel (never created,
	// or removed).
	Unrouted atomic.Uint64
	// Closed counts frames dropped because their channel is closed
	// (unsubscribed, or closed by the server).
	Closed atomic.Uint64
	// Malformed counts frames dropped because their payload did not parse
	// (broadcast, system, postgres_changes, presence); each one is also
	// reported as an ErrorEvent.
	Malformed atomic.Uint64
	// UnknownReplies counts phx_reply frames whose ref matches no request
	// in flight (including replies that arrive after their timeout).
	UnknownReplies atomic.Uint64
	// JoinReplies counts replies to joins, ok or error: the server
	// answered on the open socket (the supervisor's proof of health).
	JoinReplies atomic.Uint64
	// UnknownEvents counts frames of a known channel whose event the
	// client does not handle.
	UnknownEvents atomic.Uint64
	// PresenceDropped counts presence metas not applied because the
	// channel's presence state was at its limits.
	PresenceDropped atomic.Uint64
	// HandlerPanics counts recovered Handler panics.
	HandlerPanics atomic.Uint64
	// Buffered is the number of pushes waiting in the send buffer.
	Buffered atomic.Int64
}

// Token holds the client-wide access token: the one fetched before the
// last connect, or set later. Safe for concurrent use.
type Token struct{ v atomic.Pointer[string] }

// Get returns the token ("" if none).
func (t *Token) Get() string {
	if p := t.v.Load(); p != nil {
		return *p
	}
	return ""
}

// Set replaces the token.
func (t *Token) Set(s string) { t.v.Store(&s) }

// DefaultRejoin is the channel rejoin backoff of phoenix.js: 1 s, 2 s, 5 s,
// then 10 s.
func DefaultRejoin(tries int) time.Duration {
	switch {
	case tries <= 1:
		return time.Second
	case tries == 2:
		return 2 * time.Second
	case tries == 3:
		return 5 * time.Second
	default:
		return 10 * time.Second
	}
}
