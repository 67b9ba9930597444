package spec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// WebSocket framing as the server may send it (RFC 6455 §5): the client
// reads the frames itself after the handshake (connection/frames.go), so
// fragments, control frames between them, close codes, oversize messages
// and frames that arrive in the same TCP segment as the 101 response are
// specified here against the test server's raw writes.
var _ = Describe("WebSocket frames", func() {
	const (
		fin          = 0x80
		opText       = 0x1
		opContinue   = 0x0
		opClose      = 0x8
		opPing       = 0x9
		broadcastFmt = `[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"frag","payload":{"n":%d}}]`
	)
	var (
		srv *realtimetest.Server
		rec *recorder
		c   *realtime.Client
		n   int
	)

	start := freshClient(&srv, &rec, &c, &n)

	subscribe := func() { subscribeAll(c, "room1") }

	// conn is the server side of the client's latest socket.
	conn := func() *realtimetest.Conn {
		var last *realtimetest.Conn
		Eventually(func() int {
			active := srv.ActiveConns()
			if len(active) > 0 {
				last = active[len(active)-1]
			}
			return len(active)
		}, wait).Should(BeNumerically(">=", 1))
		return last
	}

	stillDelivers := func() {
		n++
		payload := fmt.Sprintf(`{"sync":%d}`, n)
		Expect(srv.Broadcast("room1", "sync", json.RawMessage(payload))).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(ContainElement("sync " + payload))
	}

	blast := func(open *realtimetest.Conn, frames ...[]byte) {
		Expect(open.Blast(specCtx(), bytes.Join(frames, nil), 1)).To(Succeed())
	}

	// closed returns the CloseError the client reported for its socket.
	closed := func() *realtime.CloseError {
		var ce *realtime.CloseError
		Eventually(func() bool {
			for _, ev := range rec.all() {
				if s, ok := ev.(realtime.ConnectionStateEvent); ok && s.New == realtime.ConnClosed && errors.As(s.Err, &ce) {
					return true
				}
			}
			return false
		}, wait).Should(BeTrue())
		return ce
	}

	It("reads a fragmented message with a ping between its fragments, and answers the ping", func() {
		start()
		subscribe()
		open := conn()
		msg := []byte(fmt.Sprintf(broadcastFmt, 7))
		blast(open,
			realtimetest.AppendControlFrame(nil, opText, msg[:10]),
			realtimetest.AppendControlFrame(nil, fin|opPing, []byte("mid")),
			realtimetest.AppendControlFrame(nil, opContinue, msg[10:40]),
			realtimetest.AppendControlFrame(nil, fin|opContinue, msg[40:]))
		Eventually(rec.broadcastPayloads, wait).Should(ContainElement(`frag {"n":7}`))
		Eventually(open.Pongs, wait).Should(Equal([]string{"mid"}))
		stillDelivers()
		Expect(c.Stats().ConnectionEpoch).To(Equal(uint64(1)))
	})

	It("reads frames that came in the same TCP segment as the 101 response", func() {
		ping := realtimetest.AppendControlFrame(nil, fin|opPing, []byte("early"))
		malformed := realtimetest.AppendWebSocketFrame(nil, false, []byte("not json"))
		reply := realtimetest.AppendWebSocketFrame(nil, false, []byte(`[null,"999","phoenix","phx_reply",{"status":"ok","response":{}}]`))
		srv.SetHandshakeTrailer(bytes.Join([][]byte{malformed, ping, reply}, nil))
		start()
		Eventually(func() uint64 { return c.Stats().MalformedFrames }, wait).Should(Equal(uint64(1)))
		Eventually(func() uint64 { return c.Stats().UnknownReplies }, wait).Should(Equal(uint64(1)))
		Eventually(conn().Pongs, wait).Should(Equal([]string{"early"}))
		subscribe()
		stillDelivers()
		Expect(c.Stats().ConnectionEpoch).To(Equal(uint64(1)))
	})

	It("reports a close frame that came with the 101 response, with its code and reason", func() {
		srv.SetHandshakeTrailer(realtimetest.AppendControlFrame(nil, fin|opClose, websocket.FormatCloseMessage(4000, "coalesced")))
		start()
		ce := closed()
		Expect(ce.Code).To(Equal(4000))
		Expect(ce.Text).To(Equal("coalesced"))
		// The next socket has no trailer: the client reconnects and works.
		Eventually(func() int { return len(srv.Conns()) }, wait).Should(BeNumerically(">=", 2))
		Expect(srv.Conns()[0].PeerCloseCode()).To(Equal(4000))
		subscribe()
		stillDelivers()
	})

	It("echoes a close frame's code and reports it with the reason", func() {
		start()
		subscribe()
		open := conn()
		blast(open, realtimetest.AppendControlFrame(nil, fin|opClose, websocket.FormatCloseMessage(4001, "bye now")))
		ce := closed()
		Expect(ce.Code).To(Equal(4001))
		Expect(ce.Text).To(Equal("bye now"))
		Eventually(open.Closed, wait).Should(BeTrue())
		Expect(open.PeerCloseCode()).To(Equal(4001))
		Eventually(func() []string { return conn().Joined() }, wait).Should(ContainElement("realtime:room1"))
		stillDelivers()
	})

	It("closes with 1002 on a frame with a bad opcode, reports it and reconnects", func() {
		start()
		subscribe()
		open := conn()
		blast(open, realtimetest.AppendControlFrame(nil, fin|0x3, []byte("x")))
		Eventually(open.Closed, wait).Should(BeTrue())
		Expect(open.PeerCloseCode()).To(Equal(websocket.CloseProtocolError))
		ce := closed()
		Expect(ce).To(MatchError(ContainSubstring("websocket: bad opcode 3")))
		Eventually(func() []string { return conn().Joined() }, wait).Should(ContainElement("realtime:room1"))
		stillDelivers()
	})

	It("closes with 1009 on a message whose fragments add up to more than the read limit", func() {
		start(realtime.WithReadLimit(realtime.MinReadLimit))
		subscribe()
		open := conn()
		part := bytes.Repeat([]byte("x"), realtime.MinReadLimit/2+1)
		blast(open,
			realtimetest.AppendControlFrame(nil, opText, part),
			realtimetest.AppendControlFrame(nil, fin|opContinue, part))
		Eventually(open.Closed, wait).Should(BeTrue())
		Expect(open.PeerCloseCode()).To(Equal(websocket.CloseMessageTooBig))
		ce := closed()
		Expect(ce.Code).To(Equal(websocket.CloseMessageTooBig))
		Expect(ce).To(MatchError(realtime.ErrFrameTooLarge))
		Eventually(func() uint64 { return c.Stats().OversizedFrames }, wait).Should(Equal(uint64(1)))
		Eventually(func() []string { return conn().Joined() }, wait).Should(ContainElement("realtime:room1"))
		stillDelivers()
	})
})
