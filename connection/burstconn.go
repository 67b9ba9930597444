package connection

import (
	"net"
	"sync"
)

// burstSize is the buffer a socket reads into while frames arrive faster
// than one read returns them.
const burstSize = 64 << 10

// burstPool holds the burst buffers no socket is using; every client of
// the process shares them.
var burstPool = sync.Pool{New: func() any {
	b := make([]byte, burstSize)
	return &b
}}

// burstConn is the socket under gorilla/websocket's own read buffer. It
// adapts its reads to the traffic:
//
//   - idle or trickling, it holds no buffer and reads straight into the
//     caller's slice (gorilla's small read buffer), so an idle client costs
//     no burst buffer;
//   - once a read fills the caller's slice (more is likely waiting), it
//     takes a 64 KiB buffer from burstPool and reads the socket in 64 KiB
//     reads, handing the bytes out from it: a blast of small frames costs
//     one read(2) per 64 KiB instead of one per gorilla buffer (4 KiB);
//   - when a read comes back less than half full (the burst is over) and
//     its bytes are handed out, the buffer goes back to the pool.
//
// Only the socket's reader goroutine calls Read; the other methods are the
// socket's own and safe from any goroutine.
type burstConn struct {
	net.Conn
	buf   *[]byte // nil while idle
	r, w  int     // unread bytes are (*buf)[r:w]
	short bool    // the last fill was less than half the buffer
	err   error   // error of a read that also returned bytes
}

func newBurstConn(c net.Conn) *burstConn { return &burstConn{Conn: c} }

func (c *burstConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.r == c.w {
		if c.err != nil {
			err := c.err
			c.err = nil
			return 0, err
		}
		if c.buf == nil {
			n, err := c.Conn.Read(p)
			if n == len(p) && err == nil {
				c.buf = burstPool.Get().(*[]byte)
			}
			return n, err
		}
		n, err := c.Conn.Read(*c.buf)
		if n == 0 {
			c.release()
			return 0, err
		}
		c.r, c.w, c.short, c.err = 0, n, n < burstSize/2, err
	}
	n := copy(p, (*c.buf)[c.r:c.w])
	c.r += n
	if c.r == c.w && (c.short || c.err != nil) {
		c.release()
	}
	return n, nil
}

// release returns the burst buffer to the pool; it holds no unread bytes.
func (c *burstConn) release() {
	if c.buf != nil {
		burstPool.Put(c.buf)
		c.buf, c.r, c.w = nil, 0, 0
	}
}
