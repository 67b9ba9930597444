package realtimetest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// CloseAbnormal is the close code that makes Conn.Close drop the TCP
// connection without sending a close frame (clients observe 1006).
const CloseAbnormal = websocket.CloseAbnormalClosure

// ErrConnClosed is returned when sending on a connection that has closed.
var ErrConnClosed = errors.New("realtimetest: connection closed")

// closeGrace bounds how long the writer waits for the client's close frame
// after sending its own before dropping the TCP connection.
const closeGrace = time.Second

// writeTimeout bounds a single WebSocket write.
const writeTimeout = 10 * time.Second

// Conn is one client socket accepted by the Server.
//
// Each Conn runs two goroutines: a reader that decodes and handles inbound
// frames in order, and a writer that drains an unbounded outbound queue.
// Every method is safe for concurrent use.
type Conn struct {
	counted atomic.Bool // joined a channel once: a user of MaxConcurrentUsers

	srv    *Server
	id     int
	ws     *websocket.Conn
	vsn    frame.Vsn
	codec  wire.Codec
	query  url.Values
	header http.Header
	path   string

	out outQueue

	stop       chan struct{} // closed by abort: the writer must exit
	readerDone chan struct{} // closed when the reader goroutine has cleaned up
	abortOnce  sync.Once

	mu       sync.Mutex // guards the fields below
	closed   bool       // the reader has exited and detached every channel
	channels map[string]*channel
	received []frame.Frame
	pongs    []string

	malformed  atomic.Int64
	broadcasts atomic.Int64 // broadcast pushes on joined channels
	peerClose  atomic.Int64 // close code received from the client
}

func newConn(s *Server, id int, ws *websocket.Conn, vsn frame.Vsn, codec wire.Codec, r *http.Request) *Conn {
	c := &Conn{
		srv:        s,
		id:         id,
		ws:         ws,
		vsn:        vsn,
		codec:      codec,
		query:      r.URL.Query(),
		header:     r.Header.Clone(),
		path:       r.URL.Path,
		stop:       make(chan struct{}),
		readerDone: make(chan struct{}),
		channels:   make(map[string]*channel),
	}
	c.out.wake = make(chan struct{}, 1)
	ws.SetPongHandler(c.recordPong)
	return c
}

// ID returns the connection id, unique within the Server and starting at 1.
func (c *Conn) ID() int { return c.id }

// Vsn returns the negotiated serializer version.
func (c *Conn) Vsn() frame.Vsn { return c.vsn }

// Query returns a copy of the upgrade request's query parameters.
func (c *Conn) Query() url.Values { return cloneValues(c.query) }

// Header returns a copy of the upgrade request's headers.
func (c *Conn) Header() http.Header { return c.header.Clone() }

// Path returns the upgrade request's path.
func (c *Conn) Path() string { return c.path }

// Done is closed once the socket has closed and its channels were detached.
func (c *Conn) Done() <-chan struct{} { return c.readerDone }

// Closed reports whether the socket has closed.
func (c *Conn) Closed() bool {
	select {
	case <-c.readerDone:
		return true
	default:
		return false
	}
}

// Malformed returns how many inbound frames of this socket were dropped
// because they could not be decoded.
func (c *Conn) Malformed() int64 { return c.malformed.Load() }

// PeerCloseCode returns the close code of the close frame the client sent
// (1009 when it refused a message over its read limit), or 0 when none has
// been received.
func (c *Conn) PeerCloseCode() int { return int(c.peerClose.Load()) }

// Received returns deep copies of every frame this socket sent to the
// server and that decoded, in arrival order.
func (c *Conn) Received() []frame.Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]frame.Frame, len(c.received))
	for i := range c.received {
		out[i] = copyFrame(&c.received[i])
	}
	return out
}

// Joined returns the topics currently joined on this socket, sorted.
func (c *Conn) Joined() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.channels))
	for t := range c.channels {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Channels returns a snapshot of the channels joined on this socket, sorted
// by topic.
func (c *Conn) Channels() []ChannelInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ChannelInfo, 0, len(c.channels))
	for _, ch := range c.channels {
		out = append(out, ch.infoLocked())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// Close sends a WebSocket close frame with code and text after the frames
// already queued, then closes the connection. Code 1006 (CloseAbnormal)
// instead drops the TCP connection at once without a close frame.
func (c *Conn) Close(code int, text string) {
	if code == CloseAbnormal {
		c.abort()
		return
	}
	c.out.push(outItem{close: &closeReq{code: code, text: text}})
}

// SendRaw queues data as one WebSocket message, text or binary, exactly as
// given (it may be malformed).
func (c *Conn) SendRaw(binary bool, data []byte) error {
	if !c.out.push(outItem{binary: binary, data: bytes.Clone(data)}) {
		return ErrConnClosed
	}
	return nil
}

// Push encodes f with the socket's codec and queues it.
func (c *Conn) Push(f frame.Frame) error {
	it, err := c.encode(&f)
	if err != nil {
		return err
	}
	if !c.out.push(it) {
		return ErrConnClosed
	}
	return nil
}

// encode renders f for this socket. V2 uses the codec. V1 text frames are
// rendered in the server→client object form {"topic","event","payload","ref"}
// without "join_ref" (§2.1), which the codec (written for the client
// direction) would add.
func (c *Conn) encode(f *frame.Frame) (outItem, error) {
	if c.vsn == frame.V1 && f.Kind == frame.KindText {
		return outItem{data: appendV1ServerFrame(nil, f)}, nil
	}
	data, binary, err := c.codec.Append(nil, f)
	if err != nil {
		return outItem{}, err
	}
	return outItem{binary: binary, data: data}, nil
}

// appendV1ServerFrame appends the V1 object form of a server→client frame.
func appendV1ServerFrame(dst []byte, f *frame.Frame) []byte {
	dst = append(dst, `{"topic":`...)
	dst = jsonscan.AppendQuote(dst, f.Topic)
	dst = append(dst, `,"event":`...)
	dst = jsonscan.AppendQuote(dst, f.Event)
	dst = append(dst, `,"payload":`...)
	if len(f.Payload) == 0 {
		dst = append(dst, '{', '}')
	} else {
		dst = append(dst, f.Payload...)
	}
	dst = append(dst, `,"ref":`...)
	if f.Ref == "" {
		dst = append(dst, "null"...)
	} else {
		dst = jsonscan.AppendQuote(dst, f.Ref)
	}
	return append(dst, '}')
}

// decode decodes one inbound message. On top of the codec it enforces the
// server's V1 rule that "ref" is a required key (§2.1).
func (c *Conn) decode(data []byte, binary bool, f *frame.Frame) error {
	if err := c.codec.Decode(data, binary, f); err != nil {
		return err
	}
	if c.vsn == frame.V1 {
		hasRef := false
		_ = jsonscan.ObjectEach(data, func(key, _ []byte) error {
			if jsonscan.KeyEquals(key, "ref") {
				hasRef = true
			}
			return nil
		})
		if !hasRef {
			return fmt.Errorf("%w: v1 frame: missing \"ref\"", messages.ErrMalformed)
		}
	}
	return nil
}

// send encodes and queues frames in order; the first one is held back until
// delay has elapsed (and, the queue being FIFO, so is everything after it).
// Encoding failures are logged and the frame skipped.
func (c *Conn) send(delay time.Duration, frames ...*frame.Frame) {
	items := make([]outItem, 0, len(frames))
	for _, f := range frames {
		it, err := c.encode(f)
		if err != nil {
			c.srv.log.Debug("realtimetest: encode failed", "conn", c.id, "topic", f.Topic, "event", f.Event, "err", err)
			continue
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return
	}
	if delay > 0 {
		items[0].notBefore = time.Now().Add(delay)
	}
	c.out.push(items...)
}

// channel returns the channel joined on topic, or nil.
func (c *Conn) channel(topic string) *channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channels[topic]
}

// readLoop is the reader goroutine.
func (c *Conn) readLoop() {
	defer c.srv.wg.Done()
	defer func() {
		c.detachAll()
		c.abort()
		close(c.readerDone)
		c.srv.log.Debug("realtimetest: disconnected", "conn", c.id)
	}()
	for {
		if idle := c.srv.opts.IdleTimeout; idle > 0 {
			// Phoenix.Transports.WebSocket's timeout (60_000 ms by
			// default): a socket that sends nothing (not even
			// heartbeats) for that long is closed.
			_ = c.ws.SetReadDeadline(time.Now().Add(idle))
		}
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.peerClose.Store(int64(ce.Code))
			}
			return
		}
		var f frame.Frame
		if err := c.decode(data, mt == websocket.BinaryMessage, &f); err != nil {
			c.malformed.Add(1)
			c.srv.malformed.Add(1)
			c.srv.log.Debug("realtimetest: malformed frame dropped", "conn", c.id, "err", err)
			continue
		}
		if !c.srv.opts.DiscardReceived {
			c.record(&f)
		}
		c.srv.log.Debug("realtimetest: recv", "conn", c.id, "topic", f.Topic, "event", f.Event, "ref", f.Ref, "kind", f.Kind)
		c.handle(&f)
	}
}

// record stores a copy of an inbound frame on the conn and the server.
func (c *Conn) record(f *frame.Frame) {
	cp := copyFrame(f)
	c.mu.Lock()
	c.received = append(c.received, cp)
	c.mu.Unlock()
	c.srv.hooks.recordFrame(c.id, cp)
}

// detachAll removes every channel of a closing socket (presence leaves are
// fanned out to the remaining subscribers).
func (c *Conn) detachAll() {
	c.mu.Lock()
	c.closed = true
	chans := make([]*channel, 0, len(c.channels))
	for _, ch := range c.channels {
		chans = append(chans, ch)
	}
	c.channels = map[string]*channel{}
	c.mu.Unlock()
	for _, ch := range chans {
		c.srv.hub.unsubscribe(ch)
	}
}

// detach removes ch from the socket and the hub. It reports false if ch was
// no longer joined (someone else detached it first).
func (c *Conn) detach(ch *channel) bool {
	c.mu.Lock()
	if c.channels[ch.topic] != ch {
		c.mu.Unlock()
		return false
	}
	delete(c.channels, ch.topic)
	c.mu.Unlock()
	c.srv.hub.unsubscribe(ch)
	return true
}

// abort drops the TCP connection without a close frame and stops the
// writer. It is idempotent.
func (c *Conn) abort() {
	c.abortOnce.Do(func() {
		c.out.close()
		close(c.stop)
		_ = c.ws.NetConn().Close()
	})
}

// shutdown is used by Server.Close: a best-effort 1001 close frame written
// right away (not queued), then abort.
func (c *Conn) shutdown() {
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closed"),
		time.Now().Add(100*time.Millisecond))
	c.abort()
}

// writeLoop is the writer goroutine: the only one writing data messages.
func (c *Conn) writeLoop() {
	defer c.srv.wg.Done()
	defer c.abort()
	for {
		it, ok := c.out.pop(c.stop)
		if !ok {
			return
		}
		if !it.notBefore.IsZero() {
			if d := time.Until(it.notBefore); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-c.stop:
					t.Stop()
					return
				}
			}
		}
		if it.blast != nil {
			err := c.writeBlast(it.blast)
			it.blast.done <- err
			if err != nil {
				return
			}
			continue
		}
		if it.close != nil {
			c.out.close() // nothing may follow a close frame
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(it.close.code, it.close.text),
				time.Now().Add(writeTimeout))
			t := time.NewTimer(closeGrace)
			select {
			case <-c.readerDone: // the client echoed the close
			case <-c.stop:
			case <-t.C:
			}
			t.Stop()
			return
		}
		mt := websocket.TextMessage
		if it.binary {
			mt = websocket.BinaryMessage
		}
		_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := c.ws.WriteMessage(mt, it.data); err != nil {
			return
		}
	}
}

// outItem is one queued outbound WebSocket message or a close request.
type outItem struct {
	binary    bool
	data      []byte
	notBefore time.Time // zero: send as soon as it is at the head
	close     *closeReq
	blast     *blastReq // raw pre-framed bytes (Conn.Blast)
}

type closeReq struct {
	code int
	text string
}

// outQueue is an unbounded FIFO: producers never block, so fan-out from
// any goroutine (even under the hub lock) cannot deadlock on a slow client.
type outQueue struct {
	mu     sync.Mutex
	items  []outItem
	closed bool
	wake   chan struct{} // capacity 1
}

// push appends items; it reports false if the queue is closed.
func (q *outQueue) push(items ...outItem) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, items...)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// pop waits for the next item; ok is false once stop is closed.
func (q *outQueue) pop(stop <-chan struct{}) (outItem, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			it := q.items[0]
			q.items[0] = outItem{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return it, true
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-stop:
			return outItem{}, false
		}
	}
}

// close rejects further pushes and discards what is queued.
func (q *outQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.items = nil
	q.mu.Unlock()
}

// copyFrame deep-copies f so it no longer aliases a read buffer.
func copyFrame(f *frame.Frame) frame.Frame {
	cp := *f
	cp.JoinRef = strings.Clone(f.JoinRef)
	cp.Ref = strings.Clone(f.Ref)
	cp.Topic = strings.Clone(f.Topic)
	cp.Event = strings.Clone(f.Event)
	cp.UserEvent = strings.Clone(f.UserEvent)
	cp.Status = strings.Clone(f.Status)
	cp.Payload = bytes.Clone(f.Payload)
	cp.Meta = bytes.Clone(f.Meta)
	return cp
}
