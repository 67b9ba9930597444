package fleetrig_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/fleet"
	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/test/realtimetest"
)

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ours lists live goroutines running code of this repository (fleet, the
// client's packages): protoactor-go's cluster keeps some of its own after
// shutdown (the automanaged poller sleeps its refresh interval; see the
// fleet package doc), which are not the fleet's to stop.
func ours() []string {
	var out []string
	for _, g := range leakcheck.Goroutines() {
		if strings.Contains(g, "github.com/supabase-go/realtime/") {
			out = append(out, g)
		}
	}
	return out
}

var _ = Describe("A fleet member in this process", func() {
	It("runs its subscriptions, reports ownership, and leaves none of its goroutines after Close", func(ctx SpecContext) {
		srv, err := realtimetest.Listen(realtimetest.Options{})
		Expect(err).NotTo(HaveOccurred())
		defer srv.Close()

		var mu sync.Mutex
		got := map[string][]string{}
		var ownership []fleet.OwnershipEvent
		var subs []fleet.Subscription
		for i := 0; i < 3; i++ {
			id := fmt.Sprintf("room-%d", i)
			subs = append(subs, fleet.Subscription{
				ID: id,
				Setup: func(c *realtime.Client) ([]*realtime.Channel, error) {
					ch, err := c.Channel(id)
					if err != nil {
						return nil, err
					}
					return []*realtime.Channel{ch}, c.On(ch, realtime.Broadcast{Event: "*"})
				},
				Handler: realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) {
					if b, ok := ev.(realtime.BroadcastEvent); ok {
						mu.Lock()
						got[id] = append(got[id], string(b.Payload))
						mu.Unlock()
					}
				}),
			})
		}
		setupErr := errors.New("no such table")
		subs = append(subs, fleet.Subscription{
			ID:      "broken",
			Setup:   func(*realtime.Client) ([]*realtime.Channel, error) { return nil, setupErr },
			Handler: realtime.HandlerFunc(func(context.Context, realtime.Event) {}),
		})
		amPort := freePort()
		node, err := fleet.Start(ctx, fleet.Config{
			ProjectURL:     srv.URL(),
			APIKey:         "anon",
			Provider:       automanaged.NewWithConfig(200*time.Millisecond, amPort, fmt.Sprintf("127.0.0.1:%d", amPort)),
			Remote:         fleet.Remote("127.0.0.1", freePort()),
			EnsureInterval: 200 * time.Millisecond,
			Subscriptions:  subs,
			OnOwnership: func(ev fleet.OwnershipEvent) {
				mu.Lock()
				ownership = append(ownership, ev)
				mu.Unlock()
			},
		})
		Expect(err).NotTo(HaveOccurred())
		Eventually(node.Owned).WithTimeout(30 * time.Second).Should(Equal([]string{"room-0", "room-1", "room-2"}))
		// The failing Setup is reported, retried, and never owned.
		Eventually(func() int {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, ev := range ownership {
				var se *fleet.SetupError
				if ev.ID == "broken" && !ev.Acquired && errors.As(ev.Err, &se) && errors.Is(ev.Err, setupErr) {
					n++
				}
			}
			return n
		}).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 2))
		Expect(node.Owned()).NotTo(ContainElement("broken"))
		for i := 0; i < 3; i++ {
			Expect(node.Owner(fmt.Sprintf("room-%d", i))).To(Equal(node.Address()))
		}
		Expect(node.Owner("no-such-subscription")).To(BeEmpty())

		// A broadcast per room reaches that room's Handler; retried until
		// the join has completed on the server.
		Eventually(func(g Gomega) {
			for i := 0; i < 3; i++ {
				g.Expect(srv.Broadcast(fmt.Sprintf("room-%d", i), "note", map[string]int{"room": i})).To(Succeed())
			}
			mu.Lock()
			defer mu.Unlock()
			for i := 0; i < 3; i++ {
				g.Expect(got[fmt.Sprintf("room-%d", i)]).NotTo(BeEmpty())
				g.Expect(got[fmt.Sprintf("room-%d", i)][0]).To(Equal(fmt.Sprintf(`{"room":%d}`, i)))
			}
		}).WithTimeout(30 * time.Second).Should(Succeed())

		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		Expect(node.Close(cctx)).To(Succeed())
		Expect(node.Close(cctx)).To(Succeed()) // idempotent
		Expect(node.Owned()).To(BeEmpty())
		mu.Lock()
		acquired, released := 0, 0
		for _, ev := range ownership {
			Expect(ev.Member).To(Equal(node.Address()))
			if ev.ID == "broken" {
				Expect(ev.Acquired).To(BeFalse())
				continue
			}
			Expect(ev.Err).NotTo(HaveOccurred())
			if ev.Acquired {
				acquired++
				Expect(ev.MissedSince.IsZero()).To(BeTrue(), "first activation of %s", ev.ID)
			} else {
				released++
			}
		}
		mu.Unlock()
		Expect(acquired).To(Equal(3))
		Expect(released).To(Equal(3))
		srv.Close()
		Eventually(ours).WithTimeout(10 * time.Second).Should(BeEmpty())
	}, NodeTimeout(2*time.Minute))
})
