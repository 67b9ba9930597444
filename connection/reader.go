package connection

import (
	"io"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/gorilla/websocket"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/registry"
)

// chunkSize is the size of the buffers frames are read into. Frames are
// read back to back into a chunk, taken from a pool (chunkpool.go), so the
// reader allocates nothing per frame. The registry, or the route that takes
// a data frame past it (registry.Routes), copies what it keeps (see
// messages.Inbound), so a chunk is garbage once its frames are handled and
// an event kept by a Handler never pins it. A message larger than a chunk
// gets a buffer of its own, dropped after it (next).
const chunkSize = 64 << 10

// readLoop is the reader goroutine of one incarnation. It decodes frames;
// a data frame of a joined channel goes to the Handlers' Dispatcher by the
// channel's route when nothing it queued for the registry is still
// unhandled (registry.Routes), every other frame is queued in the
// incarnation's Inbox for the registry. It never runs user code and
// never waits on a consumer (Inbox.Put only appends, and the registry is
// told with one message per batch; Put waits only while the registry is a
// full Inbox behind). It exits on the first read error, which closing the
// socket provokes; closing the Inbox releases a waiting Put.
func readLoop(conn *websocket.Conn, inbox *wire.Inbox, cfg *Config, epoch uint64, root *actor.RootContext, self *actor.PID, done chan<- struct{}) {
	defer close(done)
	names := wire.NewNameCache()
	codec := readerCodec(cfg.Codec, names.Intern)
	var router *registry.Router
	if cfg.Routes != nil {
		router = cfg.Routes.NewRouter(names.Intern)
	}
	rd := chunkReader{inbox: inbox}
	// next reads a message and says when it was read from the socket.
	next := func() (int, []byte, time.Time, error) {
		mt, data, err := rd.next(conn)
		return mt, data, cfg.Clock.Now(), err
	}
	if hc, ok := conn.UnderlyingConn().(*handshakeConn); ok {
		// The socket was dialed for the own frame reader (dial.go):
		// nothing of it is left in gorilla's buffer. It stamps the time
		// once per socket read, not once per frame.
		fr := newFrameReader(hc, conn, cfg.ReadLimit, cfg.Clock.Now)
		defer fr.release()
		next = func() (int, []byte, time.Time, error) {
			mt, data, err := rd.nextOwn(fr)
			return mt, data, fr.readAt, err
		}
	}
	// in is reused: decoding into a local would move it to the heap on
	// every frame (Decode is an interface call); Put copies it.
	var in messages.Inbound
	for {
		rd.park()
		mt, data, received, err := next()
		if err != nil {
			root.Send(self, &readerExited{epoch: epoch, err: err})
			return
		}
		cfg.Stats.FramesIn.Add(1)
		in = messages.Inbound{Epoch: epoch, Received: received}
		if err := codec.Decode(data, mt == websocket.BinaryMessage, &in.Frame); err != nil {
			cfg.Stats.Malformed.Add(1)
			in = messages.Inbound{Epoch: epoch, Received: in.Received, Err: err}
		} else if in.Frame.Topic == "phoenix" && in.Frame.Event == "phx_reply" {
			root.Send(self, &heartbeatReply{epoch: epoch, ref: in.Frame.Ref, at: in.Received, status: replyStatus(in.Frame.Payload)})
			continue
		}
		if router != nil && inbox.Drained() && router.Route(&in) {
			// A data frame of a joined channel, queued for its Handler
			// with nothing of this socket still before it at the
			// registry (registry.Routes).
			continue
		}
		if inbox.Put(in) {
			root.Send(cfg.Registry, inbox.Ready)
		}
	}
}

// chunkReader reads whole WebSocket messages into shared chunks, taken
// from chunkPool (see chunkpool.go).
type chunkReader struct {
	chunk []byte // frames are appended at len(chunk)
	buf   *[]byte
	inbox *wire.Inbox
}

// minRoom is the room a chunk must have left to start a message in it.
const minRoom = 512

// next reads the next message. The returned slice's capacity ends where
// the message does, so nothing appended to it can reach the next frame.
func (c *chunkReader) next(conn *websocket.Conn) (int, []byte, error) {
	mt, r, err := conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	start := c.begin()
	end := start
	for {
		if end == cap(c.chunk) {
			c.chunk, start, end = c.outgrow(start, end)
		}
		k, err := r.Read(c.chunk[end:cap(c.chunk)])
		end += k
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	c.chunk = c.chunk[:end]
	return mt, c.chunk[start:end:end], nil
}

// begin makes room for a message in the chunk and returns where it starts.
func (c *chunkReader) begin() int {
	if cap(c.chunk) > chunkSize {
		// The last message outgrew a chunk and got a buffer of its own;
		// keep nothing of it, or one large message would pin its size
		// for the life of the socket.
		c.chunk = nil
	}
	start := len(c.chunk)
	if cap(c.chunk)-start < minRoom {
		c.chunk = c.fresh()
		start = len(c.chunk)
	}
	return start
}

// outgrow moves a message that filled the chunk, chunk[start:end], to a
// larger buffer of its own; it grows as the bytes arrive (doubling), not
// to the length a frame header announces.
func (c *chunkReader) outgrow(start, end int) (chunk []byte, nstart, nend int) {
	n := end - start
	nc := make([]byte, n, max(chunkSize, 2*n))
	copy(nc, c.chunk[start:end])
	return nc, 0, n
}

// replyStatus is the status of a reply payload ("" if it has none).
func replyStatus(payload []byte) string {
	r, err := wire.ParseReply(payload)
	if err != nil {
		return ""
	}
	return r.Status
}
