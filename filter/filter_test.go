package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/pgtext"
)

type status string

type stringerValue struct{ s string }

func (v stringerValue) String() string { return v.s }

func TestFilterBuilders(t *testing.T) {
	tests := []struct {
		name     string
		f        Filter
		want     string
		extended bool
	}{
		{"eq int", Eq("id", 1), "id=eq.1", false},
		{"neq string", Neq("status", "open"), "status=neq.open", false},
		{"lt", Lt("n", -5), "n=lt.-5", false},
		{"lte", Lte("n", uint8(7)), "n=lte.7", false},
		{"gt float", Gt("price", 12.5), "price=gt.12.5", false},
		{"gte", Gte("at", time.Date(2026, 8, 21, 12, 15, 30, 123000000, time.FixedZone("x", 7200))), "at=gte.2026-08-21T10:15:30.123Z", false},
		{"in", In("status", "open", "a,b"), `status=in.(open,"a,b")`, false},
		{"in ints", In("id", 1, 2, 3), "id=in.(1,2,3)", false},
		{"like", Like("title", "%milk%"), "title=like.%milk%", true},
		{"ilike", ILike("title", "Buy %"), "title=ilike.Buy %", true},
		{"is null", Is("deleted_at", "null"), "deleted_at=is.null", true},
		{"is upper-case keyword", Is("done", "TRUE"), "done=is.true", true},
		{"is unknown", Is("done", "unknown"), "done=is.unknown", true},
		{"match", Match("email", `^[a-z]+@example\.com$`), `email=match."^[a-z]+@example\\.com$"`, true},
		{"imatch", IMatch("name", "^jo"), "name=imatch.^jo", true},
		{"isdistinct", IsDistinct("n", 3), "n=isdistinct.3", true},
		{"not eq", Not(Eq("a", 1)), "a=not.eq.1", true},
		{"not in", Not(In("status", "archived", "deleted")), "status=not.in.(archived,deleted)", true},
		{"not is", Not(Is("x", "null")), "x=not.is.null", true},
		{"and", And(Eq("user_id", 42), Not(In("status", "archived", "deleted"))), "user_id=eq.42,status=not.in.(archived,deleted)", true},
		{"and flattens and skips zero", And(And(Eq("a", 1), Filter{}), And(), Gt("b", 2)), "a=eq.1,b=gt.2", true},
		{"and of one is classic", And(Eq("a", 1)), "a=eq.1", false},
		{"and of one extended", And(Like("a", "x%")), "a=like.x%", true},
		{"zero", Filter{}, "", false},
		{"and of nothing", And(), "", false},
		{"column with space and dot", Eq("my col.x", 1), "my col.x=eq.1", false},
		{"unicode column", Eq("prénom", "Zoë"), "prénom=eq.Zoë", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.f.Validate(); err != nil {
				t.Fatalf("Validate = %v", err)
			}
			if got := tc.f.String(); got != tc.want {
				t.Errorf("String = %s, want %s", got, tc.want)
			}
			if got := tc.f.Extended(); got != tc.extended {
				t.Errorf("Extended = %v", got)
			}
			if s := tc.f.String(); s != "" {
				if r := checkFilterSyntax(s); r != "" {
					t.Errorf("builder output fails the syntax check: %s", r)
				}
			}
		})
	}
}

func TestFilterValues(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{"plain", "plain"},
		{"", ""},
		{"mid space", "mid space"},
		{"a,b", `"a,b"`},
		{"f(x)", `"f(x)"`},
		{"(", `"("`},
		{`say "hi"`, `"say \"hi\""`},
		{`back\slash`, `"back\\slash"`},
		{" lead", `" lead"`},
		{"trail ", `"trail "`},
		{"\ttab", "\"\ttab\""},
		{"trail\u00a0", "\"trail\u00a0\""},
		{"dots.and=equals", "dots.and=equals"},
		{"%_*", "%_*"},
		{true, "true"},
		{false, "false"},
		{int8(-128), "-128"},
		{int16(300), "300"},
		{int32(-7), "-7"},
		{int64(math.MinInt64), "-9223372036854775808"},
		{uint(1), "1"},
		{uint16(65535), "65535"},
		{uint32(4294967295), "4294967295"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{uintptr(9), "9"},
		{1.5, "1.5"},
		{123456789.0, "123456789"},
		{1e20, "100000000000000000000"},
		{1e21, "1e+21"},
		{0.000001, "0.000001"},
		{0.0000001, "1e-07"},
		{0.0, "0"},
		{math.Copysign(0, -1), "-0"},
		{float32(0.1), "0.1"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{json.Number("123456789012345678901234567890.5"), "123456789012345678901234567890.5"},
		{stringerValue{"123456789012345678901234567890.123456789"}, "123456789012345678901234567890.123456789"},
		{time.Date(2026, 8, 21, 10, 15, 30, 0, time.UTC), "2026-08-21T10:15:30Z"},
		{stringerValue{"s,t"}, `"s,t"`},
		{status("open"), "open"},
		{json.RawMessage("1"), ""}, // unsupported: checked below
	}
	for _, tc := range tests {
		f := Eq("c", tc.v)
		if _, ok := tc.v.(json.RawMessage); ok {
			if f.Validate() == nil {
				t.Errorf("%T accepted", tc.v)
			}
			continue
		}
		if err := f.Validate(); err != nil {
			t.Errorf("%#v: %v", tc.v, err)
			continue
		}
		if got := f.String(); got != "c=eq."+tc.want {
			t.Errorf("%#v: %s, want c=eq.%s", tc.v, got, tc.want)
		}
	}

	type namedInt int32
	type namedFloat float32
	type namedBool bool
	type namedUint uint16
	for _, tc := range []struct {
		v    any
		want string
	}{
		{namedInt(-3), "-3"}, {namedFloat(2.5), "2.5"}, {namedBool(true), "true"}, {namedUint(4), "4"},
	} {
		if got := Eq("c", tc.v).String(); got != "c=eq."+tc.want {
			t.Errorf("%T: %s", tc.v, got)
		}
	}
}

func TestFilterInQuoting(t *testing.T) {
	tests := []struct {
		values []any
		want   string
	}{
		{[]any{"a", "b", "c,d"}, `(a,b,"c,d")`},
		{[]any{""}, `("")`},
		{[]any{"NULL", "null", "nullable"}, `("NULL","null",nullable)`},
		{[]any{"x y", "{a}", `q"`, `b\`}, `("x y","{a}","q\"","b\\")`},
		{[]any{1, "two", true, 2.5}, "(1,two,true,2.5)"},
	}
	for _, tc := range tests {
		f := In("c", tc.values...)
		if got := f.String(); got != "c=in."+tc.want {
			t.Errorf("In(%q) = %s, want c=in.%s", tc.values, got, tc.want)
		}
	}

	hundred := make([]any, MaxInValues)
	for i := range hundred {
		hundred[i] = i
	}
	if err := In("id", hundred...).Validate(); err != nil {
		t.Errorf("100 values: %v", err)
	}
	f := In("id", append(hundred, 100)...)
	var oe *Error
	if err := f.Validate(); !errors.As(err, &oe) || !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), "101") {
		t.Errorf("101 values: %v", err)
	}
	if f.String() != "" {
		t.Errorf("invalid filter renders %q", f.String())
	}
	if err := In("id").Validate(); err == nil {
		t.Error("In without values accepted")
	}
}

func TestFilterErrors(t *testing.T) {
	valid := Eq("a", 1)
	tests := []struct {
		name string
		f    Filter
	}{
		{"empty column", Eq("", 1)},
		{"column with =", Eq("a=b", 1)},
		{"column with comma", Eq("a,b", 1)},
		{"column with paren", Eq("f(a)", 1)},
		{"column with quote", Eq(`"a"`, 1)},
		{"column with backslash", Eq(`a\b`, 1)},
		{"column with leading space", Eq(" a", 1)},
		{"column with trailing space", Eq("a ", 1)},
		{"column with control", Eq("a\nb", 1)},
		{"column with invalid utf8", Eq("a\xffb", 1)},
		{"nil value", Eq("a", nil)},
		{"unsupported value", Eq("a", struct{}{})},
		{"slice value", Eq("a", []int{1})},
		{"invalid json.Number", Eq("a", json.Number("1x"))},
		{"in bad value", In("a", 1, nil)},
		{"in bad column", In("", 1)},
		{"is bad keyword", Is("a", "maybe")},
		{"is bad column", Is("a=", "null")},
		{"like bad column", Like("", "x")},
		{"not zero", Not(Filter{})},
		{"not and", Not(And(valid, Eq("b", 2)))},
		{"not not", Not(Not(valid))},
		{"not invalid", Not(Eq("", 1))},
		{"and invalid", And(valid, Eq("", 1), Eq("x", nil))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			var oe *Error
			if !errors.As(err, &oe) || !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("Validate = %v, want *OptionError", err)
			}
			if tc.f.String() != "" {
				t.Errorf("String = %q", tc.f.String())
			}
		})
	}
	// And keeps the first error.
	err := And(valid, Eq("", 1), Eq("x", nil)).Validate()
	if err == nil || !strings.Contains(err.Error(), "column name") {
		t.Errorf("And error = %v", err)
	}
}

func TestCheckFilterSyntax(t *testing.T) {
	tests := []struct {
		filter string
		ok     bool
	}{
		{"id=eq.1", true},
		{" id=eq.1 ", true},
		{"a=eq.", true},
		{"id=gt.0,id=lt.100", true},
		{"subject=in.(hidee,ho)", true},
		{`nombre=eq."a,b",id=in.(1,2)`, true},
		{`n=eq."x\"),(y"`, true},
		{"a=not.in.(1,2)", true},
		{"a=future_op.1", true},
		{"wrong", false},
		{"undefined", false},
		{"id=eq.1,,id=eq.2", false},
		{"id=eq.1,", false},
		{",id=eq.1", false},
		{"id=in.1", false},
		{"id=in.(1", false},
		{"id=in.1,2", false},
		{"=eq.1", false},
		{"a=eq", false},
		{"a=EQ.1", false},
		{"a=.1", false},
		{"a=not.eq", false},
		// A quote opens a quoted value only after '.', '(' or ',' (found
		// by FuzzFilter): here it is an ordinary character, so the
		// server sees empty segments.
		{`a=eq.x"y,,"`, false},
		{`a=eq.x"y,b=eq.z"`, true},
		{`a=in.(x,"y,)")`, true},
	}
	for _, tc := range tests {
		r := checkFilterSyntax(tc.filter)
		if (r == "") != tc.ok {
			t.Errorf("checkFilterSyntax(%q) = %q, want ok=%v", tc.filter, r, tc.ok)
		}
	}
}

// refCondition is a condition as the server parses it (docs/protocol.md §7.4).
type refCondition struct {
	column, op string
	negate     bool
	value      string   // unquoted scalar value
	in         []string // In elements (nil when not an In)
}

// refParseFilter parses a filter string the way the server does: split on
// commas outside quotes and parentheses, column = text before the first
// '=', optional "not.", op up to the first '.', the value unquoted; an In
// value becomes a Postgres array literal, parsed here with pgArrayToJSON.
func refParseFilter(t *testing.T, s string) []refCondition {
	t.Helper()
	var segs []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth = max(0, depth-1)
		case c == ',' && depth == 0:
			segs = append(segs, s[start:i])
			start = i + 1
		}
	}
	segs = append(segs, s[start:])
	var out []refCondition
	for _, seg := range segs {
		seg = strings.TrimSpace(seg)
		col, rest, ok := strings.Cut(seg, "=")
		if !ok {
			t.Fatalf("segment without '=': %q", seg)
		}
		c := refCondition{column: col}
		if after, ok := strings.CutPrefix(rest, "not."); ok {
			c.negate, rest = true, after
		}
		c.op, rest, _ = strings.Cut(rest, ".")
		if c.op == "in" {
			if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
				t.Fatalf("in without parentheses: %q", rest)
			}
			arr, ok := pgtext.ArrayToJSON("{"+rest[1:len(rest)-1]+"}", "text")
			if !ok {
				t.Fatalf("in value is not an array literal: %q", rest)
			}
			var elems []*string
			if err := json.Unmarshal(arr, &elems); err != nil {
				t.Fatal(err)
			}
			c.in = []string{}
			for _, e := range elems {
				if e == nil {
					t.Fatalf("in value %q has a NULL element", rest)
				}
				c.in = append(c.in, *e)
			}
		} else if strings.HasPrefix(rest, `"`) {
			if len(rest) < 2 || !strings.HasSuffix(rest, `"`) {
				t.Fatalf("unterminated quoted value %q", rest)
			}
			var b strings.Builder
			inner := rest[1 : len(rest)-1]
			for i := 0; i < len(inner); i++ {
				if inner[i] == '\\' && i+1 < len(inner) {
					i++
				}
				b.WriteByte(inner[i])
			}
			c.value = b.String()
		} else {
			c.value = rest
		}
		out = append(out, c)
	}
	return out
}

// TestFilterRoundTrip renders random values and checks that the server's
// parsing gets them back unchanged.
func TestFilterRoundTrip(t *testing.T) {
	alphabet := []string{"a", "Z", "0", " ", ",", "(", ")", `"`, `\`, "{", "}", ".", "=", "%", "é", "\t", "null", "NULL", "not.", "in.", "'"}
	rng := rand.New(rand.NewPCG(1, 2))
	randValue := func() string {
		var b strings.Builder
		for n := rng.IntN(6); n > 0; n-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 2000 {
		v1, v2 := randValue(), randValue()
		inVals := []string{randValue(), randValue(), randValue()}
		f := And(Eq("a", v1), Not(Like("b", v2)), In("c", inVals[0], inVals[1], inVals[2]))
		if err := f.Validate(); err != nil {
			t.Fatal(err)
		}
		s := f.String()
		if r := checkFilterSyntax(s); r != "" {
			t.Fatalf("%q: syntax check: %s", s, r)
		}
		got := refParseFilter(t, s)
		want := []refCondition{
			{column: "a", op: "eq", value: v1},
			{column: "b", op: "like", negate: true, value: v2},
			{column: "c", op: "in", in: inVals},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("filter %s\n parsed %+v\n want   %+v", s, got, want)
		}
	}
}

func ExampleFilter() {
	f := And(Eq("user_id", 42), Not(In("status", "archived", "a,b")))
	fmt.Println(f.String(), f.Extended())
	fmt.Println(In("id", 1, 2, 3).String(), In("id", 1, 2, 3).Extended())
	// Output:
	// user_id=eq.42,status=not.in.(archived,"a,b") true
	// id=in.(1,2,3) false
}
