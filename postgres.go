package realtime

import (
	"encoding/json"

	"github.com/supabase-go/realtime/messages"
)

// Postgres changes types.
type (
	// PostgresChanges binds row changes: Event (PostgresInsert,
	// PostgresUpdate, PostgresDelete or PostgresAll), Schema, Table and an
	// optional Filter such as "id=eq.1" (see Eq and friends). It goes into
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
	// Filter is a postgres_changes filter built with Eq, In, And, …
	Filter = messages.Filter
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

// Filters supported by every Realtime server: one condition per binding.

// Eq is column=eq.value.
func Eq(column string, value any) Filter { return messages.Eq(column, value) }

// Neq is column=neq.value.
func Neq(column string, value any) Filter { return messages.Neq(column, value) }

// Lt is column=lt.value.
func Lt(column string, value any) Filter { return messages.Lt(column, value) }

// Lte is column=lte.value.
func Lte(column string, value any) Filter { return messages.Lte(column, value) }

// Gt is column=gt.value.
func Gt(column string, value any) Filter { return messages.Gt(column, value) }

// Gte is column=gte.value.
func Gte(column string, value any) Filter { return messages.Gte(column, value) }

// In is column=in.(a,b,c), at most 100 values.
func In(column string, values ...any) Filter { return messages.In(column, values...) }

// Extended filters: like, ilike, match, imatch, is, isdistinct, not. and
// several conditions joined with And were added to the Realtime server
// around May–June 2026. Older servers (self-hosted or the CLI stack)
// answer them with a "Error parsing `filter` params" system message; use
// them only against a server you know is recent.

// Like is column=like.pattern (extended).
func Like(column, pattern string) Filter { return messages.Like(column, pattern) }

// ILike is column=ilike.pattern (extended).
func ILike(column, pattern string) Filter { return messages.ILike(column, pattern) }

// Match is column=match.regex (extended).
func Match(column, pattern string) Filter { return messages.Match(column, pattern) }

// IMatch is column=imatch.regex (extended).
func IMatch(column, pattern string) Filter { return messages.IMatch(column, pattern) }

// Is is column=is.keyword with keyword null, true, false or unknown
// (extended).
func Is(column, keyword string) Filter { return messages.Is(column, keyword) }

// IsDistinct is column=isdistinct.value (extended).
func IsDistinct(column string, value any) Filter { return messages.IsDistinct(column, value) }

// Not negates a filter: column=not.op.value (extended).
func Not(f Filter) Filter { return messages.Not(f) }

// And joins conditions with commas (extended).
func And(filters ...Filter) Filter { return messages.And(filters...) }
