package actors

import (
	"sort"
	"sync"
	"time"
)

// Clock is the time source of the runtime. Production code uses RealClock;
// tests may inject a ManualClock and move time explicitly.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f on its own goroutine once d has elapsed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started and reports whether it
	// did so. It is idempotent.
	Stop() bool
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// ManualClock is a Clock for tests: time only moves when Advance is called,
// and due callbacks run synchronously inside Advance, in deadline order.
// The zero value starts at the Unix epoch.
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
	seq    uint64
}

type manualTimer struct {
	c        *ManualClock
	deadline time.Time
	seq      uint64
	f        func()
	stopped  bool
}

// NewManualClock returns a ManualClock set to start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the manual time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f at Now()+d.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &manualTimer{c: c, deadline: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

// Pending returns the number of timers that have not fired or been stopped.
func (c *ManualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// Advance moves time forward by d and runs every callback that became due.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.Slice(c.timers, func(i, j int) bool {
			if c.timers[i].deadline.Equal(c.timers[j].deadline) {
				return c.timers[i].seq < c.timers[j].seq
			}
			return c.timers[i].deadline.Before(c.timers[j].deadline)
		})
		var due *manualTimer
		for len(c.timers) > 0 {
			t := c.timers[0]
			if t.stopped {
				c.timers = c.timers[1:]
				continue
			}
			if t.deadline.After(target) {
				break
			}
			due = t
			c.timers = c.timers[1:]
			t.stopped = true
			if t.deadline.After(c.now) {
				c.now = t.deadline
			}
			break
		}
		if due == nil {
			c.now = target
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		due.f()
	}
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}
