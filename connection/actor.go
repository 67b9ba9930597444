package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/gorilla/websocket"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/redact"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// teardownWait bounds how long teardown waits for the dial and reader
// goroutines. Closing the socket unblocks the reader at once; the dial
// honours its context. The bound only matters for an access-token callback
// that ignores its context.
const teardownWait = 5 * time.Second

// readBufferSize is gorilla/websocket's read buffer for a default dialer:
// gorilla's minimum (a control frame's payload). Our frame reader reads
// the frames (frames.go), so gorilla reads only the upgrade response with
// it, a line at a time (handshakeConn); where gorilla still reads the
// frames (compression, wss through a proxy) the burstConn under it does
// the large reads.
const readBufferSize = 128

// writeBufferPool holds the write buffers of every socket of the process
// that uses gorilla/websocket's default write buffer size (see Props).
var writeBufferPool = &sync.Pool{}

// Props returns the props of a connection actor.
func Props(config Config) *actor.Props {
	// One copy, shared by every incarnation of the actor.
	cfg := &config
	if cfg.Dialer == nil {
		cfg.Dialer = defaultDialer
	} else {
		cfg.Dialer = withBuffers(*cfg.Dialer)
	}
	if cfg.Stats == nil {
		cfg.Stats = &Stats{}
	}
	if cfg.Clock == nil {
		cfg.Clock = actors.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = actors.DiscardLogger()
	}
	if cfg.ReadLimit <= 0 {
		cfg.ReadLimit = DefaultReadLimit
	}
	if cfg.Redact == nil {
		// Without the client's Redactor (a runtime built by hand), still
		// keep the API key of the URL and the tokens this actor fetches
		// out of errors.
		var key string
		if u, err := url.Parse(cfg.URL); err == nil {
			key = u.Query().Get("apikey")
		}
		cfg.Redact = redact.NewRedactor(key)
	}
	return actor.PropsFromProducer(func() actor.Actor { return &connActor{cfg: cfg} })
}

// defaultDialer is the dialer of every connection configured without one
// (Config.Dialer nil); it is never changed, so they share it.
var defaultDialer = withBuffers(*websocket.DefaultDialer)

// withBuffers returns cp with this package's buffer settings where it
// leaves them to gorilla.
func withBuffers(cp websocket.Dialer) *websocket.Dialer {
	if cp.ReadBufferSize == 0 {
		// gorilla keeps its read buffer for the life of the socket, and
		// reads little with it (see readBufferSize): an idle client keeps
		// 128 bytes, not 4 KiB.
		cp.ReadBufferSize = readBufferSize
	}
	if cp.WriteBufferPool == nil && cp.WriteBufferSize == 0 {
		// The write buffer (gorilla's default size) is needed only while
		// a message is written: idle sockets share them.
		cp.WriteBufferPool = writeBufferPool
	}
	return &cp
}

type dialResult struct {
	conn  *websocket.Conn
	token string
	err   error
}

// dialed, heartbeatTick, heartbeatReply and readerExited are the actor's
// private messages; each carries the epoch of the incarnation that made it.
type dialed struct{ epoch uint64 }
type heartbeatTick struct{ epoch uint64 }
type heartbeatReply struct {
	epoch uint64
	ref   string
	at    time.Time
	// status is the reply's payload status ("ok", "error"; "" when the
	// payload did not say).
	status string
}
type readerExited struct {
	epoch uint64
	err   error
}

type connActor struct {
	cfg   *Config
	epoch uint64
	self  *actor.PID
	root  *actor.RootContext

	dialCancel context.CancelFunc
	dialDone   chan struct{}
	dialRes    chan dialResult

	conn       *websocket.Conn
	inbox      *wire.Inbox
	readerDone chan struct{}

	hbTimer   actors.Timer
	hbPending string
	hbSentAt  time.Time

	buf []byte
}

func (a *connActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.start(ctx)
	case *actor.Restarting:
		a.teardown(false)
	case *actor.Stopping:
		if a.conn != nil {
			ctx.Send(ctx.Parent(), &Closing{Epoch: a.epoch})
		}
		a.teardown(true)
	case *dialed:
		if m.epoch == a.epoch {
			a.onDialed(ctx)
		}
	case *messages.Outbound:
		a.write(ctx, m)
	case *heartbeatTick:
		if m.epoch == a.epoch {
			a.onTick(ctx)
		}
	case *heartbeatReply:
		if m.epoch != a.epoch {
			break
		}
		if m.ref == "" || m.ref != a.hbPending {
			a.cfg.Stats.UnknownReplies.Add(1)
			a.cfg.Logger.Debug("realtime: reply for an unknown ref dropped", slog.String("topic", "phoenix"))
			break
		}
		a.hbPending = ""
		a.heartbeatAnswered(ctx, m)
	case *readerExited:
		if m.epoch == a.epoch {
			a.fail(a.readError(m.err))
		}
	}
}

func (a *connActor) start(ctx actor.Context) {
	a.epoch = a.cfg.Epochs.Next()
	a.self = ctx.Self()
	a.root = ctx.ActorSystem().Root
	ctx.Send(ctx.Parent(), &Connecting{Epoch: a.epoch})

	// Not derived from cfg.Lifetime: a child would make the client's
	// lifetime context allocate its done channel and children map (about
	// 370 bytes per idle client, kept after the dial), and the dial is
	// cancelled on Stopping anyway, which closing the client brings.
	dctx, cancel := context.WithCancel(context.Background())
	a.dialCancel = cancel
	a.dialDone = make(chan struct{})
	a.dialRes = make(chan dialResult, 1)
	go a.dial(dctx, a.epoch, a.dialDone, a.dialRes)
}

// dial runs on its own goroutine, owned by the incarnation that started it.
func (a *connActor) dial(ctx context.Context, epoch uint64, done chan<- struct{}, res chan<- dialResult) {
	defer close(done)
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	var token string
	if a.cfg.AccessToken != nil {
		t, err := a.cfg.AccessToken(ctx)
		if err != nil {
			res <- dialResult{err: &messages.ConnectError{URL: redact.RedactURL(a.cfg.URL), Err: fmt.Errorf("access token callback: %w", err)}}
			a.root.Send(a.self, &dialed{epoch: epoch})
			return
		}
		token = t
		a.cfg.Redact.Add(token)
	}
	dialer, release := interruptible(ctx, a.cfg.Dialer, a.cfg.URL)
	conn, resp, err := dialer.DialContext(ctx, a.cfg.URL, a.cfg.Header)
	intact := release()
	if err != nil {
		res <- dialResult{err: connectError(a.cfg.URL, resp, err, a.cfg.Redact)}
		a.root.Send(a.self, &dialed{epoch: epoch})
		return
	}
	if !intact || ctx.Err() != nil {
		conn.Close()
		res <- dialResult{err: &messages.ConnectError{URL: redact.RedactURL(a.cfg.URL), Err: ctx.Err()}}
		a.root.Send(a.self, &dialed{epoch: epoch})
		return
	}
	if hc, ok := conn.UnderlyingConn().(*handshakeConn); ok {
		if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
			// Compression was not offered (with it, gorilla reads the
			// frames), so the server may not use an extension: RFC 6455
			// §4.1 has the client fail the connection. Said now, not at
			// the first compressed frame.
			conn.Close()
			res <- dialResult{err: &messages.ConnectError{URL: redact.RedactURL(a.cfg.URL),
				Err: fmt.Errorf("the server accepted the socket with extension %q, which the client did not offer", a.cfg.Redact.String(ext))}}
			a.root.Send(a.self, &dialed{epoch: epoch})
			return
		}
		// From now on the frame reader reads the socket (frames.go).
		hc.finish()
	}
	res <- dialResult{conn: conn, token: token}
	a.root.Send(a.self, &dialed{epoch: epoch})
}

// connectError describes a failed dial. red knows the API key (Props) and
// the token of this attempt (added before the dial).
func connectError(raw string, resp *http.Response, err error, red *redact.Redactor) error {
	ce := &messages.ConnectError{URL: redact.RedactURL(raw), Err: errors.New(red.String(err.Error()))}
	if resp != nil {
		ce.StatusCode = resp.StatusCode
		if resp.Body != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			var msg struct {
				Error   string `json:"error"`
				Message string `json:"message"`
			}
			if json.Unmarshal(body, &msg) == nil {
				ce.Message = msg.Error
				if ce.Message == "" {
					ce.Message = msg.Message
				}
				// A server (or proxy) may echo the key or token back.
				ce.Message = red.String(ce.Message)
			}
		}
	}
	return ce
}

func (a *connActor) onDialed(ctx actor.Context) {
	var r dialResult
	select {
	case r = <-a.dialRes:
	default:
		return
	}
	if r.err != nil {
		a.fail(r.err)
		return
	}
	// The dial is over: its context goes now rather than at teardown,
	// so an open socket holds no context (teardown still waits for the
	// dial goroutine to return).
	a.dialCancel()
	a.dialCancel = nil
	a.conn = r.conn
	// Bound what one inbound message may make the reader allocate.
	a.conn.SetReadLimit(a.cfg.ReadLimit)
	a.readerDone = make(chan struct{})
	a.inbox = wire.NewInbox()
	go readLoop(r.conn, a.inbox, a.cfg, a.epoch, a.root, a.self, a.readerDone)
	ctx.Send(ctx.Parent(), &Opened{Epoch: a.epoch, Token: r.token})
	a.hbPending = ""
	a.scheduleTick()
}

func (a *connActor) scheduleTick() {
	epoch, root, self := a.epoch, a.root, a.self
	a.hbTimer = a.cfg.Clock.AfterFunc(a.cfg.Heartbeat, func() {
		root.Send(self, &heartbeatTick{epoch: epoch})
	})
}

func (a *connActor) onTick(ctx actor.Context) {
	if a.conn == nil {
		return
	}
	if a.hbPending != "" {
		a.cfg.Stats.HeartbeatTimeouts.Add(1)
		a.heartbeatOutcome(ctx, messages.HeartbeatEvent{Status: messages.HeartbeatTimeout, Ref: a.hbPending, Err: messages.ErrHeartbeatTimeout})
		a.fail(messages.ErrHeartbeatTimeout)
		return
	}
	ref := a.cfg.Refs.Next()
	a.hbPending = ref
	a.hbSentAt = a.cfg.Clock.Now()
	if err := a.writeFrame(&frame.Frame{Ref: ref, Topic: "phoenix", Event: "heartbeat", Payload: emptyObject}); err != nil {
		cerr := &messages.CloseError{Err: err}
		a.cfg.Stats.HeartbeatErrors.Add(1)
		a.heartbeatOutcome(ctx, messages.HeartbeatEvent{Status: messages.HeartbeatError, Ref: ref, Err: cerr})
		a.fail(cerr)
		return
	}
	a.cfg.Stats.HeartbeatsSent.Add(1)
	a.heartbeatOutcome(ctx, messages.HeartbeatEvent{Status: messages.HeartbeatSent, Ref: ref})
	a.scheduleTick()
}

// heartbeatAnswered accounts for the server's answer to the heartbeat in
// flight: an "ok" is a HeartbeatOK, any other status a HeartbeatError
// (phoenix.js reports both with their latency; the socket stays up, as
// there).
func (a *connActor) heartbeatAnswered(ctx actor.Context, m *heartbeatReply) {
	rtt := m.at.Sub(a.hbSentAt)
	a.cfg.Stats.HeartbeatRTT.Store(int64(rtt))
	if m.status == "ok" {
		a.cfg.Stats.HeartbeatsOK.Add(1)
		a.heartbeatOutcome(ctx, messages.HeartbeatEvent{Status: messages.HeartbeatOK, Ref: m.ref, RTT: rtt})
		return
	}
	a.cfg.Stats.HeartbeatErrors.Add(1)
	a.heartbeatOutcome(ctx, messages.HeartbeatEvent{Status: messages.HeartbeatError, Ref: m.ref, RTT: rtt,
		Err: fmt.Errorf("realtime: heartbeat answered with status %q", a.cfg.Redact.String(m.status))})
}

// heartbeatOutcome records ev for Stats and hands it to the registry,
// which delivers it to the client's Handler.
func (a *connActor) heartbeatOutcome(ctx actor.Context, ev messages.HeartbeatEvent) {
	a.cfg.Stats.LastHeartbeat.Store(ev)
	if a.cfg.Registry != nil {
		ctx.Send(a.cfg.Registry, &messages.Heartbeat{Event: ev})
	}
}

var emptyObject = []byte("{}")

func (a *connActor) write(ctx actor.Context, m *messages.Outbound) {
	if a.conn == nil {
		ctx.Send(a.cfg.Registry, &messages.OutboundFailed{Frame: m.Frame, Ack: m.Ack, Err: messages.ErrNotConnected})
		return
	}
	err := a.writeFrame(&m.Frame)
	if err == nil {
		return
	}
	ctx.Send(a.cfg.Registry, &messages.OutboundFailed{Frame: m.Frame, Ack: m.Ack, Err: err})
	if !errors.Is(err, messages.ErrMalformed) && !errors.Is(err, wire.ErrUnsupported) && !errors.Is(err, wire.ErrHeaderTooLong) {
		// A write error means the socket is gone; a codec error only
		// means this frame cannot be encoded.
		a.fail(&messages.CloseError{Err: err})
	}
}

func (a *connActor) writeFrame(f *frame.Frame) error {
	data, binary, err := a.cfg.Codec.Append(a.buf[:0], f)
	if err != nil {
		return err
	}
	a.buf = data
	mt := websocket.TextMessage
	if binary {
		mt = websocket.BinaryMessage
	}
	if err := a.conn.SetWriteDeadline(time.Now().Add(a.cfg.Timeout)); err != nil {
		return err
	}
	if err := a.conn.WriteMessage(mt, data); err != nil {
		return err
	}
	a.cfg.Stats.FramesOut.Add(1)
	if cap(a.buf) > 64<<10 {
		a.buf = nil // do not pin a huge buffer
	}
	return nil
}

// fail tears the incarnation down and panics, handing the error to the
// supervisor's restart policy.
func (a *connActor) fail(err error) {
	a.teardown(false)
	panic(err)
}

// teardown releases everything the incarnation owns. It is idempotent and
// never panics.
func (a *connActor) teardown(graceful bool) {
	if a.hbTimer != nil {
		a.hbTimer.Stop()
		a.hbTimer = nil
	}
	a.epoch = 0 // late messages of this incarnation are now stale
	if a.dialCancel != nil {
		a.dialCancel()
		a.dialCancel = nil
	}
	if a.dialDone != nil {
		select {
		case <-a.dialDone:
		case <-time.After(teardownWait):
		}
		a.dialDone = nil
		select {
		case r := <-a.dialRes:
			if r.conn != nil {
				r.conn.Close()
			}
		default:
		}
	}
	if a.conn != nil {
		if graceful {
			_ = a.conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
				time.Now().Add(time.Second))
		}
		a.conn.Close()
		a.inbox.Close()
		select {
		case <-a.readerDone:
		case <-time.After(teardownWait):
		}
		a.conn = nil
	}
}

// readError turns the reader's exit error into the incarnation's failure.
// A message over the read limit (gorilla has already answered it with
// close 1009) is counted, logged at Warn and becomes a CloseError with
// code 1009 wrapping ErrFrameTooLarge, which the Handler sees in the
// ConnectionStateEvent of the reconnect.
func (a *connActor) readError(err error) error {
	if !errors.Is(err, websocket.ErrReadLimit) {
		return closeError(err, a.cfg.Redact)
	}
	a.cfg.Stats.Oversized.Add(1)
	tooLarge := fmt.Errorf("%w: a message exceeded %d bytes; the socket was closed with 1009 and reconnects",
		messages.ErrFrameTooLarge, a.cfg.ReadLimit)
	a.cfg.Logger.Warn("realtime: inbound message over the read limit; reconnecting", slog.Int64("limit", a.cfg.ReadLimit))
	return &messages.CloseError{Code: websocket.CloseMessageTooBig, Text: "message too big", Err: tooLarge}
}

// closeError reports a socket that closed or failed. The close reason is
// the server's text: it is redacted, in the CloseError and in the
// websocket.CloseError it wraps.
func closeError(err error, red *redact.Redactor) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		text := red.String(ce.Text)
		if text != ce.Text {
			err = &websocket.CloseError{Code: ce.Code, Text: text}
		}
		return &messages.CloseError{Code: ce.Code, Text: text, Err: err}
	}
	return &messages.CloseError{Err: err}
}
