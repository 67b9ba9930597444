package spec_test

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

var _ = Describe("Handlers run off the registry", func() {
	var (
		srv *realtimetest.Server
		c   *realtime.Client
	)
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	It("keeps joins, acks and heartbeats going while a Handler is blocked", func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		release := make(chan struct{})
		var blocked atomic.Bool
		rec := &recorder{hook: func(ev realtime.Event) {
			if b, ok := ev.(realtime.BroadcastEvent); ok && b.Event == "slow" {
				blocked.Store(true)
				<-release
			}
		}}
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec),
			realtime.WithHeartbeatInterval(50*time.Millisecond))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			select {
			case <-release:
			default:
				close(release)
			}
		})
		ctx := specCtx()
		a, err := c.Channel("a", realtime.BroadcastSelf(true))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.On(a, realtime.Broadcast{Event: "*"})).To(Succeed())
		Expect(c.Subscribe(ctx, a)).To(Equal(realtime.Subscribed))
		Expect(c.Broadcast(ctx, a, "slow", map[string]int{"n": 1})).To(Succeed())
		Expect(c.Broadcast(ctx, a, "after", map[string]int{"n": 2})).To(Succeed())
		Eventually(blocked.Load, wait).Should(BeTrue())

		// The Handler is stuck; the client's bookkeeping is not.
		b, err := c.Channel("b", realtime.BroadcastAck(true))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Subscribe(ctx, b)).To(Equal(realtime.Subscribed))
		ref, err := c.BroadcastWithAck(ctx, b, "e", map[string]int{"n": 3})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.WaitForAck(ctx, ref)).To(Succeed())
		hb := c.Stats().HeartbeatsAcknowledged
		Eventually(func() uint64 { return c.Stats().HeartbeatsAcknowledged }, wait).Should(BeNumerically(">", hb))
		Eventually(func() int64 { return c.Stats().EventsQueued }, wait).Should(BeNumerically(">=", 1))
		Expect(c.ChannelState(b)).To(Equal(realtime.ChannelJoined))

		// Released, the Handler gets what waited, in order.
		close(release)
		Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{`slow {"n":1}`, `after {"n":2}`}))
		Eventually(func() int64 { return c.Stats().EventsQueued }, wait).Should(BeZero())
	})

	It("lets a Handler call the client (it runs on a goroutine of its own)", func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		var (
			echo    *realtime.Channel
			replied atomic.Int32
		)
		h := realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
			if b, ok := ev.(realtime.BroadcastEvent); ok && b.Event == "ping" {
				// A call that waits on the registry, made from the Handler.
				if err := c.Broadcast(ctx, echo, "pong", map[string]int{"n": 1}); err == nil {
					replied.Add(1)
				}
			}
		})
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(h))
		Expect(err).NotTo(HaveOccurred())
		echo, err = c.Channel("echo", realtime.BroadcastSelf(true))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.On(echo, realtime.Broadcast{Event: "ping"})).To(Succeed())
		ctx := specCtx()
		Expect(c.Subscribe(ctx, echo)).To(Equal(realtime.Subscribed))
		Expect(c.Broadcast(ctx, echo, "ping", map[string]int{})).To(Succeed())
		Eventually(replied.Load, wait).Should(Equal(int32(1)))
		Eventually(func() int { return len(framesFrom(srv, "broadcast")) }, wait).Should(Equal(2))
	})

	It("rejects a handler queue smaller than one at construction", func() {
		_, err := realtime.New("http://localhost:1", "k", realtime.WithHandlerQueue(0))
		Expect(errors.Is(err, realtime.ErrInvalidOption)).To(BeTrue())
	})
})
