package fleet

import (
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// keep is the node's keeper goroutine: on every topology change and every
// EnsureInterval it asks for every subscription, which activates each one
// on its owner (a virtual actor is activated by the first message to it). Every member does this for every subscription, so
// a subscription is activated again as soon as any member's membership view
// has dropped a dead owner.
func (n *Node) keep(nudge <-chan struct{}) {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.EnsureInterval)
	defer t.Stop()
	for {
		n.ensureAll()
		select {
		case <-n.closing:
			return
		case <-t.C:
		case <-nudge:
		}
	}
}

// ensureAll sends one ensure request per subscription, each on a goroutine
// of the node's (a request to a member that just died waits for its
// timeout, and must not hold up the others), skipping subscriptions whose
// previous request is still waiting.
//
// A request made under an older topology may be waiting on a member that
// has since left (protoactor-go's request cannot be cancelled): a new
// topology gets a request of its own at once.
func (n *Node) ensureAll() {
	gen := n.topoGen.Load()
	for i := range n.cfg.Subscriptions {
		id := n.cfg.Subscriptions[i].ID
		if !n.ensuring.claim(id, gen) {
			continue // a request for id under this topology is still waiting
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer n.ensuring.release(id, gen)
			n.ensure(id)
		}()
	}
}

// ensure asks the owner of id in this member's view to activate it (the
// placement actor of protoactor-go's disthash lookup, as its Manager.Get
// does) and then sends the grain an ensure request, which makes a grain
// that no longer owns id in its member's view stop.
//
// It does not go through cluster.Request: that calls disthash's
// Manager.Get, which reads the Manager's rendezvous field while the
// topology subscriber replaces it, unsynchronized (a data race the race
// detector reports, at the pinned version and at upstream HEAD c318a5a0).
// The view is the same rendezvous over the same topology events, behind an
// atomic pointer.
func (n *Node) ensure(id string) {
	owner := n.view.owner(id)
	if owner == "" {
		return
	}
	root := n.system.Root
	activator := actor.NewPID(owner, disthash.PartitionActivatorActorName)
	res, err := root.RequestFuture(activator, &cluster.ActivationRequest{ClusterIdentity: cluster.NewClusterIdentity(id, n.cfg.Kind)}, ensureTimeout).Result()
	if err != nil {
		return
	}
	act, ok := res.(*cluster.ActivationResponse)
	if !ok || act.GetPid() == nil {
		return
	}
	_, _ = root.RequestFuture(act.GetPid(), wrapperspb.String(ensureRequest), ensureTimeout).Result()
}

// ensureTimeout bounds each of the two requests of an ensure.
const ensureTimeout = 3 * time.Second

// inflight holds, per ID with an ensure request under way, the topology
// generation the newest one was made under.
type inflight struct {
	mu  sync.Mutex
	ids map[string]uint64
}

// claim reports whether a request for id under topology gen should go:
// none is under way, or only one made under an older topology.
func (f *inflight) claim(id string, gen uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g, ok := f.ids[id]; ok && g >= gen {
		return false
	}
	if f.ids == nil {
		f.ids = make(map[string]uint64)
	}
	f.ids[id] = gen
	return true
}

func (f *inflight) release(id string, gen uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g, ok := f.ids[id]; ok && g == gen {
		delete(f.ids, id)
	}
}
