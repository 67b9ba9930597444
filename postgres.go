package realtime

import (
	"encoding/json"

	"github.com/supabase-go/realtime/filter"
	"github.com/supabase-go/realtime/messages"
)

// Postgres changes types.
type (
	// PostgresChanges binds row changes: Event (PostgresInsert,
	// PostgresUpdate, PostgresDelete or PostgresAll), Schema, Table and an
	// optional Filter such as "id=eq.1" (built with package filter:
	// WithFilter(filter.Eq("id", 1))). It goes into
	// the join config; the server's binding ids route the changes.
	PostgresChanges = messages.PostgresChanges
	// PostgresEvent is INSERT, UPDATE, DELETE or "*".
	PostgresEvent = messages.PostgresEvent
	// ChangeEvent is one row change: schema, table, type, commit
	// timestamp, columns, record, old record and errors.
	ChangeEvent = messages.ChangeEvent
	// Column is a changed row's column name and Postgres type name.
	Column = messages.Column
	// Numeric holds a numeric value with every digit (never a float64).
	Numeric = messages.Numeric
	// DecodeError reports a record value that does not fit its Go field.
	DecodeError = messages.DecodeError
	// Filter is a postgres_changes filter built with package filter
	// (filter.Eq, filter.In, filter.And, …).
	Filter = filter.Filter
)

// Postgres change events.
const (
	PostgresAll    = messages.PostgresAll
	PostgresInsert = messages.PostgresInsert
	PostgresUpdate = messages.PostgresUpdate
	PostgresDelete = messages.PostgresDelete
)

// DecodeRecord decodes a change's record (or old record) into T with
// Postgres-correct types: int8 stays exact in int64, numeric never passes
// through float64 (use Numeric, string or json.Number), timestamps become
// time.Time, jsonb and arrays decode into structs, maps and slices, and
// untyped numbers are json.Number.
//
//	todo, err := realtime.DecodeRecord[Todo](ev.Record, ev.Columns)
func DecodeRecord[T any](raw json.RawMessage, columns []Column) (T, error) {
	return messages.DecodeRecord[T](raw, columns)
}
