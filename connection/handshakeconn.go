package connection

import (
	"bytes"
	"net"
)

// handshakeBufSize is the buffer a handshakeConn reads the socket into
// while the upgrade response is read.
const handshakeBufSize = 1 << 10

// handshakeConn is the socket gorilla/websocket reads the upgrade
// response from when this package reads the frames itself (frames.go).
//
// gorilla reads the response through a bufio.Reader of its own, which
// would keep whatever the server sent after the response (frames written
// in the same TCP segment as the 101) where no one but gorilla can read
// it. So while the handshake runs, a Read hands out at most one line: up
// to and including the next '\n'. An HTTP response head (and a proxy's
// CONNECT answer before it) ends with an empty line, and textproto reads
// it line by line, so gorilla's buffer never holds a byte past the end of
// the response. What the socket returned beyond it stays here; after
// finish, Read hands it out first, then reads the socket directly.
//
// Only one goroutine reads at a time: the dial goroutine until the dial
// returns, then the reader goroutine it hands the socket to.
type handshakeConn struct {
	net.Conn
	buf  []byte // bytes read from the socket, not yet handed out: buf[r:w]
	r, w int
	err  error // error of the read that filled buf, returned once it is empty
	done bool  // finish was called
}

func newHandshakeConn(c net.Conn) *handshakeConn { return &handshakeConn{Conn: c} }

func (c *handshakeConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.r == c.w {
		if c.err != nil {
			err := c.err
			c.err = nil
			return 0, err
		}
		if c.done {
			c.buf = nil
			return c.Conn.Read(p)
		}
		if c.buf == nil {
			c.buf = make([]byte, handshakeBufSize)
		}
		n, err := c.Conn.Read(c.buf)
		if n == 0 {
			return 0, err
		}
		c.r, c.w, c.err = 0, n, err
	}
	avail := c.buf[c.r:c.w]
	if !c.done {
		if i := bytes.IndexByte(avail, '\n'); i >= 0 {
			avail = avail[:i+1]
		}
	}
	n := copy(p, avail)
	c.r += n
	return n, nil
}

// finish ends the handshake: from now on Read returns what is buffered,
// then reads the socket.
func (c *handshakeConn) finish() { c.done = true }

// buffered returns how many bytes read from the socket are not yet handed
// out.
func (c *handshakeConn) buffered() int { return c.w - c.r }
