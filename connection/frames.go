package connection

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// The frame reader reads the server's WebSocket frames (RFC 6455 §5)
// itself once gorilla/websocket has done the handshake: gorilla v1.5.3
// allocates a message reader for every message (Conn.NextReader), one
// allocation per delivered broadcast. It behaves as gorilla's reader does
// for a client without compression, and returns the errors gorilla
// returns, so the connection actor and its callers see the same
// *websocket.CloseError codes and texts, websocket.ErrReadLimit and
// protocol errors:
//
//   - frames must not be masked, RSV bits must be clear, opcodes known,
//     control frames final and at most 125 bytes, fragments in order;
//     otherwise the socket is closed with 1002 and the error is
//     "websocket: " + what was wrong, as gorilla words it;
//   - a ping is answered with a pong, a pong ignored;
//   - a close frame is answered with a close frame of the same code and
//     becomes a *websocket.CloseError (1005 when it had no code);
//   - a message over the read limit closes the socket with 1009 and
//     returns websocket.ErrReadLimit;
//   - the socket's end inside or between frames is a CloseError 1006
//     "unexpected EOF".
//
// Text messages are checked for UTF-8 by the codec (utf8.go), as before.

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = websocket.TextMessage
	opBinary       = websocket.BinaryMessage
	opClose        = websocket.CloseMessage
	opPing         = websocket.PingMessage
	opPong         = websocket.PongMessage
)

// maxControlPayload is the largest control frame payload (RFC 6455 §5.5).
const maxControlPayload = 125

// controlWait bounds the write of a control frame the reader answers with;
// gorilla's writeWait.
const controlWait = time.Second

// smallBufSize is the reader's own buffer while the socket is idle or
// trickling: a frame header and a whole control frame (14 + 125 bytes) fit,
// and so do a heartbeat reply and most single small messages. It is part of
// every idle client's heap (B7), so no larger.
const smallBufSize = 256

// errUnexpectedEOF is gorilla's error for a socket that ended.
var errUnexpectedEOF = &websocket.CloseError{Code: websocket.CloseAbnormalClosure, Text: io.ErrUnexpectedEOF.Error()}

// controlWriter writes control frames: *websocket.Conn, whose WriteControl
// may run concurrently with the connection actor's writes.
type controlWriter interface {
	WriteControl(messageType int, data []byte, deadline time.Time) error
}

// frameReader parses frames from src. Its read buffer adapts to the
// traffic: smallBufSize bytes of its own while idle, a pooled burstSize
// buffer (burstPool) once a read fills the small one, given back once a
// read returns no more than the small buffer would have held.
type frameReader struct {
	src   io.Reader
	ctl   controlWriter
	limit int64 // read limit per message; 0: none

	// now stamps readAt, the time the last read of the socket that
	// returned bytes came back. The bytes a read returns complete the
	// frames they end, so readAt after a message is when the read that
	// completed it returned: the message's Received time, taken once per
	// read (once per up to 64 KiB during a burst), not once per frame.
	now    func() time.Time
	readAt time.Time

	small [smallBufSize]byte
	big   *[]byte // from burstPool while a burst lasts
	b     []byte  // small[:] or *big
	r, w  int     // unread bytes are b[r:w]
	hot   bool    // the last read filled the small buffer, or returned more than it holds into the big one
	err   error   // read error held back until the buffered bytes are used

	fatal error // the first error returned; every later call returns it
	empty int   // reads in a row that returned no bytes and no error
}

func newFrameReader(src io.Reader, ctl controlWriter, limit int64, now func() time.Time) *frameReader {
	f := &frameReader{src: src, ctl: ctl, limit: limit, now: now}
	f.b = f.small[:]
	return f
}

// release gives the burst buffer back; the buffer must be empty.
func (f *frameReader) release() {
	if f.big != nil {
		burstPool.Put(f.big)
		f.big = nil
		f.b = f.small[:]
		f.r, f.w = 0, 0
	}
}

// readErr turns the socket's error into gorilla's.
func readErr(err error) error {
	if err == io.EOF {
		return errUnexpectedEOF
	}
	//lint:ignore SA1019 gorilla's hideTempErr asks the same question
	if ne, ok := err.(net.Error); ok && ne.Temporary() {
		return &netError{msg: err.Error(), timeout: ne.Timeout()}
	}
	return err
}

// temporary reports an error gorilla's ping handler ignores.
func temporary(err error) bool {
	ne, ok := err.(net.Error)
	//lint:ignore SA1019 gorilla's default ping handler asks the same question
	return ok && ne.Temporary()
}

// netError is a socket error with Temporary reported false, as gorilla's
// hideTempErr makes it.
type netError struct {
	msg     string
	timeout bool
}

func (e *netError) Error() string   { return e.msg }
func (e *netError) Timeout() bool   { return e.timeout }
func (e *netError) Temporary() bool { return false }

// need makes n (≤ len(small)) unread bytes available at b[r:].
func (f *frameReader) need(n int) error {
	for f.w-f.r < n {
		if f.err != nil {
			err := f.err
			f.err = nil
			return readErr(err)
		}
		if f.r > 0 {
			f.w = copy(f.b, f.b[f.r:f.w])
			f.r = 0
		}
		if f.w == 0 {
			// Empty: pick the buffer for the next read.
			if f.big != nil && !f.hot {
				f.release()
			} else if f.big == nil && f.hot {
				f.big = burstPool.Get().(*[]byte)
				f.b = *f.big
			}
		}
		space := len(f.b) - f.w
		k, err := f.src.Read(f.b[f.w:])
		if f.big != nil {
			// More than the small buffer holds: the burst goes on. (Not
			// "half the burst buffer": a TLS connection returns one
			// record, at most 16 KiB, per read.)
			f.hot = k > len(f.small)
		} else {
			f.hot = k == space
		}
		f.w += k
		if k > 0 {
			f.readAt = f.now()
		}
		if err != nil {
			if k == 0 {
				return readErr(err)
			}
			f.err = err
		}
		if err := f.progress(k); err != nil {
			return err
		}
	}
	return nil
}

// maxEmptyReads is how many reads in a row may return no bytes and no
// error before the reader gives up (bufio's limit, which gorilla's reads
// went through).
const maxEmptyReads = 100

// progress counts reads that returned nothing and no error.
func (f *frameReader) progress(k int) error {
	if k > 0 {
		f.empty = 0
		return nil
	}
	f.empty++
	if f.empty >= maxEmptyReads {
		return io.ErrNoProgress
	}
	return nil
}

// read reads payload bytes into p (len(p) > 0): buffered ones first, else
// straight from the socket.
func (f *frameReader) read(p []byte) (int, error) {
	if f.r < f.w {
		n := copy(p, f.b[f.r:f.w])
		f.r += n
		return n, nil
	}
	if f.err != nil {
		err := f.err
		f.err = nil
		return 0, readErr(err)
	}
	if len(p) < len(f.b) {
		if err := f.need(1); err != nil {
			return 0, err
		}
		n := copy(p, f.b[f.r:f.w])
		f.r += n
		return n, nil
	}
	// A payload at least as large as the buffer: read it in place.
	f.release()
	n, err := f.src.Read(p)
	f.hot = n >= len(f.small)
	if n > 0 {
		f.readAt = f.now()
	}
	if err != nil {
		if n == 0 {
			return 0, readErr(err)
		}
		f.err = err
	}
	if err := f.progress(n); err != nil {
		return 0, err
	}
	return n, nil
}

// dataFrame returns the header of the next data frame, answering the
// control frames before it. inMessage says a fragmented message is being
// read (the last data frame was not final).
func (f *frameReader) dataFrame(inMessage bool) (op int, fin bool, n int64, err error) {
	if f.fatal != nil {
		return 0, false, 0, f.fatal
	}
	for {
		op, fin, n, err = f.frame(inMessage)
		if err != nil {
			f.fatal = err
			return 0, false, 0, err
		}
		if op != opClose && op != opPing && op != opPong {
			return op, fin, n, nil
		}
	}
}

// frame reads one frame header; a control frame it handles whole.
func (f *frameReader) frame(inMessage bool) (op int, fin bool, n int64, err error) {
	if err := f.need(2); err != nil {
		return 0, false, 0, err
	}
	b0, b1 := f.b[f.r], f.b[f.r+1]
	f.r += 2
	op = int(b0 & 0x0f)
	fin = b0&0x80 != 0
	n = int64(b1 & 0x7f)

	// The checks and their wording are gorilla's (conn.go, advanceFrame).
	var problems []string
	if b0&0x40 != 0 {
		problems = append(problems, "RSV1 set")
	}
	if b0&0x20 != 0 {
		problems = append(problems, "RSV2 set")
	}
	if b0&0x10 != 0 {
		problems = append(problems, "RSV3 set")
	}
	switch op {
	case opClose, opPing, opPong:
		if n > maxControlPayload {
			problems = append(problems, "len > 125 for control")
		}
		if !fin {
			problems = append(problems, "FIN not set on control")
		}
	case opText, opBinary:
		if inMessage {
			problems = append(problems, "data before FIN")
		}
	case opContinuation:
		if !inMessage {
			problems = append(problems, "continuation after FIN")
		}
	default:
		problems = append(problems, "bad opcode "+strconv.Itoa(op))
	}
	if b1&0x80 != 0 {
		problems = append(problems, "bad MASK")
	}
	if len(problems) > 0 {
		return 0, false, 0, f.protocolError(strings.Join(problems, ", "))
	}

	switch n {
	case 126:
		if err := f.need(2); err != nil {
			return 0, false, 0, err
		}
		n = int64(binary.BigEndian.Uint16(f.b[f.r:]))
		f.r += 2
	case 127:
		if err := f.need(8); err != nil {
			return 0, false, 0, err
		}
		n = int64(binary.BigEndian.Uint64(f.b[f.r:]))
		f.r += 8
		if n < 0 {
			return 0, false, 0, websocket.ErrReadLimit
		}
	}
	if op == opText || op == opBinary || op == opContinuation {
		return op, fin, n, nil
	}

	if err := f.need(int(n)); err != nil {
		return 0, false, 0, err
	}
	payload := f.b[f.r : f.r+int(n)]
	f.r += int(n)
	switch op {
	case opPing:
		// gorilla's default ping handler.
		err := f.ctl.WriteControl(websocket.PongMessage, payload, time.Now().Add(controlWait))
		if err != nil && err != websocket.ErrCloseSent && !temporary(err) {
			return 0, false, 0, err
		}
	case opClose:
		code, text := websocket.CloseNoStatusReceived, ""
		if len(payload) >= 2 {
			code = int(binary.BigEndian.Uint16(payload))
			if !validReceivedCloseCode(code) {
				return 0, false, 0, f.protocolError("bad close code " + strconv.Itoa(code))
			}
			text = string(payload[2:])
			if !utf8.ValidString(text) {
				return 0, false, 0, f.protocolError("invalid utf8 payload in close frame")
			}
		}
		// gorilla's default close handler: echo the code.
		_ = f.ctl.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(controlWait))
		return 0, false, 0, &websocket.CloseError{Code: code, Text: text}
	}
	return op, fin, n, nil
}

// protocolError closes the socket with 1002 and returns gorilla's error.
func (f *frameReader) protocolError(msg string) error {
	data := websocket.FormatCloseMessage(websocket.CloseProtocolError, msg)
	if len(data) > maxControlPayload {
		data = data[:maxControlPayload]
	}
	_ = f.ctl.WriteControl(websocket.CloseMessage, data, time.Now().Add(controlWait))
	return errors.New("websocket: " + msg)
}

// tooLarge closes the socket with 1009 and returns gorilla's error.
func (f *frameReader) tooLarge() error {
	_ = f.ctl.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""), time.Now().Add(controlWait))
	return websocket.ErrReadLimit
}

// validReceivedCloseCode is gorilla's isValidReceivedCloseCode.
func validReceivedCloseCode(code int) bool {
	switch code {
	case websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseProtocolError,
		websocket.CloseUnsupportedData, websocket.CloseInvalidFramePayloadData,
		websocket.ClosePolicyViolation, websocket.CloseMessageTooBig, websocket.CloseMandatoryExtension,
		websocket.CloseInternalServerErr, websocket.CloseServiceRestart, websocket.CloseTryAgainLater:
		return true
	}
	return code >= 3000 && code <= 4999
}

// nextOwn reads the next message with the frame reader, into the chunk as
// next does. The message was read from the socket at f.readAt.
func (c *chunkReader) nextOwn(f *frameReader) (int, []byte, error) {
	var (
		mt         int
		length     int64
		start, end int
		inMessage  bool
	)
	for {
		op, fin, n, err := f.dataFrame(inMessage)
		if err != nil {
			return 0, nil, err
		}
		length += n
		if length < 0 {
			f.fatal = websocket.ErrReadLimit
			return 0, nil, f.fatal
		}
		if f.limit > 0 && length > f.limit {
			f.fatal = f.tooLarge()
			return 0, nil, f.fatal
		}
		if !inMessage {
			mt, inMessage = op, true
			start = c.begin()
			end = start
		}
		for n > 0 {
			if end == cap(c.chunk) {
				c.chunk, start, end = c.outgrow(start, end)
			}
			room := c.chunk[end:cap(c.chunk)]
			if int64(len(room)) > n {
				room = room[:n]
			}
			k, err := f.read(room)
			end += k
			n -= int64(k)
			if err != nil {
				f.fatal = err
				return 0, nil, err
			}
		}
		if fin {
			c.chunk = c.chunk[:end]
			return mt, c.chunk[start:end:end], nil
		}
	}
}
