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
}

func (ch *channel) handler(def messages.Handler) messages.Handler {
	if ch != nil && ch.rec.Config.Handler != nil {
		return ch.rec.Config.Handler
	}
	return def
}

func (ch *channel) stopRejoin() {
	ch.rejoinGen++
	if ch.rejoinTimer != nil {
		ch.rejoinTimer.Stop()
		ch.rejoinTimer = nil
	}
}

// bindingsNeedRejoin reports whether adding b to a joined channel changes
// its join payload.
func bindingsNeedRejoin(b messages.Binding) bool {
	_, isBroadcast := b.(messages.Broadcast)
	return !isBroadcast
}
