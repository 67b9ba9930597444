package connection

import (
	"fmt"
	"unicode/utf8"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// utf8Codec refuses text messages that are not valid UTF-8 before the
// wrapped codec sees them. RFC 6455 requires text messages to be UTF-8
// (browsers and the Node ws library fail the socket with 1007 otherwise);
// gorilla/websocket does not check, and the JSON scanner passes invalid
// bytes inside strings through to the Handler. The client drops such a
// message as malformed — counted in Stats.Malformed and reported — and
// keeps the socket: one bad message need not cost every channel a rejoin.
type utf8Codec struct{ wire.Codec }

// errInvalidUTF8 is the decode error of a text message with invalid UTF-8.
var errInvalidUTF8 = fmt.Errorf("%w: text message is not valid UTF-8", messages.ErrMalformed)

// errRawPayload is the decode error of a binary kind 0–2 message whose
// payload is not UTF-8 JSON.
var errRawPayload = fmt.Errorf("%w: binary message: payload is not UTF-8 JSON", messages.ErrMalformed)

// Decode checks text messages for UTF-8 before decoding; binary messages
// are checked by the codec (header strings, metadata, JSON-encoded user
// payloads) and here: the client reads the payload of kinds 0–2 (push,
// reply, broadcast) as JSON, as it reads a text frame's, so one that is
// not UTF-8 JSON is malformed for it.
func (c utf8Codec) Decode(data []byte, binary bool, f *frame.Frame) error {
	if !binary {
		if !utf8.Valid(data) {
			return errInvalidUTF8
		}
		return c.Codec.Decode(data, binary, f)
	}
	// Decoded in place: on an error the reader drops f whole.
	if err := c.Codec.Decode(data, binary, f); err != nil {
		return err
	}
	switch f.Kind {
	case frame.KindPush, frame.KindReply, frame.KindBroadcast:
		if !wire.ValidUTF8JSON(f.Payload) {
			return errRawPayload
		}
	}
	return nil
}

// readerCodec is the codec of one reader goroutine: it checks UTF-8 and
// interns user event names with names, a cache of the reader's own.
func readerCodec(c wire.Codec, names wire.InternFunc) wire.Codec {
	return validatingCodec(wire.WithNames(c, names))
}

// validatingCodec wraps c in a utf8Codec once.
func validatingCodec(c wire.Codec) wire.Codec {
	if _, ok := c.(utf8Codec); ok || c == nil {
		return c
	}
	return utf8Codec{c}
}
