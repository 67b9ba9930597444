package spec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/logbuf"
	"github.com/supabase-go/realtime/supervisor"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// A hostile server (RELIABILITY.md, "Hostile server"): frames written by
// the test server's raw-frame hooks that a well-behaved server never sends
// must neither settle the wrong request nor break the client.
var _ = Describe("Hostile server", func() {
	var (
		srv *realtimetest.Server
		rec *recorder
		c   *realtime.Client
		n   int // sync broadcasts sent so far
	)

	start := freshClient(&srv, &rec, &c, &n)

	subscribe := func(name string, opts ...realtime.ChannelOption) *realtime.Channel {
		return subscribeAll(c, name, opts...)
	}

	// conn is the server side of the client's open socket.
	conn := func() *realtimetest.Conn {
		var open *realtimetest.Conn
		Eventually(func() int {
			active := srv.ActiveConns()
			if len(active) == 1 {
				open = active[0]
			}
			return len(active)
		}, wait).Should(Equal(1))
		return open
	}

	// drained returns once the client has processed every frame the server
	// queued on the socket before: a broadcast queued after them reached
	// the Handler (one socket, one reader, frames handled in order).
	drained := func(name string) {
		n++
		payload := fmt.Sprintf(`{"sync":%d}`, n)
		Expect(srv.Broadcast(name, "sync", json.RawMessage(payload))).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(ContainElement("sync " + payload))
	}

	reply := func(topic, joinRef, ref, payload string) frame.Frame {
		return frame.Frame{JoinRef: joinRef, Ref: ref, Topic: topic, Event: "phx_reply", Payload: []byte(payload)}
	}

	Context("replies are matched by topic and ref", func() {
		It("does not settle a join with a reply on another topic that carries its join ref", func() {
			srv.OnJoin(func(req realtimetest.JoinRequest) realtimetest.JoinAction {
				if req.Topic == "realtime:room2" {
					return realtimetest.Ignore
				}
				return realtimetest.Accept
			})
			start()
			subscribe("room1")
			open := conn()

			room2, err := c.Channel("room2")
			Expect(err).NotTo(HaveOccurred())
			type result struct {
				st  realtime.SubscribeStatus
				err error
			}
			done := make(chan result, 1)
			go func() {
				defer GinkgoRecover()
				st, err := c.Subscribe(specCtx(), room2)
				done <- result{st, err}
			}()
			var joinRef string
			Eventually(func() string {
				for _, j := range srv.Joins() {
					if j.Topic == "realtime:room2" {
						joinRef = j.JoinRef
					}
				}
				return joinRef
			}, wait).ShouldNot(BeEmpty())

			before := c.Stats()
			// room2's join ref, answered ok on room1's topic.
			Expect(open.Push(reply("realtime:room1", "", joinRef, `{"status":"ok","response":{}}`))).To(Succeed())
			// and answered with an error, likewise.
			Expect(open.Push(reply("realtime:room1", "", joinRef, `{"status":"error","response":{"reason":"forged"}}`))).To(Succeed())
			drained("room1")

			Expect(c.Stats().UnknownReplies).To(Equal(before.UnknownReplies + 2))
			Expect(c.ChannelState(room2)).To(Equal(realtime.ChannelJoining))
			Expect(done).NotTo(Receive())
			Expect(rec.statuses("room2")).To(BeEmpty())

			// The real answer, on room2's topic, still settles it.
			Expect(open.Push(reply("realtime:room2", joinRef, joinRef, `{"status":"ok","response":{"postgres_changes":[]}}`))).To(Succeed())
			var res result
			Eventually(done, wait).Should(Receive(&res))
			Expect(res.err).NotTo(HaveOccurred())
			Expect(res.st).To(Equal(realtime.Subscribed))
			Expect(c.Stats().ConnectionEpoch).To(Equal(uint64(1)))
		})

		It("does not fail an acknowledged push with an error reply on another topic that carries its ref", func() {
			start()
			room1 := subscribe("room1", realtime.BroadcastAck(true))
			subscribe("room2")
			open := conn()

			srv.SetWithholdAcks(true)
			ref, err := c.BroadcastWithAck(specCtx(), room1, "e", map[string]int{"x": 1})
			Expect(err).NotTo(HaveOccurred())
			Expect(ref).NotTo(Equal(realtime.NotAcknowledged))
			Eventually(func() int { return len(framesFrom(srv, "broadcast")) }, wait).Should(Equal(1))

			before := c.Stats()
			Expect(open.Push(reply("realtime:room2", "", string(ref), `{"status":"error","response":{"reason":"forged"}}`))).To(Succeed())
			drained("room2")
			Expect(c.Stats().UnknownReplies).To(Equal(before.UnknownReplies + 1))

			// The push is still waiting: the real answer on room1's topic
			// settles it, and it is the one WaitForAck reports.
			joinRef := joinsOf(srv, "realtime:room1")[0].JoinRef
			Expect(open.Push(reply("realtime:room1", joinRef, string(ref), `{"status":"ok","response":{}}`))).To(Succeed())
			Expect(c.WaitForAck(specCtx(), ref)).To(Succeed())
		})
	})

	Context("WaitForAck after the socket dies", func() {
		// sentAndWithheld makes an acknowledged broadcast that the server
		// received and will never answer.
		sentAndWithheld := func(ch *realtime.Channel) realtime.AckRef {
			srv.SetWithholdAcks(true)
			ref, err := c.BroadcastWithAck(specCtx(), ch, "e", map[string]int{"x": 1})
			Expect(err).NotTo(HaveOccurred())
			Eventually(func() int { return len(framesFrom(srv, "broadcast")) }, wait).Should(Equal(1))
			return ref
		}

		It("is ErrConnectionLost wrapping ErrHeartbeatTimeout after a heartbeat timeout", func() {
			const interval = 200 * time.Millisecond
			clock := realtime.NewManualClock(time.Unix(0, 0))
			start(realtime.WithClock(clock), realtime.WithHeartbeatInterval(interval))
			ch := subscribe("room1", realtime.BroadcastAck(true))
			Eventually(clock.Pending, wait).Should(Equal(1)) // the heartbeat
			ref := sentAndWithheld(ch)
			Eventually(clock.Pending, wait).Should(Equal(2)) // and the ack timeout

			srv.SetWithholdHeartbeats(true)
			clock.Advance(interval)
			Eventually(func() uint64 { return c.Stats().HeartbeatsSent }, wait).Should(Equal(uint64(1)))
			Eventually(clock.Pending, wait).Should(Equal(2))
			clock.Advance(interval) // the heartbeat is still unanswered
			Eventually(rec.connErr(0), wait).Should(MatchError(realtime.ErrHeartbeatTimeout))

			err := c.WaitForAck(specCtx(), ref)
			Expect(err).To(MatchError(realtime.ErrConnectionLost))
			Expect(err).To(MatchError(realtime.ErrHeartbeatTimeout), "the cause is kept")
		})

		for _, tc := range []struct {
			name string
			kill func(*realtimetest.Conn)
		}{
			{"a close frame (1011)", func(cn *realtimetest.Conn) { cn.Close(1011, "internal error") }},
			{"a dropped TCP connection (no close frame)", func(cn *realtimetest.Conn) { cn.Close(realtimetest.CloseAbnormal, "") }},
		} {
			tc := tc
			It("is ErrConnectionLost after "+tc.name, func() {
				start()
				ch := subscribe("room1", realtime.BroadcastAck(true))
				ref := sentAndWithheld(ch)
				tc.kill(conn())
				Eventually(rec.connErr(0), wait).ShouldNot(BeNil())
				err := c.WaitForAck(specCtx(), ref)
				Expect(err).To(MatchError(realtime.ErrConnectionLost))
				var ce *realtime.CloseError
				Expect(errors.As(err, &ce)).To(BeTrue(), "the cause is kept: %v", err)
			})
		}
	})

	Context("reconnect backoff", func() {
		It("grows against a server that accepts and then closes, and WithMaxReconnectAttempts trips", func() {
			clock := realtime.NewManualClock(time.Unix(0, 0))
			bo := recordBackoff(supervisor.DefaultBackoff)
			start(realtime.WithClock(clock), realtime.WithReconnectAfter(bo.after), realtime.WithMaxReconnectAttempts(5))
			subscribe("room1") // every reconnect sends a join: sent is not answered

			srv.SetCloseOnAccept(1011)
			conn().Close(1011, "") // the healthy first connection ends: try 1
			for k := 1; k <= 4; k++ {
				Eventually(bo.count, wait).Should(Equal(k))
				Eventually(clock.Pending, wait).Should(Equal(1), "only the backoff timer is armed")
				_, delays := bo.snapshot()
				clock.Advance(delays[k-1])
				// The reconnect is accepted (the socket opens), then closed.
				Eventually(func() int { return len(srv.Conns()) }, wait).Should(Equal(k + 1))
			}
			Eventually(func() int { return len(rec.closedEvents()) }, wait).Should(Equal(5))
			evs := rec.closedEvents()
			for k, ev := range evs {
				Expect(ev.Attempt).To(Equal(k+1), "a connection that opened and closed unproven counts as a failed attempt")
			}
			Expect(evs[4].Err).To(MatchError(realtime.ErrReconnectLimit))
			Expect(evs[4].Err).To(MatchError(realtime.ErrConnectionLost), "the cause is kept")
			for _, j := range srv.Joins()[1:] {
				Expect(j.Topic).To(Equal("realtime:room1"), "the reconnects did send joins")
			}

			tries, delays := bo.snapshot()
			Expect(tries).To(Equal([]int{1, 2, 3, 4}))
			for k := 1; k < len(delays); k++ {
				Expect(delays[k]).To(BeNumerically(">", delays[k-1]), "the delays grow: %v", delays)
			}
			Expect(c.Stats().HeartbeatsAcknowledged).To(BeZero())
			Expect(c.ConnectionState()).To(Equal(realtime.ConnClosed))
			Expect(clock.Pending()).To(BeZero(), "given up: nothing armed")
			Expect(srv.Conns()).To(HaveLen(5))
		})

		It("starts over after a heartbeat round trip or the minimum uptime, and not before", func() {
			clock := realtime.NewManualClock(time.Unix(0, 0))
			bo := recordBackoff(constant(time.Second))
			start(realtime.WithClock(clock), realtime.WithReconnectAfter(bo.after), realtime.WithHeartbeatInterval(20*time.Second))
			Eventually(c.ConnectionState, wait).Should(Equal(realtime.ConnOpen))
			reconnect := func(k int) {
				Eventually(bo.count, wait).Should(Equal(k))
				Eventually(clock.Pending, wait).Should(Equal(1))
				clock.Advance(time.Second)
				Eventually(func() int { return len(srv.ActiveConns()) }, wait).Should(Equal(1))
				Eventually(c.ConnectionState, wait).Should(Equal(realtime.ConnOpen))
				Eventually(clock.Pending, wait).Should(Equal(1)) // the heartbeat
			}
			attempt := func(k int) int {
				Eventually(func() int { return len(rec.closedEvents()) }, wait).Should(Equal(k))
				return rec.closedEvents()[k-1].Attempt
			}

			conn().Close(1011, "") // unproven (no heartbeat yet, up 0 s): try 1
			Expect(attempt(1)).To(Equal(1))
			reconnect(1)
			conn().Close(1011, "") // unproven again: try 2
			Expect(attempt(2)).To(Equal(2))

			reconnect(2)
			clock.Advance(20 * time.Second) // a heartbeat, answered
			Eventually(func() uint64 { return c.Stats().HeartbeatsAcknowledged }, wait).Should(Equal(uint64(1)))
			conn().Close(1011, "")
			Expect(attempt(3)).To(Equal(1), "a heartbeat round trip proved the connection")

			reconnect(3)
			srv.SetWithholdHeartbeats(true)
			clock.Advance(20 * time.Second) // a heartbeat, unanswered
			Eventually(func() uint64 { return c.Stats().HeartbeatsSent }, wait).Should(Equal(uint64(2)))
			conn().Close(1011, "")
			Expect(attempt(4)).To(Equal(2), "an unanswered heartbeat proves nothing")

			reconnect(4)
			// Up for the minimum uptime (30 s), less than the heartbeat
			// timeout (2 intervals): the heartbeat goes unanswered.
			clock.Advance(20 * time.Second)
			Eventually(func() uint64 { return c.Stats().HeartbeatsSent }, wait).Should(Equal(uint64(3)))
			Eventually(clock.Pending, wait).Should(Equal(1))
			clock.Advance(10 * time.Second)
			Expect(c.ConnectionState()).To(Equal(realtime.ConnOpen))
			conn().Close(1011, "")
			Expect(attempt(5)).To(Equal(1), "30 s of uptime proved the connection")
		})
	})

	Context("secrets echoed back by the server", func() {
		It("never reach an error, an event's error or a log line; SystemEvent.Message stays verbatim", func() {
			const apiKey = "sk-hostile-apikey-0123456789"
			const token = "user-token-abcdef0123456789"
			srv.Close()
			srv = realtimetest.NewServer(realtimetest.Options{APIKey: apiKey})
			logs := &logbuf.Buffer{}
			logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			var err error
			clock := realtime.NewManualClock(time.Unix(0, 0))
			c, err = realtime.New(srv.URL(), apiKey, fast(realtime.WithHandler(rec), realtime.WithLogger(logger),
				realtime.WithClock(clock), realtime.WithHeartbeatInterval(time.Second))...)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.SetAuth(specCtx(), token)).To(Succeed())
			echo := "key " + apiKey + " token " + token
			var errs []error // every error returned to the caller

			// A join error reason.
			srv.OnJoin(func(req realtimetest.JoinRequest) realtimetest.JoinAction {
				if req.Topic == "realtime:deny" {
					return realtimetest.Reject("Unauthorized: " + echo)
				}
				return realtimetest.Accept
			})
			deny, err := c.Channel("deny")
			Expect(err).NotTo(HaveOccurred())
			_, err = c.Subscribe(specCtx(), deny)
			Expect(err).To(MatchError(realtime.ErrAuth))
			errs = append(errs, err)

			// An error reply to an acknowledged push and to a track.
			room1 := subscribe("room1", realtime.BroadcastAck(true))
			Expect(c.On(room1, realtime.Presence{})).To(Succeed())
			open := conn()
			joinRef := joinsOf(srv, "realtime:room1")[len(joinsOf(srv, "realtime:room1"))-1].JoinRef
			srv.SetWithholdAcks(true)
			ref, err := c.BroadcastWithAck(specCtx(), room1, "e", map[string]int{"x": 1})
			Expect(err).NotTo(HaveOccurred())
			forged, _ := json.Marshal(map[string]any{"status": "error", "response": map[string]string{"reason": echo, "detail": echo}})
			Expect(open.Push(reply("realtime:room1", joinRef, string(ref), string(forged)))).To(Succeed())
			err = c.WaitForAck(specCtx(), ref)
			var pe *realtime.PushError
			Expect(errors.As(err, &pe)).To(BeTrue(), "%v", err)
			Expect(string(pe.Response)).To(ContainSubstring("REDACTED"))
			Expect(json.Valid(pe.Response)).To(BeTrue())
			errs = append(errs, err, errors.New(string(pe.Response)))

			tracked := make(chan error, 1)
			go func() {
				defer GinkgoRecover()
				tracked <- c.Track(specCtx(), room1, map[string]string{"user": "u"})
			}()
			var trackRef string
			Eventually(func() string {
				for _, f := range framesFrom(srv, "presence") {
					trackRef = f.Ref
				}
				return trackRef
			}, wait).ShouldNot(BeEmpty())
			Expect(open.Push(reply("realtime:room1", joinRef, trackRef, string(forged)))).To(Succeed())
			Eventually(tracked, wait).Should(Receive(&err))
			Expect(err).To(MatchError(ContainSubstring("REDACTED")))
			errs = append(errs, err)

			// A system message: verbatim in SystemEvent.Message (as
			// documented), redacted in the AuthError it causes.
			Expect(srv.SendSystem("room1", "system", "error", "Token has expired 0 seconds ago; "+echo)).To(Equal(1))
			Eventually(func() []string { return rec.systemMessages("room1") }, wait).
				Should(ContainElement("Token has expired 0 seconds ago; " + echo))
			Eventually(func() []error { return rec.errors() }, wait).Should(ContainElement(MatchError(realtime.ErrAuth)))

			// A heartbeat answered with a status that is not "ok".
			srv.SetWithholdHeartbeats(true)
			clock.Advance(time.Second)
			var hbRef string
			Eventually(func() string {
				for _, f := range framesFrom(srv, "heartbeat") {
					hbRef = f.Ref
				}
				return hbRef
			}, wait).ShouldNot(BeEmpty())
			Expect(open.Push(frame.Frame{Ref: hbRef, Topic: "phoenix", Event: "phx_reply",
				Payload: []byte(`{"status":"` + echo + `","response":{}}`)})).To(Succeed())
			Eventually(func() []error {
				var out []error
				for _, ev := range rec.all() {
					if hb, ok := ev.(realtime.HeartbeatEvent); ok && hb.Err != nil {
						out = append(out, hb.Err)
					}
				}
				return out
			}, wait).Should(ContainElement(MatchError(ContainSubstring("REDACTED"))))

			// A close reason: the connection actor fails with it, which
			// the supervisor logs and protoactor-go logs at Info
			// ("[ACTOR] Recovering reason=…").
			open.Close(1008, echo[:len("key ")+len(apiKey)])
			Eventually(rec.connErr(0), wait).Should(MatchError(realtime.ErrConnectionLost))
			var ce *realtime.CloseError
			Expect(errors.As(rec.connErr(0)(), &ce)).To(BeTrue())
			Expect(ce.Code).To(Equal(1008))
			Expect(ce.Text).To(Equal("key REDACTED"))
			Eventually(func() int { return len(srv.ActiveConns()) }, wait).Should(Equal(1))
			Eventually(logs.String, wait).Should(ContainSubstring("[ACTOR] Recovering"))
			Expect(logs.String()).To(ContainSubstring("connection failed; reconnecting"))

			for _, ev := range rec.all() {
				if _, ok := ev.(realtime.SystemEvent); ok {
					continue // verbatim by design
				}
				text := fmt.Sprintf("%+v", ev)
				Expect(text).NotTo(ContainSubstring(apiKey), "%T", ev)
				Expect(text).NotTo(ContainSubstring(token), "%T", ev)
			}
			for _, e := range append(errs, rec.errors()...) {
				Expect(e.Error()).NotTo(ContainSubstring(apiKey))
				Expect(e.Error()).NotTo(ContainSubstring(token))
			}
			Expect(rec.errors()).NotTo(BeEmpty())
			Expect(logs.String()).To(ContainSubstring("REDACTED"), "the logs did see the server's text")
			Expect(logs.String()).NotTo(ContainSubstring(apiKey))
			Expect(logs.String()).NotTo(ContainSubstring(token))
		})
	})

	Context("memory after a flood", func() {
		It("the reader's buffer shrinks back after a large message", func() {
			start(realtime.WithReadLimit(32 << 20))
			subscribe("room1")
			open := conn()
			drained("room1")
			liveHeap := func() uint64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			base := liveHeap()

			// 20 MB in one text frame that the client reads whole and then
			// drops (an unknown event: nothing of it is copied or kept).
			const size = 20 << 20
			big := make([]byte, 0, size+64)
			big = append(big, `[null,null,"realtime:room1","weird_event",{"x":"`...)
			big = append(big, bytes.Repeat([]byte{'a'}, size)...)
			big = append(big, `"}]`...)
			before := c.Stats().UnknownEvents
			Expect(open.SendRaw(false, big)).To(Succeed())
			big = nil
			Eventually(func() uint64 { return c.Stats().UnknownEvents }, wait).Should(Equal(before + 1))
			Expect(c.Stats().OversizedFrames).To(BeZero())

			// Ordinary traffic after it: before, these small frames were
			// appended to the large message's buffer, pinning it.
			drained("room1")
			drained("room1")
			Eventually(liveHeap, wait).Should(BeNumerically("<", base+8<<20),
				"the 20 MB read buffer is released (live heap before: %d bytes)", base)
			Expect(c.Stats().ConnectionEpoch).To(Equal(uint64(1)))
		})
	})
})
