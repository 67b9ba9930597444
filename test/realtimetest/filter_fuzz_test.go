package realtimetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/supabase-go/realtime/filter"
	"github.com/supabase-go/realtime/messages"
)

// FuzzFilter checks the client's filter builder (messages.Eq … And, Not)
// against this package's copy of the server's filter grammar: a filter the
// builder accepts parses on the server into exactly the conditions that
// were built (same column, operator, negation and value — for In the same
// list, read back as the Postgres array literal the server makes of it); a
// filter it refuses carries an *OptionError for a documented reason and
// renders as "". It also checks the raw-string check behind
// PostgresChanges.Validate: a raw filter it accepts never fails the
// server's parse stage for a reason other than an unknown operator name.
// Seeds live in testdata/fuzz/FuzzFilter.
func FuzzFilter(f *testing.F) {
	f.Add("id", uint8(0), "1", "status", uint8(6), "open\x1fa,b\x1f\x1fNULL", uint8(2), "id=eq.1")
	f.Add("title", uint8(7), `50% "off"`, "done", uint8(9), "TRUE", uint8(3), `a=in.("x,y",z),b=not.is.null`)
	f.Add("name", uint8(10), " lead\\ing ", "n", uint8(12), "(1)", uint8(7), `a=eq.x"y,,"`)
	f.Add("a b", uint8(11), "^[a-z]+$", "x", uint8(5), "", uint8(0), ",")
	f.Add("col", uint8(6), strings.Repeat("v\x1f", 101), "c", uint8(9), "maybe", uint8(1), "c=in.1")
	f.Add("=", uint8(0), "1", "ok", uint8(1), "{}", uint8(2), "not.eq.1")
	f.Fuzz(func(t *testing.T, col1 string, op1 uint8, val1 string, col2 string, op2 uint8, val2 string, flags uint8, raw string) {
		checkBuiltFilter(t, col1, op1, val1, col2, op2, val2, flags)
		checkRawFilter(t, raw)
	})
}

// builtCond is what one built condition must parse back to.
type builtCond struct {
	column string
	op     string
	negate bool
	value  string   // scalar operators and is
	values []string // in
}

var fuzzOps = []string{"eq", "neq", "lt", "lte", "gt", "gte", "in", "like", "ilike", "is", "match", "imatch", "isdistinct"}

// buildCond builds one condition and its model; ok is false when the
// documented rules say the builder must refuse it.
func buildCond(col string, opSel uint8, val string) (filter.Filter, builtCond, bool) {
	op := fuzzOps[int(opSel)%len(fuzzOps)]
	m := builtCond{column: col, op: op, value: val}
	ok := validColumn(col)
	var flt filter.Filter
	switch op {
	case "eq":
		flt = filter.Eq(col, val)
	case "neq":
		flt = filter.Neq(col, val)
	case "lt":
		flt = filter.Lt(col, val)
	case "lte":
		flt = filter.Lte(col, val)
	case "gt":
		flt = filter.Gt(col, val)
	case "gte":
		flt = filter.Gte(col, val)
	case "like":
		flt = filter.Like(col, val)
	case "ilike":
		flt = filter.ILike(col, val)
	case "match":
		flt = filter.Match(col, val)
	case "imatch":
		flt = filter.IMatch(col, val)
	case "isdistinct":
		flt = filter.IsDistinct(col, val)
	case "is":
		flt = filter.Is(col, val)
		m.value = strings.ToLower(val)
		ok = ok && slices.Contains([]string{"null", "true", "false", "unknown"}, m.value)
	case "in":
		m.values = strings.Split(val, "\x1f")
		args := make([]any, len(m.values))
		for i, v := range m.values {
			args[i] = v
		}
		flt = filter.In(col, args...)
		ok = ok && len(m.values) >= 1 && len(m.values) <= filter.MaxInValues
	}
	return flt, m, ok
}

// validColumn is the documented column rule.
func validColumn(c string) bool {
	if c == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(c)
	l, _ := utf8.DecodeLastRuneInString(c)
	if unicode.IsSpace(r) || unicode.IsSpace(l) {
		return false
	}
	for _, r := range c {
		if strings.ContainsRune(`=,()"\`, r) || unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func checkBuiltFilter(t *testing.T, col1 string, op1 uint8, val1 string, col2 string, op2 uint8, val2 string, flags uint8) {
	f1, m1, ok1 := buildCond(col1, op1, val1)
	if flags&1 != 0 {
		f1 = filter.Not(f1)
		m1.negate = true
	}
	flt, model, ok := f1, []builtCond{m1}, ok1
	if flags&2 != 0 {
		f2, m2, ok2 := buildCond(col2, op2, val2)
		if flags&4 != 0 {
			f2 = filter.Not(f2)
			m2.negate = true
		}
		flt = filter.And(f1, f2)
		model = append(model, m2)
		ok = ok && ok2
	}

	err := flt.Validate()
	s := flt.String()
	if !ok {
		if err == nil {
			t.Fatalf("builder accepted a filter the documented rules refuse: %q (model %+v)", s, model)
		}
	}
	if err != nil {
		var oe *filter.Error
		if !errors.As(err, &oe) || !errors.Is(err, messages.ErrInvalidOption) {
			t.Fatalf("refusal is not a *filter.Error: %T %v", err, err)
		}
		if ok {
			t.Fatalf("builder refused a valid filter (model %+v): %v", model, err)
		}
		if s != "" {
			t.Fatalf("invalid filter renders %q, want \"\"", s)
		}
		return
	}

	parsed, errText := parseFilters(s)
	if errText != "" {
		t.Fatalf("server refuses built filter %q: %s", s, errText)
	}
	if len(parsed) != len(model) {
		t.Fatalf("built filter %q parses into %d conditions, want %d: %s", s, len(parsed), len(model), inspectFilters(parsed))
	}
	for i, p := range parsed {
		m := model[i]
		if p.column != m.column || p.op != m.op || p.negate != m.negate {
			t.Fatalf("condition %d of %q parses as %s, want column %q op %q negate %v", i, s, p.inspect(), m.column, m.op, m.negate)
		}
		if m.op == "in" {
			got, ok := arrayTexts(p.value)
			if !ok {
				t.Fatalf("in list of %q is not a valid Postgres array literal: %q", s, p.value)
			}
			if !slices.Equal(got, m.values) {
				t.Fatalf("in list of %q reads back as %q, want %q", s, got, m.values)
			}
			continue
		}
		if p.value != m.value {
			t.Fatalf("condition %d of %q has value %q, want %q", i, s, p.value, m.value)
		}
	}
}

// checkRawFilter: a raw filter string accepted by PostgresChanges.Validate
// must not fail the server's parse for a reason the client could have
// seen (only an unknown operator name is left to the server).
func checkRawFilter(t *testing.T, raw string) {
	b := messages.PostgresChanges{Event: "*", Schema: "public", Table: "t", Filter: raw}
	if b.Validate() != nil {
		return
	}
	parsed, errText := parseFilters(raw)
	if errText == "" {
		return
	}
	// The only refusal the client leaves to the server: an operator name
	// of the right shape that the server does not know.
	for _, seg := range splitTopLevel(strings.TrimSpace(raw)) {
		_, rest, found := strings.Cut(strings.TrimSpace(seg), "=")
		if !found {
			break
		}
		rest = strings.TrimPrefix(rest, "not.")
		if op, _, found := strings.Cut(rest, "."); found && !slices.Contains(filterOps, op) {
			return
		}
	}
	t.Fatalf("Validate accepted raw filter %q but the server refuses it: %s (parsed %v)", raw, errText, parsed)
}

// arrayTexts reads the server's array literal of an in list with this
// package's Postgres array parser; every element must be a non-NULL text
// (the builder quotes NULL and empty values).
func arrayTexts(lit string) ([]string, bool) {
	arr, err := parsePGArray([]byte(lit), ',')
	if err != nil {
		return nil, false
	}
	out := make([]string, 0, len(arr.items))
	for _, it := range arr.items {
		if it.sub != nil || it.null {
			return nil, false
		}
		out = append(out, it.text)
	}
	return out, true
}
