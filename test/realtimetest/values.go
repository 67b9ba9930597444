package realtimetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/supabase-go/realtime/internal/jsonscan"
)

// pgType is what the server knows about one PostgreSQL type (pg_type).
type pgType struct {
	oid  uint32
	name string // typname of the type itself: "int4", "_text", a domain's name
	// base is the type after unwrapping domains; conversions and
	// comparisons use it (to_jsonb does too).
	base *pgType
	// category is the base type's typcategory ('A' array, 'B' bool, 'N'
	// numeric, 'D' date/time, 'S' string, 'U' user, …).
	category byte
	// elem is the element type of an array base type, nil otherwise.
	elem  *pgType
	delim byte // array delimiter of the element type (',' except box)
}

// baseName is the typname of the base type.
func (t *pgType) baseName() string {
	if t.base != nil {
		return t.base.name
	}
	return t.name
}

// numericTypes are the types to_jsonb renders as JSON numbers.
var numericTypes = map[string]bool{
	"int2": true, "int4": true, "int8": true, "oid": true,
	"float4": true, "float8": true, "numeric": true,
}

// appendValueJSON appends the JSON rendering of a column value given in
// PostgreSQL text output form, the way to_jsonb(value::type) renders it
// (§7.3): numbers keep their exact text, bool → true/false, json/jsonb are
// embedded, arrays become JSON arrays, timestamps use the ISO 8601 "T"
// form with a ±HH:MM offset, bytea is the hex text without "\x", anything
// else is a JSON string.
func appendValueJSON(dst []byte, t *pgType, text []byte) []byte {
	if t == nil {
		return jsonscan.AppendQuote(dst, string(text))
	}
	name := t.baseName()
	switch {
	case name == "bool":
		switch string(text) {
		case "t", "true":
			return append(dst, "true"...)
		case "f", "false":
			return append(dst, "false"...)
		}
	case numericTypes[name]:
		if isJSONNumber(text) {
			return append(dst, text...)
		}
		// NaN, Infinity, -Infinity are strings in to_jsonb.
	case name == "json" || name == "jsonb":
		var buf bytes.Buffer
		if json.Compact(&buf, text) == nil {
			return append(dst, buf.Bytes()...)
		}
	case t.category == 'A' && t.elem != nil:
		if arr, err := parsePGArray(text, t.delim); err == nil {
			return appendArrayJSON(dst, t.elem, arr)
		}
	case name == "timestamptz":
		return jsonscan.AppendQuote(dst, isoTimestamp(string(text), true))
	case name == "timestamp":
		return jsonscan.AppendQuote(dst, isoTimestamp(string(text), false))
	case name == "timetz":
		return jsonscan.AppendQuote(dst, isoOffset(string(text)))
	case name == "bytea":
		return jsonscan.AppendQuote(dst, strings.TrimPrefix(string(text), `\x`))
	}
	return jsonscan.AppendQuote(dst, string(text))
}

// isJSONNumber reports whether b is a valid JSON number literal.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	n := digits()
	if n == 0 || (n > 1 && b[start] == '0') {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// isoTimestamp turns "2026-08-21 10:15:30.123456+00" into
// "2026-08-21T10:15:30.123456+00:00" (withZone) or, for timestamp without
// time zone, "2026-08-21T10:15:30.123456". infinity/-infinity pass through.
func isoTimestamp(s string, withZone bool) string {
	date, rest, ok := strings.Cut(s, " ")
	if !ok {
		return s
	}
	if !withZone {
		return date + "T" + rest
	}
	return date + "T" + isoOffset(rest)
}

// isoOffset rewrites a trailing "+HH" / "-HH" zone of a time text as
// "+HH:MM" (to_jsonb's XSD style); "+HH:MM[:SS]" stay as they are.
func isoOffset(s string) string {
	i := strings.LastIndexAny(s, "+-")
	if i <= 0 {
		return s
	}
	zone := s[i+1:]
	if len(zone) == 2 && zone[0] >= '0' && zone[0] <= '9' && zone[1] >= '0' && zone[1] <= '9' {
		return s + ":00"
	}
	return s
}

// pgArray is a parsed PostgreSQL array literal: either a list of
// sub-arrays (multi-dimensional) or of elements.
type pgArray struct {
	items []pgArrayItem
}

type pgArrayItem struct {
	sub  *pgArray
	null bool
	text string
}

var errBadArray = errors.New("malformed array literal")

// parsePGArray parses the text output of an array ("{1,2}", "{{a,b},{c,d}}",
// `{"x y",NULL}`, "[0:1]={1,2}").
func parsePGArray(b []byte, delim byte) (*pgArray, error) {
	s := string(b)
	if strings.HasPrefix(s, "[") { // dimension decoration
		eq := strings.Index(s, "=")
		if eq < 0 {
			return nil, errBadArray
		}
		s = s[eq+1:]
	}
	p := &arrayParser{s: s, delim: delim}
	arr, err := p.array()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, errBadArray
	}
	return arr, nil
}

type arrayParser struct {
	s     string
	i     int
	delim byte
}

func (p *arrayParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *arrayParser) array() (*pgArray, error) {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return nil, errBadArray
	}
	p.i++
	arr := &pgArray{}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return arr, nil
	}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, errBadArray
		}
		switch p.s[p.i] {
		case '{':
			sub, err := p.array()
			if err != nil {
				return nil, err
			}
			arr.items = append(arr.items, pgArrayItem{sub: sub})
		case '"':
			p.i++
			var sb strings.Builder
			for {
				if p.i >= len(p.s) {
					return nil, errBadArray
				}
				c := p.s[p.i]
				if c == '\\' && p.i+1 < len(p.s) {
					sb.WriteByte(p.s[p.i+1])
					p.i += 2
					continue
				}
				p.i++
				if c == '"' {
					break
				}
				sb.WriteByte(c)
			}
			arr.items = append(arr.items, pgArrayItem{text: sb.String()})
		default:
			start := p.i
			for p.i < len(p.s) && p.s[p.i] != p.delim && p.s[p.i] != '}' {
				p.i++
			}
			tok := strings.TrimRight(p.s[start:p.i], " \t\r\n")
			if strings.EqualFold(tok, "NULL") {
				arr.items = append(arr.items, pgArrayItem{null: true})
			} else {
				arr.items = append(arr.items, pgArrayItem{text: tok})
			}
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, errBadArray
		}
		switch p.s[p.i] {
		case p.delim:
			p.i++
		case '}':
			p.i++
			return arr, nil
		default:
			return nil, errBadArray
		}
	}
}

func appendArrayJSON(dst []byte, elem *pgType, arr *pgArray) []byte {
	dst = append(dst, '[')
	for i, it := range arr.items {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch {
		case it.sub != nil:
			dst = appendArrayJSON(dst, elem, it.sub)
		case it.null:
			dst = append(dst, "null"...)
		default:
			dst = appendValueJSON(dst, elem, []byte(it.text))
		}
	}
	return append(dst, ']')
}

// Elixir-style inspection, used to render parameters in the server's
// error messages the way the Elixir server prints them.

// inspectString renders s as Elixir's inspect/1 does for a printable
// binary: double quotes with \" \\ \n \t \r … and "#{" escaped.
func inspectString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '\b':
			b.WriteString(`\b`)
		case '\v':
			b.WriteString(`\v`)
		case 0x1b:
			b.WriteString(`\e`)
		case 0x07:
			b.WriteString(`\a`)
		case 0:
			b.WriteString(`\0`)
		case '#':
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteString(`\#`)
			} else {
				b.WriteByte('#')
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// inspectStrings renders a list of strings: ["a", "b"].
func inspectStrings(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = inspectString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// inspectJSON renders decoded JSON (as produced by a json.Decoder with
// UseNumber) like Elixir inspects the map Jason decodes: %{"k" => v} with
// keys sorted, lists [a, b], nil, true/false.
func inspectJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case bool:
		return strconv.FormatBool(x)
	case string:
		return inspectString(x)
	case json.Number:
		s := x.String()
		if strings.ContainsAny(s, ".eE") {
			if f, err := x.Float64(); err == nil {
				s = strconv.FormatFloat(f, 'f', -1, 64)
				if !strings.Contains(s, ".") {
					s += ".0"
				}
			}
		}
		return s
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = inspectJSON(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		if len(x) == 0 {
			return "%{}"
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = inspectString(k) + " => " + inspectJSON(x[k])
		}
		return "%{" + strings.Join(parts, ", ") + "}"
	}
	return "nil"
}
