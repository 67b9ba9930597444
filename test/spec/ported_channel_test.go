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

// Channel and push behaviour ported from phoenix.js
// (assets/test/channel_test.js, socket_test.js) and realtime-js
// (packages/core/realtime-js/test/*.test.ts). Each spec names its sources;
// where this API differs from the JavaScript one, the spec says how.
// Timers (join, push and rejoin timeouts) run on a manual clock.
var _ = Describe("Channels and pushes (ported from phoenix.js and realtime-js)", func() {
	var (
		srv   *realtimetest.Server
		rec   *recorder
		c     *realtime.Client
		clock *realtime.ManualClock
	)
	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		rec = &recorder{}
		clock = realtime.NewManualClock(time.Unix(0, 0))
	})
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	start := func(opts ...realtime.Option) {
		var err error
		c, err = realtime.New(srv.URL(), "anon", append(fast(realtime.WithHandler(rec), realtime.WithClock(clock)), opts...)...)
		Expect(err).NotTo(HaveOccurred())
		Eventually(c.ConnectionState, wait).Should(Equal(realtime.ConnOpen))
	}
	channel := func(name string, opts ...realtime.ChannelOption) *realtime.Channel {
		ch, err := c.Channel(name, opts...)
		Expect(err).NotTo(HaveOccurred())
		return ch
	}
	subscribed := func(name string, opts ...realtime.ChannelOption) *realtime.Channel {
		ch := channel(name, opts...)
		Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
		status, err := c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Equal(realtime.Subscribed))
		return ch
	}
	state := func(ch *realtime.Channel) func() realtime.ChannelState {
		return func() realtime.ChannelState { return c.ChannelState(ch) }
	}
	serverJoinRef := func(topic string) string {
		for _, conn := range srv.ActiveConns() {
			for _, info := range conn.Channels() {
				if info.Topic == topic {
					return info.JoinRef
				}
			}
		}
		return ""
	}
	framesOn := func(event, topic string) []frame.Frame {
		var out []frame.Frame
		for _, f := range framesFrom(srv, event) {
			if f.Topic == topic {
				out = append(out, f)
			}
		}
		return out
	}
	// subscribeAsync starts a Subscribe and returns where its outcome
	// arrives.
	type outcome struct {
		Status realtime.SubscribeStatus
		Err    error
	}
	subscribeAsync := func(ch *realtime.Channel) <-chan outcome {
		out := make(chan outcome, 1)
		ctx := specCtx()
		go func() {
			s, err := c.Subscribe(ctx, ch)
			out <- outcome{s, err}
		}()
		return out
	}
	// gateJoins holds the answer to every join until the returned func is
	// called with the verdict.
	// It waits for the join to reach the hook first.
	gateJoins := func() func(realtimetest.JoinAction) {
		gate := make(chan realtimetest.JoinAction)
		arrived := make(chan struct{}, 1)
		srv.OnJoin(func(realtimetest.JoinRequest) realtimetest.JoinAction {
			arrived <- struct{}{}
			return <-gate
		})
		return func(a realtimetest.JoinAction) {
			Eventually(arrived, wait).Should(Receive())
			srv.OnJoin(nil)
			gate <- a
		}
	}

	Describe("join", func() {
		// channel_test.js "join › sets state to joining"; realtime-js
		// RealtimeChannel.lifecycle.test.ts "subscribe › sets state to
		// joining".
		It("is joining while the join is in flight, then joined on 'ok'", func() {
			start()
			release := gateJoins()
			ch := channel("topic")
			done := subscribeAsync(ch)
			Eventually(state(ch), wait).Should(Equal(realtime.ChannelJoining))
			Eventually(srv.Joins, wait).Should(HaveLen(1))
			// channel_test.js "joinPush › receives 'ok' › sets channel
			// state to joined"; realtime-js RealtimeChannel.push.test.ts
			// "joinPush › receives 'ok' › sets channel state to joined".
			release(realtimetest.Accept)
			Eventually(done, wait).Should(Receive(Equal(outcome{Status: realtime.Subscribed})))
			Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelJoined))
		})

		// channel_test.js "join › timeout behavior › succeeds before
		// timeout": the join timer is cleared by the reply.
		It("sends nothing more once joined before the timeout", func() {
			start()
			ch := subscribed("topic")
			clock.Advance(2 * realtime.DefaultTimeout)
			Consistently(func() int { return len(joinsOf(srv, ch.Topic())) }, 200*time.Millisecond).Should(Equal(1))
			Expect(framesOn("phx_leave", ch.Topic())).To(BeEmpty())
			Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelJoined))
		})

		// channel_test.js "join › timeout behavior › retries with backoff
		// after timeout" and "joinPush › receives 'timeout' › sets channel
		// state to errored", "› schedules rejoinTimer timeout";
		// realtime-js RealtimeChannel.push.test.ts "joinPush › receives
		// 'timeout' › sets channel state to errored".
		It("leaves the timed-out join, is errored, and rejoins with backoff until 'ok'", func() {
			start(realtime.WithTimeout(time.Second))
			n := 0
			srv.OnJoin(func(realtimetest.JoinRequest) realtimetest.JoinAction {
				n++
				if n <= 2 {
					return realtimetest.Ignore
				}
				return realtimetest.Accept
			})
			ch := channel("topic")
			done := subscribeAsync(ch)
			Eventually(srv.Joins, wait).Should(HaveLen(1))
			clock.Advance(time.Second)
			Eventually(done, wait).Should(Receive(HaveField("Status", realtime.TimedOut)))
			Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelErrored))
			// The half-made join is left on the server, with its join_ref.
			Eventually(func() []frame.Frame { return framesOn("phx_leave", ch.Topic()) }, wait).Should(HaveLen(1))
			Expect(framesOn("phx_leave", ch.Topic())[0].JoinRef).To(Equal(srv.Joins()[0].JoinRef))

			// Rejoin after the backoff; it times out again.
			clock.Advance(10 * time.Millisecond)
			Eventually(srv.Joins, wait).Should(HaveLen(2))
			clock.Advance(time.Second)
			Eventually(func() []frame.Frame { return framesOn("phx_leave", ch.Topic()) }, wait).Should(HaveLen(2))
			Eventually(rec.statuses("topic"), wait).Should(Equal([]realtime.SubscribeStatus{realtime.TimedOut, realtime.TimedOut}))

			clock.Advance(10 * time.Millisecond)
			Eventually(state(ch), wait).Should(Equal(realtime.ChannelJoined))
			Expect(srv.Joins()).To(HaveLen(3))
			Expect(srv.Joins()[2].JoinRef).NotTo(Equal(srv.Joins()[1].JoinRef), "each attempt has a join_ref of its own")
			Eventually(rec.statuses("topic"), wait).Should(Equal([]realtime.SubscribeStatus{realtime.TimedOut, realtime.TimedOut, realtime.Subscribed}))
		})

		// channel_test.js "joinPush › receives 'error' › does not set
		// channel state to joined", "› does not trigger channel's buffered
		// pushEvents"; realtime-js RealtimeChannel.push.test.ts "joinPush ›
		// receives 'error' › sets channel state to errored", "› triggers
		// receive('error') callback".
		It("is errored with the server's reason on 'error', and sends no buffered push", func() {
			start()
			release := gateJoins()
			ch := channel("topic")
			done := subscribeAsync(ch)
			Eventually(state(ch), wait).Should(Equal(realtime.ChannelJoining))
			Expect(c.Broadcast(specCtx(), ch, "event", map[string]string{"foo": "bar"})).To(Succeed())
			Expect(c.Stats().Buffered).To(Equal(int64(1)))
			release(realtimetest.Reject("boom"))
			var got outcome
			Eventually(done, wait).Should(Receive(&got))
			Expect(got.Status).To(Equal(realtime.ChannelError))
			var detail *realtime.ChannelErrorDetail
			Expect(errors.As(got.Err, &detail)).To(BeTrue(), "got %v", got.Err)
			Expect(detail.Reason).To(Equal("boom"))
			Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelErrored))
			Expect(framesOn("broadcast", ch.Topic())).To(BeEmpty())
		})

		// channel_test.js "join › leaves existing duplicate topic on new
		// join"; realtime-js RealtimeClient.channels.test.ts "does not
		// repeat channels to sockets channels list", "leaveOpenTopic ›
		// enforces client to subscribe to unique topics". Here a second
		// Channel for a topic is a handle on the same channel, so there
		// is never a duplicate to leave.
		It("has one channel per topic: a second Channel is the same channel", func() {
			start()
			first := subscribed("topic")
			second := channel("topic", realtime.Private(true))
			Expect(second.Topic()).To(Equal(first.Topic()))
			Expect(c.ListChannels()).To(HaveLen(1))
			Expect(c.ChannelState(second)).To(Equal(realtime.ChannelJoined))
			_, err := c.Subscribe(specCtx(), second)
			Expect(err).NotTo(HaveOccurred())
			Expect(joinsOf(srv, first.Topic())).To(HaveLen(1))
			Expect(framesOn("phx_leave", first.Topic())).To(BeEmpty())
		})

		// realtime-js RealtimeChannel.lifecycle.test.ts "subscribe › if
		// attempting to join multiple times, ignores calls".
		It("sends one join for concurrent and repeated Subscribe calls", func() {
			start()
			release := gateJoins()
			ch := channel("topic")
			a, b := subscribeAsync(ch), subscribeAsync(ch)
			Eventually(srv.Joins, wait).Should(HaveLen(1))
			release(realtimetest.Accept)
			Eventually(a, wait).Should(Receive(HaveField("Status", realtime.Subscribed)))
			Eventually(b, wait).Should(Receive(HaveField("Status", realtime.Subscribed)))
			_, err := c.Subscribe(specCtx(), ch)
			Expect(err).NotTo(HaveOccurred())
			Expect(joinsOf(srv, ch.Topic())).To(HaveLen(1))
		})

		// realtime-js RealtimeClient.channels.test.ts "allows to create
		// second channel with given topic after first one unsubscribed"
		// (here: removed; an unsubscribed channel is kept and reused).
		It("creates the topic anew, with new options, after RemoveChannel", func() {
			start()
			first := subscribed("topic")
			Expect(c.RemoveChannel(specCtx(), first)).To(Succeed())
			second := channel("topic", realtime.BroadcastSelf(true))
			Expect(c.ChannelState(second)).To(Equal(realtime.ChannelClosed))
			_, err := c.Subscribe(specCtx(), second)
			Expect(err).NotTo(HaveOccurred())
			joins := joinsOf(srv, "realtime:topic")
			Expect(joins).To(HaveLen(2))
			Expect(string(joins[1].Payload)).To(ContainSubstring(`"self":true`))
			Expect(string(joins[0].Payload)).NotTo(ContainSubstring(`"self":true`))
		})
	})

	Describe("push", func() {
		// channel_test.js "push › sends push event when successfully
		// joined"; realtime-js RealtimeChannel.push.test.ts "sends push
		// event when successfully joined".
		It("sends the push with the channel's topic and join_ref when joined", func() {
			start()
			ch := subscribed("topic")
			Expect(c.Send(specCtx(), ch, "event", map[string]string{"foo": "bar"})).To(Succeed())
			Eventually(func() []frame.Frame { return framesOn("event", ch.Topic()) }, wait).Should(HaveLen(1))
			f := framesOn("event", ch.Topic())[0]
			Expect(f.JoinRef).To(Equal(serverJoinRef(ch.Topic())))
			Expect(f.Ref).NotTo(BeEmpty())
			Expect(string(f.Payload)).To(MatchJSON(`{"foo":"bar"}`))
		})

		// channel_test.js "push › enqueues push event to be sent once join
		// has succeeded" and "joinPush › receives 'ok' › sends and empties
		// channel's buffered pushEvents"; realtime-js
		// RealtimeChannel.push.test.ts "enqueues push event to be sent once
		// join has succeeded".
		It("buffers a push made while joining and sends it right after 'ok'", func() {
			start()
			release := gateJoins()
			ch := channel("topic")
			done := subscribeAsync(ch)
			Eventually(state(ch), wait).Should(Equal(realtime.ChannelJoining))
			Expect(c.Broadcast(specCtx(), ch, "event", map[string]string{"foo": "bar"})).To(Succeed())
			Expect(c.Stats().Buffered).To(Equal(int64(1)))
			Expect(framesOn("broadcast", ch.Topic())).To(BeEmpty())
			release(realtimetest.Accept)
			Eventually(done, wait).Should(Receive())
			Eventually(func() []frame.Frame { return framesOn("broadcast", ch.Topic()) }, wait).Should(HaveLen(1))
			Expect(framesOn("broadcast", ch.Topic())[0].JoinRef).To(Equal(serverJoinRef(ch.Topic())))
			Expect(c.Stats().Buffered).To(BeZero())
		})

		// channel_test.js "push › does not push if channel join times
		// out". Adapted: the push is not sent on the timed-out join (a
		// late 'ok' for it is ignored); this API keeps it buffered for the
		// next successful join (Broadcast's documented contract), where
		// phoenix.js lets it time out.
		It("does not send a buffered push on a join that timed out, even on a late 'ok'", func() {
			start(realtime.WithTimeout(time.Second))
			srv.OnJoin(func(realtimetest.JoinRequest) realtimetest.JoinAction { return realtimetest.Ignore })
			ch := channel("topic")
			done := subscribeAsync(ch)
			Eventually(srv.Joins, wait).Should(HaveLen(1))
			Expect(c.Broadcast(specCtx(), ch, "event", nil)).To(Succeed())
			clock.Advance(time.Second)
			Eventually(done, wait).Should(Receive(HaveField("Status", realtime.TimedOut)))
			join := srv.Joins()[0]
			before := c.Stats().StaleFrames
			Expect(srv.Conn(join.ConnID).Push(frame.Frame{JoinRef: join.JoinRef, Ref: join.Ref, Topic: join.Topic,
				Event: "phx_reply", Payload: []byte(`{"status":"ok","response":{}}`)})).To(Succeed())
			Eventually(func() uint64 { return c.Stats().StaleFrames }, wait).Should(Equal(before + 1))
			Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelErrored))
			Expect(framesOn("broadcast", ch.Topic())).To(BeEmpty())
			Expect(c.Stats().Buffered).To(Equal(int64(1)))
		})

		// channel_test.js "push › does not time out after receiving 'ok'";
		// realtime-js RealtimeChannel.push.test.ts "does not time out
		// after receiving 'ok'".
		It("does not time out an acknowledged push after its 'ok'", func() {
			start()
			ch := subscribed("topic", realtime.BroadcastAck(true))
			ref, err := c.BroadcastWithAck(specCtx(), ch, "event", map[string]string{"foo": "bar"})
			Expect(err).NotTo(HaveOccurred())
			Eventually(func() []frame.Frame { return framesOn("broadcast", ch.Topic()) }, wait).Should(HaveLen(1))
			// The server's 'ok' arrives before the clock passes the
			// timeout: wait until the registry has handled it (a second,
			// later push is acknowledged after it on the same socket).
			ref2, err := c.BroadcastWithAck(specCtx(), ch, "event", nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.WaitForAck(specCtx(), ref2)).To(Succeed())
			clock.Advance(2 * realtime.DefaultTimeout)
			Expect(c.WaitForAck(specCtx(), ref)).To(Succeed())
		})

		// channel_test.js "push › uses channel timeout by default";
		// realtime-js RealtimeChannel.push.test.ts "uses channel timeout by
		// default".
		It("times an unanswered push out after the client's timeout, not before", func() {
			start(realtime.WithTimeout(time.Second))
			ch := subscribed("topic", realtime.BroadcastAck(true))
			srv.SetReplyDelay(time.Hour)
			ref, err := c.BroadcastWithAck(specCtx(), ch, "event", nil)
			Expect(err).NotTo(HaveOccurred())
			// Armed: heartbeat and the ack timeout.
			Eventually(clock.Pending, wait).Should(Equal(2))
			done := make(chan error, 1)
			ctx := specCtx()
			go func() { done <- c.WaitForAck(ctx, ref) }()
			clock.Advance(500 * time.Millisecond)
			Consistently(done, 100*time.Millisecond).ShouldNot(Receive(), "no outcome at half the timeout")
			clock.Advance(500 * time.Millisecond)
			Eventually(done, wait).Should(Receive(MatchError(realtime.ErrPushTimeout)))
		})

		// channel_test.js "canPush › returns true when socket connected and
		// channel joined", "› otherwise returns false"; realtime-js
		// RealtimeChannel.push.test.ts "canPush". Observable through the
		// HTTP fallback: only a pushable channel uses the socket.
		It("pushes on the socket only when connected and joined (else the HTTP fallback)", func() {
			start(realtime.WithHTTPFallback(true))
			ctx := specCtx()
			ch := channel("topic")
			Expect(c.Broadcast(ctx, ch, "a", nil)).To(Succeed())
			Expect(srv.HTTPRequests()).To(HaveLen(1))
			Expect(framesOn("broadcast", ch.Topic())).To(BeEmpty())
			_, err := c.Subscribe(ctx, ch)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Broadcast(ctx, ch, "b", nil)).To(Succeed())
			Eventually(func() []frame.Frame { return framesOn("broadcast", ch.Topic()) }, wait).Should(HaveLen(1))
			Expect(srv.HTTPRequests()).To(HaveLen(1))
			Expect(c.Unsubscribe(ctx, ch)).To(Succeed())
			Expect(c.Broadcast(ctx, ch, "c", nil)).To(Succeed())
			Expect(srv.HTTPRequests()).To(HaveLen(2))
		})
	})

	Describe("leave", func() {
		// channel_test.js "leave › unsubscribes from server events";
		// realtime-js RealtimeChannel.push.test.ts "leave › unsubscribes
		// from server events".
		It("sends phx_leave with {} and the channel's join_ref", func() {
			start()
			ch := subscribed("topic")
			joinRef := serverJoinRef(ch.Topic())
			Expect(c.Unsubscribe(specCtx(), ch)).To(Succeed())
			leaves := framesOn("phx_leave", ch.Topic())
			Expect(leaves).To(HaveLen(1))
			Expect(leaves[0].JoinRef).To(Equal(joinRef))
			Expect(string(leaves[0].Payload)).To(Equal("{}"))
		})

		// channel_test.js "leave › closes channel on 'ok' from server",
		// "› sets state to closed on 'ok' event"; realtime-js
		// RealtimeChannel.push.test.ts "closes channel on 'ok' from
		// server", "sets state to closed on 'ok' event";
		// RealtimeChannel.lifecycle.test.ts "unsubscribe › returns a
		// promise that resolves when server acknowledges leave".
		It("returns once the server acknowledged the leave, closed, other channels untouched", func() {
			start()
			ch := subscribed("topic")
			another := subscribed("another")
			srv.SetReplyDelay(50 * time.Millisecond)
			Expect(c.Unsubscribe(specCtx(), ch)).To(Succeed())
			Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelClosed))
			Expect(c.ChannelState(another)).To(Equal(realtime.ChannelJoined))
			Expect(srv.ActiveConns()[0].Joined()).To(Equal([]string{another.Topic()}))
		})

		// realtime-js RealtimeChannel.push.test.ts "leave › closes channel
		// on 'timeout'" (skipped in phoenix.js, whose leave closes at
		// once).
		It("closes the channel when the leave times out", func() {
			start(realtime.WithTimeout(time.Second))
			ch := subscribed("topic")
			srv.SetReplyDelay(time.Hour)
			done := make(chan error, 1)
			ctx := specCtx()
			go func() { done <- c.Unsubscribe(ctx, ch) }()
			Eventually(state(ch), wait).Should(Equal(realtime.ChannelLeaving))
			clock.Advance(time.Second)
			Eventually(done, wait).Should(Receive(BeNil()))
			Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelClosed))
		})

		// realtime-js RealtimeClient.channels.test.ts "removes channel from
		// phoenix-js socket", "removes all channels", "removes all channels
		// from phoenix-js socket".
		It("forgets removed channels, one or all", func() {
			start()
			one := subscribed("one")
			subscribed("two")
			subscribed("three")
			Expect(c.RemoveChannel(specCtx(), one)).To(Succeed())
			Expect(c.ListChannels()).To(HaveLen(2))
			Expect(c.RemoveAllChannels(specCtx())).To(Succeed())
			Expect(c.ListChannels()).To(BeEmpty())
			Expect(framesFrom(srv, "phx_leave")).To(HaveLen(3))
			Eventually(func() []string { return srv.ActiveConns()[0].Joined() }, wait).Should(BeEmpty())
		})
	})

	Describe("server errors and closes", func() {
		// channel_test.js "onError › sets state to 'errored'", "› triggers
		// additional callbacks after join"; the channel then rejoins.
		It("is errored on phx_error, reported to the Handler, and rejoins", func() {
			start()
			ch := subscribed("topic")
			Expect(srv.CrashChannel("topic")).To(Equal(1))
			Eventually(func() []realtime.ChannelState {
				var out []realtime.ChannelState
				for _, ev := range rec.all() {
					if s, ok := ev.(realtime.ChannelStatusEvent); ok && s.Channel == "topic" {
						out = append(out, s.State)
					}
				}
				return out
			}, wait).Should(ContainElement(realtime.ChannelErrored))
			clock.Advance(10 * time.Millisecond)
			Eventually(state(ch), wait).Should(Equal(realtime.ChannelJoined))
			Expect(joinsOf(srv, ch.Topic())).To(HaveLen(2))
		})

		// channel_test.js "onError › does not rejoin if channel closed",
		// "› does not rejoin if channel leaving"; socket_test.js
		// "onConnClose › does not trigger channel error after leave",
		// "› triggers channel error if joined".
		It("on a socket drop, errors and rejoins the joined channel, and leaves a closed one alone", func() {
			start()
			live := subscribed("live")
			left := subscribed("left")
			Expect(c.Unsubscribe(specCtx(), left)).To(Succeed())
			// The Handler hears of the close after Unsubscribe returns.
			Eventually(func() bool {
				for _, ev := range rec.all() {
					if s, ok := ev.(realtime.ChannelStatusEvent); ok && s.Channel == "left" && s.State == realtime.ChannelClosed {
						return true
					}
				}
				return false
			}, wait).Should(BeTrue())
			seen := len(rec.all())
			srv.CloseAll(1011, "crash")
			Eventually(func() int { return len(srv.Conns()) }, wait).Should(Equal(2))
			Eventually(state(live), wait).Should(Equal(realtime.ChannelJoined))
			Expect(joinsOf(srv, live.Topic())).To(HaveLen(2))
			Expect(joinsOf(srv, left.Topic())).To(HaveLen(1))
			Expect(c.ChannelState(left)).To(Equal(realtime.ChannelClosed))
			erroredLive := false
			for _, ev := range rec.all()[seen:] {
				if s, ok := ev.(realtime.ChannelStatusEvent); ok {
					Expect(s.Channel).NotTo(Equal("left"), "a left channel hears nothing of the drop: %#v", s)
					erroredLive = erroredLive || (s.Channel == "live" && s.State == realtime.ChannelErrored)
				}
			}
			Expect(erroredLive).To(BeTrue())
		})

		// channel_test.js "onClose › sets state to 'closed'", "› does not
		// rejoin", "› removes channel from socket" (here: the channel is
		// kept, closed, and receives nothing).
		It("is closed on phx_close, does not rejoin, and receives nothing more", func() {
			start()
			ch := subscribed("topic")
			ref := serverJoinRef(ch.Topic())
			Expect(srv.CloseChannel("topic")).To(Equal(1))
			Eventually(state(ch), wait).Should(Equal(realtime.ChannelClosed))
			Eventually(rec.statuses("topic"), wait).Should(Equal([]realtime.SubscribeStatus{realtime.Subscribed, realtime.Closed}))
			clock.Advance(time.Minute)
			Consistently(func() int { return len(joinsOf(srv, ch.Topic())) }, 200*time.Millisecond).Should(Equal(1))
			before := c.Stats().ClosedFrames
			Expect(srv.ActiveConns()[0].Push(frame.Frame{JoinRef: ref, Topic: ch.Topic(), Event: "broadcast",
				Payload: []byte(`{"type":"broadcast","event":"late","payload":{}}`)})).To(Succeed())
			Eventually(func() uint64 { return c.Stats().ClosedFrames }, wait).Should(Equal(before + 1))
			Expect(rec.broadcasts()).To(BeEmpty())
		})
	})

	Describe("routing", func() {
		// socket_test.js "onConnMessage › parses raw message and triggers
		// channel event"; channel_test.js isMember ("dropping outdated
		// message"): a frame whose join_ref is not the channel's is
		// dropped, one with the current join_ref or none is delivered.
		It("delivers frames of the current join and drops outdated ones", func() {
			start()
			ch := subscribed("topic")
			ref := serverJoinRef(ch.Topic())
			conn := srv.ActiveConns()[0]
			bc := func(joinRef, event string) frame.Frame {
				return frame.Frame{JoinRef: joinRef, Topic: ch.Topic(), Event: "broadcast",
					Payload: []byte(`{"type":"broadcast","event":"` + event + `","payload":{"one":"two"}}`)}
			}
			Expect(conn.Push(bc("outdated-ref", "stale"))).To(Succeed())
			Expect(conn.Push(bc(ref, "current"))).To(Succeed())
			Expect(conn.Push(bc("", "fastlane"))).To(Succeed())
			Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{`current {"one":"two"}`, `fastlane {"one":"two"}`}))
			Expect(c.Stats().StaleFrames).To(Equal(uint64(1)))
		})

		// realtime-js RealtimeChannel.messaging.test.ts "Broadcast event
		// filtering › should filter broadcast events by exact event name",
		// "› should handle wildcard broadcast events", "› should handle
		// multiple listeners for same event", "on › other event callbacks
		// are ignored".
		It("delivers a broadcast to the channel when a binding matches its event, once", func() {
			start()
			exact, err := c.Channel("exact")
			Expect(err).NotTo(HaveOccurred())
			Expect(c.On(exact, realtime.Broadcast{Event: "test"})).To(Succeed())
			Expect(c.On(exact, realtime.Broadcast{Event: "test"})).To(Succeed())
			_, err = c.Subscribe(specCtx(), exact)
			Expect(err).NotTo(HaveOccurred())
			wild, _ := c.Channel("wild")
			Expect(c.On(wild, realtime.Broadcast{Event: "*"})).To(Succeed())
			_, err = c.Subscribe(specCtx(), wild)
			Expect(err).NotTo(HaveOccurred())

			for _, topic := range []string{"exact", "wild"} {
				for _, ev := range []string{"other", "test", "TEST"} {
					Expect(srv.Broadcast(topic, ev, map[string]string{"to": topic})).To(Succeed())
				}
			}
			Eventually(func() []string {
				var out []string
				for _, b := range rec.broadcasts() {
					out = append(out, b.Channel+" "+b.Event)
				}
				return out
			}, wait).Should(Equal([]string{"exact test", "exact TEST", "wild other", "wild test", "wild TEST"}))
		})
	})

	// realtime-js RealtimeChannel.messaging.test.ts "System event
	// filtering › should handle system events".
	It("delivers server system messages as SystemEvent", func() {
		start()
		ch := subscribed("topic")
		Expect(srv.SendSystem("topic", "postgres_changes", "ok", "Subscribed to PostgreSQL")).To(Equal(1))
		Eventually(func() []realtime.SystemEvent {
			var out []realtime.SystemEvent
			for _, ev := range rec.all() {
				if s, ok := ev.(realtime.SystemEvent); ok {
					out = append(out, s)
				}
			}
			return out
		}, wait).Should(Equal([]realtime.SystemEvent{{Channel: "topic", Topic: ch.Topic(), Extension: "postgres_changes", Status: "ok", Message: "Subscribed to PostgreSQL"}}))
	})

})
