package actors

import "sync/atomic"

// Epoch numbers the incarnations of an actor whose PID and mailbox survive
// restarts. Messages produced by one incarnation's goroutines carry its
// epoch; the actor drops those whose epoch is not current.
//
// The counter lives outside the actor instance (the supervisor owns it), so
// a restarted instance continues the sequence. The zero value is ready and
// its first epoch is 1.
type Epoch struct{ n atomic.Uint64 }

// Next starts a new incarnation and returns its epoch.
func (e *Epoch) Next() uint64 { return e.n.Add(1) }

// Current returns the epoch of the newest incarnation (0 before the first).
func (e *Epoch) Current() uint64 { return e.n.Load() }
