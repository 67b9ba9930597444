package fleet

import (
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// coverageKey is the gossip key under which an owner records that its
// channels were joined at a time. protoactor-go's gossip keeps one value
// per member and key, and keeps a member's values after it left, which is
// what lets the next owner read the last record of a dead one.
func coverageKey(id string) string { return "realtime-fleet/" + id }

// recordCoverage gossips that id's channels are joined now on this member.
func recordCoverage(c *cluster.Cluster, id string, at time.Time) {
	c.Gossip.SetState(coverageKey(id), timestamppb.New(at))
}

// lastCoverage is the latest coverage record of id by any member (this one
// included: a subscription that moves away and back), zero if none.
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
