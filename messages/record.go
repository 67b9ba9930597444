package messages

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/internal/pgtext"
)

// Typed decoding of postgres_changes records (docs/protocol.md §7.3).

var (
	// ErrDecode: a record (or a Numeric, or a timestamp) could not be
	// decoded into the requested Go value. See *DecodeError.
	ErrDecode = errors.New("realtime: cannot decode record")
	// ErrNoRecord: the change event has no such record (e.g. Record of a
	// DELETE, OldRecord of an INSERT), or the raw record is nil or null.
	ErrNoRecord = errors.New("realtime: change event has no record")
)

// DecodeError reports a record value that could not be decoded. Its
// message names the column, the JSON kind of the value and the Go type,
// but never the value itself (records may carry secrets).
type DecodeError struct {
	// Column is the record key ("" when the failure is not tied to one).
	Column string
	// JSONKind is the kind of the offending JSON value: "string",
	// "number", "bool", "array", "object" or "null" ("" if unknown).
	JSONKind string
	// GoType is the target type ("" if unknown).
	GoType string
	// Reason is an optional fixed explanation, e.g. "invalid timestamp:
	// month out of range".
	Reason string
	// Err is the underlying error, for errors.Is / errors.As. Its text may
	// include the value and is deliberately not part of Error.
	Err error
}

// Error describes the failure by column, JSON kind and Go type, without
// the value.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("realtime: cannot decode record")
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %q", e.Column)
	}
	if e.JSONKind != "" || e.GoType != "" {
		b.WriteString(": ")
		if e.JSONKind != "" {
			b.WriteString("JSON ")
			b.WriteString(e.JSONKind)
		} else {
			b.WriteString("value")
		}
		if e.GoType != "" {
			b.WriteString(" into ")
			b.WriteString(e.GoType)
		}
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns ErrDecode and, when set, the underlying error.
func (e *DecodeError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDecode}
	}
	return []error{ErrDecode, e.Err}
}

// valueError is a conversion failure whose text never includes the value.
type valueError struct{ reason string }

func (e *valueError) Error() string { return "realtime: " + e.reason }
func (e *valueError) Unwrap() error { return ErrDecode }

// DecodeRecord decodes a record or old_record of a ChangeEvent (a raw JSON
// object) into a new T, typically a struct with json tags, a
// map[string]any or any. columns is the event's column metadata (may be
// nil: it only refines the rules below).
//
// The server sends typed JSON made with to_jsonb (docs/protocol.md §7.3). The
// record is decoded with encoding/json and json.Decoder.UseNumber, after a
// pass that adjusts values to the target field types. What maps to what:
//
//   - int2/int4/int8/oid → any integer or float field (exact: int8
//     9223372036854775807 fits int64/uint64), json.Number, Numeric,
//     string (the exact digits), or any (json.Number).
//   - numeric/float4/float8 → Numeric, json.Number or string keep the
//     exact digits, never passing through float64; *big.Rat, *big.Float
//     and other encoding.TextUnmarshaler types get the digits as text;
//     float64 fields get the nearest float. NaN and ±Infinity arrive as
//     strings and fit string, Numeric or any only.
//   - bool → bool; text/varchar/uuid/bpchar and other textual types →
//     string.
//   - timestamptz/timestamp/date → time.Time (or *time.Time), in UTC:
//     every form ParseTimestamp accepts, including to_jsonb
//     "2026-08-21T10:15:30.123456+00:00", a timestamp without zone (taken
//     as UTC), a date "2026-08-21" (midnight UTC) and the legacy
//     "2026-08-21 10:15:30+00". A string field keeps the text as sent.
//     time/timetz/interval are strings.
//   - json/jsonb → nested structs, maps, slices, json.RawMessage (the raw
//     JSON) or any. A JSON string inside stays a string: it is never
//     parsed again (unlike realtime-js, which parses jsonb strings).
//   - arrays (_int4, _text, …) → slices or arrays, each element by the
//     rules of its base type; multi-dimensional arrays → nested slices.
//   - bytea → string (the text as sent: hex, e.g. "0102030405" or
//     "\\x0102"), or []byte, decoded from that hex text when columns say
//     the column is bytea.
//   - null → the zero value, a nil pointer, slice or map.
//
// The pass applies to the whole target, nested jsonb structs included,
// and only turns values that encoding/json would reject into ones it
// accepts: a JSON number into a string field becomes its digits, a string
// holding a valid number into a numeric field becomes that number,
// "t"/"f"/"true"/"false" strings into bool fields become booleans, a
// timestamp string into time.Time is parsed tolerantly. Legacy servers
// sent Postgres text for every value; with columns, such strings also
// become typed for any/map[string]any targets: "123" in an int8 column
// becomes json.Number("123"), "t" in a bool column true, and an array
// literal such as "{1,2,NULL}" or `{a,"b,c"}` in an _-typed column a JSON
// array. Fields with the ",string" tag option are left to encoding/json.
// Keys with no matching struct field are ignored, as encoding/json does.
//
// T may also be json.RawMessage or a json.Unmarshaler, which receive the
// record unchanged. A nil or null raw returns ErrNoRecord. Other failures
// return a *DecodeError naming the column (never the value); the first
// failing column is reported.
func DecodeRecord[T any](raw json.RawMessage, columns []Column) (T, error) {
	var v T
	if err := decodeRecord(raw, columns, &v); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// DecodeRecord decodes e.Record into v, a non-nil pointer, by the rules of
// the generic DecodeRecord function. It returns ErrNoRecord when the event
// has no record (DELETE). On error v may be partly filled.
func (e ChangeEvent) DecodeRecord(v any) error { return decodeRecord(e.Record, e.Columns, v) }

// DecodeOldRecord decodes e.OldRecord into v like DecodeRecord. It returns
// ErrNoRecord when the event has no old record (INSERT). The old record of
// an UPDATE or DELETE carries only the replica identity columns (the
// primary key by default) unless the table has REPLICA IDENTITY FULL.
func (e ChangeEvent) DecodeOldRecord(v any) error {
	return decodeRecord(e.OldRecord, e.Columns, v)
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	numberType          = reflect.TypeFor[json.Number]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// implements reports whether t or *t implements iface.
func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface))
}

// maxDeref bounds pointer indirections (type P *P is legal Go).
const maxDeref = 32

func derefType(t reflect.Type) reflect.Type {
	for n := 0; t.Kind() == reflect.Pointer && n < maxDeref; n++ {
		t = t.Elem()
	}
	return t
}

func isUntyped(t reflect.Type) bool {
	return t.Kind() == reflect.Interface && t.NumMethod() == 0
}

// member is the position of one `"key":value` member in the rewritten
// record.
type member struct {
	column     string
	start, end int
	typ        reflect.Type
}

func decodeRecord(raw []byte, columns []Column, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &DecodeError{GoType: fmt.Sprintf("%T", v), Reason: "target must be a non-nil pointer"}
	}
	raw = jsonscan.TrimSpace(raw)
	if len(raw) == 0 || jsonscan.IsNull(raw) {
		return ErrNoRecord
	}
	t := rv.Type().Elem()
	base := derefType(t)
	if implements(base, unmarshalerType) || implements(base, textUnmarshalerType) ||
		(base.Kind() != reflect.Struct && base.Kind() != reflect.Map && !isUntyped(base)) {
		if err := unmarshalNumber(raw, v); err != nil {
			return sanitize("", jsonKind(raw), t, err)
		}
		return nil
	}
	if raw[0] != '{' {
		return &DecodeError{JSONKind: jsonKind(raw), GoType: t.String(), Reason: "a record must be a JSON object"}
	}
	var lookup func(string) (reflect.Type, bool)
	switch base.Kind() {
	case reflect.Struct:
		lookup = cachedFields(base).lookup
	case reflect.Map:
		elem := base.Elem()
		lookup = func(string) (reflect.Type, bool) { return elem, false }
	default:
		lookup = func(string) (reflect.Type, bool) { return base, false }
	}
	cols := newColumnTypes(columns)
	buf := make([]byte, 0, len(raw)+len(raw)/4+2)
	buf = append(buf, '{')
	var members []member
	err := jsonscan.ObjectEach(raw, func(key, value []byte) error {
		nameB, _ := jsonscan.KeyName(key)
		name := string(nameB)
		ft, quoted := lookup(name)
		cv := value
		if ft != nil && !quoted {
			var err error
			if cv, err = coerce(value, ft, cols.get(name)); err != nil {
				return sanitize(name, jsonKind(value), ft, err)
			}
		}
		if len(members) > 0 {
			buf = append(buf, ',')
		}
		start := len(buf)
		buf = append(buf, '"')
		buf = append(buf, key...)
		buf = append(buf, '"', ':')
		buf = append(buf, cv...)
		members = append(members, member{column: name, start: start, end: len(buf), typ: ft})
		return nil
	})
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			return err
		}
		return &DecodeError{Reason: "malformed record JSON", Err: err}
	}
	buf = append(buf, '}')
	if err := unmarshalNumber(buf, v); err != nil {
		return locate(buf, members, t, err)
	}
	return nil
}

// unmarshalNumber decodes data into v with UseNumber.
func unmarshalNumber(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// locate finds the first member whose decoding fails on its own and
// reports it; err is the error of the whole decode.
func locate(buf []byte, members []member, t reflect.Type, err error) error {
	one := make([]byte, 0, 64)
	for _, m := range members {
		one = append(one[:0], '{')
		one = append(one, buf[m.start:m.end]...)
		one = append(one, '}')
		if e := unmarshalNumber(one, reflect.New(t).Interface()); e != nil {
			return sanitize(m.column, jsonKind(valueAfterKey(buf[m.start:m.end])), m.typ, e)
		}
	}
	return sanitize("", "", t, err)
}

// valueAfterKey returns the value of a `"key":value` member (the key is a
// JSON string, so the first ':' after its closing quote ends it).
func valueAfterKey(m []byte) []byte {
	end, _, err := jsonscan.ScanString(m, 0)
	if err != nil {
		return nil
	}
	return jsonscan.TrimSpace(m[end+1:])
}

// sanitize turns a decoding error into a *DecodeError without values.
func sanitize(column, kind string, t reflect.Type, err error) *DecodeError {
	var de *DecodeError
	if errors.As(err, &de) {
		return de
	}
	de = &DecodeError{Column: column, JSONKind: kind, Err: err}
	if t != nil {
		de.GoType = t.String()
	}
	var ute *json.UnmarshalTypeError
	var ve *valueError
	switch {
	case errors.As(err, &ute):
		k, detail, _ := strings.Cut(ute.Value, " ")
		de.JSONKind = k
		if detail != "" {
			de.Reason = "out of range or not an integer"
		}
		if ute.Type != nil {
			de.GoType = ute.Type.String()
		}
	case errors.As(err, &ve):
		de.Reason = ve.reason
	default:
		de.Reason = "the target type rejected the value"
	}
	return de
}

// jsonKind names the kind of a validated JSON value.
func jsonKind(v []byte) string {
	v = jsonscan.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	switch c := v[0]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	default:
		return "number"
	}
}

// columnTypes maps record keys to Postgres type names.
type columnTypes struct {
	cols []Column
	m    map[string]string
}

func newColumnTypes(cols []Column) columnTypes {
	ct := columnTypes{cols: cols}
	if len(cols) > 16 {
		ct.m = make(map[string]string, len(cols))
		for _, c := range cols {
			if _, dup := ct.m[c.Name]; !dup {
				ct.m[c.Name] = c.Type
			}
		}
	}
	return ct
}

func (ct columnTypes) get(name string) string {
	if ct.m != nil {
		return ct.m[name]
	}
	for _, c := range ct.cols {
		if c.Name == name {
			return c.Type
		}
	}
	return ""
}

// coerce rewrites the JSON value v for the Go type t; pg is the Postgres
// type of the value when known. It returns v itself when nothing changes.
func coerce(v []byte, t reflect.Type, pg string) ([]byte, error) {
	if len(v) == 0 || v[0] == 'n' {
		return v, nil // null: zero value / nil
	}
	t = derefType(t)
	if t == timeType {
		if v[0] != '"' {
			return v, nil
		}
		s, err := jsonscan.Unquote(v)
		if err != nil {
			return nil, err
		}
		tm, err := ParseTimestamp(s)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, 40)
		out = append(out, '"')
		out = tm.AppendFormat(out, time.RFC3339Nano)
		return append(out, '"'), nil
	}
	if implements(t, unmarshalerType) {
		return v, nil
	}
	if implements(t, textUnmarshalerType) {
		if isNumberStart(v[0]) {
			return quoteRaw(v), nil
		}
		return v, nil
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return coerceUntyped(v, pg)
		}
	case reflect.String:
		if t != numberType && isNumberStart(v[0]) {
			return quoteRaw(v), nil
		}
	case reflect.Bool:
		if v[0] == '"' {
			if s, err := jsonscan.Unquote(v); err == nil {
				if b, ok := pgtext.ParseBool(s); ok {
					return pgtext.BoolLiteral(b), nil
				}
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		if v[0] == '"' {
			if s, err := jsonscan.Unquote(v); err == nil {
				if s = strings.TrimSpace(s); jsonscan.IsJSONNumber(s) {
					return []byte(s), nil
				}
			}
		}
	case reflect.Slice, reflect.Array:
		return coerceArray(v, t, pg)
	case reflect.Map:
		if v[0] == '{' {
			elem := t.Elem()
			return coerceMembers(v, func(string) (reflect.Type, bool) { return elem, false })
		}
	case reflect.Struct:
		if v[0] == '{' {
			return coerceMembers(v, cachedFields(t).lookup)
		}
	}
	return v, nil
}

// coerceUntyped applies the column-driven legacy conversions for any.
func coerceUntyped(v []byte, pg string) ([]byte, error) {
	if v[0] != '"' {
		return v, nil
	}
	switch pgtext.CategoryOf(pg) {
	case pgtext.Number:
		if s, err := jsonscan.Unquote(v); err == nil && jsonscan.IsJSONNumber(s) {
			return []byte(s), nil
		}
	case pgtext.Bool:
		if s, err := jsonscan.Unquote(v); err == nil {
			if b, ok := pgtext.ParseBool(s); ok {
				return pgtext.BoolLiteral(b), nil
			}
		}
	case pgtext.Array:
		if s, err := jsonscan.Unquote(v); err == nil {
			if arr, ok := pgtext.ArrayToJSON(s, pg[1:]); ok {
				return arr, nil
			}
		}
	}
	return v, nil
}

// coerceArray handles slice and array targets.
func coerceArray(v []byte, t reflect.Type, pg string) ([]byte, error) {
	elemPG := strings.TrimPrefix(pg, "_")
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 &&
		!implements(t.Elem(), unmarshalerType) && !implements(t.Elem(), textUnmarshalerType) {
		// []byte: base64 for encoding/json; hex text for bytea.
		if pg == "bytea" && v[0] == '"' {
			return byteaToBase64(v)
		}
		return v, nil
	}
	if v[0] == '"' && strings.HasPrefix(pg, "_") {
		s, err := jsonscan.Unquote(v)
		if err != nil {
			return nil, err
		}
		arr, ok := pgtext.ArrayToJSON(s, elemPG)
		if !ok {
			return v, nil // encoding/json reports the mismatch
		}
		v = arr
	}
	if v[0] != '[' {
		return v, nil
	}
	elem := t.Elem()
	out := make([]byte, 0, len(v)+8)
	out = append(out, '[')
	err := jsonscan.ArrayEach(v, func(i int, e []byte) error {
		ce, err := coerce(e, elem, elemPG)
		if err != nil {
			return err
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, ce...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return append(out, ']'), nil
}

// coerceMembers rewrites the members of the object v for the field types
// lookup returns (nil: leave the value alone).
func coerceMembers(v []byte, lookup func(string) (reflect.Type, bool)) ([]byte, error) {
	out := make([]byte, 0, len(v)+8)
	out = append(out, '{')
	n := 0
	err := jsonscan.ObjectEach(v, func(key, value []byte) error {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(out, '"')
		out = append(out, key...)
		out = append(out, '"', ':')
		name, _ := jsonscan.KeyName(key)
		ft, quoted := lookup(string(name))
		if ft == nil || quoted {
			out = append(out, value...)
			return nil
		}
		cv, err := coerce(value, ft, "")
		if err != nil {
			return err
		}
		out = append(out, cv...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return append(out, '}'), nil
}

func isNumberStart(c byte) bool { return c == '-' || jsonscan.IsDigit(c) }

// quoteRaw wraps a JSON number literal in quotes (it needs no escaping).
func quoteRaw(v []byte) []byte {
	out := make([]byte, 0, len(v)+2)
	out = append(out, '"')
	out = append(out, v...)
	return append(out, '"')
}

// byteaToBase64 turns a bytea hex string ("\\x0102" or "0102") into the
// base64 JSON string encoding/json expects for []byte.
func byteaToBase64(v []byte) ([]byte, error) {
	s, err := jsonscan.Unquote(v)
	if err != nil {
		return nil, err
	}
	s = strings.TrimPrefix(s, `\x`)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, &valueError{"bytea value is not hex"}
	}
	out := make([]byte, 0, base64.StdEncoding.EncodedLen(len(b))+2)
	out = append(out, '"')
	out = base64.StdEncoding.AppendEncode(out, b)
	return append(out, '"'), nil
}
