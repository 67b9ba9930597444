package main

import (
	"encoding/json"
	"testing"

	realtime "github.com/supabase-go/realtime"
)

// decodeBound is what decoding the B1t payload costs on its own, measured
// in the harness process with testing.Benchmark: the client's
// BroadcastEvent.Decode and plain json.Unmarshal into the same struct.
// The Handler runs on one goroutine, so 1 s ÷ ns/op bounds B1t.
type decodeBound struct {
	name          string
	nsPerOp       float64
	allocsPerOp   int64
	bytesPerOp    int64
	framesPerSecN float64
}

func measureDecodeBound() []decodeBound {
	p := cursorPayload(12345)
	ev := realtime.BroadcastEvent{Payload: p}
	cases := []struct {
		name string
		fn   func(*cursor) error
	}{
		{"`BroadcastEvent.Decode` (used in B1t)", func(c *cursor) error { return ev.Decode(c) }},
		{"`json.Unmarshal`", func(c *cursor) error { return json.Unmarshal(p, c) }},
	}
	out := make([]decodeBound, 0, len(cases))
	for _, tc := range cases {
		res := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var c cursor
				if err := tc.fn(&c); err != nil || c.UserID == "" {
					b.Fatal("decode failed", err)
				}
			}
		})
		ns := float64(res.T.Nanoseconds()) / float64(max(res.N, 1))
		out = append(out, decodeBound{name: tc.name, nsPerOp: ns, allocsPerOp: res.AllocsPerOp(), bytesPerOp: res.AllocedBytesPerOp(), framesPerSecN: 1e9 / ns})
	}
	return out
}
