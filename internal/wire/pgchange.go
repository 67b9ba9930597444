package wire

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/messages"
)

// ParseBindingID returns the raw "id" of a binding object echoed in the
// join reply (docs/protocol.md §3.4): an opaque JSON scalar, a number from the
// real server and a string in some test servers. The result is a copy,
// safe to retain; compare it with the ids of ChangeEvents using
// ChangeEvent.HasID or SameBindingID. It is an error (wrapping
// ErrMalformed) when obj is not a JSON object, has no "id", or the id is
// not a number or a string.
func ParseBindingID(obj []byte) (json.RawMessage, error) {
	var id []byte
	err := jsonscan.ObjectEach(obj, func(key, value []byte) error {
		if jsonscan.KeyEquals(key, "id") {
			id = value
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, fmt.Errorf("%w: postgres_changes binding: missing \"id\"", messages.ErrMalformed)
	}
	if !isIDScalar(id) {
		return nil, fmt.Errorf("%w: postgres_changes binding: \"id\" is not a number or string", messages.ErrMalformed)
	}
	return bytes.Clone(id), nil
}

// isIDScalar reports whether the validated JSON value v is a number or a
// string.
func isIDScalar(v []byte) bool {
	return len(v) > 0 && (v[0] == '"' || v[0] == '-' || jsonscan.IsDigit(v[0]))
}

// ParsePostgresChange parses the payload of a "postgres_changes" frame:
//
//	{"ids":[106243155],"data":{"schema":…,"table":…,"type":…,
//	 "commit_timestamp":…,"columns":[…],"record":{…},"old_record":{…},"errors":null}}
//
// ids are the raw elements of "ids", aliasing payload (for routing without
// copying); ev.IDs, ev.Record and ev.OldRecord are independent copies.
// Channel, Topic and Received are left for the caller to fill in.
//
// Rules: payload and "data" must be objects; "ids" may be absent or null
// (no ids), otherwise an array of numbers and strings; data.type must be a
// non-empty string; schema and table are strings or null; commit_timestamp
// is null/absent (zero time) or a timestamp accepted by ParseTimestamp;
// columns is null/absent or an array of {"name","type"} objects; record and
// old_record are objects, null or absent; errors is null/absent or an array
// of strings. Unknown keys are ignored. Errors wrap ErrMalformed and never
// contain payload values.
func ParsePostgresChange(payload []byte) (ids [][]byte, ev messages.ChangeEvent, err error) {
	var idsRaw, data []byte
	err = jsonscan.ObjectEach(payload, func(key, value []byte) error {
		switch k, _ := jsonscan.KeyName(key); string(k) {
		case "ids":
			idsRaw = value
		case "data":
			data = value
		}
		return nil
	})
	if err != nil {
		return nil, messages.ChangeEvent{}, err
	}
	if data == nil || jsonscan.IsNull(data) {
		return nil, messages.ChangeEvent{}, fmt.Errorf("%w: postgres_changes: missing \"data\"", messages.ErrMalformed)
	}
	if idsRaw != nil && !jsonscan.IsNull(idsRaw) {
		if idsRaw[0] != '[' {
			return nil, messages.ChangeEvent{}, fmt.Errorf("%w: postgres_changes: \"ids\" is not an array", messages.ErrMalformed)
		}
		err = jsonscan.ArrayEach(idsRaw, func(_ int, v []byte) error {
			if !isIDScalar(v) {
				return fmt.Errorf("%w: postgres_changes: an id is not a number or string", messages.ErrMalformed)
			}
			ids = append(ids, v)
			return nil
		})
		if err != nil {
			return nil, messages.ChangeEvent{}, err
		}
	}
	ev, err = parseChangeObject(data, "")
	if err != nil {
		return nil, messages.ChangeEvent{}, err
	}
	ownRaw(&ev, ids)
	return ids, ev, nil
}

// ParseLegacyChange parses a change of the legacy API (docs/protocol.md §7.9):
// the frame event is INSERT, UPDATE or DELETE and the payload is the change
// object itself (the shape of "data" in ParsePostgresChange), without ids.
// The payload's "type" wins over event; event is used when "type" is
// absent or null and must then be INSERT, UPDATE or DELETE
// (case-insensitive). The rules and errors are those of
// ParsePostgresChange.
func ParseLegacyChange(event string, payload []byte) (messages.ChangeEvent, error) {
	ev, err := parseChangeObject(payload, messages.PostgresEvent(event))
	if err != nil {
		return messages.ChangeEvent{}, err
	}
	ownRaw(&ev, nil)
	return ev, nil
}

// ownRaw replaces Record and OldRecord (which alias the input) by copies
// and sets IDs to copies of ids, all in one allocation.
func ownRaw(e *messages.ChangeEvent, ids [][]byte) {
	n := len(e.Record) + len(e.OldRecord)
	for _, id := range ids {
		n += len(id)
	}
	if n == 0 && len(ids) == 0 {
		return
	}
	buf := make([]byte, 0, n)
	take := func(b []byte) json.RawMessage {
		start := len(buf)
		buf = append(buf, b...)
		return json.RawMessage(buf[start:len(buf):len(buf)])
	}
	if e.Record != nil {
		e.Record = take(e.Record)
	}
	if e.OldRecord != nil {
		e.OldRecord = take(e.OldRecord)
	}
	if len(ids) > 0 {
		e.IDs = make([]json.RawMessage, len(ids))
		for i, id := range ids {
			e.IDs[i] = take(id)
		}
	}
}

// parseChangeObject parses the change object {schema, table, type, …}.
// Record and OldRecord alias obj. fallback is the event used when "type"
// is absent or null ("" = type required).
func parseChangeObject(obj []byte, fallback messages.PostgresEvent) (messages.ChangeEvent, error) {
	var schema, table, typ, ts, columns, record, oldRecord, errs []byte
	err := jsonscan.ObjectEach(obj, func(key, value []byte) error {
		switch k, _ := jsonscan.KeyName(key); string(k) {
		case "schema":
			schema = value
		case "table":
			table = value
		case "type":
			typ = value
		case "commit_timestamp":
			ts = value
		case "columns":
			columns = value
		case "record":
			record = value
		case "old_record":
			oldRecord = value
		case "errors":
			errs = value
		}
		return nil
	})
	if err != nil {
		return messages.ChangeEvent{}, err
	}
	var ev messages.ChangeEvent
	var ok bool
	if ev.Schema, ok = optString(schema); !ok {
		return messages.ChangeEvent{}, malformedChange(`"schema" is not a string`)
	}
	if ev.Table, ok = optString(table); !ok {
		return messages.ChangeEvent{}, malformedChange(`"table" is not a string`)
	}
	t, ok := optString(typ)
	if !ok {
		return messages.ChangeEvent{}, malformedChange(`"type" is not a string`)
	}
	if t == "" {
		if typ != nil && !jsonscan.IsNull(typ) {
			return messages.ChangeEvent{}, malformedChange(`"type" is empty`)
		}
		if fallback == "" {
			return messages.ChangeEvent{}, malformedChange(`missing "type"`)
		}
		c, valid := fallback.Canonical()
		if !valid || c == messages.PostgresAll {
			return messages.ChangeEvent{}, malformedChange(`missing "type" and the event is not INSERT, UPDATE or DELETE`)
		}
		ev.Type = c
	} else if c, valid := messages.PostgresEvent(t).Canonical(); valid && c != messages.PostgresAll {
		ev.Type = c
	} else {
		ev.Type = messages.PostgresEvent(t)
	}
	tsStr, ok := optString(ts)
	if !ok {
		return messages.ChangeEvent{}, malformedChange(`"commit_timestamp" is not a string`)
	}
	if tsStr != "" {
		if ev.CommitTimestamp, err = messages.ParseTimestamp(tsStr); err != nil {
			return messages.ChangeEvent{}, malformedChange(`invalid "commit_timestamp"`)
		}
	}
	if ev.Columns, err = parseColumns(columns); err != nil {
		return messages.ChangeEvent{}, err
	}
	if ev.Record, err = optObject(record, "record"); err != nil {
		return messages.ChangeEvent{}, err
	}
	if ev.OldRecord, err = optObject(oldRecord, "old_record"); err != nil {
		return messages.ChangeEvent{}, err
	}
	if ev.Errors, err = parseErrorStrings(errs); err != nil {
		return messages.ChangeEvent{}, err
	}
	return ev, nil
}

func malformedChange(what string) error {
	return fmt.Errorf("%w: postgres_changes: %s", messages.ErrMalformed, what)
}

// optObject returns raw when it is an object, nil when absent or null.
func optObject(raw []byte, name string) (json.RawMessage, error) {
	if raw == nil || jsonscan.IsNull(raw) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, malformedChange(fmt.Sprintf("%q is not an object", name))
	}
	return raw, nil
}

// parseColumns parses [{"name":"id","type":"int8"},…]; absent or null gives
// nil.
func parseColumns(raw []byte) ([]messages.Column, error) {
	if raw == nil || jsonscan.IsNull(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, malformedChange(`"columns" is not an array`)
	}
	n := 0
	_ = jsonscan.ArrayEach(raw, func(int, []byte) error { n++; return nil })
	cols := make([]messages.Column, 0, n)
	err := jsonscan.ArrayEach(raw, func(_ int, v []byte) error {
		if v[0] != '{' {
			return malformedChange(`a column is not an object`)
		}
		var name, typ []byte
		if err := jsonscan.ObjectEach(v, func(key, value []byte) error {
			switch k, _ := jsonscan.KeyName(key); string(k) {
			case "name":
				name = value
			case "type":
				typ = value
			}
			return nil
		}); err != nil {
			return err
		}
		var c messages.Column
		var ok1, ok2 bool
		c.Name, ok1 = optString(name)
		c.Type, ok2 = optString(typ)
		if !ok1 || !ok2 {
			return malformedChange(`a column name or type is not a string`)
		}
		cols = append(cols, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cols, nil
}

// parseErrorStrings parses null/absent (nil) or an array of strings (a
// non-nil slice, possibly empty).
func parseErrorStrings(raw []byte) ([]string, error) {
	if raw == nil || jsonscan.IsNull(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, malformedChange(`"errors" is not an array`)
	}
	out := []string{}
	err := jsonscan.ArrayEach(raw, func(_ int, v []byte) error {
		if v[0] != '"' {
			return malformedChange(`an error is not a string`)
		}
		s, err := jsonscan.Unquote(v)
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
