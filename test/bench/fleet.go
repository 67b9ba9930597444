package main

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/supabase-go/realtime/test/fleetrig"
)

// Fleet settings of B8 (the member program's flags, see test/fleetrig).
const (
	b8Refresh  = 500 * time.Millisecond // automanaged refresh
	b8Ensure   = 500 * time.Millisecond // fleet EnsureInterval
	b8Coverage = 250 * time.Millisecond // fleet CoverageInterval
	b8MemEvery = 250 * time.Millisecond // heap samples
)

// b8 is fleet mode (package fleet) with three member processes on the
// automanaged provider, a local server and PostgreSQL (test/fleetrig):
// memory per subscription per member, then handover times after SIGKILL.
func (b *bench) b8() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	subs := b.cfg.b8Subs
	r, err := fleetrig.Start(ctx, fleetrig.Options{Subs: subs, Slots: 3, Refresh: b8Refresh, Ensure: b8Ensure,
		Coverage: b8Coverage, Mem: b8MemEvery})
	if err != nil {
		return err
	}
	defer r.Close()

	// Memory: a member alone, in a fresh process, with 1 and then with
	// b8MemSubs subscriptions (all owned, joined and streaming); the heap
	// difference (after a GC) over the subscription difference is the cost
	// of one subscription on a member: its client tree, socket buffers,
	// channel and grain. With one member there are no peers, so nothing
	// else differs between the two.
	var heaps [2]float64
	for k, n := range []int{1, b.cfg.b8MemSubs} {
		if _, err := r.StartMemberSubs(ctx, 0, n); err != nil {
			return err
		}
		if err := fleetrig.WaitOwned(ctx, r, n, nil); err != nil {
			return err
		}
		if heaps[k], err = b8Heap(ctx, r, 0, n); err != nil {
			return err
		}
		if _, err := r.Stop(0); err != nil {
			return err
		}
	}
	b.rep.add(key("B8", "heap_one"), heaps[0])
	b.rep.add(key("B8", "heap_many"), heaps[1])
	b.rep.add(key("B8", "heap_per_sub"), (heaps[1]-heaps[0])/float64(b.cfg.b8MemSubs-1))
	b.logf("B8 memory: a member alone: %.0f B with 1 subscription, %.0f B with %d", heaps[0], heaps[1], b.cfg.b8MemSubs)

	if err := b.b8Start(ctx, r, 0, 1, 2); err != nil {
		return err
	}

	// Handover: kill the member owning the most subscriptions, wait until
	// every one of them streams again on another member, bring the slot
	// back and wait for the fleet to spread again; repeat.
	for k := 0; k < b.cfg.b8Kills; k++ {
		victim, ids := fleetrig.Busiest(r.SoleOwners())
		killed, err := r.Kill(victim)
		if err != nil {
			return err
		}
		if err := fleetrig.WaitOwned(ctx, r, subs, nil); err != nil {
			return err
		}
		after := r.SoleOwners()
		var last time.Duration
		for _, id := range ids {
			at := fleetrig.Streaming(r, id, after[id], killed)
			if at.IsZero() {
				return fmt.Errorf("B8: %s owned by member %d but not streaming there", id, after[id])
			}
			d := at.Sub(killed)
			b.rep.add(key("B8", "handover"), float64(d)/float64(time.Millisecond))
			if d > last {
				last = d
			}
		}
		b.rep.add(key("B8", "handover_all"), float64(last)/float64(time.Millisecond))
		b.logf("B8 kill %d: member %d owned %d subscriptions, all streaming again after %s", k+1, victim, len(ids), last)
		if err := b.b8Start(ctx, r, victim); err != nil {
			return err
		}
	}
	return nil
}

// b8Start starts members in the given slots, waits for the ownership to
// settle on the placement and samples the members' heaps.
func (b *bench) b8Start(ctx context.Context, r *fleetrig.Rig, slots ...int) error {
	for _, i := range slots {
		if _, err := r.StartMember(ctx, i); err != nil {
			return err
		}
	}
	if err := b8Spread(ctx, r, b.cfg.b8Subs); err != nil {
		return err
	}
	return b.b8Members(ctx, r)
}

// b8Members samples the heap of every member of the spread fleet.
func (b *bench) b8Members(ctx context.Context, r *fleetrig.Rig) error {
	owned := map[int]int{0: 0, 1: 0, 2: 0}
	for _, m := range r.SoleOwners() {
		owned[m]++
	}
	for m := 0; m < 3; m++ {
		h, err := b8Heap(ctx, r, m, owned[m])
		if err != nil {
			return err
		}
		b.rep.add(key("B8", "heap_member"), h)
	}
	return nil
}

// b8Spread waits until every subscription has one streaming owner, the
// one protoactor-go's rendezvous hashing gives it over the running members.
func b8Spread(ctx context.Context, r *fleetrig.Rig, subs int) error {
	deadline := time.Now().Add(time.Minute)
	for {
		if err := fleetrig.WaitOwned(ctx, r, subs, nil); err != nil {
			return err
		}
		if reflect.DeepEqual(r.SoleOwners(), r.Placement()) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("B8: ownership %v is not the placement %v", r.SoleOwners(), r.Placement())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// b8Heap is the median of three heap samples of member m taken while it
// owned exactly owned subscriptions, after ownership settled.
func b8Heap(ctx context.Context, r *fleetrig.Rig, m, owned int) (float64, error) {
	from := time.Now().Add(time.Second) // closed clients collected, pools idle
	deadline := time.Now().Add(time.Minute)
	for {
		var heaps []float64
		for _, e := range r.Events() {
			if e.Ev == "mem" && e.Member == m && e.Owned == owned && e.Time().After(from) {
				heaps = append(heaps, float64(e.Heap))
			}
		}
		if len(heaps) >= 3 {
			return median(heaps), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("B8: no heap samples of member %d owning %d", m, owned)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(b8MemEvery):
		}
	}
}

func (r *report) b8Table(w func(string, ...any)) {
	if !r.cfg.scen["B8"] {
		return
	}
	w("## B8: fleet mode, handover and memory per subscription\n\n")
	w("Package fleet with three member processes (test/fleetrig/member) on protoactor-go's automanaged provider\n")
	w("(refresh %s), EnsureInterval %s, CoverageInterval %s, %d subscriptions to INSERTs on one table (one channel\n", b8Refresh, b8Ensure, b8Coverage, r.cfg.b8Subs)
	w("each, a filter per subscription), against the local server on PostgreSQL.\n\n")
	w("**Handover.** The member owning the most subscriptions is killed with SIGKILL; for each of its\n")
	w("subscriptions, the time from the signal to the server's \"Subscribed to PostgreSQL\" on the new owner (the\n")
	w("moment changes flow again; the new owner's Handler was told MissedSince at the join just before). Then the\n")
	w("slot is started again and the fleet spreads again; %d kills.\n\n", r.cfg.b8Kills)
	hs := r.samples[key("B8", "handover")]
	all := r.samples[key("B8", "handover_all")]
	w("| | samples | median | p99 | max |\n|---|---:|---:|---:|---:|\n")
	lo, hi := minMax(hs)
	_ = lo
	w("| one subscription: SIGKILL → streaming on the new owner | %d | %s ms | %s ms | %s ms |\n", len(hs), fixed(median(hs), 0), fixed(percentile(hs, 99), 0), fixed(hi, 0))
	_, hiAll := minMax(all)
	w("| all of the killed member's subscriptions streaming again | %d | %s ms | %s ms | %s ms |\n\n", len(all), fixed(median(all), 0), fixed(percentile(all, 99), 0), fixed(hiAll, 0))
	w("Most of it is failure detection: the survivors poll the dead member's HTTP port every %s, and a poll of a\n", b8Refresh)
	w("killed process fails at once (connection refused); on a real network a dead host fails by timeout (2 s in\n")
	w("automanaged), and etcd or consul by their TTL (about 3 s).\n\n")
	w("**Memory.** A member alone (no peers), in a fresh process each time, with 1 and then with %d\n", r.cfg.b8MemSubs)
	w("subscriptions, all joined and streaming; heap after a GC (`runtime.ReadMemStats`, median of 3 samples taken\n")
	w("a second after ownership settled). Per subscription = the difference ÷ %d. Then the heap of every member of\n", r.cfg.b8MemSubs-1)
	w("the three-member fleet with %d subscriptions, sampled after it spread and after every kill and restart\n", r.cfg.b8Subs)
	w("(actor system, cluster, gRPC remote with two peers, gossip, and its share of the subscriptions):\n\n")
	w("| member alone, 1 subscription | alone, %d | per subscription per member | member of the fleet of 3, median (min–max) |\n", r.cfg.b8MemSubs)
	w("|---:|---:|---:|---:|\n")
	pm := r.samples[key("B8", "heap_member")]
	mlo, mhi := minMax(pm)
	w("| %s | %s | %s | %s (%s–%s) |\n\n", kib(r.med("B8", "heap_one")), kib(r.med("B8", "heap_many")), kib(r.med("B8", "heap_per_sub")),
		kib(median(pm)), kib(mlo), kib(mhi))
	w("The remote is built with `fleet.Remote`, whose per-peer endpoint queues start at 1,024 slots;\n")
	w("protoactor-go's default (1,000,000 slots, allocated up front) costs 16 MB per peer.\n\n")
	w("A subscription is a client tree of its own (socket, actors, one channel) plus its grain; B7 has the cost\n")
	w("of a client alone.\n\n")
}
