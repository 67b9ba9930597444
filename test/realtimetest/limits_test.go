package realtimetest_test

import (
	"errors"
	"net"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/test/realtimetest"
)

var _ = Describe("Limits and faults", func() {
	var (
		srv     *realtimetest.Server
		opts    realtimetest.Options
		clock   *fakeClock
		clients []*rawClient
	)

	BeforeEach(func() {
		clock = newFakeClock()
		opts = realtimetest.Options{Now: clock.Now}
		clients = nil
	})
	start := func() { srv = realtimetest.NewServer(opts) }
	connect := func(vsn string) *rawClient {
		c := dial(srv, vsn, nil)
		clients = append(clients, c)
		return c
	}
	AfterEach(func() {
		for _, c := range clients {
			c.close()
		}
		srv.Close()
	})

	for _, vsn := range vsns {
		Describe("vsn "+vsn, func() {
			It("shuts receiving channels down over MaxEventsPerSecond (§5.4)", func() {
				opts.MaxEventsPerSecond = 3
				start()
				sender, recv := connect(vsn), connect(vsn)
				sjr, _ := sender.joinOK("realtime:room", `{"config":{}}`)
				rjr, _ := recv.joinOK("realtime:room", `{"config":{}}`)
				body := `{"type":"broadcast","event":"e","payload":{}}`
				// Push 1: 1 event + 1 delivery; push 2: 2 more (4 > 3): the
				// receiver still gets push 2, then the shutdown
				// (realtime_channel.ex, :update_rate_counter).
				for i := 0; i < 3; i++ {
					sender.push(sjr, "realtime:room", "broadcast", body)
				}
				expectShutdown(recv, "realtime:room", rjr, "Too many messages per second")
				recv.sync()
				n := 0
				for _, w := range recv.all() {
					if w.Event == "broadcast" {
						n++
					}
				}
				Expect(n).To(Equal(2))
				// The sender (self: false) is not a receiver and stays joined.
				sender.sync()
				Expect(sender.all()).NotTo(ContainElement(HaveField("Event", "system")))
				Expect(sender.all()).NotTo(ContainElement(HaveField("Event", "phx_close")))

				// A new second is a new window.
				clock.Advance(time.Second)
				rjr, _ = recv.joinOK("realtime:room", `{"config":{}}`)
				sender.push(sjr, "realtime:room", "broadcast", body)
				recv.expectEvent("realtime:room", "broadcast")
				Expect(rjr).NotTo(BeEmpty())
			})

			It("averages the events rate over RateTick ticks like rate_counter.ex, delivering the message that finds the limit triggered", func() {
				opts.MaxEventsPerSecond = 2
				opts.RateTick = 5 * time.Second
				start()
				sender, recv := connect(vsn), connect(vsn)
				sjr, _ := sender.joinOK("realtime:room", `{"config":{}}`)
				rjr, _ := recv.joinOK("realtime:room", `{"config":{}}`)
				body := `{"type":"broadcast","event":"e","payload":{}}`
				for i := 0; i < 6; i++ { // 12 events within the first tick: nothing is evaluated yet
					sender.push(sjr, "realtime:room", "broadcast", body)
				}
				recv.sync()
				Expect(recv.all()).NotTo(ContainElement(HaveField("Event", "system")))
				clock.Advance(5 * time.Second) // the tick: 12 events / 5 s = 2.4/s ≥ 2
				Expect(srv.EventsPerSecond()).To(Equal(2))
				mark := recv.mark()
				sender.push(sjr, "realtime:room", "broadcast", body)
				expectShutdown(recv, "realtime:room", rjr, "Too many messages per second")
				events := []string{}
				for _, w := range recv.since(mark) {
					events = append(events, w.Event)
				}
				Expect(events).To(Equal([]string{"broadcast", "system", "phx_close"}))
				// Quiet ticks bring the average down and clear the limit.
				clock.Advance(5 * time.Second)
				Expect(srv.EventsPerSecond()).To(BeNumerically("<", 2))
				rjr, _ = recv.joinOK("realtime:room", `{"config":{}}`)
				sender.push(sjr, "realtime:room", "broadcast", body)
				recv.expectEvent("realtime:room", "broadcast")
				Expect(rjr).NotTo(BeEmpty())
			})

			It("refuses joins over MaxJoinsPerSecond and closes the socket, and over MaxConcurrentUsers", func() {
				opts.MaxJoinsPerSecond = 2
				opts.MaxConcurrentUsers = 1
				start()
				c := connect(vsn)
				c.joinOK("realtime:a", `{"config":{}}`)
				c.joinOK("realtime:b", `{"config":{}}`)
				other := connect(vsn)
				Expect(joinError(other, "realtime:d", `{"config":{}}`)).To(Equal("ConnectionRateLimitReached: Too many connected users"))
				Expect(joinError(c, "realtime:c", `{"config":{}}`)).To(Equal("ClientJoinRateLimitReached: Too many joins per second"))
				Expect(c.closeErr()).To(HaveOccurred())
			})

			It("closes a socket that sends nothing for IdleTimeout", func() {
				opts.IdleTimeout = 200 * time.Millisecond
				start()
				c := connect(vsn)
				c.joinOK("realtime:a", `{"config":{}}`)
				Expect(c.closeErr()).To(HaveOccurred())
				Eventually(srv.Conns()[0].Done(), waitTimeout).Should(BeClosed())
			})

			It("shuts a channel down over PresencePushesPer30s without replying (§6.1)", func() {
				opts.PresencePushesPer30s = 2
				start()
				c := connect(vsn)
				jr, _ := c.joinOK("realtime:lobby", `{"config":{"presence":{"enabled":true}}}`)
				for i, p := range []string{`{"type":"presence","event":"track","payload":{"a":1}}`, `{"type":"presence","event":"untrack"}`} {
					ref := c.push(jr, "realtime:lobby", "presence", p)
					Expect(replyStatus(c.expectReply("realtime:lobby", ref))).To(Equal("ok"), "push %d", i)
				}
				// A push without event is not counted.
				ref := c.push(jr, "realtime:lobby", "presence", `{"type":"presence"}`)
				Expect(replyStatus(c.expectReply("realtime:lobby", ref))).To(Equal("ok"))
				ref = c.push(jr, "realtime:lobby", "presence", `{"type":"presence","event":"track","payload":{"a":2}}`)
				expectShutdown(c, "realtime:lobby", jr, "Client presence rate limit exceeded")
				c.sync()
				Expect(c.all()).NotTo(ContainElement(HaveField("Ref", ref)), "the refused push gets no reply")

				// The window restarts after 30 s.
				jr, _ = c.joinOK("realtime:lobby", `{"config":{}}`)
				for i := 0; i < 2; i++ {
					ref = c.push(jr, "realtime:lobby", "presence", `{"type":"presence","event":"untrack"}`)
					c.expectReply("realtime:lobby", ref)
				}
				clock.Advance(31 * time.Second)
				ref = c.push(jr, "realtime:lobby", "presence", `{"type":"presence","event":"untrack"}`)
				Expect(replyStatus(c.expectReply("realtime:lobby", ref))).To(Equal("ok"))
			})

			It("shuts a channel down on an oversize track", func() {
				opts.MaxPayloadBytes = 64
				start()
				c := connect(vsn)
				jr, _ := c.joinOK("realtime:lobby", `{"config":{}}`)
				c.push(jr, "realtime:lobby", "presence", `{"type":"presence","event":"track","payload":{"a":"`+strings.Repeat("x", 100)+`"}}`)
				expectShutdown(c, "realtime:lobby", jr, "Track message size exceeded")
			})

			It("sends system messages and shuts channels down on request", func() {
				start()
				c := connect(vsn)
				jr, _ := c.joinOK("realtime:a:b", `{"config":{}}`)
				Expect(srv.SendSystem("a:b", "postgres_changes", "ok", "Subscribed to PostgreSQL")).To(Equal(1))
				w := c.expectEvent("realtime:a:b", "system")
				Expect(string(w.Raw)).To(Equal(wireText(vsn, jr, nil, "realtime:a:b", "system",
					`{"channel":"a:b","extension":"postgres_changes","message":"Subscribed to PostgreSQL","status":"ok"}`)))
				Expect(srv.Conns()[0].Joined()).To(Equal([]string{"realtime:a:b"}))

				Expect(srv.ShutdownChannel("realtime:a:b", "Replication connection was not established in time")).To(Equal(1))
				expectShutdown(c, "realtime:a:b", jr, "Replication connection was not established in time")
				Expect(srv.Conns()[0].Joined()).To(BeEmpty())
				Expect(srv.ShutdownChannel("a:b", "again")).To(Equal(0))
			})
		})
	}

	It("closes sockets with codes 1000, 1001, 1006 and 1012", func() {
		start()
		for _, code := range []int{websocket.CloseNormalClosure, websocket.CloseGoingAway, realtimetest.CloseAbnormal, websocket.CloseServiceRestart} {
			c := connect("2.0.0")
			c.sync()
			conns := srv.ActiveConns()
			Expect(conns).To(HaveLen(1))
			conns[0].Close(code, "")
			var ce *websocket.CloseError
			Expect(errors.As(c.closeErr(), &ce)).To(BeTrue())
			Expect(ce.Code).To(Equal(code))
			Eventually(conns[0].Done(), waitTimeout).Should(BeClosed())
		}
	})

	It("refuses negative limits at construction", func() {
		for _, o := range []realtimetest.Options{{RateTick: -1}, {IdleTimeout: -1}, {MaxJoinsPerSecond: -1}, {MaxConcurrentUsers: -1}} {
			_, err := realtimetest.Listen(o)
			Expect(err).To(MatchError(ContainSubstring("must not be negative")), "%+v", o)
		}
		start() // AfterEach closes srv
	})

	It("listens on Options.Addr and reports listen errors", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())

		opts.Addr = addr
		start()
		Expect(srv.Addr().String()).To(Equal(addr))
		Expect(srv.URL()).To(Equal("http://" + addr))
		Expect(srv.BroadcastURL()).To(Equal("http://" + addr + "/realtime/v1/api/broadcast"))
		c := connect("2.0.0")
		c.sync()

		_, err = realtimetest.Listen(realtimetest.Options{Addr: addr})
		Expect(err).To(HaveOccurred(), "the address is taken")
		Expect(func() { realtimetest.NewServer(realtimetest.Options{Addr: addr}) }).To(PanicWith(ContainSubstring("failed to listen")))
	})
})
