package connection

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/supabase-go/realtime/internal/wire"
)

// scriptSocket is the client's end of a socket whose server answers the
// upgrade request with a 101 response followed at once by script (so the
// first frames arrive with the response), handed out step bytes per Read
// (0: as much as fits), then io.EOF. It records what the client writes.
type scriptSocket struct {
	net.Conn // nil: only the methods below are used
	script   []byte
	step     int

	mu      sync.Mutex
	written bytes.Buffer
	in      []byte // what is left to read; nil until the request is written
	started bool
}

func (s *scriptSocket) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written.Write(p)
	return len(p), nil
}

func (s *scriptSocket) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		req := s.written.String()
		key := ""
		for _, line := range strings.Split(req, "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && http.CanonicalHeaderKey(k) == "Sec-Websocket-Key" {
				key = strings.TrimSpace(v)
			}
		}
		h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		s.in = append([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
			base64.StdEncoding.EncodeToString(h[:])+"\r\n\r\n"), s.script...)
		s.written.Reset()
	}
	if len(s.in) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if s.step > 0 && n > s.step {
		n = s.step
	}
	n = copy(p[:n], s.in)
	s.in = s.in[n:]
	return n, nil
}

func (s *scriptSocket) Close() error                     { return nil }
func (s *scriptSocket) SetDeadline(time.Time) error      { return nil }
func (s *scriptSocket) SetReadDeadline(time.Time) error  { return nil }
func (s *scriptSocket) SetWriteDeadline(time.Time) error { return nil }
func (s *scriptSocket) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (s *scriptSocket) RemoteAddr() net.Addr             { return &net.TCPAddr{} }

// controlFrames decodes the client's (masked) frames written after the
// upgrade request.
func (s *scriptSocket) controlFrames(t testing.TB) []string {
	s.mu.Lock()
	b := bytes.Clone(s.written.Bytes())
	s.mu.Unlock()
	var out []string
	for len(b) > 0 {
		if len(b) < 6 || b[1]&0x80 == 0 || b[1]&0x7f > 125 {
			t.Fatalf("client wrote %x", b)
		}
		n := int(b[1] & 0x7f)
		key, payload := b[2:6], bytes.Clone(b[6:6+n])
		for i := range payload {
			payload[i] ^= key[i%4]
		}
		out = append(out, fmt.Sprintf("op %d %q", b[0]&0x0f, payload))
		b = b[6+n:]
	}
	return out
}

// readResult is what a reader made of a script: the messages, the error
// that ended it, and the control frames it wrote.
type readResult struct {
	messages []string
	err      error
	wrote    []string
}

// dialScript dials a scriptSocket with d prepared the way the connection
// actor prepares it (or, own false, a plain gorilla Dialer).
func dialScript(t testing.TB, script []byte, step int, own bool) (*websocket.Conn, *scriptSocket) {
	sock := &scriptSocket{script: script, step: step}
	d := &websocket.Dialer{
		NetDialContext: func(context.Context, string, string) (net.Conn, error) { return sock, nil },
		ReadBufferSize: readBufferSize,
	}
	if own {
		d, _ = interruptible(context.Background(), d, "ws://example.test/socket")
	}
	conn, _, err := d.DialContext(context.Background(), "ws://example.test/socket", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return conn, sock
}

// readGorilla reads script with gorilla/websocket's own reader.
func readGorilla(t testing.TB, script []byte, step int, limit int64) readResult {
	conn, sock := dialScript(t, script, step, false)
	conn.SetReadLimit(limit)
	var res readResult
	for {
		mt, r, err := conn.NextReader()
		if err == nil {
			var data []byte
			data, err = io.ReadAll(r)
			if err == nil {
				res.messages = append(res.messages, fmt.Sprintf("%d %q", mt, data))
				continue
			}
		}
		res.err = err
		break
	}
	res.wrote = sock.controlFrames(t)
	return res
}

// readOwn reads script with the frame reader, as readLoop does.
func readOwn(t testing.TB, script []byte, step int, limit int64) readResult {
	conn, sock := dialScript(t, script, step, true)
	hc, ok := conn.UnderlyingConn().(*handshakeConn)
	if !ok {
		t.Fatalf("the dialed socket is a %T, not a handshakeConn", conn.UnderlyingConn())
	}
	hc.finish()
	fr := newFrameReader(hc, conn, limit, time.Now)
	defer fr.release()
	rd := chunkReader{inbox: wire.NewInbox()}
	var res readResult
	for {
		rd.park()
		mt, data, err := rd.nextOwn(fr)
		if err != nil {
			res.err = err
			break
		}
		if cap(data) != len(data) {
			t.Fatalf("a message's capacity runs past its end")
		}
		res.messages = append(res.messages, fmt.Sprintf("%d %q", mt, data))
	}
	res.wrote = sock.controlFrames(t)
	return res
}

// sameError reports whether two read errors are the same for a caller:
// the same text, and the same close code, read limit or neither.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Error() != b.Error() {
		return false
	}
	var ca, cb *websocket.CloseError
	if errors.As(a, &ca) != errors.As(b, &cb) || (ca != nil && (ca.Code != cb.Code || ca.Text != cb.Text)) {
		return false
	}
	return errors.Is(a, websocket.ErrReadLimit) == errors.Is(b, websocket.ErrReadLimit)
}

// compareReaders reads script both ways and fails on any difference.
func compareReaders(t testing.TB, script []byte, step int, limit int64) readResult {
	want := readGorilla(t, script, step, limit)
	got := readOwn(t, script, step, limit)
	if strings.Join(got.messages, "\n") != strings.Join(want.messages, "\n") {
		t.Fatalf("messages (step %d):\n own:     %q\n gorilla: %q", step, got.messages, want.messages)
	}
	if !sameError(got.err, want.err) {
		t.Fatalf("error (step %d): own %T %v, gorilla %T %v", step, got.err, got.err, want.err, want.err)
	}
	if strings.Join(got.wrote, "\n") != strings.Join(want.wrote, "\n") {
		t.Fatalf("control frames written (step %d):\n own:     %q\n gorilla: %q", step, got.wrote, want.wrote)
	}
	return got
}

// wsFrame is one unmasked server frame: b0 is FIN|RSV|opcode.
func wsFrame(b0 byte, payload []byte) []byte {
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, byte(n))
	case n <= 0xffff:
		out = append(out, 126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	return append(out, payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

const fin = 0x80

// frameScripts are the cases TestFrameReaderMatchesGorilla runs and the
// fuzz target's seeds.
var frameScripts = map[string][]byte{
	"text and binary": cat(wsFrame(fin|opText, []byte(`[null,null,"t","e",{}]`)), wsFrame(fin|opBinary, []byte{3, 1, 2}), wsFrame(fin|opText, nil)),
	"16-bit length":   wsFrame(fin|opText, bytes.Repeat([]byte("a"), 300)),
	"64-bit length":   wsFrame(fin|opBinary, bytes.Repeat([]byte("b"), 70000)),
	"fragments with a ping between": cat(wsFrame(opText, []byte("frag")), wsFrame(fin|opPing, []byte("p1")),
		wsFrame(opContinuation, []byte("men")), wsFrame(fin|opContinuation, []byte("ted")), wsFrame(fin|opText, []byte("next"))),
	"pong ignored":                    cat(wsFrame(fin|opPong, []byte("x")), wsFrame(fin|opText, []byte("a"))),
	"close with code":                 cat(wsFrame(fin|opText, []byte("a")), wsFrame(fin|opClose, websocket.FormatCloseMessage(4000, "bye"))),
	"close without code":              wsFrame(fin|opClose, nil),
	"close with one byte":             wsFrame(fin|opClose, []byte{3}),
	"close with a bad code":           wsFrame(fin|opClose, websocket.FormatCloseMessage(1005, "")),
	"close with bad UTF-8":            wsFrame(fin|opClose, append(websocket.FormatCloseMessage(1000, ""), 0xff)),
	"bad opcode":                      wsFrame(fin|0x3, []byte("x")),
	"RSV bits and mask":               {fin | 0x70 | opText, 0x80 | 1, 1, 2, 3, 4, 'x'},
	"continuation first":              wsFrame(fin|opContinuation, []byte("x")),
	"data inside a fragmented one":    cat(wsFrame(opText, []byte("a")), wsFrame(fin|opText, []byte("b"))),
	"control not final":               wsFrame(opPing, nil),
	"control too long":                wsFrame(fin|opPing, bytes.Repeat([]byte("p"), 126)),
	"over the read limit":             cat(wsFrame(fin|opText, []byte("ok")), wsFrame(fin|opText, bytes.Repeat([]byte("x"), 2000))),
	"over the limit across fragments": cat(wsFrame(opText, bytes.Repeat([]byte("x"), 900)), wsFrame(fin|opContinuation, bytes.Repeat([]byte("y"), 900))),
	"length with the top bit":         {fin | opBinary, 127, 0x80, 0, 0, 0, 0, 0, 0, 1},
	"ends inside a header":            {fin | opText, 126, 1},
	"ends inside a payload":           {fin | opText, 10, 'a', 'b'},
	"ends inside a control payload":   {fin | opPing, 10, 'a'},
}

// testLimit is the read limit of the comparisons.
const testLimit = 1500

func TestFrameReaderMatchesGorilla(t *testing.T) {
	for name, script := range frameScripts {
		t.Run(name, func(t *testing.T) {
			for _, step := range []int{0, 1, 2, 3, 7, 64, 255, 4096} {
				compareReaders(t, script, step, testLimit)
			}
		})
	}
}

func TestFrameReaderReadsWhatCameWithTheResponse(t *testing.T) {
	// step 0: the 101 response and every frame come in one read, as in
	// one TCP segment. Without the handshakeConn, gorilla's buffer
	// would keep the first frames.
	script := cat(wsFrame(fin|opText, []byte("first")), wsFrame(fin|opPing, []byte("p")), wsFrame(fin|opText, []byte("second")),
		wsFrame(fin|opClose, websocket.FormatCloseMessage(4001, "done")))
	got := compareReaders(t, script, 0, testLimit)
	want := []string{`1 "first"`, `1 "second"`}
	if strings.Join(got.messages, ",") != strings.Join(want, ",") {
		t.Fatalf("messages %q, want %q", got.messages, want)
	}
	var ce *websocket.CloseError
	if !errors.As(got.err, &ce) || ce.Code != 4001 || ce.Text != "done" {
		t.Fatalf("error %v, want close 4001 done", got.err)
	}
	if len(got.wrote) != 2 || got.wrote[0] != `op 10 "p"` {
		t.Fatalf("wrote %q, want the pong, then the close", got.wrote)
	}
}

func TestHandshakeConnHandsOutLines(t *testing.T) {
	s := &scriptConn{chunks: [][]byte{[]byte("HTTP/1.1 101 x\r\nA: b\r\n\r\nFRAMES")}, err: io.EOF}
	c := newHandshakeConn(s)
	p := make([]byte, 64)
	for _, want := range []string{"HTTP/1.1 101 x\r\n", "A: b\r\n", "\r\n"} {
		n, err := c.Read(p)
		if err != nil || string(p[:n]) != want {
			t.Fatalf("Read = %q, %v; want %q", p[:n], err, want)
		}
	}
	c.finish()
	if c.buffered() != len("FRAMES") {
		t.Fatalf("buffered %d", c.buffered())
	}
	n, err := c.Read(p)
	if err != nil || string(p[:n]) != "FRAMES" {
		t.Fatalf("after finish: %q, %v", p[:n], err)
	}
	if _, err := c.Read(p); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

func TestFrameReaderAllocatesNothingPerMessage(t *testing.T) {
	msg := wsFrame(fin|opText, bytes.Repeat([]byte("m"), 250))
	src := &repeatReader{data: bytes.Repeat(msg, 256)}
	fr := newFrameReader(src, nil, 0, time.Now)
	defer fr.release()
	rd := chunkReader{inbox: wire.NewInbox()}
	allocs := testing.AllocsPerRun(10000, func() {
		if _, _, err := rd.nextOwn(fr); err != nil {
			t.Fatal(err)
		}
	})
	// A 64 KiB chunk holds ~250 such messages: its allocation, shared.
	if allocs > 0.01 {
		t.Fatalf("%.3f allocations per message", allocs)
	}
}

// repeatReader returns data over and over, as much as fits per Read.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

func FuzzFrameReader(f *testing.F) {
	for _, script := range frameScripts {
		f.Add(script, uint8(0))
		f.Add(script, uint8(3))
	}
	f.Fuzz(func(t *testing.T, script []byte, step uint8) {
		compareReaders(t, script, int(step), testLimit)
	})
}

// chunkSource returns its chunks one per Read.
type chunkSource struct{ chunks [][]byte }

func (s *chunkSource) Read(p []byte) (int, error) {
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.chunks[0])
	if s.chunks[0] = s.chunks[0][n:]; len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

func TestFrameReaderStampsTheReadThatCompletedAMessage(t *testing.T) {
	a, b := wsFrame(fin|opText, []byte("a")), wsFrame(fin|opText, []byte("b"))
	c := wsFrame(fin|opText, []byte("ccc"))
	// Read 1: a and b whole, and the start of c; read 2: the rest of c.
	src := &chunkSource{chunks: [][]byte{cat(a, b, c[:3]), c[3:]}}
	var reads int64
	fr := newFrameReader(src, nil, 0, func() time.Time { reads++; return time.Unix(reads, 0) })
	rd := chunkReader{inbox: wire.NewInbox()}
	for _, want := range []int64{1, 1, 2} {
		if _, _, err := rd.nextOwn(fr); err != nil {
			t.Fatal(err)
		}
		if got := fr.readAt.Unix(); got != want {
			t.Fatalf("stamped with read %d, want read %d", got, want)
		}
	}
}

// recordingReader hands out at most max bytes per Read, as a TLS
// connection returns one record, and records the room each Read was given.
type recordingReader struct {
	src   io.Reader
	max   int
	rooms []int
}

func (r *recordingReader) Read(p []byte) (int, error) {
	r.rooms = append(r.rooms, len(p))
	if len(p) > r.max {
		p = p[:r.max]
	}
	return r.src.Read(p)
}

// Over TLS a read returns at most one 16 KiB record: the burst buffer must
// stay while such reads keep coming, not flap back to the small buffer
// (and the pool) every other read.
func TestFrameReaderKeepsTheBurstBufferOverTLSSizedReads(t *testing.T) {
	msg := wsFrame(fin|opText, bytes.Repeat([]byte("m"), 100))
	src := &recordingReader{src: &repeatReader{data: bytes.Repeat(msg, 1000)}, max: 16 << 10}
	fr := newFrameReader(src, nil, 0, time.Now)
	defer fr.release()
	rd := chunkReader{inbox: wire.NewInbox()}
	for i := 0; i < 100_000; i++ {
		if _, _, err := rd.nextOwn(fr); err != nil {
			t.Fatal(err)
		}
	}
	small := 0
	for _, room := range src.rooms {
		if room <= smallBufSize {
			small++
		}
	}
	if small > 2 {
		t.Fatalf("%d of %d reads went into the small buffer", small, len(src.rooms))
	}
}

// emptyReader returns no bytes and no error, forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// A socket whose reads return nothing and no error ends the reader with
// io.ErrNoProgress after maxEmptyReads, as bufio (under gorilla) did,
// instead of spinning.
func TestFrameReaderGivesUpOnEmptyReads(t *testing.T) {
	fr := newFrameReader(emptyReader{}, nil, 0, time.Now)
	defer fr.release()
	rd := chunkReader{inbox: wire.NewInbox()}
	if _, _, err := rd.nextOwn(fr); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("got %v, want io.ErrNoProgress", err)
	}
}
