package spec_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

var _ = Describe("WaitForAck after an earlier call gave up", func() {
	It("leaves the result to the next WaitForAck of the same ref", func() {
		srv := realtimetest.NewServer(realtimetest.Options{})
		c, err := realtime.New(srv.URL(), "anon-key", fast()...)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { closeAndCheckLeaks(c, srv) })
		ctx := specCtx()
		ch, err := c.Channel("acks", realtime.BroadcastAck(true))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Subscribe(ctx, ch)).To(Equal(realtime.Subscribed))

		srv.SetReplyDelay(300 * time.Millisecond)
		ref, err := c.BroadcastWithAck(ctx, ch, "e", map[string]int{"n": 1})
		Expect(err).NotTo(HaveOccurred())
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		Expect(c.WaitForAck(short, ref)).To(MatchError(context.DeadlineExceeded))
		// A later push's ack comes after ref's on the same socket: once it
		// is in, ref's answer has been handled too.
		ref2, err := c.BroadcastWithAck(ctx, ch, "e", map[string]int{"n": 2})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.WaitForAck(ctx, ref2)).To(Succeed())
		// The abandoned call must not have swallowed ref's answer.
		Expect(c.WaitForAck(ctx, ref)).To(Succeed())
	})
})
