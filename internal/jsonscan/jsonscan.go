package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/supabase-go/realtime/internal/frame"
)

// This file holds a small, allocation-free JSON scanner used on the decoding
// hot path instead of encoding/json maps. It validates the full JSON grammar
// (RFC 8259) of everything it walks over, so a value slice it hands out is
// always valid JSON, but it never builds a tree: values are returned as raw
// slices aliasing the input.
//
// Like encoding/json, strings may contain invalid UTF-8 (Unquote replaces it
// with U+FFFD), and nesting deeper than MaxDepth is rejected.

// MaxDepth bounds the nesting of arrays and objects, as in encoding/json.
const MaxDepth = 10000

// ErrSyntax builds the error for a syntax error at byte offset pos. The
// message carries only the offset, never input bytes: payloads may carry
// secrets.
func ErrSyntax(what string, pos int) error {
	return fmt.Errorf("%w: json: %s at offset %d", frame.ErrMalformed, what, pos)
}

// IsSpace reports whether c is JSON insignificant whitespace.
func IsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// SkipSpace returns the index of the first non-whitespace byte at or after i.
func SkipSpace(data []byte, i int) int {
	for i < len(data) && IsSpace(data[i]) {
		i++
	}
	return i
}

// strFlags describes a scanned JSON string.
type strFlags uint8

const (
	// strEscaped: the string contains at least one backslash escape.
	strEscaped strFlags = 1 << iota
	// strNonASCII: the string contains at least one byte >= 0x80.
	strNonASCII
)

// plainStr marks the bytes that can appear unescaped inside a JSON string
// and need no attention: everything but '"', '\\' and control characters.
var plainStr = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// ScanString validates the JSON string starting at data[i] (which must be
// '"') and returns the index just past its closing quote.
func ScanString(data []byte, i int) (end int, flags strFlags, err error) {
	start := i
	i++          // opening quote
	var acc byte // OR of all plain bytes, to detect non-ASCII
	for {
		for i < len(data) && plainStr[data[i]] {
			acc |= data[i]
			i++
		}
		if i >= len(data) {
			return 0, 0, ErrSyntax("unterminated string", start)
		}
		switch data[i] {
		case '"':
			if acc >= utf8.RuneSelf {
				flags |= strNonASCII
			}
			return i + 1, flags, nil
		case '\\':
			flags |= strEscaped
			i++
			if i >= len(data) {
				return 0, 0, ErrSyntax("unterminated string", start)
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(data)-i < 5 {
					return 0, 0, ErrSyntax("unterminated string", start)
				}
				for k := 1; k <= 4; k++ {
					if !IsHex(data[i+k]) {
						return 0, 0, ErrSyntax("invalid \\u escape", i+k)
					}
				}
				i += 5
			default:
				return 0, 0, ErrSyntax("invalid escape", i)
			}
		default: // control character
			return 0, 0, ErrSyntax("control character in string", i)
		}
	}
}

func IsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// ScanNumber validates the JSON number starting at data[i] and returns the
// index just past it.
func ScanNumber(data []byte, i int) (int, error) {
	start := i
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i < len(data) && IsDigit(data[i]) {
			i++
		}
	default:
		return 0, ErrSyntax("invalid number", start)
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !IsDigit(data[i]) {
			return 0, ErrSyntax("invalid number", start)
		}
		for i < len(data) && IsDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !IsDigit(data[i]) {
			return 0, ErrSyntax("invalid number", start)
		}
		for i < len(data) && IsDigit(data[i]) {
			i++
		}
	}
	return i, nil
}

// ScanLiteral checks that data[i:] starts with lit.
func ScanLiteral(data []byte, i int, lit string) (int, error) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return 0, ErrSyntax("invalid literal", i)
	}
	return i + len(lit), nil
}

// ScanValue validates the JSON value starting at data[i] (no leading
// whitespace) and returns the index just past it.
func ScanValue(data []byte, i, depth int) (int, error) {
	if i >= len(data) {
		return 0, ErrSyntax("unexpected end of input", i)
	}
	switch c := data[i]; {
	case c == '"':
		end, _, err := ScanString(data, i)
		return end, err
	case c == '{':
		return ScanObject(data, i, depth+1, nil)
	case c == '[':
		return ScanArray(data, i, depth+1, nil)
	case c == '-' || IsDigit(c):
		return ScanNumber(data, i)
	case c == 't':
		return ScanLiteral(data, i, "true")
	case c == 'f':
		return ScanLiteral(data, i, "false")
	case c == 'n':
		return ScanLiteral(data, i, "null")
	default:
		return 0, ErrSyntax("unexpected byte", i)
	}
}

// ScanObject validates the object starting at data[i] ('{') and returns the
// index just past it. When fn is non-nil it is called for every member, with
// the raw key content (no quotes, still escaped) and the raw value.
func ScanObject(data []byte, i, depth int, fn func(key, value []byte) error) (int, error) {
	if depth > MaxDepth {
		return 0, ErrSyntax("nesting too deep", i)
	}
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) {
			return 0, ErrSyntax("unexpected end of input", i)
		}
		if data[i] != '"' {
			return 0, ErrSyntax("expected object key", i)
		}
		keyEnd, _, err := ScanString(data, i)
		if err != nil {
			return 0, err
		}
		key := data[i+1 : keyEnd-1]
		i = SkipSpace(data, keyEnd)
		if i >= len(data) || data[i] != ':' {
			return 0, ErrSyntax("expected ':'", i)
		}
		i = SkipSpace(data, i+1)
		valStart := i
		i, err = ScanValue(data, i, depth)
		if err != nil {
			return 0, err
		}
		if fn != nil {
			if err := fn(key, data[valStart:i]); err != nil {
				return 0, err
			}
		}
		i = SkipSpace(data, i)
		if i >= len(data) {
			return 0, ErrSyntax("unexpected end of input", i)
		}
		switch data[i] {
		case ',':
			i = SkipSpace(data, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, ErrSyntax("expected ',' or '}'", i)
		}
	}
}

// ScanArray validates the array starting at data[i] ('[') and returns the
// index just past it. When fn is non-nil it is called for every element.
func ScanArray(data []byte, i, depth int, fn func(i int, value []byte) error) (int, error) {
	if depth > MaxDepth {
		return 0, ErrSyntax("nesting too deep", i)
	}
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	for n := 0; ; n++ {
		valStart := i
		var err error
		i, err = ScanValue(data, i, depth)
		if err != nil {
			return 0, err
		}
		if fn != nil {
			if err := fn(n, data[valStart:i]); err != nil {
				return 0, err
			}
		}
		i = SkipSpace(data, i)
		if i >= len(data) {
			return 0, ErrSyntax("unexpected end of input", i)
		}
		switch data[i] {
		case ',':
			i = SkipSpace(data, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, ErrSyntax("expected ',' or ']'", i)
		}
	}
}

// CheckTrailing reports an error unless only whitespace follows data[i:].
func CheckTrailing(data []byte, i int) error {
	if i = SkipSpace(data, i); i != len(data) {
		return ErrSyntax("trailing data", i)
	}
	return nil
}

// ObjectEach calls fn for every top-level member of the JSON object in data,
// in document order, and validates the whole document: data must be exactly
// one JSON object, optionally surrounded by whitespace.
//
// key is the raw key content WITHOUT the surrounding quotes and still
// escaped exactly as it appears in data (e.g. `a\"b` for the key a"b); use
// KeyEquals to compare it with a Go string, or Unquote on the quoted form to
// decode it. value is the raw JSON value with no surrounding whitespace. Both
// alias data; no copies are made and nothing is allocated on success.
//
// Members are reported while scanning, so fn may already have been called
// for earlier members when a syntax error further on is detected. Syntax
// errors wrap ErrMalformed. If fn returns an error, iteration stops and that
// error is returned unchanged. Duplicate keys are all reported.
func ObjectEach(data []byte, fn func(key, value []byte) error) error {
	i := SkipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return ErrSyntax("expected object", i)
	}
	end, err := ScanObject(data, i, 1, fn)
	if err != nil {
		return err
	}
	return CheckTrailing(data, end)
}

// ArrayEach calls fn for every element of the JSON array in data, with its
// zero-based index and raw JSON value (aliasing data, no surrounding
// whitespace). It validates the whole document like ObjectEach, with the
// same error semantics.
func ArrayEach(data []byte, fn func(i int, value []byte) error) error {
	i := SkipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return ErrSyntax("expected array", i)
	}
	end, err := ScanArray(data, i, 1, fn)
	if err != nil {
		return err
	}
	return CheckTrailing(data, end)
}

// ValidJSON reports whether data is exactly one valid JSON value, optionally
// surrounded by whitespace. It does not allocate.
func ValidJSON(data []byte) bool {
	i := SkipSpace(data, 0)
	end, err := ScanValue(data, i, 0)
	return err == nil && CheckTrailing(data, end) == nil
}

// IsNull reports whether raw is the JSON literal null (surrounding
// whitespace allowed).
func IsNull(raw []byte) bool {
	i := SkipSpace(raw, 0)
	j := len(raw)
	for j > i && IsSpace(raw[j-1]) {
		j--
	}
	return string(raw[i:j]) == "null"
}

// StringContent checks that raw (no surrounding whitespace) is exactly one
// JSON string and returns its content when it can be used verbatim: no
// escapes and valid UTF-8. simple is false when the content needs
// unescaping (or invalid UTF-8 replacement); content is then nil.
func StringContent(raw []byte) (content []byte, simple bool, err error) {
	if len(raw) == 0 || raw[0] != '"' {
		return nil, false, ErrSyntax("expected string", 0)
	}
	end, flags, err := ScanString(raw, 0)
	if err != nil {
		return nil, false, err
	}
	if end != len(raw) {
		return nil, false, ErrSyntax("trailing data", end)
	}
	content = raw[1 : end-1]
	if flags&strEscaped != 0 || flags&strNonASCII != 0 && !utf8.Valid(content) {
		return nil, false, nil
	}
	return content, true, nil
}

// UnquoteSlow decodes a validated JSON string that needs unescaping.
func UnquoteSlow(raw []byte) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		// Unreachable for input that passed scanString; kept as a guard.
		return "", fmt.Errorf("%w: json: invalid string", frame.ErrMalformed)
	}
	return s, nil
}

// Unquote decodes raw, a JSON string value including its quotes (surrounding
// whitespace allowed). Strings without escapes cost a single allocation for
// the result; strings with escapes go through encoding/json. Invalid UTF-8 is
// replaced with U+FFFD, as encoding/json does. Errors wrap ErrMalformed.
func Unquote(raw []byte) (string, error) {
	raw = TrimSpace(raw)
	content, simple, err := StringContent(raw)
	if err != nil {
		return "", err
	}
	if simple {
		return string(content), nil
	}
	return UnquoteSlow(raw)
}

// TrimSpace removes JSON whitespace around b.
func TrimSpace(b []byte) []byte {
	i := SkipSpace(b, 0)
	j := len(b)
	for j > i && IsSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// KeyEquals reports whether rawKey, a key as passed by ObjectEach (no
// quotes, still escaped), denotes the string s, with the semantics of
// Unquote. ASCII keys without a backslash (the common case) are compared
// directly without allocating; other keys are unquoted first. A key that
// does not unquote equals nothing.
func KeyEquals(rawKey []byte, s string) bool {
	k, ok := KeyName(rawKey)
	return ok && string(k) == s
}

// KeyName returns the decoded form of rawKey (as passed by ObjectEach). For
// ASCII keys without escapes that is rawKey itself and nothing is
// allocated; callers typically switch on string(name), which does not
// allocate either. ok is false (and name nil) for a key that does not
// unquote.
func KeyName(rawKey []byte) (name []byte, ok bool) {
	for _, c := range rawKey {
		if c == '\\' || c >= utf8.RuneSelf {
			return KeyNameSlow(rawKey)
		}
	}
	return rawKey, true
}

func KeyNameSlow(rawKey []byte) ([]byte, bool) {
	if !HasBackslash(rawKey) && utf8.Valid(rawKey) {
		return rawKey, true
	}
	q := make([]byte, 0, len(rawKey)+2)
	q = append(q, '"')
	q = append(q, rawKey...)
	q = append(q, '"')
	u, err := Unquote(q)
	if err != nil {
		return nil, false
	}
	return []byte(u), true
}

func HasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

const hexDigits = "0123456789abcdef"

// AppendQuote appends s to dst as a JSON string, with quotes. It escapes '"',
// '\\', control characters below 0x20 (as \n, \r, \t, \b, \f or \u00XX) and
// U+2028/U+2029 (as encoding/json does); '<', '>' and '&' are left alone.
// Invalid UTF-8 is replaced with \ufffd, as encoding/json does, so the
// output is always valid JSON.
func AppendQuote(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// SameBindingID reports whether two raw binding ids denote the same id:
// two numbers with the same literal text, or two strings with the same
// decoded content. A number never equals a string (as in realtime-js,
// which compares with ===).
func SameBindingID(a, b []byte) bool {
	a, b = TrimSpace(a), TrimSpace(b)
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

// IsJSONNumber reports whether s is exactly one JSON number.
func IsJSONNumber(s string) bool {
	if s == "" || !(s[0] == '-' || IsDigit(s[0])) {
		return false
	}
	end, err := ScanNumber([]byte(s), 0)
	return err == nil && end == len(s)
}
