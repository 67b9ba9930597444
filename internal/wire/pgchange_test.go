package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/messages"
)

// Payloads of docs/protocol.md §10 items 3, 4 and 19.
const (
	item3Insert = `{"ids":[40723361],"data":{"columns":[{"name":"id","type":"int4"},{"name":"details","type":"text"},{"name":"binary_data","type":"bytea"}],"commit_timestamp":"2026-08-21T10:15:30.5Z","errors":null,"record":{"details":"test","id":1},"schema":"public","table":"test","type":"INSERT"}}`
	item4Update = `{"ids":[40723361],"data":{"columns":[{"name":"id","type":"int4"},{"name":"details","type":"text"},{"name":"binary_data","type":"bytea"}],"commit_timestamp":"2026-08-21T10:15:31Z","errors":null,"old_record":{"id":1},"record":{"binary_data":"0102030405","details":"test","id":1},"schema":"public","table":"test","type":"UPDATE"}}`
	item19JS    = `{"ids":["abc123"],"data":{"type":"INSERT","table":"test","record":{"id":1},"schema":"public","columns":[{"name":"id","type":"int4"}],"commit_timestamp":"2000-01-01T00:01:01Z","errors":[]}}`
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
	want := messages.ChangeEvent{
		Schema:          "public",
		Table:           "todos",
		Type:            messages.PostgresUpdate,
		CommitTimestamp: time.Date(2026, 8, 21, 10, 15, 30, 123_000_000, time.UTC),
		Columns: []messages.Column{
			{Name: "id", Type: "int8"}, {Name: "title", Type: "text"}, {Name: "done", Type: "bool"}, {Name: "tags", Type: "_text"}, {Name: "meta", Type: "jsonb"},
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
		typ       messages.PostgresEvent
		ts        time.Time
		record    string
		oldRecord string
		errors    []string
		row       testRow
	}{
		{"item3 insert", item3Insert, []string{"40723361"}, messages.PostgresInsert,
			time.Date(2026, 8, 21, 10, 15, 30, 5e8, time.UTC), `{"details":"test","id":1}`, "", nil,
			testRow{ID: 1, Details: "test"}},
		{"item4 update", item4Update, []string{"40723361"}, messages.PostgresUpdate,
			time.Date(2026, 8, 21, 10, 15, 31, 0, time.UTC), `{"binary_data":"0102030405","details":"test","id":1}`, `{"id":1}`, nil,
			testRow{ID: 1, Details: "test", BinaryData: []byte{1, 2, 3, 4, 5}}},
		{"item19 realtime-js", item19JS, []string{`"abc123"`}, messages.PostgresInsert,
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
			row, err := messages.DecodeRecord[testRow](ev.Record, ev.Columns)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(row, tc.row) {
				t.Errorf("row = %+v, want %+v", row, tc.row)
			}
			if tc.oldRecord == "" {
				var v map[string]any
				if err := ev.DecodeOldRecord(&v); !errors.Is(err, messages.ErrNoRecord) {
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
		check   func(t *testing.T, ids [][]byte, ev messages.ChangeEvent)
	}{
		{"error 400 reduced data", `{"ids":[1,2],"data":{"schema":"public","table":"t","type":"INSERT","columns":[],"record":{},"commit_timestamp":null,"errors":["Error 400: Bad Request, no primary key"]}}`,
			func(t *testing.T, ids [][]byte, ev messages.ChangeEvent) {
				if len(ids) != 2 || !ev.CommitTimestamp.IsZero() || ev.Columns == nil || len(ev.Columns) != 0 ||
					string(ev.Record) != "{}" || !reflect.DeepEqual(ev.Errors, []string{"Error 400: Bad Request, no primary key"}) {
					t.Errorf("%+v", ev)
				}
			}},
		{"no ids", `{"data":{"type":"DELETE","old_record":{"id":1}}}`,
			func(t *testing.T, ids [][]byte, ev messages.ChangeEvent) {
				if ids != nil || ev.IDs != nil || ev.Type != messages.PostgresDelete || ev.Record != nil || ev.Columns != nil {
					t.Errorf("%q %+v", ids, ev)
				}
			}},
		{"null ids, lower-case type, nulls", `{"ids":null,"data":{"type":"update","schema":null,"table":null,"columns":null,"record":null,"old_record":null,"errors":null,"commit_timestamp":null}}`,
			func(t *testing.T, ids [][]byte, ev messages.ChangeEvent) {
				if ids != nil || ev.Type != messages.PostgresUpdate || ev.Record != nil || ev.OldRecord != nil {
					t.Errorf("%+v", ev)
				}
			}},
		{"unknown type kept", `{"ids":[],"data":{"type":"TRUNCATE"}}`,
			func(t *testing.T, ids [][]byte, ev messages.ChangeEvent) {
				if ev.Type != "TRUNCATE" || len(ids) != 0 {
					t.Errorf("%+v", ev)
				}
			}},
		{"mixed ids, escapes, unknown keys", `{"ids":[-7,"x\"y",3.5],"extra":{"a":[1]},"data":{"type":"INSERT","schema":"p\u00fcblic","x":1,"record":{"a":"\u00e9"}}}`,
			func(t *testing.T, ids [][]byte, ev messages.ChangeEvent) {
				if len(ev.IDs) != 3 || string(ev.IDs[0]) != "-7" || string(ev.IDs[1]) != `"x\"y"` || ev.Schema != "püblic" {
					t.Errorf("%q %+v", ids, ev)
				}
				if !ev.HasID([]byte(`"x\u0022y"`)) || ev.HasID([]byte("7")) {
					t.Error("HasID with escapes")
				}
			}},
		{"timestamp with offset", `{"data":{"type":"INSERT","commit_timestamp":"2026-08-21T12:15:30+02:00"}}`,
			func(t *testing.T, _ [][]byte, ev messages.ChangeEvent) {
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
			if !errors.Is(err, messages.ErrMalformed) {
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
		want                 messages.PostgresEvent
		wantErr              bool
	}{
		{"with type", "INSERT", change, messages.PostgresInsert, false},
		{"type wins over event", "UPDATE", change, messages.PostgresInsert, false},
		{"event fallback", "DELETE", `{"schema":"public","table":"todos","old_record":{"id":1}}`, messages.PostgresDelete, false},
		{"lower-case event fallback", "update", `{"record":{"id":1}}`, messages.PostgresUpdate, false},
		{"fallback must be a change event", "phx_reply", `{"record":{"id":1}}`, "", true},
		{"fallback must not be *", "*", `{"record":{"id":1}}`, "", true},
		{"not an object", "INSERT", `[]`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseLegacyChange(tc.event, []byte(tc.payload))
			if tc.wantErr {
				if !errors.Is(err, messages.ErrMalformed) {
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
			if !errors.Is(err, messages.ErrMalformed) {
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

// FuzzParsePostgresChange checks that parsing never panics, fails only
// with ErrMalformed, and that what it returns is consistent and decodable
// without panics. Seeds live in testdata/fuzz/FuzzParsePostgresChange/.
func FuzzParsePostgresChange(f *testing.F) {
	f.Add([]byte(protocolExample))
	f.Add([]byte(item19JS))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, ev, err := ParsePostgresChange(data)
		if err != nil {
			if !errors.Is(err, messages.ErrMalformed) {
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
				if raw != nil && (!jsonscan.ValidJSON(raw) || raw[0] != '{') {
					t.Fatalf("record is not a JSON object: %q", raw)
				}
			}
			fuzzDecode(t, ev)
		}
		if ev, err := ParseLegacyChange("INSERT", data); err == nil {
			fuzzDecode(t, ev)
		} else if !errors.Is(err, messages.ErrMalformed) {
			t.Fatalf("legacy error does not wrap ErrMalformed: %v", err)
		}
		b := messages.PostgresChanges{Schema: "public", Table: "t", Filter: string(data)}
		_ = b.Validate()
		if _, err := b.MatchesEcho(data); err != nil && !errors.Is(err, messages.ErrMalformed) {
			t.Fatalf("MatchesEcho error: %v", err)
		}
		if !jsonscan.ValidJSON(b.AppendJoinObject(nil)) {
			t.Fatal("AppendJoinObject produced invalid JSON")
		}
	})
}

func fuzzDecode(t *testing.T, ev messages.ChangeEvent) {
	for _, raw := range []json.RawMessage{ev.Record, ev.OldRecord} {
		check := func(err error) {
			if err != nil && !errors.Is(err, messages.ErrDecode) && !errors.Is(err, messages.ErrNoRecord) {
				t.Fatalf("decode error does not wrap ErrDecode: %v", err)
			}
		}
		_, err := messages.DecodeRecord[map[string]any](raw, ev.Columns)
		check(err)
		_, err = messages.DecodeRecord[any](raw, ev.Columns)
		check(err)
	}
}
