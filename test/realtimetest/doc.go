// Package realtimetest provides an in-process Supabase Realtime server for
// tests, in the spirit of net/http/httptest.
//
// A Server listens on 127.0.0.1 (random port) and speaks the Realtime
// WebSocket protocol described in PROTOCOL.md to real clients: this
// module's Go client, raw gorilla/websocket clients, or realtime-js.
//
//	srv := realtimetest.NewServer(realtimetest.Options{APIKey: "anon"})
//	defer srv.Close()
//	url := srv.WebSocketURL() + "?apikey=anon&vsn=2.0.0"
//
// # What it implements
//
//   - Handshake (§1): WebSocket at GatewayPath (/realtime/v1/websocket) and
//     SocketPath (/socket/websocket); vsn 1.0.0 (also when absent) or 2.0.0,
//     anything else is HTTP 403 with an empty body; optional API key check
//     ("x-api-key" header, else "apikey" query) answered with the server's
//     401 JSON bodies.
//   - Framing (§2): V1 JSON objects, V2 JSON arrays and V2 binary frames,
//     encoded and decoded with package messages. Server→client frames follow
//     the origin rules of §2.5 (which frames carry join_ref and ref). Frames
//     that do not decode are dropped and counted (Server.Malformed,
//     Conn.Malformed); the socket stays up.
//   - Heartbeats, joins (postgres_changes bindings echoed with an integer id,
//     see BindingID; duplicate joins; channel limit; "unmatched topic"),
//     leaves (reply then phx_close), access_token (recorded, never answered).
//   - Broadcast (§5.1–5.3): JSON pushes fanned out verbatim, binary kind 3
//     pushes fanned out as kind 4 to V2 sockets and JSON-converted to V1
//     sockets, self and ack, payload size limit.
//   - Presence (§6): track/untrack, presence_state after a join with
//     presence enabled, presence_diff with phx_ref / phx_ref_prev, leaves on
//     untrack, leave, crash and disconnect.
//
// Public and private channels of the same topic are separate fan-out
// namespaces, as on the real server; no authorization is performed.
//
// # Hooks
//
// Tests script and observe the server through goroutine-safe methods:
// OnJoin (Accept, Reject, Ignore, delays), SetWithholdHeartbeats,
// SetReplyDelay, Conns / WaitForConns, Conn.Close (any close code, 1006 for
// an abrupt TCP drop), Conn.SendRaw and Conn.Push (inject frames),
// Broadcast / UserBroadcast (server-originated broadcasts), CrashChannel,
// CloseChannel, SystemDisconnect, CloseAll, and the recordings Received,
// Conn.Received, Joins, AccessTokens and Handshakes.
//
// # Concurrency
//
// Every exported method is safe for concurrent use.
//
// Each accepted socket has exactly two goroutines. The reader decodes and
// handles inbound frames strictly in order (so a socket's pushes are
// processed sequentially, as by a Phoenix socket process). The writer
// drains an unbounded FIFO queue: producers (the reader, fan-out from other
// sockets, test hooks) never block on a slow client. A queued item may
// carry a "not before" time (reply delays); since the queue is FIFO,
// everything queued after it on that socket waits too, which mirrors a
// Phoenix socket blocked in a slow join.
//
// The hub maps topics to subscribed channels. Fan-out queues frames while
// holding the hub lock, so every subscriber sees broadcasts and presence
// diffs of a topic in the same order, and a join reply (plus its
// presence_state) is always queued before anything fanned out to the new
// channel. Lock order: Conn.mu and the hub lock are never held together;
// the per-socket queue lock is a leaf.
//
// OnJoin hooks run on the joining socket's reader goroutine; a hook that
// blocks stalls that socket only.
//
// # Lifecycle
//
// NewServer starts listening at once. A socket ends when the client closes
// it, when a test closes it (Conn.Close, CloseAll, SystemDisconnect), or on
// Server.Close; its channels are then detached (presence leaves are fanned
// out) and Conn.Done is closed. Conns keeps closed sockets, so
// WaitForConns(ctx, n) can wait for reconnects.
//
// Close closes the listener, sends close code 1001 to every open socket,
// drops the TCP connections and waits until every goroutine the server
// started (HTTP serving, upgrade handlers, readers, writers) has returned.
// It is idempotent. No server goroutine outlives Close.
package realtimetest
