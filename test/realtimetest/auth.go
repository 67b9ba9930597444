package realtimetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supabase-go/realtime/internal/frame"
)

// DefaultTokenCheckInterval is the longest delay between two expiry
// re-checks of a channel token (§8.2).
const DefaultTokenCheckInterval = 5 * time.Minute

// Join error reasons of the pipeline steps reproduced here (§3.3).
const (
	ReasonPrivateOnly          = "PrivateOnly: This project only allows private channels"
	ReasonReplayPublic         = "UnableToReplayMessages: Replay is not allowed for public channels"
	ReasonReplayInvalid        = "UnableToReplayMessages: Replay params are not valid"
	reasonUnauthorizedReadPfx  = "Unauthorized: "
	msgNoReadPermission        = "You do not have permissions to read from this Channel topic: "
	msgReadPermissionRevoked   = "You no longer have permission to read from this Channel topic: "
	extBroadcast               = "broadcast"
	extPresence                = "presence"
	extSystem                  = "system"
	replayDefaultLimit         = 25 // realtime_channel.ex: replay_params["limit"] || 25
	replayHardLimit            = 25
	replayMinSinceMilliseconds = -377_705_116_800_000 // DateTime.from_unix range: years -9999..9999
	replayMaxSinceMilliseconds = 253_402_300_800_000
)

// ReasonUnauthorizedRead returns the join error of a private channel whose
// token may not read subTopic (§3.3 step 9).
func ReasonUnauthorizedRead(subTopic string) string {
	return reasonUnauthorizedReadPfx + msgNoReadPermission + subTopic
}

// Write-permission cache states.
const (
	permUnknown int8 = iota
	permAllowed
	permDenied
)

// channelExt is the per-channel state of token verification, private
// channel policies and rate limits. While mu is held only the server's
// timer lock (a leaf) is taken and the Authorize hook may be called;
// never Conn.mu or the hub lock.
type channelExt struct {
	// Read policies, read without locks by the fan-out (under the hub lock).
	broadcastRead atomic.Bool
	presenceRead  atomic.Bool

	mu     sync.Mutex
	ended  bool           // shut down by a token check; no more checks
	token  string         // the effective channel token
	claims map[string]any // claims of token (verified with JWTSecret, else peeked)
	exp    int64          // exp of a verified token; 0 without JWTSecret
	gen    uint64         // token generation: a re-check timer of an older one is void
	timer  *time.Timer
	write  map[string]int8 // lazily evaluated write policies, by extension

	presenceCount   int       // presence pushes in the current window
	presenceResetAt time.Time // end of the current window
}

// receives reports whether the channel may be sent a fanned-out frame of
// event (private channels without read permission get no broadcasts,
// resp. no presence diffs).
func (x *channelExt) receives(event string) bool {
	if x == nil {
		return true
	}
	switch event {
	case eventBroadcast:
		return x.broadcastRead.Load()
	case eventPresDiff:
		return x.presenceRead.Load()
	}
	return true
}

// now returns the server clock.
func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// authenticateSocket checks the handshake token (§1.4–1.5). It returns the
// HTTP status and JSON body of a refusal, or ok.
func (s *Server) authenticateSocket(r *http.Request, query url.Values) (int, string, bool) {
	switch {
	case s.opts.JWTSecret != "":
		tok, present := socketTokenOf(r.Header, query)
		if !present {
			return http.StatusUnauthorized, errorBody("API key is missing"), false
		}
		if _, terr := verifyJWT(tok, s.opts.JWTSecret, s.now(), false); terr != nil {
			status, msg := terr.connectError()
			return status, errorBody(msg), false
		}
	case s.opts.APIKey != "":
		key := r.Header.Get("x-api-key")
		if key == "" {
			key = query.Get("apikey")
		}
		switch {
		case key == "":
			return http.StatusUnauthorized, errorBody("API key is missing"), false
		case key != s.opts.APIKey:
			return http.StatusUnauthorized, errorBody(msgMalformedJWT), false
		}
	}
	return 0, "", true
}

// socketTokenOf returns the socket token: header x-api-key wins (even when
// empty) over the apikey query parameter.
func socketTokenOf(h http.Header, query url.Values) (string, bool) {
	if vs := h.Values("X-Api-Key"); len(vs) > 0 {
		return vs[0], true
	}
	if vs, ok := query["apikey"]; ok && len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

// errorBody renders {"error":msg}.
func errorBody(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}

// channelToken picks the channel token of a join payload (§3.2): a token
// starting with "sb_" is ignored; "user_token" wins over "access_token";
// without either the socket token is used.
func channelToken(payload []byte, socketToken string) string {
	top := objectFields(payload)
	first := top["access_token"]
	if isFalsy(first) {
		first = top["user_token"]
	}
	var s string
	if json.Unmarshal(first, &s) == nil && strings.HasPrefix(s, "sb_") {
		return socketToken
	}
	for _, key := range []string{"user_token", "access_token"} {
		if raw := top[key]; !isNull(raw) {
			var tok string
			if json.Unmarshal(raw, &tok) == nil {
				return tok
			}
		}
	}
	return socketToken
}

// isFalsy reports an absent, null or false JSON value.
func isFalsy(raw json.RawMessage) bool {
	t := string(bytes.TrimSpace(raw))
	return t == "" || t == "null" || t == "false"
}

// peekClaims decodes the claims of a token without verifying it; nil if it
// is not a JWT.
func peekClaims(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(b, &claims) != nil {
		return nil
	}
	return claims
}

// subTopicOf strips the "realtime:" prefix.
func subTopicOf(topic string) string { return strings.TrimPrefix(topic, TopicPrefix) }

// authorize asks the Authorize hook; nil allows everything.
func (s *Server) authorize(claims map[string]any, subTopic, ext string, write bool) bool {
	if s.opts.Authorize == nil {
		return true
	}
	return s.opts.Authorize(claims, subTopic, ext, write)
}

// replayParams is a validated config.broadcast.replay (§5.5).
type replayParams struct {
	since int64 // unix ms
	limit int
}

// joinPipeline runs the join checks of §3.3 that the stand-in reproduces,
// in the server's order, after the OnJoin hook: empty topic, private_only,
// concurrent users, joins per second, channel limit, channel token, the database (with PostgresDSN), private
// read policy, replay. It returns the
// channel's auth state, the replay request (nil if none) or the error
// reason.
func (c *Conn) joinPipeline(topic string, cfg joinConfig, payload []byte) (*channelExt, *replayParams, string) {
	s := c.srv
	if topic == TopicPrefix {
		return nil, nil, ReasonTopicNameRequired
	}
	if s.opts.PrivateOnly && !cfg.private {
		return nil, nil, ReasonPrivateOnly
	}
	if reason, _ := c.joinLimited(); reason != "" {
		return nil, nil, reason
	}
	c.mu.Lock()
	n := len(c.channels)
	c.mu.Unlock()
	if n >= s.opts.MaxChannelsPerClient {
		return nil, nil, ReasonTooManyChannels
	}

	sockTok, _ := socketTokenOf(c.header, c.query)
	x := &channelExt{token: channelToken(payload, sockTok)}
	if s.opts.JWTSecret != "" {
		vt, terr := verifyJWT(x.token, s.opts.JWTSecret, s.now(), true)
		if terr != nil {
			return nil, nil, terr.joinReason()
		}
		x.claims, x.exp = vt.claims, vt.exp
	} else {
		x.claims = peekClaims(x.token)
	}

	// Connect.lookup_or_start_connection: with a database, every join
	// needs it reachable (waiting for the first connection attempt).
	if s.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), pgConnectTimeout+time.Second)
		down := s.pg.unavailable(ctx)
		cancel()
		if down {
			return nil, nil, ReasonUnableToConnect
		}
	}

	sub := subTopicOf(topic)
	if cfg.private {
		bRead, pRead := s.readPolicies(x.claims, sub)
		if !bRead && !(cfg.presenceEnabled && pRead) {
			return nil, nil, ReasonUnauthorizedRead(sub)
		}
		x.broadcastRead.Store(bRead)
		x.presenceRead.Store(pRead)
	} else {
		x.broadcastRead.Store(true)
		x.presenceRead.Store(true)
	}

	rawReplay, hasReplay := replayOf(payload)
	if !hasReplay {
		return x, nil, ""
	}
	if cfg.private && !x.broadcastRead.Load() {
		return nil, nil, ReasonUnauthorizedRead(sub)
	}
	if !cfg.private {
		return nil, nil, ReasonReplayPublic
	}
	rp, ok, isMap := parseReplay(rawReplay)
	switch {
	case !isMap:
		return x, nil, "" // not a map: no replay
	case !ok:
		return nil, nil, ReasonReplayInvalid
	}
	return x, rp, ""
}

// readPolicies evaluates the read policies of a private channel (§8.3).
func (s *Server) readPolicies(claims map[string]any, sub string) (broadcast, presence bool) {
	return s.authorize(claims, sub, extBroadcast, false), s.authorize(claims, sub, extPresence, false)
}

// replayOf returns config.broadcast.replay when the key is present.
func replayOf(payload []byte) (json.RawMessage, bool) {
	b := objectFields(objectFields(objectFields(payload)["config"])["broadcast"])
	raw, ok := b["replay"]
	return raw, ok
}

// parseReplay validates {since, limit}: both integers when present
// (defaults 0 and 10), since a valid unix millisecond time; the limit is
// clamped to 1..25.
func parseReplay(raw json.RawMessage) (*replayParams, bool, bool) {
	fields := objectFields(raw)
	if fields == nil {
		return nil, false, false
	}
	// realtime_channel.ex maybe_replay_messages passes replay_params["since"]
	// and replay_params["limit"] || 25 to Realtime.Messages.replay, which
	// wants both integers: "since" is required.
	rp := &replayParams{limit: replayDefaultLimit}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(fields["since"])), 10, 64)
	if err != nil || n < replayMinSinceMilliseconds || n >= replayMaxSinceMilliseconds {
		return nil, false, true
	}
	rp.since = n
	if v, ok := fields["limit"]; ok && !isNull(v) && string(bytes.TrimSpace(v)) != "false" {
		n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		if err != nil {
			return nil, false, true
		}
		rp.limit = int(min(max(n, 1), replayHardLimit))
	}
	return rp, true, true
}

// afterJoin starts the token expiry re-check of a new channel.
func (c *Conn) afterJoin(ch *channel) {
	if c.srv.opts.JWTSecret == "" || ch.x == nil {
		return
	}
	ch.x.mu.Lock()
	c.srv.scheduleTokenCheckLocked(ch)
	ch.x.mu.Unlock()
}

// scheduleTokenCheckLocked arms the re-check of ch's token at
// min(TokenCheckInterval, exp - now) (§8.2). ch.x.mu must be held.
func (s *Server) scheduleTokenCheckLocked(ch *channel) {
	x := ch.x
	if x.timer != nil {
		x.timer.Stop()
	}
	x.gen++
	gen := x.gen
	d := time.Duration(x.exp-s.now().Unix()) * time.Second
	if iv := s.tokenCheckInterval(); iv < d {
		d = iv
	}
	x.timer = time.AfterFunc(max(d, 0), func() { s.tokenCheckFired(ch, gen) })
	s.trackTimer(ch, x.timer)
}

func (s *Server) tokenCheckInterval() time.Duration {
	if s.opts.TokenCheckInterval > 0 {
		return s.opts.TokenCheckInterval
	}
	return DefaultTokenCheckInterval
}

// tokenCheckFired runs on a timer goroutine.
func (s *Server) tokenCheckFired(ch *channel, gen uint64) {
	if !s.enter() {
		return
	}
	defer s.wg.Done()
	s.untrackTimer(ch)
	s.checkToken(ch, gen)
}

// checkToken re-verifies ch's current token now; gen 0 forces the check
// regardless of the scheduled generation. It reports whether the channel
// was shut down.
func (s *Server) checkToken(ch *channel, gen uint64) bool {
	x := ch.x
	if x == nil || s.opts.JWTSecret == "" || ch.conn.channel(ch.topic) != ch {
		return false
	}
	x.mu.Lock()
	if x.ended || (gen != 0 && gen != x.gen) {
		x.mu.Unlock()
		return false
	}
	vt, terr := verifyJWT(x.token, s.opts.JWTSecret, s.now(), true)
	if terr == nil {
		x.claims, x.exp = vt.claims, vt.exp
		s.scheduleTokenCheckLocked(ch)
		x.mu.Unlock()
		return false
	}
	x.ended = true
	if x.timer != nil {
		x.timer.Stop()
	}
	x.mu.Unlock()
	return ch.conn.shutdownChannel(ch, terr.channelMessage())
}

// refreshToken applies an access_token push (§8.1): tokens equal to the
// current one, null or starting with "sb_" are ignored; otherwise the
// token is verified (with JWTSecret) and the read policies of a private
// channel re-evaluated; any failure shuts the channel down.
func (c *Conn) refreshToken(ch *channel, payload []byte) {
	x := ch.x
	if x == nil {
		return
	}
	raw, ok := objectFields(payload)["access_token"]
	var tok string
	if !ok || isNull(raw) || json.Unmarshal(raw, &tok) != nil {
		return // absent, null or not a string: ignored
	}
	s := c.srv
	x.mu.Lock()
	if x.ended || tok == x.token || strings.HasPrefix(tok, "sb_") {
		x.mu.Unlock()
		return
	}
	x.token = tok
	fail := func(msg string) {
		x.ended = true
		if x.timer != nil {
			x.timer.Stop()
		}
		x.mu.Unlock()
		c.shutdownChannel(ch, msg)
	}
	if s.opts.JWTSecret != "" {
		vt, terr := verifyJWT(tok, s.opts.JWTSecret, s.now(), true)
		if terr != nil {
			fail(terr.channelMessage())
			return
		}
		x.claims, x.exp = vt.claims, vt.exp
	} else {
		x.claims = peekClaims(tok)
	}
	x.write = nil // write policies are evaluated again on next use
	if ch.cfg.private {
		sub := subTopicOf(ch.topic)
		bRead, pRead := s.readPolicies(x.claims, sub)
		switch {
		case !bRead && !(ch.cfg.presenceEnabled && pRead):
			fail(msgNoReadPermission + sub)
			return
		case (x.broadcastRead.Load() && !bRead) || (x.presenceRead.Load() && !pRead):
			fail(msgReadPermissionRevoked + sub)
			return
		}
		x.broadcastRead.Store(bRead)
		x.presenceRead.Store(pRead)
	}
	if s.opts.JWTSecret != "" {
		s.scheduleTokenCheckLocked(ch)
	}
	x.mu.Unlock()
	s.postgresResubscribe(ch)
}

// writeAllowed evaluates (once per token) the write policy of a private
// channel for ext ("broadcast" or "presence"); public channels may always
// write.
func (c *Conn) writeAllowed(ch *channel, ext string) bool {
	x := ch.x
	if x == nil || !ch.cfg.private || c.srv.opts.Authorize == nil {
		return true
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	switch x.write[ext] {
	case permAllowed:
		return true
	case permDenied:
		return false
	}
	ok := c.srv.authorize(x.claims, subTopicOf(ch.topic), ext, true)
	if x.write == nil {
		x.write = make(map[string]int8, 2)
	}
	x.write[ext] = permDenied
	if ok {
		x.write[ext] = permAllowed
	}
	return ok
}

// CheckTokens runs the token expiry re-check (§8.2) of every joined
// channel now, instead of waiting for its timer; channels whose token has
// expired are shut down with "Token has expired N seconds ago" +
// phx_close. It does nothing without Options.JWTSecret and returns how
// many channels were shut down. Useful with a custom Options.Now.
func (s *Server) CheckTokens() int {
	n := 0
	for _, c := range s.ActiveConns() {
		for _, ch := range c.joinedChannels() {
			if s.checkToken(ch, 0) {
				n++
			}
		}
	}
	return n
}

// ExpireTokens makes every joined channel behave as if its token had just
// expired, with or without Options.JWTSecret: each gets
// [join_ref,null,topic,"system",{…"Token has expired 0 seconds ago","status":"error"}]
// then phx_close and is dropped. It returns how many channels were shut
// down.
func (s *Server) ExpireTokens() int {
	n := 0
	for _, c := range s.ActiveConns() {
		for _, ch := range c.joinedChannels() {
			if x := ch.x; x != nil {
				x.mu.Lock()
				if x.ended {
					x.mu.Unlock()
					continue
				}
				x.ended = true
				if x.timer != nil {
					x.timer.Stop()
				}
				x.mu.Unlock()
			}
			if c.shutdownChannel(ch, "Token has expired 0 seconds ago") {
				n++
			}
		}
	}
	return n
}

// joinedChannels returns a snapshot of the channels joined on c.
func (c *Conn) joinedChannels() []*channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*channel, 0, len(c.channels))
	for _, ch := range c.channels {
		out = append(out, ch)
	}
	return out
}

// ChannelClaims returns the claims of the token of the channel joined on
// topic (verified with Options.JWTSecret, else decoded without
// verification), or nil.
func (c *Conn) ChannelClaims(topic string) map[string]any {
	ch := c.channel(WireTopic(topic))
	if ch == nil || ch.x == nil {
		return nil
	}
	ch.x.mu.Lock()
	defer ch.x.mu.Unlock()
	out := make(map[string]any, len(ch.x.claims))
	for k, v := range ch.x.claims {
		out[k] = v
	}
	return out
}

// replayFrames renders the replayed messages of a join (§5.5): JSON rows
// as [join_ref,null,topic,"broadcast",{…,"meta":{"replayed":true,"id":…}}],
// binary rows as kind 4 with the same metadata (dropped for V1 sockets by
// the encoder).
func replayFrames(topic, joinRef string, msgs []StoredMessage) []*frame.Frame {
	out := make([]*frame.Frame, 0, len(msgs))
	for _, m := range msgs {
		id, _ := json.Marshal(m.ID)
		meta := []byte(`{"replayed":true,"id":` + string(id) + `}`)
		if m.Binary != nil {
			out = append(out, &frame.Frame{
				Kind: frame.KindUserBroadcast, Topic: topic, Event: eventBroadcast,
				UserEvent: m.Event, Encoding: frame.EncodingBinary, Meta: meta, Payload: m.Binary,
			})
			continue
		}
		ev, _ := json.Marshal(m.Event)
		p := make([]byte, 0, len(m.Payload)+len(ev)+len(meta)+60)
		p = append(p, `{"payload":`...)
		p = append(p, m.Payload...)
		p = append(p, `,"event":`...)
		p = append(p, ev...)
		p = append(p, `,"type":"broadcast","meta":`...)
		p = append(p, meta...)
		p = append(p, '}')
		out = append(out, &frame.Frame{JoinRef: joinRef, Topic: topic, Event: eventBroadcast, Payload: p})
	}
	return out
}
