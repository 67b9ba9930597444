// Package rtstate holds the state of one client's actor tree that outlives
// every actor restart (the channel table, ref counter, connection epoch,
// counters, Handler dispatcher, token and presence view). Package
// supervisor owns it inside supervisor.Runtime, whose fields are not
// exported; the client reaches it through Of, so an application that
// embeds the tree sees only what embedding needs.
//
// # Concurrency
//
// Every field is safe for concurrent use (atomics, or types that lock).
//
// # Lifecycle
//
// A State lives as long as its Runtime; the package starts nothing.
package rtstate

import (
	"sync/atomic"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/connection"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/registry"
	"github.com/supabase-go/realtime/store"
)

// State is what the actors share with the client API.
type State struct {
	Table     *store.Table
	Refs      wire.Refs
	Epochs    actors.Epoch
	ConnStats connection.Stats
	RegStats  registry.Stats
	// Dispatch runs the Handlers; it outlives registry restarts.
	Dispatch *registry.Dispatcher
	Token    registry.Token
	Presence registry.PresenceView
	Gens     atomic.Uint64
}

// Of returns the State of a *supervisor.Runtime. Package supervisor sets
// it when it is initialised (it cannot be a function of package supervisor
// without exporting the state there).
var Of func(runtime any) *State
