package pgtext

import (
	"strings"
	"testing"

	"github.com/supabase-go/realtime/internal/jsonscan"
)

func TestPGArrayToJSON(t *testing.T) {
	tests := []struct {
		lit, elem, want string
		ok              bool
	}{
		{"{}", "text", "[]", true},
		{" { } ", "text", "[]", true},
		{"{a,b}", "text", `["a","b"]`, true},
		{`{"a,b", c d ,NULL,"NULL",null}`, "text", `["a,b","c d",null,"NULL",null]`, true},
		{`{"x\\y\"z"}`, "text", `["x\\y\"z"]`, true},
		{`{a\,b}`, "text", `["a,b"]`, true},
		{"{1,-2.5,NaN}", "numeric", `[1,-2.5,"NaN"]`, true},
		{"{t,f,x}", "bool", `[true,false,"x"]`, true},
		{`{"{\"a\":1}",x}`, "jsonb", `[{"a":1},"x"]`, true},
		{"{{1,2},{3,4}}", "int4", "[[1,2],[3,4]]", true},
		{"[1:2]={1,2}", "int4", "[1,2]", true},
		{"{2026-08-21 10:00:00+00}", "timestamptz", `["2026-08-21 10:00:00+00"]`, true},
		{"{é,\"ü\"}", "text", `["é","ü"]`, true},
		{"", "text", "", false},
		{"{", "text", "", false},
		{"{a", "text", "", false},
		{"{a,}", "text", "", false},
		{"{,a}", "text", "", false},
		{"{a}x", "text", "", false},
		{`{"a}`, "text", "", false},
		{`{a"b}`, "text", "", false},
		{"{a{b}}", "text", "", false},
		{"[1:2]{1}", "text", "", false},
		{strings.Repeat("{", 20) + strings.Repeat("}", 20), "text", "", false},
	}
	for _, tc := range tests {
		got, ok := ArrayToJSON(tc.lit, tc.elem)
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("ArrayToJSON(%q, %s) = %s, %v; want %s, %v", tc.lit, tc.elem, got, ok, tc.want, tc.ok)
		}
		if ok && !jsonscan.ValidJSON(got) {
			t.Errorf("ArrayToJSON(%q) produced invalid JSON %s", tc.lit, got)
		}
	}
}
