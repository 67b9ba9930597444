// Package realtime is a Supabase Realtime client for Go services, built as
// a supervised actor runtime on protoactor-go.
//
// A Client runs a small actor tree: a supervisor that spawns a connection
// actor (the WebSocket, heartbeats, reconnection with exponential backoff),
// a channel-registry actor (channel state machines, routing to your
// Handler, the send buffer) and a store actor (channel data that survives
// restarts). You implement Handler and receive every event — broadcasts,
// channel status, connection state, heartbeat outcomes, system messages,
// errors — in order, one at a time.
//
//	c, err := realtime.New("https://<ref>.supabase.co", anonKey,
//		realtime.WithHandler(realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
//			if b, ok := ev.(realtime.BroadcastEvent); ok {
//				fmt.Println(b.Event, string(b.Payload))
//			}
//		})))
//	ch, _ := c.Channel("room1", realtime.BroadcastSelf(true))
//	_ = c.On(ch, realtime.Broadcast{Event: "cursor"})
//	status, err := c.Subscribe(ctx, ch)
//	_ = c.Broadcast(ctx, ch, "cursor", map[string]int{"x": 1})
//	defer c.Close(ctx)
//
// # Control plane and data plane
//
// The actors are the control plane: joins, leaves, replies, acks, tokens,
// reconnection and channel state go through their mailboxes, one message at
// a time, and a crash restarts them under the supervisor. Data frames take
// a shorter path, the data plane: the connection's reader goroutine decodes
// frames and hands broadcasts and postgres changes of joined channels
// straight to the Handler's queue by a routing table the registry publishes;
// other frames (replies, presence, system) go to the registry in batches
// through an Inbox (one mailbox message per batch, not per frame), and a
// data frame never overtakes them. A Dispatcher goroutine per Handler queue
// delivers events. Channel data lives in a shared table
// (package store) that the store actor owns and the data plane reads
// without a mailbox round trip. Both choices were measured (see
// BENCHMARKS.md): a mailbox message and an actor turn per frame cost more
// than the frame's own decoding.
//
// # Types
//
// The event, binding, state and error types used here are defined in
// package messages and re-exported under the same names; `go doc
// github.com/supabase-go/realtime/messages BroadcastEvent` shows a type's
// fields and methods. Postgres changes filters are built with package
// filter (filter.Eq, filter.In, filter.And, …).
//
// # Secrets and the server's text
//
// Redaction is a property of the client: it knows its API key and every
// access token it has held (WithAccessToken's, SetAuth's,
// SetChannelAuth's), and every string the server sent that goes into an
// error (ConnectError.Message, CloseError.Text, ChannelErrorDetail.Reason,
// AuthError.Reason, PushError.Reason and Response, HTTPError.Message, a
// HeartbeatEvent's error), an
// event's error or a log line — the client's and protoactor-go's, at every
// level — has those replaced by "REDACTED". The one place where the
// server's text stays verbatim is SystemEvent.Message: a Handler that logs
// it logs what the server wrote.
//
// # Concurrency
//
// Every Client method is safe for concurrent use. Methods that can block
// take a context.Context first; they talk to the actors by sending a
// message that carries a reply channel and wait on it and on ctx. Handler
// calls run one at a time and in order on a goroutine of the client's (not
// the registry's), so a slow Handler delays only the events behind it, and
// a Handler may call the client. A panic in it is recovered and reported as
// an ErrorEvent. The socket reader never runs user code.
//
// # Lifecycle
//
// New validates the options, starts the tree and connects in the
// background. The client reconnects on its own after any socket failure,
// with backoff, and rejoins every channel that was joined or joining, with
// a fresh join_ref and token. Close closes the socket, stops every actor and
// returns when no goroutine of the client is left; it is idempotent. To run
// the tree as a child of your own protoactor actor, see NewEmbedded and
// package supervisor.
//
// A channel exists as soon as Channel returns. Once closed (Unsubscribe,
// or a phx_close from the server) it receives nothing until it is
// subscribed again, and once removed nothing at all, as in phoenix.js,
// which drops a closed channel from its socket; what arrives for it anyway
// is dropped and counted (Stats.ClosedFrames, Stats.UnroutedFrames).
//
// # Many clients in one process
//
// A process may hold any number of clients (one per project or tenant,
// say). Clients made with New share one protoactor-go actor system, created
// by the first New and kept until the process exits: it costs a few
// megabytes once, holds no goroutine while no client runs, and is not
// shut down when the last client closes (a later New reuses it). Each
// client is a supervised subtree of its own in that system, under its
// WithName plus a number unique among the live clients (reused after a
// Close), so clients may share a name; a failure or a Close in one never
// touches another, and a closed client leaves nothing behind in the
// system. An idle client with one
// joined channel costs one goroutine (the socket reader) and its buffers;
// see README.md for the measured figures.
package realtime
