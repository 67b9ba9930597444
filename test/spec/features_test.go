package spec_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

var _ = Describe("Acknowledged broadcasts", func() {
	var (
		srv   *realtimetest.Server
		rec   *recorder
		c     *realtime.Client
		clock *realtime.ManualClock
	)
	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{MaxPayloadBytes: 200})
		rec = &recorder{}
		var err error
		clock = realtime.NewManualClock(time.Unix(0, 0))
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec), realtime.WithClock(clock))
		Expect(err).NotTo(HaveOccurred())
	})
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	subscribe := func(name string, opts ...realtime.ChannelOption) *realtime.Channel {
		ch, err := c.Channel(name, opts...)
		Expect(err).NotTo(HaveOccurred())
		_, err = c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		return ch
	}

	It("matches the server's reply to the push by ref, for JSON and binary payloads", func() {
		ctx := specCtx()
		ch := subscribe("ack", realtime.BroadcastAck(true))
		refs := map[realtime.AckRef]bool{}
		for i := 0; i < 3; i++ {
			ref, err := c.BroadcastWithAck(ctx, ch, "e", map[string]int{"i": i})
			Expect(err).NotTo(HaveOccurred())
			Expect(ref).NotTo(Equal(realtime.NotAcknowledged))
			refs[ref] = true
		}
		bin, err := c.BroadcastWithAck(ctx, ch, "blob", []byte{1, 2, 3})
		Expect(err).NotTo(HaveOccurred())
		refs[bin] = true
		Expect(refs).To(HaveLen(4), "refs are unique")
		for ref := range refs {
			Expect(c.WaitForAck(ctx, ref)).To(Succeed())
		}
		// A result is handed out once.
		Expect(c.WaitForAck(ctx, bin)).To(MatchError(realtime.ErrUnknownAck))
	})

	It("reports payload_size_exceeded, the bare-string error response, as a *PushError", func() {
		ctx := specCtx()
		ch := subscribe("big", realtime.BroadcastAck(true))
		ref, err := c.BroadcastWithAck(ctx, ch, "e", map[string]string{"blob": strings.Repeat("x", 500)})
		Expect(err).NotTo(HaveOccurred())
		err = c.WaitForAck(ctx, ref)
		var pe *realtime.PushError
		Expect(errors.As(err, &pe)).To(BeTrue(), "got %v", err)
		Expect(pe.Status).To(Equal("error"))
		Expect(pe.Reason).To(Equal("payload_size_exceeded"))
	})

	It("times out when the server does not answer", func() {
		ctx := specCtx()
		ch := subscribe("quiet", realtime.BroadcastAck(true))
		srv.SetReplyDelay(time.Hour)
		ref, err := c.BroadcastWithAck(ctx, ch, "e", nil)
		Expect(err).NotTo(HaveOccurred())
		// Armed: the heartbeat (30 s) and the ack timeout (10 s).
		Eventually(clock.Pending, wait).Should(Equal(2))
		clock.Advance(realtime.DefaultTimeout)
		Expect(c.WaitForAck(ctx, ref)).To(MatchError(realtime.ErrPushTimeout))
	})

	It("says acks are not enabled on a channel without BroadcastAck", func() {
		ctx := specCtx()
		ch := subscribe("noack")
		ref, err := c.BroadcastWithAck(ctx, ch, "e", nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(ref).To(Equal(realtime.NotAcknowledged))
		Expect(c.WaitForAck(ctx, ref)).To(MatchError(realtime.ErrAckDisabled))
	})
})

var _ = Describe("Tokens", func() {
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
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	authErrors := func() []*realtime.AuthError {
		var out []*realtime.AuthError
		for _, e := range rec.errors() {
			var ae *realtime.AuthError
			if errors.As(e, &ae) {
				out = append(out, ae)
			}
		}
		return out
	}

	It("pushes SetAuth to joined channels and keeps a token set while disconnected for the next join", func() {
		clock := realtime.NewManualClock(time.Unix(0, 0))
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec), realtime.WithClock(clock),
			realtime.WithReconnectAfter(func(int) time.Duration { return time.Minute }))
		Expect(err).NotTo(HaveOccurred())
		ctx := specCtx()
		a, _ := c.Channel("a")
		b, _ := c.Channel("b")
		for _, ch := range []*realtime.Channel{a, b} {
			_, err := c.Subscribe(ctx, ch)
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(c.SetAuth(ctx, "user-token-1")).To(Succeed())
		Eventually(func() int { return len(srv.AccessTokens()) }, wait).Should(Equal(2))
		for _, t := range srv.AccessTokens() {
			Expect(t.Token).To(Equal("user-token-1"))
		}
		Expect(c.SetChannelAuth(ctx, b, "b-only")).To(Succeed())
		Eventually(func() int { return len(srv.AccessTokens()) }, wait).Should(Equal(3))
		Expect(srv.AccessTokens()[2].Topic).To(Equal("realtime:b"))

		srv.Conns()[0].Close(1006, "")
		Eventually(c.ConnectionState, wait).Should(Equal(realtime.ConnClosed))
		Expect(c.SetAuth(ctx, "user-token-2")).To(Succeed(), "kept while disconnected, not refused")
		Eventually(clock.Pending, wait).Should(Equal(1))
		clock.Advance(time.Minute)
		Eventually(func() int { return len(srv.Joins()) }, wait).Should(Equal(4))
		tokens := map[string]string{}
		for _, j := range srv.Joins()[2:] {
			tokens[j.Topic] = j.AccessToken
		}
		Expect(tokens).To(Equal(map[string]string{"realtime:a": "user-token-2", "realtime:b": "b-only"}))
	})

	It("refreshes the token before its exp through the callback and pushes it", func() {
		clock := realtime.NewManualClock(time.Unix(1_800_000_000, 0))
		var calls atomic.Int32
		cb := func(context.Context) (string, error) {
			n := calls.Add(1)
			return testJWT("user-"+string(rune('0'+n)), clock.Now().Add(10*time.Minute)), nil
		}
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec), realtime.WithClock(clock), realtime.WithAccessToken(cb))
		Expect(err).NotTo(HaveOccurred())
		ch, _ := c.Channel("r")
		_, err = c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(srv.Joins()[0].AccessToken).To(Equal(testJWT("user-1", time.Unix(1_800_000_000, 0).Add(10*time.Minute))))
		Expect(calls.Load()).To(Equal(int32(1)))

		// The refresh is due a minute before exp; the heartbeat timer is
		// due earlier, so move in steps and let each fire.
		Eventually(func() int32 {
			clock.Advance(30 * time.Second)
			return calls.Load()
		}, wait, 50*time.Millisecond).Should(BeNumerically(">=", 2))
		Eventually(func() int { return len(srv.AccessTokens()) }, wait).Should(BeNumerically(">=", 1))
		Expect(srv.AccessTokens()[0].Token).To(HavePrefix(strings.Split(testJWT("user-2", time.Now()), ".")[0]))
		Expect(clock.Now().Before(time.Unix(1_800_000_000, 0).Add(10*time.Minute))).To(BeTrue(), "refreshed before exp")
	})

	It("stays closed with an AuthError after 'Token has expired' without a callback, and SetAuth revives it", func() {
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec))
		Expect(err).NotTo(HaveOccurred())
		ctx := specCtx()
		ch, _ := c.Channel("exp")
		_, err = c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		joinRef := srv.Joins()[0].JoinRef
		conn := srv.Conns()[0]
		Expect(conn.Push(systemFrame("realtime:exp", joinRef, "system", "error", "Token has expired 0 seconds ago"))).To(Succeed())
		Expect(srv.CloseChannel("realtime:exp")).To(Equal(1))

		Eventually(func() []realtime.SubscribeStatus { return rec.statuses("exp") }, wait).Should(Equal(
			[]realtime.SubscribeStatus{realtime.Subscribed, realtime.Closed}))
		Expect(authErrors()).To(HaveLen(1))
		Expect(authErrors()[0].Reason).To(Equal("Token has expired 0 seconds ago"))
		Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelClosed))
		Expect(srv.Joins()).To(HaveLen(1), "no rejoin loop with the expired token")

		Expect(c.SetAuth(ctx, "fresh")).To(Succeed())
		Eventually(func() int { return len(srv.Joins()) }, wait).Should(Equal(2))
		Expect(srv.Joins()[1].AccessToken).To(Equal("fresh"))
		Eventually(func() realtime.ChannelState { return c.ChannelState(ch) }, wait).Should(Equal(realtime.ChannelJoined))
	})

	It("fetches a fresh token and rejoins once after 'Token has expired' with a callback", func() {
		var calls atomic.Int32
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec), realtime.WithAccessToken(func(context.Context) (string, error) {
			return "token-" + string(rune('0'+calls.Add(1))), nil
		}))
		Expect(err).NotTo(HaveOccurred())
		ctx := specCtx()
		ch, _ := c.Channel("cb")
		_, err = c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		expire := func() {
			joins := srv.Joins()
			last := joins[len(joins)-1]
			conn := srv.Conns()[0]
			Expect(conn.Push(systemFrame("realtime:cb", last.JoinRef, "system", "error", "Token has expired 0 seconds ago"))).To(Succeed())
			Expect(srv.CloseChannel("realtime:cb")).To(Equal(1))
		}
		expire()
		Eventually(func() int { return len(srv.Joins()) }, wait).Should(Equal(2))
		Expect(srv.Joins()[1].AccessToken).To(Equal("token-2"))
		Eventually(func() realtime.ChannelState { return c.ChannelState(ch) }, wait).Should(Equal(realtime.ChannelJoined))

		// Joined again, so the retry budget is back: one more expiry
		// gets one more fresh token.
		expire()
		Eventually(func() int { return len(srv.Joins()) }, wait).Should(Equal(3))
		Expect(srv.Joins()[2].AccessToken).To(Equal("token-3"))
	})

	It("does not loop on a join refused for its token without a callback", func() {
		refusals := 0
		srv.OnJoin(func(j realtimetest.JoinRequest) realtimetest.JoinAction {
			if j.AccessToken == "stale" {
				refusals++
				return realtimetest.Reject("InvalidJWTToken: Token has expired 42 seconds ago")
			}
			return realtimetest.Accept
		})
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec), realtime.WithRejoinAfter(func(int) time.Duration { return 0 }))
		Expect(err).NotTo(HaveOccurred())
		ctx := specCtx()
		Expect(c.SetAuth(ctx, "stale")).To(Succeed())
		ch, _ := c.Channel("stale")
		status, err := c.Subscribe(ctx, ch)
		Expect(status).To(Equal(realtime.ChannelError))
		Expect(err).To(MatchError(realtime.ErrAuth))
		Expect(err).To(MatchError(realtime.ErrChannelError))
		Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelClosed))
		Expect(c.SetAuth(ctx, "good")).To(Succeed())
		Eventually(func() realtime.ChannelState { return c.ChannelState(ch) }, wait).Should(Equal(realtime.ChannelJoined))
		Expect(refusals).To(Equal(1))
	})
})

var _ = Describe("Channel options", func() {
	It("refuses replay on a public channel before anything is sent", func() {
		srv := realtimetest.NewServer(realtimetest.Options{})
		c, err := realtime.New(srv.URL(), "k")
		Expect(err).NotTo(HaveOccurred())
		defer closeAndCheckLeaks(c, srv)
		_, err = c.Channel("pub", realtime.Replay(time.Unix(0, 0), 10))
		Expect(err).To(MatchError(realtime.ErrInvalidOption))
		Expect(err.Error()).To(ContainSubstring("private"))

		ch, err := c.Channel("priv", realtime.Private(true), realtime.Replay(time.UnixMilli(1750000000000), 10), realtime.ReplicationReady(true))
		Expect(err).NotTo(HaveOccurred())
		_, err = c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(srv.Joins()[0].Payload)).To(MatchJSON(`{"config":{"broadcast":{"ack":false,"self":false,"replay":{"since":1750000000000,"limit":10},"replication_ready":true},"presence":{"enabled":false,"key":""},"postgres_changes":[],"private":true}}`))
	})
})
