package actors

import (
	"context"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// Claim settles a request whose caller may give up while the message
// waits in the actor's mailbox: exactly one of Take (the actor commits to
// acting on the message) and Abandon (the caller returns its ctx error)
// succeeds. An actor that acts on a claimed message calls Take first and
// drops the message when it fails, so a caller told "ctx expired" can rely
// on nothing having happened.
type Claim struct{ state atomic.Int32 }

const (
	claimOpen int32 = iota
	claimTaken
	claimAbandoned
)

// Take reports whether the actor may act on the message; false means the
// caller gave up and was told so. A nil Claim is always taken.
func (c *Claim) Take() bool { return c == nil || c.state.CompareAndSwap(claimOpen, claimTaken) }

// Abandon reports whether the caller gave up before the actor took the
// message.
func (c *Claim) Abandon() bool { return c.state.CompareAndSwap(claimOpen, claimAbandoned) }

// RequestClaimed is Request for messages with side effects: build gets a
// Claim to put in the message. When ctx ends first, RequestClaimed returns
// ctx.Err() only if the actor had not taken the message (and so never
// will); if it had, it waits for the actor's answer, which is written in
// the same step as the Take.
func RequestClaimed[T any](ctx context.Context, root *actor.RootContext, pid *actor.PID, stopped <-chan struct{}, build func(reply chan<- T, claim *Claim) any) (T, error) {
	var zero T
	if err := canSend(ctx, stopped); err != nil {
		return zero, err
	}
	claim := &Claim{}
	reply := make(chan T, 1)
	root.Send(pid, build(reply, claim))
	select {
	case v := <-reply:
		return v, nil
	case <-ctx.Done():
		if claim.Abandon() {
			return zero, ctx.Err()
		}
	case <-stopped:
		if claim.Abandon() {
			return zero, ErrStopped
		}
	}
	// Taken: the answer is on its way (or the actor stopped in between).
	select {
	case v := <-reply:
		return v, nil
	case <-stopped:
		return replyOrStopped(reply)
	}
}
