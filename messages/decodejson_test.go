package messages

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

type plainPayload struct {
	UserID string   `json:"user_id"`
	X      float64  `json:"x"`
	Seq    int64    `json:"seq"`
	Tags   []string `json:"tags"`
	Nested struct {
		On bool `json:"on"`
	} `json:"nested"`
	At   time.Time `json:"at"`
	Next *plainPayload
}

type withAny struct {
	N    any         `json:"n"`
	Num  json.Number `json:"num"`
	List []any       `json:"list"`
}

func TestDecodeJSONChoosesByType(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want bool
	}{
		{&plainPayload{}, false},
		{&withAny{}, true},
		{&map[string]any{}, true},
		{new(any), true},
		{&struct{ N json.Number }{}, true},
		{&map[string]int{}, false},
	} {
		if got := holdsInterface(reflect.TypeOf(tc.v)); got != tc.want {
			t.Errorf("holdsInterface(%T) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// Both paths decode like encoding/json (with UseNumber).
func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	raw := []byte(`{"user_id":"u1","X":1.5,"seq":9007199254740993,"tags":["a"],"nested":{"on":true},"at":"2026-11-28T10:15:30.123Z","Next":{"seq":2},"unknown":[1,{"a":null}]}`)
	var got, want plainPayload
	if err := DecodeJSON(raw, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeJSON = %+v\nencoding/json = %+v", got, want)
	}
	var a withAny
	if err := DecodeJSON([]byte(`{"n":12345678901234567890,"num":1.25,"list":[1,"x"]}`), &a); err != nil {
		t.Fatal(err)
	}
	if a.N != json.Number("12345678901234567890") || a.Num != "1.25" || a.List[0] != json.Number("1") {
		t.Fatalf("UseNumber lost: %#v", a)
	}
	var bad plainPayload
	if err := DecodeJSON([]byte(`{"seq":"x"}`), &bad); err == nil {
		t.Fatal("a string into an int64 decoded")
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	raw := []byte(`{"user_id":"3f1c2a9e-5b7d-4e8a-9c1f-2d3e4f5a6b7c","x":120.5,"seq":12345,"tags":["a","b"],"nested":{"on":true}}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var p plainPayload
		if err := DecodeJSON(raw, &p); err != nil {
			b.Fatal(err)
		}
	}
}
