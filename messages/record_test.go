package messages

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/jsonscan"
)

const exactNumeric = "123456789012345678901234567890.123456789"

type metaNested struct {
	Name string `json:"name"`
}

type metaJSON struct {
	K      int        `json:"k"`
	Nested metaNested `json:"nested"`
	When   time.Time  `json:"when"`
	Big    string     `json:"big"`
}

type typedRow struct {
	ID       int64           `json:"id"`
	Big      uint64          `json:"big"`
	Amount   Numeric         `json:"amount"`
	AmountS  string          `json:"amount_s"`
	AmountN  json.Number     `json:"amount_n"`
	AmountR  *big.Rat        `json:"amount_r"`
	AmountF  float64         `json:"amount_f"`
	At       time.Time       `json:"at"`
	AtPtr    *time.Time      `json:"at_ptr"`
	Tags     []string        `json:"tags"`
	Meta     metaJSON        `json:"meta"`
	MetaRaw  json.RawMessage `json:"meta_raw"`
	Note     *string         `json:"note"`
	Done     bool            `json:"done"`
	UUID     string          `json:"uuid"`
	Ignored  string          `json:"-"`
	NotInRow string          `json:"not_in_row"`
}

var typedColumns = []Column{
	{"id", "int8"}, {"big", "int8"}, {"amount", "numeric"}, {"amount_s", "numeric"}, {"amount_n", "numeric"},
	{"amount_r", "numeric"}, {"amount_f", "numeric"}, {"at", "timestamptz"}, {"at_ptr", "timestamptz"},
	{"tags", "_text"}, {"meta", "jsonb"}, {"meta_raw", "jsonb"}, {"note", "text"}, {"done", "bool"}, {"uuid", "uuid"},
}

const typedRecord = `{
	"id":9223372036854775807,
	"big":18446744073709551615,
	"amount":` + exactNumeric + `,
	"amount_s":` + exactNumeric + `,
	"amount_n":` + exactNumeric + `,
	"amount_r":` + exactNumeric + `,
	"amount_f":12.5,
	"at":"2026-08-21T10:15:30.123456+00:00",
	"at_ptr":null,
	"tags":["a","b"],
	"meta":{"k":1,"nested":{"name":"x"},"when":"2026-08-21T12:00:00+02:00","big":12345678901234567890123},
	"meta_raw":{"k": [1, 2.50]},
	"note":null,
	"done":true,
	"uuid":"6f9619ff-8b86-d011-b42d-00cf4fc964ff",
	"-":"x",
	"unknown":{"deep":[1,2,3]}
}`

func TestDecodeRecordTypedStruct(t *testing.T) {
	row, err := DecodeRecord[typedRow](json.RawMessage(typedRecord), typedColumns)
	if err != nil {
		t.Fatal(err)
	}
	wantRat, _ := new(big.Rat).SetString(exactNumeric)
	if row.ID != math.MaxInt64 {
		t.Errorf("ID = %d", row.ID)
	}
	if row.Big != math.MaxUint64 {
		t.Errorf("Big = %d", row.Big)
	}
	if row.Amount != exactNumeric || row.AmountS != exactNumeric || row.AmountN != exactNumeric {
		t.Errorf("numeric = %q %q %q", row.Amount, row.AmountS, row.AmountN)
	}
	if row.AmountR == nil || row.AmountR.Cmp(wantRat) != 0 {
		t.Errorf("AmountR = %v", row.AmountR)
	}
	if r, ok := row.Amount.Rat(); !ok || r.Cmp(wantRat) != 0 {
		t.Errorf("Amount.Rat() = %v, %v", r, ok)
	}
	if row.AmountF != 12.5 {
		t.Errorf("AmountF = %v", row.AmountF)
	}
	wantAt := time.Date(2026, 8, 21, 10, 15, 30, 123456000, time.UTC)
	if !row.At.Equal(wantAt) || row.At.Location() != time.UTC {
		t.Errorf("At = %v", row.At)
	}
	if row.AtPtr != nil || row.Note != nil {
		t.Errorf("null pointers: %v %v", row.AtPtr, row.Note)
	}
	if !reflect.DeepEqual(row.Tags, []string{"a", "b"}) {
		t.Errorf("Tags = %q", row.Tags)
	}
	wantMeta := metaJSON{K: 1, Nested: metaNested{"x"}, When: time.Date(2026, 8, 21, 10, 0, 0, 0, time.UTC), Big: "12345678901234567890123"}
	if !reflect.DeepEqual(row.Meta, wantMeta) {
		t.Errorf("Meta = %+v", row.Meta)
	}
	if string(row.MetaRaw) != `{"k": [1, 2.50]}` {
		t.Errorf("MetaRaw = %s", row.MetaRaw)
	}
	if !row.Done || row.UUID != "6f9619ff-8b86-d011-b42d-00cf4fc964ff" || row.Ignored != "" || row.NotInRow != "" {
		t.Errorf("row = %+v", row)
	}

	// Pointer targets and the method form behave the same.
	p, err := DecodeRecord[*typedRow](json.RawMessage(typedRecord), typedColumns)
	if err != nil || p == nil || p.ID != math.MaxInt64 || p.Amount != exactNumeric {
		t.Fatalf("*typedRow: %+v, %v", p, err)
	}
	ev := ChangeEvent{Record: json.RawMessage(typedRecord), Columns: typedColumns}
	var viaMethod typedRow
	if err := ev.DecodeRecord(&viaMethod); err != nil || viaMethod.AmountS != exactNumeric {
		t.Fatalf("method: %+v, %v", viaMethod, err)
	}
	// Without column metadata the typed path is the same.
	noCols, err := DecodeRecord[typedRow](json.RawMessage(typedRecord), nil)
	if err != nil || noCols.ID != row.ID || noCols.AmountS != exactNumeric || !noCols.At.Equal(wantAt) {
		t.Fatalf("no columns: %+v, %v", noCols, err)
	}
}

func TestDecodeRecordUntyped(t *testing.T) {
	m, err := DecodeRecord[map[string]any](json.RawMessage(typedRecord), typedColumns)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{
		"id":       json.Number("9223372036854775807"),
		"big":      json.Number("18446744073709551615"),
		"amount":   json.Number(exactNumeric),
		"amount_f": json.Number("12.5"),
		"at":       "2026-08-21T10:15:30.123456+00:00", // strings stay as sent
		"at_ptr":   nil,
		"tags":     []any{"a", "b"},
		"done":     true,
		"meta_raw": map[string]any{"k": []any{json.Number("1"), json.Number("2.50")}},
	}
	for k, want := range checks {
		if !reflect.DeepEqual(m[k], want) {
			t.Errorf("%s = %#v, want %#v", k, m[k], want)
		}
	}
	meta := m["meta"].(map[string]any)
	if meta["big"] != json.Number("12345678901234567890123") || meta["nested"].(map[string]any)["name"] != "x" {
		t.Errorf("meta = %#v", meta)
	}

	a, err := DecodeRecord[any](json.RawMessage(`{"n":1.0,"s":"x"}`), nil)
	if err != nil || !reflect.DeepEqual(a, map[string]any{"n": json.Number("1.0"), "s": "x"}) {
		t.Errorf("any = %#v, %v", a, err)
	}
	raw, err := DecodeRecord[json.RawMessage](json.RawMessage(` {"n":1} `), nil)
	if err != nil || string(raw) != `{"n":1}` {
		t.Errorf("RawMessage = %s, %v", raw, err)
	}
	typed, err := DecodeRecord[map[string]int64](json.RawMessage(`{"a":"9223372036854775807","b":2}`), []Column{{"a", "int8"}})
	if err != nil || typed["a"] != math.MaxInt64 || typed["b"] != 2 {
		t.Errorf("map[string]int64 = %v, %v", typed, err)
	}
}

func TestDecodeRecordLegacyStrings(t *testing.T) {
	// A legacy server sends Postgres text output for every value.
	record := json.RawMessage(`{
		"id":"9223372036854775807","small":"-12","done":"t","off":"f","price":"` + exactNumeric + `",
		"ratio":"0.25","tags":"{a,\"b,c\",NULL,\"\\\"q\\\"\"}","nums":"{1,2,3}","grid":"{{1,2},{3,4}}",
		"flags":"{t,f}","at":"2026-08-21 10:15:30.5+00","day":"2026-08-21","naive":"2026-08-21 10:15:30",
		"meta":"{\"k\":1}","ids8":"{9223372036854775807,1}","blob":"\\x0a0b","empty":"{}","nan":"NaN"
	}`)
	columns := []Column{
		{"id", "int8"}, {"small", "int2"}, {"done", "bool"}, {"off", "bool"}, {"price", "numeric"},
		{"ratio", "float8"}, {"tags", "_text"}, {"nums", "_int4"}, {"grid", "_int4"}, {"flags", "_bool"},
		{"at", "timestamptz"}, {"day", "date"}, {"naive", "timestamp"}, {"meta", "jsonb"}, {"ids8", "_int8"},
		{"blob", "bytea"}, {"empty", "_text"}, {"nan", "numeric"},
	}
	type legacyRow struct {
		ID    int64     `json:"id"`
		Small int16     `json:"small"`
		Done  bool      `json:"done"`
		Off   bool      `json:"off"`
		Price Numeric   `json:"price"`
		Ratio float64   `json:"ratio"`
		Tags  []*string `json:"tags"`
		Nums  []int     `json:"nums"`
		Grid  [][]int   `json:"grid"`
		Flags []bool    `json:"flags"`
		At    time.Time `json:"at"`
		Day   time.Time `json:"day"`
		Naive time.Time `json:"naive"`
		Meta  string    `json:"meta"`
		IDs8  []string  `json:"ids8"`
		Blob  []byte    `json:"blob"`
		Empty []string  `json:"empty"`
		NaN   Numeric   `json:"nan"`
	}
	row, err := DecodeRecord[legacyRow](record, columns)
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	want := legacyRow{
		ID: math.MaxInt64, Small: -12, Done: true, Off: false, Price: exactNumeric, Ratio: 0.25,
		Tags: []*string{str("a"), str("b,c"), nil, str(`"q"`)}, Nums: []int{1, 2, 3}, Grid: [][]int{{1, 2}, {3, 4}},
		Flags: []bool{true, false},
		At:    time.Date(2026, 8, 21, 10, 15, 30, 5e8, time.UTC),
		Day:   time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC),
		Naive: time.Date(2026, 8, 21, 10, 15, 30, 0, time.UTC),
		Meta:  `{"k":1}`, IDs8: []string{"9223372036854775807", "1"}, Blob: []byte{10, 11}, Empty: []string{}, NaN: "NaN",
	}
	if !reflect.DeepEqual(row, want) {
		t.Errorf("legacy row\n got %+v\nwant %+v", row, want)
	}

	m, err := DecodeRecord[map[string]any](record, columns)
	if err != nil {
		t.Fatal(err)
	}
	wantMap := map[string]any{
		"id": json.Number("9223372036854775807"), "small": json.Number("-12"), "done": true, "off": false,
		"price": json.Number(exactNumeric), "ratio": json.Number("0.25"),
		"tags":  []any{"a", "b,c", nil, `"q"`},
		"nums":  []any{json.Number("1"), json.Number("2"), json.Number("3")},
		"grid":  []any{[]any{json.Number("1"), json.Number("2")}, []any{json.Number("3"), json.Number("4")}},
		"flags": []any{true, false},
		"at":    "2026-08-21 10:15:30.5+00", "day": "2026-08-21", "naive": "2026-08-21 10:15:30",
		"meta": `{"k":1}`, // a jsonb string is never parsed again
		"ids8": []any{json.Number("9223372036854775807"), json.Number("1")},
		"blob": `\x0a0b`, "empty": []any{}, "nan": "NaN",
	}
	if !reflect.DeepEqual(m, wantMap) {
		for k := range wantMap {
			if !reflect.DeepEqual(m[k], wantMap[k]) {
				t.Errorf("%s = %#v, want %#v", k, m[k], wantMap[k])
			}
		}
	}
}

func TestDecodeRecordArrays(t *testing.T) {
	record := json.RawMessage(`{"ts":["2026-08-21T10:15:30+00:00",null],"grid":[[1,2],[3,4]],"ids":[9223372036854775807,1],
		"blobs":["\\x01","02"],"j":[{"a":1},"x"],"bad":"{unclosed"}`)
	columns := []Column{{"ts", "_timestamptz"}, {"grid", "_int4"}, {"ids", "_int8"}, {"blobs", "_bytea"}, {"j", "_jsonb"}, {"bad", "_text"}}
	type arrRow struct {
		TS    []*time.Time      `json:"ts"`
		Grid  [][2]int          `json:"grid"`
		IDs   []string          `json:"ids"`
		Blobs [][]byte          `json:"blobs"`
		J     []json.RawMessage `json:"j"`
	}
	row, err := DecodeRecord[arrRow](record, columns)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 8, 21, 10, 15, 30, 0, time.UTC)
	if len(row.TS) != 2 || !row.TS[0].Equal(ts) || row.TS[1] != nil {
		t.Errorf("TS = %v", row.TS)
	}
	if !reflect.DeepEqual(row.Grid, [][2]int{{1, 2}, {3, 4}}) || !reflect.DeepEqual(row.IDs, []string{"9223372036854775807", "1"}) {
		t.Errorf("Grid/IDs = %v %v", row.Grid, row.IDs)
	}
	if !reflect.DeepEqual(row.Blobs, [][]byte{{1}, {2}}) {
		t.Errorf("Blobs = %v", row.Blobs)
	}
	if len(row.J) != 2 || string(row.J[0]) != `{"a":1}` || string(row.J[1]) != `"x"` {
		t.Errorf("J = %s", row.J)
	}
	// An unparseable array literal is left alone: encoding/json rejects it.
	_, err = DecodeRecord[struct {
		Bad []string `json:"bad"`
	}](record, columns)
	var de *DecodeError
	if !errors.As(err, &de) || de.Column != "bad" || de.JSONKind != "string" {
		t.Errorf("bad literal: %v", err)
	}
	m, err := DecodeRecord[map[string]any](record, columns)
	if err != nil || m["bad"] != "{unclosed" {
		t.Errorf("bad literal into map: %#v, %v", m["bad"], err)
	}
}

func TestDecodeRecordTimes(t *testing.T) {
	type timeRow struct {
		At  time.Time  `json:"at"`
		Ptr *time.Time `json:"ptr"`
		Raw string     `json:"raw"`
	}
	want := time.Date(2026, 8, 21, 10, 15, 30, 123456000, time.UTC)
	tests := []struct {
		name, value string
		want        time.Time
	}{
		{"to_jsonb timestamptz", "2026-08-21T10:15:30.123456+00:00", want},
		{"offset", "2026-08-21T12:45:30.123456+02:30", want},
		{"timestamp without zone", "2026-08-21T10:15:30.123456", want},
		{"legacy space", "2026-08-21 10:15:30.123456+00", want},
		{"commit_timestamp Z", "2026-08-21T10:15:30.123456Z", want},
		{"date", "2026-08-21", time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := fmt.Sprintf(`{"at":%q,"ptr":%q,"raw":%q}`, tc.value, tc.value, tc.value)
			row, err := DecodeRecord[timeRow](json.RawMessage(rec), []Column{{"at", "timestamptz"}, {"ptr", "timestamp"}, {"raw", "timestamptz"}})
			if err != nil {
				t.Fatal(err)
			}
			if !row.At.Equal(tc.want) || row.At.Location() != time.UTC || row.Ptr == nil || !row.Ptr.Equal(tc.want) {
				t.Errorf("At = %v, Ptr = %v", row.At, row.Ptr)
			}
			if row.Raw != tc.value {
				t.Errorf("string target changed: %q", row.Raw)
			}
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	valid := []struct {
		in   string
		want time.Time
	}{
		{"2026-08-21T10:15:30.123456+00:00", time.Date(2026, 8, 21, 10, 15, 30, 123456000, time.UTC)},
		{"2026-08-21T10:15:30.123Z", time.Date(2026, 8, 21, 10, 15, 30, 123e6, time.UTC)},
		{"2026-08-21t10:15:30z", time.Date(2026, 8, 21, 10, 15, 30, 0, time.UTC)},
		{"2026-08-21 10:15:30-07", time.Date(2026, 8, 21, 17, 15, 30, 0, time.UTC)},
		{"2026-08-21 10:15:30+0530", time.Date(2026, 8, 21, 4, 45, 30, 0, time.UTC)},
		{"1890-01-01 00:00:00+00:53:28", time.Date(1889, 12, 31, 23, 6, 32, 0, time.UTC)},
		{"2026-08-21T10:15", time.Date(2026, 8, 21, 10, 15, 0, 0, time.UTC)},
		{"2026-08-21T10:15:30.1234567891234", time.Date(2026, 8, 21, 10, 15, 30, 123456789, time.UTC)},
		{"2026-08-21T24:00:00", time.Date(2026, 8, 22, 0, 0, 0, 0, time.UTC)},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"0001-01-01T00:00:00Z", time.Time{}},
	}
	for _, tc := range valid {
		got, err := ParseTimestamp(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	invalid := []string{
		"", "infinity", "-infinity", "2026-8-21", "2026/08/21", "2026-13-01", "2026-02-30", "2025-02-29",
		"2026-08-21X10:15:30", "2026-08-21T1:15", "2026-08-21T10:15:3", "2026-08-21T10:15:30.", "2026-08-21T25:00:00",
		"2026-08-21T10:60:00", "2026-08-21T10:15:60", "2026-08-21T10:15:30+1", "2026-08-21T10:15:30+24:00",
		"2026-08-21T10:15:30+00:60", "2026-08-21T10:15:30 BC", "2026-08-21T10:15:30Zjunk", "0044-03-15 BC",
		"10000-01-01", "0000-01-01T00:00:00+01:00", "2026-08-21T10:15:30+00:00:6", "2026-08-21T24:00:01",
		"secret-token-xyz",
	}
	for _, in := range invalid {
		_, err := ParseTimestamp(in)
		if !errors.Is(err, ErrDecode) {
			t.Errorf("ParseTimestamp(%q) = %v, want ErrDecode", in, err)
			continue
		}
		if in != "" && strings.Contains(err.Error(), in) {
			t.Errorf("error leaks input: %v", err)
		}
	}
}

func TestDecodeRecordBytea(t *testing.T) {
	type blobRow struct {
		B []byte `json:"b"`
		S string `json:"s"`
	}
	cols := []Column{{"b", "bytea"}, {"s", "bytea"}}
	for _, in := range []string{`"\\x0102030405"`, `"0102030405"`} {
		row, err := DecodeRecord[blobRow](json.RawMessage(`{"b":`+in+`,"s":`+in+`}`), cols)
		if err != nil || !reflect.DeepEqual(row.B, []byte{1, 2, 3, 4, 5}) {
			t.Errorf("%s: %v, %v", in, row.B, err)
		}
		var s string
		_ = json.Unmarshal([]byte(in), &s)
		if row.S != s {
			t.Errorf("string target: %q", row.S)
		}
	}
	_, err := DecodeRecord[blobRow](json.RawMessage(`{"b":"zz-secret"}`), cols)
	var de *DecodeError
	if !errors.As(err, &de) || de.Column != "b" || !strings.Contains(de.Reason, "hex") || strings.Contains(err.Error(), "secret") {
		t.Errorf("bad hex: %v", err)
	}
	// Without metadata []byte keeps the encoding/json meaning (base64).
	row, err := DecodeRecord[blobRow](json.RawMessage(`{"b":"AQI="}`), nil)
	if err != nil || !reflect.DeepEqual(row.B, []byte{1, 2}) {
		t.Errorf("base64: %v, %v", row.B, err)
	}
}

type failingType struct{}

func (*failingType) UnmarshalJSON(b []byte) error {
	return fmt.Errorf("bad value %s", b) // deliberately leaks the value
}

func TestDecodeRecordErrors(t *testing.T) {
	const secret = "s3cr3t"
	type small struct {
		A     string      `json:"a"`
		Small int8        `json:"small"`
		N     int         `json:"n"`
		At    time.Time   `json:"at"`
		F     failingType `json:"f"`
		Flag  bool        `json:"flag"`
		Obj   struct {
			X int `json:"x"`
		} `json:"obj"`
		Num Numeric `json:"num"`
	}
	tests := []struct {
		name, record, column, kind, goType string
	}{
		{"overflow", `{"a":"ok","small":300}`, "small", "number", "int8"},
		{"not an integer", `{"n":1.5}`, "n", "number", "int"},
		{"string into int", `{"n":"` + secret + `"}`, "n", "string", "int"},
		{"bad timestamp", `{"at":"2026-13-45 ` + secret + `"}`, "at", "string", "time.Time"},
		{"number into time", `{"at":12345}`, "at", "number", "time.Time"},
		{"custom unmarshaler", `{"f":"` + secret + `"}`, "f", "string", "messages.failingType"},
		{"bool from other string", `{"flag":"` + secret + `"}`, "flag", "string", "bool"},
		{"nested mismatch", `{"obj":{"x":"` + secret + `"}}`, "obj", "string", "int"},
		{"nested overflow", `{"obj":{"x":1e999}}`, "obj", "number", "int"},
		{"numeric from bool", `{"num":true}`, "num", "bool", "messages.Numeric"},
		{"numeric from text", `{"num":"` + secret + `"}`, "num", "string", "messages.Numeric"},
		{"array into string", `{"a":["` + secret + `"]}`, "a", "array", "string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeRecord[small](json.RawMessage(tc.record), nil)
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrDecode) {
				t.Fatalf("err = %v (%T), want *DecodeError", err, err)
			}
			if de.Column != tc.column || de.JSONKind != tc.kind || de.GoType != tc.goType {
				t.Errorf("DecodeError = %+v", de)
			}
			msg := err.Error()
			if !strings.Contains(msg, `column "`+tc.column+`"`) {
				t.Errorf("message lacks column: %s", msg)
			}
			for _, leak := range []string{secret, "300", "1.5", "12345", "1e999"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message leaks %q: %s", leak, msg)
				}
			}
		})
	}

	// The first failing column is reported, the rest is still decoded.
	_, err := DecodeRecord[small](json.RawMessage(`{"a":"x","n":"bad","small":999}`), nil)
	var de *DecodeError
	if !errors.As(err, &de) || de.Column != "n" {
		t.Errorf("first failure: %v", err)
	}

	var v small
	for _, tc := range []struct {
		name string
		raw  json.RawMessage
		want error
	}{
		{"nil", nil, ErrNoRecord},
		{"null", json.RawMessage(" null "), ErrNoRecord},
		{"empty", json.RawMessage(""), ErrNoRecord},
		{"array", json.RawMessage("[1]"), ErrDecode},
		{"malformed", json.RawMessage(`{"a":`), ErrDecode},
	} {
		if err := (ChangeEvent{Record: tc.raw}).DecodeRecord(&v); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := (ChangeEvent{Record: json.RawMessage(`{}`)}).DecodeRecord(v); !errors.Is(err, ErrDecode) {
		t.Errorf("non-pointer target: %v", err)
	}
	if err := (ChangeEvent{Record: json.RawMessage(`{}`)}).DecodeRecord((*small)(nil)); !errors.Is(err, ErrDecode) {
		t.Errorf("nil pointer target: %v", err)
	}
	if err := (ChangeEvent{Record: json.RawMessage(`{}`)}).DecodeRecord(nil); !errors.Is(err, ErrDecode) {
		t.Errorf("nil target: %v", err)
	}
	// A scalar target gets the whole record: encoding/json rejects it.
	if _, err := DecodeRecord[int](json.RawMessage(`{"a":1}`), nil); !errors.Is(err, ErrDecode) {
		t.Errorf("int target: %v", err)
	}
}

type embeddedBase struct {
	ID      int64 `json:"id"`
	Created time.Time
}

type fieldRulesRow struct {
	embeddedBase
	*Extra
	Name   string `json:"name"`
	Quoted int64  `json:"quoted,string"`
	Upper  int64
	//lint:ignore SA5008 a field named "-" on purpose (encoding/json's "-," rule)
	Dash    string `json:"-,"`
	skipped string
}

type Extra struct {
	Score Numeric `json:"score"`
}

func TestDecodeRecordFieldRules(t *testing.T) {
	rec := json.RawMessage(`{"id":"42","created":"2026-08-21 10:15:30+00","NAME":7,"quoted":"17","upper":"5","-":12,"score":1.50,"skipped":"x"}`)
	row, err := DecodeRecord[fieldRulesRow](rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if row.ID != 42 || !row.Created.Equal(time.Date(2026, 8, 21, 10, 15, 30, 0, time.UTC)) {
		t.Errorf("embedded: %+v", row.embeddedBase)
	}
	if row.Name != "7" || row.Quoted != 17 || row.Upper != 5 || row.Dash != "12" || row.skipped != "" {
		t.Errorf("row = %+v", row)
	}
	if row.Extra == nil || row.Score != "1.50" {
		t.Errorf("embedded pointer: %+v", row.Extra)
	}

	// Ambiguous fields at the same depth are dropped, as in encoding/json.
	type A struct{ X string }
	type B struct{ X string }
	type amb struct {
		A
		B
	}
	fields := typeFields(reflect.TypeFor[amb]())
	for _, f := range fields {
		if f.name == "X" {
			t.Errorf("ambiguous field kept: %+v", f)
		}
	}
}

func TestNumeric(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{exactNumeric, exactNumeric, false},
		{`"` + exactNumeric + `"`, exactNumeric, false},
		{"-0.000000000000000000000001", "-0.000000000000000000000001", false},
		{"1e400", "1e400", false},
		{`"NaN"`, "NaN", false},
		{`"Infinity"`, "Infinity", false},
		{`"-Infinity"`, "-Infinity", false},
		{"null", "unchanged", false},
		{`"12a"`, "", true},
		{`""`, "", true},
		{"true", "", true},
		{"{}", "", true},
		{"01", "", true},
	}
	for _, tc := range tests {
		n := Numeric("unchanged")
		err := json.Unmarshal([]byte(tc.in), &n)
		if tc.wantErr {
			if err == nil || !errors.Is(err, ErrDecode) && !strings.Contains(err.Error(), "invalid") {
				t.Errorf("%s: err = %v", tc.in, err)
			}
			continue
		}
		if err != nil || string(n) != tc.want {
			t.Errorf("%s: %q, %v", tc.in, n, err)
		}
	}
	// Direct UnmarshalJSON errors wrap ErrDecode and carry no value.
	var n Numeric
	if err := n.UnmarshalJSON([]byte(`"secret"`)); !errors.Is(err, ErrDecode) || strings.Contains(err.Error(), "secret") {
		t.Errorf("UnmarshalJSON error: %v", err)
	}

	rats := []struct {
		n    Numeric
		want string // RatString, "" = not ok
	}{
		{exactNumeric, "123456789012345678901234567890123456789/1000000000"},
		{"-2.50", "-5/2"},
		{"1e3", "1000"},
		{"1e-100000", "1/1" + strings.Repeat("0", 100000)},
		{"1e100001", ""},
		{"1e-9999999999", ""},
		{"NaN", ""},
		{"Infinity", ""},
		{"", ""},
		{"1/2", ""},
		{" 1", ""},
	}
	for _, tc := range rats {
		r, ok := tc.n.Rat()
		if tc.want == "" {
			if ok || r != nil {
				t.Errorf("Rat(%q) = %v, %v; want not ok", tc.n, r, ok)
			}
			continue
		}
		if !ok || r.RatString() != tc.want {
			t.Errorf("Rat(%q) = %v, %v", tc.n, r, ok)
		}
	}

	marshal := []struct {
		n    Numeric
		want string
	}{
		{exactNumeric, exactNumeric},
		{"", "null"},
		{"NaN", `"NaN"`},
		{"-Infinity", `"-Infinity"`},
	}
	for _, tc := range marshal {
		b, err := json.Marshal(tc.n)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%q) = %s, %v", tc.n, b, err)
		}
		var back Numeric
		if err := json.Unmarshal(b, &back); err != nil || back != tc.n {
			t.Errorf("round trip %q: %q, %v", tc.n, back, err)
		}
	}
	if Numeric("1.5").String() != "1.5" {
		t.Error("String")
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	tests := []struct {
		e    DecodeError
		want string
	}{
		{DecodeError{}, "realtime: cannot decode record"},
		{DecodeError{Column: "a", JSONKind: "number", GoType: "int8", Reason: "out of range or not an integer"},
			`realtime: cannot decode record: column "a": JSON number into int8: out of range or not an integer`},
		{DecodeError{GoType: "int", Reason: "x"}, "realtime: cannot decode record: value into int: x"},
		{DecodeError{Column: "b", JSONKind: "string"}, `realtime: cannot decode record: column "b": JSON string`},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %s\nwant %s", got, tc.want)
		}
	}
	inner := errors.New("inner")
	e := &DecodeError{Err: inner}
	if !errors.Is(e, inner) || !errors.Is(e, ErrDecode) {
		t.Error("Unwrap")
	}
}

func TestDecodeRecordBigTargets(t *testing.T) {
	type bigRow struct {
		F *big.Float `json:"f"`
		I *big.Int   `json:"i"`
		R big.Rat    `json:"r"`
	}
	row, err := DecodeRecord[bigRow](json.RawMessage(`{"f":1.25,"i":123456789012345678901234567890,"r":"0.1"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantI, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	if row.F == nil || row.F.String() != "1.25" || row.I == nil || row.I.Cmp(wantI) != 0 || row.R.RatString() != "1/10" {
		t.Errorf("row = %v %v %v", row.F, row.I, row.R.RatString())
	}
}

// diffRow has no time.Time or []byte fields, whose results DecodeRecord
// deliberately normalises; for everything else it must agree with plain
// encoding/json whenever that succeeds.
type diffRow struct {
	I   int64           `json:"i"`
	U   uint8           `json:"u"`
	S   string          `json:"s"`
	P   *string         `json:"p"`
	N   Numeric         `json:"n"`
	JN  json.Number     `json:"jn"`
	B   bool            `json:"b"`
	F   float64         `json:"f"`
	L   []string        `json:"l"`
	M   map[string]any  `json:"m"`
	A   any             `json:"a"`
	R   json.RawMessage `json:"r"`
	Sub struct {
		X int    `json:"x"`
		Y string `json:"y"`
	} `json:"sub"`
	Q int `json:"q,string"`
}

// FuzzDecodeRecord checks that DecodeRecord never panics, fails only with
// ErrDecode or ErrNoRecord, and never changes a value that plain
// encoding/json decodes successfully (without column metadata).
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(typedRecord), "numeric")
	f.Add([]byte(`{"i":"12","u":"300","s":12.50,"n":"1.5","b":"t","f":"1e3","l":"{a,b}","sub":{"x":"1","y":2}}`), "_text")
	f.Add([]byte(`{"i":1,"S":"x","Sub":{"X":1},"q":"5","a":[1,"2"],"r":{"z":null}}`), "int8")
	f.Add([]byte(`{"l":"{1,{2}}","a":"t","m":{"k":"2026-08-21"}}`), "bool")
	f.Fuzz(func(t *testing.T, record []byte, pgType string) {
		if !jsonscan.ValidJSON(record) {
			return
		}
		var plain diffRow
		plainErr := unmarshalNumber(record, &plain)
		ours, err := DecodeRecord[diffRow](record, nil)
		if err != nil && !errors.Is(err, ErrDecode) && !errors.Is(err, ErrNoRecord) {
			t.Fatalf("error does not wrap ErrDecode: %v", err)
		}
		if plainErr == nil && jsonscan.TrimSpace(record)[0] == '{' {
			if err != nil {
				t.Fatalf("encoding/json succeeds, DecodeRecord fails: %v", err)
			}
			if !reflect.DeepEqual(plain, ours) {
				t.Fatalf("results differ\nplain %+v\nours  %+v", plain, ours)
			}
		}
		// With column metadata: only no panics and proper errors.
		var cols []Column
		_ = jsonscan.ObjectEach(record, func(key, _ []byte) error {
			name, _ := jsonscan.KeyName(key)
			cols = append(cols, Column{Name: string(name), Type: pgType})
			return nil
		})
		for _, decode := range []func() error{
			func() error { _, err := DecodeRecord[diffRow](record, cols); return err },
			func() error { _, err := DecodeRecord[fuzzRow](record, cols); return err },
			func() error { _, err := DecodeRecord[map[string]any](record, cols); return err },
		} {
			if err := decode(); err != nil && !errors.Is(err, ErrDecode) && !errors.Is(err, ErrNoRecord) {
				t.Fatalf("error does not wrap ErrDecode: %v", err)
			}
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
