package realtime

import (
	"context"
	"encoding/json"

	"github.com/supabase-go/realtime/messages"
)

// Presence types.
type (
	// Presence binds presence events by type: PresenceJoin, PresenceLeave,
	// PresenceSync, or "" / PresenceAll for all three. A presence binding
	// turns presence on in the channel's join config.
	Presence = messages.Presence
	// PresenceEventType is join, leave or sync.
	PresenceEventType = messages.PresenceEventType
	// PresenceEvent is a presence join, leave or sync, built from the
	// server's presence_state and presence_diff like realtime-js does.
	PresenceEvent = messages.PresenceEvent
	// PresenceMeta is one tracked presence under a key.
	PresenceMeta = messages.PresenceMeta
	// PresenceState maps each presence key to its metas.
	PresenceState = messages.PresenceState
)

// Presence event types.
const (
	PresenceJoin  = messages.PresenceJoin
	PresenceLeave = messages.PresenceLeave
	PresenceSync  = messages.PresenceSync
	PresenceAll   = messages.PresenceAll
)

// Track publishes this client's presence on the channel and waits for the
// server's reply. state must encode to a JSON object. The presence key is
// the channel's PresenceKey (or one the server picks). Tracking turns
// presence on for the channel (rejoining it once if it was joined
// without); if the channel is not joined yet, the track goes out right
// after the join. After every reconnect and rejoin the client tracks the
// same state again by itself.
func (c *Client) Track(ctx context.Context, ch *Channel, state any) error {
	if err := c.own(ch); err != nil {
		return err
	}
	raw, err := encodeJSON(state)
	if err != nil {
		return err
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return invalid("presence state", "must encode to a JSON object")
	}
	return c.track(ctx, ch, raw, false)
}

// Untrack removes this client's presence from the channel and waits for
// the server's reply.
func (c *Client) Untrack(ctx context.Context, ch *Channel) error {
	if err := c.own(ch); err != nil {
		return err
	}
	return c.track(ctx, ch, nil, true)
}

func (c *Client) track(ctx context.Context, ch *Channel, payload []byte, untrack bool) error {
	err, rerr := request(ctx, c, func(reply chan<- error) any {
		return &messages.Track{Topic: ch.topic, Payload: payload, Untrack: untrack, Reply: reply}
	})
	if rerr != nil {
		return rerr
	}
	return err
}

// PresenceState returns the channel's current presence state: every key
// with its metas. It never waits on an actor, and it already includes
// every presence event delivered to the Handler so far. The returned map is
// a copy.
func (c *Client) PresenceState(ch *Channel) PresenceState {
	state := c.st.Presence.Get(ch.topic)
	out := make(PresenceState, len(state))
	for k, v := range state {
		out[k] = append([]PresenceMeta(nil), v...)
	}
	return out
}
