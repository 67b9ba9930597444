package fleet

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/cluster"
)

// view is this member's idea of who owns what: rendezvous hashing over the
// members of the last ClusterTopology event, as the disthash identity
// lookup computes it. Grains consult it so that an activation requested by
// a member whose view is stale (during a topology change) stops instead of
// running next to the real owner's.
type view struct {
	kind string
	self atomic.Pointer[string] // this member's address, set once started
	rdv  atomic.Pointer[cluster.Rendezvous]
	ids  atomic.Pointer[[]string] // member IDs of the last topology
}

func newView(kind string) *view { return &view{kind: kind} }

func (v *view) setSelf(addr string) { v.self.Store(&addr) }

func (v *view) selfAddr() string {
	if p := v.self.Load(); p != nil {
		return *p
	}
	return ""
}

func (v *view) update(t *cluster.ClusterTopology) {
	r := cluster.NewRendezvous()
	r.UpdateMembers(t.Members)
	v.rdv.Store(r)
	ids := make([]string, 0, len(t.Members))
	for _, m := range t.Members {
		ids = append(ids, m.Id)
	}
	v.ids.Store(&ids)
}

// memberIDs are the member IDs of the last topology (nil before the
// first).
func (v *view) memberIDs() []string {
	if p := v.ids.Load(); p != nil {
		return *p
	}
	return nil
}

// owner is the address of id's owner, "" before the first topology.
func (v *view) owner(id string) string {
	r := v.rdv.Load()
	if r == nil {
		return ""
	}
	return r.GetByClusterIdentity(&cluster.ClusterIdentity{Kind: v.kind, Identity: id})
}

// owns reports whether this member owns id in its current view.
func (v *view) owns(id string) bool {
	self := v.self.Load()
	return self != nil && v.owner(id) == *self
}
