package filter

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/supabase-go/realtime/internal/jsonscan"
)

// Filter is a postgres_changes filter (docs/protocol.md §7.4) built from
// conditions, for PostgresChanges.WithFilter:
//
//	filter.Eq("id", 1).String()                        // id=eq.1
//	filter.In("status", "open", "a,b").String()         // status=in.(open,"a,b")
//	filter.And(filter.Eq("user_id", 42),
//		filter.Not(filter.In("status", "archived"))).String()
//	// user_id=eq.42,status=not.in.(archived)
//
// # Server support
//
// The classic forms — a single Eq, Neq, Lt, Lte, Gt, Gte or In condition —
// work with every server. Everything else needs a server from about
// May–June 2026 (realtime 2.10x, the release realtime-js 2.109 targets):
// Like, ILike, Is, Match, IMatch, IsDistinct, Not, and And with more than
// one condition. Older servers reply to the join with ok and then push a
// postgres_changes system error ("Error parsing `filter` params: …")
// instead of delivering changes. Extended reports whether a filter uses
// any of these.
//
// # Values
//
// Values may be a string, bool, any integer or float type (floats are
// formatted without exponent when 1e-6 ≤ |v| < 1e21, NaN and ±Inf as NaN,
// Infinity, -Infinity), json.Number, time.Time (RFC 3339 with nanoseconds,
// in UTC), a fmt.Stringer, or a type whose underlying kind is one of
// those. A value is wrapped in double quotes, with `"` and `\` escaped by
// a backslash, when it contains `,`, `(`, `)`, `"` or `\`, or starts or
// ends with white space. In values are also quoted when empty, equal to
// NULL (any case), or containing `{`, `}` or white space, because the
// server turns the list into a Postgres array literal.
//
// # Columns
//
// The server takes everything before the first `=` of a condition, trimmed,
// as the column name, and does not unquote it. A column name must
// therefore be non-empty and must not contain `=`, `,`, `(`, `)`, `"`, `\`
// or control characters, nor start or end with white space; there is no
// way to quote such names.
//
// # Errors
//
// Builder functions never fail: an invalid condition (bad column, nil or
// unsupported value, no or more than MaxInValues In values, an Is keyword
// other than null/true/false/unknown, Not of a compound or negated filter)
// produces a Filter that carries the error. Validate returns it as an
// *OptionError, String returns "" for it, combinators propagate it, and
// PostgresChanges.Validate reports it after WithFilter. The zero Filter is
// the empty filter: String is "" and Validate is nil.
type Filter struct {
	conds []filterCond
	err   error
}

// filterCond is one rendered condition: column=[not.]op.value.
type filterCond struct {
	column string
	op     string
	value  string // rendered, quoted as needed
	negate bool
}

// MaxInValues is the most values the server accepts in an In filter.
const MaxInValues = 100

// classicOps are the operators every server supports (single condition).
var classicOps = map[string]bool{"eq": true, "neq": true, "lt": true, "lte": true, "gt": true, "gte": true, "in": true}

func filterError(reason string) Filter {
	return Filter{err: &Error{Reason: reason}}
}

// String renders the filter as sent in the binding's "filter" key;
// conditions are joined by commas. It is "" for the zero Filter and for
// an invalid one.
func (f Filter) String() string {
	if f.err != nil || len(f.conds) == 0 {
		return ""
	}
	var b strings.Builder
	for i, c := range f.conds {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.column)
		b.WriteByte('=')
		if c.negate {
			b.WriteString("not.")
		}
		b.WriteString(c.op)
		b.WriteByte('.')
		b.WriteString(c.value)
	}
	return b.String()
}

// Validate returns nil for a valid filter, else an *OptionError (wrapping
// ErrInvalidOption) saying what is wrong.
func (f Filter) Validate() error { return f.err }

// Extended reports whether the filter needs a server from about May–June
// 2026: more than one condition, a negation, or an operator other than
// eq, neq, lt, lte, gt, gte and in.
func (f Filter) Extended() bool {
	if len(f.conds) > 1 {
		return true
	}
	for _, c := range f.conds {
		if c.negate || !classicOps[c.op] {
			return true
		}
	}
	return false
}

// Eq matches rows where column equals value (column=eq.value).
func Eq(column string, value any) Filter { return scalarCond(column, "eq", value) }

// Neq matches rows where column differs from value (column=neq.value).
func Neq(column string, value any) Filter { return scalarCond(column, "neq", value) }

// Lt matches rows where column < value (column=lt.value).
func Lt(column string, value any) Filter { return scalarCond(column, "lt", value) }

// Lte matches rows where column <= value (column=lte.value).
func Lte(column string, value any) Filter { return scalarCond(column, "lte", value) }

// Gt matches rows where column > value (column=gt.value).
func Gt(column string, value any) Filter { return scalarCond(column, "gt", value) }

// Gte matches rows where column >= value (column=gte.value).
func Gte(column string, value any) Filter { return scalarCond(column, "gte", value) }

// IsDistinct matches rows where column IS DISTINCT FROM value
// (column=isdistinct.value; extended).
func IsDistinct(column string, value any) Filter { return scalarCond(column, "isdistinct", value) }

// Like matches column LIKE pattern (SQL wildcards % and _; text columns
// only; extended).
func Like(column, pattern string) Filter { return scalarCond(column, "like", pattern) }

// ILike matches column ILIKE pattern (case-insensitive Like; extended).
func ILike(column, pattern string) Filter { return scalarCond(column, "ilike", pattern) }

// Match matches column ~ pattern, a POSIX regular expression that the
// server validates at subscribe time (extended).
func Match(column, pattern string) Filter { return scalarCond(column, "match", pattern) }

// IMatch matches column ~* pattern (case-insensitive Match; extended).
func IMatch(column, pattern string) Filter { return scalarCond(column, "imatch", pattern) }

// Is matches column IS keyword, where keyword is "null", "true", "false"
// or "unknown" (any case; sent in lower case). The last three need a
// boolean column. Extended.
func Is(column, keyword string) Filter {
	if err := checkColumn(column); err != nil {
		return Filter{err: err}
	}
	k := strings.ToLower(keyword)
	switch k {
	case "null", "true", "false", "unknown":
	default:
		return filterError(`Is needs "null", "true", "false" or "unknown"`)
	}
	return Filter{conds: []filterCond{{column: column, op: "is", value: k}}}
}

// In matches rows where column is one of values (column=in.(a,b,…)).
// It needs 1 to MaxInValues values.
func In(column string, values ...any) Filter {
	if err := checkColumn(column); err != nil {
		return Filter{err: err}
	}
	if len(values) == 0 {
		return filterError("In needs at least one value")
	}
	if len(values) > MaxInValues {
		return filterError(fmt.Sprintf("In accepts at most %d values, got %d", MaxInValues, len(values)))
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range values {
		s, err := formatFilterValue(v)
		if err != nil {
			return Filter{err: err}
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if needsInQuote(s) {
			writeQuoted(&b, s)
		} else {
			b.WriteString(s)
		}
	}
	b.WriteByte(')')
	return Filter{conds: []filterCond{{column: column, op: "in", value: b.String()}}}
}

// Not negates a single-condition filter: Not(Eq("a", 1)) is a=not.eq.1.
// It is an error to negate the zero Filter, an And of several conditions
// or an already negated condition. Extended.
func Not(f Filter) Filter {
	if f.err != nil {
		return f
	}
	switch {
	case len(f.conds) == 0:
		return filterError("Not needs a condition")
	case len(f.conds) > 1:
		return filterError("Not cannot negate several conditions (the server has no OR)")
	case f.conds[0].negate:
		return filterError("Not cannot negate a negated condition")
	}
	c := f.conds[0]
	c.negate = true
	return Filter{conds: []filterCond{c}}
}

// And combines conditions: the row must satisfy all of them. They are
// joined by commas in order; nested Ands are flattened and zero Filters
// skipped. The first invalid argument's error is kept. And of one
// condition is that condition; of several, an extended filter.
func And(filters ...Filter) Filter {
	var out Filter
	for _, f := range filters {
		if f.err != nil {
			return f
		}
		out.conds = append(out.conds, f.conds...)
	}
	return out
}

func scalarCond(column, op string, value any) Filter {
	if err := checkColumn(column); err != nil {
		return Filter{err: err}
	}
	s, err := formatFilterValue(value)
	if err != nil {
		return Filter{err: err}
	}
	if needsScalarQuote(s) {
		var b strings.Builder
		writeQuoted(&b, s)
		s = b.String()
	}
	return Filter{conds: []filterCond{{column: column, op: op, value: s}}}
}

// checkColumn enforces the column name rules of the Filter documentation.
func checkColumn(c string) error {
	if c == "" {
		return &Error{Reason: "column name must not be empty"}
	}
	r, _ := utf8.DecodeRuneInString(c)
	l, _ := utf8.DecodeLastRuneInString(c)
	if unicode.IsSpace(r) || unicode.IsSpace(l) {
		return &Error{Reason: "column name must not start or end with white space"}
	}
	for _, r := range c {
		switch {
		case r == '=' || r == ',' || r == '(' || r == ')' || r == '"' || r == '\\':
			return &Error{Reason: "column name must not contain = , ( ) \" or \\"}
		case unicode.IsControl(r) || r == utf8.RuneError:
			return &Error{Reason: "column name must not contain control characters or invalid UTF-8"}
		}
	}
	return nil
}

// needsScalarQuote: , ( ) " \ anywhere, or white space at either end.
func needsScalarQuote(s string) bool {
	if strings.ContainsAny(s, `,()"\`) {
		return true
	}
	if s == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	l, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsSpace(r) || unicode.IsSpace(l)
}

// needsInQuote: the scalar rules plus what a Postgres array literal
// element needs: empty, NULL, braces, any white space.
func needsInQuote(s string) bool {
	if s == "" || strings.EqualFold(s, "null") || strings.ContainsAny(s, `,()"\{}`) {
		return true
	}
	return strings.IndexFunc(s, unicode.IsSpace) >= 0
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// formatFilterValue renders a filter value (unquoted).
func formatFilterValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", &Error{Reason: `value must not be nil (use Is(column, "null"))`}
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.FormatInt(int64(x), 10), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case uintptr:
		return strconv.FormatUint(uint64(x), 10), nil
	case float32:
		return formatFloat(float64(x), 32), nil
	case float64:
		return formatFloat(x, 64), nil
	case json.Number:
		if !jsonscan.IsJSONNumber(string(x)) {
			return "", &Error{Reason: "json.Number value is not a valid number"}
		}
		return string(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	// Named types: use the underlying kind.
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32:
		return formatFloat(rv.Float(), 32), nil
	case reflect.Float64:
		return formatFloat(rv.Float(), 64), nil
	}
	return "", &Error{Reason: fmt.Sprintf("unsupported value type %T", v)}
}

// formatFloat formats without exponent for 1e-6 ≤ |f| < 1e21 (and 0), and
// uses Postgres spellings for NaN and infinities.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(f, 'f', -1, bits)
	}
	return strconv.FormatFloat(f, 'e', -1, bits)
}

// checkFilterSyntax checks a raw filter string the way the server's parse
// stage does, without judging operator names beyond their shape: it
// returns "" when the string splits (on commas outside double quotes and
// parentheses) into non-empty column=op.value segments, op optionally
// prefixed by "not.", with an `in` value wrapped in parentheses.
func checkFilterSyntax(s string) string {
	depth, quoted, start := 0, false, 0
	check := func(seg string) string {
		seg = strings.TrimSpace(seg)
		if seg == "" {
			return "filter must not contain empty segments (check for extra commas)"
		}
		col, rest, ok := strings.Cut(seg, "=")
		if !ok || strings.TrimSpace(col) == "" {
			return "each filter condition must look like column=op.value"
		}
		rest = strings.TrimPrefix(rest, "not.")
		op, value, ok := strings.Cut(rest, ".")
		if !ok || op == "" || strings.IndexFunc(op, func(r rune) bool { return !('a' <= r && r <= 'z' || r == '_') }) >= 0 {
			return "each filter condition must look like column=op.value"
		}
		if op == "in" && (len(value) < 2 || value[0] != '(' || value[len(value)-1] != ')') {
			return "`in` filter value must be wrapped by parentheses"
		}
		return ""
	}
	// As the server splits: a double quote opens a quoted value only right
	// after '.', '(' or ',' (elsewhere it is an ordinary character), and a
	// backslash inside one escapes the next byte.
	var prev byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\':
			i++ // escaped character inside quotes
		case quoted && c == '"':
			quoted = false
		case quoted:
		case c == '"' && (prev == '.' || prev == '(' || prev == ','):
			quoted = true
		case c == '(':
			depth++
		case c == ')':
			depth = max(0, depth-1)
		case c == ',' && depth == 0:
			if r := check(s[start:i]); r != "" {
				return r
			}
			start = i + 1
			c = 0
		}
		prev = c
	}
	return check(s[start:])
}

// CheckSyntax reports whether s, a filter written by hand, has the shape the
// server's filter parser accepts (column=op.value segments separated by
// commas, op optionally prefixed by "not.", in values in parentheses). It
// returns nil or an *Error saying what is wrong. Filters built with this
// package always pass.
func CheckSyntax(s string) error {
	if reason := checkFilterSyntax(s); reason != "" {
		return &Error{Reason: reason}
	}
	return nil
}
