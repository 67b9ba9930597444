// Package wire holds the wire codec of the Supabase Realtime client: the
// Phoenix channel framing of docs/protocol.md §2, for serializer versions 1.0.0
// (JSON object text frames) and 2.0.0 (JSON array text frames plus binary
// frames of kinds 0–4), and helpers to pick apart the payloads the client
// routes on (replies, broadcasts, system messages).
//
// # Frames and codecs
//
// A Frame is one logical message {join_ref, ref, topic, event, payload}, plus
// the extra fields of binary frames (Kind, UserEvent, Meta, Encoding,
// Status). A Codec turns frames into WebSocket messages and back:
//
//	codec, err := wire.CodecFor(frame.V2)
//	buf, binary, err := codec.Append(buf[:0], &frame.Frame{
//		Ref: "4", Topic: "phoenix", Event: "heartbeat",
//	})
//	// buf is [null,"4","phoenix","heartbeat",{}], binary is false
//
//	var f frame.Frame
//	err = codec.Decode(msg, isBinary, &f)
//	if errors.Is(err, messages.ErrMalformed) { /* log and drop */ }
//
// Decoding uses a small allocation-free JSON scanner (ObjectEach,
// ArrayEach, Unquote, …) instead of encoding/json maps: the payload is
// returned as a raw slice and is never decoded into a tree, and the only
// allocations are the header strings (join_ref, ref, topic, event). Well-known
// names such as phx_reply, broadcast or phoenix never allocate; NewCodec
// accepts an InternFunc to extend that to, say, the topics currently joined.
//
// Error messages never include payload bytes, which may carry secrets;
// topic and event names may appear.
//
// # Concurrency
//
// Codecs are stateless and safe for concurrent use by any number of
// goroutines (an InternFunc passed to NewCodec must be too). The scanner
// functions and payload helpers keep no state either.
//
// Decoded frames alias the input buffer: Frame.Payload and Frame.Meta, and
// the raw slices returned by ParseReply, ParseBroadcast, ObjectEach and
// ArrayEach, point into the decoded message. They are valid only while that
// buffer is neither reused nor modified; copy them before handing the buffer
// back to a reader that recycles it, or before sending the frame to another
// goroutine that may outlive it. Decoded strings are independent copies (or
// interned constants). Append never retains dst or the frame.
//
// # Lifecycle
//
// The package starts no goroutines and holds no resources: there is nothing
// to start, stop or close. Codec values may be created once (CodecV1,
// CodecV2, CodecFor) and used for the life of the program.
package wire
