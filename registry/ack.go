package registry

import (
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// maxAckResults bounds the results kept for WaitForAck calls that have not
// come yet; the oldest are forgotten first.
const maxAckResults = 1024

// acks tracks acknowledged pushes: waiters of pending ones and results of
// finished ones not yet waited for.
type acks struct {
	waiters map[string][]ackWaiter
	results map[string]error
	order   []string
}

// ackWaiter is one WaitForAck call. Its claim is taken when it is
// answered: a caller whose ctx ended first has abandoned it, and the result
// is kept for the next call instead.
type ackWaiter struct {
	reply chan<- error
	claim interface{ Take() bool }
}

func (w ackWaiter) take() bool { return w.claim == nil || w.claim.Take() }

func (a *acks) init() {
	if a.waiters == nil {
		a.waiters = map[string][]ackWaiter{}
		a.results = map[string]error{}
	}
}

// finish records the outcome of ref and answers its waiters. A result
// that a waiter still waiting received is not stored.
func (a *acks) finish(ref string, err error) {
	a.init()
	ws := a.waiters[ref]
	delete(a.waiters, ref)
	answered := false
	for _, w := range ws {
		if w.take() {
			actors.Reply(w.reply, err)
			answered = true
		}
	}
	if answered {
		return
	}
	a.results[ref] = err
	a.order = append(a.order, ref)
	for len(a.order) > maxAckResults {
		delete(a.results, a.order[0])
		a.order = a.order[1:]
	}
}

// wait answers w now if ref has a result, or when it gets one.
func (a *acks) wait(ref string, pending bool, w ackWaiter) {
	a.init()
	if err, ok := a.results[ref]; ok {
		if w.take() {
			delete(a.results, ref)
			actors.Reply(w.reply, err)
		}
		return
	}
	if !pending {
		if w.take() {
			actors.Reply(w.reply, messages.ErrUnknownAck)
		}
		return
	}
	a.waiters[ref] = append(a.waiters[ref], w)
}

// abort answers every waiter with err (the registry is going away).
func (a *acks) abort(err error) {
	for ref, ws := range a.waiters {
		for _, w := range ws {
			if w.take() {
				actors.Reply(w.reply, err)
			}
		}
		delete(a.waiters, ref)
	}
}

// trackAck registers an acknowledged push under its ref.
func (r *reg) trackAck(ch *channel, ref string) {
	topic := ch.rec.Topic
	r.track(&pending{kind: pendingPush, topic: topic, joinRef: ch.rec.JoinRef, done: func(rep wire.Reply, err error) {
		if err == nil && rep.Status != "ok" {
			err = r.pushError(topic, rep)
		}
		r.acks.finish(ref, err)
	}}, ref)
}

func (r *reg) waitAck(m *messages.WaitAck) {
	p, ok := r.pending[m.Ref]
	r.acks.wait(m.Ref, ok && p.kind == pendingPush, ackWaiter{reply: m.Reply, claim: m.Claim})
}

// pushError is the error of a push answered with a status other than ok;
// the server's reason and response are redacted.
func (r *reg) pushError(topic string, rep wire.Reply) error {
	red := r.cfg.Redact
	return &messages.PushError{
		Topic:    topic,
		Status:   red.String(rep.Status),
		Reason:   red.String(wire.ReplyReason(rep.Response)),
		Response: red.Bytes(rep.Response),
	}
}
