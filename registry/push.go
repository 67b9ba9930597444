package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// push sends a user push now if the channel is joined on an open socket,
// or buffers it until the channel (re)joins. A full buffer is an error for
// the caller; nothing is dropped silently. An acknowledged push gets its ref
// at once and its timeout starts now, as in phoenix.js.
func (r *reg) push(m *messages.Push) messages.PushResult {
	if m.Claim != nil && !m.Claim.Take() {
		// The caller's ctx ended while this waited in the mailbox and it
		// was told so: sending it now would contradict that answer.
		return messages.PushResult{Err: context.Canceled}
	}
	ch := r.channels[m.Topic]
	if ch == nil {
		return messages.PushResult{Err: messages.ErrUnknownChannel}
	}
	if r.gaveUp != nil {
		return messages.PushResult{Err: r.gaveUp}
	}
	if ch.rec.AuthBlocked {
		return messages.PushResult{Err: fmt.Errorf("%w: channel %s waits for a new token (SetAuth)", messages.ErrAuth, ch.rec.Topic)}
	}
	if !ch.rec.Wanted {
		return messages.PushResult{Err: messages.ErrChannelClosed}
	}
	f := m.Frame
	sendNow := r.open && ch.rec.State == messages.ChannelJoined
	if !sendNow && r.buffered >= r.cfg.BufferSize {
		return messages.PushResult{Err: messages.ErrBufferFull}
	}
	var res messages.PushResult
	if m.Ack && ch.rec.Config.Ack {
		f.Ref = r.cfg.Refs.Next()
		res.Ref = f.Ref
		r.trackAck(ch, f.Ref)
	}
	if sendNow {
		r.sendPush(ch, f)
		return res
	}
	ch.rec.Outbox = append(ch.rec.Outbox, f)
	r.setBuffered(r.buffered + 1)
	r.persist(ch)
	return res
}

func (r *reg) setBuffered(n int) {
	r.buffered = n
	r.cfg.Stats.Buffered.Store(int64(n))
}

// sendPush stamps a push with the channel's join_ref, a fresh ref and the
// topic, and writes it.
func (r *reg) sendPush(ch *channel, f frame.Frame) {
	f.JoinRef = ch.rec.JoinRef
	f.Topic = ch.rec.Topic
	if f.Ref != "" {
		if p, ok := r.pending[f.Ref]; ok && p.kind == pendingPush {
			p.sent = true
			r.sendAck(f)
			return
		}
	} else {
		f.Ref = r.cfg.Refs.Next()
	}
	r.send(f)
}

// flush sends a joined channel's buffered pushes in order.
func (r *reg) flush(ch *channel) {
	if len(ch.rec.Outbox) == 0 {
		return
	}
	out := ch.rec.Outbox
	ch.rec.Outbox = nil
	r.setBuffered(r.buffered - len(out))
	r.persist(ch)
	for _, f := range out {
		r.sendPush(ch, f)
	}
}

// unbuffer removes the buffered push with the given ref, if any.
func (r *reg) unbuffer(topic, ref string) {
	ch := r.channels[topic]
	if ch == nil {
		return
	}
	for i, f := range ch.rec.Outbox {
		if f.Ref == ref {
			ch.rec.Outbox = append(ch.rec.Outbox[:i:i], ch.rec.Outbox[i+1:]...)
			r.setBuffered(r.buffered - 1)
			r.persist(ch)
			return
		}
	}
}

// discard empties a channel's buffer that can no longer be sent and
// reports it, so the loss is never silent.
func (r *reg) discard(ch *channel, cause error) {
	for _, w := range ch.trackWaiters {
		actors.Reply(w, cause)
	}
	ch.trackWaiters = nil
	if len(ch.rec.Outbox) == 0 {
		return
	}
	n := len(ch.rec.Outbox)
	for _, f := range ch.rec.Outbox {
		if p, ok := r.pending[f.Ref]; f.Ref != "" && ok && p.kind == pendingPush {
			p.timer.Stop()
			delete(r.pending, f.Ref)
			p.done(wire.Reply{}, cause)
		}
	}
	ch.rec.Outbox = nil
	r.setBuffered(r.buffered - n)
	r.persist(ch)
	r.deliver(ch, messages.ErrorEvent{Channel: ch.rec.Name, Err: fmt.Errorf("realtime: %d buffered pushes on %s discarded: %w", n, ch.rec.Topic, cause)})
}

// outboundFailed takes back a push the connection could not write. Joins,
// leaves and token pushes are redone by the channel state machine; user
// pushes go back to the front of their channel's buffer (they were
// already accepted, so they may exceed the buffer size).
func (r *reg) outboundFailed(m *messages.OutboundFailed) {
	f := m.Frame
	switch f.Event {
	case "phx_join", "phx_leave", "access_token", "heartbeat", "presence":
		// Redone by the state machine: joins after the reconnect, the
		// tracked presence is tracked again after the rejoin.
		return
	}
	if _, tracked := r.pending[f.Ref]; m.Ack && !tracked {
		// An acknowledged push whose outcome was already reported (timed
		// out, socket lost): sending it now would only duplicate it.
		return
	}
	ch := r.channels[f.Topic]
	encodeErr := errors.Is(m.Err, messages.ErrMalformed) || errors.Is(m.Err, wire.ErrUnsupported) || errors.Is(m.Err, wire.ErrHeaderTooLong)
	if ch == nil || !ch.rec.Wanted || encodeErr {
		r.deliver(ch, messages.ErrorEvent{Channel: messages.SubTopic(f.Topic), Err: fmt.Errorf("realtime: push %q on %s not sent: %w", f.Event, f.Topic, m.Err)})
		return
	}
	if r.open && ch.rec.State == messages.ChannelJoined {
		r.sendPush(ch, f)
		return
	}
	if p, ok := r.pending[f.Ref]; ok && f.Ref != "" {
		p.sent = false
	}
	ch.rec.Outbox = append([]frame.Frame{f}, ch.rec.Outbox...)
	r.setBuffered(r.buffered + 1)
	r.persist(ch)
}
