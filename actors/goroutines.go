package actors

import (
	"context"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// dispatcherThroughput is protoactor-go's default: how many messages a
// mailbox goroutine handles before yielding.
const dispatcherThroughput = 300

// Goroutines is an actor.Dispatcher that counts the mailbox goroutines it
// starts, so the owner of an actor tree can wait until every one of them
// has returned (protoactor-go's own dispatcher starts goroutines nobody
// can wait for). Give it to every actor of the tree with
// actor.WithDispatcher. The zero value is ready to use.
type Goroutines struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil when nobody waits
}

var _ actor.Dispatcher = (*Goroutines)(nil)

// Schedule runs fn on a new goroutine it counts.
func (g *Goroutines) Schedule(fn func()) {
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
	go func() {
		defer g.done()
		fn()
	}()
}

// Throughput implements actor.Dispatcher.
func (g *Goroutines) Throughput() int { return dispatcherThroughput }

func (g *Goroutines) done() {
	g.mu.Lock()
	g.n--
	if g.n == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
	g.mu.Unlock()
}

// Running returns how many of its goroutines are running.
func (g *Goroutines) Running() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Wait returns nil once none of its goroutines is running, or ctx's
// error. A mailbox that gets a message later starts a new goroutine;
// callers wait after the actors have stopped, when no message reaches
// them any more.
func (g *Goroutines) Wait(ctx context.Context) error {
	g.mu.Lock()
	if g.n == 0 {
		g.mu.Unlock()
		return nil
	}
	if g.idle == nil {
		g.idle = make(chan struct{})
	}
	idle := g.idle
	g.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
