package spec_test

import (
	"context"
	"errors"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// RefreshAuth is realtime-js setAuth() without a token; the specs port
// realtime-js packages/core/realtime-js/test/RealtimeClient.auth.test.ts.
var _ = Describe("RefreshAuth (ported from realtime-js RealtimeClient.auth.test.ts)", func() {
	var (
		srv *realtimetest.Server
		rec *recorder
		c   *realtime.Client

		mu      sync.Mutex
		current string
		failure error
	)
	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		rec = &recorder{}
		mu.Lock()
		current, failure = testJWT("a", time.Now().Add(time.Hour)), nil
		mu.Unlock()
	})
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	setToken := func(tok string, err error) {
		mu.Lock()
		current, failure = tok, err
		mu.Unlock()
	}
	callback := func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		return current, failure
	}
	start := func(opts ...realtime.Option) {
		var err error
		c, err = realtime.New(srv.URL(), "anon", append(fast(realtime.WithHandler(rec)), opts...)...)
		Expect(err).NotTo(HaveOccurred())
	}
	joined := func(name string) *realtime.Channel {
		ch, err := c.Channel(name)
		Expect(err).NotTo(HaveOccurred())
		_, err = c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		return ch
	}
	pushesOf := func(token string) []string {
		var out []string
		for _, p := range srv.AccessTokens() {
			if p.Token == token {
				out = append(out, p.Topic)
			}
		}
		return out
	}
	joinToken := func(topic string) string {
		tok := ""
		for _, j := range srv.Joins() {
			if j.Topic == topic {
				tok = j.AccessToken
			}
		}
		return tok
	}

	// "sets access token using callback, updates channels' join payload"
	// and "sets access token, updates channels' join payload, and pushes
	// token to channels" (test-topic1 and 3 joined, 2 not).
	It("pulls the callback's token, pushes it to the joined channels, and later joins carry it", func() {
		start(realtime.WithAccessToken(callback))
		ctx := specCtx()
		joined("test-topic1")
		two, _ := c.Channel("test-topic2")
		joined("test-topic3")
		Expect(joinToken("realtime:test-topic1")).To(Equal(testJWT("a", time.Now().Add(time.Hour))))

		fresh := testJWT("b", time.Now().Add(3*time.Hour))
		setToken(fresh, nil)
		Expect(c.RefreshAuth(ctx)).To(Succeed())
		Eventually(func() []string { return pushesOf(fresh) }, wait).Should(ConsistOf("realtime:test-topic1", "realtime:test-topic3"))

		_, err := c.Subscribe(ctx, two)
		Expect(err).NotTo(HaveOccurred())
		Expect(joinToken("realtime:test-topic2")).To(Equal(fresh))
	})

	// "does not send message if token hasn't changed".
	It("pushes nothing when the callback's token has not changed", func() {
		start(realtime.WithAccessToken(callback))
		ctx := specCtx()
		joined("test-topic")
		fresh := testJWT("b", time.Now().Add(4*time.Hour))
		setToken(fresh, nil)
		Expect(c.RefreshAuth(ctx)).To(Succeed())
		Expect(c.RefreshAuth(ctx)).To(Succeed())
		// A third, different token: its push follows any push of the
		// second call on the same socket.
		last := testJWT("c", time.Now().Add(5*time.Hour))
		setToken(last, nil)
		Expect(c.RefreshAuth(ctx)).To(Succeed())
		Eventually(func() []string { return pushesOf(last) }, wait).Should(Equal([]string{"realtime:test-topic"}))
		Expect(pushesOf(fresh)).To(Equal([]string{"realtime:test-topic"}))
	})

	// "handles setAuth errors gracefully during connection": the error is
	// reported, the connection stays, the cached token is kept.
	It("returns the callback's error, keeps the previous token and the connection", func() {
		start(realtime.WithAccessToken(callback))
		ctx := specCtx()
		first := testJWT("a", time.Now().Add(time.Hour))
		joined("test-topic")
		boom := errors.New("Token fetch failed")
		setToken("", boom)
		err := c.RefreshAuth(ctx)
		Expect(err).To(MatchError(boom))
		Eventually(rec.errors, wait).Should(ContainElement(MatchError(boom)))
		Expect(c.ConnectionState()).To(Equal(realtime.ConnOpen))
		Expect(srv.Conns()).To(HaveLen(1))
		// Later joins still carry the cached token.
		joined("later")
		Expect(joinToken("realtime:later")).To(Equal(first))
		Expect(srv.AccessTokens()).To(BeEmpty())
	})

	It("refuses an already expired token with ErrAuth and pushes nothing", func() {
		start(realtime.WithAccessToken(callback))
		ctx := specCtx()
		joined("test-topic")
		setToken(testJWT("old", time.Now().Add(-time.Minute)), nil)
		Expect(c.RefreshAuth(ctx)).To(MatchError(realtime.ErrAuth))
		Expect(srv.AccessTokens()).To(BeEmpty())
	})

	It("leaves a channel with a token of its own alone", func() {
		start(realtime.WithAccessToken(callback))
		ctx := specCtx()
		own := joined("own")
		Expect(c.SetChannelAuth(ctx, own, "channel-token")).To(Succeed())
		joined("shared")
		fresh := testJWT("b", time.Now().Add(2*time.Hour))
		setToken(fresh, nil)
		Expect(c.RefreshAuth(ctx)).To(Succeed())
		Eventually(func() []string { return pushesOf(fresh) }, wait).Should(Equal([]string{"realtime:shared"}))
	})

	It("answers a call made during a fetch with a fetch of its own, never an older token", func() {
		entered := make(chan int, 4)
		release := make(chan struct{})
		var n int
		var nmu sync.Mutex
		start(realtime.WithAccessToken(func(ctx context.Context) (string, error) {
			nmu.Lock()
			n++
			k := n
			nmu.Unlock()
			if k == 1 {
				return "tok-1", nil // the connect
			}
			entered <- k
			select {
			case <-release:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			return "tok-" + string(rune('0'+k)), nil
		}))
		ctx := specCtx()
		joined("test-topic")
		first := make(chan error, 1)
		go func() { first <- c.RefreshAuth(ctx) }()
		Eventually(entered, wait).Should(Receive(Equal(2)))
		second := make(chan error, 1)
		go func() { second <- c.RefreshAuth(ctx) }()
		// The second call is queued behind the fetch in flight; it did
		// not start a callback of its own yet.
		Consistently(entered, 100*time.Millisecond).ShouldNot(Receive())
		close(release)
		Eventually(first, wait).Should(Receive(BeNil()))
		Eventually(entered, wait).Should(Receive(Equal(3)))
		Eventually(second, wait).Should(Receive(BeNil()))
		Eventually(func() []string { return pushesOf("tok-3") }, wait).Should(Equal([]string{"realtime:test-topic"}))
		Expect(pushesOf("tok-2")).To(Equal([]string{"realtime:test-topic"}))
	})

	It("needs an access token callback", func() {
		start()
		Expect(c.RefreshAuth(specCtx())).To(MatchError(realtime.ErrNoTokenCallback))
	})
})
