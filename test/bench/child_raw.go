package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// rawChild is the ceiling: a bare gorilla/websocket client with no
// client logic. While armed it only counts frames (NextReader + io.Copy to
// io.Discard), which is the read-only ceiling of B1/B2; it pipelines joins
// (B3, B5), matches ack replies by ref (B4) and writes pre-encoded masked
// pushes in large chunks straight to the TCP connection (B6).
type rawChild struct {
	url     string
	vsn     frame.Vsn
	codec   wire.Codec
	backoff time.Duration

	wmu sync.Mutex // serialises writes
	ws  atomic.Pointer[websocket.Conn]

	ref     atomic.Int64
	mu      sync.Mutex
	waiters map[string]chan bool // ref → ok
	topics  []string             // joined wire topics, in order
	joinRef map[string]string    // wire topic → join ref
	cfg     []byte               // join payload

	arm    atomic.Pointer[armState]
	rejoin atomic.Pointer[rejoinState]
}

func runRawChild(in io.Reader, out io.Writer) error {
	c := &rawChild{waiters: map[string]chan bool{}, joinRef: map[string]string{}}
	defer func() {
		if ws := c.ws.Load(); ws != nil {
			_ = ws.Close()
		}
	}()
	return serveChild(in, out, c.handle)
}

func (c *rawChild) handle(req request) (response, bool) {
	switch req.Op {
	case opConnect:
		u, err := url.Parse(req.URL)
		if err != nil {
			return errResp("url: %v", err), false
		}
		q := url.Values{"apikey": {apiKey}, "vsn": {req.Vsn}, idParam: {req.ID}}
		c.url = "ws://" + u.Host + "/realtime/v1/websocket?" + q.Encode()
		c.vsn = frame.Vsn(req.Vsn)
		if c.codec, err = wire.CodecFor(c.vsn); err != nil {
			return errResp("%v", err), false
		}
		c.backoff = timeout(req.BackoffMs, time.Second)
		if err := c.dial(); err != nil {
			return errResp("dial: %v", err), false
		}
		return response{}, false
	case opSubscribe:
		c.cfg = fmt.Appendf(nil, `{"config":{"broadcast":{"ack":%t,"self":%t},"presence":{"enabled":false,"key":""},"postgres_changes":[],"private":false}}`, req.Ack, req.Self)
		topics := make([]string, len(req.Topics))
		for i, t := range req.Topics {
			topics[i] = messages.Topic(t)
		}
		start := time.Now()
		n, err := c.joinAll(topics, timeout(req.TimeoutMs, 5*time.Minute))
		if err != nil {
			return errResp("%v", err), false
		}
		took := time.Since(start)
		c.mu.Lock()
		c.topics = append(c.topics, topics...)
		c.mu.Unlock()
		return response{JoinNs: took.Nanoseconds(), Joined: n, TimedOut: n < len(topics)}, false
	case opArm:
		a := &armState{want: int64(req.N), done: make(chan struct{}), cpu0: cpuNs()}
		c.arm.Store(a)
		return response{}, false
	case opWait:
		a := c.arm.Load()
		if a == nil {
			return errResp("wait before arm"), false
		}
		t := time.NewTimer(timeout(req.TimeoutMs, time.Minute))
		defer t.Stop()
		select {
		case <-a.done:
		case <-t.C:
		}
		cpu := cpuNs() - a.cpu0
		c.arm.Store(nil)
		return response{Delivered: int(a.count.Load()), FirstNs: a.firstNs.Load(), EndNs: a.endNs.Load(), CPUNs: cpu}, false
	case opRejoinArm:
		c.mu.Lock()
		n := len(c.topics)
		c.mu.Unlock()
		c.rejoin.Store(&rejoinState{want: n, done: make(chan struct{})})
		return response{}, false
	case opRejoinWait:
		return waitRejoin(c.rejoin.Load(), req), false
	case opAcks:
		return c.acks(req), false
	case opSend:
		return c.send(req), false
	case opMemory:
		heap, rss := memory()
		return response{Heap: heap, RSS: rss}, false
	case opClose:
		return response{}, true
	}
	return errResp("unknown op %q", req.Op), false
}

func (c *rawChild) dial() error {
	ws, resp, err := websocket.DefaultDialer.Dial(c.url, nil)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	c.ws.Store(ws)
	go c.readLoop(ws)
	return nil
}

// readLoop reads one socket incarnation. On a drop while a rejoin is
// armed it reconnects after the backoff and rejoins every topic.
func (c *rawChild) readLoop(ws *websocket.Conn) {
	var f frame.Frame
	for {
		if a := c.arm.Load(); a != nil && a.count.Load() < a.want {
			_, r, err := ws.NextReader()
			if err != nil {
				break
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				break
			}
			a.tick()
			continue
		}
		mt, data, err := ws.ReadMessage()
		if err != nil {
			break
		}
		// Armed while this read was waiting: the message is the first
		// of the blast.
		if a := c.arm.Load(); a != nil && a.count.Load() < a.want {
			a.tick()
			continue
		}
		if c.codec.Decode(data, mt == websocket.BinaryMessage, &f) != nil || f.Event != "phx_reply" {
			continue
		}
		c.mu.Lock()
		w := c.waiters[f.Ref]
		delete(c.waiters, f.Ref)
		c.mu.Unlock()
		if w != nil {
			w <- bytes.Contains(f.Payload, []byte(`"status":"ok"`))
		}
	}
	if r := c.rejoin.Load(); r != nil && c.ws.Load() == ws {
		go c.reconnect(r)
	}
}

func (c *rawChild) reconnect(r *rejoinState) {
	time.Sleep(c.backoff)
	for c.dial() != nil {
		time.Sleep(c.backoff)
	}
	c.mu.Lock()
	topics := append([]string(nil), c.topics...)
	c.mu.Unlock()
	if n, err := c.joinAll(topics, 5*time.Minute); err == nil && n == len(topics) {
		r.count.Store(int64(len(topics)))
		r.endNs.Store(nowNs())
		close(r.done)
	}
}

// nextRef returns a fresh ref and a channel receiving the reply status.
func (c *rawChild) nextRef() (string, chan bool) {
	ref := strconv.FormatInt(c.ref.Add(1), 10)
	ch := make(chan bool, 1)
	c.mu.Lock()
	c.waiters[ref] = ch
	c.mu.Unlock()
	return ref, ch
}

func (c *rawChild) write(data []byte, binaryFrame bool) error {
	mt := websocket.TextMessage
	if binaryFrame {
		mt = websocket.BinaryMessage
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.Load().WriteMessage(mt, data)
}

// joinAll sends every join back to back, then waits for the replies, at
// most limit; it returns how many joins were accepted in time.
func (c *rawChild) joinAll(topics []string, limit time.Duration) (int, error) {
	waits := make([]chan bool, len(topics))
	for i, t := range topics {
		ref, ch := c.nextRef()
		waits[i] = ch
		data, bin, err := c.codec.Append(nil, &frame.Frame{JoinRef: ref, Ref: ref, Topic: t, Event: "phx_join", Payload: c.cfg})
		if err != nil {
			return 0, err
		}
		c.mu.Lock()
		c.joinRef[t] = ref
		c.mu.Unlock()
		if err := c.write(data, bin); err != nil {
			return 0, err
		}
	}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for i, ch := range waits {
		select {
		case ok := <-ch:
			if !ok {
				return i, fmt.Errorf("join %s refused", topics[i])
			}
		case <-deadline.C:
			return i, nil
		}
	}
	return len(topics), nil
}

func (c *rawChild) pushFrame(topic, event string, payload []byte) (ref string, ch chan bool, data []byte, bin bool, err error) {
	ref, ch = c.nextRef()
	c.mu.Lock()
	jr := c.joinRef[topic]
	c.mu.Unlock()
	body := make([]byte, 0, len(payload)+64)
	body = append(body, `{"type":"broadcast","event":"`+event+`","payload":`...)
	body = append(body, payload...)
	body = append(body, '}')
	data, bin, err = c.codec.Append(nil, &frame.Frame{JoinRef: jr, Ref: ref, Topic: topic, Event: "broadcast", Payload: body})
	return ref, ch, data, bin, err
}

func (c *rawChild) acks(req request) response {
	topic := messages.Topic(req.Topic)
	total := req.Rate * req.DurationMs / 1000
	interval := time.Second / time.Duration(req.Rate)
	lat := make([]float64, total)
	failed := make([]bool, total)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		_, ch, data, bin, err := c.pushFrame(topic, ackEvent, cursorPayload(0))
		t0 := time.Now()
		if err == nil {
			err = c.write(data, bin)
		}
		if err != nil {
			failed[i] = true
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t := time.NewTimer(30 * time.Second)
			defer t.Stop()
			select {
			case ok := <-ch:
				failed[i] = !ok
				lat[i] = float64(time.Since(t0).Nanoseconds()) / 1e3
			case <-t.C:
				failed[i] = true
			}
		}(i)
	}
	wg.Wait()
	var resp response
	for i := range lat {
		if failed[i] {
			resp.Errors++
		} else {
			resp.LatenciesUs = append(resp.LatenciesUs, lat[i])
		}
	}
	return resp
}

// send writes req.N broadcast pushes (JSON text; binary kind 3 with
// req.Typed), pre-encoded as masked client frames (mask key 0) in chunks
// of up to 1,000, straight to the TCP connection.
func (c *rawChild) send(req request) response {
	topic := messages.Topic(req.Topic)
	c.mu.Lock()
	jr := c.joinRef[topic]
	c.mu.Unlock()
	const perChunk = 1000
	body := make([]byte, 0, 256)
	body = append(body, `{"type":"broadcast","event":"`+broadcastName+`","payload":`...)
	body = append(body, cursorPayload(0)...)
	body = append(body, '}')
	f := frame.Frame{JoinRef: jr, Topic: topic, Event: "broadcast", Payload: body}
	if req.Typed {
		// realtime-js's format on vsn 2.0.0: a binary kind-3 user
		// broadcast push with a JSON payload.
		f = frame.Frame{Kind: frame.KindUserBroadcastPush, JoinRef: jr, Topic: topic, Event: "broadcast",
			UserEvent: broadcastName, Encoding: frame.EncodingJSON, Payload: cursorPayload(0)}
	}
	var chunk []byte
	for i := 0; i < perChunk; i++ {
		data, bin, err := c.codec.Append(nil, &f)
		if err != nil {
			return errResp("%v", err)
		}
		chunk = appendMaskedFrame(chunk, bin, data)
	}
	ws := c.ws.Load()
	nc := ws.NetConn()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	start := nowNs()
	for left := req.N; left > 0; {
		n := min(left, perChunk)
		part := chunk
		if n < perChunk {
			part = chunk[:n*len(chunk)/perChunk]
		}
		if _, err := nc.Write(part); err != nil {
			return errResp("write: %v", err)
		}
		left -= n
	}
	return response{StartNs: start, SentNs: nowNs()}
}

// appendMaskedFrame appends a client→server frame (RFC 6455 §5.2: masked,
// here with the all-zero key, so the payload bytes are unchanged).
func appendMaskedFrame(dst []byte, binaryFrame bool, payload []byte) []byte {
	op := byte(0x1)
	if binaryFrame {
		op = 0x2
	}
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, 0, 0, 0, 0)
	return append(dst, payload...)
}

// tick counts one delivery of the raw client.
func (a *armState) tick() {
	n := a.count.Add(1)
	if n == 1 {
		a.firstNs.Store(nowNs())
	}
	if n == a.want {
		a.endNs.Store(nowNs())
		close(a.done)
	}
}
