package messages

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Typed decoding of postgres_changes records (PROTOCOL.md §7.3).

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
// The server sends typed JSON made with to_jsonb (PROTOCOL.md §7.3). The
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
	raw = trimSpace(raw)
	if len(raw) == 0 || IsNull(raw) {
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
	err := ObjectEach(raw, func(key, value []byte) error {
		nameB, _ := keyName(key)
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
	end, _, err := scanString(m, 0)
	if err != nil {
		return nil
	}
	return trimSpace(m[end+1:])
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
	v = trimSpace(v)
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

// pgCategory classifies a Postgres type name for the legacy conversions.
type pgCategory uint8

const (
	pgOther pgCategory = iota
	pgNumber
	pgBool
	pgJSON
	pgArray
)

func categoryOf(pg string) pgCategory {
	switch pg {
	case "int2", "int4", "int8", "oid", "float4", "float8", "numeric", "xid", "cid", "regproc":
		return pgNumber
	case "bool":
		return pgBool
	case "json", "jsonb":
		return pgJSON
	}
	if strings.HasPrefix(pg, "_") {
		return pgArray
	}
	return pgOther
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
		s, err := Unquote(v)
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
			if s, err := Unquote(v); err == nil {
				if b, ok := parsePGBool(s); ok {
					return boolLiteral(b), nil
				}
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		if v[0] == '"' {
			if s, err := Unquote(v); err == nil {
				if s = strings.TrimSpace(s); isJSONNumber(s) {
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
	switch categoryOf(pg) {
	case pgNumber:
		if s, err := Unquote(v); err == nil && isJSONNumber(s) {
			return []byte(s), nil
		}
	case pgBool:
		if s, err := Unquote(v); err == nil {
			if b, ok := parsePGBool(s); ok {
				return boolLiteral(b), nil
			}
		}
	case pgArray:
		if s, err := Unquote(v); err == nil {
			if arr, ok := pgArrayToJSON(s, pg[1:]); ok {
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
		s, err := Unquote(v)
		if err != nil {
			return nil, err
		}
		arr, ok := pgArrayToJSON(s, elemPG)
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
	err := ArrayEach(v, func(i int, e []byte) error {
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
	err := ObjectEach(v, func(key, value []byte) error {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(out, '"')
		out = append(out, key...)
		out = append(out, '"', ':')
		name, _ := keyName(key)
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

func isNumberStart(c byte) bool { return c == '-' || isDigit(c) }

// isJSONNumber reports whether s is exactly one JSON number.
func isJSONNumber(s string) bool {
	if s == "" || !isNumberStart(s[0]) {
		return false
	}
	end, err := scanNumber([]byte(s), 0)
	return err == nil && end == len(s)
}

// quoteRaw wraps a JSON number literal in quotes (it needs no escaping).
func quoteRaw(v []byte) []byte {
	out := make([]byte, 0, len(v)+2)
	out = append(out, '"')
	out = append(out, v...)
	return append(out, '"')
}

func boolLiteral(b bool) []byte {
	if b {
		return []byte("true")
	}
	return []byte("false")
}

// parsePGBool accepts the Postgres text forms t/f and true/false (any
// case).
func parsePGBool(s string) (bool, bool) {
	switch {
	case s == "t" || s == "T" || strings.EqualFold(s, "true"):
		return true, true
	case s == "f" || s == "F" || strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// byteaToBase64 turns a bytea hex string ("\\x0102" or "0102") into the
// base64 JSON string encoding/json expects for []byte.
func byteaToBase64(v []byte) ([]byte, error) {
	s, err := Unquote(v)
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

// maxArrayDepth bounds the nesting of Postgres array literals (Postgres
// itself allows 6 dimensions).
const maxArrayDepth = 16

// pgArrayToJSON converts a Postgres array literal ("{1,2,NULL}",
// `{{a,b},{"c,d",e}}`, optionally with a "[1:2]=" dimension prefix) into a
// JSON array; elements are converted by the category of the element type
// elemPG. ok is false on a syntax error.
func pgArrayToJSON(s, elemPG string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, '=')
		if i < 0 {
			return nil, false
		}
		s = strings.TrimSpace(s[i+1:])
	}
	p := pgArrayParser{s: s, cat: categoryOf(elemPG)}
	if p.i >= len(s) || s[0] != '{' {
		return nil, false
	}
	out, ok := p.array(make([]byte, 0, len(s)+8), 1)
	if !ok {
		return nil, false
	}
	p.skipSpace()
	if p.i != len(s) {
		return nil, false
	}
	return out, true
}

type pgArrayParser struct {
	s   string
	i   int
	cat pgCategory
}

func (p *pgArrayParser) skipSpace() {
	for p.i < len(p.s) && (isSpace(p.s[p.i]) || p.s[p.i] == '\v' || p.s[p.i] == '\f') {
		p.i++
	}
}

// array parses "{…}" at p.i.
func (p *pgArrayParser) array(dst []byte, depth int) ([]byte, bool) {
	if depth > maxArrayDepth {
		return nil, false
	}
	p.i++ // '{'
	dst = append(dst, '[')
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return append(dst, ']'), true
	}
	for n := 0; ; n++ {
		if n > 0 {
			dst = append(dst, ',')
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, false
		}
		var ok bool
		switch p.s[p.i] {
		case '{':
			dst, ok = p.array(dst, depth+1)
		case '"':
			dst, ok = p.quoted(dst)
		default:
			dst, ok = p.unquoted(dst)
		}
		if !ok {
			return nil, false
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return append(dst, ']'), true
		default:
			return nil, false
		}
	}
}

// quoted parses a double-quoted element with backslash escapes.
func (p *pgArrayParser) quoted(dst []byte) ([]byte, bool) {
	p.i++ // '"'
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.s) {
				return nil, false
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case '"':
			p.i++
			return p.element(dst, b.String(), true), true
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return nil, false
}

// unquoted parses an unquoted element up to ',' or '}'.
func (p *pgArrayParser) unquoted(dst []byte) ([]byte, bool) {
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case ',', '}':
			tok := strings.TrimRightFunc(b.String(), unicode.IsSpace)
			if tok == "" {
				return nil, false
			}
			return p.element(dst, tok, false), true
		case '{', '"':
			return nil, false
		case '\\':
			if p.i+1 >= len(p.s) {
				return nil, false
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return nil, false
}

// element appends one array element as JSON.
func (p *pgArrayParser) element(dst []byte, s string, quoted bool) []byte {
	if !quoted && strings.EqualFold(s, "NULL") {
		return append(dst, "null"...)
	}
	switch p.cat {
	case pgNumber:
		if isJSONNumber(s) {
			return append(dst, s...)
		}
	case pgBool:
		if b, ok := parsePGBool(s); ok {
			return append(dst, boolLiteral(b)...)
		}
	case pgJSON:
		if ValidJSON([]byte(s)) {
			return append(dst, strings.TrimSpace(s)...)
		}
	}
	return AppendQuote(dst, s)
}

// ---------------------------------------------------------------------
// Struct fields, resolved like encoding/json (v1) does, to know the Go
// type a record key decodes into.

type jsonField struct {
	name   string
	tagged bool
	index  []int
	typ    reflect.Type
	quoted bool // ",string" option on a scalar field
}

type fieldSet struct {
	exact  map[string]*jsonField
	folded map[string]*jsonField
}

// lookup returns the type of the field key decodes into (nil: none) and
// whether it has the ",string" option.
func (fs *fieldSet) lookup(key string) (reflect.Type, bool) {
	f := fs.exact[key]
	if f == nil {
		f = fs.folded[foldKey(key)]
	}
	if f == nil {
		return nil, false
	}
	return f.typ, f.quoted
}

func foldKey(s string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
}

var fieldCache sync.Map // reflect.Type → *fieldSet

func cachedFields(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fields := typeFields(t)
	fs := &fieldSet{exact: make(map[string]*jsonField, len(fields)), folded: make(map[string]*jsonField, len(fields))}
	for i := range fields {
		f := &fields[i]
		fs.exact[f.name] = f
		if k := foldKey(f.name); fs.folded[k] == nil {
			fs.folded[k] = f
		}
	}
	actual, _ := fieldCache.LoadOrStore(t, fs)
	return actual.(*fieldSet)
}

// typeFields mirrors encoding/json's field resolution: exported fields,
// json tag names, promotion from embedded structs breadth-first, and the
// dominance rules for duplicate names.
func typeFields(t reflect.Type) []jsonField {
	type queued struct {
		typ   reflect.Type
		index []int
	}
	var current []queued
	next := []queued{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	var fields []jsonField
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true
			for i := 0; i < f.typ.NumField(); i++ {
				sf := f.typ.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := make([]int, len(f.index)+1)
				copy(index, f.index)
				index[len(f.index)] = i
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				quoted := false
				if hasTagOption(opts, "string") {
					switch ft.Kind() {
					case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
						reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
						reflect.Float32, reflect.Float64, reflect.String:
						quoted = true
					}
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					fields = append(fields, jsonField{name: name, tagged: tagged, index: index, typ: sf.Type, quoted: quoted})
					if count[f.typ] > 1 {
						// Two embeddings of the same struct at one depth:
						// the duplicate annihilates the field below.
						fields = append(fields, fields[len(fields)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, queued{typ: ft, index: index})
				}
			}
		}
	}
	sort.Slice(fields, func(i, j int) bool {
		x := fields
		if x[i].name != x[j].name {
			return x[i].name < x[j].name
		}
		if len(x[i].index) != len(x[j].index) {
			return len(x[i].index) < len(x[j].index)
		}
		if x[i].tagged != x[j].tagged {
			return x[i].tagged
		}
		return lessIndex(x[i].index, x[j].index)
	})
	var out []jsonField
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		group := fields[i:j]
		if len(group) == 1 || len(group[0].index) != len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	sort.Slice(out, func(i, j int) bool { return lessIndex(out[i].index, out[j].index) })
	return out
}

func lessIndex(a, b []int) bool {
	for k := 0; k < len(a) && k < len(b); k++ {
		if a[k] != b[k] {
			return a[k] < b[k]
		}
	}
	return len(a) < len(b)
}

func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

func hasTagOption(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------
// Timestamps

// ParseTimestamp parses the timestamp forms found in postgres_changes and
// returns the instant in UTC:
//
//	2026-08-21T10:15:30.123456+00:00   to_jsonb(timestamptz); offsets ±hh, ±hhmm, ±hh:mm, ±hh:mm:ss
//	2026-08-21T10:15:30.123Z           commit_timestamp (RFC 3339)
//	2026-08-21T10:15:30.123456         to_jsonb(timestamp): no zone, taken as UTC
//	2026-08-21 10:15:30.123456+00      Postgres text output (legacy servers)
//	2026-08-21                         date: midnight UTC
//
// Seconds and the fraction are optional; a fraction longer than
// nanoseconds is truncated. "infinity", BC dates and instants outside the
// years 0000–9999 are rejected. Errors wrap ErrDecode and never contain
// the input.
func ParseTimestamp(s string) (time.Time, error) {
	bad := func(reason string) (time.Time, error) {
		return time.Time{}, &valueError{"invalid timestamp: " + reason}
	}
	if strings.EqualFold(s, "infinity") || strings.EqualFold(s, "-infinity") {
		return bad("infinite values are not representable")
	}
	year, ok1 := fixedDigits(s, 0, 4)
	month, ok2 := fixedDigits(s, 5, 2)
	day, ok3 := fixedDigits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return bad("expected YYYY-MM-DD")
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) {
		return bad("date out of range")
	}
	i := 10
	if i == len(s) {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), nil
	}
	if c := s[i]; c != 'T' && c != 't' && c != ' ' {
		return bad("expected T or a space after the date")
	}
	i++
	hour, ok1 := fixedDigits(s, i, 2)
	minute, ok2 := fixedDigits(s, i+3, 2)
	if !ok1 || !ok2 || s[i+2] != ':' {
		return bad("expected hh:mm")
	}
	i += 5
	sec, nsec := 0, 0
	if i < len(s) && s[i] == ':' {
		var ok bool
		if sec, ok = fixedDigits(s, i+1, 2); !ok {
			return bad("expected seconds")
		}
		i += 3
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			i++
			start := i
			for i < len(s) && isDigit(s[i]) {
				if i-start < 9 {
					nsec = nsec*10 + int(s[i]-'0')
				}
				i++
			}
			if i == start {
				return bad("empty fraction")
			}
			for k := i - start; k < 9; k++ {
				nsec *= 10
			}
		}
	}
	if hour == 24 && minute == 0 && sec == 0 && nsec == 0 {
		// 24:00:00 is the end of the day; time.Date normalises it.
	} else if hour > 23 || minute > 59 || sec > 59 {
		return bad("time out of range")
	}
	offset := 0
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			oh, ok := fixedDigits(s, i, 2)
			if !ok {
				return bad("invalid zone offset")
			}
			i += 2
			om, os := 0, 0
			switch {
			case i < len(s) && s[i] == ':':
				if om, ok = fixedDigits(s, i+1, 2); !ok {
					return bad("invalid zone offset")
				}
				i += 3
				if i < len(s) && s[i] == ':' {
					if os, ok = fixedDigits(s, i+1, 2); !ok {
						return bad("invalid zone offset")
					}
					i += 3
				}
			case i+2 <= len(s) && isDigit(s[i]):
				if om, ok = fixedDigits(s, i, 2); !ok {
					return bad("invalid zone offset")
				}
				i += 2
			}
			if oh > 23 || om > 59 || os > 59 {
				return bad("zone offset out of range")
			}
			offset = sign * (oh*3600 + om*60 + os)
		default:
			return bad("unexpected characters after the time")
		}
	}
	if i != len(s) {
		return bad("unexpected characters after the time")
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).
		Add(-time.Duration(offset) * time.Second)
	if t.Year() < 0 || t.Year() > 9999 {
		return bad("year out of range")
	}
	return t, nil
}

// fixedDigits parses s[i:i+n] as n decimal digits.
func fixedDigits(s string, i, n int) (int, bool) {
	if i < 0 || i+n > len(s) {
		return 0, false
	}
	v := 0
	for k := i; k < i+n; k++ {
		if !isDigit(s[k]) {
			return 0, false
		}
		v = v*10 + int(s[k]-'0')
	}
	return v, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ---------------------------------------------------------------------
// Numeric

// Numeric holds a Postgres numeric (or any number) exactly, as its decimal
// text: "123456789012345678901234567890.123456789", or "NaN", "Infinity",
// "-Infinity". It decodes from a JSON number (keeping the literal digits,
// never via float64) or a JSON string, and null leaves it unchanged. The
// empty Numeric means no value and encodes as null.
type Numeric string

// String returns the decimal text.
func (n Numeric) String() string { return string(n) }

// Rat returns the exact value. ok is false for "", NaN, ±Infinity and any
// text that is not a JSON-style decimal number, and for exponents beyond
// ±100000 (which no Postgres server sends; this bounds the work).
func (n Numeric) Rat() (r *big.Rat, ok bool) {
	s := string(n)
	if !isJSONNumber(s) {
		return nil, false
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp := strings.TrimLeft(s[i+1:], "+-")
		exp = strings.TrimLeft(exp, "0")
		if len(exp) > 6 || (len(exp) == 6 && exp > "100000") {
			return nil, false
		}
	}
	return new(big.Rat).SetString(s)
}

// UnmarshalJSON accepts a JSON number (stored verbatim), a JSON string
// holding a number, NaN, Infinity or -Infinity, or null (no change).
// Errors wrap ErrDecode and do not include the value.
func (n *Numeric) UnmarshalJSON(b []byte) error {
	b = trimSpace(b)
	switch {
	case len(b) == 0:
		return &valueError{"numeric: empty input"}
	case IsNull(b):
		return nil
	case b[0] == '"':
		s, err := Unquote(b)
		if err != nil {
			return &valueError{"numeric: invalid JSON string"}
		}
		if !isJSONNumber(s) && s != "NaN" && s != "Infinity" && s != "-Infinity" {
			return &valueError{"numeric: string is not a number"}
		}
		*n = Numeric(s)
		return nil
	case isJSONNumber(string(b)):
		*n = Numeric(b)
		return nil
	}
	return &valueError{"numeric: expected a JSON number or string"}
}

// MarshalJSON encodes a number as a JSON number, "" as null, and anything
// else (NaN, Infinity) as a JSON string.
func (n Numeric) MarshalJSON() ([]byte, error) {
	switch {
	case n == "":
		return []byte("null"), nil
	case isJSONNumber(string(n)):
		return []byte(n), nil
	}
	return AppendQuote(nil, string(n)), nil
}
