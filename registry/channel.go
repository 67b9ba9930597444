package registry

import (
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/store"
)

// channel is the registry's working state for one channel. rec is the part
// that survives restarts (written through to the store).
type channel struct {
	rec store.Record

	rejoinTimer actors.Timer
	rejoinGen   uint64
	rejoinTries int

	// subWaiters wait for the outcome of the current join attempt.
	subWaiters []chan<- messages.SubscribeResult
	// leaving is the leave in progress, nil otherwise.
	leaving *leaveOp
	// joinedPresence records whether the join in flight or in force asked
	// for presence.
	joinedPresence bool
	// presence is the presence engine; a copy is persisted in the record.
	presence *presenceState
	// trackWaiters wait for the reply to the next track or untrack push.
	trackWaiters []chan<- error
	// sentToken is the token this incarnation joined with or last pushed.
	sentToken string
	// authErr is set by a system error about the token; the phx_close
	// that follows is then an authorization failure.
	authErr *messages.AuthError
	// authRetried is set once a server close for the token was answered
	// with a fresh token and a rejoin; a second one blocks the channel.
	authRetried bool
	// dirty is set when a binding changed the join config after the join
	// was sent; the channel rejoins once joined.
	dirty bool
	// routed is set while this registry instance publishes the channel's
	// route (routes.go).
	routed bool
}

func (ch *channel) handler(def messages.Handler) messages.Handler {
	if ch != nil && ch.rec.Config.Handler != nil {
		return ch.rec.Config.Handler
	}
	return def
}

// stopRejoin cancels a scheduled rejoin. The next generation is taken by
// scheduleRejoin from the runtime-wide counter, so a rejoinDue queued by an
// earlier registry instance can never match.
func (ch *channel) stopRejoin() {
	ch.rejoinGen = 0
	if ch.rejoinTimer != nil {
		ch.rejoinTimer.Stop()
		ch.rejoinTimer = nil
	}
}

// bindingsNeedRejoin reports whether adding b to a channel changes the
// join payload it joined with: a postgres binding always does, a presence
// binding when the join did not ask for presence.
func bindingsNeedRejoin(ch *channel, b messages.Binding) bool {
	switch b.(type) {
	case messages.Broadcast:
		return false
	case messages.Presence:
		return !ch.joinedPresence
	}
	return true
}

// presenceEnabled reports whether the join asks for presence: the channel
// has a presence binding or tracks presence (docs/peers.md pain 24: a
// channel that only tracks must still get presence_state).
func (ch *channel) presenceEnabled() bool {
	if ch.rec.Tracked != nil {
		return true
	}
	for _, b := range ch.rec.Bindings {
		if _, ok := b.(messages.Presence); ok {
			return true
		}
	}
	return false
}
