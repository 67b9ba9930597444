package realtimetest

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
)

// SetHandshakeTrailer makes the server write trailer, raw WebSocket
// frames (see AppendWebSocketFrame, AppendControlFrame), in the same write
// as the 101 response of the next socket it accepts, so they reach the
// client in the same TCP segment as the end of the response headers. It
// applies to one socket; nil cancels a pending trailer.
func (s *Server) SetHandshakeTrailer(trailer []byte) {
	if trailer == nil {
		s.hooks.trailer.Store(nil)
		return
	}
	b := bytes.Clone(trailer)
	s.hooks.trailer.Store(&b)
}

// AppendControlFrame appends one unmasked server→client frame with the
// first header byte b0 (FIN, RSV bits and opcode as given: a fragment, a
// ping 0x89, a close 0x88, or a deliberately invalid frame) and payload.
func AppendControlFrame(dst []byte, b0 byte, payload []byte) []byte {
	n := len(dst)
	dst = AppendWebSocketFrame(dst, false, payload)
	dst[n] = b0
	return dst
}

// trailerWriter hands gorilla's Upgrader a connection whose first write
// (the 101 response) carries the trailer too.
type trailerWriter struct {
	http.ResponseWriter
	trailer []byte
}

func (w *trailerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("realtimetest: response writer cannot hijack")
	}
	nc, brw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &trailerConn{Conn: nc, trailer: w.trailer}, brw, nil
}

// trailerConn appends its trailer to the first write.
type trailerConn struct {
	net.Conn
	trailer []byte
	written atomic.Bool
}

func (c *trailerConn) Write(p []byte) (int, error) {
	if !c.written.CompareAndSwap(false, true) {
		return c.Conn.Write(p)
	}
	n, err := c.Conn.Write(append(bytes.Clone(p), c.trailer...))
	return min(n, len(p)), err
}

// recordPong is the socket's pong handler: it keeps the payload.
func (c *Conn) recordPong(data string) error {
	c.mu.Lock()
	c.pongs = append(c.pongs, data)
	c.mu.Unlock()
	return nil
}

// Pongs returns the payloads of the pongs the client sent, in order.
func (c *Conn) Pongs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.pongs...)
}
