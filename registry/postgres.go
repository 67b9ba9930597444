package registry

import (
	"bytes"
	"encoding/json"

	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// bindingMismatch is realtime-js's reason when the join reply does not
// echo the channel's postgres_changes bindings.
const bindingMismatch = "mismatch between server and client bindings for postgres changes"

// postgresBindings returns the channel's postgres_changes bindings in join
// order, without duplicates (the server collapses identical objects).
func postgresBindings(ch *channel) []messages.PostgresChanges {
	var out []messages.PostgresChanges
	var seen [][]byte
next:
	for _, b := range ch.rec.Bindings {
		pc, ok := b.(messages.PostgresChanges)
		if !ok {
			continue
		}
		obj := pc.AppendJoinObject(nil)
		for _, s := range seen {
			if bytes.Equal(s, obj) {
				continue next
			}
		}
		seen = append(seen, obj)
		out = append(out, pc)
	}
	return out
}

func postgresJoinObjects(ch *channel) []json.RawMessage {
	bindings := postgresBindings(ch)
	out := make([]json.RawMessage, len(bindings))
	for i, b := range bindings {
		out[i] = b.AppendJoinObject(nil)
	}
	return out
}

// checkPostgresEcho verifies that the join reply echoes the bindings it
// was sent, position by position, and records the server's binding ids.
// It reports false on a mismatch.
func (r *reg) checkPostgresEcho(ch *channel, response []byte) bool {
	bindings := postgresBindings(ch)
	var echoed [][]byte
	if len(response) > 0 && response[0] == '{' {
		_ = jsonscan.ObjectEach(response, func(key, value []byte) error {
			if jsonscan.KeyEquals(key, "postgres_changes") && len(value) > 0 && value[0] == '[' {
				return jsonscan.ArrayEach(value, func(_ int, v []byte) error {
					echoed = append(echoed, v)
					return nil
				})
			}
			return nil
		})
	}
	if len(echoed) != len(bindings) {
		return len(bindings) == 0
	}
	ids := make([]json.RawMessage, len(bindings))
	for i, b := range bindings {
		ok, err := b.MatchesEcho(echoed[i])
		if err != nil || !ok {
			return false
		}
		id, err := wire.ParseBindingID(echoed[i])
		if err != nil {
			return false
		}
		ids[i] = id
	}
	ch.rec.PostgresIDs = ids
	return true
}

// postgresChange routes a postgres_changes frame: it is delivered once if
// any binding whose server id is listed in ids accepts the change type.
func (r *reg) postgresChange(ch *channel, m *messages.Inbound) {
	ids, ev, err := wire.ParsePostgresChange(m.Frame.Payload)
	if err != nil {
		r.cfg.Stats.Malformed.Add(1)
		r.deliver(ch, messages.ErrorEvent{Channel: ch.rec.Name, Err: err})
		return
	}
	if matchesChange(postgresBindings(ch), ch.rec.PostgresIDs, ids, ev.Type) {
		ev.Channel, ev.Topic, ev.Received = ch.rec.Name, ch.rec.Topic, m.Received
		r.deliver(ch, ev)
	}
}

// matchesChange reports whether a change of type typ listing the binding
// ids ids is taken by one of bindings, whose server ids are pgIDs (by
// position).
func matchesChange(bindings []messages.PostgresChanges, pgIDs []json.RawMessage, ids [][]byte, typ messages.PostgresEvent) bool {
	for i, b := range bindings {
		if i >= len(pgIDs) || !b.MatchesEvent(typ) {
			continue
		}
		for _, id := range ids {
			if jsonscan.SameBindingID(id, pgIDs[i]) {
				return true
			}
		}
	}
	return false
}
