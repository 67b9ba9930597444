package realtimetest

import (
	"encoding/json"
	"testing"
)

// objectFields must agree with encoding/json decoding into
// map[string]json.RawMessage (it replaced it for speed).
func TestObjectFieldsMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`,
		` {"a":1} `,
		`{"config":{"broadcast":{"ack":false,"self":true},"presence":{"enabled":false,"key":""},"postgres_changes":[],"private":false},"access_token":"x"}`,
		`{"a":1,"a":2}`,
		`{"a\"b":1,"\u00e9":[1,{"x":null}],"c":"\u0041"}`,
		`{"k":"v","n":-1.5e3,"t":true,"f":false,"z":null}`,
		`[1,2]`, `"s"`, `1`, `null`, ``, `{`, `{"a":}`, `{"a":1,}`, `{"a":1} x`, `{'a':1}`, "{\"\xff\":1}",
	} {
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			want = nil
		}
		got := objectFields([]byte(in))
		if (got == nil) != (want == nil) {
			t.Errorf("%q: got %v, want %v", in, got, want)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%q: got %d fields, want %d", in, len(got), len(want))
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Errorf("%q: field %q = %s, want %s", in, k, got[k], v)
			}
		}
	}
}
