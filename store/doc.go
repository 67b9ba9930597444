// Package store is the channel store actor: the storage for channel data
// that survives registry restarts, the Go counterpart of the Elixir
// client's ETS-backed Channel.Store.
//
// The store actor owns the Table, which outlives every restart of the
// store and of the registry. The registry writes a Record through the
// Table after every change, synchronously (Table.Put, Table.Delete), the
// way the Elixir client's registry calls its store: a state change is
// visible before the event that reports it reaches the Handler, and a
// client call that changed state returns only after the change is visible.
// When the registry restarts it resumes from Table.Snapshot. Readers that
// must not wait on a mailbox (ListChannels, ChannelState) read the
// immutable Snapshot, the way ETS allows concurrent reads. Other writers
// may send Put and Delete to the store actor; Load returns the snapshot.
//
// # Concurrency
//
// Writers are serialised by a mutex; each write publishes a new immutable
// Snapshot with an atomic pointer swap, so any goroutine may call
// Table.Snapshot at any time without locks. Records and snapshots are never
// mutated after publication.
//
// # Lifecycle
//
// The Table is created by the supervisor and outlives both the store actor
// and the registry actor: a restarted store actor continues from the Table
// it was given. The store owns no goroutine.
package store
