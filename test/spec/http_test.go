package spec_test

import (
	"errors"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

var _ = Describe("HTTP broadcast", func() {
	var (
		srv      *realtimetest.Server
		rec, sub *recorder
		c, peer  *realtime.Client
	)
	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{APIKey: "anon"})
		rec, sub = &recorder{}, &recorder{}
		var err error
		peer, err = realtime.New(srv.URL(), "anon", realtime.WithHandler(sub))
		Expect(err).NotTo(HaveOccurred())
	})
	AfterEach(func() {
		Expect(peer.Close(specCtx())).To(Succeed())
		closeAndCheckLeaks(c, srv)
	})

	listen := func(name string) {
		ch, _ := peer.Channel(name)
		Expect(peer.On(ch, realtime.Broadcast{})).To(Succeed())
		_, err := peer.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
	}

	It("sends ?private=true for a private channel created just before HTTPSend (Channel does not wait for its record)", func() {
		var err error
		c, err = realtime.New(srv.URL(), "anon", realtime.WithHandler(rec))
		Expect(err).NotTo(HaveOccurred())
		for i := 0; i < 5; i++ {
			ch, err := c.Channel(fmt.Sprintf("secret-%d", i), realtime.Private(true))
			Expect(err).NotTo(HaveOccurred())
			Expect(c.HTTPSend(specCtx(), ch, "e", map[string]int{"n": i})).To(Succeed())
		}
		reqs := srv.HTTPRequests()
		Expect(reqs).To(HaveLen(5))
		for _, r := range reqs {
			Expect(r.Query.Get("private")).To(Equal("true"), r.Path)
		}
	})

	It("falls back to the batch endpoint while the socket is down: 202, then 401 and 429 as typed errors", func() {
		listen("fb")
		clock := realtime.NewManualClock(time.Unix(0, 0))
		var err error
		c, err = realtime.New(srv.URL(), "anon", realtime.WithHandler(rec), realtime.WithHTTPFallback(true),
			realtime.WithClock(clock), realtime.WithReconnectAfter(func(int) time.Duration { return time.Hour }))
		Expect(err).NotTo(HaveOccurred())
		ctx := specCtx()
		ch, _ := c.Channel("fb")
		// Not joined yet and the socket may not be open: HTTP.
		Expect(c.SetAuth(ctx, "user-jwt")).To(Succeed())
		Expect(c.Broadcast(ctx, ch, "note", map[string]string{"text": "via http"})).To(Succeed())
		Eventually(sub.broadcastPayloads, wait).Should(Equal([]string{`note {"text":"via http"}`}))
		reqs := srv.HTTPRequests()
		Expect(reqs).To(HaveLen(1))
		Expect(reqs[0].Path).To(Equal("/realtime/v1/api/broadcast"))
		Expect(reqs[0].Query.Get("apikey")).To(Equal("anon"))
		Expect(reqs[0].Query.Get("vsn")).To(Equal("2.0.0"))
		Expect(reqs[0].Header.Get("apikey")).To(Equal("anon"))
		Expect(reqs[0].Header.Get("Authorization")).To(Equal("Bearer user-jwt"))
		Expect(reqs[0].Header.Get("Content-Type")).To(Equal("application/json"))
		Expect(string(reqs[0].Body)).To(MatchJSON(`{"messages":[{"topic":"fb","event":"note","payload":{"text":"via http"},"private":false}]}`))

		srv.SetHTTPStatus(401, `{"message":"Unauthorized"}`, 1)
		err = c.Broadcast(ctx, ch, "note", nil)
		var he *realtime.HTTPError
		Expect(errors.As(err, &he)).To(BeTrue(), "got %v", err)
		Expect(he.StatusCode).To(Equal(401))
		Expect(he.Message).To(Equal("Unauthorized"))
		Expect(err).To(MatchError(realtime.ErrHTTP))

		srv.SetHTTPStatus(429, `{"message":"You have exceeded your rate limit"}`, 1)
		err = c.Broadcast(ctx, ch, "note", nil)
		Expect(errors.As(err, &he)).To(BeTrue())
		Expect(he.StatusCode).To(Equal(429))
		Expect(he.Message).To(Equal("You have exceeded your rate limit"))
	})

	It("sends one event to the single-event endpoint with JSON or octet-stream bodies", func() {
		listen("single")
		var err error
		c, err = realtime.New(srv.URL(), "anon", realtime.WithHandler(rec))
		Expect(err).NotTo(HaveOccurred())
		ctx := specCtx()
		ch, _ := c.Channel("single")
		Expect(c.HTTPSend(ctx, ch, "json", map[string]int{"n": 1})).To(Succeed())
		Expect(c.HTTPSend(ctx, ch, "bin", []byte{9, 8, 7})).To(Succeed())
		Eventually(func() int { return len(sub.broadcasts()) }, wait).Should(Equal(2))
		got := sub.broadcasts()
		Expect(got[0].Event).To(Equal("json"))
		Expect(string(got[0].Payload)).To(MatchJSON(`{"n":1}`))
		Expect(got[1].Event).To(Equal("bin"))
		Expect(got[1].Binary).To(Equal([]byte{9, 8, 7}))
		reqs := srv.HTTPRequests()
		Expect(reqs[0].Path).To(Equal("/realtime/v1/api/broadcast/single/events/json"))
		Expect(reqs[1].Header.Get("Content-Type")).To(Equal("application/octet-stream"))
		Expect(reqs[0].Header.Get("Authorization")).To(BeEmpty(), "no user token: only the apikey header")
		Expect(reqs[0].Header.Get("apikey")).To(Equal("anon"))
	})
})
