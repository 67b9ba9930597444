package spec_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// Data frames of a joined channel go from the socket reader to the
// Handlers by a routing table (registry.Routes); everything else goes
// through the registry actor. These specs hold the two paths to one order
// and one stale-frame rule.
var _ = Describe("Routing data frames past the registry", func() {
	var (
		srv *realtimetest.Server
		c   *realtime.Client
		rec *recorder
	)
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	subscribed := func(opts ...realtime.Option) (*realtime.Channel, realtimetest.JoinRequest, *realtimetest.Conn) {
		srv = realtimetest.NewServer(realtimetest.Options{})
		rec = &recorder{}
		var err error
		c, err = realtime.New(srv.URL(), "k", fast(append([]realtime.Option{realtime.WithHandler(rec)}, opts...)...)...)
		Expect(err).NotTo(HaveOccurred())
		ch := subscribeAll(c, "room1")
		joins := srv.Joins()
		join := joins[len(joins)-1]
		return ch, join, srv.Conn(join.ConnID)
	}

	bcast := func(topic, joinRef, event string, payload any) frame.Frame {
		p, _ := json.Marshal(map[string]any{"type": "broadcast", "event": event, "payload": payload})
		return frame.Frame{JoinRef: joinRef, Topic: topic, Event: "broadcast", Payload: p}
	}

	// Broadcasts take the routing table, system messages the registry:
	// the Handler must still see them in the server's order. A broadcast
	// that overtook the system message before it fails this.
	It("keeps a channel's order when its frames alternate between the two paths", func() {
		ch, join, conn := subscribed()
		const n = 3000
		for i := 0; i < n; i++ {
			var f frame.Frame
			if i%5 == 0 || i%7 == 0 {
				f = systemFrame(ch.Topic(), join.JoinRef, "postgres_changes", "ok", strconv.Itoa(i))
			} else {
				f = bcast(ch.Topic(), "", "seq", map[string]int{"n": i})
			}
			Expect(conn.Push(f)).To(Succeed())
		}
		seq := func() []int {
			var out []int
			for _, ev := range rec.all() {
				switch e := ev.(type) {
				case realtime.BroadcastEvent:
					var p struct{ N int }
					Expect(json.Unmarshal(e.Payload, &p)).To(Succeed())
					out = append(out, p.N)
				case realtime.SystemEvent:
					k, err := strconv.Atoi(e.Message)
					Expect(err).NotTo(HaveOccurred())
					out = append(out, k)
				}
			}
			return out
		}
		Eventually(func() int { return len(seq()) }, wait).Should(Equal(n))
		got := seq()
		for i := range got {
			Expect(got[i]).To(Equal(i), "event %d of %d", i, n)
		}
	})

	It("drops broadcasts of another join_ref and delivers the channel's own and fastlane ones", func() {
		ch, join, conn := subscribed()
		before := c.Stats().StaleFrames
		Expect(conn.Push(bcast(ch.Topic(), "stale-ref", "e", map[string]int{"n": 0}))).To(Succeed())
		Expect(conn.Push(bcast(ch.Topic(), join.JoinRef, "e", map[string]int{"n": 1}))).To(Succeed())
		Expect(conn.Push(bcast(ch.Topic(), "", "e", map[string]int{"n": 2}))).To(Succeed())
		Expect(conn.Push(bcast(ch.Topic(), "stale-ref", "e", map[string]int{"n": 3}))).To(Succeed())
		Expect(conn.Push(bcast(ch.Topic(), join.JoinRef, "e", map[string]int{"n": 4}))).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(Equal([]string{`e {"n":1}`, `e {"n":2}`, `e {"n":4}`}))
		Expect(c.Stats().StaleFrames).To(Equal(before + 2))
	})

	It("delivers nothing to a channel after it is unsubscribed, though the server keeps sending", func() {
		ch, join, conn := subscribed()
		Expect(conn.Push(bcast(ch.Topic(), join.JoinRef, "e", map[string]int{"n": 1}))).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(HaveLen(1))
		Expect(c.Unsubscribe(specCtx(), ch)).To(Succeed())
		before := c.Stats().ClosedFrames
		Expect(conn.Push(bcast(ch.Topic(), join.JoinRef, "e", map[string]int{"n": 2}))).To(Succeed())
		Eventually(func() uint64 { return c.Stats().ClosedFrames }, wait).Should(Equal(before + 1))
		Expect(rec.broadcastPayloads()).To(Equal([]string{`e {"n":1}`}))
	})

	// The server streams broadcasts stamped with the join_ref of the
	// channel's latest join while the channel is errored and rejoined
	// over and over. The rule of the registry must hold on both paths:
	// once a rejoin has begun (its Joining status delivered), no frame of
	// an earlier join is delivered, and every frame is either delivered or
	// counted stale.
	It("drops every frame of an earlier join once a rejoin has begun, under traffic", func() {
		ch, _, conn := subscribed()
		topic := ch.Topic()
		latest := func() string {
			var ref string
			for _, j := range srv.Joins() {
				if j.Topic == topic {
					ref = j.JoinRef
				}
			}
			return ref
		}
		var (
			sent atomic.Int64
			stop = make(chan struct{})
			wg   sync.WaitGroup
		)
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ref := latest()
				if conn.Push(bcast(topic, ref, "e", map[string]any{"jr": ref, "n": i})) != nil {
					return
				}
				sent.Add(1)
			}
		}()
		const rejoins = 8
		for k := 1; k <= rejoins; k++ {
			joined := len(rec.statuses(ch.Name()))
			// phx_error: the channel crashed on the server; the client
			// rejoins (after 10 ms) with a new join_ref.
			ref := latest()
			Expect(conn.Push(frame.Frame{JoinRef: ref, Ref: ref, Topic: topic, Event: "phx_error", Payload: []byte(`{}`)})).To(Succeed())
			Eventually(func() int { return len(rec.statuses(ch.Name())) }, wait).Should(BeNumerically(">=", joined+2),
				"rejoin %d: CHANNEL_ERROR then SUBSCRIBED", k)
			Eventually(func() realtime.ChannelState { return c.ChannelState(ch) }, wait).Should(Equal(realtime.ChannelJoined))
		}
		close(stop)
		wg.Wait()

		// Every broadcast sent is delivered or counted stale. The server
		// also answers each rejoin of a joined topic by closing the old
		// join (phx_close with its join_ref), which is stale too: at most
		// one more per rejoin.
		var delivered int64
		total := func() int64 {
			delivered = int64(len(rec.broadcasts()))
			return delivered + int64(c.Stats().StaleFrames)
		}
		Eventually(total, wait).Should(BeNumerically(">=", sent.Load()), "every frame sent is delivered or counted stale")
		Expect(total()).To(BeNumerically("<=", sent.Load()+rejoins))

		// Walk the events: a Joining status starts a new join; from then
		// on, no broadcast may carry a join_ref seen before it.
		old := map[string]bool{}
		seen := map[string]bool{}
		rejoinsSeen := 0
		for i, ev := range rec.all() {
			switch e := ev.(type) {
			case realtime.ChannelStatusEvent:
				if e.State == realtime.ChannelJoining {
					rejoinsSeen++
					for jr := range seen {
						old[jr] = true
					}
				}
			case realtime.BroadcastEvent:
				var p struct{ JR string }
				Expect(json.Unmarshal(e.Payload, &p)).To(Succeed())
				Expect(old[p.JR]).To(BeFalse(), fmt.Sprintf("event %d: a frame of join_ref %s after a later join began", i, p.JR))
				seen[p.JR] = true
			}
		}
		Expect(rejoinsSeen).To(BeNumerically(">=", rejoins))
		Expect(delivered).To(BeNumerically(">", 0))
	})
})
