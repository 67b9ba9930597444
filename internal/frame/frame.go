package frame

import "errors"

// ErrMalformed wraps every frame or payload decoding failure. Package
// messages exports it as messages.ErrMalformed.
var ErrMalformed = errors.New("realtime: malformed frame")

// Vsn is the Phoenix serializer version negotiated through the "vsn" query
// parameter of the socket URL.
type Vsn string

const (
	// V1 is vsn 1.0.0: every frame is a JSON object text frame. The server
	// never sends join_ref and never sends binary frames to V1 sockets.
	V1 Vsn = "1.0.0"
	// V2 is vsn 2.0.0: JSON array text frames [join_ref, ref, topic, event,
	// payload] plus binary frames (kinds 0–4). It is the default, as in
	// realtime-js.
	V2 Vsn = "2.0.0"
)

// Kind tells how a frame travels on the wire. The zero value is a text frame.
type Kind uint8

const (
	// KindText is a JSON text frame (object for V1, array for V2).
	KindText Kind = iota
	// KindPush is binary kind 0: a generic push with a binary payload.
	KindPush
	// KindReply is binary kind 1: a reply whose payload is binary.
	KindReply
	// KindBroadcast is binary kind 2: Phoenix's generic binary broadcast.
	KindBroadcast
	// KindUserBroadcastPush is binary kind 3: a user broadcast pushed by a
	// client (client → server).
	KindUserBroadcastPush
	// KindUserBroadcast is binary kind 4: a user broadcast delivered by the
	// server (server → client).
	KindUserBroadcast
)

// WireByte returns the first byte of a binary frame of this kind. It must not
// be called on KindText.
func (k Kind) WireByte() byte { return byte(k) - 1 }

// Encoding is the payload_encoding byte of binary user broadcasts.
type Encoding uint8

const (
	// EncodingBinary marks a raw byte payload.
	EncodingBinary Encoding = 0
	// EncodingJSON marks a payload that is UTF-8 JSON text.
	EncodingJSON Encoding = 1
)

// MaxHeaderLen is the largest length, in bytes, of any string in a binary
// frame header (refs, topic, event, metadata).
const MaxHeaderLen = 255

// Frame is one logical Phoenix message: {join_ref, ref, topic, event, payload}.
//
// Decoding never copies: every []byte field aliases the buffer that was
// decoded, so a Frame is valid only as long as that buffer is. The decoders
// in this package never retain or reuse the buffer themselves.
type Frame struct {
	// JoinRef is the ref of the phx_join that created the channel
	// incarnation; "" stands for JSON null.
	JoinRef string
	// Ref correlates a push with its phx_reply; "" stands for JSON null.
	Ref string
	// Topic is the wire topic, e.g. "realtime:room1" or "phoenix".
	Topic string
	// Event is the Phoenix event, e.g. "phx_join", "broadcast", "phx_reply".
	// For binary kinds 3 and 4 it is always "broadcast".
	Event string
	// Payload is the raw JSON payload of a text frame, or the raw payload
	// bytes of a binary frame (for kinds 3 and 4: the user payload, JSON
	// text when Encoding is EncodingJSON).
	Payload []byte

	// Kind says how the frame is (or was) carried on the wire.
	Kind Kind
	// UserEvent is the user event name of binary kinds 3 and 4.
	UserEvent string
	// Meta is the optional metadata JSON object of kinds 3 and 4 (nil if none).
	Meta []byte
	// Encoding is the payload_encoding of kinds 3 and 4.
	Encoding Encoding
	// Status is the reply status carried by binary kind 1 frames.
	Status string
	// Bcast is filled in by the vsn 2.0.0 decoder for a text "broadcast"
	// frame whose payload is a broadcast object: where its members are,
	// found while validating the frame, so the payload is not walked a
	// second time.
	Bcast BroadcastSpans
}

// BroadcastSpans locates the raw "event", "payload" and "meta" members of
// a broadcast payload inside Frame.Payload (offsets survive Frame.Own). OK
// is false when the decoder did not locate them; then, or when a Span is
// absent, parse the payload instead.
type BroadcastSpans struct {
	Event, Payload, Meta Span
	OK                   bool
}

// Span is a half-open byte range of a member's raw value inside
// Frame.Payload. The zero Span is absent (a value never ends at offset 0).
type Span struct{ Start, End uint32 }

// In returns the range within payload (nil when absent), capped so an
// append cannot reach past it.
func (s Span) In(payload []byte) []byte {
	if s.End == 0 {
		return nil
	}
	return payload[s.Start:s.End:s.End]
}

// Own copies the frame's Payload and Meta, which alias the reader's
// buffer, into one allocation of their own, so they may be kept after the
// Inbound's batch is released. Nil stays nil.
func (f *Frame) Own() {
	p, m := len(f.Payload), len(f.Meta)
	if f.Payload == nil && f.Meta == nil {
		return
	}
	buf := make([]byte, p+m)
	if f.Payload != nil {
		f.Payload = buf[:copy(buf, f.Payload):p]
	}
	if f.Meta != nil {
		copy(buf[p:], f.Meta)
		f.Meta = buf[p : p+m : p+m]
	}
}
