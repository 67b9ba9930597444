package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/supabase-go/realtime/internal/frame"
)

// scanInputs are JSON documents, valid and invalid, on which the scanner
// must agree with encoding/json.
var scanInputs = []string{
	`{}`, ` { } `, `[]`, `[ ]`, `null`, `true`, `false`, `0`, `-0`, `1.5`, `-1.5e+10`, `1E-3`, `"s"`,
	`{"a":1}`, `{"a":{"b":[1,2,{"c":null}]},"d":"e"}`, `[1,"2",[3],{"4":5},true,false,null]`,
	"{\"a\\u00e9\\n\":\"\\ud83d\\ude00\"}", "\"\xff\xfe\"", "\t\r\n[1]\n",
	`{"a":"\/\b\f\n\r\t\"\\"}`, `"\uD800"`,
	// invalid
	``, ` `, `{`, `}`, `[`, `]`, `{]`, `[}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`,
	`{"a":1 "b":2}`, `[1 2]`, `{1:2}`, `{a:1}`, `'a'`, `"a`, `"a\"`, `"\a"`, `"\u00"`, `"\u00zz"`,
	"\"\x00\"", "\"\x1f\"", `01`, `-`, `-a`, `1.`, `.1`, `1e`, `1e+`, `+1`, `0x1`, `NaN`, `Infinity`,
	`tru`, `truex`, `nul`, `nulll`, `f`, `{}{}`, `[] []`, `{} x`, "\xef\xbb\xbf{}", "[1]\x00",
	`{"a":[}`, `{"a":{]}`, `["a":1]`, `{"a" "b"}`, `{"a"::1}`,
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range scanInputs {
		if got, want := ValidJSON([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("ValidJSON(%q) = %v, encoding/json says %v", in, got, want)
		}
	}
}

func TestObjectEachAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range scanInputs {
		checkObjectEach(t, []byte(in))
	}
}

// checkObjectEach checks ObjectEach against encoding/json on data: both
// accept or reject it, and accepted objects have the same members (last
// duplicate wins) with equivalent values.
func checkObjectEach(t *testing.T, data []byte) {
	t.Helper()
	got := map[string][]byte{}
	var calls int
	err := ObjectEach(data, func(key, value []byte) error {
		calls++
		k, err := Unquote(append(append([]byte{'"'}, key...), '"'))
		if err != nil {
			t.Errorf("ObjectEach(%q): key %q does not unquote: %v", data, key, err)
		}
		if !KeyEquals(key, k) {
			t.Errorf("KeyEquals(%q, %q) = false", key, k)
		}
		if !json.Valid(value) || len(value) == 0 || IsSpace(value[0]) || IsSpace(value[len(value)-1]) {
			t.Errorf("ObjectEach(%q): bad value slice %q", data, value)
		}
		got[k] = value
		return nil
	})
	if IsNull(data) {
		if err == nil {
			t.Errorf("ObjectEach(%q) accepted null", data)
		}
		return
	}
	var want map[string]json.RawMessage
	jerr := json.Unmarshal(data, &want)
	if jerr != nil && json.Valid(data) {
		jerr = nil // valid JSON but not an object: encoding/json reports a type error
		want = nil
		if trimmed := TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
			t.Fatalf("unexpected encoding/json error on %q", data)
		}
		if err == nil {
			t.Errorf("ObjectEach(%q) accepted a non-object", data)
		}
		return
	}
	if (err == nil) != (jerr == nil) {
		t.Errorf("ObjectEach(%q) err = %v, encoding/json err = %v", data, err, jerr)
		return
	}
	if err != nil {
		if !errors.Is(err, frame.ErrMalformed) {
			t.Errorf("ObjectEach(%q) err = %v, want ErrMalformed", data, err)
		}
		return
	}
	if len(got) != len(want) {
		t.Errorf("ObjectEach(%q) found %d distinct keys, encoding/json %d", data, len(got), len(want))
	}
	for k, w := range want {
		if !bytes.Equal(compactJSON(t, got[k]), compactJSON(t, w)) {
			t.Errorf("ObjectEach(%q)[%q] = %q, encoding/json %q", data, k, got[k], w)
		}
	}
}

func compactJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("json.Compact(%q): %v", b, err)
	}
	return buf.Bytes()
}

func TestObjectEachMembers(t *testing.T) {
	in := " {\"a\" : 1 , \"b\\\"c\":[ 1 ,{\"x\":\"}\"}] ,\"d\":\"\\u0022\",\"a\":{}}\n"
	var keys, values []string
	err := ObjectEach([]byte(in), func(key, value []byte) error {
		keys = append(keys, string(key))
		values = append(values, string(value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{`a`, `b\"c`, `d`, `a`}
	wantValues := []string{`1`, `[ 1 ,{"x":"}"}]`, `"\u0022"`, `{}`}
	if strings.Join(keys, "|") != strings.Join(wantKeys, "|") || strings.Join(values, "|") != strings.Join(wantValues, "|") {
		t.Errorf("keys %q values %q", keys, values)
	}
}

func TestArrayEach(t *testing.T) {
	var got []string
	err := ArrayEach([]byte(` [ 1, "a,]" ,{"b":[2]}, [], null ] `), func(i int, value []byte) error {
		if i != len(got) {
			t.Errorf("index %d, want %d", i, len(got))
		}
		got = append(got, string(value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `1|"a,]"|{"b":[2]}|[]|null`; strings.Join(got, "|") != want {
		t.Errorf("got %q, want %s", got, want)
	}
	if err := ArrayEach([]byte(`[]`), func(int, []byte) error { t.Error("called"); return nil }); err != nil {
		t.Error(err)
	}
	for _, in := range scanInputs {
		err := ArrayEach([]byte(in), func(int, []byte) error { return nil })
		isArray := json.Valid([]byte(in)) && TrimSpace([]byte(in))[0] == '['
		if (err == nil) != isArray {
			t.Errorf("ArrayEach(%q) err = %v, want array=%v", in, err, isArray)
		}
		if err != nil && !errors.Is(err, frame.ErrMalformed) {
			t.Errorf("ArrayEach(%q) err = %v, want ErrMalformed", in, err)
		}
	}
}

func TestEachCallbackError(t *testing.T) {
	stop := errors.New("stop")
	var n int
	err := ObjectEach([]byte(`{"a":1,"b":2,"c":3}`), func(key, value []byte) error {
		n++
		if string(key) == "b" {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("ObjectEach err = %v after %d calls", err, n)
	}
	n = 0
	err = ArrayEach([]byte(`[1,2,3]`), func(i int, value []byte) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("ArrayEach err = %v after %d calls", err, n)
	}
}

func TestNestingDepth(t *testing.T) {
	for _, depth := range []int{MaxDepth - 1, MaxDepth, MaxDepth + 1, 3 * MaxDepth} {
		in := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		if got, want := ValidJSON(in), json.Valid(in); got != want {
			t.Errorf("depth %d: Valid = %v, encoding/json %v", depth, got, want)
		}
		obj := []byte(`{"a":` + string(in[1:len(in)-1]) + `}`)
		if got, want := ObjectEach(obj, func(_, _ []byte) error { return nil }) == nil, json.Valid(obj); got != want {
			t.Errorf("depth %d: ObjectEach ok = %v, encoding/json %v", depth, got, want)
		}
	}
}

func TestUnquote(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`""`, "", true},
		{`"abc"`, "abc", true},
		{` "abc" `, "abc", true},
		{`"héllo"`, "héllo", true},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t", true},
		{`"\u00e9\u20AC\ud83d\ude00"`, "é€😀", true},
		{`"\ud800"`, "\ufffd", true},
		{"\"\xff\"", "\ufffd", true},
		{"\"a\xc3\"", "a\ufffd", true},
		{`abc`, "", false},
		{`"abc`, "", false},
		{`"abc"x`, "", false},
		{`"a"b"`, "", false},
		{`"\x"`, "", false},
		{`"\u12"`, "", false},
		{"\"\n\"", "", false},
		{``, "", false},
		{`null`, "", false},
		{`"`, "", false},
	} {
		got, err := Unquote([]byte(tc.in))
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("Unquote(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			var ref string
			if err := json.Unmarshal([]byte(tc.in), &ref); err != nil || ref != got {
				t.Errorf("Unquote(%q) = %q, encoding/json %q (%v)", tc.in, got, ref, err)
			}
		} else if !errors.Is(err, frame.ErrMalformed) {
			t.Errorf("Unquote(%q) err = %v, want ErrMalformed", tc.in, err)
		}
	}
	raw := []byte(`"realtime:room1"`)
	allocs := testing.AllocsPerRun(100, func() {
		if s, err := Unquote(raw); err != nil || s != "realtime:room1" {
			t.Fatal(s, err)
		}
	})
	if allocs > 1 {
		t.Errorf("Unquote fast path: %v allocs, want <= 1", allocs)
	}
}

// quoteCases are strings whose JSON encoding must round-trip.
var quoteCases = []string{
	"", "plain", `quote " inside`, `back\slash`, `\"\\"`, "new\nline", "tab\tcr\r", "\b\f",
	"\x00\x01\x1f\x7f", "<html>&amp;</html>", "héllo wörld", "日本語", "emoji 😀", "\u2028\u2029",
	"\ufffd", "mixed \"é\\\n😀\x00", strings.Repeat("long ", 100),
}

func TestAppendQuote(t *testing.T) {
	for _, s := range quoteCases {
		q := AppendQuote([]byte("x"), s)
		if q[0] != 'x' {
			t.Fatalf("AppendQuote clobbered dst")
		}
		q = q[1:]
		// Same bytes as encoding/json with HTML escaping off.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSuffix(buf.String(), "\n"); string(q) != want {
			t.Errorf("AppendQuote(%q) = %s, encoding/json %s", s, q, want)
		}
		got, err := Unquote(q)
		if err != nil || got != s {
			t.Errorf("Unquote(AppendQuote(%q)) = %q, %v", s, got, err)
		}
	}
	// Invalid UTF-8 is replaced, like encoding/json.
	for _, s := range []string{"\xff", "a\xc3", "\xed\xa0\x80", "ok\xe2\x82"} {
		q := AppendQuote(nil, s)
		want, _ := json.Marshal(s)
		if string(q) != string(want) {
			t.Errorf("AppendQuote(%q) = %s, encoding/json %s", s, q, want)
		}
		if !utf8.Valid(q) || !json.Valid(q) {
			t.Errorf("AppendQuote(%q) = %q is not valid", s, q)
		}
	}
}

func TestKeyEquals(t *testing.T) {
	for _, tc := range []struct {
		raw, s string
		want   bool
	}{
		{"topic", "topic", true},
		{"topic", "Topic", false},
		{"topic", "topics", false},
		{"", "", true},
		{`t\u006fpic`, "topic", true},
		{`a\"b`, `a"b`, true},
		{`a\"b`, `a\"b`, false},
		{`bad\`, `bad\`, false},
		{"\xca", "\ufffd", true},
		{"a\xff", "a\xff", false},
		{"é", "é", true},
		{`bad\`, "", false},
		{`\x`, "", false},
	} {
		if got := KeyEquals([]byte(tc.raw), tc.s); got != tc.want {
			t.Errorf("KeyEquals(%q, %q) = %v", tc.raw, tc.s, got)
		}
	}
	if !KeyEquals(nil, "") || KeyEquals(nil, "a") {
		t.Error("KeyEquals(nil, ...) is wrong")
	}
}

func TestIsNull(t *testing.T) {
	for in, want := range map[string]bool{
		"null": true, " null\n": true, "nul": false, `"null"`: false, "": false, "nullnull": false, "{}": false,
	} {
		if got := IsNull([]byte(in)); got != want {
			t.Errorf("IsNull(%q) = %v", in, got)
		}
	}
}

func TestSameBindingID(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1", "1", true},
		{" 1 ", "1", true},
		{"1", "2", false},
		{"1", `"1"`, false},
		{`"abc"`, `"abc"`, true},
		{`"a\u0062c"`, `"abc"`, true},
		{`"abc"`, `"abd"`, false},
		{"", "", false},
	}
	for _, tc := range tests {
		if got := SameBindingID([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("SameBindingID(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}
