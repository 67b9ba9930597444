package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// coverageKey is the gossip key under which an owner records that it
// covered a subscription at a time. protoactor-go's gossip keeps one value
// per member and key, and keeps a member's values after it left, which is
// what lets the next owner read the last record of a dead one. Records of
// members that left are never purged (protoactor-go has no purge at the
// pinned version): the state grows by one small value per subscription per
// member that ever owned it, and a new member receives all of it.
func coverageKey(id string) string { return "realtime-fleet/" + id }

// recordCoverage gossips that id was covered at on this member.
func recordCoverage(c *cluster.Cluster, id string, at time.Time) {
	c.Gossip.SetState(coverageKey(id), timestamppb.New(at))
}

// convergeTimeout bounds how long an activation waits to have heard, in
// the gossip, from every member of the current topology.
const convergeTimeout = 3 * time.Second

// coverage is the MissedSince of an activation of id: the latest coverage
// record of id by any member (this one included: a subscription that moves
// away and back), zero if there is none.
//
// A member that has just joined may not have received its peers' gossip
// yet, and would read no record where there is one; so it first waits
// (up to convergeTimeout) until the gossip holds a heartbeat from every
// member of its topology. If that does not happen, or the gossip cannot be
// read, the answer is conservative: when this member started, or the
// record found if it is earlier (a subscription this member takes over was
// covered by its previous owner at least until this member joined), with
// an error saying so.
func (n *Node) coverage(ctx context.Context, id string) (time.Time, error) {
	deadline := time.Now().Add(convergeTimeout)
	converged := n.heardFromAll()
	for !converged && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		converged = n.heardFromAll()
	}
	last, err := lastCoverage(n.cluster, id)
	switch {
	case err != nil:
		return n.started, fmt.Errorf("realtime: fleet subscription %s: previous coverage unknown, MissedSince is when this member started: %w", id, err)
	case !converged:
		if last.IsZero() || n.started.Before(last) {
			last = n.started
		}
		return last, fmt.Errorf("realtime: fleet subscription %s: gossip from every member not received within %s, MissedSince is at the latest when this member started", id, convergeTimeout)
	}
	return last, nil
}

// heardFromAll reports whether the gossip holds a heartbeat from every
// member of this member's current topology.
func (n *Node) heardFromAll() bool {
	ids := n.view.memberIDs()
	if len(ids) == 0 {
		return false
	}
	state, err := n.cluster.Gossip.GetState(cluster.HeartbeatKey)
	if err != nil {
		return false
	}
	for _, id := range ids {
		if _, ok := state[id]; !ok {
			return false
		}
	}
	return true
}

// lastCoverage is the latest coverage record of id by any member, zero if
// none.
func lastCoverage(c *cluster.Cluster, id string) (time.Time, error) {
	state, err := c.Gossip.GetState(coverageKey(id))
	if err != nil {
		return time.Time{}, err
	}
	var last time.Time
	for _, kv := range state {
		if kv == nil || kv.Value == nil {
			continue
		}
		var ts timestamppb.Timestamp
		if err := kv.Value.UnmarshalTo(&ts); err != nil {
			continue
		}
		if t := ts.AsTime(); t.After(last) {
			last = t
		}
	}
	return last, nil
}
