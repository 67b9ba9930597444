// Package realtimetest provides an in-process Supabase Realtime server for
// tests, in the spirit of net/http/httptest.
//
// A Server listens on 127.0.0.1 (random port; see Options.Addr) and speaks
// the Realtime WebSocket protocol and HTTP broadcast API described in
// docs/protocol.md to real clients: this module's Go client, raw
// gorilla/websocket clients, net/http, or realtime-js. Command
// cmd/realtime-server runs it standalone. A bare "§N.M" in this package's
// comments is a section of docs/protocol.md.
//
//	srv := realtimetest.NewServer(realtimetest.Options{APIKey: "anon"})
//	defer srv.Close()
//	url := srv.WebSocketURL() + "?apikey=anon&vsn=2.0.0"
//
// With JWT verification, as on a real project:
//
//	srv := realtimetest.NewServer(realtimetest.Options{JWTSecret: secret})
//	anon := realtimetest.SignJWT(secret, map[string]any{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()})
//
// # What it implements
//
//   - Handshake (§1): WebSocket at GatewayPath (/realtime/v1/websocket) and
//     SocketPath (/socket/websocket); vsn 1.0.0 (also when absent) or 2.0.0,
//     anything else is HTTP 403 with an empty body. The socket token is the
//     "x-api-key" header, else the "apikey" query parameter. With
//     Options.JWTSecret it must be an HS256/384/512 JWT signed with the
//     secret (URL-decoded, whitespace stripped), with a numeric "exp" in
//     the future, a numeric "iat" if present, and "role"; refusals are
//     answered with the §1.5 status and {"error":…} body (401 "API key is
//     missing", "Token has expired", "Fields `role` and `exp` are required
//     in JWT", "The token provided is not a valid JWT", "Failed to
//     validate JWT signature", "Failed to generate JWT signer, check your
//     JWT secret or JWKS configuration"; 500 "Error connecting to
//     Realtime"), after Options.ConnectErrorDelay. Without a secret,
//     Options.APIKey (if set) is compared verbatim.
//   - Framing (§2): V1 JSON objects, V2 JSON arrays and V2 binary frames,
//     encoded and decoded with package messages. Server→client frames follow
//     the origin rules of §2.5 (which frames carry join_ref and ref). Frames
//     that do not decode are dropped and counted (Server.Malformed,
//     Conn.Malformed); the socket stays up.
//   - Heartbeats, joins (postgres_changes bindings echoed with an integer id,
//     see BindingID; duplicate joins; "unmatched topic"), leaves (reply then
//     phx_close).
//   - The join pipeline of §3.3, in the server's order, after the OnJoin
//     hook: empty topic (TopicNameRequired), Options.PrivateOnly
//     (PrivateOnly), Options.MaxConcurrentUsers
//     (ConnectionRateLimitReached), Options.MaxJoinsPerSecond
//     (ClientJoinRateLimitReached, then the socket is closed with 1001),
//     the channel limit (ChannelRateLimitReached), the
//     channel token (the join's "user_token", else "access_token", a token
//     starting with "sb_" being ignored, else the socket token; with
//     JWTSecret: InvalidJWTToken / MalformedJWT / JwtSignatureError /
//     JwtSignerError reasons), with PostgresDSN the database
//     (UnableToConnectToProject: Realtime was unable to connect to the
//     project database while it is unreachable), the read policy of
//     private channels
//     (Options.Authorize; Unauthorized: You do not have permissions to read
//     from this Channel topic: <sub-topic>), replay
//     (UnableToReplayMessages: Replay is not allowed for public channels /
//     Replay params are not valid). Every join error reply is held back by
//     Options.JoinErrorDelay.
//   - Tokens (§8): access_token pushes are recorded and never answered;
//     equal, null and "sb_" tokens are ignored; others are verified and
//     the read policies of private channels re-evaluated; a failure sends
//     [join_ref,null,topic,"system",{"channel":<sub-topic>,"extension":"system","message":<msg>,"status":"error"}]
//     then [join_ref,join_ref,topic,"phx_close",{}] and drops the channel
//     ("Token has expired N seconds ago", "Fields `role` and `exp` are
//     required in JWT", "The token provided is not a valid JWT", "You do
//     not have permissions to read from this Channel topic: <t>", "You no
//     longer have permission to read from this Channel topic: <t>"). With
//     JWTSecret every join and refresh schedules a re-check at
//     min(Options.TokenCheckInterval, exp - now), which shuts an expired
//     channel down the same way ("Token has expired 0 seconds ago").
//   - Private channels (§8.3): read policies (broadcast, and presence when
//     enabled) at join, broadcasts withheld from channels without
//     broadcast read and presence diffs/state from channels without
//     presence read; write policies evaluated once per token: a broadcast
//     without write is dropped without ack, a track without write is
//     answered {"status":"error","response":{}}.
//   - Replay (§5.5): rows stored with StoreMessage are replayed to private
//     joins with config.broadcast.replay {since (unix ms, required), limit
//     (default 25, clamped to 1..25)}: the newest rows, oldest first, right
//     after the join reply, with meta {"replayed":true,"id":…}; binary rows
//     as kind 4 to V2 sockets only.
//   - Broadcast (§5.1–5.3): JSON pushes fanned out verbatim, binary kind 3
//     pushes fanned out as kind 4 to V2 sockets and JSON-converted to V1
//     sockets, self and ack, payload size limit.
//   - Presence (§6): track/untrack, presence_state after a join with
//     presence enabled, presence_diff with phx_ref / phx_ref_prev, leaves on
//     untrack, leave, crash and disconnect.
//   - HTTP broadcast API (§5.6) on the same listener, at BroadcastPath and
//     GatewayBroadcastPath (query strings such as "?apikey=…&vsn=2.0.0"
//     are ignored). Auth: "Authorization: Bearer", else the "apikey"
//     header; verified with JWTSecret, else compared with APIKey (bearer or
//     apikey header) if set; 401 {"message":"Unauthorized"}. Batch
//     POST …/api/broadcast: 202 with an empty body; 422 with the
//     changeset shape {"errors":{"messages":[{…},{},…]}} ("can't be blank",
//     "is invalid", "Payload size exceeds tenant limit"); 429 {"message":
//     "You have exceeded your rate limit"} / "Too many messages to
//     broadcast, please reduce the batch size"; messages are delivered as
//     text broadcasts {"payload","event","type"[,"meta":{"id"}]} to the
//     public or private namespace, private ones only if Authorize allows
//     writing (others skipped silently). Single event POST
//     …/api/broadcast/{topic}/events/{event}[?private=true]: a JSON body
//     (re-encoded with sorted keys; non-objects wrapped as {"_json":…})
//     becomes a user broadcast (kind 4 to V2, JSON-converted to V1), an
//     application/octet-stream body a binary kind 4 (V2 only), no content
//     type the payload {}, anything else 415 {"error":"Unsupported Media
//     Type. Use application/json or application/octet-stream"}; 403
//     {"message":"Unauthorized"} for a private topic without write; 422
//     {"errors":{"payload":["Payload size exceeds tenant limit"]}}; 202.
//     CORS preflights get 204 with Access-Control-Allow-Origin "*".
//   - Limits: Options.MaxEventsPerSecond (a channel receiving a broadcast
//     while it is triggered gets the message, then "Too many messages per
//     second" + phx_close; HTTP 429), averaged over Options.RateTick ticks
//     like the real rate counters when set; Options.PresencePushesPer30s
//     ("Client presence rate limit exceeded" + phx_close, no reply), a
//     track payload over MaxPayloadBytes ("Track message size exceeded" +
//     phx_close), Options.HTTPRateLimit (HTTP 429), Options.IdleTimeout
//     (a silent socket is dropped). RealLimits returns the real server's
//     values; cmd/realtime-server and package devenv use them.
//   - postgres_changes with row-level security (postgres.go, rls.go): per
//     subscriber role and claims, as realtime.apply_rls.
//
// Public and private channels of the same topic are separate fan-out
// namespaces, as on the real server.
//
// # Options
//
// Addr (listen address, default 127.0.0.1:0), APIKey, JWTSecret, Now (the
// clock of JWT expiry, rate windows and stored messages), PrivateOnly,
// Authorize (the channel RLS stand-in; nil allows everything),
// TokenCheckInterval (5 min), MaxChannelsPerClient (100), MaxPayloadBytes
// (3000 KiB + 500 B), HTTPRateLimit (0 = unlimited), PostgresDSN,
// DiscardReceived, Logger. Listen is NewServer returning the listen error.
//
// The limits and delays default to off in the Go API, so tests go fast
// and set what they check; the real server's values are those of
// RealLimits, the defaults of cmd/realtime-server (a flag each) and of
// package devenv:
//
//	option                 Go API default           real server (RealLimits)
//	JoinErrorDelay         0                        5 s   CHANNEL_ERROR_BACKOFF_MS
//	ConnectErrorDelay      0                        2 s   CONNECT_ERROR_BACKOFF_MS
//	MaxEventsPerSecond     0 (unlimited)            100   TENANT_MAX_EVENTS_PER_SECOND
//	MaxJoinsPerSecond      0 (unlimited)            100   TENANT_MAX_JOINS_PER_SECOND
//	MaxConcurrentUsers     0 (unlimited)            200   TENANT_MAX_CONCURRENT_USERS
//	MaxChannelsPerClient   100                      100   TENANT_MAX_CHANNELS_PER_CLIENT
//	PresencePushesPer30s   0 (unlimited)            5     CLIENT_PRESENCE_MAX_CALLS / 30 s
//	IdleTimeout            0 (never)                60 s  Phoenix websocket timeout
//	RateTick               0 (1 s windows, at once) 5 s   tenants.ex rate counters, 12 buckets
//
// # Hooks
//
// Tests script and observe the server through goroutine-safe methods:
// OnJoin (Accept, Reject, Ignore, delays), SetWithholdHeartbeats,
// SetReplyDelay, Conns / WaitForConns, Conn.Close (any close code: 1000,
// 1001, 1012, …; 1006 for an abrupt TCP drop), Conn.SendRaw and Conn.Push
// (inject frames), Broadcast / UserBroadcast (server-originated
// broadcasts), CrashChannel (phx_error), CloseChannel (phx_close),
// ShutdownChannel (system error + phx_close), SendSystem (any system
// message), SystemDisconnect ("Server requested disconnect" + 1012),
// CloseAll, CheckTokens (run the expiry re-check now, e.g. after moving a
// custom clock), ExpireTokens (every channel gets "Token has expired 0
// seconds ago" + phx_close, with or without JWTSecret), SetHTTPStatus
// (script the next HTTP API answers), StoreMessage (replay rows), and the
// recordings Received, Conn.Received, Conn.ChannelClaims, Joins,
// AccessTokens, Handshakes, HTTPRequests, StoredMessages and
// EventsPerSecond. SignJWT mints tokens for tests and demos.
//
// # Blast mode (benchmarks)
//
// Conn.Blast writes pre-framed bytes (AppendWebSocketFrame around
// EncodeFrame output, many frames concatenated into one large chunk,
// repeated) straight to the socket's TCP connection on its writer
// goroutine, so the server spends almost nothing per frame and a client's
// receive rate is measured rather than the server's send rate.
// Options.DiscardReceived turns off the recording of inbound frames and
// Conn.BroadcastsReceived counts broadcast pushes, for send benchmarks.
// test/bench uses both.
//
// # Not reproduced
//
// Tenants (Host header, 404 Tenant not found, 403 suspended), JWKS and
// RS/ES/EdDSA tokens (they fail as JwtSignerError), configurable claim
// validators, the tenant database steps of the join other than an
// unreachable database (InitializingProjectConnection,
// DatabaseLackOfConnections, RealtimeRestarting, …), the RLS of private
// channels' realtime.messages policies (Authorize stands in for the
// probe-row checks; presence read is evaluated at every private join, not
// lazily on the first track; postgres_changes RLS is real, see rls.go),
// persistence of HTTP broadcasts and DB broadcasts (realtime.send:
// StoreMessage only feeds replays) and the suppression of live messages
// already replayed, max_presence_events_per_second ("Too many presence
// messages per second"), max_bytes_per_second, the rate-limit response
// headers, the close frame of an idle timeout (the TCP connection is
// dropped) and the no-channel janitor, the access_token refresh throttle
// of recent servers, replication_ready and log_level effects.
//
// # Fidelity to the real server
//
// Divergences once listed against supabase/realtime 2.129.x, and what
// became of them:
//
//   - Row-level security of postgres_changes: fixed (rls.go, after
//     apply_rls.sql): per role column privileges, Error 401 without SELECT
//     on the key, policies evaluated under the role with
//     request.jwt.claims, RLS DELETEs carry the key only, a missing role
//     fails the subscription. Kept: tokens that are not JWTs subscribe
//     without a role (the Go API's plain APIKey mode has no claims).
//   - Publication created silently: fixed; it is never created, the check
//     says how (pgtest creates it FOR ALL TABLES in its throwaway
//     database, like a project's own publication; NoPublication opts out).
//   - Real defaults off: fixed in cmd/realtime-server and devenv
//     (RealLimits, a flag each); rates averaged over 5 s ticks
//     (RateTick); the message that hits the events limit is delivered,
//     then the channel shut down. Kept: the Go API defaults stay off for
//     tests (documented above).
//   - Silent database problems: fixed: CheckPostgres at every session and
//     at cmd/realtime-server start (wal_level, REPLICATION, publication,
//     with the fix), warnings instead of debug logs, and joins fail with
//     UnableToConnectToProject while the database is unreachable. Kept:
//     wal_level / privilege problems of a reachable database do not fail
//     joins (the real server's replication errors surface later too);
//     subscriptions wait with MessageUnableToConnect.
//   - Presence key without config.presence: fixed (a random UUID; the
//     real server uses UUID v1, here v4).
//   - Replay params: fixed (since required, limit 25 by default).
//   - Legacy joins: fixed (the topic's binding is echoed with its id).
//   - access_token refresh: fixed (postgres bindings are subscribed again
//     with the new claims: a second "Subscribed to PostgreSQL").
//   - unmatched topic: fixed (join_ref null).
//   - private:"true": fixed (Ecto's boolean cast: "true" and "1").
//   - track without payload: fixed (tracks {}).
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
// blocks stalls that socket only. The Authorize hook runs on reader
// goroutines, HTTP handlers and token re-check timers.
//
// Token re-checks (JWTSecret only) are time.AfterFunc timers, one per
// channel; a firing timer runs the check on its own short-lived goroutine,
// counted like every other server goroutine. HTTP API requests run on
// net/http handler goroutines, also counted.
//
// # Lifecycle
//
// NewServer starts listening at once. A socket ends when the client closes
// it, when a test closes it (Conn.Close, CloseAll, SystemDisconnect), or on
// Server.Close; its channels are then detached (presence leaves are fanned
// out) and Conn.Done is closed. Conns keeps closed sockets, so
// WaitForConns(ctx, n) can wait for reconnects.
//
// Close closes the listener, stops pending token re-check timers,
// interrupts ConnectErrorDelay waits, sends close code 1001 to every open
// socket, drops the TCP connections and waits until every goroutine the
// server started (HTTP serving, upgrade and API handlers, readers,
// writers, firing timers) has returned.
// It is idempotent. No server goroutine outlives Close.
package realtimetest
