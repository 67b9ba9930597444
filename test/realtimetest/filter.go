package realtimetest

import (
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Filter grammar (§7.4): "col=op.value" or "col=not.op.value", several
// conditions joined by "," (AND). Splitting happens on commas outside
// parentheses and double quotes.

// filterOps are the operators the server accepts.
var filterOps = []string{"eq", "neq", "lt", "lte", "gt", "gte", "in", "like", "ilike", "is", "match", "imatch", "isdistinct"}

// maxInValues is the largest number of values of an `in` filter.
const maxInValues = 100

// pgFilter is one parsed filter condition, as the server stores it: for
// `in` the value is the array literal "{a,b}".
type pgFilter struct {
	column string
	op     string
	value  string
	negate bool
}

// inspect renders the filter as the Elixir tuple the server logs:
// {"id", "eq", "1", false}.
func (f pgFilter) inspect() string {
	neg := "false"
	if f.negate {
		neg = "true"
	}
	return "{" + inspectString(f.column) + ", " + inspectString(f.op) + ", " + inspectString(f.value) + ", " + neg + "}"
}

func inspectFilters(fs []pgFilter) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.inspect()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// parseFilters parses a filter string. The error text is what follows
// "Error parsing `filter` params: " in the server's message.
func parseFilters(filter string) ([]pgFilter, string) {
	trimmed := strings.TrimSpace(filter)
	if trimmed == "" {
		return nil, ""
	}
	var out []pgFilter
	for _, seg := range splitTopLevel(trimmed) {
		f, errText := parseFilterSegment(seg)
		if errText != "" {
			return nil, errText
		}
		out = append(out, f)
	}
	return out, ""
}

// splitTopLevel splits on commas that are outside parentheses and outside
// double-quoted values. A quote opens a quoted value only right after '.',
// '(' or ','; inside one, a backslash escapes the next byte.
func splitTopLevel(s string) []string {
	var (
		out    []string
		cur    strings.Builder
		depth  int
		quoted bool
		prev   byte
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quoted {
			switch {
			case c == '\\' && i+1 < len(s):
				cur.WriteByte(c)
				cur.WriteByte(s[i+1])
				prev = s[i+1]
				i++
			case c == '"':
				quoted = false
				prev = c
				cur.WriteByte(c)
			default:
				prev = c
				cur.WriteByte(c)
			}
			continue
		}
		switch {
		case c == '"' && (prev == '.' || prev == '(' || prev == ','):
			quoted = true
			prev = c
			cur.WriteByte(c)
		case c == '(':
			depth++
			prev = c
			cur.WriteByte(c)
		case c == ')':
			depth = max(0, depth-1)
			prev = c
			cur.WriteByte(c)
		case c == ',' && depth == 0:
			out = append(out, cur.String())
			cur.Reset()
			prev = 0
		default:
			prev = c
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

func parseFilterSegment(seg string) (pgFilter, string) {
	trimmed := strings.TrimSpace(seg)
	if trimmed == "" {
		return pgFilter{}, "filter must not contain empty segments (check for extra commas)"
	}
	colRest := strings.SplitN(trimmed, "=", 2)
	if len(colRest) != 2 {
		return pgFilter{}, inspectStrings(colRest)
	}
	col, rest := colRest[0], colRest[1]
	negate := false
	if r, ok := strings.CutPrefix(rest, "not."); ok {
		negate, rest = true, r
	}
	opValue := strings.SplitN(rest, ".", 2)
	if len(opValue) != 2 {
		return pgFilter{}, inspectStrings(opValue)
	}
	op, value := opValue[0], opValue[1]
	if !slices.Contains(filterOps, op) {
		return pgFilter{}, inspectStrings(opValue)
	}
	if op == "in" {
		if len(value) < 2 || value[0] != '(' || value[len(value)-1] != ')' {
			return pgFilter{}, "`in` filter value must be wrapped by parentheses"
		}
		value = "{" + value[1:len(value)-1] + "}"
	} else {
		value = unquoteFilterValue(value)
	}
	return pgFilter{column: col, op: op, value: value, negate: negate}, ""
}

// unquoteFilterValue strips PostgREST-style double quotes ("a\"b" → a"b);
// a value that is not exactly one quoted string stays as it is.
func unquoteFilterValue(v string) string {
	if !strings.HasPrefix(v, `"`) {
		return v
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			if i == len(v)-1 {
				return b.String()
			}
			return v
		case c == '\\' && i+1 < len(v):
			b.WriteByte(v[i+1])
			i++
		default:
			b.WriteByte(c)
		}
	}
	return v
}

// pgCond is a filter compiled against one table: the column type is known
// and the value was cast by PostgreSQL to its canonical text.
type pgCond struct {
	column string
	op     string
	negate bool
	typ    *pgType
	value  string   // canonical text (eq … gte, isdistinct), keyword (is)
	values []string // canonical texts of an `in` list
	inNull bool     // the `in` list holds a NULL
	re     *regexp.Regexp
}

// pgCell is one column value of a row: absent (not in the WAL tuple),
// NULL, or text.
type pgCell struct {
	present bool
	null    bool
	text    string
}

// holds evaluates the condition against a row (§7.4): a column absent from
// the row, or a NULL comparison, makes the condition false.
func (c *pgCond) holds(get func(column string) pgCell) bool {
	v := get(c.column)
	if !v.present {
		return false
	}
	var res, known bool
	switch c.op {
	case "is":
		known = true
		switch c.value {
		case "null", "unknown":
			res = v.null
		case "true":
			res = !v.null && isTrue(v.text)
		case "false":
			res = !v.null && !isTrue(v.text)
		}
	case "isdistinct":
		known = true
		res = v.null || compareValues(c.typ, v.text, c.value) != 0
	default:
		if v.null {
			return false
		}
		known = true
		switch c.op {
		case "eq":
			res = compareValues(c.typ, v.text, c.value) == 0
		case "neq":
			res = compareValues(c.typ, v.text, c.value) != 0
		case "lt":
			res = compareValues(c.typ, v.text, c.value) < 0
		case "lte":
			res = compareValues(c.typ, v.text, c.value) <= 0
		case "gt":
			res = compareValues(c.typ, v.text, c.value) > 0
		case "gte":
			res = compareValues(c.typ, v.text, c.value) >= 0
		case "in":
			for _, e := range c.values {
				if compareValues(c.typ, v.text, e) == 0 {
					res = true
					break
				}
			}
			if !res && c.inNull {
				known = false // x = ANY('{…,NULL}') is NULL when nothing matched
			}
		case "like", "ilike", "match", "imatch":
			res = c.re != nil && c.re.MatchString(v.text)
		}
	}
	if !known {
		return false
	}
	if c.negate {
		return !res
	}
	return res
}

func isTrue(s string) bool { return s == "t" || s == "true" }

// likeRegexp translates a LIKE pattern ('%', '_', '\' escapes).
func likeRegexp(pattern string, insensitive bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)")
	if insensitive {
		b.WriteString("(?i)")
	}
	b.WriteByte('^')
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteByte('.')
		case '\\':
			if i+1 < len(rs) {
				i++
				b.WriteString(regexp.QuoteMeta(string(rs[i])))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteByte('$')
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil
	}
	return re
}

// posixRegexp compiles a POSIX regular expression with Go's engine (close
// enough for the patterns tests use); nil when Go cannot compile it.
func posixRegexp(pattern string, insensitive bool) *regexp.Regexp {
	if insensitive {
		pattern = "(?i)" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil
	}
	return re
}

// compareValues compares two canonical text values of type t the way the
// type's ordering does: numbers numerically (NaN above +Infinity above
// everything), booleans false < true, dates and times chronologically,
// everything else bytewise (the test cluster uses the C collation).
func compareValues(t *pgType, a, b string) int {
	if a == b {
		return 0
	}
	name := ""
	if t != nil {
		name = t.baseName()
	}
	switch {
	case numericTypes[name]:
		if c, ok := compareNumbers(a, b); ok {
			return c
		}
	case name == "bool":
		return compareInts(boolRank(a), boolRank(b))
	case name == "timestamptz", name == "timestamp", name == "date", name == "time", name == "timetz":
		if c, ok := compareTimes(a, b); ok {
			return c
		}
	}
	return strings.Compare(a, b)
}

func boolRank(s string) int {
	if isTrue(s) {
		return 1
	}
	return 0
}

func compareInts(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// numRank orders the special values: -Infinity < finite < Infinity < NaN.
func numRank(s string) (int, *big.Rat, bool) {
	switch strings.ToLower(s) {
	case "nan":
		return 3, nil, true
	case "infinity", "inf", "+infinity":
		return 2, nil, true
	case "-infinity", "-inf":
		return 0, nil, true
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, nil, false
	}
	return 1, r, true
}

func compareNumbers(a, b string) (int, bool) {
	ra, na, ok1 := numRank(a)
	rb, nb, ok2 := numRank(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if ra != rb || ra != 1 {
		return compareInts(ra, rb), true
	}
	return na.Cmp(nb), true
}

// timeLayouts are the ISO DateStyle output forms of date/time types.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999-07",
	"2006-01-02 15:04:05.999999-07:00",
	"2006-01-02 15:04:05.999999-07:00:00",
	"2006-01-02 15:04:05.999999",
	"2006-01-02",
	"15:04:05.999999-07",
	"15:04:05.999999-07:00",
	"15:04:05.999999",
}

func timeRank(s string) (int, time.Time, bool) {
	switch s {
	case "-infinity":
		return 0, time.Time{}, true
	case "infinity":
		return 2, time.Time{}, true
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return 1, t, true
		}
	}
	return 0, time.Time{}, false
}

func compareTimes(a, b string) (int, bool) {
	ra, ta, ok1 := timeRank(a)
	rb, tb, ok2 := timeRank(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if ra != rb || ra != 1 {
		return compareInts(ra, rb), true
	}
	return ta.Compare(tb), true
}
