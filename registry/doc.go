// Package registry is the channel-registry actor: it runs every channel's
// state machine (closed, joining, joined, leaving, errored), builds join
// payloads, matches replies to pushes, routes inbound messages to the
// user's Handler and buffers pushes while a channel cannot send.
//
// Channels are rejoined after every reconnect with a new join_ref and the
// freshest access token. A join that gets no reply within the timeout is
// reported TIMED_OUT, left, and retried with backoff (1 s, 2 s, 5 s, then
// 10 s); an error reply is reported CHANNEL_ERROR with the server's reason
// and retried the same way; a server phx_close is terminal. Frames whose
// join_ref is not the channel's current one are dropped.
//
// Data frames of joined channels (broadcasts and postgres changes) need
// none of the state machine: the registry publishes each joined channel's
// route (Routes) and the socket reader hands those frames to the
// Dispatcher itself, keeping the registry's order and stale-frame rule
// (see Routes). Control frames (replies, phx_close, phx_error, system,
// presence) and every frame a route cannot decide exactly go through the
// registry.
//
// # Concurrency
//
// The state machines run on the actor's goroutine. Handlers do not: the
// registry queues each event on the Dispatcher, whose goroutines call a
// Handler one event at a time and in routing order (one queue for the
// client's Handler, one per channel with a Handler of its own), so a slow
// Handler never stalls joins, acks, states or other queues. A queue is
// bounded; an event that does not fit is dropped, counted and reported in
// its place as a HandlerOverflowError. A Handler panic is recovered and
// reported as an ErrorEvent; it never restarts the registry. Timers only Send messages tagged with what
// they belong to (topic and join_ref, or ref), and stale ones are ignored.
//
// # Lifecycle
//
// Every state change is written synchronously to the store's Table before
// the event that reports it is delivered, so readers never see a state
// older than the events. On Started the registry resumes from the Table:
// channels that were joined stay joined if the socket is still open,
// channels that were joining are joined again, buffered pushes and presence
// state are kept, and the token refresh is re-armed. Callers waiting on the
// old instance get ErrRestarted. Restarting and Stopping stop all timers;
// Stopping also waits (bounded) for a running access-token callback. The
// Dispatcher outlives registry restarts (queued events are still
// delivered) and is closed by the supervisor when the client closes; its
// worker goroutines exist only while a queue has events.
package registry
