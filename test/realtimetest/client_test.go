package realtimetest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/test/realtimetest"
)

// Bounds for every asynchronous assertion of the suite.
const (
	waitTimeout = 5 * time.Second
	pollEvery   = 5 * time.Millisecond
)

// wire is one server→client message as parsed by the test client itself,
// independently of package messages, so the specs check the bytes on the
// wire.
type wire struct {
	Binary  bool
	Raw     []byte
	JoinRef any // nil (JSON null / absent) or string
	Ref     any
	Topic   string
	Event   string
	Payload json.RawMessage
	// HasJoinRefKey reports a "join_ref" key in a V1 object.
	HasJoinRefKey bool

	// Binary kind 4 fields.
	Kind      byte
	UserEvent string
	Meta      []byte
	Encoding  byte
}

// rawClient is a bare gorilla/websocket client speaking one vsn.
type rawClient struct {
	ws   *websocket.Conn
	vsn  string
	done chan struct{}

	mu       sync.Mutex
	frames   []wire
	cursor   int
	readErr  error
	nextRef  int
	parseErr []string
}

// dialURL builds a socket URL with the given vsn ("" = no vsn param) and
// extra query parameters.
func dialURL(srv *realtimetest.Server, vsn string, extra url.Values) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	if vsn != "" {
		q.Set("vsn", vsn)
	}
	return srv.WebSocketURL() + "?" + q.Encode()
}

// dial connects a raw client; vsn "" omits the vsn parameter (V1).
func dial(srv *realtimetest.Server, vsn string, extra url.Values) *rawClient {
	ws, resp, err := websocket.DefaultDialer.Dial(dialURL(srv, vsn, extra), nil)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	if vsn == "" {
		vsn = "1.0.0"
	}
	c := &rawClient{ws: ws, vsn: vsn, done: make(chan struct{})}
	go c.readLoop()
	return c
}

// dialStatus attempts a handshake that must fail and returns status and body.
func dialStatus(rawURL string, header http.Header) (int, string, string) {
	ws, resp, err := websocket.DefaultDialer.Dial(rawURL, header)
	if ws != nil {
		_ = ws.Close()
	}
	ExpectWithOffset(1, err).To(HaveOccurred())
	ExpectWithOffset(1, resp).NotTo(BeNil())
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), buf.String()
}

func (c *rawClient) readLoop() {
	defer close(c.done)
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		w, perr := c.parse(mt == websocket.BinaryMessage, data)
		c.mu.Lock()
		if perr != nil {
			c.parseErr = append(c.parseErr, perr.Error())
		} else {
			c.frames = append(c.frames, w)
		}
		c.mu.Unlock()
	}
}

func refOf(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("ref %s is not a string", raw)
	}
	return s, nil
}

func (c *rawClient) parse(binary bool, data []byte) (wire, error) {
	w := wire{Binary: binary, Raw: data}
	if binary {
		if c.vsn != "2.0.0" {
			return w, fmt.Errorf("binary frame on vsn %s", c.vsn)
		}
		if len(data) < 5 || data[0] != 4 {
			return w, fmt.Errorf("unexpected binary frame % x", data)
		}
		tl, el, ml := int(data[1]), int(data[2]), int(data[3])
		if len(data) < 5+tl+el+ml {
			return w, fmt.Errorf("truncated kind 4 frame % x", data)
		}
		w.Kind, w.Encoding = 4, data[4]
		off := 5
		w.Topic = string(data[off : off+tl])
		off += tl
		w.UserEvent = string(data[off : off+el])
		off += el
		if ml > 0 {
			w.Meta = data[off : off+ml]
		}
		off += ml
		w.Event = "broadcast"
		w.Payload = data[off:]
		return w, nil
	}
	var err error
	switch c.vsn {
	case "1.0.0":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return w, err
		}
		_, w.HasJoinRefKey = m["join_ref"]
		if err := json.Unmarshal(m["topic"], &w.Topic); err != nil {
			return w, err
		}
		if err := json.Unmarshal(m["event"], &w.Event); err != nil {
			return w, err
		}
		w.Payload = m["payload"]
		if w.Ref, err = refOf(m["ref"]); err != nil {
			return w, err
		}
	default:
		var arr []json.RawMessage
		if err := json.Unmarshal(data, &arr); err != nil {
			return w, err
		}
		if len(arr) != 5 {
			return w, fmt.Errorf("array of %d elements", len(arr))
		}
		if w.JoinRef, err = refOf(arr[0]); err != nil {
			return w, err
		}
		if w.Ref, err = refOf(arr[1]); err != nil {
			return w, err
		}
		if err := json.Unmarshal(arr[2], &w.Topic); err != nil {
			return w, err
		}
		if err := json.Unmarshal(arr[3], &w.Event); err != nil {
			return w, err
		}
		w.Payload = arr[4]
	}
	return w, nil
}

func (c *rawClient) close() {
	_ = c.ws.Close()
	<-c.done
}

// ref returns a fresh decimal ref.
func (c *rawClient) ref() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextRef++
	return strconv.Itoa(c.nextRef)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonRef(r string) string {
	if r == "" {
		return "null"
	}
	return jsonString(r)
}

// encodeText renders a client push in the client's serializer.
func (c *rawClient) encodeText(joinRef, ref, topic, event, payload string) string {
	if c.vsn == "1.0.0" {
		return fmt.Sprintf(`{"topic":%s,"event":%s,"payload":%s,"ref":%s,"join_ref":%s}`,
			jsonString(topic), jsonString(event), payload, jsonRef(ref), jsonRef(joinRef))
	}
	return fmt.Sprintf(`[%s,%s,%s,%s,%s]`, jsonRef(joinRef), jsonRef(ref), jsonString(topic), jsonString(event), payload)
}

func (c *rawClient) writeText(s string) {
	ExpectWithOffset(2, c.ws.WriteMessage(websocket.TextMessage, []byte(s))).To(Succeed())
}

func (c *rawClient) writeBinary(b []byte) {
	ExpectWithOffset(2, c.ws.WriteMessage(websocket.BinaryMessage, b)).To(Succeed())
}

// push sends a text push and returns its ref.
func (c *rawClient) push(joinRef, topic, event, payload string) string {
	ref := c.ref()
	c.writeText(c.encodeText(joinRef, ref, topic, event, payload))
	return ref
}

// join sends phx_join (join_ref = ref) and returns the join ref.
func (c *rawClient) join(topic, payload string) string {
	ref := c.ref()
	c.writeText(c.encodeText(ref, ref, topic, "phx_join", payload))
	return ref
}

// joinOK joins and waits for the ok reply; it returns the join ref and the
// reply.
func (c *rawClient) joinOK(topic, payload string) (string, wire) {
	jr := c.join(topic, payload)
	r := c.expectReply(topic, jr)
	ExpectWithOffset(1, replyStatus(r)).To(Equal("ok"), string(r.Payload))
	return jr, r
}

// heartbeat sends a heartbeat and returns its ref.
func (c *rawClient) heartbeat() string {
	return c.push("", "phoenix", "heartbeat", "{}")
}

// sync sends a heartbeat and waits for its reply: since the server handles a
// socket's pushes in order and its writer is FIFO, every frame caused by
// earlier pushes has arrived once this returns.
func (c *rawClient) sync() {
	ref := c.heartbeat()
	c.expectReplyOffset(2, "phoenix", ref)
}

// userBroadcast sends a binary kind 3 push and returns its ref.
func (c *rawClient) userBroadcast(joinRef, topic, event string, enc byte, payload []byte) string {
	ref := c.ref()
	b := []byte{3, byte(len(joinRef)), byte(len(ref)), byte(len(topic)), byte(len(event)), 0, enc}
	b = append(b, joinRef...)
	b = append(b, ref...)
	b = append(b, topic...)
	b = append(b, event...)
	b = append(b, payload...)
	c.writeBinary(b)
	return ref
}

// all returns every frame received so far.
func (c *rawClient) all() []wire {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wire(nil), c.frames...)
}

// mark returns the current number of received frames.
func (c *rawClient) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}

// since returns the frames received after mark.
func (c *rawClient) since(mark int) []wire {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wire(nil), c.frames[mark:]...)
}

// find returns the first frame after the cursor that matches, advancing the
// cursor past it.
func (c *rawClient) find(match func(wire) bool) (wire, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := c.cursor; i < len(c.frames); i++ {
		if match(c.frames[i]) {
			c.cursor = i + 1
			return c.frames[i], true
		}
	}
	return wire{}, false
}

// expect waits for the next frame (after the cursor) that matches.
func (c *rawClient) expectOffset(offset int, desc string, match func(wire) bool) wire {
	var got wire
	EventuallyWithOffset(offset+1, func() bool {
		w, ok := c.find(match)
		if ok {
			got = w
		}
		return ok
	}, waitTimeout, pollEvery).Should(BeTrue(), "waiting for %s; frames so far: %s", desc, c.dump)
	return got
}

func (c *rawClient) expect(desc string, match func(wire) bool) wire {
	return c.expectOffset(1, desc, match)
}

// expectEvent waits for the next frame with topic and event.
func (c *rawClient) expectEvent(topic, event string) wire {
	return c.expectOffset(1, topic+" "+event, func(w wire) bool { return w.Topic == topic && w.Event == event })
}

// expectReply waits for the phx_reply with the given ref on topic.
func (c *rawClient) expectReply(topic, ref string) wire {
	return c.expectReplyOffset(1, topic, ref)
}

func (c *rawClient) expectReplyOffset(offset int, topic, ref string) wire {
	return c.expectOffset(offset+1, "reply "+ref+" on "+topic, func(w wire) bool {
		return w.Topic == topic && w.Event == "phx_reply" && w.Ref == ref
	})
}

func (c *rawClient) dump() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b bytes.Buffer
	for i, f := range c.frames {
		fmt.Fprintf(&b, "\n  %d: binary=%v %q", i, f.Binary, f.Raw)
	}
	if c.readErr != nil {
		fmt.Fprintf(&b, "\n  read error: %v", c.readErr)
	}
	return b.String()
}

// closeErr waits for the read loop to end and returns its error.
func (c *rawClient) closeErr() error {
	EventuallyWithOffset(1, c.done, waitTimeout).Should(BeClosed())
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// replyStatus and replyResponse pick apart a phx_reply payload.
func replyStatus(w wire) string {
	var p struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(w.Payload, &p)
	return p.Status
}

func replyResponse(w wire) json.RawMessage {
	var p struct {
		Response json.RawMessage `json:"response"`
	}
	_ = json.Unmarshal(w.Payload, &p)
	return p.Response
}

func replyReason(w wire) string {
	var r struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(replyResponse(w), &r)
	return r.Reason
}
