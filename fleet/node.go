package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/eventstream"

	realtime "github.com/supabase-go/realtime"
)

// Node is this process's member of the fleet. Start one per process.
type Node struct {
	cfg     Config
	subs    map[string]*Subscription
	system  *actor.ActorSystem
	cluster *cluster.Cluster
	view    *view
	topo    *eventstream.Subscription

	ensuring inflight
	topoGen  atomic.Uint64 // topology events seen
	closing  chan struct{}
	wg       sync.WaitGroup

	started time.Time // when Start was called

	mu       sync.Mutex
	owned    map[string]bool
	grains   map[*actor.PID]bool      // active here, stopped first on Close
	released map[string]chan struct{} // per ID: closed when its last client here has closed
	closed   bool                     // no activation after Close began

	closeDone chan struct{} // closed when Close's shutdown is over

	closeOnce sync.Once
}

// Start validates cfg, joins the cluster as a member (protoactor-go waits
// about a second for the membership provider) and starts the keeper that
// activates every subscription on its owner. The subscriptions this member
// owns are activated in the background; OnOwnership reports them.
func Start(ctx context.Context, cfg Config) (n *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n = &Node{cfg: cfg, subs: make(map[string]*Subscription, len(cfg.Subscriptions)), closing: make(chan struct{}),
		view: newView(cfg.Kind), started: time.Now(), closeDone: make(chan struct{})}
	for i := range n.cfg.Subscriptions {
		s := &n.cfg.Subscriptions[i]
		// Client options are checked now, not on some member later.
		c, err := n.newClient(s, s.Handler)
		if err != nil {
			return nil, fmt.Errorf("%w: Subscriptions[%d] (%s): %w", ErrInvalidConfig, i, s.ID, err)
		}
		_ = c.Close(ctx) // never spawned: nothing runs
		n.subs[s.ID] = s
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	logger := cfg.Logger
	n.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }))
	kind := cluster.NewKind(cfg.Kind, actor.PropsFromProducer(func() actor.Actor { return &grain{node: n} },
		actor.WithReceiverMiddleware(n.bindSubscription)))
	opts := append([]cluster.ConfigOption{cluster.WithKinds(kind)}, cfg.ClusterOptions...)
	ccfg := cluster.Configure(cfg.ClusterName, cfg.Provider, disthash.New(), cfg.Remote, opts...)
	n.cluster = cluster.New(n.system, ccfg)

	nudge := make(chan struct{}, 1)
	n.topo = n.system.EventStream.Subscribe(func(ev any) {
		if t, ok := ev.(*cluster.ClusterTopology); ok {
			if n.view.selfAddr() == "" {
				// The remote listens before the provider publishes a
				// topology, so the address is final here.
				n.view.setSelf(n.system.Address())
			}
			n.view.update(t)
			n.topoGen.Add(1)
			select {
			case nudge <- struct{}{}:
			default:
			}
		}
	})
	defer func() {
		if err != nil {
			n.system.EventStream.Unsubscribe(n.topo)
		}
	}()
	if err := startMember(n.cluster); err != nil {
		// Whatever started (the remote's listener, the gossip) stops.
		func() {
			defer func() { _ = recover() }()
			n.cluster.Shutdown(false)
		}()
		return nil, err
	}
	n.view.setSelf(n.system.Address())
	n.wg.Add(1)
	go n.keep(nudge)
	return n, nil
}

// startMember turns protoactor-go's panics on a failed start (the remote
// cannot listen, the provider fails) into an error.
func startMember(c *cluster.Cluster) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("realtime: fleet member did not start: %v", r)
		}
	}()
	c.StartMember()
	return nil
}

// bindSubscription gives a grain its subscription from the cluster identity
// it was activated for; an unknown ID (a member started with other
// subscriptions) stops it.
func (n *Node) bindSubscription(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(ctx actor.ReceiverContext, env *actor.MessageEnvelope) {
		if _, ok := env.Message.(*actor.Started); ok {
			g := ctx.Actor().(*grain)
			if g.sub == nil {
				ci := cluster.GetClusterIdentity(ctx)
				if ci != nil {
					g.sub = n.subs[ci.Identity]
				}
				if g.sub == nil {
					n.cfg.Logger.Error("fleet: activation of an unknown subscription", "identity", ci.GetIdentity())
					ctx.(actor.Context).Stop(ctx.Self())
					return
				}
			}
		}
		next(ctx, env)
	}
}

func (n *Node) newClient(s *Subscription, h realtime.Handler, extra ...realtime.Option) (*realtime.Client, error) {
	opts := make([]realtime.Option, 0, len(n.cfg.ClientOptions)+len(s.Options)+2+len(extra))
	opts = append(opts, n.cfg.ClientOptions...)
	opts = append(opts, s.Options...)
	opts = append(opts, realtime.WithHandler(h), realtime.WithName("fleet-"+s.ID))
	opts = append(opts, extra...)
	return realtime.NewEmbedded(n.cfg.ProjectURL, n.cfg.APIKey, opts...)
}

// releasing records that the client of id's activation here is closing
// and returns the channel to close when it has.
func (n *Node) releasing(id string) chan struct{} {
	ch := make(chan struct{})
	n.mu.Lock()
	if n.released == nil {
		n.released = make(map[string]chan struct{})
	}
	n.released[id] = ch
	n.mu.Unlock()
	return ch
}

// waitReleased waits until the client of id's previous activation here
// (if any) has closed, so that its Handler calls are over.
func (n *Node) waitReleased(ctx context.Context, id string) error {
	n.mu.Lock()
	ch := n.released[id]
	n.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		n.mu.Lock()
		if n.released[id] == ch {
			delete(n.released, id)
		}
		n.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (n *Node) emit(ev OwnershipEvent) {
	n.mu.Lock()
	switch {
	case ev.Err != nil && !ev.Acquired:
		// A failed activation was never owned.
	case ev.Acquired:
		if n.owned == nil {
			n.owned = make(map[string]bool)
		}
		n.owned[ev.ID] = true
	default:
		delete(n.owned, ev.ID)
	}
	n.mu.Unlock()
	if n.cfg.OnOwnership != nil {
		n.cfg.OnOwnership(ev)
	}
}

// track records an activation; false once Close has begun.
func (n *Node) track(pid *actor.PID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	if n.grains == nil {
		n.grains = make(map[*actor.PID]bool)
	}
	n.grains[pid] = true
	return true
}

func (n *Node) untrack(pid *actor.PID) {
	n.mu.Lock()
	delete(n.grains, pid)
	n.mu.Unlock()
}

// stopGrains stops every activation on this member and refuses new ones.
func (n *Node) stopGrains() {
	n.mu.Lock()
	n.closed = true
	pids := make([]*actor.PID, 0, len(n.grains))
	for pid := range n.grains {
		pids = append(pids, pid)
	}
	n.mu.Unlock()
	futures := make([]*actor.Future, len(pids))
	for i, pid := range pids {
		futures[i] = n.system.Root.PoisonFuture(pid)
	}
	for _, f := range futures {
		_ = f.Wait()
	}
}

// Address is this member's cluster address (host:port).
func (n *Node) Address() string { return n.view.selfAddr() }

// Owned returns the IDs of the subscriptions active on this member, sorted.
func (n *Node) Owned() []string {
	n.mu.Lock()
	ids := make([]string, 0, len(n.owned))
	for id := range n.owned {
		ids = append(ids, id)
	}
	n.mu.Unlock()
	sort.Strings(ids)
	return ids
}

// Owner is the member that owns id in this member's current membership
// view ("" before the first topology or for an unknown ID).
func (n *Node) Owner(id string) string {
	if n.subs[id] == nil {
		return ""
	}
	return n.view.owner(id)
}

// Close leaves the cluster gracefully: the keeper stops, this member's
// subscriptions are stopped (their clients closed) before it leaves, and
// the other members activate them once their membership provider notices
// it left (at its next poll for automanaged). Stopping first means the
// handover leaves a gap, which MissedSince reports, rather than a moment
// where two members handle the same changes. protoactor-go's graceful
// shutdown then waits about two seconds.
// Close returns when every goroutine the fleet started has exited, or
// with ctx's error when ctx ends first (the shutdown goes on; a later
// Close waits for it again). protoactor-go's own cluster goroutines
// (gossip, the provider's HTTP server and poller) are not all stopped by
// its shutdown.
func (n *Node) Close(ctx context.Context) error {
	n.closeOnce.Do(func() {
		close(n.closing)
		go func() {
			defer close(n.closeDone)
			n.stopGrains()
			n.system.EventStream.Unsubscribe(n.topo)
			n.cluster.Shutdown(true)
			n.wg.Wait()
		}()
	})
	select {
	case <-n.closeDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
