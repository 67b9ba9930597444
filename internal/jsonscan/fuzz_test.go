package jsonscan

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/supabase-go/realtime/internal/frame"
)

func FuzzObjectEach(f *testing.F) {
	for _, in := range scanInputs {
		f.Add([]byte(in))
	}
	f.Add([]byte(`{"status":"error","response":{"reason":"PrivateOnly: x"}}`))
	f.Add([]byte(`{"type":"broadcast","event":"e","payload":{"a":1},"meta":{"id":"x"}}`))
	f.Add([]byte(`{"channel":"any","extension":"postgres_changes","message":"m","status":"ok"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkObjectEach(t, data)
		if got, want := ValidJSON(data), json.Valid(data); got != want {
			t.Fatalf("Valid = %v, encoding/json %v", got, want)
		}
		var n int
		errArr := ArrayEach(data, func(i int, value []byte) error {
			if i != n || !json.Valid(value) {
				t.Fatalf("ArrayEach element %d (%d) = %q", i, n, value)
			}
			n++
			return nil
		})
		var elems []json.RawMessage
		wantArr := !IsNull(data) && json.Unmarshal(data, &elems) == nil
		if (errArr == nil) != wantArr || (wantArr && n != len(elems)) {
			t.Fatalf("ArrayEach err = %v after %d elements; encoding/json ok = %v with %d", errArr, n, wantArr, len(elems))
		}
		if _, err := Unquote(data); err != nil && !errors.Is(err, frame.ErrMalformed) {
			t.Fatalf("Unquote err = %v", err)
		}
		_ = IsNull(data)
	})
}
