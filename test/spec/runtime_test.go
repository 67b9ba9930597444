//go:build realtime_testhooks

package spec_test

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/registry"
	"github.com/supabase-go/realtime/supervisor"
	"github.com/supabase-go/realtime/test/realtimetest"
)

var _ = Describe("Runtime", func() {
	var (
		srv *realtimetest.Server
		rec *recorder
		c   *realtime.Client
	)

	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		rec = &recorder{}
		c = nil
	})

	AfterEach(func() {
		closeAndCheckLeaks(c, srv)
	})

	It("loses no channel and no buffered push when the registry restarts", func() {
		clock := realtime.NewManualClock(time.Unix(0, 0))
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec), realtime.WithClock(clock),
			realtime.WithReconnectAfter(func(int) time.Duration { return time.Minute }))
		Expect(err).NotTo(HaveOccurred())
		ctx := specCtx()
		joined, _ := c.Channel("joined", realtime.BroadcastSelf(true))
		Expect(c.On(joined, realtime.Broadcast{})).To(Succeed())
		_, err = c.Subscribe(ctx, joined)
		Expect(err).NotTo(HaveOccurred())

		rt := c.Runtime()
		rt.System().Root.Send(rt.RegistryPID(), &registry.Crash{Reason: "test"})
		Expect(c.Broadcast(ctx, joined, "after-restart", nil)).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{"after-restart {}"}))
		Expect(joinsOf(srv, "realtime:joined")).To(HaveLen(1), "the restarted registry kept the join")

		// Buffer while down, restart the registry, then reconnect: the
		// buffered push survives and is sent once.
		srv.Conns()[0].Close(1006, "")
		Eventually(func() realtime.ChannelState { return c.ChannelState(joined) }, wait).Should(Equal(realtime.ChannelErrored))
		Expect(c.Broadcast(ctx, joined, "buffered", nil)).To(Succeed())
		rt.System().Root.Send(rt.RegistryPID(), &registry.Crash{Reason: "test"})
		Eventually(func() int64 { return c.Stats().Buffered }, wait).Should(Equal(int64(1)))
		Eventually(clock.Pending, wait).Should(Equal(1))
		clock.Advance(time.Minute)
		Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{"after-restart {}", "buffered {}"}))
		Expect(joinsOf(srv, "realtime:joined")).To(HaveLen(2))
	})

	It("runs as a supervised child in the user's own actor tree", func() {
		var err error
		c, err = realtime.NewEmbedded(srv.URL(), "k", realtime.WithHandler(rec))
		Expect(err).NotTo(HaveOccurred())
		system := actors.NewSystem(nil)
		parent := actor.PropsFromFunc(func(ctx actor.Context) {
			if _, ok := ctx.Message().(*actor.Started); ok {
				ctx.Spawn(supervisor.Props(c.Runtime()))
			}
		})
		pid := system.Root.Spawn(parent)

		ctx := specCtx()
		// The child may not have started yet: the channel is kept until it
		// does, and Subscribe waits for it.
		ch, err := c.Channel("embedded", realtime.BroadcastSelf(true))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
		status, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Equal(realtime.Subscribed))
		Expect(c.Broadcast(ctx, ch, "hello", map[string]string{"from": "tree"})).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{`hello {"from":"tree"}`}))

		// Stopping the user's parent stops the whole realtime tree.
		Expect(system.Root.PoisonFuture(pid).Wait()).To(Succeed())
		Eventually(c.Runtime().Stopped(), wait).Should(BeClosed())
		Expect(c.Close(ctx)).To(Succeed())
		c = nil
	})
})
