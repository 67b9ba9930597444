package messages

import (
	"math/big"
	"strings"

	"github.com/supabase-go/realtime/internal/jsonscan"
)

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
	if !jsonscan.IsJSONNumber(s) {
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
	b = jsonscan.TrimSpace(b)
	switch {
	case len(b) == 0:
		return &valueError{"numeric: empty input"}
	case jsonscan.IsNull(b):
		return nil
	case b[0] == '"':
		s, err := jsonscan.Unquote(b)
		if err != nil {
			return &valueError{"numeric: invalid JSON string"}
		}
		if !jsonscan.IsJSONNumber(s) && s != "NaN" && s != "Infinity" && s != "-Infinity" {
			return &valueError{"numeric: string is not a number"}
		}
		*n = Numeric(s)
		return nil
	case jsonscan.IsJSONNumber(string(b)):
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
	case jsonscan.IsJSONNumber(string(n)):
		return []byte(n), nil
	}
	return jsonscan.AppendQuote(nil, string(n)), nil
}
