package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/wrapperspb"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/supervisor"
)

// Replies of a grain to an ensure request (wrapperspb.StringValue, so that
// they cross members with protoactor-go's protobuf serializer and no
// generated code of ours).
const (
	ensureRequest  = "ensure"
	replyNotOwner  = "not-owner"
	replyOwnedByAt = "owned:" // + member address
)

// covered is the result of an activation's first phase: what the
// subscription's previous owners covered.
type covered struct {
	missed time.Time
	err    error
}

// stopSelf is sent by a grain's goroutine when this member no longer owns
// the subscription in its view.
type stopSelf struct{}

// grain is the activation of one subscription on its owning member: a
// virtual actor of kind Config.Kind whose child is the subscription's client
// tree. Stopping the grain (the identity moved, the member closes) stops
// the client tree with it.
//
// An activation has two phases, each on a goroutine of the node's so that
// the actor never blocks: the first waits for the previous activation of
// the same subscription on this member to have closed its client and reads
// the previous owners' coverage from the gossip; the actor then creates
// the client with WithMissedSince set to it, runs Setup and records the
// activation; the second subscribes the channels and records coverage
// while they are joined.
type grain struct {
	node *Node
	sub  *Subscription

	client *realtime.Client
	ctx    context.Context // cancelled on Stopping
	cancel context.CancelFunc
	done   chan struct{} // closed when the current phase's goroutine exits
}

func (g *grain) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		g.begin(ctx)
	case covered:
		g.activate(ctx, msg)
	case *wrapperspb.StringValue:
		if msg.GetValue() != ensureRequest {
			return
		}
		if !g.node.view.owns(g.sub.ID) {
			ctx.Respond(wrapperspb.String(replyNotOwner))
			ctx.Stop(ctx.Self())
			return
		}
		ctx.Respond(wrapperspb.String(replyOwnedByAt + g.node.Address()))
	case stopSelf:
		ctx.Stop(ctx.Self())
	case *actor.Stopping:
		g.stop()
	case *actor.Stopped:
		g.node.untrack(ctx.Self())
	}
}

// begin starts the first phase, unless this member's view says another
// member owns the subscription (the requester's view was stale) or the
// member is closing: then the grain stops before anything is subscribed,
// and the keeper's next round asks the right member.
func (g *grain) begin(ctx actor.Context) {
	if !g.node.view.owns(g.sub.ID) || !g.node.track(ctx.Self()) {
		ctx.Stop(ctx.Self())
		return
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	self, root := ctx.Self(), ctx.ActorSystem().Root
	g.spawn(func() {
		if err := g.node.waitReleased(g.ctx, g.sub.ID); err != nil {
			return
		}
		missed, err := g.node.coverage(g.ctx, g.sub.ID)
		if g.ctx.Err() == nil {
			root.Send(self, covered{missed: missed, err: err})
		}
	})
}

// activate creates the client and runs Setup on the actor (the client tree
// is the grain's child), then starts the second phase.
func (g *grain) activate(ctx actor.Context, m covered) {
	<-g.done // the first phase has sent m and is returning
	n := g.node
	c, err := n.newClient(g.sub, g.sub.Handler, realtime.WithMissedSince(m.missed))
	if err != nil {
		// Validated in Start; only a bug gets here.
		n.cfg.Logger.Error("fleet: subscription client", "id", g.sub.ID, "error", err)
		ctx.Stop(ctx.Self())
		return
	}
	ctx.Spawn(supervisor.Props(c.Runtime()))
	g.client = c
	chans, err := setup(g.sub, c)
	if err != nil {
		// Reported through OnOwnership: the client's Dispatcher may be
		// calling the Handler already, and calls must not overlap.
		g.stopClient()
		n.emit(OwnershipEvent{ID: g.sub.ID, Member: n.Address(), At: time.Now(), Err: err})
		ctx.Stop(ctx.Self())
		return
	}
	// The activation itself is coverage: if this member dies before its
	// channels join, the next owner's gap starts where this one's did.
	now := time.Now()
	if m.missed.IsZero() {
		recordCoverage(n.cluster, g.sub.ID, now)
	} else {
		recordCoverage(n.cluster, g.sub.ID, m.missed)
	}
	n.emit(OwnershipEvent{ID: g.sub.ID, Member: n.Address(), Acquired: true, MissedSince: m.missed, At: now, Err: m.err})
	self, root := ctx.Self(), ctx.ActorSystem().Root
	g.spawn(func() { g.run(chans, func() { root.Send(self, stopSelf{}) }) })
}

// spawn runs f on a goroutine of the node's as the grain's current phase.
func (g *grain) spawn(f func()) {
	g.done = make(chan struct{})
	done := g.done
	g.node.wg.Add(1)
	go func() {
		defer g.node.wg.Done()
		defer close(done)
		f()
	}()
}

// setup runs Subscription.Setup, turning a panic into its error.
func setup(s *Subscription, c *realtime.Client) (chans []*realtime.Channel, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &SetupError{ID: s.ID, Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	chans, err = s.Setup(c)
	if err != nil {
		return nil, &SetupError{ID: s.ID, Err: err}
	}
	return chans, nil
}

// run is the second phase: it subscribes the channels, then records
// coverage while they are joined and stops the grain if ownership moves in
// this member's view.
func (g *grain) run(chans []*realtime.Channel, stop func()) {
	n, ctx := g.node, g.ctx
	for _, ch := range chans {
		// Subscribe returns at the first outcome; after a timeout or a
		// channel error the channel keeps retrying on its own, and the
		// Handler hears of it.
		if _, err := g.client.Subscribe(ctx, ch); err != nil && ctx.Err() != nil {
			return
		}
	}
	t := time.NewTicker(n.cfg.CoverageInterval)
	defer t.Stop()
	for {
		if !n.view.owns(g.sub.ID) {
			stop()
			return
		}
		if allJoined(g.client, chans) {
			recordCoverage(n.cluster, g.sub.ID, time.Now())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func allJoined(c *realtime.Client, chans []*realtime.Channel) bool {
	for _, ch := range chans {
		if c.ChannelState(ch) != realtime.ChannelJoined {
			return false
		}
	}
	return true
}

// stop runs on Stopping: the current phase ends, the client tree (a child)
// stops with the grain, and the client is closed on a goroutine the node
// owns.
func (g *grain) stop() {
	if g.cancel != nil {
		g.cancel()
		<-g.done
	}
	if g.client == nil {
		return
	}
	g.stopClient()
	g.node.emit(OwnershipEvent{ID: g.sub.ID, Member: g.node.Address(), At: time.Now()})
}

// stopClient closes the client on a goroutine of the node's; the next
// activation of the subscription on this member waits for it, so that two
// clients of one subscription never call its Handler at once.
func (g *grain) stopClient() {
	c, n := g.client, g.node
	g.client = nil
	released := n.releasing(g.sub.ID)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer close(released)
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.CloseTimeout)
		defer cancel()
		_ = c.Close(ctx)
	}()
}

// SetupError is a Subscription.Setup failure (an error or a panic) on the
// member that activated the subscription, reported in OwnershipEvent.Err.
type SetupError struct {
	ID  string
	Err error
}

func (e *SetupError) Error() string {
	return "realtime: fleet subscription " + e.ID + " setup: " + e.Err.Error()
}

// Unwrap returns the Setup error.
func (e *SetupError) Unwrap() error { return e.Err }
