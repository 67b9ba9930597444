package fleet

import "time"

// OwnershipEvent reports that this member acquired or released a
// subscription (Config.OnOwnership).
type OwnershipEvent struct {
	// ID is the subscription's ID.
	ID string
	// Member is this member's address (host:port).
	Member string
	// Acquired is true when the subscription was activated here, false
	// when it stopped here (moved, node closing).
	Acquired bool
	// MissedSince is set on acquisition when another activation covered
	// the subscription before: the last time it recorded its channels
	// joined. Zero on the first activation in the fleet.
	MissedSince time.Time
	// At is when it happened on this member.
	At time.Time
	// Err is set when the activation went wrong: on a release, Setup
	// failed (a *SetupError; the keeper tries again every
	// EnsureInterval); on an acquisition, the previous owners' coverage
	// could not be read, so MissedSince is unknown (zero).
	Err error
}
