package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseDecodedBroadcast: never panics, and on valid JSON it finds the
// same members as the validating ParseBroadcast.
func FuzzParseDecodedBroadcast(f *testing.F) {
	for _, s := range []string{
		`{"type":"broadcast","event":"e","payload":{"a":[1,{"b":"}]\""}],"c":null}}`,
		`{"event":"x\"y","payload":"str","meta":{"id":"1"}}`,
		`{"type":"broadcast","event":"e"}`,
		` { "payload" : [ ] , "event" : "e" } `,
		`{"payload":-1.5e3,"event":"\u00e9"}`,
		`{}`, `[]`, `{"a":`, `{"a":"\`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseDecodedBroadcast(data, nil)
		if !json.Valid(data) {
			return // only "never panics" is promised
		}
		want, werr := ParseBroadcast(data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("decoded err = %v, validating err = %v", err, werr)
		}
		if err != nil {
			return
		}
		if got.Type != want.Type || got.Event != want.Event || !bytes.Equal(got.Payload, want.Payload) || !bytes.Equal(got.Meta, want.Meta) {
			t.Fatalf("decoded %+v, validating %+v", got, want)
		}
	})
}

func BenchmarkParseDecodedBroadcast(b *testing.B) {
	payload := []byte(`{"type":"broadcast","event":"cursor","payload":{"user":"alice","x":120,"y":348,"color":"#ff8800","ts":"2026-11-28T10:15:30.123Z"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseDecodedBroadcast(payload, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
