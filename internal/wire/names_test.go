package wire

import (
	"testing"

	"github.com/supabase-go/realtime/internal/frame"
)

func TestNameCacheIsBounded(t *testing.T) {
	c := NewNameCache()
	a, _ := c.Intern([]byte("cursor"))
	b, ok := c.Intern([]byte("cursor"))
	if !ok || a != b {
		t.Fatal("the same name was not interned")
	}
	if n := testing.AllocsPerRun(100, func() { c.Intern([]byte("cursor")) }); n != 0 {
		t.Fatalf("a cached name allocates %.0f times", n)
	}
	for i := 0; len(c.m) < MaxNames; i++ {
		c.Intern([]byte{byte(i), byte(i >> 8), 'x'})
	}
	if _, ok := c.Intern([]byte("one more")); ok {
		t.Fatal("the cache grew past MaxNames")
	}
}

// A binary user broadcast decodes its event name from the names cache.
func TestWithNamesInternsBinaryEventNames(t *testing.T) {
	f := frame.Frame{Kind: frame.KindUserBroadcast, Topic: "realtime:room", Event: "broadcast", UserEvent: "cursor", Encoding: frame.EncodingJSON, Payload: []byte(`{"x":1}`)}
	data, _, err := CodecV2.Append(nil, &f)
	if err != nil {
		t.Fatal(err)
	}
	topics := func(b []byte) (string, bool) { return "realtime:room", string(b) == "realtime:room" }
	plain, _ := NewCodec(frame.V2, topics)
	codec := WithNames(plain, NewNameCache().Intern)
	var got frame.Frame
	allocs := func(c Codec) float64 {
		return testing.AllocsPerRun(100, func() {
			if err := c.Decode(data, true, &got); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := allocs(codec); n != 0 || got.UserEvent != "cursor" {
		t.Fatalf("WithNames: %.0f allocations, event %q", n, got.UserEvent)
	}
	if allocs(plain) == 0 {
		t.Fatal("the plain codec was expected to allocate the event name (test is not measuring anything)")
	}
	if _, ok := WithNames(CodecV1, nil).(v1Codec); !ok {
		t.Fatal("WithNames changed a codec without binary frames")
	}
}
