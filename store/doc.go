// Package store is the channel store actor: the storage for channel data
// that survives registry restarts, the Go counterpart of the Elixir
// client's ETS-backed Channel.Store.
//
// The registry writes a Record after every change (Put, Delete) and, when it
// (re)starts, asks for everything with Load. Readers that must not wait on a
// mailbox (ListChannels, ChannelState) read the immutable Snapshot that the
// store publishes through Table.Snapshot, the way ETS allows concurrent
// reads.
//
// # Concurrency
//
// Only the store actor writes; it publishes a new immutable Snapshot after
// every write with an atomic pointer swap, so any goroutine may call
// Table.Snapshot at any time without locks. Records and snapshots are never
// mutated after publication.
//
// # Lifecycle
//
// The Table is created by the supervisor and outlives both the store actor
// and the registry actor: a restarted store actor continues from the Table
// it was given. The store owns no goroutine.
package store
