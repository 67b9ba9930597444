package messages

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/supabase-go/realtime/filter"
	"github.com/supabase-go/realtime/internal/jsonscan"
)

// Postgres changes (docs/protocol.md §7): the binding sent in phx_join, the
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

// Canonical returns the upper-case constant for e ("insert" is PostgresInsert);
// "" is PostgresAll. ok is
// false for anything else.
func (e PostgresEvent) Canonical() (PostgresEvent, bool) {
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

// PostgresChanges binds database row changes (docs/protocol.md §7.1). One
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
	// Filter is a filter string in the grammar of docs/protocol.md §7.4, e.g.
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
func (b PostgresChanges) WithFilter(f filter.Filter) PostgresChanges {
	b.Filter = f.String()
	b.filterErr = nil
	if err := f.Validate(); err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) {
			err = &OptionError{Option: "filter", Reason: fe.Reason}
		}
		b.filterErr = err
	}
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
	if _, ok := b.Event.Canonical(); !ok {
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
		var fe *filter.Error
		if errors.As(filter.CheckSyntax(f), &fe) {
			return pgOptionError("Filter", fe.Reason)
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
	e, _ := b.Event.Canonical()
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
	ev, _ := b.Event.Canonical()
	dst = append(dst, `{"event":`...)
	dst = jsonscan.AppendQuote(dst, string(ev))
	if b.Schema != "" {
		dst = append(dst, `,"schema":`...)
		dst = jsonscan.AppendQuote(dst, b.Schema)
	}
	if b.Table != "" {
		dst = append(dst, `,"table":`...)
		dst = jsonscan.AppendQuote(dst, b.Table)
	}
	if f := effectiveFilter(b.Filter); f != "" {
		dst = append(dst, `,"filter":`...)
		dst = jsonscan.AppendQuote(dst, f)
	}
	if len(b.Columns) > 0 {
		dst = append(dst, `,"select":[`...)
		for i, c := range b.Columns {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonscan.AppendQuote(dst, c)
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
// reply against b, the way realtime-js does (docs/protocol.md §3.4): "event",
// "schema", "table" and "filter" must be equal, where a missing key, null
// and "" are the same, events compare case-insensitively ("" ≡ "*"), and a
// whitespace-only filter counts as none. "id", "select" and unknown keys
// are ignored. A mismatch returns (false, nil); the error is non-nil (and
// wraps ErrMalformed) only when obj is not a JSON object or one of the four
// keys is neither a string nor null.
func (b PostgresChanges) MatchesEcho(obj []byte) (bool, error) {
	var event, schema, table, filter []byte
	err := jsonscan.ObjectEach(obj, func(key, value []byte) error {
		switch k, _ := jsonscan.KeyName(key); string(k) {
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
	mine, _ := b.Event.Canonical()
	theirs := PostgresEvent(vals[0])
	if theirs == "" {
		theirs = PostgresAll
	}
	return strings.EqualFold(string(mine), string(theirs)) &&
		b.Schema == vals[1] &&
		b.Table == vals[2] &&
		effectiveFilter(b.Filter) == effectiveFilter(vals[3]), nil
}

// Column describes one column of a changed row: its name and its Postgres
// type name (pg_type.typname: "int8", "text", "timestamptz", "jsonb"; array
// types start with "_", e.g. "_text").
type Column struct {
	Name string
	Type string
}

// ChangeEvent is a row change received on a channel (docs/protocol.md §7.2).
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
	// as "Error 413: Payload Too Large" (docs/protocol.md §7.2).
	Errors []string
	// IDs are the raw ids of the bindings this change matched (numbers or
	// strings, as echoed in the join reply); empty for legacy events.
	IDs []json.RawMessage
	// Received is when the frame was read from the socket: when the
	// socket read that completed it returned. Frames that one read
	// completed share the time.
	Received time.Time
}

// ChannelName returns the sub-topic.
func (e ChangeEvent) ChannelName() string { return e.Channel }

func (ChangeEvent) isEvent() {}

// HasID reports whether id (a raw binding id, see ParseBindingID) is among
// e.IDs, compared with SameBindingID.
func (e ChangeEvent) HasID(id []byte) bool {
	for _, x := range e.IDs {
		if jsonscan.SameBindingID(x, id) {
			return true
		}
	}
	return false
}

// optString decodes an optional JSON string member: absent (nil) or null
// give "". ok is false for any other value.
func optString(raw []byte) (string, bool) {
	if raw == nil || jsonscan.IsNull(raw) {
		return "", true
	}
	if raw[0] != '"' {
		return "", false
	}
	s, err := jsonscan.Unquote(raw)
	return s, err == nil
}
