package spec_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/test/realtimetest"
)

var _ = Describe("Client", func() {
	var (
		srv *realtimetest.Server
		rec *recorder
		c   *realtime.Client
	)

	start := func(opts ...realtime.Option) *realtime.Client {
		var err error
		c, err = realtime.New(srv.URL(), "anon-key", append([]realtime.Option{realtime.WithHandler(rec)}, opts...)...)
		Expect(err).NotTo(HaveOccurred())
		return c
	}

	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{APIKey: "anon-key"})
		rec = &recorder{}
		c = nil
	})

	AfterEach(func() {
		closeAndCheckLeaks(c, srv)
	})

	Describe("construction", func() {
		It("rejects invalid options and URLs before starting anything", func() {
			_, err := realtime.New("ftp://x", "k")
			Expect(err).To(MatchError(realtime.ErrInvalidOption))
			for _, u := range []string{"localhost:4000", "127.0.0.1:4000", "x.supabase.co"} {
				_, err = realtime.New(u, "k")
				Expect(err).To(MatchError(realtime.ErrInvalidOption))
				Expect(err).To(MatchError(ContainSubstring("has no scheme")))
			}
			_, err = realtime.New("https://x.supabase.co", "")
			Expect(err).To(MatchError(realtime.ErrInvalidOption))
			_, err = realtime.New("https://x.supabase.co", "k", realtime.WithTimeout(0))
			var oe *realtime.OptionError
			Expect(errors.As(err, &oe)).To(BeTrue())
			Expect(oe.Option).To(Equal("timeout"))
			_, err = realtime.New("https://x.supabase.co", "k", realtime.WithVsn("3.0.0"))
			Expect(err).To(MatchError(realtime.ErrInvalidOption))
			_, err = realtime.New("https://x.supabase.co", "k", realtime.WithLogLevel("warn"))
			Expect(err).To(MatchError(realtime.ErrInvalidOption))
		})

		It("builds the socket URL from the project URL with apikey, params, log_level and vsn", func() {
			start(realtime.WithParams(map[string][]string{"tenant": {"t1"}}), realtime.WithLogLevel("info"))
			Eventually(srv.Conns, wait).Should(HaveLen(1))
			conn := srv.Conns()[0]
			Expect(conn.Path()).To(Equal("/realtime/v1/websocket"))
			q := conn.Query()
			Expect(q.Get("apikey")).To(Equal("anon-key"))
			Expect(q.Get("vsn")).To(Equal("2.0.0"))
			Expect(q.Get("log_level")).To(Equal("info"))
			Expect(q.Get("tenant")).To(Equal("t1"))
			Expect(c.URL()).NotTo(ContainSubstring("anon-key"))
		})
	})

	for _, vsn := range []realtime.Vsn{realtime.Vsn2, realtime.Vsn1} {
		vsn := vsn
		Context("over vsn "+string(vsn), func() {
			It("subscribes, broadcasts to itself and delivers to the Handler in order", func() {
				start(realtime.WithVsn(vsn))
				ctx := specCtx()
				ch, err := c.Channel("room1", realtime.BroadcastSelf(true))
				Expect(err).NotTo(HaveOccurred())
				Expect(c.On(ch, realtime.Broadcast{Event: "cursor"})).To(Succeed())
				status, err := c.Subscribe(ctx, ch)
				Expect(err).NotTo(HaveOccurred())
				Expect(status).To(Equal(realtime.Subscribed))
				Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelJoined))
				Expect(c.ConnectionState()).To(Equal(realtime.ConnOpen))

				for i := 0; i < 5; i++ {
					Expect(c.Broadcast(ctx, ch, "cursor", map[string]int{"x": i})).To(Succeed())
				}
				Expect(c.Broadcast(ctx, ch, "other", map[string]int{"x": 99})).To(Succeed())
				Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{
					`cursor {"x":0}`, `cursor {"x":1}`, `cursor {"x":2}`, `cursor {"x":3}`, `cursor {"x":4}`,
				}))
				Expect(rec.broadcasts()[0].Channel).To(Equal("room1"))
				Expect(rec.broadcasts()[0].Topic).To(Equal("realtime:room1"))
				Eventually(func() []realtime.SubscribeStatus { return rec.statuses("room1") }, wait).Should(Equal([]realtime.SubscribeStatus{realtime.Subscribed}))
			})

			It("receives broadcasts from another client and matches event names case-insensitively and by *", func() {
				start(realtime.WithVsn(vsn))
				ctx := specCtx()
				ch, _ := c.Channel("room2")
				Expect(c.On(ch, realtime.Broadcast{Event: "CHAT"})).To(Succeed())
				_, err := c.Subscribe(ctx, ch)
				Expect(err).NotTo(HaveOccurred())

				rec2 := &recorder{}
				c2, err := realtime.New(srv.URL(), "anon-key", realtime.WithHandler(rec2))
				Expect(err).NotTo(HaveOccurred())
				defer func() { Expect(c2.Close(ctx)).To(Succeed()) }()
				ch2, _ := c2.Channel("room2")
				Expect(c2.On(ch2, realtime.Broadcast{Event: "*"})).To(Succeed())
				_, err = c2.Subscribe(ctx, ch2)
				Expect(err).NotTo(HaveOccurred())

				Expect(c2.Broadcast(ctx, ch2, "chat", map[string]string{"text": "hi"})).To(Succeed())
				Expect(c.Broadcast(ctx, ch, "ping", json.RawMessage(`{"n":1}`))).To(Succeed())
				Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{`chat {"text":"hi"}`}))
				Eventually(rec2.broadcastPayloads, wait).Should(Equal([]string{`ping {"n":1}`}))
			})
		})
	}

	It("sends and receives binary broadcasts on vsn 2.0.0 as kind 3 and kind 4 frames", func() {
		start()
		ctx := specCtx()
		ch, _ := c.Channel("bin", realtime.BroadcastSelf(true))
		Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Broadcast(ctx, ch, "blob", []byte{0, 1, 2, 255})).To(Succeed())
		Eventually(rec.broadcasts, wait).Should(HaveLen(1))
		b := rec.broadcasts()[0]
		Expect(b.Event).To(Equal("blob"))
		Expect(b.Binary).To(Equal([]byte{0, 1, 2, 255}))
		Expect(b.Payload).To(BeNil())
		Expect(b.Decode(new(any))).To(MatchError(realtime.ErrBinaryPayload))
		pushes := framesFrom(srv, "broadcast")
		Expect(pushes).To(HaveLen(1))
		Expect(pushes[0].Kind).To(Equal(frame.KindUserBroadcastPush))
	})

	It("refuses binary payloads on vsn 1.0.0 with a clear error", func() {
		start(realtime.WithVsn(realtime.Vsn1))
		ch, _ := c.Channel("bin")
		err := c.Broadcast(specCtx(), ch, "blob", []byte{1})
		Expect(err).To(MatchError(realtime.ErrInvalidOption))
	})

	It("coalesces the bindings added before Subscribe into one join with the channel config", func() {
		start()
		ctx := specCtx()
		ch, _ := c.Channel("cfg", realtime.BroadcastSelf(true), realtime.BroadcastAck(true), realtime.PresenceKey("me"), realtime.Private(false))
		Expect(c.On(ch, realtime.Broadcast{Event: "a"})).To(Succeed())
		Expect(c.On(ch, realtime.Broadcast{Event: "b"})).To(Succeed())
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		joins := joinsOf(srv, "realtime:cfg")
		Expect(joins).To(HaveLen(1))
		Expect(joins[0].JoinRef).To(Equal(joins[0].Ref))
		Expect(string(joins[0].Payload)).To(MatchJSON(`{"config":{"broadcast":{"ack":true,"self":true},"presence":{"enabled":false,"key":"me"},"postgres_changes":[],"private":false}}`))
	})

	It("reports a rejected join as CHANNEL_ERROR with the server's reason and retries", func() {
		reason := "UnableToConnectToProject: Realtime was unable to connect to the project database"
		rejected := 0
		srv.OnJoin(func(j realtimetest.JoinRequest) realtimetest.JoinAction {
			if j.Topic == "realtime:locked" && rejected < 2 {
				rejected++
				return realtimetest.Reject(reason)
			}
			return realtimetest.Accept
		})
		start(fast()...)
		ch, _ := c.Channel("locked")
		status, err := c.Subscribe(specCtx(), ch)
		Expect(status).To(Equal(realtime.ChannelError))
		var detail *realtime.ChannelErrorDetail
		Expect(errors.As(err, &detail)).To(BeTrue())
		Expect(detail.Reason).To(Equal(reason))
		Expect(err).To(MatchError(realtime.ErrChannelError))
		Eventually(func() []realtime.SubscribeStatus { return rec.statuses("locked") }, wait).Should(Equal(
			[]realtime.SubscribeStatus{realtime.ChannelError, realtime.ChannelError, realtime.Subscribed}))
		Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelJoined))
	})

	It("reports TIMED_OUT when the join gets no reply, sends phx_leave, then rejoins", func() {
		ignored := false
		srv.OnJoin(func(j realtimetest.JoinRequest) realtimetest.JoinAction {
			if !ignored {
				ignored = true
				return realtimetest.Ignore
			}
			return realtimetest.Accept
		})
		clock := realtime.NewManualClock(time.Unix(0, 0))
		start(realtime.WithClock(clock), realtime.WithRejoinAfter(func(int) time.Duration { return time.Second }))
		ch, _ := c.Channel("slow")
		type result struct {
			status realtime.SubscribeStatus
			err    error
		}
		done := make(chan result, 1)
		go func() {
			status, err := c.Subscribe(specCtx(), ch)
			done <- result{status, err}
		}()
		Eventually(func() int { return len(joinsOf(srv, "realtime:slow")) }, wait).Should(Equal(1))
		// Armed now: the heartbeat (30 s) and the join timeout (10 s).
		Eventually(clock.Pending, wait).Should(Equal(2))
		clock.Advance(realtime.DefaultTimeout)
		var r result
		Eventually(done, wait).Should(Receive(&r))
		Expect(r.status).To(Equal(realtime.TimedOut))
		Expect(r.err).To(MatchError(realtime.ErrJoinTimeout))
		Eventually(func() []frame.Frame { return framesFrom(srv, "phx_leave") }, wait).Should(HaveLen(1))
		firstJoin := joinsOf(srv, "realtime:slow")[0]
		Expect(framesFrom(srv, "phx_leave")[0].JoinRef).To(Equal(firstJoin.JoinRef))
		// The rejoin is due a second later.
		Eventually(clock.Pending, wait).Should(Equal(2))
		clock.Advance(time.Second)
		Eventually(func() []realtime.SubscribeStatus { return rec.statuses("slow") }, wait).Should(Equal(
			[]realtime.SubscribeStatus{realtime.TimedOut, realtime.Subscribed}))
		joins := joinsOf(srv, "realtime:slow")
		Expect(joins[1].JoinRef).NotTo(Equal(joins[0].JoinRef))
	})

	It("treats a server phx_close as terminal: CLOSED and no rejoin, even after a reconnect", func() {
		start(fast()...)
		ctx := specCtx()
		gone, _ := c.Channel("gone")
		kept, _ := c.Channel("kept")
		for _, ch := range []*realtime.Channel{gone, kept} {
			_, err := c.Subscribe(ctx, ch)
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(srv.CloseChannel("realtime:gone")).To(Equal(1))
		Eventually(func() []realtime.SubscribeStatus { return rec.statuses("gone") }, wait).Should(Equal(
			[]realtime.SubscribeStatus{realtime.Subscribed, realtime.Closed}))
		Expect(c.ChannelState(gone)).To(Equal(realtime.ChannelClosed))
		Expect(c.Broadcast(ctx, gone, "x", nil)).To(MatchError(realtime.ErrChannelClosed))

		srv.CloseAll(1001, "going away")
		Eventually(func() int { return len(joinsOf(srv, "realtime:kept")) }, wait).Should(Equal(2))
		Eventually(func() realtime.ChannelState { return c.ChannelState(kept) }, wait).Should(Equal(realtime.ChannelJoined))
		Expect(joinsOf(srv, "realtime:gone")).To(HaveLen(1))
	})

	It("reports WithMissedSince on each channel's first join, to its own ChannelHandler too, and not again", func() {
		since := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
		start(realtime.WithMissedSince(since))
		ctx := specCtx()
		own := &recorder{}
		a, _ := c.Channel("a")
		b, _ := c.Channel("b", realtime.ChannelHandler(own))
		for _, ch := range []*realtime.Channel{a, b} {
			_, err := c.Subscribe(ctx, ch)
			Expect(err).NotTo(HaveOccurred())
		}
		joined := func(r *recorder, name string) []time.Time {
			var out []time.Time
			for _, ev := range r.all() {
				if s, ok := ev.(realtime.ChannelStatusEvent); ok && s.Channel == name && s.State == realtime.ChannelJoined {
					out = append(out, s.MissedSince)
				}
			}
			return out
		}
		Eventually(func() []time.Time { return joined(rec, "a") }, wait).Should(Equal([]time.Time{since}))
		Eventually(func() []time.Time { return joined(own, "b") }, wait).Should(Equal([]time.Time{since}))
		// A later rejoin reports its own gap, not the option's time.
		srv.Conns()[0].Close(1006, "")
		Eventually(func() int { return len(joined(rec, "a")) }, wait).Should(Equal(2))
		Expect(joined(rec, "a")[1]).To(BeTemporally(">", since))
	})

	It("cancels an access-token callback that is still running when the client closes", func() {
		entered, cancelled := make(chan struct{}), make(chan struct{})
		var once sync.Once
		c, err := realtime.New(srv.URL(), "k", realtime.WithAccessToken(func(ctx context.Context) (string, error) {
			once.Do(func() { close(entered) })
			<-ctx.Done()
			close(cancelled)
			return "", ctx.Err()
		}))
		Expect(err).NotTo(HaveOccurred())
		Eventually(entered, wait).Should(BeClosed())
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		Expect(c.Close(ctx)).To(Succeed())
		Expect(cancelled).To(BeClosed())
	})

	It("rejoins every channel after the socket drops, with new join_refs and a fresh token", func() {
		tokens := 0
		start(fast(realtime.WithAccessToken(func(context.Context) (string, error) {
			tokens++
			return "token-" + string(rune('0'+tokens)), nil
		}))...)
		ctx := specCtx()
		var chans []*realtime.Channel
		for _, name := range []string{"a", "b", "c"} {
			ch, _ := c.Channel(name)
			_, err := c.Subscribe(ctx, ch)
			Expect(err).NotTo(HaveOccurred())
			chans = append(chans, ch)
		}
		first := srv.Joins()
		Expect(first).To(HaveLen(3))
		for _, j := range first {
			Expect(j.AccessToken).To(Equal("token-1"))
		}
		srv.Conns()[0].Close(1006, "")
		Eventually(func() int { return len(srv.Joins()) }, wait).Should(Equal(6))
		for _, ch := range chans {
			Eventually(func() realtime.ChannelState { return c.ChannelState(ch) }, wait).Should(Equal(realtime.ChannelJoined))
		}
		for i, j := range srv.Joins()[3:] {
			Expect(j.AccessToken).To(Equal("token-2"))
			Expect(j.JoinRef).NotTo(Equal(first[i].JoinRef))
		}
		Eventually(rec.connStates, wait).Should(ContainElements(realtime.ConnOpen, realtime.ConnClosed))
		// The rejoin reports the gap during which nothing was received.
		Eventually(func() []realtime.SubscribeStatus { return rec.statuses("a") }, wait).Should(HaveLen(2))
		var joinedEvents []realtime.ChannelStatusEvent
		for _, ev := range rec.all() {
			if s, ok := ev.(realtime.ChannelStatusEvent); ok && s.Channel == "a" && s.Status == realtime.Subscribed {
				joinedEvents = append(joinedEvents, s)
			}
		}
		Expect(joinedEvents).To(HaveLen(2))
		Expect(joinedEvents[0].MissedSince).To(BeZero(), "the first join has no gap")
		Expect(joinedEvents[1].MissedSince).NotTo(BeZero())
		Expect(joinedEvents[1].MissedSince).To(BeTemporally("<=", time.Now()))
		var lost realtime.ConnectionStateEvent
		for _, ev := range rec.all() {
			if s, ok := ev.(realtime.ConnectionStateEvent); ok && s.New == realtime.ConnClosed {
				lost = s
			}
		}
		Expect(lost.Err).To(MatchError(realtime.ErrConnectionLost))
		Expect(lost.Attempt).To(Equal(1))
	})

	It("buffers pushes while down and delivers each exactly once, in order, after the rejoin", func() {
		clock := realtime.NewManualClock(time.Unix(0, 0))
		start(realtime.WithClock(clock), realtime.WithReconnectAfter(func(int) time.Duration { return time.Minute }))
		ctx := specCtx()
		ch, _ := c.Channel("buf")
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		srv.Conns()[0].Close(1006, "")
		Eventually(c.ConnectionState, wait).Should(Equal(realtime.ConnClosed))
		Eventually(func() realtime.ChannelState { return c.ChannelState(ch) }, wait).Should(Equal(realtime.ChannelErrored))
		for i := 0; i < 5; i++ {
			Expect(c.Broadcast(ctx, ch, "m", map[string]int{"i": i})).To(Succeed())
		}
		Expect(c.Stats().Buffered).To(Equal(int64(5)))
		Expect(framesFrom(srv, "broadcast")).To(BeEmpty())
		// Only the reconnect backoff timer is armed now.
		Eventually(clock.Pending, wait).Should(Equal(1))
		clock.Advance(time.Minute)
		Eventually(func() int { return len(framesFrom(srv, "broadcast")) }, wait).Should(Equal(5))
		got := framesFrom(srv, "broadcast")
		joins := joinsOf(srv, "realtime:buf")
		Expect(joins).To(HaveLen(2))
		for i, f := range got {
			Expect(string(f.Payload)).To(MatchJSON(`{"type":"broadcast","event":"m","payload":{"i":` + string(rune('0'+i)) + `}}`))
			Expect(f.JoinRef).To(Equal(joins[1].JoinRef))
		}
		Expect(c.Stats().Buffered).To(BeZero())
	})

	It("returns ErrBufferFull when the send buffer is full and keeps what it accepted", func() {
		clock := realtime.NewManualClock(time.Unix(0, 0))
		start(realtime.WithClock(clock), realtime.WithSendBufferSize(3), realtime.WithReconnectAfter(func(int) time.Duration { return time.Minute }))
		ctx := specCtx()
		ch, _ := c.Channel("full")
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		srv.Conns()[0].Close(1006, "")
		Eventually(func() realtime.ChannelState { return c.ChannelState(ch) }, wait).Should(Equal(realtime.ChannelErrored))
		for i := 0; i < 3; i++ {
			Expect(c.Broadcast(ctx, ch, "m", i)).To(Succeed())
		}
		Expect(c.Broadcast(ctx, ch, "m", 3)).To(MatchError(realtime.ErrBufferFull))
		Eventually(clock.Pending, wait).Should(Equal(1))
		clock.Advance(time.Minute)
		Eventually(func() int { return len(framesFrom(srv, "broadcast")) }, wait).Should(Equal(3))
	})

	It("closes and reconnects when a heartbeat is still unanswered at the next tick", func() {
		clock := realtime.NewManualClock(time.Unix(0, 0))
		start(realtime.WithClock(clock), realtime.WithReconnectAfter(func(int) time.Duration { return 0 }))
		ctx := specCtx()
		ch, _ := c.Channel("hb")
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())

		Eventually(clock.Pending, wait).Should(Equal(1))
		clock.Advance(realtime.DefaultHeartbeatInterval)
		Eventually(func() uint64 { return c.Stats().HeartbeatsAcknowledged }, wait).Should(Equal(uint64(1)))
		srv.SetWithholdHeartbeats(true)
		clock.Advance(realtime.DefaultHeartbeatInterval)

		Eventually(func() int { return len(framesFrom(srv, "heartbeat")) }, wait).Should(Equal(2))
		// The connection re-arms its heartbeat timer right after writing.
		Eventually(clock.Pending, wait).Should(Equal(1))
		clock.Advance(realtime.DefaultHeartbeatInterval)
		Eventually(func() int { return len(srv.Conns()) }, wait).Should(BeNumerically(">=", 2))
		Eventually(func() int { return len(joinsOf(srv, "realtime:hb")) }, wait).Should(BeNumerically(">=", 2))
		var timeout error
		Eventually(func() error {
			for _, ev := range rec.all() {
				if s, ok := ev.(realtime.ConnectionStateEvent); ok && s.Err != nil {
					timeout = s.Err
				}
			}
			return timeout
		}, wait).Should(MatchError(realtime.ErrHeartbeatTimeout))
		hb := framesFrom(srv, "heartbeat")
		Expect(hb[0].Topic).To(Equal("phoenix"))
		Expect(hb[0].JoinRef).To(BeEmpty())
		Expect(hb[0].Ref).NotTo(Equal(hb[1].Ref))
	})

	It("drops frames with a stale join_ref and counts them", func() {
		start(realtime.WithLogger(slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		ctx := specCtx()
		ch, _ := c.Channel("stale")
		Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		conn := srv.Conns()[0]
		Expect(conn.Push(frame.Frame{JoinRef: "999999", Topic: "realtime:stale", Event: "broadcast",
			Payload: []byte(`{"type":"broadcast","event":"old","payload":{}}`)})).To(Succeed())
		Expect(conn.Push(frame.Frame{Topic: "realtime:stale", Event: "broadcast",
			Payload: []byte(`{"type":"broadcast","event":"new","payload":{}}`)})).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{`new {}`}))
		Expect(c.Stats().StaleFrames).To(Equal(uint64(1)))
	})

	It("drops, counts and reports malformed frames and keeps the connection", func() {
		start()
		ctx := specCtx()
		ch, _ := c.Channel("mal")
		Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		conn := srv.Conns()[0]
		Expect(conn.SendRaw(false, []byte(`["1",`))).To(Succeed())
		Expect(conn.SendRaw(true, []byte{4, 200})).To(Succeed())
		Expect(conn.Push(frame.Frame{Topic: "realtime:mal", Event: "broadcast",
			Payload: []byte(`{"type":"broadcast","event":"ok","payload":{}}`)})).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{`ok {}`}))
		Expect(c.Stats().MalformedFrames).To(Equal(uint64(2)))
		errs := rec.errors()
		Expect(errs).To(HaveLen(2))
		for _, e := range errs {
			Expect(e).To(MatchError(realtime.ErrMalformedFrame))
		}
		Expect(srv.Conns()).To(HaveLen(1))
	})

	It("recovers a Handler panic, reports it and keeps delivering without restarting", func() {
		rec.hook = func(ev realtime.Event) {
			if b, ok := ev.(realtime.BroadcastEvent); ok && b.Event == "boom" {
				panic("handler bug")
			}
		}
		start()
		ctx := specCtx()
		ch, _ := c.Channel("panic", realtime.BroadcastSelf(true))
		Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Broadcast(ctx, ch, "boom", nil)).To(Succeed())
		Expect(c.Broadcast(ctx, ch, "after", nil)).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{`boom {}`, `after {}`}))
		var pe *realtime.HandlerPanicError
		Expect(rec.errors()).To(HaveLen(1))
		Expect(errors.As(rec.errors()[0], &pe)).To(BeTrue())
		Expect(pe.Value).To(Equal("handler bug"))
		Expect(joinsOf(srv, "realtime:panic")).To(HaveLen(1))
		Expect(c.Stats().HandlerPanics).To(Equal(uint64(1)))
	})

	It("unsubscribes with phx_leave, lists channels, and removes them", func() {
		start()
		ctx := specCtx()
		a, _ := c.Channel("a")
		b, _ := c.Channel("realtime:b")
		Expect(b.Name()).To(Equal("b"))
		for _, ch := range []*realtime.Channel{a, b} {
			_, err := c.Subscribe(ctx, ch)
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(c.ListChannels()).To(Equal([]realtime.ChannelInfo{
			{Name: "a", Topic: "realtime:a", State: realtime.ChannelJoined, Subscribed: true},
			{Name: "b", Topic: "realtime:b", State: realtime.ChannelJoined, Subscribed: true},
		}))
		Expect(c.Unsubscribe(ctx, a)).To(Succeed())
		Expect(c.ChannelState(a)).To(Equal(realtime.ChannelClosed))
		leaves := framesFrom(srv, "phx_leave")
		Expect(leaves).To(HaveLen(1))
		Expect(leaves[0].Topic).To(Equal("realtime:a"))
		status, err := c.Subscribe(ctx, a)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Equal(realtime.Subscribed))
		Expect(c.RemoveAllChannels(ctx)).To(Succeed())
		Expect(c.ListChannels()).To(BeEmpty())
		Expect(c.Subscribe(ctx, a)).Error().To(MatchError(realtime.ErrUnknownChannel))
	})

	It("fails the dial with the server's message and never leaks the API key", func() {
		start(realtime.WithReconnectAfter(func(int) time.Duration { return time.Hour }))
		c2, err := realtime.New(srv.URL(), "wrong-secret-key", realtime.WithHandler(rec), realtime.WithMaxReconnectAttempts(1))
		Expect(err).NotTo(HaveOccurred())
		defer func() { Expect(c2.Close(specCtx())).To(Succeed()) }()
		var ce *realtime.ConnectError
		Eventually(func() bool {
			for _, e := range rec.all() {
				if s, ok := e.(realtime.ConnectionStateEvent); ok && errors.As(s.Err, &ce) {
					return true
				}
			}
			return false
		}, wait).Should(BeTrue())
		Expect(ce.StatusCode).To(Equal(401))
		Expect(ce.Message).To(Equal("The token provided is not a valid JWT"))
		Expect(ce.Error()).NotTo(ContainSubstring("wrong-secret-key"))
		Expect(ce.URL).To(ContainSubstring("apikey=REDACTED"))
	})

	It("stops after the reconnect attempt limit and says so", func() {
		srv.Close()
		srv = nil
		var err error
		c, err = realtime.New("http://127.0.0.1:1", "k", realtime.WithHandler(rec), realtime.WithMaxReconnectAttempts(3),
			realtime.WithReconnectAfter(func(int) time.Duration { return 0 }))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error {
			for _, ev := range rec.all() {
				if s, ok := ev.(realtime.ConnectionStateEvent); ok && errors.Is(s.Err, realtime.ErrReconnectLimit) {
					return s.Err
				}
			}
			return nil
		}, wait).Should(MatchError(realtime.ErrDial))
		Expect(c.ConnectionState()).To(Equal(realtime.ConnClosed))
		Expect(c.Stats().ConnectionEpoch).To(Equal(uint64(3)))
	})

	It("Close is idempotent, ends the Handler context and leaves no goroutine", func() {
		var handlerCtx context.Context
		start(realtime.WithHandler(realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) { handlerCtx = ctx })))
		ch, _ := c.Channel("x")
		_, err := c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Close(specCtx())).To(Succeed())
		Expect(c.Close(specCtx())).To(Succeed())
		Expect(handlerCtx.Err()).To(MatchError(context.Canceled))
		_, err = c.Subscribe(specCtx(), ch)
		Expect(err).To(MatchError(realtime.ErrClosed))
	})
})
