package realtimetest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strings"

	"github.com/supabase-go/realtime/internal/frame"
)

// ReasonPresenceNotMap is the error reason of a track with a non-object
// payload (§6.1).
const ReasonPresenceNotMap = "Presence track payload must be a map"

// presenceEntry is one tracked presence: one per channel join (§6.1).
type presenceEntry struct {
	ch      *channel
	key     string
	payload []byte // canonical JSON of the tracked payload (identity check)
	meta    json.RawMessage
	ref     string
}

// presenceMetas is the {"metas":[…]} value of presence_state and diffs.
type presenceMetas struct {
	Metas []json.RawMessage `json:"metas"`
}

// handlePresence implements the presence push (§6.1): track/untrack
// (case-insensitive), a reply to every push, and diffs fanned out to every
// subscriber of the topic (including the tracker).
func (c *Conn) handlePresence(ch *channel, f *frame.Frame) {
	delay := c.srv.hooks.replyDelay()
	fields := objectFields(f.Payload)
	rawEvent, ok := fields["event"]
	if !ok {
		c.reply(f, f.JoinRef, "ok", []byte(`{}`), delay) // no event: no-op
		return
	}
	if c.presenceRateLimited(ch) {
		c.shutdownChannel(ch, MsgClientPresenceRateLimit) // no reply (§6.1)
		return
	}
	var event string
	_ = json.Unmarshal(rawEvent, &event)
	switch strings.ToLower(event) {
	case "track":
		if !c.writeAllowed(ch, extPresence) {
			c.reply(f, f.JoinRef, "error", []byte(`{}`), delay)
			return
		}
		// presence_handler.ex: Map.get(payload, "payload", %{}).
		rawMeta, hasMeta := fields["payload"]
		if !hasMeta {
			rawMeta = json.RawMessage(`{}`)
		}
		meta := objectFields(rawMeta)
		if meta == nil {
			c.replyError(f, f.JoinRef, ReasonPresenceNotMap, delay)
			return
		}
		if len(rawMeta) > c.srv.opts.MaxPayloadBytes {
			c.shutdownChannel(ch, MsgTrackSizeExceeded)
			return
		}
		if !c.srv.hooks.withholdAcks.Load() {
			c.reply(f, f.JoinRef, "ok", []byte(`{}`), delay)
		}
		c.srv.hub.track(ch, meta)
	case "untrack":
		c.reply(f, f.JoinRef, "ok", []byte(`{}`), delay)
		c.srv.hub.untrack(ch)
	default:
		c.reply(f, f.JoinRef, "error", []byte(`{}`), delay)
	}
}

// track sets ch's presence to payload. An identical payload changes
// nothing; a different one replaces the meta (join with phx_ref_prev plus
// a leave of the old meta).
func (h *hub) track(ch *channel, payload map[string]json.RawMessage) {
	canon, err := json.Marshal(payload)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.topics[ch.key]
	if ts == nil || !ts.subscribedLocked(ch) {
		return // detached concurrently
	}
	idx := -1
	for i, e := range ts.presence {
		if e.ch == ch {
			idx = i
			break
		}
	}
	var old *presenceEntry
	if idx >= 0 {
		old = ts.presence[idx]
		if bytes.Equal(old.payload, canon) {
			return
		}
	}

	ref := h.newPresenceRefLocked()
	fields := make(map[string]json.RawMessage, len(payload)+2)
	for k, v := range payload {
		fields[k] = v
	}
	fields["phx_ref"], _ = json.Marshal(ref)
	if old != nil {
		fields["phx_ref_prev"], _ = json.Marshal(old.ref)
	}
	meta, err := json.Marshal(fields)
	if err != nil {
		return
	}
	entry := &presenceEntry{ch: ch, key: ch.cfg.presenceKey, payload: canon, meta: meta, ref: ref}
	joins := map[string]presenceMetas{entry.key: {Metas: []json.RawMessage{meta}}}
	leaves := map[string]presenceMetas{}
	if old != nil {
		ts.presence[idx] = entry
		leaves[old.key] = presenceMetas{Metas: []json.RawMessage{old.meta}}
	} else {
		ts.presence = append(ts.presence, entry)
	}
	h.fanoutDiffLocked(ts, ch.topic, joins, leaves)
}

// untrack removes ch's presence, if any.
func (h *hub) untrack(ch *channel) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ts := h.topics[ch.key]; ts != nil {
		h.untrackLocked(ts, ch)
	}
}

// untrackLocked removes ch's presence and fans out the leave.
func (h *hub) untrackLocked(ts *topicState, ch *channel) {
	for i, e := range ts.presence {
		if e.ch != ch {
			continue
		}
		ts.presence = append(ts.presence[:i:i], ts.presence[i+1:]...)
		leaves := map[string]presenceMetas{e.key: {Metas: []json.RawMessage{e.meta}}}
		h.fanoutDiffLocked(ts, ch.topic, map[string]presenceMetas{}, leaves)
		return
	}
}

// fanoutDiffLocked sends [null,null,topic,"presence_diff",{"joins","leaves"}]
// to every subscriber of ts.
func (h *hub) fanoutDiffLocked(ts *topicState, topic string, joins, leaves map[string]presenceMetas) {
	diff, err := json.Marshal(struct {
		Joins  map[string]presenceMetas `json:"joins"`
		Leaves map[string]presenceMetas `json:"leaves"`
	}{joins, leaves})
	if err != nil {
		return
	}
	h.fanoutLocked(ts, nil, sameForAll(&frame.Frame{Topic: topic, Event: eventPresDiff, Payload: diff}))
}

// presenceStateLocked renders the presence_state snapshot {key:{metas:[…]}}.
func (ts *topicState) presenceStateLocked() []byte {
	state := make(map[string]presenceMetas)
	for _, e := range ts.presence {
		m := state[e.key]
		m.Metas = append(m.Metas, e.meta)
		state[e.key] = m
	}
	out, err := json.Marshal(state)
	if err != nil {
		return []byte(`{}`)
	}
	return out
}

func (ts *topicState) subscribedLocked(ch *channel) bool {
	for _, s := range ts.subs {
		if s == ch {
			return true
		}
	}
	return false
}

// newPresenceRefLocked returns a unique opaque phx_ref such as
// "AAAAAAAAAAEp3Lx4".
func (h *hub) newPresenceRefLocked() string {
	h.presSeq++
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], h.presSeq)
	_, _ = rand.Read(b[8:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Presence returns the current presence state of the public topic, as
// presence_state would render it ({key:{metas:[…]}}).
func (s *Server) Presence(topic string) json.RawMessage {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	ts := s.hub.topics[topicKey{WireTopic(topic), false}]
	if ts == nil {
		return json.RawMessage(`{}`)
	}
	return ts.presenceStateLocked()
}
