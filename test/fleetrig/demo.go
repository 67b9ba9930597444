package fleetrig

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// DemoOptions configures Demo.
type DemoOptions struct {
	Members int           // [3]
	Subs    int           // [6]
	Rows    int           // rows inserted before and after the kill, each [12]
	Every   time.Duration // between inserts [150ms]
}

// Demo runs the fleet demo, printing to w so a person can follow it: it
// starts a database, a server and Members member processes, shows who owns
// which subscription, inserts rows and shows who handled each, kills the
// member owning the most subscriptions with SIGKILL, and shows ownership
// moving and rows handled again, with the window the new owners were told
// they may have missed. It returns an error if a subscription ends without
// an owner, or a row after the handover is not handled exactly once.
func Demo(ctx context.Context, w io.Writer, o DemoOptions) error {
	if o.Members == 0 {
		o.Members = 3
	}
	if o.Subs == 0 {
		o.Subs = 6
	}
	if o.Rows == 0 {
		o.Rows = 12
	}
	if o.Every == 0 {
		o.Every = 150 * time.Millisecond
	}
	start := time.Now()
	say := func(format string, args ...any) {
		fmt.Fprintf(w, "%6.2fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	say("starting PostgreSQL and a local Realtime server; building the member program")
	r, err := Start(ctx, Options{Subs: o.Subs, Slots: o.Members})
	if err != nil {
		return err
	}
	defer r.Close()
	for i := 0; i < o.Members; i++ {
		m, err := r.StartMember(ctx, i)
		if err != nil {
			return err
		}
		say("node %d joined the cluster at %s", i, m.Addr)
	}
	if err := WaitOwned(ctx, r, o.Subs, nil); err != nil {
		return err
	}
	say("every subscription has exactly one owner and is joined:")
	printOwners(w, r, o.Subs)

	seen := 0
	insert := func(n int) ([]int64, error) {
		var ids []int64
		for k := 0; k < n; k++ {
			sub := k % o.Subs
			id, _, err := r.Insert(ctx, sub)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
			time.Sleep(o.Every)
			seen = printChanges(w, r, seen, start)
		}
		return ids, nil
	}
	say("inserting %d rows into public.%s (subscription sub-NN gets rows with sub = NN)", o.Rows, Table)
	if _, err := insert(o.Rows); err != nil {
		return err
	}
	victim, owned := Busiest(r.SoleOwners())
	killed, err := r.Kill(victim)
	if err != nil {
		return err
	}
	say("killed node %d with SIGKILL; it owned %s", victim, strings.Join(owned, ", "))
	if err := WaitOwned(ctx, r, o.Subs, func(e Event) {
		if e.Ev == "status" && e.State == "joined" && e.Missed != 0 {
			say("%s joined again on node %d after %.2fs; it was told it may have missed changes since %s (%.2fs before the kill)",
				e.ID, e.Member, e.Time().Sub(killed).Seconds(), time.Unix(0, e.Missed).Format("15:04:05.000"),
				killed.Sub(time.Unix(0, e.Missed)).Seconds())
		}
	}); err != nil {
		return err
	}
	say("ownership after the handover:")
	printOwners(w, r, o.Subs)
	say("inserting %d more rows", o.Rows)
	ids, err := insert(o.Rows)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		counts := handledCounts(r)
		done := true
		for _, id := range ids {
			if counts[id] != 1 {
				done = false
			}
		}
		seen = printChanges(w, r, seen, start)
		if done {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("fleetrig: rows after the handover were not each handled exactly once: %v", countsOf(counts, ids))
		}
		time.Sleep(50 * time.Millisecond)
	}
	say("every row inserted after the handover was handled exactly once")
	return nil
}

// WaitOwned waits until every subscription is held by exactly one running
// member and that member's channel for it is joined and streaming (the
// server's "Subscribed to PostgreSQL" came after the join), calling each
// (if not nil) with every line that arrives meanwhile.
func WaitOwned(ctx context.Context, r *Rig, subs int, each func(Event)) error {
	seen := len(r.Events())
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		evs := r.Events()
		if each != nil {
			for _, e := range evs[seen:] {
				each(e)
			}
		}
		seen = len(evs)
		if allOwned(r, subs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("fleetrig: subscriptions without exactly one joined owner after 60s: %v", r.Owners())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func allOwned(r *Rig, subs int) bool {
	owners := r.Owners()
	joined := joinedOn(r)
	for i := 0; i < subs; i++ {
		id := SubID(i)
		if len(owners[id]) != 1 || !joined[[2]any{id, owners[id][0]}] {
			return false
		}
	}
	return true
}

// joinedOn reports, per (subscription, member), whether the member's
// channel for it is joined and streaming since its last acquisition: a
// joined status line, then a "postgres_changes:ok" system line.
func joinedOn(r *Rig) map[[2]any]bool {
	joined := map[[2]any]bool{}
	out := map[[2]any]bool{}
	for _, e := range r.Events() {
		// Keyed by slot: a process's lines come after its predecessor's
		// in the slot, and it starts with an acquisition.
		k := [2]any{e.ID, e.Member}
		switch e.Ev {
		case "acquired", "released":
			joined[k], out[k] = false, false
		case "status":
			joined[k] = e.State == "joined"
			out[k] = false
		case "system":
			out[k] = joined[k] && e.State == "postgres_changes:ok"
		}
	}
	return out
}

// Streaming is when member's channel for subscription id became joined and
// streaming, at or after t (zero if it has not).
func Streaming(r *Rig, id string, member int, t time.Time) time.Time {
	joined := false
	for _, e := range r.Events() {
		if e.ID != id || e.Member != member || e.Time().Before(t) {
			continue
		}
		switch e.Ev {
		case "status":
			joined = e.State == "joined"
		case "system":
			if joined && e.State == "postgres_changes:ok" {
				return e.Time()
			}
		}
	}
	return time.Time{}
}

func handledCounts(r *Rig) map[int64]int {
	c := map[int64]int{}
	for _, e := range r.Events() {
		if e.Ev == "change" {
			c[e.Row]++
		}
	}
	return c
}

func countsOf(c map[int64]int, ids []int64) map[int64]int {
	out := map[int64]int{}
	for _, id := range ids {
		out[id] = c[id]
	}
	return out
}

// SoleOwners returns, per subscription held by exactly one running
// member, that member.
func (r *Rig) SoleOwners() map[string]int {
	out := map[string]int{}
	for id, ms := range r.Owners() {
		if len(ms) == 1 {
			out[id] = ms[0]
		}
	}
	return out
}

// Busiest returns the member owning the most subscriptions in owners (the
// lowest index on a tie) and those subscriptions, sorted.
func Busiest(owners map[string]int) (member int, ids []string) {
	per := map[int][]string{}
	for id, m := range owners {
		per[m] = append(per[m], id)
	}
	member = -1
	for m, l := range per {
		if member < 0 || len(l) > len(per[member]) || (len(l) == len(per[member]) && m < member) {
			member = m
		}
	}
	ids = per[member]
	sort.Strings(ids)
	return member, ids
}

func printOwners(w io.Writer, r *Rig, subs int) {
	owners := r.Owners()
	for i := 0; i < subs; i++ {
		id := SubID(i)
		fmt.Fprintf(w, "          %s → node %v\n", id, owners[id])
	}
}

func printChanges(w io.Writer, r *Rig, seen int, start time.Time) int {
	evs := r.Events()
	n := 0
	for _, e := range evs {
		if e.Ev != "change" {
			continue
		}
		n++
		if n > seen {
			fmt.Fprintf(w, "%6.2fs  row %d handled by node %d (%s)\n", e.Time().Sub(start).Seconds(), e.Row, e.Member, e.ID)
		}
	}
	return n
}
