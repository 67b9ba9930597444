package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/connection"
	"github.com/supabase-go/realtime/internal/redact"
	"github.com/supabase-go/realtime/internal/rtstate"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/registry"
	"github.com/supabase-go/realtime/store"
	"github.com/supabase-go/realtime/supervisor"
)

// Client is a Supabase Realtime client: a supervised actor tree holding one
// WebSocket, the channel registry and the channel store. Create it with
// New; all methods are safe for concurrent use.
type Client struct {
	opts   options
	url    string
	apiKey string // never logged or put in errors
	// redact knows the API key and every token the client has held; the
	// server's text passes through it on its way into errors and logs.
	redact *redact.Redactor
	codec  wire.Codec
	rt     *supervisor.Runtime
	st     *rtstate.State // rt's shared state

	closeOnce sync.Once
	closeErr  error
	// number is the client's number in clientNumbers (0: NewEmbedded),
	// released once by the first Close that saw the tree gone.
	number      uint64
	releaseOnce sync.Once
}

// New starts a client for a Supabase project. projectURL is the project's
// http(s) URL (https://<ref>.supabase.co, or http://127.0.0.1:54321 for the
// local stack) or a ws(s) socket URL used as given; apiKey is the
// project's anon or publishable key.
//
// New validates every option, starts the actor tree and begins connecting
// in the background; it does not wait for the socket. Watch
// ConnectionStateEvent or ConnectionState, or just Subscribe, which waits.
//
// Every client made with New runs its tree in one actor system shared by
// the whole process, created by the first New and kept for the life of
// the process (it costs a few megabytes once and runs no goroutine while
// no client does). Each client is a subtree of its own, named after
// WithName plus a number unique among the live clients of the process
// (reused after Close), so clients with the same name coexist; closing one stops its subtree only and leaves nothing of it
// behind. To run a client in an actor system of your own, use NewEmbedded.
func New(projectURL, apiKey string, opts ...Option) (*Client, error) {
	c, err := build(projectURL, apiKey, opts)
	if err != nil {
		return nil, err
	}
	system := actors.Shared()
	c.number = clientNumbers.take()
	name := fmt.Sprintf("%s-%d", c.opts.name, c.number)
	c.rt.AfterStop(actors.RouteLogs(name, c.opts.logger))
	if _, err := system.Root.SpawnNamed(supervisor.Props(c.rt), name); err != nil {
		c.rt.Cancel()
		return nil, fmt.Errorf("realtime: start: %w", err)
	}
	<-c.rt.Bound()
	return c, nil
}

// clientNumbers numbers the live clients made with New; the number makes
// each client's top-level actor name unique in the shared actor system.
// A number is reused once its client has closed and every goroutine of it
// has exited, so the names, and the entries they take in protoactor-go's
// process registry (1,024 × 32 Go maps, which never shrink), stay as many
// as the clients alive at once rather than growing with every client ever
// made.
var clientNumbers numbers

type numbers struct {
	mu   sync.Mutex
	last uint64
	free []uint64
}

func (n *numbers) take() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if k := len(n.free); k > 0 {
		x := n.free[k-1]
		n.free = n.free[:k-1]
		return x
	}
	n.last++
	return n.last
}

func (n *numbers) release(x uint64) {
	n.mu.Lock()
	n.free = append(n.free, x)
	n.mu.Unlock()
}

// NewEmbedded builds a client whose actor tree you spawn yourself, as a
// supervised child in your own protoactor tree:
//
//	c, _ := realtime.NewEmbedded(url, key, opts...)
//	ctx.Spawn(supervisor.Props(c.Runtime()))
//
// or at the top of an actor system of yours, under a name unique in it
// (system.Root.SpawnNamed(supervisor.Props(c.Runtime()), name)). Spawn it
// once. Calls made before the tree has started wait for it (bounded by
// their ctx). Close stops the tree; so does stopping its parent. WithLogger
// covers the client's own records; protoactor-go's records go to your
// system's logger.
func NewEmbedded(projectURL, apiKey string, opts ...Option) (*Client, error) {
	return build(projectURL, apiKey, opts)
}

func build(projectURL, apiKey string, opts []Option) (*Client, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	u, err := socketURL(projectURL, apiKey, &o)
	if err != nil {
		return nil, err
	}
	codec, err := wire.CodecFor(o.vsn)
	if err != nil {
		return nil, err
	}
	// Redaction is a property of the client: one redactor, and every log
	// line — the client's and protoactor-go's — goes through it.
	red := redact.NewRedactor(apiKey)
	o.logger = slog.New(redact.Handler(o.logger.Handler(), red))
	c := &Client{opts: o, url: u, codec: codec, apiKey: apiKey, redact: red}
	var h messages.Handler
	if o.handler != nil {
		h = o.handler
	}
	c.rt = supervisor.New(supervisor.Config{
		Connection: connection.Config{
			URL:         u,
			Header:      o.header,
			Codec:       codec,
			Dialer:      o.dialer,
			Timeout:     o.timeout,
			Heartbeat:   o.heartbeat,
			ReadLimit:   o.readLimit,
			AccessToken: o.accessToken,
			Clock:       o.clock,
			Logger:      o.logger,
			Redact:      red,
		},
		Registry: registry.Config{
			Handler:           h,
			AccessToken:       o.accessToken,
			Timeout:           o.timeout,
			RejoinAfter:       o.rejoinAfter,
			BufferSize:        o.bufferSize,
			HandlerQueue:      o.handlerQueue,
			HandlerQueueBytes: o.handlerQueueBytes,
			PresenceMaxMetas:  o.presenceMetas,
			PresenceMaxBytes:  o.presenceBytes,
			Clock:             o.clock,
			Logger:            o.logger,
			Redact:            red,
		},
		ReconnectAfter: o.reconnectAfter,
		MaxAttempts:    o.maxAttempts,
		Clock:          o.clock,
		Logger:         o.logger,
	})
	c.st = rtstate.Of(c.rt)
	return c, nil
}

// Runtime returns the client's supervisor runtime, for embedding the tree
// in your own actor system (see NewEmbedded and supervisor.Props).
func (c *Client) Runtime() *supervisor.Runtime { return c.rt }

// URL returns the socket URL with the API key redacted.
func (c *Client) URL() string { return redacted(c.url) }

// ready waits until the tree is running.
func (c *Client) ready(ctx context.Context) error {
	select {
	case <-c.rt.Stopped():
		return ErrClosed
	default:
	}
	select {
	case <-c.rt.Bound():
		return nil
	case <-c.rt.Stopped():
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request sends a message carrying a reply channel to the registry and
// waits for the answer.
func request[T any](ctx context.Context, c *Client, build func(reply chan<- T) any) (T, error) {
	var zero T
	if err := c.ready(ctx); err != nil {
		return zero, err
	}
	v, err := actors.Request(ctx, c.rt.System().Root, c.rt.RegistryPID(), c.rt.Stopped(), build)
	if errors.Is(err, actors.ErrStopped) {
		return zero, ErrClosed
	}
	return v, err
}

// requestClaimed is request for messages with side effects: when ctx ends
// before the registry took the message, the registry drops it (see
// actors.Claim).
func requestClaimed[T any](ctx context.Context, c *Client, build func(reply chan<- T, claim *actors.Claim) any) (T, error) {
	var zero T
	if err := c.ready(ctx); err != nil {
		return zero, err
	}
	v, err := actors.RequestClaimed(ctx, c.rt.System().Root, c.rt.RegistryPID(), c.rt.Stopped(), build)
	if errors.Is(err, actors.ErrStopped) {
		return zero, ErrClosed
	}
	return v, err
}

// tell sends a message to the registry without waiting.
// (An embedded runtime that is not spawned yet keeps the message until it
// starts.)
func (c *Client) tell(msg any) error {
	select {
	case <-c.rt.Stopped():
		return ErrClosed
	default:
	}
	c.rt.Tell(msg)
	return nil
}

// Channel returns a handle on the channel name ("room1"; a "realtime:"
// prefix is accepted and kept once). The channel is created on first use;
// if it already exists, opts are ignored and a handle on the existing
// channel is returned, as in realtime-js. Nothing is sent until Subscribe.
// The channel exists when Channel returns: ListChannels lists it,
// ChannelState is ChannelClosed, and HTTPSend sees its options.
func (c *Client) Channel(name string, opts ...ChannelOption) (*Channel, error) {
	topic := messages.Topic(name)
	sub := messages.SubTopic(topic)
	if sub == "" {
		return nil, invalid("channel name", "must not be empty")
	}
	var cfg messages.ChannelConfig
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.Replay != nil && !cfg.Private {
		return nil, invalid("replay", "is only allowed on private channels (add Private(true))")
	}
	select {
	case <-c.rt.Stopped():
		return nil, ErrClosed
	default:
	}
	// The record is created here, not by the registry when its message
	// arrives: ListChannels, ChannelState, HTTPSend (private flag, token)
	// and the HTTP fallback read the Table, and must see the channel as
	// soon as Channel returns. The registry adopts the record.
	c.st.Table.Create(store.Record{Topic: topic, Name: sub, Config: cfg, State: messages.ChannelClosed,
		// WithMissedSince: the first join reports it (registry setState).
		DownSince: c.opts.missedSince})
	if err := c.tell(&messages.CreateChannel{Topic: topic, Name: sub, Config: cfg}); err != nil {
		return nil, err
	}
	return &Channel{name: sub, topic: topic, c: c, private: cfg.Private}, nil
}

// On adds a binding to a channel: which broadcasts (and, with those
// features, presence and postgres changes) reach the Handler. Bindings
// added before Subscribe go into the first join; a binding that changes the
// join config of a joined channel makes it rejoin transparently.
func (c *Client) On(ch *Channel, b Binding) error {
	if err := c.own(ch); err != nil {
		return err
	}
	if b == nil {
		return invalid("binding", "must not be nil")
	}
	if err := b.Validate(); err != nil {
		return err
	}
	return c.tell(&messages.AddBinding{Topic: ch.topic, Binding: b})
}

func (c *Client) own(ch *Channel) error {
	if ch == nil {
		return invalid("channel", "must not be nil")
	}
	if ch.c != c {
		return invalid("channel", "belongs to another client")
	}
	return nil
}

// Subscribe joins the channel and waits for the first outcome: Subscribed
// (nil error), TimedOut (ErrJoinTimeout), ChannelError (a
// *ChannelErrorDetail with the server's reason) or Closed. After TimedOut
// and ChannelError the channel keeps retrying with backoff; later outcomes
// reach the Handler as ChannelStatusEvent. If ctx ends first, Subscribe
// returns ctx.Err() and the join goes on.
func (c *Client) Subscribe(ctx context.Context, ch *Channel) (SubscribeStatus, error) {
	if err := c.own(ch); err != nil {
		return "", err
	}
	res, err := request(ctx, c, func(reply chan<- messages.SubscribeResult) any {
		return &messages.Subscribe{Topic: ch.topic, Reply: reply}
	})
	if err != nil {
		return "", err
	}
	return res.Status, res.Err
}

// Unsubscribe leaves the channel and waits for the server's reply (or the
// timeout). The channel stays known in the closed state; Subscribe joins it
// again. Pushes still buffered for it are discarded and reported.
func (c *Client) Unsubscribe(ctx context.Context, ch *Channel) error {
	return c.leave(ctx, ch, false)
}

// RemoveChannel leaves the channel and forgets it.
func (c *Client) RemoveChannel(ctx context.Context, ch *Channel) error {
	return c.leave(ctx, ch, true)
}

func (c *Client) leave(ctx context.Context, ch *Channel, remove bool) error {
	if err := c.own(ch); err != nil {
		return err
	}
	err, rerr := request(ctx, c, func(reply chan<- error) any {
		return &messages.Unsubscribe{Topic: ch.topic, Remove: remove, Reply: reply}
	})
	if rerr != nil {
		return rerr
	}
	return err
}

// RemoveAllChannels leaves and forgets every channel.
func (c *Client) RemoveAllChannels(ctx context.Context) error {
	err, rerr := request(ctx, c, func(reply chan<- error) any {
		return &messages.RemoveAll{Reply: reply}
	})
	if rerr != nil {
		return rerr
	}
	return err
}

// ListChannels returns the client's channels in creation order. It reads
// the store's snapshot and never waits on an actor.
func (c *Client) ListChannels() []ChannelInfo {
	recs := c.st.Table.All()
	out := make([]ChannelInfo, 0, len(recs))
	for _, r := range recs {
		out = append(out, ChannelInfo{Name: r.Name, Topic: r.Topic, State: r.State, Subscribed: r.Wanted})
	}
	return out
}

// ChannelState returns the channel's state ("" if it does not exist). It
// never waits on an actor.
func (c *Client) ChannelState(ch *Channel) ChannelState {
	if ch == nil {
		return ""
	}
	r, ok := c.st.Table.Get(ch.topic)
	if !ok {
		return ""
	}
	return r.State
}

// ConnectionState returns the state of the socket. It never waits on an
// actor.
func (c *Client) ConnectionState() ConnectionState { return c.rt.ConnectionState() }

// Stats are the client's counters, sampled without waiting on an actor.
type Stats struct {
	State               ConnectionState
	ConnectionEpoch     uint64 // connection attempts so far
	FramesIn, FramesOut uint64
	MalformedFrames     uint64 // dropped: the frame or its payload could not be decoded
	StaleFrames         uint64 // dropped: stale join_ref
	UnroutedFrames      uint64 // dropped: no such channel (never created, or removed)
	// ClosedFrames counts frames dropped because their channel is closed
	// (after Unsubscribe, or a server phx_close): a closed channel
	// receives nothing until it is subscribed again.
	ClosedFrames uint64
	// OversizedFrames counts inbound messages over the read limit
	// (WithReadLimit); each one closed the socket with 1009 and caused a
	// reconnect.
	OversizedFrames uint64
	// UnknownReplies counts replies (phx_reply) whose ref matches no
	// request in flight, such as a reply that arrives after its timeout.
	UnknownReplies uint64
	// UnknownEvents counts frames for a channel with an event the client
	// does not handle; they are dropped (logged at Debug).
	UnknownEvents uint64
	// PresenceDropped counts presence metas not applied because the
	// channel's presence state was at its limits (WithPresenceLimits);
	// each refusal is also reported as an ErrorEvent.
	PresenceDropped uint64
	// HeartbeatsSent counts heartbeats written to the socket;
	// HeartbeatsAcknowledged those the server answered "ok";
	// HeartbeatErrors those answered otherwise or not writable;
	// HeartbeatTimeouts those unanswered when the next was due (each one
	// closed the socket). Every outcome is also a HeartbeatEvent.
	HeartbeatsSent         uint64
	HeartbeatsAcknowledged uint64
	HeartbeatErrors        uint64
	HeartbeatTimeouts      uint64
	// LastHeartbeatRTT is the round trip of the last answered heartbeat.
	LastHeartbeatRTT time.Duration
	// LastHeartbeat is the last heartbeat outcome ("" before the first).
	LastHeartbeat     HeartbeatStatus
	EventsDelivered   uint64 // events a Handler has returned from
	EventsQueued      int64  // events waiting for a Handler
	EventsQueuedBytes int64  // their payload bytes (bounded by WithHandlerQueueBytes)
	HandlerDropped    uint64 // events dropped: a Handler's queue was full
	HandlerPanics     uint64
	Buffered          int64 // pushes waiting in the send buffer
	BufferCapacity    int
}

// Stats returns a sample of the client's counters.
func (c *Client) Stats() Stats {
	cs, rs := &c.st.ConnStats, &c.st.RegStats
	return Stats{
		State:                  c.rt.ConnectionState(),
		ConnectionEpoch:        c.st.Epochs.Current(),
		FramesIn:               cs.FramesIn.Load(),
		FramesOut:              cs.FramesOut.Load(),
		MalformedFrames:        cs.Malformed.Load() + rs.Malformed.Load(),
		StaleFrames:            rs.Stale.Load(),
		UnroutedFrames:         rs.Unrouted.Load(),
		ClosedFrames:           rs.Closed.Load(),
		OversizedFrames:        cs.Oversized.Load(),
		UnknownReplies:         cs.UnknownReplies.Load() + rs.UnknownReplies.Load(),
		UnknownEvents:          rs.UnknownEvents.Load(),
		PresenceDropped:        rs.PresenceDropped.Load(),
		HeartbeatsSent:         cs.HeartbeatsSent.Load(),
		HeartbeatsAcknowledged: cs.HeartbeatsOK.Load(),
		HeartbeatErrors:        cs.HeartbeatErrors.Load(),
		HeartbeatTimeouts:      cs.HeartbeatTimeouts.Load(),
		LastHeartbeatRTT:       time.Duration(cs.HeartbeatRTT.Load()),
		LastHeartbeat:          cs.LastHeartbeat.Load().Status,
		EventsDelivered:        rs.Delivered.Load(),
		EventsQueued:           rs.Queued.Load(),
		EventsQueuedBytes:      rs.QueuedBytes.Load(),
		HandlerDropped:         rs.HandlerDropped.Load(),
		HandlerPanics:          rs.HandlerPanics.Load(),
		Buffered:               rs.Buffered.Load(),
		BufferCapacity:         c.opts.bufferSize,
	}
}

// Close stops the client: it closes the socket (close code 1000), stops
// every actor of its tree and returns once every goroutine the client
// started has exited (the actors' mailboxes, the socket reader, the dial
// and the Handler calls in progress, whose context is cancelled first), or
// when ctx ends (then with ctx's error; the client still stops, and a later
// Close waits again). It is idempotent. The server drops the client's
// channels and presences when the socket closes. Other clients, and the
// actor system they share, are not affected.
func (c *Client) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.rt.Cancel()
		select {
		case <-c.rt.Bound():
		default:
			// Embedded and never spawned: nothing runs.
			return
		}
		c.rt.System().Root.Poison(c.rt.PID())
	})
	select {
	case <-c.rt.Bound():
	default:
		return nil
	}
	if err := c.rt.Wait(ctx); err != nil {
		return err
	}
	if c.number != 0 {
		c.releaseOnce.Do(func() { clientNumbers.release(c.number) })
	}
	return c.closeErr
}
