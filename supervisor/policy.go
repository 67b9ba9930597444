package supervisor

import (
	"math/rand/v2"
	"time"
)

// Backoff defaults.
const (
	// BackoffBase is the first reconnect delay: 1 s.
	BackoffBase = time.Second
	// BackoffCap is the largest reconnect delay: 10 s.
	BackoffCap = 10 * time.Second
	// DefaultHealthyAfter is the uptime after which a connection counts as
	// healthy (the attempt count starts over at its next failure) even if
	// no heartbeat or join was answered on it: 30 s, longer than the
	// default heartbeat interval, so a live server proves itself sooner.
	DefaultHealthyAfter = 30 * time.Second
)

// DefaultBackoff returns the delay before reconnect attempt tries (1-based):
// min(10 s, 1 s × 2^(tries−1)) scaled by a random factor in [0.8, 1.0], so
// about 1 s, 2 s, 4 s, 8 s, then 10 s, never more than the cap, and clients
// that failed together do not retry in lockstep.
func DefaultBackoff(tries int) time.Duration {
	d := capped(tries)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

func capped(tries int) time.Duration {
	if tries < 1 {
		tries = 1
	}
	if tries > 5 {
		return BackoffCap
	}
	d := BackoffBase << (tries - 1)
	if d > BackoffCap {
		d = BackoffCap
	}
	return d
}
