package main

import (
	"fmt"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// Frame variants of B1.
const (
	variantV2Text   = "v2-text"   // [null,null,topic,"broadcast",{"type":"broadcast","event":…,"payload":…}]
	variantV2Binary = "v2-binary" // binary kind 4 user broadcast, JSON payload encoding
	variantV1Text   = "v1-text"   // {"topic":…,"event":"broadcast","payload":{…},"ref":null}
)

// allVariants lists B1's variants in report order.
var allVariants = []string{variantV2Text, variantV2Binary, variantV1Text}

// vsnOf returns the serializer a variant needs.
func vsnOf(variant string) frame.Vsn {
	if variant == variantV1Text {
		return frame.V1
	}
	return frame.V2
}

// cursorPayload is the ~150 byte user payload of every benchmark
// broadcast; seq varies so frames are not all identical.
func cursorPayload(seq int) []byte {
	return fmt.Appendf(nil, `{"user_id":"3f1c2a9e-5b7d-4e8a-9c1f-2d3e4f5a6b7c","x":%d.5,"y":%d.25,"color":"#3ecf8e","seq":%d,"ts":1764316800123,"page":"/project/default/editor"}`,
		100+seq%1000, 200+seq%700, seq)
}

// encodeBroadcast renders one server→client broadcast of the variant on
// wire topic as the server sends it (message body, not yet framed).
func encodeBroadcast(variant, topic string, seq int) ([]byte, bool, error) {
	user := cursorPayload(seq)
	switch variant {
	case variantV2Binary:
		return realtimetest.EncodeFrame(frame.V2, frame.Frame{
			Kind: frame.KindUserBroadcast, Topic: topic, Event: "broadcast",
			UserEvent: broadcastName, Encoding: frame.EncodingJSON, Payload: user,
		})
	case variantV2Text, variantV1Text:
		body := make([]byte, 0, len(user)+64)
		body = append(body, `{"type":"broadcast","event":"`+broadcastName+`","payload":`...)
		body = append(body, user...)
		body = append(body, '}')
		return realtimetest.EncodeFrame(vsnOf(variant), frame.Frame{Topic: topic, Event: "broadcast", Payload: body})
	}
	return nil, false, fmt.Errorf("unknown variant %q", variant)
}

// blastChunk builds one chunk of frames frames, already WebSocket-framed,
// cycling through topics (wire topics). It also returns the mean message
// size in bytes (without the WebSocket header).
func blastChunk(variant string, topics []string, frames int) (chunk []byte, meanSize float64, err error) {
	total := 0
	for i := 0; i < frames; i++ {
		msg, bin, err := encodeBroadcast(variant, topics[i%len(topics)], i)
		if err != nil {
			return nil, 0, err
		}
		total += len(msg)
		chunk = realtimetest.AppendWebSocketFrame(chunk, bin, msg)
	}
	return chunk, float64(total) / float64(frames), nil
}
