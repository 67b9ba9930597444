package connection

import (
	"bytes"
	"errors"
	"testing"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

func TestUTF8CodecDropsInvalidTextOnly(t *testing.T) {
	codec, err := wire.CodecFor(frame.V2)
	if err != nil {
		t.Fatal(err)
	}
	c := validatingCodec(codec)
	if _, twice := validatingCodec(c).(utf8Codec).Codec.(utf8Codec); twice {
		t.Fatal("wrapped twice")
	}
	var f frame.Frame
	good := []byte(`[null,null,"realtime:r","broadcast",{"type":"broadcast","event":"é","payload":{"s":"ünïcode ✓"}}]`)
	if err := c.Decode(good, false, &f); err != nil || f.Event != "broadcast" {
		t.Fatalf("valid UTF-8 refused: %v", err)
	}
	bad := []byte("[null,null,\"realtime:r\",\"broadcast\",{\"type\":\"broadcast\",\"event\":\"e\",\"payload\":{\"s\":\"\xed\xa0\x80\"}}]")
	if err := c.Decode(bad, false, &f); !errors.Is(err, messages.ErrMalformed) {
		t.Fatalf("invalid UTF-8 (a surrogate) accepted: %v", err)
	}
	// Binary frames carry raw payloads: not checked here.
	bin := append([]byte{4, 10, 1, 0, 0}, "realtime:re\xff\xfe"...)
	if err := c.Decode(bin, true, &f); err != nil {
		t.Fatalf("binary payload refused: %v", err)
	}
}

// BenchmarkDecode measures what the UTF-8 check adds to decoding a text
// broadcast (small and large).
func BenchmarkDecode(b *testing.B) {
	codec, _ := wire.CodecFor(frame.V2)
	for _, size := range []int{128, 16 << 10} {
		head := []byte(`[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"s":"`)
		msg := append(append(head, bytes.Repeat([]byte("x"), size-len(head)-4)...), `"}}]`...)
		for _, tc := range []struct {
			name  string
			codec wire.Codec
		}{{"codec", codec}, {"utf8+codec", validatingCodec(codec)}} {
			b.Run(tc.name+"/"+sizeName(size), func(b *testing.B) {
				var f frame.Frame
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := tc.codec.Decode(msg, false, &f); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}
