package realtimetest_test

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/internal/frame"
	iwire "github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// readMessage is one message as gorilla/websocket decoded it.
type readMessage struct {
	binary bool
	data   []byte
}

var _ = Describe("Blast", func() {
	var srv *realtimetest.Server

	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		DeferCleanup(srv.Close)
	})

	// dialRaw connects a bare gorilla client and returns it with the
	// server side of the socket.
	dialRaw := func(vsn string) (*websocket.Conn, *realtimetest.Conn) {
		ws, resp, err := websocket.DefaultDialer.Dial(srv.WebSocketURL()+"?vsn="+vsn, nil)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		DeferCleanup(func() { _ = ws.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conns, err := srv.WaitForConns(ctx, 1)
		Expect(err).NotTo(HaveOccurred())
		return ws, conns[len(conns)-1]
	}

	// readN reads n messages with gorilla, in a goroutine that ends with
	// the socket.
	readN := func(ws *websocket.Conn, n int) <-chan []readMessage {
		out := make(chan []readMessage, 1)
		go func() {
			defer GinkgoRecover()
			var got []readMessage
			for len(got) < n {
				mt, data, err := ws.ReadMessage()
				if err != nil {
					break
				}
				got = append(got, readMessage{binary: mt == websocket.BinaryMessage, data: data})
			}
			out <- got
		}()
		return out
	}

	It("frames every payload length class so that gorilla/websocket reads back the same messages", func() {
		ws, conn := dialRaw("2.0.0")
		payloads := []readMessage{
			{false, []byte(`[null,null,"realtime:room","broadcast",{"type":"broadcast","event":"e","payload":{}}]`)},
			{true, []byte{4, 1, 2, 0, 1, 'x', 'e', 'v', '{', '}'}},
			{false, []byte{}},                                     // 0 bytes
			{false, bytes.Repeat([]byte("a"), 125)},               // largest 7-bit length
			{true, bytes.Repeat([]byte{0xAB}, 126)},               // smallest 16-bit length
			{false, bytes.Repeat([]byte("b"), 65535)},             // largest 16-bit length
			{true, bytes.Repeat([]byte{0x01, 0x02}, 65536/2+1)},   // 64-bit length
			{false, []byte(strings.Repeat(`{"k":"ü"}`, 300_000))}, // several MB
		}
		var chunk []byte
		for _, p := range payloads {
			chunk = realtimetest.AppendWebSocketFrame(chunk, p.binary, p.data)
		}
		const repeat = 3
		got := readN(ws, len(payloads)*repeat)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		Expect(conn.Blast(ctx, chunk, repeat)).To(Succeed())
		var msgs []readMessage
		Eventually(got, 20*time.Second).Should(Receive(&msgs))
		Expect(msgs).To(HaveLen(len(payloads) * repeat))
		for i, m := range msgs {
			want := payloads[i%len(payloads)]
			Expect(m.binary).To(Equal(want.binary), "message %d", i)
			Expect(bytes.Equal(m.data, want.data)).To(BeTrue(), "message %d: %d bytes, want %d", i, len(m.data), len(want.data))
		}
	})

	It("keeps order with the messages queued before and after it", func() {
		ws, conn := dialRaw("2.0.0")
		before := []byte(`[null,null,"realtime:a","broadcast",{"n":0}]`)
		after := []byte(`[null,null,"realtime:a","broadcast",{"n":2}]`)
		blasted := []byte(`[null,null,"realtime:a","broadcast",{"n":1}]`)
		got := readN(ws, 3)
		Expect(conn.SendRaw(false, before)).To(Succeed())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		Expect(conn.Blast(ctx, realtimetest.AppendWebSocketFrame(nil, false, blasted), 1)).To(Succeed())
		Expect(conn.SendRaw(false, after)).To(Succeed())
		var msgs []readMessage
		Eventually(got, 10*time.Second).Should(Receive(&msgs))
		Expect(msgs).To(HaveLen(3))
		Expect(string(msgs[0].data)).To(Equal(string(before)))
		Expect(string(msgs[1].data)).To(Equal(string(blasted)))
		Expect(string(msgs[2].data)).To(Equal(string(after)))
	})

	It("encodes frames as the server sends them, for each vsn", func() {
		f := frame.Frame{Topic: "realtime:room", Event: "broadcast", Payload: []byte(`{"type":"broadcast","event":"cursor","payload":{"x":1}}`)}
		v2, bin, err := realtimetest.EncodeFrame(frame.V2, f)
		Expect(err).NotTo(HaveOccurred())
		Expect(bin).To(BeFalse())
		Expect(string(v2)).To(Equal(`[null,null,"realtime:room","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1}}]`))
		v1, bin, err := realtimetest.EncodeFrame(frame.V1, f)
		Expect(err).NotTo(HaveOccurred())
		Expect(bin).To(BeFalse())
		Expect(string(v1)).To(Equal(`{"topic":"realtime:room","event":"broadcast","payload":{"type":"broadcast","event":"cursor","payload":{"x":1}},"ref":null}`))
		k4, bin, err := realtimetest.EncodeFrame(frame.V2, frame.Frame{
			Kind: frame.KindUserBroadcast, Topic: "realtime:room", Event: "broadcast",
			UserEvent: "cursor", Encoding: frame.EncodingJSON, Payload: []byte(`{"x":1}`),
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(bin).To(BeTrue())
		var back frame.Frame
		Expect(iwire.CodecV2.Decode(k4, true, &back)).To(Succeed())
		Expect(back.Kind).To(Equal(frame.KindUserBroadcast))
		Expect(back.Topic).To(Equal("realtime:room"))
		Expect(back.UserEvent).To(Equal("cursor"))
		Expect(string(back.Payload)).To(Equal(`{"x":1}`))
	})

	It("fails with ErrConnClosed once the socket is gone", func() {
		ws, conn := dialRaw("2.0.0")
		Expect(ws.Close()).To(Succeed())
		Eventually(conn.Done(), 10*time.Second).Should(BeClosed())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := conn.Blast(ctx, realtimetest.AppendWebSocketFrame(nil, false, []byte("x")), 1)
		Expect(err).To(MatchError(realtimetest.ErrConnClosed))
	})

	It("counts broadcast pushes without recording them when DiscardReceived is set", func() {
		srv.Close()
		srv = realtimetest.NewServer(realtimetest.Options{DiscardReceived: true})
		DeferCleanup(srv.Close)
		ws, conn := dialRaw("2.0.0")
		Expect(ws.WriteMessage(websocket.TextMessage, []byte(`["1","1","realtime:room","phx_join",{"config":{}}]`))).To(Succeed())
		Eventually(conn.Joined, 10*time.Second).Should(ConsistOf("realtime:room"))
		for i := 0; i < 50; i++ {
			Expect(ws.WriteMessage(websocket.TextMessage, []byte(`["1",null,"realtime:room","broadcast",{"type":"broadcast","event":"e","payload":{}}]`))).To(Succeed())
		}
		Eventually(conn.BroadcastsReceived, 10*time.Second).Should(BeEquivalentTo(50))
		Expect(conn.Received()).To(BeEmpty())
		Expect(srv.Received()).To(BeEmpty())
	})
})
