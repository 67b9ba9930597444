package registry

import (
	"errors"
	"fmt"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

type pendingKind uint8

const (
	pendingJoin pendingKind = iota
	pendingLeave
	pendingPush
)

// pending is a push waiting for its phx_reply, keyed by its ref.
type pending struct {
	kind    pendingKind
	topic   string
	joinRef string
	timer   interface{ Stop() bool }
	// sent is false while an acknowledged push waits in the send buffer;
	// only sent pushes are lost with the socket.
	sent bool
	// done is called once with the reply (nil error for status ok) or the
	// failure. Leaves and acknowledged pushes use it.
	done func(rep wire.Reply, err error)
}

// track registers p under ref and arms its timeout.
func (r *reg) track(p *pending, ref string) {
	root, self := r.root, r.self
	p.timer = r.cfg.Clock.AfterFunc(r.cfg.Timeout, func() { root.Send(self, &replyTimeout{ref: ref}) })
	if r.pending == nil {
		r.pending = map[string]*pending{}
	}
	r.pending[ref] = p
}

// untrack removes ref once its reply or timeout came. A map that becomes
// empty is dropped (a Go map keeps its storage after its last delete): an
// idle client keeps no map for requests it no longer waits for.
func (r *reg) untrack(ref string) {
	delete(r.pending, ref)
	if len(r.pending) == 0 {
		r.pending = nil
	}
}

// reply handles a phx_reply that matches a pending push.
func (r *reg) reply(ref string, p *pending, f *frame.Frame) {
	p.timer.Stop()
	r.untrack(ref)
	rep, err := wire.ParseReply(f.Payload)
	if err != nil {
		r.deliver(r.channels[p.topic], messages.ErrorEvent{Channel: messages.SubTopic(p.topic), Err: err})
		rep = wire.Reply{Status: "error"}
	}
	switch p.kind {
	case pendingJoin:
		r.cfg.Stats.JoinReplies.Add(1)
		r.joinReplied(p, rep)
	default:
		if p.done != nil {
			p.done(rep, nil)
		}
	}
}

func (r *reg) replyTimedOut(ref string) {
	p, ok := r.pending[ref]
	if !ok {
		return
	}
	r.untrack(ref)
	switch p.kind {
	case pendingJoin:
		r.joinTimedOut(p)
	default:
		// A push reported as timed out is never sent afterwards.
		r.unbuffer(p.topic, ref)
		if p.done != nil {
			p.done(wire.Reply{}, messages.ErrPushTimeout)
		}
	}
}

// abandon fails a pending push whose socket went away.
func (r *reg) abandon(p *pending, cause error) {
	if p.kind == pendingJoin || p.done == nil {
		return // the channel state machine rejoins
	}
	p.done(wire.Reply{}, cause)
}

// connectionLost is the error of a push that was sent on a socket that
// then died, whatever killed it (a close, a read or write error, a
// heartbeat timeout): it is ErrConnectionLost and wraps the cause.
func connectionLost(cause error) error {
	switch {
	case cause == nil:
		return messages.ErrConnectionLost
	case errors.Is(cause, messages.ErrConnectionLost):
		return cause
	default:
		return fmt.Errorf("%w: %w", messages.ErrConnectionLost, cause)
	}
}

func (r *reg) joinReplied(p *pending, rep wire.Reply) {
	ch := r.channels[p.topic]
	if ch == nil || ch.rec.JoinRef != p.joinRef || !ch.rec.Wanted {
		return
	}
	if rep.Status != "ok" {
		reason := r.cfg.Redact.String(wire.ReplyReason(rep.Response))
		if wire.IsAuthReason(reason) && (r.cfg.AccessToken == nil || ch.rec.Token != "") {
			// No way to get another token: rejoining with the same one
			// can only fail the same way (docs/peers.md pain 1), so wait for
			// SetAuth instead of looping.
			r.authFailed(ch, &messages.AuthError{Topic: ch.rec.Topic, Reason: reason}, messages.ChannelError)
			return
		}
		var err error = &messages.ChannelErrorDetail{Topic: ch.rec.Topic, Reason: reason}
		if wire.IsAuthReason(reason) {
			err = &messages.AuthError{Topic: ch.rec.Topic, Reason: reason}
		}
		r.setState(ch, messages.ChannelErrored, messages.ChannelError, err)
		r.resolve(ch, messages.SubscribeResult{Status: messages.ChannelError, Err: err})
		r.scheduleRejoin(ch)
		return
	}
	if !r.checkPostgresEcho(ch, rep.Response) {
		// As realtime-js: leave, and report the mismatch; routing by ids
		// would be wrong.
		r.send(frame.Frame{JoinRef: ch.rec.JoinRef, Ref: r.cfg.Refs.Next(), Topic: ch.rec.Topic, Event: "phx_leave", Payload: emptyObject})
		err := &messages.ChannelErrorDetail{Topic: ch.rec.Topic, Reason: bindingMismatch}
		ch.rec.Wanted = false
		r.discard(ch, err)
		r.setState(ch, messages.ChannelClosed, messages.ChannelError, err)
		r.resolve(ch, messages.SubscribeResult{Status: messages.ChannelError, Err: err})
		return
	}
	ch.rejoinTries = 0
	ch.authRetried = false
	r.setState(ch, messages.ChannelJoined, messages.Subscribed, nil)
	r.resolve(ch, messages.SubscribeResult{Status: messages.Subscribed})
	if ch.dirty && r.open {
		// A binding or a track changed the join config while the join
		// was in flight: join again; buffered pushes and the track go out
		// after that join.
		r.join(ch)
		return
	}
	r.pushToken(ch) // a token set while the join was in flight
	if ch.rec.Tracked != nil || len(ch.trackWaiters) > 0 {
		r.sendTrack(ch) // back online after a rejoin without calling Track
	}
	r.flush(ch)
}

func (r *reg) joinTimedOut(p *pending) {
	ch := r.channels[p.topic]
	if ch == nil || ch.rec.JoinRef != p.joinRef {
		return
	}
	// Tell the server to drop the half-made join, as phoenix.js does.
	if r.open {
		r.send(frame.Frame{JoinRef: p.joinRef, Ref: r.cfg.Refs.Next(), Topic: ch.rec.Topic, Event: "phx_leave", Payload: emptyObject})
	}
	// Frames of the abandoned join (its leave reply, a phx_close) are
	// stale from now on, as after phoenix.js's joinPush.reset().
	ch.rec.JoinRef = ""
	err := messages.ErrJoinTimeout
	r.setState(ch, messages.ChannelErrored, messages.TimedOut, err)
	r.resolve(ch, messages.SubscribeResult{Status: messages.TimedOut, Err: err})
	r.scheduleRejoin(ch)
}

var emptyObject = []byte("{}")
