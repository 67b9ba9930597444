package realtimetest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/jsonscan"
)

// TopicPrefix is the prefix of every routable topic.
const TopicPrefix = "realtime:"

// Phoenix events handled by the server.
const (
	eventJoin        = "phx_join"
	eventLeave       = "phx_leave"
	eventReply       = "phx_reply"
	eventClose       = "phx_close"
	eventError       = "phx_error"
	eventHeartbeat   = "heartbeat"
	eventBroadcast   = "broadcast"
	eventPresence    = "presence"
	eventAccessToken = "access_token"
	eventSystem      = "system"
	eventPresState   = "presence_state"
	eventPresDiff    = "presence_diff"
	topicPhoenix     = "phoenix"
)

// Join error reasons (§3.3, §3.5).
const (
	ReasonUnmatchedTopic    = "unmatched topic"
	ReasonTopicNameRequired = "TopicNameRequired: You must provide a topic name"
	ReasonTooManyChannels   = "ChannelRateLimitReached: Too many channels"
)

// channel is one join incarnation of a topic on one socket. Everything but
// accessToken is immutable after the join; accessToken is guarded by
// conn.mu.
type channel struct {
	conn    *Conn
	topic   string
	joinRef string
	key     topicKey
	cfg     joinConfig
	payload json.RawMessage // the raw join payload
	x       *channelExt     // token, policies and limits (auth.go)

	accessToken string
}

// ChannelInfo is a snapshot of one joined channel, for assertions.
type ChannelInfo struct {
	Topic           string
	JoinRef         string
	Private         bool
	Self            bool
	Ack             bool
	PresenceEnabled bool
	// PresenceKey is the key used for presence (config.presence.key, or
	// the random UUID generated at join).
	PresenceKey string
	// AccessToken is the channel token: from the join payload, then from
	// each access_token push.
	AccessToken string
	// PostgresChanges holds the bindings as echoed in the join reply,
	// each with its "id".
	PostgresChanges []json.RawMessage
	// JoinPayload is the raw phx_join payload.
	JoinPayload json.RawMessage
}

func (ch *channel) infoLocked() ChannelInfo {
	pcs := make([]json.RawMessage, len(ch.cfg.bindings))
	for i, b := range ch.cfg.bindings {
		pcs[i] = bytes.Clone(b.echo)
	}
	return ChannelInfo{
		Topic:           ch.topic,
		JoinRef:         ch.joinRef,
		Private:         ch.cfg.private,
		Self:            ch.cfg.self,
		Ack:             ch.cfg.ack,
		PresenceEnabled: ch.cfg.presenceEnabled,
		PresenceKey:     ch.cfg.presenceKey,
		AccessToken:     ch.accessToken,
		PostgresChanges: pcs,
		JoinPayload:     bytes.Clone(ch.payload),
	}
}

// joinConfig is the decoded config of a phx_join payload (§3.2). Invalid
// parts fall back to defaults, as on the real server.
type joinConfig struct {
	hasConfig       bool
	self            bool
	ack             bool
	presenceEnabled bool
	presenceKey     string
	private         bool
	bindings        []binding
	accessToken     string
}

// binding is one postgres_changes binding of a join.
type binding struct {
	raw  json.RawMessage // compact JSON object as sent
	id   uint32
	echo json.RawMessage // raw plus "id", as sent back in the join reply
}

// parseJoinPayload decodes a join payload leniently.
func parseJoinPayload(payload []byte) joinConfig {
	var cfg joinConfig
	top := objectFields(payload)
	if tok, ok := stringField(top, "user_token"); ok && tok != "" {
		cfg.accessToken = tok
	} else if tok, ok := stringField(top, "access_token"); ok {
		cfg.accessToken = tok
	}
	rawCfg, ok := top["config"]
	if !ok {
		cfg.presenceKey = newUUID() // payloads/join.ex presence_key(_)
		return cfg
	}
	cfg.hasConfig = true
	conf := objectFields(rawCfg)
	if b := objectFields(conf["broadcast"]); b != nil {
		cfg.self = flexBool(b["self"])
		cfg.ack = flexBool(b["ack"])
	}
	if p := objectFields(conf["presence"]); p != nil {
		cfg.presenceEnabled = flexBool(p["enabled"])
		cfg.presenceKey = presenceKeyOf(p["key"])
	} else {
		cfg.presenceKey = newUUID() // payloads/join.ex presence_key(_)
	}
	cfg.private = ectoBool(conf["private"])
	var elems []json.RawMessage
	if json.Unmarshal(conf["postgres_changes"], &elems) == nil {
		for _, e := range elems {
			e = bytes.TrimSpace(e)
			if len(e) == 0 || e[0] != '{' {
				continue // null elements are removed; non-objects are invalid
			}
			cfg.bindings = append(cfg.bindings, newBinding(e))
		}
	}
	return cfg
}

// newBinding compacts the binding, hashes it and builds its echo.
func newBinding(obj json.RawMessage) binding {
	var compact bytes.Buffer
	if err := json.Compact(&compact, obj); err != nil {
		compact.Reset()
		compact.Write(obj)
	}
	raw := compact.Bytes()
	id := BindingID(raw)
	echo := make([]byte, 0, len(raw)+20)
	body := bytes.TrimSpace(raw[1 : len(raw)-1])
	echo = append(echo, raw[:len(raw)-1]...)
	if len(body) > 0 {
		echo = append(echo, ',')
	}
	echo = append(echo, `"id":`...)
	echo = strconv.AppendUint(echo, uint64(id), 10)
	echo = append(echo, '}')
	return binding{raw: raw, id: id, echo: echo}
}

// BindingID returns the id the server assigns to a postgres_changes binding
// object: FNV-1a (32 bit) of its canonical JSON (keys sorted, no
// whitespace), masked to 27 bits like Erlang's phash2 default range.
// Identical objects get identical ids regardless of key order.
func BindingID(obj []byte) uint32 {
	d := json.NewDecoder(bytes.NewReader(obj))
	d.UseNumber()
	var v any
	canon := obj
	if d.Decode(&v) == nil {
		if b, err := json.Marshal(v); err == nil {
			canon = b
		}
	}
	h := fnv.New32a()
	_, _ = h.Write(canon)
	return h.Sum32() & (1<<27 - 1)
}

// objectFields decodes a JSON object into its raw fields; nil if raw is not
// an object.
//
// It walks raw with the messages JSON scanner instead of encoding/json
// (joins parse their payload several times; with encoding/json the server
// was the bottleneck of the 10,000-join benchmark). As with encoding/json,
// the last of duplicate keys wins and escaped keys are unquoted; unlike
// it, the values alias raw.
func objectFields(raw []byte) map[string]json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	m := make(map[string]json.RawMessage, 4)
	err := jsonscan.ObjectEach(raw, func(key, value []byte) error {
		k := string(key)
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			quoted := make([]byte, 0, len(key)+2)
			quoted = append(append(append(quoted, '"'), key...), '"')
			s, err := jsonscan.Unquote(quoted)
			if err != nil {
				return err
			}
			k = s
		}
		m[k] = json.RawMessage(value)
		return nil
	})
	if err != nil {
		return nil
	}
	return m
}

func stringField(m map[string]json.RawMessage, key string) (string, bool) {
	var s string
	if raw, ok := m[key]; ok && json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	return "", false
}

// flexBool accepts true/false and the strings "true"/"false" in any case;
// anything else is false.
func flexBool(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.EqualFold(s, "true")
	}
	return false
}

// ectoBool casts a JSON value like Ecto's :boolean type (the join payload
// schema, payloads/join.ex): true, "true" and "1" are true.
func ectoBool(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "true" || s == "1"
	}
	return false
}

// legacyBinding is the binding a join without "config" subscribes (§7.9,
// realtime_channel.ex pg_change_params(false, …)): the sub-topic
// schema[:table[:filter]], echoed in the join reply.
func legacyBinding(topic string) binding {
	params := legacyParams(topic)
	raw, _ := json.Marshal(params) // sorted keys
	return newBinding(raw)
}

// presenceKeyOf returns a string key, the JSON text of other scalars, or a
// random UUID when empty/absent.
func presenceKeyOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	var s string
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case json.Unmarshal(raw, &s) == nil:
	case raw[0] != '{' && raw[0] != '[':
		s = string(raw)
	}
	if s == "" {
		return newUUID()
	}
	return s
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// handle dispatches one decoded inbound frame; it runs on the reader
// goroutine, so frames of one socket are handled strictly in order.
func (c *Conn) handle(f *frame.Frame) {
	switch {
	case f.Topic == topicPhoenix && f.Event == eventHeartbeat:
		c.handleHeartbeat(f)
		return
	case f.Event == eventJoin && f.Kind == frame.KindText:
		c.handleJoin(f)
		return
	case f.Event == eventLeave:
		c.handleLeave(f)
		return
	}
	ch := c.channel(f.Topic)
	if ch == nil {
		c.replyError(f, "", ReasonUnmatchedTopic, 0)
		return
	}
	switch f.Event {
	case eventBroadcast:
		c.handleBroadcast(ch, f)
	case eventPresence:
		c.handlePresence(ch, f)
	case eventAccessToken:
		c.handleAccessToken(ch, f)
	default:
		// Other client events are rate-counted and ignored by the server.
		c.srv.countEvents(1)
		c.srv.log.Debug("realtimetest: ignored event", "conn", c.id, "topic", f.Topic, "event", f.Event)
	}
}

func (c *Conn) handleHeartbeat(f *frame.Frame) {
	if c.srv.hooks.withholdHeartbeats.Load() {
		return
	}
	c.send(c.srv.hooks.replyDelay(), &frame.Frame{
		Ref:     f.Ref,
		Topic:   topicPhoenix,
		Event:   eventReply,
		Payload: []byte(`{"status":"ok","response":{}}`),
	})
}

// handleJoin implements §3: routing, duplicate joins, the OnJoin hook, the
// join checks, registration and the reply (+ presence_state).
func (c *Conn) handleJoin(f *frame.Frame) {
	joinRef := f.JoinRef
	if joinRef == "" {
		joinRef = f.Ref
	}
	if !strings.HasPrefix(f.Topic, TopicPrefix) {
		// Phoenix answers a join of a topic no channel matches with a
		// null join_ref (Phoenix.Socket.encode_ignore: %Reply{ref, topic}).
		c.replyError(f, "", ReasonUnmatchedTopic, c.srv.hooks.replyDelay())
		return
	}
	// §3.7: a second join of a joined topic closes the old incarnation.
	if old := c.channel(f.Topic); old != nil && c.detach(old) {
		c.send(0, closeFrame(old, eventClose))
	}

	cfg := parseJoinPayload(f.Payload)
	if !cfg.hasConfig {
		cfg.bindings = []binding{legacyBinding(f.Topic)}
	}
	req := JoinRequest{
		ConnID:      c.id,
		Topic:       f.Topic,
		JoinRef:     joinRef,
		Ref:         f.Ref,
		Payload:     json.RawMessage(bytes.Clone(f.Payload)),
		AccessToken: cfg.accessToken,
	}
	action := c.srv.hooks.join(req)
	if action.Verdict == JoinIgnore {
		return
	}
	delay := action.Delay + c.srv.hooks.replyDelay()

	// The join pipeline of §3.3 (auth.go); every error reply is held back
	// by JoinErrorDelay.
	var (
		reason string
		x      *channelExt
		replay *replayParams
	)
	if action.Verdict == JoinReject {
		reason = action.Reason
	} else {
		x, replay, reason = c.joinPipeline(f.Topic, cfg, f.Payload)
	}
	if reason != "" {
		c.replyError(f, joinRef, reason, delay+c.srv.opts.JoinErrorDelay)
		if reason == ReasonTooManyJoins && action.Verdict != JoinReject {
			// realtime_channel.ex sends the socket a "disconnect"
			// broadcast; Phoenix.Socket.__info__ stops it with
			// {:shutdown, :disconnected} and close code 1001.
			c.Close(1001, "")
		}
		return
	}

	ch := &channel{
		conn:        c,
		topic:       f.Topic,
		joinRef:     joinRef,
		key:         topicKey{topic: f.Topic, private: cfg.private},
		cfg:         cfg,
		payload:     req.Payload,
		x:           x,
		accessToken: cfg.accessToken,
	}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return
	case len(c.channels) >= c.srv.opts.MaxChannelsPerClient:
		c.mu.Unlock()
		c.replyError(f, joinRef, ReasonTooManyChannels, delay+c.srv.opts.JoinErrorDelay)
		return
	}
	c.channels[ch.topic] = ch
	c.mu.Unlock()
	c.counted.Store(true)

	reply := &frame.Frame{
		JoinRef: joinRef,
		Ref:     f.Ref,
		Topic:   f.Topic,
		Event:   eventReply,
		Payload: joinReplyPayload(cfg.bindings),
	}
	var replayed []StoredMessage
	if replay != nil {
		replayed = c.srv.replay(subTopicOf(f.Topic), replay)
	}
	// The reply (replayed messages and presence snapshot) are queued under
	// the hub lock so no fan-out can overtake them and the snapshot is
	// consistent with diffs.
	c.srv.hub.subscribe(ch, func(state []byte) {
		frames := []*frame.Frame{reply}
		frames = append(frames, replayFrames(f.Topic, joinRef, replayed)...)
		if cfg.presenceEnabled && x.receives(eventPresDiff) {
			frames = append(frames, &frame.Frame{
				JoinRef: joinRef,
				Topic:   f.Topic,
				Event:   eventPresState,
				Payload: state,
			})
		}
		c.send(delay, frames...)
	})
	c.afterJoin(ch)
	c.srv.postgresJoined(ch)
}

// joinReplyPayload renders {"status":"ok","response":{"postgres_changes":[…]}}.
func joinReplyPayload(bs []binding) []byte {
	out := []byte(`{"status":"ok","response":{"postgres_changes":[`)
	for i, b := range bs {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b.echo...)
	}
	return append(out, "]}}"...)
}

// handleLeave implements §4.2: reply ok, then phx_close for a joined topic.
func (c *Conn) handleLeave(f *frame.Frame) {
	delay := c.srv.hooks.replyDelay()
	reply := &frame.Frame{
		JoinRef: f.JoinRef,
		Ref:     f.Ref,
		Topic:   f.Topic,
		Event:   eventReply,
		Payload: []byte(`{"status":"ok","response":{}}`),
	}
	ch := c.channel(f.Topic)
	if ch == nil || !c.detach(ch) {
		c.send(delay, reply)
		return
	}
	c.send(delay, reply, closeFrame(ch, eventClose))
}

// handleAccessToken records the token; the server never replies (§8.1).
func (c *Conn) handleAccessToken(ch *channel, f *frame.Frame) {
	tok, _ := stringField(objectFields(f.Payload), "access_token")
	c.mu.Lock()
	if tok != "" && !strings.HasPrefix(tok, "sb_") {
		ch.accessToken = tok
	}
	c.mu.Unlock()
	c.srv.hooks.recordToken(AccessTokenPush{ConnID: c.id, Topic: f.Topic, JoinRef: ch.joinRef, Token: tok})
	c.refreshToken(ch, f.Payload)
}

// closeFrame renders [join_ref, join_ref, topic, event, {}] for phx_close
// and phx_error (§2.5).
func closeFrame(ch *channel, event string) *frame.Frame {
	return &frame.Frame{
		JoinRef: ch.joinRef,
		Ref:     ch.joinRef,
		Topic:   ch.topic,
		Event:   event,
		Payload: []byte(`{}`),
	}
}

// replyError sends {"status":"error","response":{"reason":…}} for the push f
// with the given join_ref ("" = null).
func (c *Conn) replyError(f *frame.Frame, joinRef, reason string, delay time.Duration) {
	resp, _ := json.Marshal(map[string]string{"reason": reason})
	c.reply(f, joinRef, "error", resp, delay)
}

// reply sends {"status":status,"response":response} for the push f.
func (c *Conn) reply(f *frame.Frame, joinRef, status string, response []byte, delay time.Duration) {
	st, _ := json.Marshal(status)
	p := make([]byte, 0, len(response)+40)
	p = append(p, `{"status":`...)
	p = append(p, st...)
	p = append(p, `,"response":`...)
	p = append(p, response...)
	p = append(p, '}')
	c.send(delay, &frame.Frame{
		JoinRef: joinRef,
		Ref:     f.Ref,
		Topic:   f.Topic,
		Event:   eventReply,
		Payload: p,
	})
}
