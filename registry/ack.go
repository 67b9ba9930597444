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
	waiters map[string][]chan<- error
	results map[string]error
	order   []string
}

func (a *acks) init() {
	if a.waiters == nil {
		a.waiters = map[string][]chan<- error{}
		a.results = map[string]error{}
	}
}

// finish records the outcome of ref and answers its waiters. A result
// that somebody already waited for is not stored.
func (a *acks) finish(ref string, err error) {
	a.init()
	if ws, ok := a.waiters[ref]; ok {
		delete(a.waiters, ref)
		for _, w := range ws {
			actors.Reply(w, err)
		}
		return
	}
	a.results[ref] = err
	a.order = append(a.order, ref)
	for len(a.order) > maxAckResults {
		delete(a.results, a.order[0])
		a.order = a.order[1:]
	}
}

// wait answers reply now if ref has a result, or when it gets one.
func (a *acks) wait(ref string, pending bool, reply chan<- error) {
	a.init()
	if err, ok := a.results[ref]; ok {
		delete(a.results, ref)
		actors.Reply(reply, err)
		return
	}
	if !pending {
		actors.Reply(reply, messages.ErrUnknownAck)
		return
	}
	a.waiters[ref] = append(a.waiters[ref], reply)
}

// abort answers every waiter with err (the registry is going away).
func (a *acks) abort(err error) {
	for ref, ws := range a.waiters {
		for _, w := range ws {
			actors.Reply(w, err)
		}
		delete(a.waiters, ref)
	}
}

// trackAck registers an acknowledged push under its ref.
func (r *reg) trackAck(ch *channel, ref string) {
	topic := ch.rec.Topic
	r.track(&pending{kind: pendingPush, topic: topic, joinRef: ch.rec.JoinRef, done: func(rep wire.Reply, err error) {
		if err == nil && rep.Status != "ok" {
			err = &messages.PushError{Topic: topic, Status: rep.Status, Reason: wire.ReplyReason(rep.Response), Response: rep.Response}
		}
		r.acks.finish(ref, err)
	}}, ref)
}

func (r *reg) waitAck(m *messages.WaitAck) {
	p, ok := r.pending[m.Ref]
	r.acks.wait(m.Ref, ok && p.kind == pendingPush, m.Reply)
}
