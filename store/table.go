package store

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Snapshot is an immutable view of all channel records.
type Snapshot struct {
	records map[string]Record
}

// Get returns the record of a topic.
func (s *Snapshot) Get(topic string) (Record, bool) {
	if s == nil {
		return Record{}, false
	}
	r, ok := s.records[topic]
	return r, ok
}

// Len returns the number of channels.
func (s *Snapshot) Len() int {
	if s == nil {
		return 0
	}
	return len(s.records)
}

// All returns the records in creation order.
func (s *Snapshot) All() []Record {
	if s == nil {
		return nil
	}
	out := make([]Record, 0, len(s.records))
	for _, r := range s.records {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Table holds the current Snapshot. It is created once per client and
// outlives every actor restart. The registry writes through it
// synchronously (Put, Delete), so a state change is visible to readers
// before the event that reports it is delivered; readers never lock.
type Table struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[Snapshot]
}

// NewTable returns an empty table.
func NewTable() *Table {
	t := &Table{}
	t.snap.Store(&Snapshot{records: map[string]Record{}})
	return t
}

// Snapshot returns the current snapshot. It never blocks.
func (t *Table) Snapshot() *Snapshot { return t.snap.Load() }

// Put stores (or replaces) a record and publishes a new snapshot. The
// record must not be mutated afterwards.
func (t *Table) Put(rec Record) {
	t.apply(func(recs map[string]Record) { recs[rec.Topic] = rec })
}

// Delete removes a topic's record and publishes a new snapshot.
func (t *Table) Delete(topic string) {
	t.apply(func(recs map[string]Record) { delete(recs, topic) })
}

// apply publishes a copy of the current snapshot changed by fn.
func (t *Table) apply(fn func(m map[string]Record)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.snap.Load()
	m := make(map[string]Record, len(old.records)+1)
	for k, v := range old.records {
		m[k] = v
	}
	fn(m)
	t.snap.Store(&Snapshot{records: m})
}

// Intern returns the topic string of a known channel equal to b, so the
// socket reader can decode a frame's topic without allocating. It never
// blocks and is safe for concurrent use (it is a messages.InternFunc).
func (t *Table) Intern(b []byte) (string, bool) {
	r, ok := t.snap.Load().records[string(b)]
	if !ok {
		return "", false
	}
	return r.Topic, true
}
