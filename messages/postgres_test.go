package messages

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	_ Event   = ChangeEvent{}
	_ Binding = PostgresChanges{}
)

// protocolExample is the payload of the §7.2 example frame, verbatim.
const protocolExample = `{
  "ids":[106243155],
  "data":{
    "schema":"public","table":"todos","type":"UPDATE",
    "commit_timestamp":"2026-08-21T10:15:30.123Z",
    "columns":[{"name":"id","type":"int8"},{"name":"title","type":"text"},{"name":"done","type":"bool"},{"name":"tags","type":"_text"},{"name":"meta","type":"jsonb"}],
    "record":{"id":1,"title":"buy milk","done":true,"tags":["a","b"],"meta":{"k":1}},
    "old_record":{"id":1},
    "errors":null
  }
}`

func TestParsePostgresChangeProtocolExample(t *testing.T) {
	payload := []byte(protocolExample)
	ids, ev, err := ParsePostgresChange(payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || string(ids[0]) != "106243155" {
		t.Fatalf("ids = %q", ids)
	}
	want := ChangeEvent{
		Schema:          "public",
		Table:           "todos",
		Type:            PostgresUpdate,
		CommitTimestamp: time.Date(2026, 8, 21, 10, 15, 30, 123_000_000, time.UTC),
		Columns: []Column{
			{"id", "int8"}, {"title", "text"}, {"done", "bool"}, {"tags", "_text"}, {"meta", "jsonb"},
		},
		Record:    json.RawMessage(`{"id":1,"title":"buy milk","done":true,"tags":["a","b"],"meta":{"k":1}}`),
		OldRecord: json.RawMessage(`{"id":1}`),
		IDs:       []json.RawMessage{json.RawMessage("106243155")},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("event\n got %#v\nwant %#v", ev, want)
	}
	if ev.CommitTimestamp.Location() != time.UTC {
		t.Errorf("commit timestamp location %v", ev.CommitTimestamp.Location())
	}
	if !ev.HasID([]byte("106243155")) || ev.HasID([]byte(`"106243155"`)) {
		t.Error("HasID")
	}
	if ev.ChannelName() != "" {
		t.Error("ChannelName")
	}

	// The event owns its raw data; ids alias the payload.
	for i := range payload {
		payload[i] = ' '
	}
	if string(ev.Record) != string(want.Record) || string(ev.IDs[0]) != "106243155" {
		t.Error("event aliases the payload")
	}
	if string(ids[0]) == "106243155" {
		t.Error("ids are expected to alias the payload")
	}

	type todo struct {
		ID    int64          `json:"id"`
		Title string         `json:"title"`
		Done  bool           `json:"done"`
		Tags  []string       `json:"tags"`
		Meta  map[string]int `json:"meta"`
	}
	var row todo
	if err := ev.DecodeRecord(&row); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(row, todo{1, "buy milk", true, []string{"a", "b"}, map[string]int{"k": 1}}) {
		t.Errorf("row = %+v", row)
	}
	var old todo
	if err := ev.DecodeOldRecord(&old); err != nil || old.ID != 1 || old.Title != "" {
		t.Errorf("old = %+v, %v", old, err)
	}
}

// Payloads of PROTOCOL.md §10 items 3, 4 and 19.
const (
	item3Insert = `{"ids":[40723361],"data":{"columns":[{"name":"id","type":"int4"},{"name":"details","type":"text"},{"name":"binary_data","type":"bytea"}],"commit_timestamp":"2026-08-21T10:15:30.5Z","errors":null,"record":{"details":"test","id":1},"schema":"public","table":"test","type":"INSERT"}}`
	item4Update = `{"ids":[40723361],"data":{"columns":[{"name":"id","type":"int4"},{"name":"details","type":"text"},{"name":"binary_data","type":"bytea"}],"commit_timestamp":"2026-08-21T10:15:31Z","errors":null,"old_record":{"id":1},"record":{"binary_data":"0102030405","details":"test","id":1},"schema":"public","table":"test","type":"UPDATE"}}`
	item19JS    = `{"ids":["abc123"],"data":{"type":"INSERT","table":"test","record":{"id":1},"schema":"public","columns":[{"name":"id","type":"int4"}],"commit_timestamp":"2000-01-01T00:01:01Z","errors":[]}}`
)

func TestParsePostgresChangeTestSuitePayloads(t *testing.T) {
	type testRow struct {
		ID         int32  `json:"id"`
		Details    string `json:"details"`
		BinaryData []byte `json:"binary_data"`
	}
	tests := []struct {
		name      string
		payload   string
		ids       []string
		typ       PostgresEvent
		ts        time.Time
		record    string
		oldRecord string
		errors    []string
		row       testRow
	}{
		{"item3 insert", item3Insert, []string{"40723361"}, PostgresInsert,
			time.Date(2026, 8, 21, 10, 15, 30, 5e8, time.UTC), `{"details":"test","id":1}`, "", nil,
			testRow{ID: 1, Details: "test"}},
		{"item4 update", item4Update, []string{"40723361"}, PostgresUpdate,
			time.Date(2026, 8, 21, 10, 15, 31, 0, time.UTC), `{"binary_data":"0102030405","details":"test","id":1}`, `{"id":1}`, nil,
			testRow{ID: 1, Details: "test", BinaryData: []byte{1, 2, 3, 4, 5}}},
		{"item19 realtime-js", item19JS, []string{`"abc123"`}, PostgresInsert,
			time.Date(2000, 1, 1, 0, 1, 1, 0, time.UTC), `{"id":1}`, "", []string{},
			testRow{ID: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids, ev, err := ParsePostgresChange([]byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != len(tc.ids) || len(ev.IDs) != len(tc.ids) {
				t.Fatalf("ids = %q, IDs = %q", ids, ev.IDs)
			}
			for i := range ids {
				if string(ids[i]) != tc.ids[i] || string(ev.IDs[i]) != tc.ids[i] {
					t.Errorf("id %d = %s / %s, want %s", i, ids[i], ev.IDs[i], tc.ids[i])
				}
			}
			if ev.Schema != "public" || ev.Table != "test" || ev.Type != tc.typ {
				t.Errorf("schema/table/type = %q %q %q", ev.Schema, ev.Table, ev.Type)
			}
			if !ev.CommitTimestamp.Equal(tc.ts) {
				t.Errorf("commit_timestamp = %v", ev.CommitTimestamp)
			}
			if string(ev.Record) != tc.record {
				t.Errorf("record = %s", ev.Record)
			}
			if string(ev.OldRecord) != tc.oldRecord || (tc.oldRecord == "") != (ev.OldRecord == nil) {
				t.Errorf("old_record = %q", ev.OldRecord)
			}
			if !reflect.DeepEqual(ev.Errors, tc.errors) {
				t.Errorf("errors = %#v, want %#v", ev.Errors, tc.errors)
			}
			row, err := DecodeRecord[testRow](ev.Record, ev.Columns)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(row, tc.row) {
				t.Errorf("row = %+v, want %+v", row, tc.row)
			}
			if tc.oldRecord == "" {
				var v map[string]any
				if err := ev.DecodeOldRecord(&v); !errors.Is(err, ErrNoRecord) {
					t.Errorf("DecodeOldRecord = %v, want ErrNoRecord", err)
				}
			}
		})
	}
}

func TestParsePostgresChangeVariants(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		check   func(t *testing.T, ids [][]byte, ev ChangeEvent)
	}{
		{"error 400 reduced data", `{"ids":[1,2],"data":{"schema":"public","table":"t","type":"INSERT","columns":[],"record":{},"commit_timestamp":null,"errors":["Error 400: Bad Request, no primary key"]}}`,
			func(t *testing.T, ids [][]byte, ev ChangeEvent) {
				if len(ids) != 2 || !ev.CommitTimestamp.IsZero() || ev.Columns == nil || len(ev.Columns) != 0 ||
					string(ev.Record) != "{}" || !reflect.DeepEqual(ev.Errors, []string{"Error 400: Bad Request, no primary key"}) {
					t.Errorf("%+v", ev)
				}
			}},
		{"no ids", `{"data":{"type":"DELETE","old_record":{"id":1}}}`,
			func(t *testing.T, ids [][]byte, ev ChangeEvent) {
				if ids != nil || ev.IDs != nil || ev.Type != PostgresDelete || ev.Record != nil || ev.Columns != nil {
					t.Errorf("%q %+v", ids, ev)
				}
			}},
		{"null ids, lower-case type, nulls", `{"ids":null,"data":{"type":"update","schema":null,"table":null,"columns":null,"record":null,"old_record":null,"errors":null,"commit_timestamp":null}}`,
			func(t *testing.T, ids [][]byte, ev ChangeEvent) {
				if ids != nil || ev.Type != PostgresUpdate || ev.Record != nil || ev.OldRecord != nil {
					t.Errorf("%+v", ev)
				}
			}},
		{"unknown type kept", `{"ids":[],"data":{"type":"TRUNCATE"}}`,
			func(t *testing.T, ids [][]byte, ev ChangeEvent) {
				if ev.Type != "TRUNCATE" || len(ids) != 0 {
					t.Errorf("%+v", ev)
				}
			}},
		{"mixed ids, escapes, unknown keys", `{"ids":[-7,"x\"y",3.5],"extra":{"a":[1]},"data":{"type":"INSERT","schema":"p\u00fcblic","x":1,"record":{"a":"\u00e9"}}}`,
			func(t *testing.T, ids [][]byte, ev ChangeEvent) {
				if len(ev.IDs) != 3 || string(ev.IDs[0]) != "-7" || string(ev.IDs[1]) != `"x\"y"` || ev.Schema != "püblic" {
					t.Errorf("%q %+v", ids, ev)
				}
				if !ev.HasID([]byte(`"x\u0022y"`)) || ev.HasID([]byte("7")) {
					t.Error("HasID with escapes")
				}
			}},
		{"timestamp with offset", `{"data":{"type":"INSERT","commit_timestamp":"2026-08-21T12:15:30+02:00"}}`,
			func(t *testing.T, _ [][]byte, ev ChangeEvent) {
				if !ev.CommitTimestamp.Equal(time.Date(2026, 8, 21, 10, 15, 30, 0, time.UTC)) || ev.CommitTimestamp.Location() != time.UTC {
					t.Errorf("%v", ev.CommitTimestamp)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids, ev, err := ParsePostgresChange([]byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, ids, ev)
		})
	}
}

func TestParsePostgresChangeMalformed(t *testing.T) {
	const secret = "s3cr3t-value"
	tests := []struct{ name, payload string }{
		{"empty", ``},
		{"not object", `[1]`},
		{"trailing", `{"data":{"type":"INSERT"}} x`},
		{"missing data", `{"ids":[1]}`},
		{"null data", `{"ids":[1],"data":null}`},
		{"data not object", `{"data":"` + secret + `"}`},
		{"ids not array", `{"ids":1,"data":{"type":"INSERT"}}`},
		{"id object", `{"ids":[{"a":1}],"data":{"type":"INSERT"}}`},
		{"id bool", `{"ids":[true],"data":{"type":"INSERT"}}`},
		{"id null", `{"ids":[null],"data":{"type":"INSERT"}}`},
		{"missing type", `{"data":{"schema":"public"}}`},
		{"empty type", `{"data":{"type":""}}`},
		{"type number", `{"data":{"type":1}}`},
		{"schema number", `{"data":{"type":"INSERT","schema":1}}`},
		{"table bool", `{"data":{"type":"INSERT","table":true}}`},
		{"bad timestamp", `{"data":{"type":"INSERT","commit_timestamp":"` + secret + `"}}`},
		{"timestamp number", `{"data":{"type":"INSERT","commit_timestamp":12}}`},
		{"columns object", `{"data":{"type":"INSERT","columns":{}}}`},
		{"column not object", `{"data":{"type":"INSERT","columns":["id"]}}`},
		{"column name number", `{"data":{"type":"INSERT","columns":[{"name":1,"type":"int4"}]}}`},
		{"record array", `{"data":{"type":"INSERT","record":[1]}}`},
		{"record string", `{"data":{"type":"INSERT","record":"` + secret + `"}}`},
		{"old_record number", `{"data":{"type":"INSERT","old_record":1}}`},
		{"errors string", `{"data":{"type":"INSERT","errors":"x"}}`},
		{"errors element number", `{"data":{"type":"INSERT","errors":[1]}}`},
		{"bad json in record", `{"data":{"type":"INSERT","record":{"a":}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParsePostgresChange([]byte(tc.payload))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the value: %v", err)
			}
		})
	}
}

func TestParseLegacyChange(t *testing.T) {
	const change = `{"schema":"public","table":"todos","type":"INSERT","commit_timestamp":"2026-08-21T10:15:30Z","columns":[{"name":"id","type":"int8"}],"record":{"id":"5"},"errors":null}`
	tests := []struct {
		name, event, payload string
		want                 PostgresEvent
		wantErr              bool
	}{
		{"with type", "INSERT", change, PostgresInsert, false},
		{"type wins over event", "UPDATE", change, PostgresInsert, false},
		{"event fallback", "DELETE", `{"schema":"public","table":"todos","old_record":{"id":1}}`, PostgresDelete, false},
		{"lower-case event fallback", "update", `{"record":{"id":1}}`, PostgresUpdate, false},
		{"fallback must be a change event", "phx_reply", `{"record":{"id":1}}`, "", true},
		{"fallback must not be *", "*", `{"record":{"id":1}}`, "", true},
		{"not an object", "INSERT", `[]`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseLegacyChange(tc.event, []byte(tc.payload))
			if tc.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != tc.want || ev.IDs != nil {
				t.Errorf("type %q ids %q", ev.Type, ev.IDs)
			}
		})
	}
	ev, err := ParseLegacyChange("INSERT", []byte(change))
	if err != nil {
		t.Fatal(err)
	}
	var row struct{ ID int64 }
	if err := ev.DecodeRecord(&row); err != nil || row.ID != 5 {
		t.Errorf("legacy string int8: %+v %v", row, err)
	}
}

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
		{"invalid builder filter", PostgresChanges{Schema: "public", Table: "t"}.WithFilter(In("id")), "filter"},
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
		{PostgresChanges{Schema: "public", Table: "t"}.WithFilter(Eq("name", `a"b`)),
			`{"event":"*","schema":"public","table":"t","filter":"name=eq.\"a\\\"b\""}`},
		{PostgresChanges{Schema: "public", Table: "t", Columns: []string{}}, `{"event":"*","schema":"public","table":"t"}`},
	}
	for _, tc := range tests {
		got := string(tc.b.AppendJoinObject([]byte("x")))
		if got != "x"+tc.want {
			t.Errorf("AppendJoinObject\n got %s\nwant x%s", got, tc.want)
		}
		if !ValidJSON([]byte(tc.want)) {
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

func TestParseBindingID(t *testing.T) {
	tests := []struct {
		obj, want string
		wantErr   bool
	}{
		{`{"id":106243155,"event":"INSERT"}`, "106243155", false},
		{`{"event":"*","id":"abc123"}`, `"abc123"`, false},
		{`{"id":-1.5e3}`, "-1.5e3", false},
		{`{ "id" : 7 }`, "7", false},
		{`{"id":1,"id":2}`, "2", false},
		{`{"event":"*"}`, "", true},
		{`{"id":null}`, "", true},
		{`{"id":true}`, "", true},
		{`{"id":{"a":1}}`, "", true},
		{`{"id":[1]}`, "", true},
		{`"abc"`, "", true},
		{`{"id":1`, "", true},
	}
	for _, tc := range tests {
		obj := []byte(tc.obj)
		id, err := ParseBindingID(obj)
		if tc.wantErr {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: err = %v, want ErrMalformed", tc.obj, err)
			}
			continue
		}
		if err != nil || string(id) != tc.want {
			t.Errorf("%s: id = %s, %v; want %s", tc.obj, id, err, tc.want)
			continue
		}
		for i := range obj {
			obj[i] = 'x'
		}
		if string(id) != tc.want {
			t.Errorf("%s: id aliases its input", tc.obj)
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

// FuzzParsePostgresChange checks that parsing never panics, fails only
// with ErrMalformed, and that what it returns is consistent and decodable
// without panics. Seeds live in testdata/fuzz/FuzzParsePostgresChange/.
func FuzzParsePostgresChange(f *testing.F) {
	f.Add([]byte(protocolExample))
	f.Add([]byte(item19JS))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, ev, err := ParsePostgresChange(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
		} else {
			if len(ids) != len(ev.IDs) {
				t.Fatalf("%d ids, %d IDs", len(ids), len(ev.IDs))
			}
			for i := range ids {
				if string(ids[i]) != string(ev.IDs[i]) || !ev.HasID(ids[i]) {
					t.Fatalf("id %d differs", i)
				}
			}
			if ev.Type == "" {
				t.Fatal("empty type")
			}
			for _, raw := range []json.RawMessage{ev.Record, ev.OldRecord} {
				if raw != nil && (!ValidJSON(raw) || raw[0] != '{') {
					t.Fatalf("record is not a JSON object: %q", raw)
				}
			}
			fuzzDecode(t, ev)
		}
		if ev, err := ParseLegacyChange("INSERT", data); err == nil {
			fuzzDecode(t, ev)
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("legacy error does not wrap ErrMalformed: %v", err)
		}
		b := PostgresChanges{Schema: "public", Table: "t", Filter: string(data)}
		_ = b.Validate()
		if _, err := b.MatchesEcho(data); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("MatchesEcho error: %v", err)
		}
		if !ValidJSON(b.AppendJoinObject(nil)) {
			t.Fatal("AppendJoinObject produced invalid JSON")
		}
	})
}

// fuzzRow exercises every coercion path.
type fuzzRow struct {
	ID    int64          `json:"id"`
	S     string         `json:"s"`
	N     Numeric        `json:"n"`
	B     bool           `json:"b"`
	T     *time.Time     `json:"t"`
	F     float64        `json:"f"`
	Tags  []string       `json:"tags"`
	Bytes []byte         `json:"bytes"`
	Meta  map[string]any `json:"meta"`
	Any   any            `json:"any"`
}

func fuzzDecode(t *testing.T, ev ChangeEvent) {
	for _, raw := range []json.RawMessage{ev.Record, ev.OldRecord} {
		check := func(err error) {
			if err != nil && !errors.Is(err, ErrDecode) && !errors.Is(err, ErrNoRecord) {
				t.Fatalf("decode error does not wrap ErrDecode: %v", err)
			}
		}
		_, err := DecodeRecord[map[string]any](raw, ev.Columns)
		check(err)
		_, err = DecodeRecord[fuzzRow](raw, ev.Columns)
		check(err)
		_, err = DecodeRecord[any](raw, ev.Columns)
		check(err)
	}
}
