package wire

import (
	"testing"

	"github.com/supabase-go/realtime/internal/frame"
)

// benchBroadcastText is a realistic ~200-byte V2 broadcast as delivered to a
// subscriber (fastlane, null refs).
var benchBroadcastText = []byte(`[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor-pos","payload":{"x":1024.5,"y":768.25,"user_id":"b7d1c5e2-3f4a-4c1b-9e8d-2a6f0c9b1e77","color":"#ff8800"}}]`)

// benchBroadcastV1 is the same broadcast as a V1 object frame.
var benchBroadcastV1 = []byte(`{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"cursor-pos","payload":{"x":1024.5,"y":768.25,"user_id":"b7d1c5e2-3f4a-4c1b-9e8d-2a6f0c9b1e77","color":"#ff8800"}},"ref":null}`)

// benchBroadcastPayload is the payload of benchBroadcastText.
var benchBroadcastPayload = []byte(`{"type":"broadcast","event":"cursor-pos","payload":{"x":1024.5,"y":768.25,"user_id":"b7d1c5e2-3f4a-4c1b-9e8d-2a6f0c9b1e77","color":"#ff8800"},"meta":{"id":"0b2c4d6e-8f10-4a12-b314-c516d718e91a"}}`)

// benchUserBroadcast is the same user broadcast as a binary kind 4 frame
// with metadata, as produced by realtime.send.
var benchUserBroadcast = wire(0x04, 0x0E, 0x0A, 0x2D, 0x01, "realtime:room1", "cursor-pos",
	`{"id":"0b2c4d6e-8f10-4a12-b314-c516d718e91a"}`,
	`{"x":1024.5,"y":768.25,"user_id":"b7d1c5e2-3f4a-4c1b-9e8d-2a6f0c9b1e77","color":"#ff8800"}`)

func reportFrames(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

func benchDecode(b *testing.B, c Codec, data []byte, binary bool) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var f frame.Frame
	for b.Loop() {
		if err := c.Decode(data, binary, &f); err != nil {
			b.Fatal(err)
		}
	}
	reportFrames(b)
}

func BenchmarkDecodeV2Broadcast(b *testing.B) {
	benchDecode(b, CodecV2, benchBroadcastText, false)
}

func BenchmarkDecodeV2BinaryUserBroadcast(b *testing.B) {
	benchDecode(b, CodecV2, benchUserBroadcast, true)
}

func BenchmarkDecodeV1Broadcast(b *testing.B) {
	benchDecode(b, CodecV1, benchBroadcastV1, false)
}

func BenchmarkParseBroadcast(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBroadcastPayload)))
	for b.Loop() {
		if _, err := ParseBroadcast(benchBroadcastPayload); err != nil {
			b.Fatal(err)
		}
	}
	reportFrames(b)
}

func BenchmarkAppendV2Push(b *testing.B) {
	f := &frame.Frame{JoinRef: "3", Ref: "1234", Topic: "realtime:room1", Event: "broadcast", Payload: benchBroadcastPayload}
	buf, _, err := CodecV2.Append(nil, f)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf, _, _ = CodecV2.Append(buf[:0], f)
	}
	reportFrames(b)
}

// TestBenchInputs checks that the benchmark inputs decode to what they are
// meant to be, so the benchmarks measure the intended path.
func TestBenchInputs(t *testing.T) {
	var text, v1, bin frame.Frame
	if err := CodecV2.Decode(benchBroadcastText, false, &text); err != nil {
		t.Fatal(err)
	}
	if err := CodecV1.Decode(benchBroadcastV1, false, &v1); err != nil {
		t.Fatal(err)
	}
	if !framesEqual(text, v1) || text.Topic != "realtime:room1" || text.Event != "broadcast" {
		t.Errorf("text %s, v1 %s", fmtFrame(text), fmtFrame(v1))
	}
	if err := CodecV2.Decode(benchUserBroadcast, true, &bin); err != nil {
		t.Fatal(err)
	}
	bp, err := ParseBroadcast(benchBroadcastPayload)
	if err != nil {
		t.Fatal(err)
	}
	if bin.UserEvent != "cursor-pos" || bin.Encoding != frame.EncodingJSON || string(bin.Meta) != string(bp.Meta) ||
		string(bin.Payload) != string(bp.Payload) || bp.Event != "cursor-pos" {
		t.Errorf("binary %s, payload %+v", fmtFrame(bin), bp)
	}
	if n := len(benchBroadcastText); n < 180 || n > 220 {
		t.Errorf("broadcast text frame is %d bytes, want ~200", n)
	}
}
