package spec_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// Presence behaviour ported from phoenix.js assets/test/presence_test.js
// and realtime-js packages/core/realtime-js/test/RealtimeChannel.presence.test.ts,
// against the local server with real tracking clients (and raw frames where
// the order of presence_state and presence_diff is the point).
var _ = Describe("Presence (ported from phoenix.js and realtime-js)", func() {
	var (
		srv   *realtimetest.Server
		rec   *recorder
		c     *realtime.Client
		peers []*realtime.Client
	)
	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		rec = &recorder{}
		var err error
		c, err = realtime.New(srv.URL(), "anon", fast(realtime.WithHandler(rec))...)
		Expect(err).NotTo(HaveOccurred())
	})
	AfterEach(func() {
		for _, p := range peers {
			Expect(p.Close(specCtx())).To(Succeed())
		}
		peers = nil
		closeAndCheckLeaks(c, srv)
	})

	// peer starts another client, closed when the spec ends.
	peer := func() *realtime.Client {
		p, err := realtime.New(srv.URL(), "anon", fast()...)
		Expect(err).NotTo(HaveOccurred())
		peers = append(peers, p)
		return p
	}
	track := func(p *realtime.Client, topic, key string, state any) *realtime.Channel {
		ch, err := p.Channel(topic, realtime.PresenceKey(key))
		Expect(err).NotTo(HaveOccurred())
		_, err = p.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Track(specCtx(), ch, state)).To(Succeed())
		return ch
	}
	listen := func(topic string, bindings ...realtime.Presence) *realtime.Channel {
		ch, err := c.Channel(topic)
		Expect(err).NotTo(HaveOccurred())
		for _, b := range bindings {
			Expect(c.On(ch, b)).To(Succeed())
		}
		_, err = c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		return ch
	}
	events := func() []realtime.PresenceEvent {
		var out []realtime.PresenceEvent
		for _, ev := range rec.all() {
			if p, ok := ev.(realtime.PresenceEvent); ok {
				out = append(out, p)
			}
		}
		return out
	}
	summary := func() []string {
		var out []string
		for _, p := range events() {
			s := string(p.Type)
			if p.Key != "" {
				s += " " + p.Key
			}
			out = append(out, s)
		}
		return out
	}
	payloads := func(metas []realtime.PresenceMeta) []string {
		var out []string
		for _, m := range metas {
			out = append(out, string(m.Payload))
		}
		return out
	}

	// presence_test.js "instance › syncs state and diffs"; realtime-js
	// "Presence state management › should handle presence sync events",
	// "› should handle presence join events", "› should handle presence
	// leave events".
	It("syncs the state, then each diff, with join, leave and sync events", func() {
		ch := listen("room", realtime.Presence{})
		// The join's presence_state (empty) is a sync.
		Eventually(summary, wait).Should(Equal([]string{"sync"}))
		p := peer()
		pch := track(p, "room", "u1", map[string]int{"id": 1})
		Eventually(summary, wait).Should(Equal([]string{"sync", "join u1", "sync"}))
		Expect(payloads(c.PresenceState(ch)["u1"])).To(Equal([]string{`{"id":1}`}))
		Expect(p.Untrack(specCtx(), pch)).To(Succeed())
		Eventually(summary, wait).Should(Equal([]string{"sync", "join u1", "sync", "leave u1", "sync"}))
		leave := events()[3]
		Expect(payloads(leave.Left)).To(Equal([]string{`{"id":1}`}))
		Expect(leave.Current).To(BeEmpty())
		Expect(c.PresenceState(ch)).To(BeEmpty())
	})

	// presence_test.js "syncDiff › removes meta while leaving key if other
	// metas exist", "syncState › onJoins only newly added metas".
	It("keeps a key with its other metas when one of them leaves", func() {
		ch := listen("room", realtime.Presence{})
		p1, p2 := peer(), peer()
		track(p1, "room", "u1", map[string]int{"tab": 1})
		Eventually(func() []string { return payloads(c.PresenceState(ch)["u1"]) }, wait).Should(Equal([]string{`{"tab":1}`}))
		track(p2, "room", "u1", map[string]int{"tab": 2})
		Eventually(func() []string { return payloads(c.PresenceState(ch)["u1"]) }, wait).Should(ConsistOf(`{"tab":1}`, `{"tab":2}`))
		// The second join announced only the new meta.
		Eventually(func() []string {
			var out []string
			for _, e := range events() {
				if e.Type == realtime.PresenceJoin {
					out = append(out, string(e.Joined[0].Payload)+" current="+string(rune('0'+len(e.Current))))
				}
			}
			return out
		}, wait).Should(Equal([]string{`{"tab":1} current=0`, `{"tab":2} current=1`}))

		Expect(p1.Close(specCtx())).To(Succeed())
		Eventually(func() []string { return payloads(c.PresenceState(ch)["u1"]) }, wait).Should(Equal([]string{`{"tab":2}`}))
		var leave realtime.PresenceEvent
		Eventually(func() realtime.PresenceEventType {
			for _, e := range events() {
				if e.Type == realtime.PresenceLeave {
					leave = e
				}
			}
			return leave.Type
		}, wait).Should(Equal(realtime.PresenceLeave))
		Expect(leave.Key).To(Equal("u1"))
		Expect(payloads(leave.Left)).To(Equal([]string{`{"tab":1}`}))
		Expect(payloads(leave.Current)).To(Equal([]string{`{"tab":2}`}))
	})

	// presence_test.js "instance › updates existing meta for a presence
	// update (leave + join)": a new Track replaces the meta
	// (phx_ref_prev), reported as a join whose current is the old meta.
	It("replaces a meta updated by a new Track", func() {
		ch := listen("room", realtime.Presence{})
		p := peer()
		pch := track(p, "room", "u2", map[string]string{"name": "chris"})
		Eventually(func() []string { return payloads(c.PresenceState(ch)["u2"]) }, wait).Should(Equal([]string{`{"name":"chris"}`}))
		Expect(p.Track(specCtx(), pch, map[string]string{"name": "chris.2"})).To(Succeed())
		Eventually(func() []string { return payloads(c.PresenceState(ch)["u2"]) }, wait).Should(Equal([]string{`{"name":"chris.2"}`}))
		var update realtime.PresenceEvent
		Eventually(func() []string {
			for _, e := range events() {
				if e.Type == realtime.PresenceJoin && len(e.Joined) == 1 && string(e.Joined[0].Payload) == `{"name":"chris.2"}` {
					update = e
				}
			}
			return payloads(update.Current)
		}, wait).Should(Equal([]string{`{"name":"chris"}`}))
	})

	// realtime-js "Presence message filtering › should filter presence
	// messages by event type", "› should handle wildcard presence events".
	It("delivers only the bound presence event types", func() {
		listen("room", realtime.Presence{Event: realtime.PresenceSync}, realtime.Presence{Event: realtime.PresenceJoin})
		p := peer()
		pch := track(p, "room", "u1", map[string]int{"id": 1})
		Eventually(summary, wait).Should(Equal([]string{"sync", "join u1", "sync"}))
		Expect(p.Untrack(specCtx(), pch)).To(Succeed())
		// The leave is not bound; its sync is.
		Eventually(summary, wait).Should(Equal([]string{"sync", "join u1", "sync", "sync"}))
	})

	// realtime-js "Presence configuration override › should enable
	// presence when only bindings exist (existing behavior)", "› should
	// not enable presence when neither bindings exist nor
	// config.presence.enabled is true"; "Presence state management ›
	// should enable presence when presence listeners are added".
	It("asks for presence in the join only with a presence binding (or a Track)", func() {
		listen("with", realtime.Presence{})
		listen("without")
		enabled := map[string]bool{}
		for _, info := range srv.ActiveConns()[0].Channels() {
			enabled[info.Topic] = info.PresenceEnabled
		}
		Expect(enabled).To(Equal(map[string]bool{"realtime:with": true, "realtime:without": false}))
	})

	// realtime-js "Presence state management › should wait for
	// presence_state before processing presence_diff"; presence_test.js
	// "instance › applies pending diff if state is not yet synced".
	// Adapted: the server's hook queues the diff ahead of the join reply,
	// which it holds back, so the diff arrives before presence_state.
	It("holds a diff that arrives before the state and applies it after", func() {
		srv.OnJoin(func(j realtimetest.JoinRequest) realtimetest.JoinAction {
			diff := frame.Frame{JoinRef: j.JoinRef, Topic: j.Topic, Event: "presence_diff",
				Payload: []byte(`{"joins":{"user-123":{"metas":[{"phx_ref":"phoenix_ref","name":"John","user_id":"user-123"}]}},"leaves":{"u2":{"metas":[{"phx_ref":"2","id":2}]}}}`)}
			Expect(srv.Conn(j.ConnID).Push(diff)).To(Succeed())
			return realtimetest.Accept.After(50 * time.Millisecond)
		})
		ch := listen("room", realtime.Presence{})
		Eventually(func() []string { return payloads(c.PresenceState(ch)["user-123"]) }, wait).Should(Equal([]string{`{"name":"John","user_id":"user-123"}`}))
		// One sync: the state with the held diff applied (phoenix.js
		// calls onSync once per presence_state).
		Eventually(summary, wait).Should(Equal([]string{"join user-123", "sync"}))
		join := events()[0]
		Expect(join.Current).To(BeEmpty())
		Expect(join.Joined).To(HaveLen(1))
		Expect(join.Joined[0].Ref).To(Equal("phoenix_ref"))
		// The diff was applied after the state: the Handler heard of the
		// join after the subscribe outcome.
		order := []string{}
		for _, ev := range rec.all() {
			switch e := ev.(type) {
			case realtime.ChannelStatusEvent:
				if e.Status == realtime.Subscribed {
					order = append(order, "subscribed")
				}
			case realtime.PresenceEvent:
				if e.Type == realtime.PresenceJoin {
					order = append(order, "join")
				}
			}
		}
		Expect(order).To(Equal([]string{"subscribed", "join"}))
		Expect(c.PresenceState(ch)).NotTo(HaveKey("u2"), "a leave of a key the state never had changes nothing")
	})
})
