// Package connection is the connection actor: it owns the WebSocket of one
// client, dials it (calling the access-token callback first), runs the
// heartbeat, writes frames and reads them on a reader goroutine.
//
// Each incarnation of the actor is one connection attempt. Any failure — a
// failed dial, a read error, a server close, a write error, a heartbeat
// still unanswered at the next tick — tears the socket down and panics with
// a typed error (*messages.ConnectError, *messages.CloseError or
// messages.ErrHeartbeatTimeout). The supervisor's restart policy turns that
// into a reconnect with exponential backoff.
//
// Bad input: every socket has a read limit (Config.ReadLimit, 4 MiB by
// default). The reader answers a larger message with close 1009, as
// gorilla does, and exits; the actor counts it (Stats.Oversized) and fails with a
// *messages.CloseError of code 1009 wrapping messages.ErrFrameTooLarge, so
// the client reconnects. Text
// messages that are not valid UTF-8 are refused before decoding and
// dropped as malformed (the socket stays up); heartbeat replies for an
// unknown ref are counted (Stats.UnknownReplies).
//
// Frames: after gorilla/websocket's handshake the reader goroutine parses
// the server's frames itself (frames.go; handshakeconn.go keeps gorilla's
// handshake from buffering any of them). With compression enabled, or
// wss:// through a proxy, gorilla reads them (through burstconn.go).
//
// Memory: an idle socket holds gorilla/websocket's 128-byte read buffer
// (it reads only the upgrade response) and the frame reader's 256-byte
// buffer, and nothing else of size. The reads adapt to the traffic: a
// burst is read 64 KiB at a time into a buffer from a process-wide pool,
// returned once a read brings no more than the small buffer holds (a TLS
// read brings one record, at most 16 KiB, so "half full" would not do). Read
// chunks (64 KiB) come from a pool shared by the process: the reader takes
// one when a message arrives and parks it in its Inbox while it waits; the
// Inbox recycles it once the registry has released every frame read into
// it. Write buffers come from a websocket.BufferPool shared by every
// socket with the default write buffer size and are held only while a
// message is written.
//
// # Concurrency
//
// The actor is the socket's single writer (gorilla/websocket allows one
// concurrent writer); every write has a deadline of Config.Timeout. One
// reader goroutine per incarnation does the blocking reads. It decodes
// frames; data frames (broadcasts, postgres changes) of joined channels go
// straight to the Handlers' Dispatcher by the routes the registry
// publishes (registry.Routes), every other frame to the registry actor
// through the incarnation's Inbox. It never runs user code and never waits
// on a Handler (a full Dispatcher queue drops the event and reports it);
// it waits only while the registry is a full Inbox behind (wire.Inbox).
// Heartbeat replies go back to the connection actor. Every message from the
// reader, the dialer and the heartbeat timer carries the incarnation's
// epoch; the actor drops messages of older epochs, because the PID and
// mailbox survive restarts.
//
// # Lifecycle
//
// Started begins a dial on a goroutine owned by the incarnation. Restarting
// and Stopping tear down: cancel the dial (which also closes a connection
// still in its TLS or HTTP handshake) and wait for it, stop the
// heartbeat timer, close the socket (with close code 1000 when stopping on
// purpose) and wait for the reader goroutine to exit. After teardown no
// goroutine of the incarnation is left.
package connection
