package spec_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

var _ = Describe("Presence", func() {
	var (
		srv        *realtimetest.Server
		recA, recB *recorder
		a, b       *realtime.Client
	)
	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		recA, recB = &recorder{}, &recorder{}
		var err error
		a, err = realtime.New(srv.URL(), "k", fast(realtime.WithHandler(recA))...)
		Expect(err).NotTo(HaveOccurred())
		b, err = realtime.New(srv.URL(), "k", fast(realtime.WithHandler(recB))...)
		Expect(err).NotTo(HaveOccurred())
	})
	AfterEach(func() {
		Expect(b.Close(specCtx())).To(Succeed())
		closeAndCheckLeaks(a, srv)
	})

	presenceEvents := func(r *recorder) []realtime.PresenceEvent {
		var out []realtime.PresenceEvent
		for _, ev := range r.all() {
			if p, ok := ev.(realtime.PresenceEvent); ok {
				out = append(out, p)
			}
		}
		return out
	}
	joinsOfKey := func(r *recorder, key string) int {
		n := 0
		for _, p := range presenceEvents(r) {
			if p.Type == realtime.PresenceJoin && p.Key == key {
				n++
			}
		}
		return n
	}
	keys := func(c *realtime.Client, ch *realtime.Channel) func() []string {
		return func() []string {
			var out []string
			for k, metas := range c.PresenceState(ch) {
				if len(metas) > 0 {
					out = append(out, k)
				}
			}
			return out
		}
	}

	It("tracks, syncs join and leave events per channel and exposes the state", func() {
		ctx := specCtx()
		chA, _ := a.Channel("room", realtime.PresenceKey("alice"))
		Expect(a.On(chA, realtime.Presence{})).To(Succeed())
		_, err := a.Subscribe(ctx, chA)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(srv.Joins()[0].Payload)).To(ContainSubstring(`"presence":{"enabled":true,"key":"alice"}`))

		chB, _ := b.Channel("room", realtime.PresenceKey("bob"))
		Expect(b.On(chB, realtime.Presence{Event: realtime.PresenceJoin})).To(Succeed())
		_, err = b.Subscribe(ctx, chB)
		Expect(err).NotTo(HaveOccurred())

		Expect(a.Track(ctx, chA, map[string]any{"name": "Alice", "online_at": 1})).To(Succeed())
		Expect(b.Track(ctx, chB, map[string]any{"name": "Bob"})).To(Succeed())

		Eventually(keys(a, chA), wait).Should(ConsistOf("alice", "bob"))
		Eventually(keys(b, chB), wait).Should(ConsistOf("alice", "bob"))
		state := a.PresenceState(chA)
		Expect(state["bob"]).To(HaveLen(1))
		Expect(state["bob"][0].Ref).NotTo(BeEmpty())
		var bob struct{ Name string }
		Expect(state["bob"][0].Decode(&bob)).To(Succeed())
		Expect(bob.Name).To(Equal("Bob"))
		Expect(string(state["bob"][0].Payload)).NotTo(ContainSubstring("phx_ref"))

		// The view is published before the events that produced it are
		// handed to the Handler, so wait for them.
		var join realtime.PresenceEvent
		Eventually(func() string {
			for _, p := range presenceEvents(recA) {
				if p.Type == realtime.PresenceJoin && p.Key == "bob" {
					join = p
				}
			}
			return join.Key
		}, wait).Should(Equal("bob"))
		Expect(join.Channel).To(Equal("room"))
		Expect(join.Current).To(BeEmpty())
		Expect(join.Joined).To(HaveLen(1))
		Eventually(func() []realtime.PresenceEvent { return presenceEvents(recA) }, wait).Should(ContainElement(HaveField("Type", realtime.PresenceSync)))
		// b bound only joins.
		for _, p := range presenceEvents(recB) {
			Expect(p.Type).To(Equal(realtime.PresenceJoin))
		}

		Expect(b.Untrack(ctx, chB)).To(Succeed())
		Eventually(keys(a, chA), wait).Should(ConsistOf("alice"))
		Eventually(func() bool {
			for _, p := range presenceEvents(recA) {
				if p.Type == realtime.PresenceLeave && p.Key == "bob" && len(p.Left) == 1 && len(p.Current) == 0 {
					return true
				}
			}
			return false
		}, wait).Should(BeTrue())
	})

	It("tracks again after a reconnect without being asked, and a track-only channel still enables presence", func() {
		ctx := specCtx()
		chA, _ := a.Channel("lobby", realtime.PresenceKey("alice"))
		_, err := a.Subscribe(ctx, chA)
		Expect(err).NotTo(HaveOccurred())
		// No presence binding: tracking turns presence on with one rejoin.
		Expect(a.Track(ctx, chA, map[string]string{"status": "here"})).To(Succeed())
		joins := joinsOf(srv, "realtime:lobby")
		Expect(string(joins[len(joins)-1].Payload)).To(ContainSubstring(`"presence":{"enabled":true,"key":"alice"}`))

		chB, _ := b.Channel("lobby", realtime.PresenceKey("bob"))
		Expect(b.On(chB, realtime.Presence{})).To(Succeed())
		_, err = b.Subscribe(ctx, chB)
		Expect(err).NotTo(HaveOccurred())
		Eventually(keys(b, chB), wait).Should(ConsistOf("alice"))

		tracksBefore := 0
		for _, f := range framesFrom(srv, "presence") {
			if f.Topic == "realtime:lobby" {
				tracksBefore++
			}
		}
		// Drop a's socket: the server sends b a leave for alice; a
		// reconnects, rejoins and tracks the same state again.
		srv.Conn(srv.Joins()[0].ConnID).Close(1006, "")
		Eventually(func() int { return joinsOfKey(recB, "alice") }, wait).Should(BeNumerically(">=", 2))
		Eventually(keys(b, chB), wait).Should(ConsistOf("alice"))
		tracks := 0
		for _, f := range framesFrom(srv, "presence") {
			if f.Topic == "realtime:lobby" {
				tracks++
				var p struct{ Event string }
				Expect(json.Unmarshal(f.Payload, &p)).To(Succeed())
				Expect(p.Event).To(Equal("track"))
			}
		}
		Expect(tracks).To(Equal(tracksBefore + 1))
	})
})
