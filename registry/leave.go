package registry

import (
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/store"
)

// unsubscribe leaves a channel (waiting for the server's reply when the
// socket is open) and, with remove, forgets it. done runs once.
func (r *reg) unsubscribe(topic string, remove bool, done func(error)) {
	ch := r.channels[topic]
	if ch == nil {
		r.afterPersist(func() { done(messages.ErrUnknownChannel) })
		return
	}
	ch.rec.Wanted = false
	ch.stopRejoin()
	r.resolve(ch, messages.SubscribeResult{Status: messages.Closed, Err: messages.ErrChannelClosed})
	r.discard(ch, messages.ErrChannelClosed)
	if p, ok := r.pending[ch.rec.JoinRef]; ok && p.kind == pendingJoin {
		p.timer.Stop()
		delete(r.pending, ch.rec.JoinRef)
	}
	finish := func() {
		if remove {
			delete(r.channels, topic)
			r.cfg.Presence.drop(topic)
			r.root.Send(r.cfg.Store, &store.Delete{Topic: topic})
			r.deliver(ch, messages.ChannelStatusEvent{Channel: ch.rec.Name, Topic: topic, State: messages.ChannelClosed})
		} else {
			r.setState(ch, messages.ChannelClosed, "", nil)
		}
		r.afterPersist(func() { done(nil) })
	}
	joinedOrJoining := ch.rec.State == messages.ChannelJoined || ch.rec.State == messages.ChannelJoining
	if !r.open || !joinedOrJoining || ch.rec.State == messages.ChannelLeaving {
		finish()
		return
	}
	ref := r.cfg.Refs.Next()
	r.track(&pending{kind: pendingLeave, topic: topic, joinRef: ch.rec.JoinRef, done: func(messages.Reply, error) {
		// Whatever the reply (or its absence), the channel is left
		// locally, as in phoenix.js.
		finish()
	}}, ref)
	r.send(messages.Frame{JoinRef: ch.rec.JoinRef, Ref: ref, Topic: topic, Event: "phx_leave", Payload: emptyObject})
	r.setState(ch, messages.ChannelLeaving, "", nil)
}

func (r *reg) removeAll(m *messages.RemoveAll) {
	chans := r.ordered()
	if len(chans) == 0 {
		actors.Reply(m.Reply, nil)
		return
	}
	left := len(chans)
	var first error
	for _, ch := range chans {
		r.unsubscribe(ch.rec.Topic, true, func(err error) {
			if err != nil && first == nil {
				first = err
			}
			left--
			if left == 0 {
				actors.Reply(m.Reply, first)
			}
		})
	}
}
