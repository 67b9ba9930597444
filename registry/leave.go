package registry

import (
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// leaveOp is a leave in progress. Later Unsubscribe/RemoveChannel calls
// join it instead of finishing twice; a remove upgrades it.
type leaveOp struct {
	remove bool
	dones  []func(error)
}

// unsubscribe leaves a channel (waiting for the server's reply when the
// socket is open) and, with remove, forgets it. done runs once, after the
// change is persisted.
func (r *reg) unsubscribe(topic string, remove bool, done func(error)) {
	ch := r.channels[topic]
	if ch == nil {
		done(messages.ErrUnknownChannel)
		return
	}
	if ch.leaving != nil {
		ch.leaving.remove = ch.leaving.remove || remove
		ch.leaving.dones = append(ch.leaving.dones, done)
		ch.rec.Wanted = false // a Subscribe made meanwhile is overridden
		return
	}
	ch.leaving = &leaveOp{remove: remove, dones: []func(error){done}}
	ch.rec.Wanted = false
	ch.stopRejoin()
	r.resolve(ch, messages.SubscribeResult{Status: messages.Closed, Err: messages.ErrChannelClosed})
	r.discard(ch, messages.ErrChannelClosed)
	if p, ok := r.pending[ch.rec.JoinRef]; ok && p.kind == pendingJoin {
		p.timer.Stop()
		delete(r.pending, ch.rec.JoinRef)
	}
	joinedOrJoining := ch.rec.State == messages.ChannelJoined || ch.rec.State == messages.ChannelJoining
	if !r.open || !joinedOrJoining {
		r.finishLeave(ch)
		return
	}
	ref := r.cfg.Refs.Next()
	r.track(&pending{kind: pendingLeave, topic: topic, joinRef: ch.rec.JoinRef, done: func(wire.Reply, error) {
		// Whatever the reply (or its absence), the channel is left
		// locally, as in phoenix.js.
		r.finishLeave(ch)
	}}, ref)
	r.send(frame.Frame{JoinRef: ch.rec.JoinRef, Ref: ref, Topic: topic, Event: "phx_leave", Payload: emptyObject})
	r.setState(ch, messages.ChannelLeaving, "", nil)
}

// finishLeave completes the leave of ch: the channel is closed (or
// forgotten), unless a Subscribe arrived meanwhile, which joins it again.
func (r *reg) finishLeave(ch *channel) {
	op := ch.leaving
	ch.leaving = nil
	if op == nil || r.channels[ch.rec.Topic] != ch {
		return // already finished, or the channel was replaced
	}
	topic := ch.rec.Topic
	switch {
	case op.remove:
		delete(r.channels, topic)
		r.unroute(topic)
		r.cfg.Presence.drop(topic)
		r.cfg.Table.Delete(topic)
		r.deliver(ch, messages.ChannelStatusEvent{Channel: ch.rec.Name, Topic: topic, State: messages.ChannelClosed})
		// Nobody can wait on a forgotten channel.
		r.resolve(ch, messages.SubscribeResult{Status: messages.Closed, Err: messages.ErrUnknownChannel})
	case ch.rec.Wanted:
		// Subscribed again while leaving: join anew.
		r.setState(ch, messages.ChannelClosed, "", nil)
		if r.open {
			r.join(ch)
		}
	default:
		r.setState(ch, messages.ChannelClosed, "", nil)
	}
	for _, done := range op.dones {
		done(nil)
	}
}

// removeAll leaves and forgets every channel, answering once all are
// done.
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
