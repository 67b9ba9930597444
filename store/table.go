package store

import (
	"sort"
	"sync"
)

// Table holds every channel record. It is created once per client and
// outlives every actor restart. The registry writes through it
// synchronously (Put, Delete), so a state change is visible to readers
// before the event that reports it is delivered.
//
// Writes cost O(1): a client with 10,000 channels writes a record on every
// state change, so copying the whole table per write (as an immutable
// snapshot would) makes joining N channels O(N²). Readers take a read lock
// held only for a map access; Records are values and never mutated once
// stored, so what a reader gets stays valid.
type Table struct {
	mu      sync.RWMutex
	records map[string]Record
	// seq numbers records in creation order (Record.Seq); it only grows,
	// so a record created after a delete still sorts last.
	seq uint64
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{records: map[string]Record{}}
}

// Get returns the record of a topic.
func (t *Table) Get(topic string) (Record, bool) {
	t.mu.RLock()
	r, ok := t.records[topic]
	t.mu.RUnlock()
	return r, ok
}

// Len returns the number of channels.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.records)
}

// All returns the records in creation order.
func (t *Table) All() []Record {
	t.mu.RLock()
	out := make([]Record, 0, len(t.records))
	for _, r := range t.records {
		out = append(out, r)
	}
	t.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Create stores rec under its topic unless a record is there already,
// numbering it (Record.Seq) after every record created before. It returns
// the record now stored and whether it is rec. Creation is a single step
// under the write lock, so two creators of one topic agree on one record:
// Client.Channel creates its record here before it returns, which makes the
// channel and its config visible to every reader at once, and the registry
// adopts the same record when its CreateChannel arrives.
func (t *Table) Create(rec Record) (Record, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.records[rec.Topic]; ok {
		return old, false
	}
	t.seq++
	rec.Seq = t.seq
	t.records[rec.Topic] = rec
	return rec, true
}

// Put stores (or replaces) a record. The record must not be mutated
// afterwards.
func (t *Table) Put(rec Record) {
	t.mu.Lock()
	t.records[rec.Topic] = rec
	if rec.Seq > t.seq {
		t.seq = rec.Seq
	}
	t.mu.Unlock()
}

// Delete removes a topic's record.
func (t *Table) Delete(topic string) {
	t.mu.Lock()
	delete(t.records, topic)
	t.mu.Unlock()
}

// Intern returns the topic string of a known channel equal to b, so the
// socket reader can decode a frame's topic without allocating. It is safe
// for concurrent use (it is a messages.InternFunc).
func (t *Table) Intern(b []byte) (string, bool) {
	t.mu.RLock()
	r, ok := t.records[string(b)]
	t.mu.RUnlock()
	if !ok {
		return "", false
	}
	return r.Topic, true
}
