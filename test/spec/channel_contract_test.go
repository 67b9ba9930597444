package spec_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// The API contract around a channel's lifetime: a channel exists (for every
// reader of the store) when Channel returns, and a closed or removed channel
// receives nothing more.
var _ = Describe("Channel contract", func() {
	var (
		srv *realtimetest.Server
		rec *recorder
		c   *realtime.Client
	)
	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		rec = &recorder{}
	})
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	start := func(opts ...realtime.Option) {
		var err error
		c, err = realtime.New(srv.URL(), "anon", append(fast(realtime.WithHandler(rec)), opts...)...)
		Expect(err).NotTo(HaveOccurred())
	}
	joined := func(name string, opts ...realtime.ChannelOption) *realtime.Channel {
		ch, err := c.Channel(name, opts...)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
		status, err := c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Equal(realtime.Subscribed))
		return ch
	}
	// joinRefOf is the join_ref the server registered for topic.
	joinRefOf := func(topic string) string {
		for _, info := range srv.ActiveConns()[0].Channels() {
			if info.Topic == topic {
				return info.JoinRef
			}
		}
		return ""
	}
	// push sends a broadcast frame for topic straight from the server's
	// socket, as a server that has not (yet) dropped the subscription would.
	push := func(topic, joinRef, text string) {
		f := frame.Frame{JoinRef: joinRef, Topic: topic, Event: "broadcast",
			Payload: []byte(`{"type":"broadcast","event":"m","payload":{"text":"` + text + `"}}`)}
		Expect(srv.ActiveConns()[0].Push(f)).To(Succeed())
	}
	// barrier waits until the client has handled everything the server
	// sent before it: a broadcast on a live channel, delivered after every
	// frame queued before it on the same socket.
	barrier := func(live *realtime.Channel, n int) {
		push(live.Topic(), joinRefOf(live.Topic()), fmt.Sprint("barrier", n))
		Eventually(rec.broadcastPayloads, wait).Should(ContainElement(`m {"text":"barrier` + fmt.Sprint(n) + `"}`))
	}
	texts := func() []string {
		var out []string
		for _, b := range rec.broadcasts() {
			out = append(out, b.Channel+" "+string(b.Payload))
		}
		return out
	}

	Describe("creation is visible when Channel returns", func() {
		It("lists the channel and reports it closed at once, every time", func() {
			start()
			for i := 0; i < 200; i++ {
				name := fmt.Sprintf("c%d", i)
				ch, err := c.Channel(name)
				Expect(err).NotTo(HaveOccurred())
				Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelClosed), "ChannelState right after Channel(%q)", name)
				list := c.ListChannels()
				Expect(list).To(HaveLen(i + 1))
				Expect(list[i]).To(Equal(realtime.ChannelInfo{Name: name, Topic: "realtime:" + name, State: realtime.ChannelClosed}))
			}
		})

		It("sends a private channel's HTTPSend with ?private=true, every time", func() {
			start()
			ctx := specCtx()
			const n = 60
			for i := 0; i < n; i++ {
				ch, err := c.Channel(fmt.Sprintf("p%d", i), realtime.Private(true))
				Expect(err).NotTo(HaveOccurred())
				Expect(c.HTTPSend(ctx, ch, "e", map[string]int{"i": i})).To(Succeed())
			}
			reqs := srv.HTTPRequests()
			Expect(reqs).To(HaveLen(n))
			for i, r := range reqs {
				Expect(r.Path).To(Equal(fmt.Sprintf("/realtime/v1/api/broadcast/p%d/events/e", i)))
				Expect(r.Query.Get("private")).To(Equal("true"), "request %d went out public", i)
			}
		})

		It("sends a private channel's HTTP fallback with \"private\":true, every time", func() {
			start(realtime.WithHTTPFallback(true))
			ctx := specCtx()
			const n = 60
			for i := 0; i < n; i++ {
				ch, err := c.Channel(fmt.Sprintf("f%d", i), realtime.Private(true))
				Expect(err).NotTo(HaveOccurred())
				// Not joined: the fallback sends it over HTTP.
				Expect(c.Broadcast(ctx, ch, "e", map[string]int{"i": i})).To(Succeed())
			}
			reqs := srv.HTTPRequests()
			Expect(reqs).To(HaveLen(n))
			for i, r := range reqs {
				Expect(string(r.Body)).To(MatchJSON(fmt.Sprintf(`{"messages":[{"topic":"f%d","event":"e","payload":{"i":%d},"private":true}]}`, i, i)))
			}
		})

		It("delivers a private HTTPSend made right after Channel to private subscribers, not public ones", func() {
			start()
			ctx := specCtx()
			privRec, pubRec := &recorder{}, &recorder{}
			listener := func(r *recorder, private bool) *realtime.Client {
				l, err := realtime.New(srv.URL(), "anon", realtime.WithHandler(r))
				Expect(err).NotTo(HaveOccurred())
				ch, _ := l.Channel("vault", realtime.Private(private))
				Expect(l.On(ch, realtime.Broadcast{})).To(Succeed())
				_, err = l.Subscribe(ctx, ch)
				Expect(err).NotTo(HaveOccurred())
				return l
			}
			priv, pub := listener(privRec, true), listener(pubRec, false)
			// Closed before the AfterEach checks for leaks.
			defer func() {
				Expect(priv.Close(ctx)).To(Succeed())
				Expect(pub.Close(ctx)).To(Succeed())
			}()
			ch, err := c.Channel("vault", realtime.Private(true))
			Expect(err).NotTo(HaveOccurred())
			Expect(c.HTTPSend(ctx, ch, "secret", map[string]int{"n": 1})).To(Succeed())
			Eventually(privRec.broadcastPayloads, wait).Should(Equal([]string{`secret {"n":1}`}))
			// A public broadcast after it reaches the public listener, so
			// it has handled everything sent to it before.
			Expect(srv.Broadcast("vault", "public", map[string]int{"n": 2})).To(Succeed())
			Eventually(pubRec.broadcastPayloads, wait).Should(Equal([]string{`public {"n":2}`}))
		})

		It("authorizes HTTPSend with the channel's own token as soon as SetChannelAuth returns", func() {
			start()
			ctx := specCtx()
			Expect(c.SetAuth(ctx, "client-token")).To(Succeed())
			for i := 0; i < 20; i++ {
				ch, _ := c.Channel(fmt.Sprintf("t%d", i), realtime.Private(true))
				Expect(c.SetChannelAuth(ctx, ch, fmt.Sprintf("channel-token-%d", i))).To(Succeed())
				Expect(c.HTTPSend(ctx, ch, "e", nil)).To(Succeed())
			}
			for i, r := range srv.HTTPRequests() {
				Expect(r.Header.Get("Authorization")).To(Equal(fmt.Sprintf("Bearer channel-token-%d", i)))
				Expect(r.Query.Get("private")).To(Equal("true"))
			}
		})

		It("shows the state a call produced when it returns: Subscribe, Unsubscribe, RemoveChannel", func() {
			start()
			ctx := specCtx()
			for i := 0; i < 20; i++ {
				ch, _ := c.Channel(fmt.Sprintf("s%d", i))
				_, err := c.Subscribe(ctx, ch)
				Expect(err).NotTo(HaveOccurred())
				Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelJoined))
				Expect(c.Unsubscribe(ctx, ch)).To(Succeed())
				Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelClosed))
				Expect(c.RemoveChannel(ctx, ch)).To(Succeed())
				Expect(c.ChannelState(ch)).To(BeEmpty())
				Expect(c.ListChannels()).To(BeEmpty())
			}
		})
	})

	Describe("a closed or removed channel receives nothing more", func() {
		It("drops broadcasts for a channel after Unsubscribe completes, and counts them", func() {
			start()
			live := joined("live")
			gone := joined("gone")
			ref := joinRefOf(gone.Topic())
			push(gone.Topic(), ref, "before")
			Eventually(texts, wait).Should(ContainElement(`gone {"text":"before"}`))

			Expect(c.Unsubscribe(specCtx(), gone)).To(Succeed())
			// The server may still send a frame it had queued, with the
			// old join_ref or none (fastlane).
			push(gone.Topic(), ref, "after-with-ref")
			push(gone.Topic(), "", "after-without-ref")
			barrier(live, 1)
			Expect(texts()).NotTo(ContainElement(HavePrefix("gone " + `{"text":"after`)))
			Expect(c.Stats().ClosedFrames).To(BeNumerically(">=", 1))
		})

		It("drops presence and system frames for a closed channel too", func() {
			start()
			live := joined("live")
			gone, err := c.Channel("quiet")
			Expect(err).NotTo(HaveOccurred())
			Expect(c.On(gone, realtime.Presence{})).To(Succeed())
			Expect(c.On(gone, realtime.Broadcast{})).To(Succeed())
			_, err = c.Subscribe(specCtx(), gone)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Unsubscribe(specCtx(), gone)).To(Succeed())
			barrier(live, 0)
			seen := len(rec.all())
			before := c.Stats().ClosedFrames
			conn := srv.ActiveConns()[0]
			Expect(conn.Push(frame.Frame{Topic: gone.Topic(), Event: "presence_diff",
				Payload: []byte(`{"joins":{"k":{"metas":[{"phx_ref":"r1"}]}},"leaves":{}}`)})).To(Succeed())
			Expect(conn.Push(systemFrame(gone.Topic(), "", "system", "ok", "hello"))).To(Succeed())
			barrier(live, 1)
			for _, ev := range rec.all()[seen:] {
				switch ev.(type) {
				case realtime.PresenceEvent, realtime.SystemEvent:
					Expect(ev.ChannelName()).NotTo(Equal("quiet"), "event for the closed channel: %#v", ev)
				}
			}
			Expect(c.Stats().ClosedFrames - before).To(Equal(uint64(2)))
		})

		It("drops broadcasts after the server closed the channel (phx_close)", func() {
			start()
			live := joined("live")
			ch := joined("shut")
			ref := joinRefOf(ch.Topic())
			Expect(srv.CloseChannel("shut")).To(Equal(1))
			Eventually(func() realtime.ChannelState { return c.ChannelState(ch) }, wait).Should(Equal(realtime.ChannelClosed))
			push(ch.Topic(), ref, "late")
			barrier(live, 1)
			Expect(texts()).NotTo(ContainElement(`shut {"text":"late"}`))
			Expect(c.Stats().ClosedFrames).To(BeNumerically(">=", 1))
		})

		It("drops frames for a removed channel as unrouted", func() {
			start()
			live := joined("live")
			ch := joined("removed")
			ref := joinRefOf(ch.Topic())
			Expect(c.RemoveChannel(specCtx(), ch)).To(Succeed())
			barrier(live, 0) // the server's phx_close after the leave is unrouted too
			before := c.Stats().UnroutedFrames
			push(ch.Topic(), ref, "late")
			barrier(live, 1)
			Expect(texts()).NotTo(ContainElement(`removed {"text":"late"}`))
			Expect(c.Stats().UnroutedFrames - before).To(Equal(uint64(1)))
		})

		It("receives again once subscribed again", func() {
			start()
			ch := joined("again")
			Expect(c.Unsubscribe(specCtx(), ch)).To(Succeed())
			_, err := c.Subscribe(specCtx(), ch)
			Expect(err).NotTo(HaveOccurred())
			push(ch.Topic(), joinRefOf(ch.Topic()), "back")
			Eventually(texts, wait).Should(ContainElement(`again {"text":"back"}`))
		})
	})

	It("has no Channel after Close", func() {
		start()
		Expect(c.Close(specCtx())).To(Succeed())
		_, err := c.Channel("late")
		Expect(err).To(MatchError(realtime.ErrClosed))
		Expect(c.ListChannels()).To(BeEmpty())
	})
})
