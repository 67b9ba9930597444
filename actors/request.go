package actors

import (
	"context"
	"errors"

	"github.com/asynkron/protoactor-go/actor"
)

// ErrStopped is returned by Request when the runtime stopped before the
// actor replied.
var ErrStopped = errors.New("realtime: runtime stopped")

// Request sends the message built by build to pid and waits for the single
// value the actor writes to the reply channel.
//
// The reply channel has capacity 1, so an actor never blocks replying, even
// when the caller already gave up. Request returns ctx.Err() when ctx ends
// first and ErrStopped when stopped is closed first.
func Request[T any](ctx context.Context, root *actor.RootContext, pid *actor.PID, stopped <-chan struct{}, build func(reply chan<- T) any) (T, error) {
	var zero T
	if err := canSend(ctx, stopped); err != nil {
		return zero, err
	}
	reply := make(chan T, 1)
	root.Send(pid, build(reply))
	select {
	case v := <-reply:
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-stopped:
		return replyOrStopped(reply)
	}
}

// canSend reports why a request must not be sent: ctx has ended or the
// actor has stopped.
func canSend(ctx context.Context, stopped <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-stopped:
		return ErrStopped
	default:
		return nil
	}
}

// replyOrStopped is what a caller gets once the actor stopped: the reply
// if it raced with the stop (it is preferred), else ErrStopped.
func replyOrStopped[T any](reply <-chan T) (T, error) {
	select {
	case v := <-reply:
		return v, nil
	default:
		var zero T
		return zero, ErrStopped
	}
}

// Reply writes v to a reply channel without ever blocking. Channels passed
// to actors have capacity 1 and are answered once, so the default branch is
// only taken when an actor answers twice, which is a bug it survives.
func Reply[T any](ch chan<- T, v T) {
	if ch == nil {
		return
	}
	select {
	case ch <- v:
	default:
	}
}
