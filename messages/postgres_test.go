package messages

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/supabase-go/realtime/filter"
	"github.com/supabase-go/realtime/internal/jsonscan"
)

var (
	_ Event   = ChangeEvent{}
	_ Binding = PostgresChanges{}
)

func TestPostgresChangesValidate(t *testing.T) {
	tests := []struct {
		name   string
		b      PostgresChanges
		option string // "" = valid
	}{
		{"schema only", PostgresChanges{Schema: "public"}, ""},
		{"table only", PostgresChanges{Table: "todos"}, ""},
		{"wildcards", PostgresChanges{Event: PostgresAll, Schema: "*", Table: "*"}, ""},
		{"lower-case event", PostgresChanges{Event: "insert", Schema: "public"}, ""},
		{"filter", PostgresChanges{Event: PostgresUpdate, Schema: "public", Table: "todos", Filter: "id=eq.1"}, ""},
		{"whitespace filter is none", PostgresChanges{Schema: "public", Filter: "  "}, ""},
		{"extended filter syntax", PostgresChanges{Schema: "public", Table: "t", Filter: `user_id=eq.42,status=not.in.(archived,deleted),name=eq."a,b"`}, ""},
		{"columns", PostgresChanges{Schema: "public", Table: "todos", Columns: []string{"id", "title"}}, ""},
		{"empty columns slice", PostgresChanges{Schema: "*", Columns: []string{}}, ""},
		{"neither schema nor table", PostgresChanges{Event: PostgresInsert}, "PostgresChanges.Schema"},
		{"bad event", PostgresChanges{Event: "TRUNCATE", Schema: "public"}, "PostgresChanges.Event"},
		{"filter without table", PostgresChanges{Schema: "public", Filter: "id=eq.1"}, "PostgresChanges.Filter"},
		{"filter without schema", PostgresChanges{Table: "todos", Filter: "id=eq.1"}, "PostgresChanges.Filter"},
		{"filter wrong", PostgresChanges{Schema: "public", Table: "t", Filter: "wrong"}, "PostgresChanges.Filter"},
		{"filter empty segment", PostgresChanges{Schema: "public", Table: "t", Filter: "id=eq.1,,id=eq.2"}, "PostgresChanges.Filter"},
		{"filter in without parens", PostgresChanges{Schema: "public", Table: "t", Filter: "id=in.1"}, "PostgresChanges.Filter"},
		{"filter undefined", PostgresChanges{Schema: "public", Table: "t", Filter: "undefined"}, "PostgresChanges.Filter"},
		{"columns with wildcard table", PostgresChanges{Schema: "public", Table: "*", Columns: []string{"id"}}, "PostgresChanges.Columns"},
		{"columns without table", PostgresChanges{Schema: "public", Columns: []string{"id"}}, "PostgresChanges.Columns"},
		{"columns without schema", PostgresChanges{Table: "t", Columns: []string{"id"}}, "PostgresChanges.Columns"},
		{"columns with wildcard schema", PostgresChanges{Schema: "*", Table: "t", Columns: []string{"id"}}, "PostgresChanges.Columns"},
		{"empty column name", PostgresChanges{Schema: "public", Table: "t", Columns: []string{"id", ""}}, "PostgresChanges.Columns"},
		{"invalid builder filter", PostgresChanges{Schema: "public", Table: "t"}.WithFilter(filter.In("id")), "filter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.b.Validate()
			if tc.option == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var oe *OptionError
			if !errors.As(err, &oe) || oe.Option != tc.option || !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("Validate = %v, want *OptionError for %s", err, tc.option)
			}
		})
	}
}

func TestPostgresChangesJoinObject(t *testing.T) {
	tests := []struct {
		b    PostgresChanges
		want string
	}{
		{PostgresChanges{Event: PostgresInsert, Schema: "public", Table: "todos", Filter: "id=eq.1"},
			`{"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.1"}`},
		{PostgresChanges{Schema: "public"}, `{"event":"*","schema":"public"}`},
		{PostgresChanges{Event: "delete", Table: "todos"}, `{"event":"DELETE","table":"todos"}`},
		{PostgresChanges{Schema: "public", Table: "t", Filter: " \t"}, `{"event":"*","schema":"public","table":"t"}`},
		{PostgresChanges{Event: PostgresAll, Schema: "public", Table: "todos", Filter: `user_id=eq.42,status=not.in.(archived,deleted)`, Columns: []string{"id", "title", "status"}},
			`{"event":"*","schema":"public","table":"todos","filter":"user_id=eq.42,status=not.in.(archived,deleted)","select":["id","title","status"]}`},
		{PostgresChanges{Schema: "public", Table: "t"}.WithFilter(filter.Eq("name", `a"b`)),
			`{"event":"*","schema":"public","table":"t","filter":"name=eq.\"a\\\"b\""}`},
		{PostgresChanges{Schema: "public", Table: "t", Columns: []string{}}, `{"event":"*","schema":"public","table":"t"}`},
	}
	for _, tc := range tests {
		got := string(tc.b.AppendJoinObject([]byte("x")))
		if got != "x"+tc.want {
			t.Errorf("AppendJoinObject\n got %s\nwant x%s", got, tc.want)
		}
		if !jsonscan.ValidJSON([]byte(tc.want)) {
			t.Errorf("invalid JSON %s", tc.want)
		}
		m, err := json.Marshal(map[string]any{"postgres_changes": []PostgresChanges{tc.b}})
		if err != nil || string(m) != `{"postgres_changes":[`+tc.want+`]}` {
			t.Errorf("json.Marshal = %s, %v", m, err)
		}
		// The server echoes the object plus an id: it must match.
		echo := strings.TrimSuffix(tc.want, "}") + `,"id":123}`
		if ok, err := tc.b.MatchesEcho([]byte(echo)); !ok || err != nil {
			t.Errorf("MatchesEcho(own echo %s) = %v, %v", echo, ok, err)
		}
	}
}

func TestPostgresChangesMatchesEcho(t *testing.T) {
	b := PostgresChanges{Event: PostgresInsert, Schema: "public", Table: "todos", Filter: "id=eq.1"}
	noFilter := PostgresChanges{Event: PostgresAll, Schema: "public"}
	tests := []struct {
		name    string
		b       PostgresChanges
		echo    string
		want    bool
		wantErr bool
	}{
		{"exact", b, `{"id":106243155,"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.1"}`, true, false},
		{"key order and string id", b, `{"filter":"id=eq.1","table":"todos","schema":"public","event":"INSERT","id":"abc"}`, true, false},
		{"event case-insensitive", b, `{"event":"insert","schema":"public","table":"todos","filter":"id=eq.1"}`, true, false},
		{"select ignored", b, `{"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.1","select":["a"]}`, true, false},
		{"filter mismatch", b, `{"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.2"}`, false, false},
		{"schema mismatch", b, `{"event":"INSERT","schema":"private","table":"todos","filter":"id=eq.1"}`, false, false},
		{"table mismatch", b, `{"event":"INSERT","schema":"public","table":"todo","filter":"id=eq.1"}`, false, false},
		{"event mismatch", b, `{"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1"}`, false, false},
		{"missing filter", b, `{"event":"INSERT","schema":"public","table":"todos"}`, false, false},
		{"null filter ≡ none", noFilter, `{"event":"*","schema":"public","table":null,"filter":null,"id":1}`, true, false},
		{"empty filter ≡ none", noFilter, `{"event":"*","schema":"public","filter":""}`, true, false},
		{"absent keys ≡ empty", noFilter, `{"event":"*","schema":"public"}`, true, false},
		{"missing event ≡ *", noFilter, `{"schema":"public"}`, true, false},
		{"null event ≡ *", noFilter, `{"event":null,"schema":"public"}`, true, false},
		{"unexpected table", noFilter, `{"event":"*","schema":"public","table":"x"}`, false, false},
		{"escaped strings", PostgresChanges{Schema: `a"b`}, `{"event":"*","schema":"a\"b"}`, true, false},
		{"not object", b, `[1]`, false, true},
		{"event number", b, `{"event":1}`, false, true},
		{"filter object", b, `{"filter":{}}`, false, true},
		{"truncated", b, `{"event":"INSERT"`, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.b.MatchesEcho([]byte(tc.echo))
			if tc.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("MatchesEcho = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestPostgresChangesMatchesEvent(t *testing.T) {
	tests := []struct {
		event PostgresEvent
		typ   PostgresEvent
		want  bool
	}{
		{"", PostgresInsert, true},
		{PostgresAll, PostgresDelete, true},
		{PostgresInsert, PostgresInsert, true},
		{"insert", PostgresInsert, true},
		{PostgresInsert, "insert", true},
		{PostgresInsert, PostgresUpdate, false},
		{PostgresDelete, "TRUNCATE", false},
	}
	for _, tc := range tests {
		if got := (PostgresChanges{Event: tc.event}).MatchesEvent(tc.typ); got != tc.want {
			t.Errorf("MatchesEvent(%q, %q) = %v", tc.event, tc.typ, got)
		}
	}
}

func TestWithFilter(t *testing.T) {
	b := PostgresChanges{Schema: "public", Table: "t"}.WithFilter(filter.Eq("amount", Numeric("12.50")))
	if b.Filter != "amount=eq.12.50" || b.Validate() != nil {
		t.Errorf("Filter = %q, Validate = %v", b.Filter, b.Validate())
	}
	err := PostgresChanges{Schema: "public", Table: "t"}.WithFilter(filter.Eq("", 1)).Validate()
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Option != "filter" || !errors.Is(err, ErrInvalidOption) {
		t.Errorf("Validate with an invalid filter = %v", err)
	}
}
