package messages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Postgres changes (PROTOCOL.md §7): the binding sent in phx_join, the
// check of the server's echo of it, and the parsing of change events.

// PostgresEvent is the kind of row change a PostgresChanges binding listens
// to, and the Type of a ChangeEvent.
type PostgresEvent string

// The postgres_changes events. The server compares them case-insensitively.
const (
	// PostgresAll matches every change (INSERT, UPDATE and DELETE).
	PostgresAll PostgresEvent = "*"
	// PostgresInsert is a row insertion.
	PostgresInsert PostgresEvent = "INSERT"
	// PostgresUpdate is a row update.
	PostgresUpdate PostgresEvent = "UPDATE"
	// PostgresDelete is a row deletion.
	PostgresDelete PostgresEvent = "DELETE"
)

// canonical returns the upper-case constant for e; "" is PostgresAll. ok is
// false for anything else.
func (e PostgresEvent) canonical() (PostgresEvent, bool) {
	switch {
	case e == "" || e == PostgresAll:
		return PostgresAll, true
	case strings.EqualFold(string(e), string(PostgresInsert)):
		return PostgresInsert, true
	case strings.EqualFold(string(e), string(PostgresUpdate)):
		return PostgresUpdate, true
	case strings.EqualFold(string(e), string(PostgresDelete)):
		return PostgresDelete, true
	}
	return e, false
}

// PostgresChanges binds database row changes (PROTOCOL.md §7.1). One
// PostgresChanges becomes one element of config.postgres_changes in the
// join payload (see AppendJoinObject) and, once the server has echoed it
// with an id, receives the ChangeEvents whose ids include that id.
//
//	b := messages.PostgresChanges{Event: messages.PostgresInsert, Schema: "public", Table: "todos"}.
//		WithFilter(messages.Eq("user_id", 42))
type PostgresChanges struct {
	// Event is PostgresAll, PostgresInsert, PostgresUpdate or
	// PostgresDelete (any case); "" means PostgresAll.
	Event PostgresEvent
	// Schema is the schema name or "*". "" with a Table means the server
	// default, "public".
	Schema string
	// Table is the table name or "*". "" with a Schema means every table
	// of the schema.
	Table string
	// Filter is a filter string in the grammar of PROTOCOL.md §7.4, e.g.
	// "id=eq.1"; see the Filter builder and WithFilter. A filter that is
	// empty or only whitespace means no filter and is not sent.
	Filter string
	// Columns optionally restricts the record to these columns plus the
	// primary key (the "select" key; needs a server from about mid-2026).
	// It requires an explicit Schema and Table, neither "*". nil or empty
	// means all columns and is not sent.
	Columns []string

	// filterErr is the error of the Filter passed to WithFilter.
	filterErr error
}

// WithFilter returns a copy of b with Filter set to f.String(). An invalid
// f (see Filter.Validate) makes Validate on the result report f's error.
func (b PostgresChanges) WithFilter(f Filter) PostgresChanges {
	b.Filter = f.String()
	b.filterErr = f.Validate()
	return b
}

// effectiveFilter returns the filter as sent: "" when it is only
// whitespace (the server ignores such filters).
func effectiveFilter(f string) string {
	if strings.TrimSpace(f) == "" {
		return ""
	}
	return f
}

func pgOptionError(field, reason string) error {
	return &OptionError{Option: "PostgresChanges." + field, Reason: reason}
}

// Validate reports an invalid binding as an *OptionError:
//   - Event is not "", "*", INSERT, UPDATE or DELETE (case-insensitive);
//   - neither Schema nor Table is set;
//   - a Filter is set without both Schema and Table, the Filter is
//     syntactically broken (empty segment, a segment not of the form
//     column=op.value, an `in` value without parentheses), or the Filter
//     given to WithFilter is invalid;
//   - Columns are set without an explicit Schema and Table (neither "" nor
//     "*"), or one of them is empty.
//
// Validate does not check that the schema, table or columns exist or that
// filter values suit the column types: the server reports those
// asynchronously as a postgres_changes system error.
func (b PostgresChanges) Validate() error {
	if _, ok := b.Event.canonical(); !ok {
		return pgOptionError("Event", `must be "*", "INSERT", "UPDATE" or "DELETE"`)
	}
	if b.Schema == "" && b.Table == "" {
		return pgOptionError("Schema", "at least one of Schema or Table is required")
	}
	if b.filterErr != nil {
		return b.filterErr
	}
	if f := effectiveFilter(b.Filter); f != "" {
		if b.Schema == "" || b.Table == "" {
			return pgOptionError("Filter", "a filter requires both Schema and Table")
		}
		if reason := checkFilterSyntax(f); reason != "" {
			return pgOptionError("Filter", reason)
		}
	}
	if len(b.Columns) > 0 {
		if b.Schema == "" || b.Table == "" || b.Schema == "*" || b.Table == "*" {
			return pgOptionError("Columns", "column selection needs an explicit Schema and Table (no wildcards)")
		}
		for _, c := range b.Columns {
			if c == "" {
				return pgOptionError("Columns", "column names must not be empty")
			}
		}
	}
	return nil
}

func (PostgresChanges) isBinding() {}

// MatchesEvent reports whether a change of type t is delivered to this
// binding: Event is "" or "*", or equals t case-insensitively (the
// client-side check realtime-js does in addition to the ids).
func (b PostgresChanges) MatchesEvent(t PostgresEvent) bool {
	e, _ := b.Event.canonical()
	return e == PostgresAll || strings.EqualFold(string(e), string(t))
}

// AppendJoinObject appends the binding object sent in the join payload to
// dst and returns the extended slice, e.g.
//
//	{"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.1"}
//
// Keys appear in that order and only when set: "event" is always present
// ("*" for ""; a valid event is sent in upper case), "schema", "table" and
// "filter" when non-empty (a whitespace-only Filter is omitted), and
// "select":[…] after them when Columns is non-empty. It does not validate.
func (b PostgresChanges) AppendJoinObject(dst []byte) []byte {
	ev, _ := b.Event.canonical()
	dst = append(dst, `{"event":`...)
	dst = AppendQuote(dst, string(ev))
	if b.Schema != "" {
		dst = append(dst, `,"schema":`...)
		dst = AppendQuote(dst, b.Schema)
	}
	if b.Table != "" {
		dst = append(dst, `,"table":`...)
		dst = AppendQuote(dst, b.Table)
	}
	if f := effectiveFilter(b.Filter); f != "" {
		dst = append(dst, `,"filter":`...)
		dst = AppendQuote(dst, f)
	}
	if len(b.Columns) > 0 {
		dst = append(dst, `,"select":[`...)
		for i, c := range b.Columns {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendQuote(dst, c)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// MarshalJSON returns AppendJoinObject(nil), so a PostgresChanges can be
// embedded in a join payload built with encoding/json.
func (b PostgresChanges) MarshalJSON() ([]byte, error) {
	return b.AppendJoinObject(nil), nil
}

// MatchesEcho checks one element of response.postgres_changes of the join
// reply against b, the way realtime-js does (PROTOCOL.md §3.4): "event",
// "schema", "table" and "filter" must be equal, where a missing key, null
// and "" are the same, events compare case-insensitively ("" ≡ "*"), and a
// whitespace-only filter counts as none. "id", "select" and unknown keys
// are ignored. A mismatch returns (false, nil); the error is non-nil (and
// wraps ErrMalformed) only when obj is not a JSON object or one of the four
// keys is neither a string nor null.
func (b PostgresChanges) MatchesEcho(obj []byte) (bool, error) {
	var event, schema, table, filter []byte
	err := ObjectEach(obj, func(key, value []byte) error {
		switch k, _ := keyName(key); string(k) {
		case "event":
			event = value
		case "schema":
			schema = value
		case "table":
			table = value
		case "filter":
			filter = value
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	var vals [4]string
	for i, raw := range [4][]byte{event, schema, table, filter} {
		s, ok := optString(raw)
		if !ok {
			name := [4]string{"event", "schema", "table", "filter"}[i]
			return false, fmt.Errorf("%w: postgres_changes binding: %q is not a string", ErrMalformed, name)
		}
		vals[i] = s
	}
	mine, _ := b.Event.canonical()
	theirs := PostgresEvent(vals[0])
	if theirs == "" {
		theirs = PostgresAll
	}
	return strings.EqualFold(string(mine), string(theirs)) &&
		b.Schema == vals[1] &&
		b.Table == vals[2] &&
		effectiveFilter(b.Filter) == effectiveFilter(vals[3]), nil
}

// ParseBindingID returns the raw "id" of a binding object echoed in the
// join reply (PROTOCOL.md §3.4): an opaque JSON scalar, a number from the
// real server and a string in some test servers. The result is a copy,
// safe to retain; compare it with the ids of ChangeEvents using
// ChangeEvent.HasID or SameBindingID. It is an error (wrapping
// ErrMalformed) when obj is not a JSON object, has no "id", or the id is
// not a number or a string.
func ParseBindingID(obj []byte) (json.RawMessage, error) {
	var id []byte
	err := ObjectEach(obj, func(key, value []byte) error {
		if KeyEquals(key, "id") {
			id = value
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, fmt.Errorf("%w: postgres_changes binding: missing \"id\"", ErrMalformed)
	}
	if !isIDScalar(id) {
		return nil, fmt.Errorf("%w: postgres_changes binding: \"id\" is not a number or string", ErrMalformed)
	}
	return bytes.Clone(id), nil
}

// isIDScalar reports whether the validated JSON value v is a number or a
// string.
func isIDScalar(v []byte) bool {
	return len(v) > 0 && (v[0] == '"' || v[0] == '-' || isDigit(v[0]))
}

// SameBindingID reports whether two raw binding ids denote the same id:
// two numbers with the same literal text, or two strings with the same
// decoded content. A number never equals a string (as in realtime-js,
// which compares with ===).
func SameBindingID(a, b []byte) bool {
	a, b = trimSpace(a), trimSpace(b)
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	if bytes.Equal(a, b) {
		return true
	}
	if a[0] != '"' || b[0] != '"' {
		return false
	}
	sa, err1 := Unquote(a)
	sb, err2 := Unquote(b)
	return err1 == nil && err2 == nil && sa == sb
}

// Column describes one column of a changed row: its name and its Postgres
// type name (pg_type.typname: "int8", "text", "timestamptz", "jsonb"; array
// types start with "_", e.g. "_text").
type Column struct {
	Name string
	Type string
}

// ChangeEvent is a row change received on a channel (PROTOCOL.md §7.2).
// Record and OldRecord are raw JSON objects; decode them with
// DecodeRecord / DecodeOldRecord or the generic DecodeRecord function. The
// slices are owned by the event and may be retained.
type ChangeEvent struct {
	Channel string // sub-topic, "room1"
	Topic   string // wire topic, "realtime:room1"
	// Schema and Table name the changed table.
	Schema, Table string
	// Type is PostgresInsert, PostgresUpdate or PostgresDelete (another
	// server-sent value is kept verbatim).
	Type PostgresEvent
	// CommitTimestamp is when the transaction committed, in UTC; zero
	// when the server sent null (e.g. with the 400/401 errors).
	CommitTimestamp time.Time
	// Columns lists the columns the subscriber may read, in table order.
	Columns []Column
	// Record is the new row (INSERT, UPDATE) as a raw JSON object, nil
	// when absent or null.
	Record json.RawMessage
	// OldRecord is the old row (UPDATE, DELETE): the replica identity
	// columns (the primary key by default), nil when absent or null.
	OldRecord json.RawMessage
	// Errors is nil normally, otherwise the server's error strings such
	// as "Error 413: Payload Too Large" (PROTOCOL.md §7.2).
	Errors []string
	// IDs are the raw ids of the bindings this change matched (numbers or
	// strings, as echoed in the join reply); empty for legacy events.
	IDs []json.RawMessage
	// Received is when the frame was read from the socket.
	Received time.Time
}

// ChannelName returns the sub-topic.
func (e ChangeEvent) ChannelName() string { return e.Channel }

func (ChangeEvent) isEvent() {}

// HasID reports whether id (a raw binding id, see ParseBindingID) is among
// e.IDs, compared with SameBindingID.
func (e ChangeEvent) HasID(id []byte) bool {
	for _, x := range e.IDs {
		if SameBindingID(x, id) {
			return true
		}
	}
	return false
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
func ParsePostgresChange(payload []byte) (ids [][]byte, ev ChangeEvent, err error) {
	var idsRaw, data []byte
	err = ObjectEach(payload, func(key, value []byte) error {
		switch k, _ := keyName(key); string(k) {
		case "ids":
			idsRaw = value
		case "data":
			data = value
		}
		return nil
	})
	if err != nil {
		return nil, ChangeEvent{}, err
	}
	if data == nil || IsNull(data) {
		return nil, ChangeEvent{}, fmt.Errorf("%w: postgres_changes: missing \"data\"", ErrMalformed)
	}
	if idsRaw != nil && !IsNull(idsRaw) {
		if idsRaw[0] != '[' {
			return nil, ChangeEvent{}, fmt.Errorf("%w: postgres_changes: \"ids\" is not an array", ErrMalformed)
		}
		err = ArrayEach(idsRaw, func(_ int, v []byte) error {
			if !isIDScalar(v) {
				return fmt.Errorf("%w: postgres_changes: an id is not a number or string", ErrMalformed)
			}
			ids = append(ids, v)
			return nil
		})
		if err != nil {
			return nil, ChangeEvent{}, err
		}
	}
	ev, err = parseChangeObject(data, "")
	if err != nil {
		return nil, ChangeEvent{}, err
	}
	ev.ownRaw(ids)
	return ids, ev, nil
}

// ParseLegacyChange parses a change of the legacy API (PROTOCOL.md §7.9):
// the frame event is INSERT, UPDATE or DELETE and the payload is the change
// object itself (the shape of "data" in ParsePostgresChange), without ids.
// The payload's "type" wins over event; event is used when "type" is
// absent or null and must then be INSERT, UPDATE or DELETE
// (case-insensitive). The rules and errors are those of
// ParsePostgresChange.
func ParseLegacyChange(event string, payload []byte) (ChangeEvent, error) {
	ev, err := parseChangeObject(payload, PostgresEvent(event))
	if err != nil {
		return ChangeEvent{}, err
	}
	ev.ownRaw(nil)
	return ev, nil
}

// ownRaw replaces Record and OldRecord (which alias the input) by copies
// and sets IDs to copies of ids, all in one allocation.
func (e *ChangeEvent) ownRaw(ids [][]byte) {
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
func parseChangeObject(obj []byte, fallback PostgresEvent) (ChangeEvent, error) {
	var schema, table, typ, ts, columns, record, oldRecord, errs []byte
	err := ObjectEach(obj, func(key, value []byte) error {
		switch k, _ := keyName(key); string(k) {
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
		return ChangeEvent{}, err
	}
	var ev ChangeEvent
	var ok bool
	if ev.Schema, ok = optString(schema); !ok {
		return ChangeEvent{}, malformedChange(`"schema" is not a string`)
	}
	if ev.Table, ok = optString(table); !ok {
		return ChangeEvent{}, malformedChange(`"table" is not a string`)
	}
	t, ok := optString(typ)
	if !ok {
		return ChangeEvent{}, malformedChange(`"type" is not a string`)
	}
	if t == "" {
		if typ != nil && !IsNull(typ) {
			return ChangeEvent{}, malformedChange(`"type" is empty`)
		}
		if fallback == "" {
			return ChangeEvent{}, malformedChange(`missing "type"`)
		}
		c, valid := fallback.canonical()
		if !valid || c == PostgresAll {
			return ChangeEvent{}, malformedChange(`missing "type" and the event is not INSERT, UPDATE or DELETE`)
		}
		ev.Type = c
	} else if c, valid := PostgresEvent(t).canonical(); valid && c != PostgresAll {
		ev.Type = c
	} else {
		ev.Type = PostgresEvent(t)
	}
	tsStr, ok := optString(ts)
	if !ok {
		return ChangeEvent{}, malformedChange(`"commit_timestamp" is not a string`)
	}
	if tsStr != "" {
		if ev.CommitTimestamp, err = ParseTimestamp(tsStr); err != nil {
			return ChangeEvent{}, malformedChange(`invalid "commit_timestamp"`)
		}
	}
	if ev.Columns, err = parseColumns(columns); err != nil {
		return ChangeEvent{}, err
	}
	if ev.Record, err = optObject(record, "record"); err != nil {
		return ChangeEvent{}, err
	}
	if ev.OldRecord, err = optObject(oldRecord, "old_record"); err != nil {
		return ChangeEvent{}, err
	}
	if ev.Errors, err = parseErrorStrings(errs); err != nil {
		return ChangeEvent{}, err
	}
	return ev, nil
}

func malformedChange(what string) error {
	return fmt.Errorf("%w: postgres_changes: %s", ErrMalformed, what)
}

// optObject returns raw when it is an object, nil when absent or null.
func optObject(raw []byte, name string) (json.RawMessage, error) {
	if raw == nil || IsNull(raw) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, malformedChange(fmt.Sprintf("%q is not an object", name))
	}
	return raw, nil
}

// parseColumns parses [{"name":"id","type":"int8"},…]; absent or null gives
// nil.
func parseColumns(raw []byte) ([]Column, error) {
	if raw == nil || IsNull(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, malformedChange(`"columns" is not an array`)
	}
	n := 0
	_ = ArrayEach(raw, func(int, []byte) error { n++; return nil })
	cols := make([]Column, 0, n)
	err := ArrayEach(raw, func(_ int, v []byte) error {
		if v[0] != '{' {
			return malformedChange(`a column is not an object`)
		}
		var name, typ []byte
		if err := ObjectEach(v, func(key, value []byte) error {
			switch k, _ := keyName(key); string(k) {
			case "name":
				name = value
			case "type":
				typ = value
			}
			return nil
		}); err != nil {
			return err
		}
		var c Column
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
	if raw == nil || IsNull(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, malformedChange(`"errors" is not an array`)
	}
	out := []string{}
	err := ArrayEach(raw, func(_ int, v []byte) error {
		if v[0] != '"' {
			return malformedChange(`an error is not a string`)
		}
		s, err := Unquote(v)
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
