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
// Binary messages carry raw payloads and are left to the codec.
type utf8Codec struct{ wire.Codec }

// errInvalidUTF8 is the decode error of a text message with invalid UTF-8.
var errInvalidUTF8 = fmt.Errorf("%w: text message is not valid UTF-8", messages.ErrMalformed)

func (c utf8Codec) Decode(data []byte, binary bool, f *frame.Frame) error {
	if !binary && !utf8.Valid(data) {
		return errInvalidUTF8
	}
	return c.Codec.Decode(data, binary, f)
}

// readerCodec is the codec of one reader goroutine: it checks UTF-8 and
// interns user event names in a cache of the reader's own.
func readerCodec(c wire.Codec) wire.Codec {
	return validatingCodec(wire.WithNames(c, wire.NewNameCache().Intern))
}

// validatingCodec wraps c in a utf8Codec once.
func validatingCodec(c wire.Codec) wire.Codec {
	if _, ok := c.(utf8Codec); ok || c == nil {
		return c
	}
	return utf8Codec{c}
}
