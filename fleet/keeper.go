package fleet

import (
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// keep is the node's keeper goroutine: on every topology change and every
// EnsureInterval it asks the cluster for every subscription, which
// activates each one on its owner (a virtual actor is activated by the
// first message to it). Every member does this for every subscription, so
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
			_, _ = n.cluster.Request(id, n.cfg.Kind, wrapperspb.String(ensureRequest),
				cluster.WithTimeout(ensureTimeout), cluster.WithRetryCount(2))
		}()
	}
}

// ensureTimeout bounds one ensure request (protoactor-go's disthash lookup
// waits up to 5 s for a member that does not answer, whatever this says).
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
