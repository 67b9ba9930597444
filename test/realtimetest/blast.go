package realtimetest

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
)

// WebSocket opcodes of data frames (RFC 6455 §5.2).
const (
	opText   = 0x1
	opBinary = 0x2
	finBit   = 0x80
)

// AppendWebSocketFrame appends one complete, unmasked server→client
// WebSocket data frame (FIN set, opcode text or binary) carrying payload:
// the 2, 4 or 10 byte header (RFC 6455 §5.2) followed by the payload.
// Concatenated frames are what Conn.Blast writes.
func AppendWebSocketFrame(dst []byte, binaryFrame bool, payload []byte) []byte {
	op := byte(opText)
	if binaryFrame {
		op = opBinary
	}
	dst = append(dst, finBit|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// EncodeFrame renders f exactly as the server sends it on a socket of
// version vsn: the V2 codec (text array or binary), or for V1 the
// server→client object form {"topic","event","payload","ref"} (§2.1). It
// is the message body only; wrap it with AppendWebSocketFrame.
func EncodeFrame(vsn frame.Vsn, f frame.Frame) (data []byte, binaryFrame bool, err error) {
	if vsn == frame.V1 && f.Kind == frame.KindText {
		return appendV1ServerFrame(nil, &f), false, nil
	}
	codec, err := wire.CodecFor(vsn)
	if err != nil {
		return nil, false, err
	}
	return codec.Append(nil, &f)
}

// blastReq is a queued Blast: raw bytes written repeat times.
type blastReq struct {
	chunk  []byte
	repeat int
	done   chan error // capacity 1
}

// Blast writes chunk, already framed (see AppendWebSocketFrame), repeat
// times straight to the socket's TCP connection, bypassing the encoder and
// the per-message write path, so the server costs almost nothing per frame:
// it is the benchmark "blast mode". The write happens on the socket's writer
// goroutine, after everything queued before it and before anything queued
// after it, so it never interleaves with other data messages. It returns
// once every byte was written, or with the write error, ErrConnClosed, or
// ctx's error (the blast then still runs to its end or the first write
// error, with a 10 s deadline per chunk).
//
// chunk must hold whole frames; the caller keeps it unchanged until Blast
// returns. WebSocket control frames the server writes on its own (a close
// on Server.Close, pong answers to client pings) are not coordinated with
// a running blast: do not ping during one.
func (c *Conn) Blast(ctx context.Context, chunk []byte, repeat int) error {
	if repeat <= 0 || len(chunk) == 0 {
		return nil
	}
	req := &blastReq{chunk: chunk, repeat: repeat, done: make(chan error, 1)}
	if !c.out.push(outItem{blast: req}) {
		return ErrConnClosed
	}
	select {
	case err := <-req.done:
		return err
	case <-c.readerDone:
		// The socket closed; the writer may have dropped the request.
		select {
		case err := <-req.done:
			return err
		default:
			return ErrConnClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeBlast performs a Blast on the writer goroutine.
func (c *Conn) writeBlast(req *blastReq) error {
	nc := c.ws.NetConn()
	for i := 0; i < req.repeat; i++ {
		select {
		case <-c.stop:
			return ErrConnClosed
		default:
		}
		_ = nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := nc.Write(req.chunk); err != nil {
			return errors.Join(ErrConnClosed, err)
		}
	}
	return nil
}

// BroadcastsReceived returns how many broadcast pushes this socket sent on
// joined channels (counted whether or not Options.DiscardReceived is set).
func (c *Conn) BroadcastsReceived() int64 { return c.broadcasts.Load() }
