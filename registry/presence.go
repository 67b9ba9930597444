package registry

import (
	"log/slog"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// extPresence keys the persisted presence engine in store.Record.Ext.
const extPresence = "presence"

// presenceMessage applies presence_state or presence_diff and delivers the
// resulting events to the channel's presence bindings.
func (r *reg) presenceMessage(ch *channel, payload []byte, state bool) {
	if ch.presence == nil {
		ch.presence = &presenceState{}
	}
	var (
		events []messages.PresenceEvent
		err    error
	)
	ch.presence.lim = presenceLimits{metas: r.cfg.PresenceMaxMetas, bytes: r.cfg.PresenceMaxBytes}
	if state {
		events, err = ch.presence.onState(ch.rec.JoinRef, payload)
	} else {
		events, err = ch.presence.onDiff(ch.rec.JoinRef, payload)
	}
	if err != nil {
		r.cfg.Stats.Malformed.Add(1)
		r.deliver(ch, messages.ErrorEvent{Channel: ch.rec.Name, Err: err})
		return
	}
	r.persistPresence(ch) // also when the diff was only buffered
	if n := ch.presence.dropped; n > 0 {
		r.cfg.Stats.PresenceDropped.Add(uint64(n))
		r.cfg.Logger.Warn("realtime: presence state limit reached; metas not applied",
			slog.String("topic", ch.rec.Topic), slog.Int("dropped", n))
		r.deliver(ch, messages.ErrorEvent{Channel: ch.rec.Name, Err: &messages.PresenceLimitError{
			Topic: ch.rec.Topic, Dropped: n, MaxMetas: r.cfg.PresenceMaxMetas, MaxBytes: r.cfg.PresenceMaxBytes}})
	}
	if len(events) == 0 {
		return // buffered until the state of this join arrives
	}
	for _, ev := range events {
		ev.Channel, ev.Topic = ch.rec.Name, ch.rec.Topic
		for _, b := range ch.rec.Bindings {
			if pb, ok := b.(messages.Presence); ok && pb.Matches(ev.Type) {
				r.deliver(ch, ev)
				break
			}
		}
	}
}

func (r *reg) persistPresence(ch *channel) {
	ch.rec.Presence = ch.presence.list()
	r.cfg.Presence.set(ch.rec.Topic, ch.rec.Presence)
	if ch.rec.Ext == nil {
		ch.rec.Ext = map[string]any{}
	}
	ch.rec.Ext[extPresence] = ch.presence.clone()
	r.persist(ch)
}

// track_ handles Track and Untrack. The payload is remembered and tracked
// again after every rejoin. When the channel is not joined, the push goes
// out (and the caller is answered) after the join; when the join config
// lacked presence, the channel rejoins with presence enabled first.
func (r *reg) track_(m *messages.Track) {
	ch := r.channels[m.Topic]
	if ch == nil {
		actors.Reply(m.Reply, messages.ErrUnknownChannel)
		return
	}
	if r.gaveUp != nil {
		actors.Reply(m.Reply, r.gaveUp)
		return
	}
	if !ch.rec.Wanted {
		actors.Reply(m.Reply, messages.ErrChannelClosed)
		return
	}
	if m.Untrack {
		ch.rec.Tracked = nil
	} else {
		ch.rec.Tracked = m.Payload
	}
	r.persist(ch)
	ch.trackWaiters = append(ch.trackWaiters, m.Reply)
	needsPresence := !m.Untrack && !ch.joinedPresence
	if !r.open || ch.rec.State != messages.ChannelJoined {
		if _, inFlight := r.pending[ch.rec.JoinRef]; inFlight && needsPresence {
			ch.dirty = true // the join in flight lacks presence: rejoin once joined
		}
		return // sent after the (re)join
	}
	if needsPresence {
		r.join(ch) // presence must be enabled in the join config
		return
	}
	r.sendTrack(ch)
}

// sendTrack pushes the channel's current presence (track or untrack) and
// answers the waiting callers with the reply.
func (r *reg) sendTrack(ch *channel) {
	waiters := ch.trackWaiters
	ch.trackWaiters = nil
	var payload []byte
	if ch.rec.Tracked != nil {
		payload = append([]byte(`{"type":"presence","event":"track","payload":`), ch.rec.Tracked...)
		payload = append(payload, '}')
	} else if len(waiters) > 0 {
		payload = []byte(`{"type":"presence","event":"untrack"}`)
	} else {
		return
	}
	ref := r.cfg.Refs.Next()
	topic := ch.rec.Topic
	r.track(&pending{kind: pendingPush, topic: topic, joinRef: ch.rec.JoinRef, sent: true, done: func(rep wire.Reply, err error) {
		if err == nil && rep.Status != "ok" {
			err = r.pushError(topic, rep)
		}
		for _, w := range waiters {
			actors.Reply(w, err)
		}
	}}, ref)
	r.send(frame.Frame{JoinRef: ch.rec.JoinRef, Ref: ref, Topic: topic, Event: "presence", Payload: payload})
}
