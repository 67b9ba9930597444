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
