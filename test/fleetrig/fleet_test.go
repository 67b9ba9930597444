package fleetrig_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/test/fleetrig"
)

// deliveryAllowance is how long a committed row may take to travel from
// PostgreSQL through replication and the server to a member: a row lost in
// a handover may have been committed up to this long before the new
// owner's MissedSince (the fleet package doc says so too). It is twice the
// slowest delivery of rows measured in the same run, and at least a
// second.
func deliveryAllowance(r *fleetrig.Rig, rows []inserted) time.Duration {
	at := map[int64]time.Time{}
	for _, row := range rows {
		at[row.id] = row.at
	}
	slowest := time.Duration(0)
	for _, e := range r.Events() {
		if t, ok := at[e.Row]; ok && e.Ev == "change" {
			if d := e.Time().Sub(t); d > slowest {
				slowest = d
			}
		}
	}
	return max(time.Second, 2*slowest)
}

const subs = 20

type inserted struct {
	id  int64
	sub int
	at  time.Time
}

// inserter inserts rows round-robin over the subscriptions until stopped.
type inserter struct {
	r      *fleetrig.Rig
	mu     sync.Mutex
	rows   []inserted
	next   int
	stop   chan struct{}
	done   chan struct{}
	errors []error
}

func startInserter(r *fleetrig.Rig, every time.Duration) *inserter {
	in := &inserter{r: r, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(in.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-in.stop:
				return
			case <-t.C:
			}
			in.mu.Lock()
			sub := in.next % subs
			in.next++
			in.mu.Unlock()
			id, at, err := r.Insert(context.Background(), sub)
			in.mu.Lock()
			if err != nil {
				in.errors = append(in.errors, err)
			} else {
				in.rows = append(in.rows, inserted{id, sub, at})
			}
			in.mu.Unlock()
		}
	}()
	return in
}

// expectHandledByOwners inserts perSub rows for every subscription and
// expects each handled exactly once, by the subscription's owner.
func expectHandledByOwners(ctx context.Context, r *fleetrig.Rig, perSub int) {
	owners := r.SoleOwners()
	var rows []inserted
	for k := 0; k < perSub*subs; k++ {
		id, at, err := r.Insert(ctx, k%subs)
		Expect(err).NotTo(HaveOccurred())
		rows = append(rows, inserted{id, k % subs, at})
	}
	byOwner := func(g Gomega) {
		h := handled(r)
		for _, row := range rows {
			g.Expect(h[row.id]).To(Equal([]int{owners[fleetrig.SubID(row.sub)]}), "row %d of %s", row.id, fleetrig.SubID(row.sub))
		}
	}
	Eventually(byOwner).WithTimeout(30 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	// And no late duplicate.
	Consistently(byOwner).WithTimeout(time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
}

func (in *inserter) Stop() []inserted {
	close(in.stop)
	<-in.done
	in.mu.Lock()
	defer in.mu.Unlock()
	Expect(in.errors).To(BeEmpty())
	return append([]inserted(nil), in.rows...)
}

// handled returns, per row id, the members whose Handler got it (one entry
// per delivery).
func handled(r *fleetrig.Rig) map[int64][]int {
	out := map[int64][]int{}
	for _, e := range r.Events() {
		if e.Ev == "change" {
			out[e.Row] = append(out[e.Row], e.Member)
		}
	}
	return out
}

// rejoin is when a subscription joined again on a new member after time
// t, the MissedSince it was given, and when the server started streaming
// its changes there ("Subscribed to PostgreSQL", a moment after the join).
type rejoin struct {
	member    int
	at        time.Time
	missed    time.Time
	streaming time.Time
}

func rejoinsAfter(r *fleetrig.Rig, t time.Time, dead int) map[string]rejoin {
	out := map[string]rejoin{}
	for _, e := range r.Events() {
		if e.Ev != "status" || e.State != "joined" || e.Member == dead || !e.Time().After(t) {
			continue
		}
		if _, ok := out[e.ID]; !ok {
			out[e.ID] = rejoin{member: e.Member, at: e.Time(), missed: time.Unix(0, e.Missed),
				streaming: fleetrig.Streaming(r, e.ID, e.Member, e.Time())}
		}
	}
	return out
}

var _ = Describe("Fleet mode: 3 member processes, 20 subscriptions, a local server on PostgreSQL", Ordered, func() {
	var r *fleetrig.Rig

	BeforeAll(func(ctx SpecContext) {
		var err error
		r, err = fleetrig.Start(ctx, fleetrig.Options{Subs: subs, Slots: 3, Stderr: nil})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(r.Close)
		for i := 0; i < 3; i++ {
			_, err := r.StartMember(ctx, i)
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(fleetrig.WaitOwned(ctx, r, subs, nil)).To(Succeed())
	}, NodeTimeout(3*time.Minute))

	It("places each subscription where protoactor-go's rendezvous hashing puts it", func() {
		owners := r.SoleOwners()
		Expect(owners).To(HaveLen(subs))
		Expect(owners).To(Equal(r.Placement()))
	})

	It("has every change handled by exactly one member: the owner", func(ctx SpecContext) {
		expectHandledByOwners(ctx, r, 3)
	}, NodeTimeout(time.Minute))

	It("moves a SIGKILLed member's subscriptions to the others; outside the handover window nothing is handled twice or lost", func(ctx SpecContext) {
		before := r.SoleOwners()
		Expect(before).To(HaveLen(subs))
		victim, orphaned := fleetrig.Busiest(before)
		in := startInserter(r, 10*time.Millisecond)
		time.Sleep(300 * time.Millisecond) // traffic before the kill (not an assertion)
		killed, err := r.Kill(victim)
		Expect(err).NotTo(HaveOccurred())

		Expect(fleetrig.WaitOwned(ctx, r, subs, nil)).To(Succeed())
		after := r.SoleOwners()
		rejoins := rejoinsAfter(r, killed, victim)
		var last time.Time
		for _, id := range orphaned {
			rj, ok := rejoins[id]
			Expect(ok).To(BeTrue(), "%s never joined again", id)
			Expect(rj.member).To(Equal(after[id]))
			Expect(rj.streaming.IsZero()).To(BeFalse(), "%s: no Subscribed to PostgreSQL after the rejoin", id)
			// The new owner was told what it may have missed: from before
			// the kill, and from no earlier than the coverage the dead
			// owner could have recorded last.
			Expect(rj.missed).To(BeTemporally("<=", killed), "%s MissedSince", id)
			Expect(rj.missed).To(BeTemporally(">", killed.Add(-5*time.Second)), "%s MissedSince", id)
			AddReportEntry(fmt.Sprintf("handover %s", id), rj.at.Sub(killed).String())
			if rj.streaming.After(last) {
				last = rj.streaming
			}
		}
		for id, m := range before {
			if m != victim {
				Expect(after[id]).To(Equal(m), "%s moved although its owner lived", id)
			}
		}
		// Traffic after the handover, then stop and let it drain.
		time.Sleep(500 * time.Millisecond) // traffic after the handover (not an assertion)
		rows := in.Stop()
		window := map[int]rejoin{}
		for _, id := range orphaned {
			var sub int
			_, err := fmt.Sscanf(id, "sub-%d", &sub)
			Expect(err).NotTo(HaveOccurred())
			window[sub] = rejoins[id]
		}
		allowance := deliveryAllowance(r, rows)
		AddReportEntry("delivery allowance", allowance.String())
		Eventually(func(g Gomega) {
			h := handled(r)
			for _, row := range rows {
				id := fleetrig.SubID(row.sub)
				got := h[row.id]
				g.Expect(len(got)).To(BeNumerically("<=", 1), "row %d of %s handled twice: %v", row.id, id, got)
				rj, wasOrphaned := window[row.sub]
				switch {
				case !wasOrphaned:
					g.Expect(got).To(Equal([]int{before[id]}), "row %d of %s (owner never moved)", row.id, id)
				case row.at.After(rj.streaming):
					g.Expect(got).To(Equal([]int{rj.member}), "row %d of %s after its rejoin", row.id, id)
				case len(got) == 0:
					// Lost in the handover window: the new owner was told.
					g.Expect(row.at).To(BeTemporally(">=", rj.missed.Add(-allowance)),
						"row %d of %s lost although committed before MissedSince %s", row.id, id, rj.missed)
				}
			}
		}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		lost := 0
		h := handled(r)
		for _, row := range rows {
			if len(h[row.id]) == 0 {
				lost++
			}
		}
		AddReportEntry("rows", fmt.Sprintf("%d inserted, %d in handover windows not handled, last streaming again %s after the kill", len(rows), lost, last.Sub(killed)))
	}, NodeTimeout(3*time.Minute))

	It("hands subscriptions over on a graceful leave (SIGTERM) and takes some back when a member joins", func(ctx SpecContext) {
		owners := r.SoleOwners()
		leaver, moved := fleetrig.Busiest(owners)
		in := startInserter(r, 10*time.Millisecond)
		stopped, err := r.Stop(leaver)
		Expect(err).NotTo(HaveOccurred())
		Expect(fleetrig.WaitOwned(ctx, r, subs, nil)).To(Succeed())
		for _, m := range r.SoleOwners() {
			Expect(m).NotTo(Equal(leaver))
		}
		rejoins := rejoinsAfter(r, stopped, leaver)
		for _, id := range moved {
			rj, ok := rejoins[id]
			Expect(ok).To(BeTrue(), "%s never joined again", id)
			// The leaver covered its subscriptions until it stopped them,
			// after the signal: the new owner was told of the gap.
			Expect(rj.missed).To(BeTemporally(">", stopped.Add(-2*time.Second)), "%s MissedSince", id)
			Expect(rj.missed).To(BeTemporally("<=", stopped.Add(time.Second)), "%s MissedSince", id)
		}
		rows := in.Stop()
		// A graceful leave stops before it hands over: nothing is handled
		// twice.
		Eventually(func(g Gomega) {
			h := handled(r)
			for _, row := range rows {
				g.Expect(len(h[row.id])).To(BeNumerically("<=", 1), "row %d handled twice: %v", row.id, h[row.id])
			}
		}).WithTimeout(5 * time.Second).Should(Succeed())
		Consistently(func(g Gomega) {
			h := handled(r)
			for _, row := range rows {
				g.Expect(len(h[row.id])).To(BeNumerically("<=", 1), "row %d handled twice: %v", row.id, h[row.id])
			}
		}).WithTimeout(time.Second).Should(Succeed())

		// Every slot that is down comes back; rendezvous hashing gives the
		// newcomers a share.
		rejoinedAt := time.Now()
		for i := 0; i < 3; i++ {
			if !r.Running(i) {
				_, err := r.StartMember(ctx, i)
				Expect(err).NotTo(HaveOccurred())
			}
		}
		Eventually(func() map[string]int { return r.SoleOwners() }).WithTimeout(60 * time.Second).WithPolling(50 * time.Millisecond).
			Should(Equal(r.Placement()))
		Expect(fleetrig.WaitOwned(ctx, r, subs, nil)).To(Succeed())
		// What moved to the newcomer was told what it may have missed:
		// the previous owner covered it until the topology changed, and
		// the newcomer waited to have heard from every member before it
		// read that (a member that has just joined has no gossip yet).
		for id, rj := range rejoinsAfter(r, rejoinedAt, -1) {
			if rj.member != leaver {
				continue
			}
			Expect(rj.missed).To(BeTemporally(">", rejoinedAt.Add(-2*time.Second)), "%s MissedSince on the newcomer", id)
			Expect(rj.missed).To(BeTemporally("<=", rj.at), "%s MissedSince on the newcomer", id)
		}

		expectHandledByOwners(ctx, r, 2)
	}, NodeTimeout(3*time.Minute))
})
