package wire

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/messages"
)

// InternFunc optionally maps a header string (topic, event, ref, user event,
// status), given as raw bytes, to an existing Go string so that decoding it
// does not allocate. It returns ok == false to let the codec allocate a new
// string. It must not retain b, must return a string equal to string(b) when
// ok is true, and must be safe for concurrent use when the codec is.
//
// Well-known Phoenix and Realtime names (phx_reply, broadcast, phoenix, …)
// are always interned by the codec itself, before the hook is consulted.
type InternFunc func(b []byte) (s string, ok bool)

// The two codecs, without an intern hook. They are stateless and safe for
// concurrent use.
var (
	// CodecV1 is the vsn 1.0.0 codec: JSON object text frames only.
	CodecV1 Codec = v1Codec{}
	// CodecV2 is the vsn 2.0.0 codec: JSON array text frames and binary
	// frames of kinds 0–4.
	CodecV2 Codec = v2Codec{}
)

// CodecFor returns the codec for serializer version v. An unknown version
// returns an error wrapping ErrUnsupported.
func CodecFor(v frame.Vsn) (Codec, error) {
	return NewCodec(v, nil)
}

// NewCodec returns the codec for serializer version v that consults intern
// (which may be nil) before allocating decoded header strings. An unknown
// version returns an error wrapping ErrUnsupported.
func NewCodec(v frame.Vsn, intern InternFunc) (Codec, error) {
	switch v {
	case frame.V1:
		return v1Codec{intern: intern}, nil
	case frame.V2:
		return v2Codec{intern: intern}, nil
	default:
		return nil, fmt.Errorf("%w: unknown vsn %q", ErrUnsupported, string(v))
	}
}

// wellKnown returns a static string for names that appear in nearly every
// frame, so that decoding them never allocates. The switch on string(b) does
// not allocate.
func wellKnown(b []byte) (string, bool) {
	switch string(b) {
	case "phoenix":
		return "phoenix", true
	case "phx_reply":
		return "phx_reply", true
	case "phx_join":
		return "phx_join", true
	case "phx_leave":
		return "phx_leave", true
	case "phx_close":
		return "phx_close", true
	case "phx_error":
		return "phx_error", true
	case "heartbeat":
		return "heartbeat", true
	case "broadcast":
		return "broadcast", true
	case "presence":
		return "presence", true
	case "presence_state":
		return "presence_state", true
	case "presence_diff":
		return "presence_diff", true
	case "postgres_changes":
		return "postgres_changes", true
	case "system":
		return "system", true
	case "access_token":
		return "access_token", true
	case "ok":
		return "ok", true
	case "error":
		return "error", true
	case "timeout":
		return "timeout", true
	case "INSERT":
		return "INSERT", true
	case "UPDATE":
		return "UPDATE", true
	case "DELETE":
		return "DELETE", true
	case "*":
		return "*", true
	case "":
		return "", true
	}
	return "", false
}

// interner turns header bytes into strings: well-known names first, then the
// optional hook, then a fresh allocation.
type interner struct{ hook, names InternFunc }

// name is str for a user event name: the names hook is asked first.
func (in interner) name(b []byte) string {
	if in.names != nil {
		if s, ok := in.names(b); ok {
			return s
		}
	}
	return in.str(b)
}

func (in interner) str(b []byte) string {
	if s, ok := wellKnown(b); ok {
		return s
	}
	if in.hook != nil {
		if s, ok := in.hook(b); ok {
			return s
		}
	}
	return string(b)
}

// jsonString decodes the raw JSON value v, which must be a string (any
// other value reports false).
func (in interner) jsonString(v []byte) (string, bool) {
	content, simple, err := jsonscan.StringContent(v)
	if err != nil {
		return "", false
	}
	if simple {
		return in.str(content), true
	}
	s, err := jsonscan.UnquoteSlow(v)
	return s, err == nil
}

// jsonRef decodes a ref value: a string, null ("") or, tolerated, a number
// (its literal text). v must be a value already validated by the scanner.
func (in interner) jsonRef(v []byte) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	switch c := v[0]; {
	case c == '"':
		return in.jsonString(v)
	case c == 'n':
		return "", jsonscan.IsNull(v)
	case c == '-' || jsonscan.IsDigit(c):
		return in.str(v), true
	}
	return "", false
}

// appendRef appends a ref as a JSON string, or null when empty.
func appendRef(dst []byte, ref string) []byte {
	if ref == "" {
		return append(dst, "null"...)
	}
	return jsonscan.AppendQuote(dst, ref)
}

// appendPayload appends a raw JSON payload, or {} when empty.
func appendPayload(dst, payload []byte) []byte {
	if len(payload) == 0 {
		return append(dst, '{', '}')
	}
	return append(dst, payload...)
}

// ---------------------------------------------------------------------------
// vsn 1.0.0

// v1Codec encodes frames as JSON objects
// {"topic":..,"event":..,"payload":..,"ref":..,"join_ref":..}.
type v1Codec struct{ intern InternFunc }

func (v1Codec) Vsn() frame.Vsn { return frame.V1 }

// Append implements Codec. Only KindText frames can be encoded; other kinds
// return an error wrapping ErrUnsupported. Empty refs are written as null and
// an empty Payload as {}. Payload is copied verbatim and must be valid JSON.
func (v1Codec) Append(dst []byte, f *frame.Frame) ([]byte, bool, error) {
	if f.Kind != frame.KindText {
		return dst, false, fmt.Errorf("%w: binary kind %d on vsn 1.0.0", ErrUnsupported, f.Kind)
	}
	dst = append(dst, `{"topic":`...)
	dst = jsonscan.AppendQuote(dst, f.Topic)
	dst = append(dst, `,"event":`...)
	dst = jsonscan.AppendQuote(dst, f.Event)
	dst = append(dst, `,"payload":`...)
	dst = appendPayload(dst, f.Payload)
	dst = append(dst, `,"ref":`...)
	dst = appendRef(dst, f.Ref)
	dst = append(dst, `,"join_ref":`...)
	dst = appendRef(dst, f.JoinRef)
	return append(dst, '}'), false, nil
}

// Decode implements Codec. data must be one JSON object with string keys
// "topic" and "event" and a "payload" of any JSON type; "ref" and
// "join_ref" are optional and may be strings, null or (tolerated) numbers.
// Unknown keys are ignored; for duplicate keys the last one wins. Binary
// messages return an error wrapping both ErrUnsupported and ErrMalformed.
// On error f is left unchanged.
func (c v1Codec) Decode(data []byte, binary bool, f *frame.Frame) error {
	if binary {
		return fmt.Errorf("%w: %w: binary message on vsn 1.0.0", ErrUnsupported, messages.ErrMalformed)
	}
	in := interner{hook: c.intern}
	var (
		topicRaw, eventRaw, payloadRaw, refRaw, joinRefRaw []byte
		hasTopic, hasEvent, hasPayload, hasRef, hasJoinRef bool
	)
	// Collect the raw member values first (last duplicate wins), then
	// decode them, so that a duplicate key costs no extra allocation.
	err := jsonscan.ObjectEach(data, func(key, value []byte) error {
		switch k, _ := jsonscan.KeyName(key); string(k) {
		case "topic":
			topicRaw, hasTopic = value, true
		case "event":
			eventRaw, hasEvent = value, true
		case "payload":
			payloadRaw, hasPayload = value, true
		case "ref":
			refRaw, hasRef = value, true
		case "join_ref":
			joinRefRaw, hasJoinRef = value, true
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case !hasTopic:
		return fmt.Errorf("%w: v1 frame: missing \"topic\"", messages.ErrMalformed)
	case !hasEvent:
		return fmt.Errorf("%w: v1 frame: missing \"event\"", messages.ErrMalformed)
	case !hasPayload:
		return fmt.Errorf("%w: v1 frame: missing \"payload\"", messages.ErrMalformed)
	}
	var (
		fr frame.Frame
		ok bool
	)
	if fr.Topic, ok = in.jsonString(topicRaw); !ok {
		return fmt.Errorf("%w: v1 frame: \"topic\" is not a string", messages.ErrMalformed)
	}
	if fr.Event, ok = in.jsonString(eventRaw); !ok {
		return fmt.Errorf("%w: v1 frame: \"event\" is not a string", messages.ErrMalformed)
	}
	if hasRef {
		if fr.Ref, ok = in.jsonRef(refRaw); !ok {
			return fmt.Errorf("%w: v1 frame: \"ref\" is not a string, number or null", messages.ErrMalformed)
		}
	}
	if hasJoinRef {
		if fr.JoinRef, ok = in.jsonRef(joinRefRaw); !ok {
			return fmt.Errorf("%w: v1 frame: \"join_ref\" is not a string, number or null", messages.ErrMalformed)
		}
	}
	fr.Payload = payloadRaw
	*f = fr
	return nil
}

// ---------------------------------------------------------------------------
// vsn 2.0.0

// v2Codec encodes text frames as JSON arrays [join_ref, ref, topic, event,
// payload] and binary frames per docs/protocol.md §2.3.
type v2Codec struct {
	intern InternFunc
	names  InternFunc // user event names (see WithNames)
}

func (v2Codec) Vsn() frame.Vsn { return frame.V2 }

// Append implements Codec.
//
// KindText frames become JSON arrays (empty refs as null, an empty Payload
// as {}); Payload is copied verbatim and must be valid JSON.
//
// Binary kinds use these fields (header strings at most MaxHeaderLen bytes,
// else an error wrapping ErrHeaderTooLong; Event is ignored for kinds 1, 3
// and 4):
//
//	frame.KindPush              JoinRef, Ref, Topic, Event, Payload (client→server layout)
//	frame.KindReply             JoinRef, Ref, Topic, Status, Payload
//	frame.KindBroadcast         Topic, Event, Payload
//	frame.KindUserBroadcastPush JoinRef, Ref, Topic, UserEvent, Meta, Encoding, Payload
//	frame.KindUserBroadcast     Topic, UserEvent, Meta, Encoding, Payload
//
// An Encoding other than EncodingBinary or EncodingJSON, or an unknown Kind,
// returns an error wrapping ErrUnsupported. On error dst is returned
// unchanged.
func (v2Codec) Append(dst []byte, f *frame.Frame) ([]byte, bool, error) {
	switch f.Kind {
	case frame.KindText:
		dst = append(dst, '[')
		dst = appendRef(dst, f.JoinRef)
		dst = append(dst, ',')
		dst = appendRef(dst, f.Ref)
		dst = append(dst, ',')
		dst = jsonscan.AppendQuote(dst, f.Topic)
		dst = append(dst, ',')
		dst = jsonscan.AppendQuote(dst, f.Event)
		dst = append(dst, ',')
		dst = appendPayload(dst, f.Payload)
		return append(dst, ']'), false, nil
	case frame.KindPush:
		return appendBinary(dst, f, nil, f.JoinRef, f.Ref, f.Topic, f.Event)
	case frame.KindReply:
		return appendBinary(dst, f, nil, f.JoinRef, f.Ref, f.Topic, f.Status)
	case frame.KindBroadcast:
		return appendBinary(dst, f, nil, f.Topic, f.Event)
	case frame.KindUserBroadcastPush:
		return appendBinary(dst, f, f.Meta, f.JoinRef, f.Ref, f.Topic, f.UserEvent)
	case frame.KindUserBroadcast:
		return appendBinary(dst, f, f.Meta, f.Topic, f.UserEvent)
	default:
		return dst, false, fmt.Errorf("%w: unknown frame kind %d", ErrUnsupported, f.Kind)
	}
}

// headerNames names the header strings of each binary kind, for errors.
var headerNames = [...][]string{
	frame.KindPush:              {"join_ref", "ref", "topic", "event"},
	frame.KindReply:             {"join_ref", "ref", "topic", "status"},
	frame.KindBroadcast:         {"topic", "event"},
	frame.KindUserBroadcastPush: {"join_ref", "ref", "topic", "user_event", "metadata"},
	frame.KindUserBroadcast:     {"topic", "user_event", "metadata"},
}

// appendBinary writes kind byte, the length bytes of strs (and of meta, plus
// the encoding byte, for user broadcasts), the strings, meta and payload.
func appendBinary(dst []byte, f *frame.Frame, meta []byte, strs ...string) ([]byte, bool, error) {
	user := f.Kind == frame.KindUserBroadcastPush || f.Kind == frame.KindUserBroadcast
	for i, s := range strs {
		if len(s) > frame.MaxHeaderLen {
			return dst, false, fmt.Errorf("%w: %s is %d bytes", ErrHeaderTooLong, headerNames[f.Kind][i], len(s))
		}
	}
	if user {
		if len(meta) > frame.MaxHeaderLen {
			return dst, false, fmt.Errorf("%w: metadata is %d bytes", ErrHeaderTooLong, len(meta))
		}
		if f.Encoding != frame.EncodingBinary && f.Encoding != frame.EncodingJSON {
			return dst, false, fmt.Errorf("%w: payload encoding %d", ErrUnsupported, f.Encoding)
		}
	}
	dst = append(dst, f.Kind.WireByte())
	for _, s := range strs {
		dst = append(dst, byte(len(s)))
	}
	if user {
		dst = append(dst, byte(len(meta)), byte(f.Encoding))
	}
	for _, s := range strs {
		dst = append(dst, s...)
	}
	dst = append(dst, meta...)
	dst = append(dst, f.Payload...)
	return dst, true, nil
}

// Decode implements Codec.
//
// Text messages must be one JSON array of at least 5 elements (extra
// elements are validated and ignored): join_ref and ref are strings, null or
// (tolerated) numbers, topic and event are strings, payload is any JSON
// value and is returned as a raw slice of data.
//
// Binary messages are decoded per docs/protocol.md §2.3 for kinds 0–4; see
// Append for the fields each kind fills. Kind 0 is decoded with the
// client→server layout (join_ref, ref, topic, event), the only one a Realtime
// peer ever sends; the server→client variant without ref is never produced
// by Realtime. Kinds 3 and 4 set Event to "broadcast" and Meta to nil when
// the metadata length is 0; kind 1 sets Event to "phx_reply". As §2.3
// requires, every header string must be UTF-8, metadata a JSON object and
// a payload with encoding 1 UTF-8 JSON text; raw payloads (kinds 0–2,
// encoding 0) are not looked at. Every length is checked against the
// remaining bytes.
//
// All errors wrap ErrMalformed; on error f is left unchanged.
func (c v2Codec) Decode(data []byte, binary bool, f *frame.Frame) error {
	if binary {
		return decodeBinary(interner{c.intern, c.names}, data, f)
	}
	return decodeArray(interner{hook: c.intern}, data, f)
}

// decodeArray decodes a V2 JSON array text frame.
func decodeArray(in interner, data []byte, f *frame.Frame) error {
	i := jsonscan.SkipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return fmt.Errorf("%w: v2 text frame is not a JSON array", messages.ErrMalformed)
	}
	var (
		fr frame.Frame
		n  int
	)
	// The elements are walked here rather than by ArrayEach so that the
	// payload of a broadcast is validated and its members located in one
	// walk (scanBroadcast).
	i = jsonscan.SkipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return fmt.Errorf("%w: v2 text frame has 0 elements, want at least 5", messages.ErrMalformed)
	}
	for idx := 0; ; idx++ {
		start := i
		var err error
		if idx == 4 && fr.Event == "broadcast" && i < len(data) && data[i] == '{' {
			i, fr.Bcast, err = scanBroadcast(data, i)
		} else {
			i, err = jsonscan.ScanValue(data, i, 1)
		}
		if err != nil {
			return err
		}
		if err := decodeElement(&fr, in, idx, data[start:i]); err != nil {
			return err
		}
		n = idx + 1
		if i = jsonscan.SkipSpace(data, i); i >= len(data) {
			return jsonscan.ErrSyntax("unexpected end of input", i)
		}
		if data[i] == ']' {
			i++
			break
		}
		if data[i] != ',' {
			return jsonscan.ErrSyntax("expected ',' or ']'", i)
		}
		i = jsonscan.SkipSpace(data, i+1)
	}
	if err := jsonscan.CheckTrailing(data, i); err != nil {
		return err
	}
	if n < 5 {
		return fmt.Errorf("%w: v2 text frame has %d elements, want at least 5", messages.ErrMalformed, n)
	}
	*f = fr
	return nil
}

// scanBroadcast validates the broadcast payload object at data[i] and
// locates its members (offsets relative to i). The spans are OK only if
// "type" and "event" are strings or null, as ParseBroadcast requires.
func scanBroadcast(data []byte, i int) (int, frame.BroadcastSpans, error) {
	var bs frame.BroadcastSpans
	typeOK, eventOK := true, true
	base := cap(data) - i // cap(data[i:]); a value's offset is base - cap(value)
	end, err := jsonscan.ScanObject(data, i, 2, func(key, value []byte) error {
		off := uint32(base - cap(value))
		sp := frame.Span{Start: off, End: off + uint32(len(value))}
		switch k, _ := jsonscan.KeyName(key); string(k) {
		case "type":
			typeOK = value[0] == '"' || jsonscan.IsNull(value)
		case "event":
			bs.Event, eventOK = sp, value[0] == '"' || jsonscan.IsNull(value)
		case "payload":
			bs.Payload = sp
		case "meta":
			bs.Meta = sp
			if jsonscan.IsNull(value) {
				bs.Meta = frame.Span{}
			}
		}
		return nil
	})
	bs.OK = typeOK && eventOK
	return end, bs, err
}

// decodeElement decodes element idx of a vsn 2.0.0 array, already validated.
func decodeElement(fr *frame.Frame, in interner, idx int, v []byte) error {
	var ok bool
	switch idx {
	case 0:
		if fr.JoinRef, ok = in.jsonRef(v); !ok {
			return errBadElement("join_ref is not a string, number or null")
		}
	case 1:
		if fr.Ref, ok = in.jsonRef(v); !ok {
			return errBadElement("ref is not a string, number or null")
		}
	case 2:
		if fr.Topic, ok = in.jsonString(v); !ok {
			return errBadElement("topic is not a string")
		}
	case 3:
		if fr.Event, ok = in.jsonString(v); !ok {
			return errBadElement("event is not a string")
		}
	case 4:
		fr.Payload = v
	}
	return nil
}

func errBadElement(reason string) error {
	return fmt.Errorf("%w: v2 text frame: %s", messages.ErrMalformed, reason)
}

// binReader walks a binary frame, checking every length against the bytes
// that remain.
type binReader struct {
	data []byte
	off  int
	kind frame.Kind
}

func (r *binReader) fail(what string) error {
	return fmt.Errorf("%w: binary kind %d: truncated %s (frame is %d bytes)", messages.ErrMalformed, r.kind.WireByte(), what, len(r.data))
}

// lengths returns the next n header bytes.
func (r *binReader) lengths(n int) ([]byte, error) {
	if len(r.data)-r.off < n {
		return nil, r.fail("header")
	}
	b := r.data[r.off : r.off+n]
	r.off += n
	return b, nil
}

// take returns the next n bytes.
func (r *binReader) take(n int, what string) ([]byte, error) {
	if len(r.data)-r.off < n {
		return nil, r.fail(what)
	}
	b := r.data[r.off : r.off+n]
	r.off += n
	return b, nil
}

// decodeBinary decodes a V2 binary frame (docs/protocol.md §2.3).
func decodeBinary(in interner, data []byte, f *frame.Frame) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty binary frame", messages.ErrMalformed)
	}
	if data[0] > frame.KindUserBroadcast.WireByte() {
		return fmt.Errorf("%w: unknown binary kind %d", messages.ErrMalformed, data[0])
	}
	fr := frame.Frame{Kind: frame.Kind(data[0]) + 1}
	r := binReader{data: data, off: 1, kind: fr.Kind}
	var hdr [4]*string
	var nHdr int
	switch fr.Kind {
	case frame.KindPush:
		hdr, nHdr = [4]*string{&fr.JoinRef, &fr.Ref, &fr.Topic, &fr.Event}, 4
	case frame.KindReply:
		hdr, nHdr = [4]*string{&fr.JoinRef, &fr.Ref, &fr.Topic, &fr.Status}, 4
		fr.Event = "phx_reply"
	case frame.KindBroadcast:
		hdr, nHdr = [4]*string{&fr.Topic, &fr.Event}, 2
	case frame.KindUserBroadcastPush:
		hdr, nHdr = [4]*string{&fr.JoinRef, &fr.Ref, &fr.Topic, &fr.UserEvent}, 4
		fr.Event = "broadcast"
	case frame.KindUserBroadcast:
		hdr, nHdr = [4]*string{&fr.Topic, &fr.UserEvent}, 2
		fr.Event = "broadcast"
	}
	user := fr.Kind == frame.KindUserBroadcastPush || fr.Kind == frame.KindUserBroadcast
	nLen := nHdr
	if user {
		nLen += 2 // metadata_len, payload_encoding
	}
	lens, err := r.lengths(nLen)
	if err != nil {
		return err
	}
	if user {
		switch enc := frame.Encoding(lens[nHdr+1]); enc {
		case frame.EncodingBinary, frame.EncodingJSON:
			fr.Encoding = enc
		default:
			return fmt.Errorf("%w: binary kind %d: unknown payload encoding %d", messages.ErrMalformed, data[0], enc)
		}
	}
	names := headerNames[fr.Kind]
	for i := range nHdr {
		b, err := r.take(int(lens[i]), names[i])
		if err != nil {
			return err
		}
		if !utf8.Valid(b) {
			return fmt.Errorf("%w: binary kind %d: %s is not valid UTF-8", messages.ErrMalformed, data[0], names[i])
		}
		if hdr[i] == &fr.UserEvent {
			*hdr[i] = in.name(b)
		} else {
			*hdr[i] = in.str(b)
		}
	}
	if user {
		meta, err := r.take(int(lens[nHdr]), "metadata")
		if err != nil {
			return err
		}
		if len(meta) > 0 {
			if !isJSONObject(meta) {
				return fmt.Errorf("%w: binary kind %d: metadata is not a UTF-8 JSON object", messages.ErrMalformed, data[0])
			}
			fr.Meta = meta
		}
	}
	fr.Payload = data[r.off:]
	if user && fr.Encoding == frame.EncodingJSON && !ValidUTF8JSON(fr.Payload) {
		return fmt.Errorf("%w: binary kind %d: payload declared JSON is not UTF-8 JSON", messages.ErrMalformed, data[0])
	}
	*f = fr
	return nil
}

// ValidUTF8JSON reports whether b is exactly one JSON value in valid UTF-8
// (the JSON scanner does not check UTF-8 inside strings).
func ValidUTF8JSON(b []byte) bool {
	return utf8.Valid(b) && jsonscan.ValidJSON(b)
}

// isJSONObject reports whether b is one JSON object in valid UTF-8.
func isJSONObject(b []byte) bool {
	i := jsonscan.SkipSpace(b, 0)
	return i < len(b) && b[i] == '{' && ValidUTF8JSON(b)
}

// Codec encodes and decodes frames for one serializer version.
//
// Implementations are stateless and safe for concurrent use.
type Codec interface {
	// Vsn returns the serializer version.
	Vsn() frame.Vsn
	// Append appends the wire form of f to dst and reports whether it must
	// be sent as a binary WebSocket message.
	Append(dst []byte, f *frame.Frame) (out []byte, binary bool, err error)
	// Decode parses one WebSocket message into f without copying.
	// Malformed input returns an error wrapping ErrMalformed; it never panics.
	Decode(data []byte, binary bool, f *frame.Frame) error
}

// Errors returned by the codec.
var (
	// ErrUnsupported is returned when a frame cannot be represented in the
	// codec's version (for example a binary frame on V1).
	ErrUnsupported = errors.New("realtime: frame not supported by this serializer")
	// ErrHeaderTooLong is returned when a binary header string exceeds
	// MaxHeaderLen bytes.
	ErrHeaderTooLong = errors.New("realtime: binary frame header field longer than 255 bytes")
)
