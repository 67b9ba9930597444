package realtime

import (
	"context"

	"github.com/supabase-go/realtime/messages"
)

// Handler receives every event of a client: broadcasts, channel status
// changes and subscribe outcomes, connection state changes, server system
// messages and errors. It is the Go form of the Elixir client's
// handle_event callback.
//
// The contract:
//   - HandleEvent is called one event at a time, in the order the
//     channel-registry actor routed the events. Two calls never overlap, so
//     a Handler needs no locking of its own state. (A channel with a
//     ChannelHandler has a queue of its own, whose calls may run alongside
//     the client Handler's.)
//   - It runs on a goroutine of the client's, not on the registry actor: a
//     slow Handler delays only the events queued behind it; joins, acks,
//     heartbeats and other queues carry on, and a Handler may call the
//     client (Broadcast, Subscribe…). Events wait in a bounded queue
//     (WithHandlerQueue); a Handler so slow that it fills the queue gets an
//     ErrorEvent wrapping *HandlerOverflowError where events were dropped.
//   - Because of that, a call may return before the Handler has seen the
//     events the call caused: Subscribe returns SUBSCRIBED as soon as the
//     server replied, and the matching ChannelStatusEvent follows on the
//     Handler's queue. State readers (ChannelState, ListChannels,
//     ConnectionState) are already up to date when a call returns.
//   - A panic is recovered and reported to the same Handler as an
//     ErrorEvent wrapping *HandlerPanicError; the runtime keeps going.
//   - ctx is cancelled when the client closes.
//   - Events and their payloads are owned by the Handler and may be
//     retained.
type Handler interface {
	HandleEvent(ctx context.Context, ev Event)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, ev Event)

// HandleEvent calls f(ctx, ev).
func (f HandlerFunc) HandleEvent(ctx context.Context, ev Event) { f(ctx, ev) }

// Event is what a Handler receives; switch on its concrete type.
type Event = messages.Event

// Event types. They are value structs.
type (
	// BroadcastEvent is a broadcast message received on a channel.
	BroadcastEvent = messages.BroadcastEvent
	// ChannelStatusEvent reports a channel state change and, when a join
	// attempt ends, its SubscribeStatus.
	ChannelStatusEvent = messages.ChannelStatusEvent
	// ConnectionStateEvent reports a connection state change.
	ConnectionStateEvent = messages.ConnectionStateEvent
	// SystemEvent is a server "system" message, text verbatim.
	SystemEvent = messages.SystemEvent
	// ErrorEvent reports a problem with no caller to return to.
	ErrorEvent = messages.ErrorEvent
)

// Bindings select what a channel delivers; add them with Client.On.
type (
	// Binding is implemented by Broadcast, Presence and PostgresChanges.
	Binding = messages.Binding
	// Broadcast binds broadcast messages by event name ("" or "*" for all;
	// case-insensitive).
	Broadcast = messages.Broadcast
)

// DecodeJSON unmarshals raw JSON into v with json.Number for untyped
// numbers, so large integers keep every digit.
func DecodeJSON(raw []byte, v any) error { return messages.DecodeJSON(raw, v) }
