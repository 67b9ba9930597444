package realtimetest

import (
	"bytes"
	"encoding/json"
	"sort"
	"sync"
	"time"
)

// StoredMessage is a row of the stand-in's realtime.messages table: what
// the real server replays to private channels that join with
// config.broadcast.replay (§5.5).
type StoredMessage struct {
	// ID is the message uuid; generated when empty.
	ID string
	// Topic is the sub-topic ("room1"); a "realtime:" prefix is stripped.
	Topic string
	// Event is the broadcast event.
	Event string
	// Payload is the JSON payload (replayed as a text broadcast); it is
	// ignored when Binary is not nil. Default: {}.
	Payload json.RawMessage
	// Binary is a binary payload (replayed as kind 4 to V2 sockets only).
	Binary []byte
	// Private marks a row of the private namespace. Only private rows are
	// replayed, as on the real server.
	Private bool
	// InsertedAt defaults to the server clock.
	InsertedAt time.Time
}

// messageStore holds the stored messages.
type messageStore struct {
	mu   sync.Mutex
	rows []StoredMessage
}

// StoreMessage inserts m into the stand-in's message table (as
// realtime.send would, without delivering it) and returns its id. Joins
// with a valid replay request on the private channel of m.Topic receive
// it.
func (s *Server) StoreMessage(m StoredMessage) string {
	if m.ID == "" {
		m.ID = newUUID()
	}
	m.Topic = subTopicOf(m.Topic)
	if m.Binary != nil {
		m.Binary = bytes.Clone(m.Binary)
		m.Payload = nil
	} else if len(m.Payload) == 0 {
		m.Payload = json.RawMessage(`{}`)
	} else {
		var buf bytes.Buffer
		if json.Compact(&buf, m.Payload) == nil {
			m.Payload = buf.Bytes()
		} else {
			m.Payload = bytes.Clone(m.Payload)
		}
	}
	if m.InsertedAt.IsZero() {
		m.InsertedAt = s.now()
	}
	s.ext.store.mu.Lock()
	s.ext.store.rows = append(s.ext.store.rows, m)
	s.ext.store.mu.Unlock()
	return m.ID
}

// StoredMessages returns every stored message, in insertion order.
func (s *Server) StoredMessages() []StoredMessage {
	s.ext.store.mu.Lock()
	defer s.ext.store.mu.Unlock()
	out := make([]StoredMessage, len(s.ext.store.rows))
	for i, m := range s.ext.store.rows {
		m.Payload = bytes.Clone(m.Payload)
		m.Binary = bytes.Clone(m.Binary)
		out[i] = m
	}
	return out
}

// replay selects the newest rp.limit private rows of sub inserted at or
// after rp.since, oldest first.
func (s *Server) replay(sub string, rp *replayParams) []StoredMessage {
	since := time.UnixMilli(rp.since)
	s.ext.store.mu.Lock()
	var rows []StoredMessage
	for _, m := range s.ext.store.rows {
		if m.Private && m.Topic == sub && !m.InsertedAt.Before(since) {
			rows = append(rows, m)
		}
	}
	s.ext.store.mu.Unlock()
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].InsertedAt.Before(rows[j].InsertedAt) })
	if len(rows) > rp.limit {
		rows = rows[len(rows)-rp.limit:]
	}
	return rows
}
