package spec_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// processGoroutinesOfClients returns the live goroutines that belong to a client:
// its actors' mailboxes, the socket reader, the dial, timers and Handler
// calls. It leaves out the test server's goroutines (they end when the
// server closes the sockets) and protoactor-go's dead-letter throttle
// timer, of which there is at most one per process (it belongs to the
// shared actor system, not to a client, and ends within a second).
func processGoroutinesOfClients() []string {
	var out []string
	for _, g := range leakcheck.Goroutines() {
		if strings.Contains(g, "github.com/supabase-go/realtime/test/realtimetest.") ||
			strings.Contains(g, "protoactor-go/actor.NewDeadLetter.NewThrottle") {
			continue
		}
		out = append(out, g)
	}
	return out
}

// blocked reports whether goroutine stack g waits for something (a
// channel, a lock, the network, a timer) rather than being runnable. A
// goroutine's waiter is woken by the goroutine's last statement, so right
// after Close returns its goroutines may still be runnable, on their way
// out; none may be blocked.
func blocked(g string) bool {
	header, _, _ := strings.Cut(g, "\n")
	return !strings.Contains(header, "[runnable") && !strings.Contains(header, "[running")
}

var _ = Describe("Many clients in one process", func() {
	const n = 100

	var srv *realtimetest.Server

	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
	})

	AfterEach(func() {
		closeAndCheckLeaks(nil, srv)
	})

	It("runs 100 clients with the same name side by side, and each Close leaves nothing behind", func() {
		ctx := specCtx()
		clients := make([]*realtime.Client, n)
		channels := make([]*realtime.Channel, n)
		recs := make([]*recorder, n)
		DeferCleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			for _, c := range clients {
				if c != nil {
					Expect(c.Close(cctx)).To(Succeed())
				}
			}
		})
		for i := range clients {
			recs[i] = &recorder{}
			c, err := realtime.New(srv.URL(), "k", realtime.WithName("tenant"), realtime.WithHandler(recs[i]))
			Expect(err).NotTo(HaveOccurred())
			clients[i] = c
			ch, err := c.Channel(fmt.Sprintf("room-%d", i), realtime.BroadcastSelf(true))
			Expect(err).NotTo(HaveOccurred())
			Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
			Expect(c.Subscribe(ctx, ch)).To(Equal(realtime.Subscribed))
			channels[i] = ch
		}
		Expect(srv.Conns()).To(HaveLen(n), "one socket per client")

		// Each client gets its own broadcast, and only its own.
		for i, c := range clients {
			Expect(c.Broadcast(ctx, channels[i], "hello", map[string]int{"client": i})).To(Succeed())
		}
		for i, rec := range recs {
			Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{fmt.Sprintf(`hello {"client":%d}`, i)}))
		}

		// Closing the even clients stops their trees only: the odd ones
		// keep their sockets and channels.
		for i := 0; i < n; i += 2 {
			Expect(clients[i].Close(ctx)).To(Succeed())
			Expect(clients[i].ConnectionState()).To(Equal(realtime.ConnClosed))
		}
		for i := 1; i < n; i += 2 {
			Expect(clients[i].ConnectionState()).To(Equal(realtime.ConnOpen))
			Expect(clients[i].ChannelState(channels[i])).To(Equal(realtime.ChannelJoined))
			Expect(clients[i].Broadcast(ctx, channels[i], "again", nil)).To(Succeed())
		}
		for i := 1; i < n; i += 2 {
			Eventually(recs[i].broadcastPayloads, wait).Should(HaveLen(2))
		}

		// Close returns only once every goroutine of its client has
		// exited: right after the last Close, no goroutine of a client
		// waits for anything (some may still be returning from the
		// statement that woke Close), and soon none is left.
		for i := 1; i < n; i += 2 {
			Expect(clients[i].Close(ctx)).To(Succeed())
		}
		Expect(processGoroutinesOfClients()).NotTo(ContainElement(Satisfy(blocked)))
		Eventually(processGoroutinesOfClients, wait).Should(BeEmpty())
		for _, c := range clients {
			_, err := c.Channel("after-close")
			Expect(err).To(MatchError(realtime.ErrClosed))
		}

		// The names of closed clients are taken again by new ones, which
		// work as the first did.
		for i := range 10 {
			r := &recorder{}
			c, err := realtime.New(srv.URL(), "k", realtime.WithName("tenant"), realtime.WithHandler(r))
			Expect(err).NotTo(HaveOccurred())
			clients[i] = c
			ch, err := c.Channel(fmt.Sprintf("again-%d", i), realtime.BroadcastSelf(true))
			Expect(err).NotTo(HaveOccurred())
			Expect(c.On(ch, realtime.Broadcast{})).To(Succeed())
			Expect(c.Subscribe(ctx, ch)).To(Equal(realtime.Subscribed))
			Expect(c.Broadcast(ctx, ch, "reborn", nil)).To(Succeed())
			Eventually(r.broadcastPayloads, wait).Should(Equal([]string{"reborn {}"}))
		}
	})

	It("starts, joins and closes 50 clients from as many goroutines at once", func() {
		ctx := specCtx()
		const m = 50
		errs := make(chan error, m)
		for i := range m {
			go func() {
				defer GinkgoRecover()
				c, err := realtime.New(srv.URL(), "k", realtime.WithName("burst"))
				if err != nil {
					errs <- err
					return
				}
				ch, err := c.Channel(fmt.Sprintf("burst-%d", i))
				if err == nil {
					_, err = c.Subscribe(ctx, ch)
				}
				errs <- errors.Join(err, c.Close(ctx))
			}()
		}
		for range m {
			Expect(<-errs).NotTo(HaveOccurred())
		}
		Expect(processGoroutinesOfClients()).NotTo(ContainElement(Satisfy(blocked)))
		Eventually(processGoroutinesOfClients, wait).Should(BeEmpty())
	})
})
