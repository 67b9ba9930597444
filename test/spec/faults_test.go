package spec_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/supervisor"
	"github.com/supabase-go/realtime/test/faultproxy"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// The fault matrix of RELIABILITY.md: every fault a network or a server
// can produce, injected between a real client and the test server by
// test/faultproxy or by the server's fault hooks, with the outcome
// asserted — and that nothing the client accepted was lost or duplicated
// without a word.

// backoffRecorder wraps a reconnect policy and records every call, so a
// spec can assert that the tries follow the policy.
type backoffRecorder struct {
	policy func(int) time.Duration
	mu     sync.Mutex
	tries  []int
	delays []time.Duration
}

func recordBackoff(policy func(int) time.Duration) *backoffRecorder {
	return &backoffRecorder{policy: policy}
}

func (b *backoffRecorder) after(tries int) time.Duration {
	d := b.policy(tries)
	b.mu.Lock()
	b.tries = append(b.tries, tries)
	b.delays = append(b.delays, d)
	b.mu.Unlock()
	return d
}

func (b *backoffRecorder) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.tries)
}

func (b *backoffRecorder) snapshot() ([]int, []time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.tries...), append([]time.Duration(nil), b.delays...)
}

// constant returns a policy with the same delay for every try.
func constant(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

// closedEvents returns the ConnectionStateEvents that report a lost or
// failed connection.
func (r *recorder) closedEvents() []realtime.ConnectionStateEvent {
	var out []realtime.ConnectionStateEvent
	for _, ev := range r.all() {
		if s, ok := ev.(realtime.ConnectionStateEvent); ok && s.New == realtime.ConnClosed {
			out = append(out, s)
		}
	}
	return out
}

// connErr returns the error of the n-th (0-based) closed event, or nil.
func (r *recorder) connErr(n int) func() error {
	return func() error {
		evs := r.closedEvents()
		if len(evs) <= n {
			return nil
		}
		return evs[n].Err
	}
}

func (r *recorder) systemMessages(channel string) []string {
	var out []string
	for _, ev := range r.all() {
		if s, ok := ev.(realtime.SystemEvent); ok && s.Channel == channel {
			out = append(out, s.Message)
		}
	}
	return out
}

// seqs returns the "seq" of every broadcast the recorder got on channel,
// in delivery order.
func (r *recorder) seqs(channel string) []int {
	var out []int
	for _, b := range r.broadcasts() {
		if b.Channel != channel {
			continue
		}
		var p struct{ Seq int }
		Expect(json.Unmarshal(b.Payload, &p)).To(Succeed())
		out = append(out, p.Seq)
	}
	return out
}

// serverSeqs counts, per seq, the broadcast pushes the server received on
// topic, and returns them with their join_refs in arrival order.
func serverSeqs(s *realtimetest.Server, topic string) (map[int]int, []frame.Frame) {
	counts := map[int]int{}
	var frames []frame.Frame
	for _, f := range framesFrom(s, "broadcast") {
		if f.Topic != topic {
			continue
		}
		var p struct {
			Payload struct{ Seq int }
		}
		Expect(json.Unmarshal(f.Payload, &p)).To(Succeed())
		counts[p.Payload.Seq]++
		frames = append(frames, f)
	}
	return counts, frames
}

func seq(i int) map[string]int { return map[string]int{"seq": i} }

// clientGoroutines returns the goroutines of the client (and its
// libraries), leaving out the proxy's and the test server's.
func clientGoroutines() []string {
	var out []string
	for _, g := range leakcheck.Goroutines() {
		if !strings.Contains(g, "/test/faultproxy.") && !strings.Contains(g, "/test/realtimetest.") {
			out = append(out, g)
		}
	}
	return out
}

var _ = Describe("Fault matrix", func() {
	var (
		srv   *realtimetest.Server
		proxy *faultproxy.Proxy
		rec   *recorder
		c     *realtime.Client
	)

	// setup starts a server with opts and a proxy in front of it.
	setup := func(opts realtimetest.Options) {
		srv = realtimetest.NewServer(opts)
		var err error
		proxy, err = faultproxy.New(srv.Addr().String())
		Expect(err).NotTo(HaveOccurred())
	}
	// start connects the client through the proxy.
	start := func(opts ...realtime.Option) *realtime.Client {
		var err error
		c, err = realtime.New(proxy.URL(), "anon-key", append([]realtime.Option{realtime.WithHandler(rec)}, opts...)...)
		Expect(err).NotTo(HaveOccurred())
		return c
	}
	subscribe := func(name string, opts ...realtime.ChannelOption) *realtime.Channel {
		ch, err := c.Channel(name, opts...)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
		status, err := c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Equal(realtime.Subscribed))
		return ch
	}
	joined := func(ch *realtime.Channel) func() realtime.ChannelState {
		return func() realtime.ChannelState { return c.ChannelState(ch) }
	}

	BeforeEach(func() {
		srv, proxy, c = nil, nil, nil
		rec = &recorder{}
	})
	AfterEach(func() {
		if c != nil {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			Expect(c.Close(ctx)).To(Succeed())
		}
		if proxy != nil {
			proxy.Close()
		}
		if srv != nil {
			srv.Close()
		}
		Eventually(leakcheck.Goroutines, wait).Should(BeEmpty())
	})

	Describe("socket cut (TCP reset)", func() {
		It("while idle: reports the loss, rejoins every channel with new join_refs, then delivers exactly once", func() {
			setup(realtimetest.Options{})
			start(fast()...)
			a := subscribe("cut-a")
			b := subscribe("cut-b")
			Expect(proxy.Cut()).To(Equal(1))

			Eventually(rec.connErr(0), wait).Should(MatchError(realtime.ErrConnectionLost))
			var ce *realtime.CloseError
			Expect(errors.As(rec.connErr(0)(), &ce)).To(BeTrue())
			Eventually(joined(a), wait).Should(Equal(realtime.ChannelJoined))
			Eventually(joined(b), wait).Should(Equal(realtime.ChannelJoined))
			for _, topic := range []string{"realtime:cut-a", "realtime:cut-b"} {
				joins := joinsOf(srv, topic)
				Expect(joins).To(HaveLen(2))
				Expect(joins[1].JoinRef).NotTo(Equal(joins[0].JoinRef))
			}
			Eventually(func() []realtime.SubscribeStatus { return rec.statuses("cut-a") }, wait).Should(Equal([]realtime.SubscribeStatus{realtime.Subscribed, realtime.Subscribed}))
			Expect(proxy.Accepted()).To(Equal(2))

			for i := 0; i < 50; i++ {
				Expect(srv.Broadcast("cut-a", "m", seq(i))).To(Succeed())
			}
			want := make([]int, 50)
			for i := range want {
				want[i] = i
			}
			Eventually(func() []int { return rec.seqs("cut-a") }, wait).Should(Equal(want))
		})

		It("while 1,000 acknowledged broadcasts are in flight: each is acked exactly once or reported with an error, none duplicated", func() {
			setup(realtimetest.Options{})
			start(fast()...)
			ch := subscribe("flood", realtime.BroadcastAck(true), realtime.BroadcastSelf(true))

			// An observer on a socket that is not cut sees exactly what
			// the server fanned out.
			obsRec := &recorder{}
			obs, err := realtime.New(srv.URL(), "anon-key", realtime.WithHandler(obsRec))
			Expect(err).NotTo(HaveOccurred())
			defer func() { Expect(obs.Close(specCtx())).To(Succeed()) }()
			och, _ := obs.Channel("flood")
			Expect(obs.On(och, realtime.Broadcast{})).To(Succeed())
			_, err = obs.Subscribe(specCtx(), och)
			Expect(err).NotTo(HaveOccurred())

			const n = 1000
			ctx := specCtx()
			refs := map[int]realtime.AckRef{}
			refused := map[int]error{}
			for i := 0; i < n; i++ {
				if i == 300 {
					Expect(proxy.Cut()).To(Equal(1)) // acks of earlier pushes are still on their way
				}
				ref, err := c.BroadcastWithAck(ctx, ch, "m", seq(i))
				if err != nil {
					refused[i] = err
					continue
				}
				refs[i] = ref
			}
			acked, failed := map[int]bool{}, map[int]error{}
			for i, ref := range refs {
				if err := c.WaitForAck(ctx, ref); err != nil {
					failed[i] = err
				} else {
					acked[i] = true
				}
			}
			Expect(len(acked)+len(failed)+len(refused)).To(Equal(n), "every push has an outcome")
			for i, err := range refused {
				Expect(err).To(MatchError(realtime.ErrBufferFull), "push %d", i)
			}
			for i, err := range failed {
				Expect(errors.Is(err, realtime.ErrConnectionLost) || errors.Is(err, realtime.ErrPushTimeout)).To(BeTrue(), "push %d: %v", i, err)
			}
			Expect(acked).NotTo(BeEmpty())

			counts, _ := serverSeqs(srv, "realtime:flood")
			for i := 0; i < n; i++ {
				switch {
				case acked[i]:
					Expect(counts[i]).To(Equal(1), "acked push %d reached the server once", i)
				case refused[i] != nil:
					Expect(counts[i]).To(BeZero(), "refused push %d never sent", i)
				default:
					Expect(counts[i]).To(BeNumerically("<=", 1), "push %d reported lost was not duplicated", i)
				}
			}
			// The observer gets every broadcast the server received,
			// once, in order.
			var want []int
			for i := 0; i < n; i++ {
				if counts[i] == 1 {
					want = append(want, i)
				}
			}
			Eventually(func() []int { return obsRec.seqs("flood") }, wait).Should(Equal(want))
			// The sender's own copies (self): everything the server got
			// on the rejoined channel came back; copies in flight on the
			// cut socket may be gone; none is duplicated or reordered.
			var joins []frame.Frame // the sender's (the observer's has no ack)
			for _, j := range joinsOf(srv, "realtime:flood") {
				if strings.Contains(string(j.Payload), `"ack":true`) {
					joins = append(joins, j)
				}
			}
			Expect(joins).To(HaveLen(2))
			_, frames := serverSeqs(srv, "realtime:flood")
			var afterRejoin []int
			for _, f := range frames {
				if f.JoinRef == joins[1].JoinRef {
					var p struct{ Payload struct{ Seq int } }
					Expect(json.Unmarshal(f.Payload, &p)).To(Succeed())
					afterRejoin = append(afterRejoin, p.Payload.Seq)
				}
			}
			Expect(afterRejoin).NotTo(BeEmpty())
			Eventually(func() []int {
				got := map[int]bool{}
				for _, s := range rec.seqs("flood") {
					got[s] = true
				}
				var missing []int
				for _, s := range afterRejoin {
					if !got[s] {
						missing = append(missing, s)
					}
				}
				return missing
			}, wait).Should(BeEmpty())
			own := rec.seqs("flood")
			for k := 1; k < len(own); k++ {
				Expect(own[k]).To(BeNumerically(">", own[k-1]))
			}
			Expect(proxy.Cuts()).To(Equal(1))
			Expect(proxy.Accepted()).To(Equal(2))
		})
	})

	Describe("half-open socket (black hole)", func() {
		It("is detected by the heartbeat within 2 intervals and the client reconnects", func() {
			setup(realtimetest.Options{})
			const interval = 200 * time.Millisecond
			clock := realtime.NewManualClock(time.Unix(0, 0))
			start(realtime.WithClock(clock), realtime.WithHeartbeatInterval(interval),
				realtime.WithReconnectAfter(constant(0)))
			ch := subscribe("half")

			Eventually(clock.Pending, wait).Should(Equal(1)) // the heartbeat
			clock.Advance(interval)
			Eventually(func() uint64 { return c.Stats().HeartbeatsAcknowledged }, wait).Should(Equal(uint64(1)))
			Eventually(clock.Pending, wait).Should(Equal(1))

			proxy.Blackhole(true) // t0: nothing gets through, nothing is closed
			clock.Advance(interval)
			Eventually(func() uint64 { return c.Stats().HeartbeatsSent }, wait).Should(Equal(uint64(2)))
			Eventually(clock.Pending, wait).Should(Equal(1))
			Expect(c.ConnectionState()).To(Equal(realtime.ConnOpen), "one unanswered interval is not yet a timeout")
			Expect(rec.closedEvents()).To(BeEmpty())

			clock.Advance(interval) // t0 + 2 intervals: still unanswered
			Eventually(rec.connErr(0), wait).Should(MatchError(realtime.ErrHeartbeatTimeout))
			Expect(c.Stats().HeartbeatsAcknowledged).To(Equal(uint64(1)))

			// The network comes back: the reconnect (dialing into the
			// hole meanwhile) completes and the channel rejoins.
			proxy.Blackhole(false)
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelJoined))
			Eventually(func() int { return len(joinsOf(srv, "realtime:half")) }, wait).Should(Equal(2))
			Eventually(rec.connStates, wait).Should(ContainElements(realtime.ConnOpen, realtime.ConnClosed, realtime.ConnConnecting))
		})
	})

	Describe("degraded links", func() {
		// Heartbeats and ack timeouts run on an injected clock here, so a
		// loaded machine cannot turn the slow link into a false timeout;
		// the link itself is slowed in real time by the proxy.
		It("latency (200 ms each way): heartbeats are answered, broadcasts arrive in order, no reconnect", func() {
			setup(realtimetest.Options{})
			clock := realtime.NewManualClock(time.Unix(0, 0))
			start(realtime.WithClock(clock), realtime.WithHeartbeatInterval(time.Second))
			ch := subscribe("slowlink", realtime.BroadcastSelf(true))
			proxy.SetLatency(200 * time.Millisecond)
			for k := uint64(1); k <= 3; k++ {
				Eventually(clock.Pending, wait).Should(Equal(1)) // the heartbeat
				clock.Advance(time.Second)
				Eventually(func() uint64 { return c.Stats().HeartbeatsAcknowledged }, wait).Should(Equal(k))
			}
			ctx := specCtx()
			for i := 0; i < 10; i++ {
				Expect(c.Broadcast(ctx, ch, "m", seq(i))).To(Succeed())
			}
			Eventually(func() []int { return rec.seqs("slowlink") }, wait).Should(Equal([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}))
			Expect(rec.closedEvents()).To(BeEmpty())
			Expect(proxy.Accepted()).To(Equal(1))
		})

		It("throttled bandwidth (64 kB/s): a 100 kB burst of acknowledged broadcasts arrives complete, in order, once", func() {
			setup(realtimetest.Options{})
			clock := realtime.NewManualClock(time.Unix(0, 0))
			start(realtime.WithClock(clock))
			ch := subscribe("thin", realtime.BroadcastSelf(true), realtime.BroadcastAck(true))
			proxy.SetBandwidth(64 << 10)
			ctx, cancel := context.WithTimeout(context.Background(), 6*wait) // ~2 s of transfer each way, unloaded
			defer cancel()
			pad := strings.Repeat("x", 1000)
			var refs []realtime.AckRef
			for i := 0; i < 100; i++ {
				ref, err := c.BroadcastWithAck(ctx, ch, "m", map[string]any{"seq": i, "pad": pad})
				Expect(err).NotTo(HaveOccurred())
				refs = append(refs, ref)
			}
			for _, ref := range refs {
				Expect(c.WaitForAck(ctx, ref)).To(Succeed())
			}
			want := make([]int, 100)
			for i := range want {
				want[i] = i
			}
			Eventually(func() []int { return rec.seqs("thin") }, 6*wait).Should(Equal(want))
			counts, _ := serverSeqs(srv, "realtime:thin")
			Expect(counts).To(HaveLen(100))
			for i := 0; i < 100; i++ {
				Expect(counts[i]).To(Equal(1))
			}
			Expect(rec.closedEvents()).To(BeEmpty())
		})
	})

	Describe("server restart", func() {
		It("rejoins every channel and tracks presence again on the new server", func() {
			setup(realtimetest.Options{})
			start(realtime.WithReconnectAfter(constant(20*time.Millisecond)),
				realtime.WithRejoinAfter(constant(20*time.Millisecond)))
			chans := []*realtime.Channel{subscribe("rs-1"), subscribe("rs-2")}
			p, err := c.Channel("rs-presence", realtime.PresenceKey("alice"))
			Expect(err).NotTo(HaveOccurred())
			Expect(c.On(p, realtime.Presence{})).To(Succeed())
			_, err = c.Subscribe(specCtx(), p)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Track(specCtx(), p, map[string]string{"status": "online"})).To(Succeed())
			Eventually(func() string { return string(srv.Presence("rs-presence")) }, wait).Should(ContainSubstring(`"alice"`))

			addr := srv.Addr().String()
			srv.Close()
			Eventually(rec.connErr(0), wait).Should(HaveOccurred())
			var next *realtimetest.Server
			Eventually(func() error {
				var err error
				next, err = realtimetest.Listen(realtimetest.Options{Addr: addr})
				return err
			}, wait, 50*time.Millisecond).Should(Succeed())
			srv = next

			for _, ch := range append(chans, p) {
				Eventually(joined(ch), wait).Should(Equal(realtime.ChannelJoined))
			}
			for _, topic := range []string{"realtime:rs-1", "realtime:rs-2", "realtime:rs-presence"} {
				Expect(joinsOf(srv, topic)).To(HaveLen(1), topic)
			}
			Eventually(func() string { return string(srv.Presence("rs-presence")) }, wait).Should(
				And(ContainSubstring(`"alice"`), ContainSubstring(`"status":"online"`)))
			Eventually(func() []string {
				var keys []string
				for k := range c.PresenceState(p) {
					keys = append(keys, k)
				}
				return keys
			}, wait).Should(Equal([]string{"alice"}))
		})
	})

	Describe("refused reconnects", func() {
		It("for 30 s of (injected) clock time: the tries follow the default policy, then the client recovers and the count resets", func() {
			setup(realtimetest.Options{})
			clock := realtime.NewManualClock(time.Unix(0, 0))
			bo := recordBackoff(supervisor.DefaultBackoff)
			start(realtime.WithClock(clock), realtime.WithReconnectAfter(bo.after))
			ch := subscribe("refused")

			proxy.Refuse(true)
			Expect(proxy.Cut()).To(Equal(1))
			var refusedFor time.Duration
			attempts := 0
			for {
				// Attempt attempts+1 failed and its backoff timer is the
				// only one armed: no other dial can start (no storm).
				Eventually(bo.count, wait).Should(Equal(attempts + 1))
				Eventually(clock.Pending, wait).Should(Equal(1))
				Expect(c.Stats().ConnectionEpoch).To(Equal(uint64(attempts + 1)))
				_, delays := bo.snapshot()
				d := delays[attempts]
				attempts++
				if refusedFor+d >= 30*time.Second {
					proxy.Refuse(false)
					clock.Advance(d)
					break
				}
				clock.Advance(d)
				refusedFor += d
			}
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelJoined))
			_, delays := bo.snapshot()
			refusedFor += delays[len(delays)-1]
			Expect(refusedFor).To(BeNumerically(">=", 30*time.Second), "refused for 30 s of clock time")

			tries, delays := bo.snapshot()
			Expect(len(tries)).To(BeNumerically(">=", 5))
			caps := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second}
			for k, tr := range tries {
				Expect(tr).To(Equal(k+1), "tries are passed in order")
				want := caps[min(k, len(caps)-1)]
				Expect(delays[k]).To(BeNumerically("<=", want))
				Expect(delays[k]).To(BeNumerically(">=", want*8/10))
			}
			Eventually(func() int { return len(rec.closedEvents()) }, wait).Should(BeNumerically(">=", len(tries)))
			evs := rec.closedEvents()
			Expect(evs).To(HaveLen(len(tries)))
			for k, ev := range evs {
				Expect(ev.Attempt).To(Equal(k + 1))
				Expect(ev.RetryIn).To(Equal(delays[k]))
				if k == 0 {
					Expect(ev.Err).To(MatchError(realtime.ErrConnectionLost)) // the cut
				} else {
					var ce *realtime.ConnectError
					Expect(errors.As(ev.Err, &ce)).To(BeTrue(), "attempt %d: %v", k+1, ev.Err)
				}
			}
			Expect(proxy.Refused()).To(Equal(len(tries) - 1))

			// Once open, the next failure starts from try 1 again.
			Expect(proxy.Cut()).To(Equal(1))
			Eventually(bo.count, wait).Should(Equal(len(tries) + 1))
			tries, _ = bo.snapshot()
			Expect(tries[len(tries)-1]).To(Equal(1))
		})
	})

	Describe("server-side channel ends", func() {
		It("phx_error: CHANNEL_ERROR, rejoin, and pushes made meanwhile are delivered exactly once after the rejoin", func() {
			setup(realtimetest.Options{})
			clock := realtime.NewManualClock(time.Unix(0, 0))
			start(realtime.WithClock(clock), realtime.WithRejoinAfter(constant(time.Second)))
			ch := subscribe("crash", realtime.BroadcastSelf(true))
			Expect(srv.CrashChannel("realtime:crash")).To(Equal(1))
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelErrored))
			ctx := specCtx()
			for i := 0; i < 5; i++ {
				Expect(c.Broadcast(ctx, ch, "m", seq(i))).To(Succeed())
			}
			Expect(c.Stats().Buffered).To(Equal(int64(5)))
			Eventually(clock.Pending, wait).Should(Equal(2)) // heartbeat, rejoin
			clock.Advance(time.Second)
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelJoined))
			Eventually(func() []int { return rec.seqs("crash") }, wait).Should(Equal([]int{0, 1, 2, 3, 4}))
			counts, frames := serverSeqs(srv, "realtime:crash")
			Expect(counts).To(Equal(map[int]int{0: 1, 1: 1, 2: 1, 3: 1, 4: 1}))
			joins := joinsOf(srv, "realtime:crash")
			Expect(joins).To(HaveLen(2))
			for _, f := range frames {
				Expect(f.JoinRef).To(Equal(joins[1].JoinRef))
			}
			Eventually(func() []realtime.SubscribeStatus { return rec.statuses("crash") }, wait).Should(Equal([]realtime.SubscribeStatus{realtime.Subscribed, realtime.ChannelError, realtime.Subscribed}))
			var detail *realtime.ChannelErrorDetail
			var found bool
			for _, ev := range rec.all() {
				if s, ok := ev.(realtime.ChannelStatusEvent); ok && s.Status == realtime.ChannelError {
					found = errors.As(s.Err, &detail)
				}
			}
			Expect(found).To(BeTrue())
			Expect(detail.Reason).To(ContainSubstring("phx_error"))
		})

		It("phx_close: CLOSED, no rejoin even across a reconnect, and later pushes fail with ErrChannelClosed", func() {
			setup(realtimetest.Options{})
			start(fast()...)
			gone := subscribe("closed")
			kept := subscribe("kept")
			Expect(srv.CloseChannel("realtime:closed")).To(Equal(1))
			Eventually(func() []realtime.SubscribeStatus { return rec.statuses("closed") }, wait).Should(Equal(
				[]realtime.SubscribeStatus{realtime.Subscribed, realtime.Closed}))
			Expect(c.Broadcast(specCtx(), gone, "m", seq(1))).To(MatchError(realtime.ErrChannelClosed))
			Expect(proxy.Cut()).To(Equal(1))
			Eventually(func() int { return len(joinsOf(srv, "realtime:kept")) }, wait).Should(Equal(2))
			Eventually(joined(kept), wait).Should(Equal(realtime.ChannelJoined))
			Expect(joinsOf(srv, "realtime:closed")).To(HaveLen(1))
			Expect(c.ChannelState(gone)).To(Equal(realtime.ChannelClosed))
			counts, _ := serverSeqs(srv, "realtime:closed")
			Expect(counts).To(BeEmpty())
		})
	})

	Describe("server-initiated disconnects", func() {
		It(`"Server requested disconnect" then close 1012: reported verbatim, reconnects and rejoins`, func() {
			setup(realtimetest.Options{})
			start(fast()...)
			ch := subscribe("sysdc")
			srv.SystemDisconnect()
			Eventually(func() []string { return rec.systemMessages("sysdc") }, wait).Should(Equal([]string{"Server requested disconnect"}))
			Eventually(rec.connErr(0), wait).Should(HaveOccurred())
			var ce *realtime.CloseError
			Expect(errors.As(rec.connErr(0)(), &ce)).To(BeTrue())
			Expect(ce.Code).To(Equal(1012))
			Eventually(func() int { return len(joinsOf(srv, "realtime:sysdc")) }, wait).Should(Equal(2))
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelJoined))
		})

		It("join rate limit: the server's reason reaches the user, close 1001 is reported, and the client recovers", func() {
			setup(realtimetest.Options{})
			const reason = "ClientJoinRateLimitReached: Too many joins per second"
			var rejected atomic.Bool
			srv.OnJoin(func(j realtimetest.JoinRequest) realtimetest.JoinAction {
				if rejected.CompareAndSwap(false, true) {
					return realtimetest.Reject(reason)
				}
				return realtimetest.Accept
			})
			start(realtime.WithReconnectAfter(constant(20*time.Millisecond)), realtime.WithRejoinAfter(constant(time.Minute)))
			ch, _ := c.Channel("joinrate")
			status, err := c.Subscribe(specCtx(), ch)
			Expect(status).To(Equal(realtime.ChannelError))
			var detail *realtime.ChannelErrorDetail
			Expect(errors.As(err, &detail)).To(BeTrue())
			Expect(detail.Reason).To(Equal(reason))
			srv.CloseAll(1001, "") // the server closes the socket after this error
			Eventually(rec.connErr(0), wait).Should(HaveOccurred())
			var ce *realtime.CloseError
			Expect(errors.As(rec.connErr(0)(), &ce)).To(BeTrue())
			Expect(ce.Code).To(Equal(1001))
			// The reconnect rejoins at once (the one-minute rejoin
			// backoff is for a live socket).
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelJoined))
		})
	})

	Describe("join errors delayed 5 s, as the real server delays them", func() {
		It("are CHANNEL_ERROR with the server's reason under the default 10 s timeout, not TIMED_OUT", func() {
			setup(realtimetest.Options{JoinErrorDelay: 5 * time.Second})
			const reason = "UnableToConnectToProject: Realtime was unable to connect to the project database"
			var rejected atomic.Bool
			srv.OnJoin(func(j realtimetest.JoinRequest) realtimetest.JoinAction {
				if rejected.CompareAndSwap(false, true) {
					return realtimetest.Reject(reason)
				}
				return realtimetest.Accept
			})
			start(realtime.WithRejoinAfter(constant(10 * time.Millisecond))) // default timeout: 10 s
			ch, _ := c.Channel("delayed")
			ctx, cancel := context.WithTimeout(context.Background(), 3*wait)
			defer cancel()
			status, err := c.Subscribe(ctx, ch)
			Expect(status).To(Equal(realtime.ChannelError))
			Expect(err).NotTo(MatchError(realtime.ErrJoinTimeout))
			var detail *realtime.ChannelErrorDetail
			Expect(errors.As(err, &detail)).To(BeTrue())
			Expect(detail.Reason).To(Equal(reason))
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelJoined))
			Eventually(func() []realtime.SubscribeStatus { return rec.statuses("delayed") }, wait).Should(Equal([]realtime.SubscribeStatus{realtime.ChannelError, realtime.Subscribed}))
			Expect(framesFrom(srv, "phx_leave")).To(BeEmpty(), "no join timed out")
		})
	})

	Describe("server limits", func() {
		It("too many channels: CHANNEL_ERROR with the server's reason; the channels within the limit are joined", func() {
			setup(realtimetest.Options{MaxChannelsPerClient: 2})
			start(realtime.WithRejoinAfter(constant(time.Minute)))
			a := subscribe("lim-1")
			b := subscribe("lim-2")
			third, _ := c.Channel("lim-3")
			status, err := c.Subscribe(specCtx(), third)
			Expect(status).To(Equal(realtime.ChannelError))
			var detail *realtime.ChannelErrorDetail
			Expect(errors.As(err, &detail)).To(BeTrue())
			Expect(detail.Reason).To(Equal("ChannelRateLimitReached: Too many channels"))
			Expect(c.ChannelState(a)).To(Equal(realtime.ChannelJoined))
			Expect(c.ChannelState(b)).To(Equal(realtime.ChannelJoined))
			Expect(c.ChannelState(third)).To(Equal(realtime.ChannelErrored))
		})

		It(`events rate limit: "Too many messages per second" reaches the user, the channel is CLOSED, later pushes fail`, func() {
			setup(realtimetest.Options{MaxEventsPerSecond: 5})
			start()
			ch := subscribe("hot", realtime.BroadcastSelf(true))
			ctx := specCtx()
			for i := 0; i < 20; i++ {
				if err := c.Broadcast(ctx, ch, "m", seq(i)); err != nil {
					Expect(err).To(MatchError(realtime.ErrChannelClosed))
				}
			}
			Eventually(func() []string { return rec.systemMessages("hot") }, wait).Should(ContainElement("Too many messages per second"))
			Eventually(func() []realtime.SubscribeStatus { return rec.statuses("hot") }, wait).Should(Equal(
				[]realtime.SubscribeStatus{realtime.Subscribed, realtime.Closed}))
			Expect(c.Broadcast(ctx, ch, "m", seq(99))).To(MatchError(realtime.ErrChannelClosed))
		})
	})

	Describe("token expiry while connected", func() {
		It("with a callback: the expiry is reported as an AuthError, a fresh token is fetched and the channel rejoins once", func() {
			const secret = "fault-matrix-secret-at-least-32-bytes!"
			var serverNow atomic.Int64
			serverNow.Store(time.Now().Unix())
			now := func() time.Time { return time.Unix(serverNow.Load(), 0) }
			setup(realtimetest.Options{JWTSecret: secret, Now: now})
			var calls atomic.Int32
			token := func(context.Context) (string, error) {
				calls.Add(1)
				return realtimetest.SignJWT(secret, map[string]any{"role": "authenticated", "exp": now().Add(time.Hour).Unix()}), nil
			}
			apiKey, _ := token(context.Background())
			var err error
			c, err = realtime.New(proxy.URL(), apiKey, realtime.WithHandler(rec), realtime.WithAccessToken(token))
			Expect(err).NotTo(HaveOccurred())
			ch := subscribe("tok")
			before := calls.Load()

			serverNow.Add(2 * 3600) // the channel token is now an hour past exp
			Expect(srv.CheckTokens()).To(Equal(1))
			Eventually(func() []string { return rec.systemMessages("tok") }, wait).Should(ContainElement(HavePrefix("Token has expired")))
			Eventually(func() int { return len(joinsOf(srv, "realtime:tok")) }, wait).Should(Equal(2))
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelJoined))
			Expect(calls.Load()).To(BeNumerically(">", before))
			var ae *realtime.AuthError
			Eventually(func() bool {
				for _, e := range rec.errors() {
					if errors.As(e, &ae) {
						return true
					}
				}
				return false
			}, wait).Should(BeTrue())
			Expect(ae.Reason).To(HavePrefix("Token has expired"))
			for _, j := range srv.Joins() {
				Expect(ae.Error()).NotTo(ContainSubstring(j.AccessToken), "no token in errors")
			}
		})
	})

	Describe("unreachable servers", func() {
		dialFailures := func(clock *realtime.ManualClock, bo *backoffRecorder, rounds int) []realtime.ConnectionStateEvent {
			for k := 0; k < rounds; k++ {
				Eventually(bo.count, 2*wait).Should(Equal(k + 1))
				Eventually(clock.Pending, wait).Should(Equal(1), "only the backoff timer")
				Expect(c.Stats().ConnectionEpoch).To(Equal(uint64(k+1)), "one dial per try: no retry storm")
				_, delays := bo.snapshot()
				clock.Advance(delays[k])
			}
			Eventually(bo.count, 2*wait).Should(Equal(rounds + 1))
			tries, delays := bo.snapshot()
			Expect(tries[:rounds+1]).To(Equal([]int{1, 2, 3, 4}[:rounds+1]))
			for _, d := range delays {
				Expect(d).To(BeNumerically(">", 0))
				Expect(d).To(BeNumerically("<=", supervisor.BackoffCap))
			}
			// The failure reaches the Handler after the policy was asked.
			Eventually(func() int { return len(rec.closedEvents()) }, wait).Should(BeNumerically(">=", rounds+1))
			return rec.closedEvents()
		}

		// expectConnectErrors checks the four dial failures: each a
		// ConnectError that says what went wrong, with no HTTP status (the
		// dial never got an answer) and without the API key.
		expectConnectErrors := func(evs []realtime.ConnectionStateEvent, says string) {
			Expect(evs).To(HaveLen(4))
			for _, ev := range evs {
				var ce *realtime.ConnectError
				Expect(errors.As(ev.Err, &ce)).To(BeTrue(), "%v", ev.Err)
				Expect(ce.Error()).To(ContainSubstring(says))
				Expect(ce.Error()).NotTo(ContainSubstring("secret-api-key"))
				Expect(ce.StatusCode).To(BeZero())
			}
		}

		It("DNS failure: a ConnectError naming the host, and dials follow the backoff", func() {
			clock := realtime.NewManualClock(time.Unix(0, 0))
			bo := recordBackoff(supervisor.DefaultBackoff)
			var err error
			c, err = realtime.New("http://nonexistent.invalid", "secret-api-key", realtime.WithHandler(rec),
				realtime.WithClock(clock), realtime.WithReconnectAfter(bo.after), realtime.WithTimeout(3*time.Second))
			Expect(err).NotTo(HaveOccurred())
			expectConnectErrors(dialFailures(clock, bo, 3), "nonexistent.invalid")
		})

		It("TLS failure (self-signed certificate): a ConnectError saying so, and dials follow the backoff", func() {
			ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusTeapot)
			}))
			ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are the point
			ts.StartTLS()
			defer ts.Close()
			clock := realtime.NewManualClock(time.Unix(0, 0))
			bo := recordBackoff(supervisor.DefaultBackoff)
			var err error
			c, err = realtime.New(ts.URL, "secret-api-key", realtime.WithHandler(rec),
				realtime.WithClock(clock), realtime.WithReconnectAfter(bo.after))
			Expect(err).NotTo(HaveOccurred())
			expectConnectErrors(dialFailures(clock, bo, 3), "certificate")
		})
	})

	Describe("Close while reconnecting", func() {
		It("returns during refused reconnects, with no leak and no panic", func() {
			setup(realtimetest.Options{})
			bo := recordBackoff(constant(20 * time.Millisecond))
			start(realtime.WithReconnectAfter(bo.after))
			subscribe("closing")
			proxy.Refuse(true)
			proxy.Cut()
			Eventually(bo.count, wait).Should(BeNumerically(">=", 3))
			Expect(c.Close(specCtx())).To(Succeed())
			c = nil // AfterEach checks the leaks
		})

		It("returns while a dial hangs in a black hole, long before the dial would time out", func() {
			setup(realtimetest.Options{})
			start(realtime.WithReconnectAfter(constant(0)), realtime.WithTimeout(time.Minute))
			subscribe("closing")
			proxy.Blackhole(true)
			proxy.Cut()
			Eventually(func() int { return proxy.Active() }, wait).Should(Equal(1)) // the new dial, held
			Eventually(c.ConnectionState, wait).Should(Equal(realtime.ConnConnecting))
			Expect(c.Close(specCtx())).To(Succeed()) // bounded by wait (10 s), far below the 1 min dial timeout
			c = nil
			// Nothing of the client is left while the proxy still holds
			// the half-made connection open (the dial was interrupted,
			// not left to time out).
			Eventually(clientGoroutines, wait).Should(BeEmpty())
		})

		It("returns while a long backoff timer is pending", func() {
			setup(realtimetest.Options{})
			start(realtime.WithReconnectAfter(constant(time.Hour)))
			subscribe("closing")
			proxy.Cut()
			Eventually(rec.connErr(0), wait).Should(HaveOccurred())
			Expect(c.Close(specCtx())).To(Succeed())
			c = nil
		})
	})

	Describe("pushes made while disconnected", func() {
		It("are sent exactly once after the rejoin, or refused with an error (buffer full, ctx expired, ack timeout) and never sent", func() {
			setup(realtimetest.Options{})
			clock := realtime.NewManualClock(time.Unix(0, 0))
			start(realtime.WithClock(clock), realtime.WithReconnectAfter(constant(time.Minute)),
				realtime.WithSendBufferSize(5), realtime.WithTimeout(5*time.Second))
			ch := subscribe("offline", realtime.BroadcastAck(true))
			proxy.Refuse(true)
			Expect(proxy.Cut()).To(Equal(1))
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelErrored))
			ctx := specCtx()

			// T0 = the cut; the reconnect is due at T0 + 1 min.
			// An acknowledged push whose timeout (5 s) passes while it
			// waits is reported and dropped from the buffer.
			timedOut, err := c.BroadcastWithAck(ctx, ch, "m", seq(100))
			Expect(err).NotTo(HaveOccurred())
			Eventually(clock.Pending, wait).Should(Equal(2)) // reconnect backoff, ack timeout
			clock.Advance(5 * time.Second)
			Expect(c.WaitForAck(ctx, timedOut)).To(MatchError(realtime.ErrPushTimeout))
			Expect(c.Stats().Buffered).To(BeZero())
			clock.Advance(51 * time.Second) // T0 + 56 s: pushes made now time out at T0 + 61 s

			// A caller whose ctx already ended gets its error; nothing is
			// buffered.
			expired, cancel := context.WithCancel(context.Background())
			cancel()
			Expect(c.Broadcast(expired, ch, "m", seq(101))).To(MatchError(context.Canceled))

			// Five fit in the buffer, the sixth is refused.
			var refs []realtime.AckRef
			for i := 0; i < 5; i++ {
				ref, err := c.BroadcastWithAck(ctx, ch, "m", seq(i))
				Expect(err).NotTo(HaveOccurred())
				refs = append(refs, ref)
			}
			_, err = c.BroadcastWithAck(ctx, ch, "m", seq(102))
			Expect(err).To(MatchError(realtime.ErrBufferFull))
			Expect(c.Stats().Buffered).To(Equal(int64(5)))

			// The server accepts again; the reconnect (T0 + 60 s) comes
			// before the acks' timeouts (T0 + 61 s).
			proxy.Refuse(false)
			clock.Advance(4 * time.Second)
			Eventually(joined(ch), wait).Should(Equal(realtime.ChannelJoined))
			for _, ref := range refs {
				Expect(c.WaitForAck(ctx, ref)).To(Succeed())
			}
			counts, frames := serverSeqs(srv, "realtime:offline")
			Expect(counts).To(Equal(map[int]int{0: 1, 1: 1, 2: 1, 3: 1, 4: 1}), "each once, none of the refused")
			joins := joinsOf(srv, "realtime:offline")
			for k, f := range frames {
				Expect(f.JoinRef).To(Equal(joins[len(joins)-1].JoinRef))
				Expect(string(f.Payload)).To(ContainSubstring(fmt.Sprintf(`"seq":%d`, k)), "in order")
			}
		})
	})

	Describe("a caller whose ctx ends while its push waits for the registry", func() {
		It("gets the ctx error and the push is never sent; a push that returned nil is sent once", func() {
			setup(realtimetest.Options{})
			gate := make(chan struct{})
			var blocked atomic.Bool
			h := realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
				rec.HandleEvent(ctx, ev)
				if b, ok := ev.(realtime.BroadcastEvent); ok && b.Event == "block" {
					blocked.Store(true)
					<-gate // keeps the registry busy while the Handler runs on it
				}
			})
			var err error
			c, err = realtime.New(proxy.URL(), "anon-key", realtime.WithHandler(h))
			Expect(err).NotTo(HaveOccurred())
			ch := subscribe("ctxpush", realtime.BroadcastSelf(true))
			released := false
			defer func() {
				if !released {
					close(gate)
				}
			}()
			Expect(c.Broadcast(specCtx(), ch, "block", nil)).To(Succeed())
			Eventually(blocked.Load, wait).Should(BeTrue())

			short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err = c.Broadcast(short, ch, "m", seq(1))
			close(gate)
			released = true
			Expect(c.Broadcast(specCtx(), ch, "marker", seq(2))).To(Succeed())
			Eventually(func() []string { return rec.broadcastPayloads() }, wait).Should(ContainElement(`marker {"seq":2}`))
			counts, _ := serverSeqs(srv, "realtime:ctxpush")
			if err != nil {
				Expect(err).To(MatchError(context.DeadlineExceeded))
				Expect(counts[1]).To(BeZero(), "a push reported as failed to its caller was sent")
			} else {
				// The registry was not busy after all (Handlers dispatched
				// off the registry): the push was accepted.
				Expect(counts[1]).To(Equal(1))
			}
			Expect(counts[2]).To(Equal(1))
		})
	})

	// Handlers run on the Dispatcher, off the registry actor.
	Describe("a slow Handler (1 s per event)", func() {
		It("stalls neither heartbeats nor another channel's Subscribe and state", func() {
			setup(realtimetest.Options{})
			var busy atomic.Bool
			var handled atomic.Int32
			slow := realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
				rec.HandleEvent(ctx, ev)
				if b, ok := ev.(realtime.BroadcastEvent); ok && b.Channel == "slow-a" {
					busy.Store(true)
					time.Sleep(time.Second)
					handled.Add(1)
					busy.Store(false)
				}
			})
			var err error
			c, err = realtime.New(proxy.URL(), "anon-key", realtime.WithHandler(slow),
				realtime.WithHeartbeatInterval(100*time.Millisecond))
			Expect(err).NotTo(HaveOccurred())
			a := subscribe("slow-a", realtime.BroadcastSelf(true))
			b, _ := c.Channel("slow-b")
			ctx := specCtx()
			const events = 8
			for i := 0; i < events; i++ {
				Expect(c.Broadcast(ctx, a, "m", seq(i))).To(Succeed())
			}
			Eventually(busy.Load, wait).Should(BeTrue())

			hb := c.Stats().HeartbeatsAcknowledged
			Eventually(func() uint64 { return c.Stats().HeartbeatsAcknowledged }, wait).Should(BeNumerically(">=", hb+3))
			Expect(handled.Load()).To(BeNumerically("<", events), "heartbeats were answered while the Handler was busy")

			status, err := c.Subscribe(ctx, b)
			Expect(err).NotTo(HaveOccurred())
			Expect(status).To(Equal(realtime.Subscribed))
			Expect(handled.Load()).To(BeNumerically("<", events), "B's Subscribe completed while A's Handler was still busy")
			Expect(c.ChannelState(b)).To(Equal(realtime.ChannelJoined))
		})
	})
})
