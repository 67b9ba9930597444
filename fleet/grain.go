package fleet

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
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

// stopSelf is sent by a grain's run goroutine when this member no longer
// owns the subscription in its view.
type stopSelf struct{}

// grain is the activation of one subscription on its owning member: a
// virtual actor of kind Config.Kind whose child is the subscription's client
// tree. Stopping the grain (the identity moved, the member closes) stops
// the client tree with it.
type grain struct {
	node *Node
	sub  *Subscription

	client *realtime.Client
	cancel context.CancelFunc
	done   chan struct{}
	missed *missedHandler
}

func (g *grain) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		g.start(ctx)
	case *wrapperspb.StringValue:
		if msg.GetValue() != ensureRequest {
			return
		}
		if g.client == nil || !g.node.view.owns(g.sub.ID) {
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

// start activates the subscription here, unless this member's view says
// another member owns it (the requester's view was stale): then the grain
// stops before anything is subscribed, and the keeper's next round asks
// the right member.
func (g *grain) start(ctx actor.Context) {
	if !g.node.view.owns(g.sub.ID) || !g.node.track(ctx.Self()) {
		// Not the owner in this member's view, or the member is closing.
		ctx.Stop(ctx.Self())
		return
	}
	g.missed = &missedHandler{next: g.sub.Handler}
	c, err := g.node.newClient(g.sub, g.missed)
	if err != nil {
		// Validated in Start; only a bug gets here.
		g.node.cfg.Logger.Error("fleet: subscription client", "id", g.sub.ID, "error", err)
		ctx.Stop(ctx.Self())
		return
	}
	ctx.Spawn(supervisor.Props(c.Runtime()))
	chans, err := g.sub.Setup(c)
	if err != nil {
		// Reported through OnOwnership, not the Handler: the client's
		// Dispatcher may be calling the Handler already, and calls must
		// not overlap.
		g.client = c
		g.stopClient()
		g.node.emit(OwnershipEvent{ID: g.sub.ID, Member: g.node.Address(), At: time.Now(), Err: &SetupError{ID: g.sub.ID, Err: err}})
		ctx.Stop(ctx.Self())
		return
	}
	g.client = c
	runCtx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.done = make(chan struct{})
	self := ctx.Self()
	system := ctx.ActorSystem()
	g.node.wg.Add(1)
	go func() {
		defer g.node.wg.Done()
		defer close(g.done)
		g.run(runCtx, chans, func() { system.Root.Send(self, stopSelf{}) })
	}()
}

// run is the activation's goroutine: it reads the previous owners' last
// coverage, subscribes the channels, then records coverage while they are
// joined and stops the grain if ownership moves in this member's view.
func (g *grain) run(ctx context.Context, chans []*realtime.Channel, stop func()) {
	n := g.node
	missed, err := lastCoverage(n.cluster, g.sub.ID)
	if err != nil {
		err = fmt.Errorf("realtime: fleet subscription %s: previous owners' coverage unknown: %w", g.sub.ID, err)
	}
	g.missed.set(missed)
	n.emit(OwnershipEvent{ID: g.sub.ID, Member: n.Address(), Acquired: true, MissedSince: missed, At: time.Now(), Err: err})
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

// stop runs on Stopping: the run goroutine ends, the client tree (a child)
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

func (g *grain) stopClient() {
	c, timeout := g.client, g.node.cfg.CloseTimeout
	g.client = nil
	g.node.wg.Add(1)
	go func() {
		defer g.node.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_ = c.Close(ctx)
	}()
}

// missedHandler passes events to the subscription's Handler and sets
// MissedSince on the first joined ChannelStatusEvent of each channel of an
// activation that took over from another: the client itself knows only of
// its own reconnects.
type missedHandler struct {
	next   realtime.Handler
	since  atomic.Int64 // unix nanoseconds, 0 for none
	mu     sync.Mutex
	joined map[string]bool
}

func (h *missedHandler) set(t time.Time) {
	if !t.IsZero() {
		h.since.Store(t.UnixNano())
	}
}

func (h *missedHandler) HandleEvent(ctx context.Context, ev realtime.Event) {
	if st, ok := ev.(realtime.ChannelStatusEvent); ok && st.State == realtime.ChannelJoined {
		if ns := h.since.Load(); ns != 0 && h.first(st.Channel) && st.MissedSince.IsZero() {
			st.MissedSince = time.Unix(0, ns)
			ev = st
		}
	}
	h.next.HandleEvent(ctx, ev)
}

func (h *missedHandler) first(channel string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.joined[channel] {
		return false
	}
	if h.joined == nil {
		h.joined = make(map[string]bool)
	}
	h.joined[channel] = true
	return true
}

// SetupError is a Subscription.Setup failure on the member that activated
// the subscription, reported in OwnershipEvent.Err.
type SetupError struct {
	ID  string
	Err error
}

func (e *SetupError) Error() string {
	return "realtime: fleet subscription " + e.ID + " setup: " + e.Err.Error()
}

// Unwrap returns the Setup error.
func (e *SetupError) Unwrap() error { return e.Err }
