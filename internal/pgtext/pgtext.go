package pgtext

import (
	"strings"
	"unicode"

	"github.com/supabase-go/realtime/internal/jsonscan"
)

// Category classifies a Postgres type name for the legacy conversions.
type Category uint8

const (
	Other Category = iota
	Number
	Bool
	JSON
	Array
)

func CategoryOf(pg string) Category {
	switch pg {
	case "int2", "int4", "int8", "oid", "float4", "float8", "numeric", "xid", "cid", "regproc":
		return Number
	case "bool":
		return Bool
	case "json", "jsonb":
		return JSON
	}
	if strings.HasPrefix(pg, "_") {
		return Array
	}
	return Other
}

func BoolLiteral(b bool) []byte {
	if b {
		return []byte("true")
	}
	return []byte("false")
}

// ParseBool accepts the Postgres text forms t/f and true/false (any
// case).
func ParseBool(s string) (bool, bool) {
	switch {
	case s == "t" || s == "T" || strings.EqualFold(s, "true"):
		return true, true
	case s == "f" || s == "F" || strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// maxArrayDepth bounds the nesting of Postgres array literals (Postgres
// itself allows 6 dimensions).
const maxArrayDepth = 16

// ArrayToJSON converts a Postgres array literal ("{1,2,NULL}",
// `{{a,b},{"c,d",e}}`, optionally with a "[1:2]=" dimension prefix) into a
// JSON array; elements are converted by the category of the element type
// elemPG. ok is false on a syntax error.
func ArrayToJSON(s, elemPG string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, '=')
		if i < 0 {
			return nil, false
		}
		s = strings.TrimSpace(s[i+1:])
	}
	p := pgArrayParser{s: s, cat: CategoryOf(elemPG)}
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
	cat Category
}

func (p *pgArrayParser) skipSpace() {
	for p.i < len(p.s) && (jsonscan.IsSpace(p.s[p.i]) || p.s[p.i] == '\v' || p.s[p.i] == '\f') {
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
	case Number:
		if jsonscan.IsJSONNumber(s) {
			return append(dst, s...)
		}
	case Bool:
		if b, ok := ParseBool(s); ok {
			return append(dst, BoolLiteral(b)...)
		}
	case JSON:
		if jsonscan.ValidJSON([]byte(s)) {
			return append(dst, strings.TrimSpace(s)...)
		}
	}
	return jsonscan.AppendQuote(dst, s)
}
