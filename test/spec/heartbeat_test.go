package spec_test

import (
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// Heartbeat health, ported from phoenix.js assets/test/socket_test.js
// ("sendHeartbeat" and "heartbeatCallback"), whose statuses realtime-js
// passes on as its heartbeatCallback. The server withholds its answers so
// each spec scripts the answer (ok, error or none) as raw frames, and the
// heartbeat timer runs on a manual clock.
var _ = Describe("Heartbeat health (ported from phoenix.js socket_test.js)", func() {
	var (
		srv   *realtimetest.Server
		rec   *recorder
		c     *realtime.Client
		clock *realtime.ManualClock
		ch    *realtime.Channel
	)
	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		rec = &recorder{}
		clock = realtime.NewManualClock(time.Unix(0, 0))
	})
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	start := func() {
		var err error
		c, err = realtime.New(srv.URL(), "anon", realtime.WithHandler(rec), realtime.WithClock(clock),
			realtime.WithReconnectAfter(func(int) time.Duration { return 0 }))
		Expect(err).NotTo(HaveOccurred())
		ch, _ = c.Channel("hb")
		_, err = c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		// Armed: the heartbeat.
		Eventually(clock.Pending, wait).Should(Equal(1))
	}
	heartbeats := func() []realtime.HeartbeatEvent {
		var out []realtime.HeartbeatEvent
		for _, ev := range rec.all() {
			if h, ok := ev.(realtime.HeartbeatEvent); ok {
				out = append(out, h)
			}
		}
		return out
	}
	statuses := func() []realtime.HeartbeatStatus {
		var out []realtime.HeartbeatStatus
		for _, h := range heartbeats() {
			out = append(out, h.Status)
		}
		return out
	}
	// beat sends one heartbeat the server does not answer by itself and
	// returns it as the server received it.
	beat := func() frame.Frame {
		srv.SetWithholdHeartbeats(true)
		n := len(framesFrom(srv, "heartbeat"))
		clock.Advance(realtime.DefaultHeartbeatInterval)
		Eventually(func() int { return len(framesFrom(srv, "heartbeat")) }, wait).Should(Equal(n + 1))
		// The next tick is armed right after the write.
		Eventually(clock.Pending, wait).Should(Equal(1))
		return framesFrom(srv, "heartbeat")[n]
	}
	answer := func(hb frame.Frame, status string) {
		Expect(srv.ActiveConns()[0].Push(frame.Frame{Ref: hb.Ref, Topic: "phoenix", Event: "phx_reply",
			Payload: []byte(`{"status":"` + status + `","response":{}}`)})).To(Succeed())
	}

	// socket_test.js "sendHeartbeat › pushes heartbeat data when connected",
	// "heartbeatCallback › sent".
	It("reports sent when the heartbeat [null,ref,\"phoenix\",\"heartbeat\",{}] is written", func() {
		start()
		hb := beat()
		Expect(hb.Topic).To(Equal("phoenix"))
		Expect(hb.JoinRef).To(BeEmpty())
		Expect(string(hb.Payload)).To(Equal("{}"))
		Eventually(heartbeats, wait).Should(Equal([]realtime.HeartbeatEvent{{Status: realtime.HeartbeatSent, Ref: hb.Ref}}))
		Expect(c.Stats().HeartbeatsSent).To(Equal(uint64(1)))
		Expect(c.Stats().LastHeartbeat).To(Equal(realtime.HeartbeatSent))
	})

	// socket_test.js "heartbeatCallback › ok", "› calls multiple times",
	// "› latency".
	It("reports sent, then ok with the round trip, for an answered heartbeat", func() {
		start()
		hb := beat()
		clock.Advance(150 * time.Millisecond) // the answer takes 150 ms
		answer(hb, "ok")
		Eventually(heartbeats, wait).Should(Equal([]realtime.HeartbeatEvent{
			{Status: realtime.HeartbeatSent, Ref: hb.Ref},
			{Status: realtime.HeartbeatOK, Ref: hb.Ref, RTT: 150 * time.Millisecond},
		}))
		st := c.Stats()
		Expect(st.HeartbeatsSent).To(Equal(uint64(1)))
		Expect(st.HeartbeatsAcknowledged).To(Equal(uint64(1)))
		Expect(st.LastHeartbeatRTT).To(Equal(150 * time.Millisecond))
		Expect(st.LastHeartbeat).To(Equal(realtime.HeartbeatOK))

		// And again for the next one.
		hb2 := beat()
		answer(hb2, "ok")
		Eventually(statuses, wait).Should(Equal([]realtime.HeartbeatStatus{"sent", "ok", "sent", "ok"}))
		Expect(hb2.Ref).NotTo(Equal(hb.Ref))
		Expect(c.Stats().LastHeartbeatRTT).To(Equal(heartbeats()[3].RTT))
	})

	// socket_test.js "heartbeatCallback › error".
	It("reports error with the round trip for an error answer, and keeps the socket", func() {
		start()
		hb := beat()
		clock.Advance(40 * time.Millisecond)
		answer(hb, "error")
		Eventually(statuses, wait).Should(Equal([]realtime.HeartbeatStatus{"sent", "error"}))
		ev := heartbeats()[1]
		Expect(ev.RTT).To(Equal(40 * time.Millisecond))
		Expect(ev.Ref).To(Equal(hb.Ref))
		Expect(ev.Err).To(MatchError(ContainSubstring(`"error"`)))
		st := c.Stats()
		Expect(st.HeartbeatErrors).To(Equal(uint64(1)))
		Expect(st.HeartbeatsAcknowledged).To(BeZero())
		Expect(st.LastHeartbeat).To(Equal(realtime.HeartbeatError))

		// The answer cleared the heartbeat in flight: the next tick sends
		// a new one instead of timing out.
		srv.SetWithholdHeartbeats(false)
		clock.Advance(realtime.DefaultHeartbeatInterval)
		Eventually(statuses, wait).Should(Equal([]realtime.HeartbeatStatus{"sent", "error", "sent", "ok"}))
		Expect(srv.Conns()).To(HaveLen(1))
	})

	// socket_test.js "sendHeartbeat › closes socket when heartbeat is not
	// ack'd within heartbeat window", "› handles heartbeat timeout and
	// triggers reconnection", "heartbeatCallback › timeout", "› forwards
	// heartbeat timeout reason to channels".
	It("reports timeout, reconnects and errors the channels with the timeout as reason", func() {
		start()
		hb := beat()
		clock.Advance(realtime.DefaultHeartbeatInterval)
		Eventually(statuses, wait).Should(Equal([]realtime.HeartbeatStatus{"sent", "timeout"}))
		ev := heartbeats()[1]
		Expect(ev.Ref).To(Equal(hb.Ref))
		Expect(ev.Err).To(MatchError(realtime.ErrHeartbeatTimeout))
		Expect(c.Stats().HeartbeatTimeouts).To(Equal(uint64(1)))
		Expect(c.Stats().LastHeartbeat).To(Equal(realtime.HeartbeatTimeout))

		Eventually(func() int { return len(srv.Conns()) }, wait).Should(Equal(2))
		Eventually(func() error {
			for _, ev := range rec.all() {
				if s, ok := ev.(realtime.ChannelStatusEvent); ok && s.Channel == "hb" && s.State == realtime.ChannelErrored {
					return s.Err
				}
			}
			return nil
		}, wait).Should(MatchError(realtime.ErrHeartbeatTimeout))
		Eventually(func() realtime.ChannelState { return c.ChannelState(ch) }, wait).Should(Equal(realtime.ChannelJoined))
	})

	// socket_test.js "heartbeatCallback › handles errors gracefully ›
	// sendHeartbeat", "› onConnMessage": a callback that throws does not
	// stop the heartbeat.
	It("keeps heartbeating when the Handler panics on heartbeat events", func() {
		rec.hook = func(ev realtime.Event) {
			if _, ok := ev.(realtime.HeartbeatEvent); ok {
				panic("boom")
			}
		}
		start()
		srv.SetWithholdHeartbeats(false)
		for i := 1; i <= 2; i++ {
			clock.Advance(realtime.DefaultHeartbeatInterval)
			Eventually(func() uint64 { return c.Stats().HeartbeatsAcknowledged }, wait).Should(Equal(uint64(i)))
		}
		Eventually(func() uint64 { return c.Stats().HandlerPanics }, wait).Should(Equal(uint64(4)))
		Eventually(func() bool {
			for _, err := range rec.errors() {
				if errors.Is(err, realtime.ErrHandlerPanic) {
					return true
				}
			}
			return false
		}, wait).Should(BeTrue())
		Expect(srv.Conns()).To(HaveLen(1))
	})
})
