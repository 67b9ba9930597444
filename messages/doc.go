// Package messages is the vocabulary shared by the client, its actors and
// the code that embeds them:
//
//   - the events a Handler receives (BroadcastEvent, ChangeEvent,
//     PresenceEvent, ChannelStatusEvent, ConnectionStateEvent, SystemEvent,
//     ErrorEvent) and the Handler interface itself;
//   - the bindings a channel is created with (Broadcast, Presence,
//     PostgresChanges) and the channel states;
//   - the sentinel errors (prefixed "realtime:") and the typed errors that
//     wrap them, for errors.Is and errors.As;
//   - record decoding for postgres changes (DecodeRecord, Numeric,
//     ParseTimestamp) and DecodeJSON;
//   - the actor messages (CreateChannel, Subscribe, Push, Track, …) that the
//     client API sends to the registry and connection actors; an
//     application that embeds the actor tree (supervisor.Props) talks to it
//     with these.
//
// Package realtime re-exports the user-facing names as aliases
// (realtime.BroadcastEvent is messages.BroadcastEvent), so most programs
// never import this package; `go doc` here shows their fields and methods.
// Filters for PostgresChanges are built with package filter.
//
// # Concurrency
//
// Events and bindings are values and safe to copy and share. Their byte
// slices (BroadcastEvent.Payload, ChangeEvent.Record, …) are owned by the
// event: a Handler may keep them, and must not modify them while another
// goroutine reads them. They never alias the socket's read buffers; the
// payloads of small broadcasts are cut from shared 8 KiB blocks, so one
// kept payload keeps at most its block alive. Actor messages are sent once; their reply channels
// are buffered by the sender.
//
// # Lifecycle
//
// The package starts no goroutines and holds no resources.
package messages
