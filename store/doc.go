// Package store is the channel store actor: the storage for channel data
// that survives registry restarts, the Go counterpart of the Elixir
// client's ETS-backed Channel.Store.
//
// A channel record is created in the Table by Client.Channel itself
// (Table.Create), before Channel returns, so the channel and its config
// (private flag, handler) are visible to every reader at once; the
// registry adopts that record when its CreateChannel message arrives and
// is the only writer from then on.
//
// The store actor owns the Table, which outlives every restart of the
// store and of the registry. The registry writes a Record through the
// Table after every change, synchronously (Table.Put, Table.Delete), the
// way the Elixir client's registry calls its store: a state change is
// visible before the event that reports it reaches the Handler, and a
// client call that changed state returns only after the change is visible.
// When the registry restarts it resumes from Table.All. Readers that must
// not wait on a mailbox (ListChannels, ChannelState, the socket reader's
// topic interning) read the Table directly, the way ETS allows concurrent
// reads. Other writers may send Put and Delete to the store actor; Load
// returns every record.
//
// # Concurrency
//
// The Table is a map behind a read-write mutex: a write costs O(1) whatever
// the number of channels (a copy-on-write snapshot made joining 10,000
// channels quadratic), and a read holds the read lock for one map access.
// Records are values and never mutated after they are stored, so a record
// a reader got stays valid.
//
// # Lifecycle
//
// The Table is created by the supervisor and outlives both the store actor
// and the registry actor: a restarted store actor continues from the Table
// it was given. The store owns no goroutine.
package store
