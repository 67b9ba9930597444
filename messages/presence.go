package messages

import (
	"encoding/json"
	"strings"

	"github.com/supabase-go/realtime/internal/jsonscan"
)

// PresenceEventType is the kind of a presence event, as in realtime-js
// (REALTIME_PRESENCE_LISTEN_EVENTS).
type PresenceEventType string

// Presence event types.
const (
	// PresenceJoin: one or more metas joined a presence key.
	PresenceJoin PresenceEventType = "join"
	// PresenceLeave: one or more metas left a presence key.
	PresenceLeave PresenceEventType = "leave"
	// PresenceSync: the presence state changed; it is sent once after every
	// presence_state and every applied presence_diff, after the join and
	// leave events they produced.
	PresenceSync PresenceEventType = "sync"
	// PresenceAll selects every presence event type in a Presence binding.
	PresenceAll PresenceEventType = "*"
)

// Presence binds presence events of a channel by type. Event "" and "*"
// (PresenceAll) match join, leave and sync; otherwise matching is
// case-insensitive, as in realtime-js.
type Presence struct {
	Event PresenceEventType
}

// Validate rejects event types other than "", "*", "join", "leave" and
// "sync" (in any case) with an *OptionError.
func (p Presence) Validate() error {
	switch PresenceEventType(strings.ToLower(string(p.Event))) {
	case "", PresenceAll, PresenceJoin, PresenceLeave, PresenceSync:
		return nil
	}
	return &OptionError{
		Option: "presence event",
		Reason: "unknown presence event type " + quoteForError(string(p.Event)) +
			` (want "join", "leave", "sync" or "*")`,
	}
}

// Matches reports whether a presence event of type t is bound.
func (p Presence) Matches(t PresenceEventType) bool {
	return p.Event == "" || p.Event == PresenceAll || strings.EqualFold(string(p.Event), string(t))
}

func (Presence) isBinding() {}

// quoteForError quotes a user-supplied string for an error message,
// truncating very long ones.
func quoteForError(s string) string {
	const limit = 64
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return string(jsonscan.AppendQuote(nil, s))
}

// PresenceMeta is one presence of a key: what one channel join tracked
// (several sockets may share a key, giving several metas).
type PresenceMeta struct {
	// Ref is the server's phx_ref, unique per tracked meta; realtime-js
	// exposes it as presence_ref.
	Ref string
	// Payload is the tracked object without its phx_ref and phx_ref_prev
	// members, as compact JSON with the members in their original order.
	// It is owned by the receiver and may be retained.
	Payload json.RawMessage
}

// Decode unmarshals the tracked payload into v, with numbers decoded as
// json.Number when v is an interface or map.
func (m PresenceMeta) Decode(v any) error {
	if m.Payload == nil {
		return json.Unmarshal([]byte("null"), v)
	}
	return DecodeJSON(m.Payload, v)
}

// PresenceEvent is a presence join, leave or sync on a channel, synthesised
// from presence_state and presence_diff messages exactly like phoenix.js
// Presence does for realtime-js.
//
// For PresenceJoin, Current holds the metas the key had before the join
// (realtime-js currentPresences) and Joined the metas that joined
// (newPresences). For PresenceLeave, Current holds the metas the key still
// has after the leave and Left the metas that left (leftPresences). A
// PresenceSync event carries only Channel, Topic and Type.
type PresenceEvent struct {
	Channel string // sub-topic, "room1"
	Topic   string // wire topic, "realtime:room1"
	Type    PresenceEventType
	Key     string // the presence key ("" for sync)
	Current []PresenceMeta
	Joined  []PresenceMeta
	Left    []PresenceMeta
}

// ChannelName returns the sub-topic of the channel.
func (e PresenceEvent) ChannelName() string { return e.Channel }

func (PresenceEvent) isEvent() {}

// PresenceState is a channel's presence state: every presence key with its
// metas, like realtime-js presenceState(). Keys without metas are absent.
type PresenceState map[string][]PresenceMeta
