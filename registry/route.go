package registry

import (
	"log/slog"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// inbound routes one frame read from the socket. The frame's bytes belong
// to the reader's buffer: a frame that is kept or becomes an event is
// copied first (Frame.Own); one that is dropped never is.
func (r *reg) inbound(m *messages.Inbound) {
	if m.Err != nil {
		r.deliver(nil, messages.ErrorEvent{Err: m.Err})
		return
	}
	f := &m.Frame
	if f.Event == "phx_reply" && f.Ref != "" {
		// Phoenix matches a reply on the channel of its topic: a reply on
		// another topic that carries this ref is not this push's answer.
		if p, ok := r.pending[f.Ref]; ok && p.topic == f.Topic {
			f.Own()
			r.reply(f.Ref, p, f)
			return
		}
	}
	ch := r.channels[f.Topic]
	if ch == nil {
		r.cfg.Stats.Unrouted.Add(1)
		return
	}
	if r.stale(ch, f) {
		r.cfg.Stats.Stale.Add(1)
		r.cfg.Logger.Debug("realtime: stale frame dropped", slog.String("topic", f.Topic), slog.String("event", f.Event))
		return
	}
	if r.closedTo(ch, f) {
		r.cfg.Stats.Closed.Add(1)
		r.cfg.Logger.Debug("realtime: frame for a closed channel dropped", slog.String("topic", f.Topic), slog.String("event", f.Event))
		return
	}
	f.Own()
	switch f.Event {
	case "broadcast":
		r.broadcast(ch, m)
	case "system":
		r.system(ch, f)
	case "phx_close":
		r.serverClosed(ch)
	case "phx_error":
		r.serverErrored(ch)
	case "postgres_changes":
		r.postgresChange(ch, m)
	case "presence_state":
		r.presenceMessage(ch, f.Payload, true)
	case "presence_diff":
		r.presenceMessage(ch, f.Payload, false)
	case "phx_reply":
		r.cfg.Stats.UnknownReplies.Add(1)
		r.cfg.Logger.Debug("realtime: reply for an unknown ref dropped", slog.String("topic", f.Topic))
	default:
		r.cfg.Stats.UnknownEvents.Add(1)
		r.cfg.Logger.Debug("realtime: unknown event dropped", slog.String("topic", f.Topic), slog.String("event", f.Event))
	}
}

// stale reports a frame from an earlier incarnation of the channel. A null
// join_ref always passes (fastlane broadcasts, presence diffs, changes);
// phx_close and phx_error carry the join_ref as their ref too, which is the
// only way to tell on vsn 1.0.0, where the server never sends join_ref.
func (r *reg) stale(ch *channel, f *frame.Frame) bool {
	if f.JoinRef != "" && f.JoinRef != ch.rec.JoinRef {
		return true
	}
	if (f.Event == "phx_close" || f.Event == "phx_error") && f.Ref != "" && f.Ref != ch.rec.JoinRef {
		return true
	}
	return false
}

// closedTo reports a frame a closed channel must not receive. phoenix.js
// removes a channel from its socket when it closes (after the leave's
// reply, or a server phx_close), so nothing reaches it afterwards; here the
// channel stays known in the closed state (Subscribe joins it again), so
// its state decides. phx_close, phx_error and replies still pass: their
// handlers know what a closed channel does with them.
func (r *reg) closedTo(ch *channel, f *frame.Frame) bool {
	if ch.rec.State != messages.ChannelClosed {
		return false
	}
	switch f.Event {
	case "phx_close", "phx_error", "phx_reply":
		return false
	}
	return true
}

func (r *reg) broadcast(ch *channel, m *messages.Inbound) {
	ev, err := broadcastEvent(ch.rec.Name, ch.rec.Topic, m, r.intern)
	if err != nil {
		r.cfg.Stats.Malformed.Add(1)
		r.deliver(ch, messages.ErrorEvent{Channel: ch.rec.Name, Err: err})
		return
	}
	if wantsBroadcast(ch.rec.Bindings, ev.Event) {
		r.deliver(ch, ev)
	}
}

// broadcastEvent builds the BroadcastEvent of a broadcast frame for
// channel name (topic). Its payload, binary and meta alias the frame's
// bytes. An error is a payload that had to be parsed and did not parse.
func broadcastEvent(name, topic string, m *messages.Inbound, intern wire.InternFunc) (messages.BroadcastEvent, error) {
	f := &m.Frame
	ev := messages.BroadcastEvent{Channel: name, Topic: topic, Received: m.Received}
	switch {
	case f.Kind == frame.KindUserBroadcast || f.Kind == frame.KindUserBroadcastPush:
		ev.Event = f.UserEvent
		if f.Encoding == frame.EncodingJSON {
			ev.Payload = f.Payload
		} else {
			ev.Binary = f.Payload
			if ev.Binary == nil {
				ev.Binary = []byte{}
			}
		}
		ev.Meta = f.Meta
	case f.Bcast.OK:
		// The decoder located the members while validating the frame.
		s := &f.Bcast
		ev.Event, _ = wire.JSONString(s.Event.In(f.Payload), intern)
		ev.Payload, ev.Meta = s.Payload.In(f.Payload), s.Meta.In(f.Payload)
	default:
		b, err := wire.ParseDecodedBroadcast(f.Payload, intern) // Decode validated it
		if err != nil {
			return ev, err
		}
		ev.Event, ev.Payload, ev.Meta = b.Event, b.Payload, b.Meta
	}
	return ev, nil
}

// wantsBroadcast reports whether a broadcast binding among bindings
// matches event.
func wantsBroadcast(bindings []messages.Binding, event string) bool {
	for _, b := range bindings {
		if bb, ok := b.(messages.Broadcast); ok && bb.Matches(event) {
			return true
		}
	}
	return false
}

func (r *reg) system(ch *channel, f *frame.Frame) {
	s, err := wire.ParseSystem(f.Payload)
	if err != nil {
		r.cfg.Stats.Malformed.Add(1)
		r.deliver(ch, messages.ErrorEvent{Channel: ch.rec.Name, Err: err})
		return
	}
	r.deliver(ch, messages.SystemEvent{Channel: ch.rec.Name, Topic: ch.rec.Topic, Extension: s.Extension, Status: s.Status, Message: s.Message})
	if s.Status == "error" && s.Extension == "system" && wire.IsAuthReason(s.Message) {
		// The server closes the channel next (phx_close).
		// SystemEvent.Message above is the server's text verbatim (as
		// documented); the error is redacted like every error.
		ch.authErr = &messages.AuthError{Topic: ch.rec.Topic, Reason: r.cfg.Redact.String(s.Message)}
		r.deliver(ch, messages.ErrorEvent{Channel: ch.rec.Name, Err: ch.authErr})
	}
}

// serverClosed handles phx_close: terminal, no automatic rejoin.
func (r *reg) serverClosed(ch *channel) {
	if !ch.rec.Wanted && (ch.rec.State == messages.ChannelClosed || ch.rec.State == messages.ChannelLeaving) {
		return // the close that follows our own leave
	}
	ch.stopRejoin()
	if p, ok := r.pending[ch.rec.JoinRef]; ok && p.kind == pendingJoin {
		p.timer.Stop()
		delete(r.pending, ch.rec.JoinRef)
	}
	if ch.authErr != nil {
		err := ch.authErr
		ch.authErr = nil
		r.authFailed(ch, err, messages.Closed)
		return
	}
	ch.rec.Wanted = false
	r.discard(ch, messages.ErrChannelClosed)
	r.setState(ch, messages.ChannelClosed, messages.Closed, nil)
	r.resolve(ch, messages.SubscribeResult{Status: messages.Closed, Err: messages.ErrChannelClosed})
}

// serverErrored handles phx_error: the channel crashed on the server; rejoin
// with backoff.
func (r *reg) serverErrored(ch *channel) {
	if !ch.rec.Wanted {
		return
	}
	err := &messages.ChannelErrorDetail{Topic: ch.rec.Topic, Reason: "channel crashed (phx_error)"}
	r.setState(ch, messages.ChannelErrored, messages.ChannelError, err)
	r.scheduleRejoin(ch)
}

// deliver queues an event for the channel's Handler (or the client's). It
// never blocks: Handlers run on the Dispatcher's goroutines.
func (r *reg) deliver(ch *channel, ev messages.Event) {
	h := ch.handler(r.cfg.Handler)
	if h == nil {
		return
	}
	key := ""
	if ch != nil && ch.rec.Config.Handler != nil {
		key = ch.rec.Topic
	}
	r.cfg.Dispatch.deliver(key, h, ev)
}
