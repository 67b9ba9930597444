package spec_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/logbuf"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// The API key and tokens never appear in logs (Debug level, the client's
// and protoactor-go's records), in error strings or in URLs inside errors,
// across a run with connect failures (401 with the key in the URL), auth
// failures, token changes, HTTP errors and a server that echoes the
// secrets back.
var _ = Describe("Secrets", func() {
	const jwtSecret = "jwt-signing-secret-for-tests"

	var (
		logs    *logbuf.Buffer
		logger  *slog.Logger
		clients []*realtime.Client
		recs    []*recorder
		errs    []error // every error returned to the caller
		srv     *realtimetest.Server
		echo    *httptest.Server // answers 401 echoing apikey and bearer
	)

	newClient := func(url, key string, opts ...realtime.Option) (*realtime.Client, *recorder) {
		rec := &recorder{}
		c, err := realtime.New(url, key, fast(append([]realtime.Option{realtime.WithHandler(rec), realtime.WithLogger(logger)}, opts...)...)...)
		Expect(err).NotTo(HaveOccurred())
		clients = append(clients, c)
		recs = append(recs, rec)
		return c, rec
	}

	BeforeEach(func() {
		logs = &logbuf.Buffer{}
		logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		clients, recs, errs = nil, nil, nil
		srv = realtimetest.NewServer(realtimetest.Options{JWTSecret: jwtSecret})
		echo = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid key %s","message":"invalid key %s token %s"}`,
				r.URL.Query().Get("apikey"), r.URL.Query().Get("apikey"), r.Header.Get("Authorization"))
		}))
	})

	AfterEach(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		for _, c := range clients {
			Expect(c.Close(ctx)).To(Succeed())
		}
		echo.Close()
		closeAndCheckLeaks(nil, srv)
	})

	It("never shows the API key or a token", func() {
		ctx := specCtx()
		claims := func(sub string) map[string]any {
			return map[string]any{"sub": sub, "role": "authenticated", "exp": time.Now().Add(time.Hour).Unix()}
		}
		apiKey := realtimetest.SignJWT(jwtSecret, map[string]any{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()})
		wrongKey := "sk-wrong-api-key-0123456789abcdef"
		badToken := testJWT("mallory", time.Now().Add(time.Hour)) // not signed with jwtSecret
		goodToken := realtimetest.SignJWT(jwtSecret, claims("alice"))
		refreshed := realtimetest.SignJWT(jwtSecret, claims("alice-refreshed"))
		channelToken := realtimetest.SignJWT(jwtSecret, claims("alice-channel"))
		echoKey := "sk-echo-api-key-fedcba9876543210"
		echoToken := testJWT("echo-user", time.Now().Add(time.Hour))
		secrets := []string{apiKey, wrongKey, badToken, goodToken, refreshed, channelToken, echoKey, echoToken}

		// 1. Auth failure: the access-token callback first hands out a
		// token the server refuses, then a good one; SetAuth, a channel
		// token and a refreshed token follow.
		// The callback hands out the bad token until the join was refused
		// (the dial and the join both ask it, in no fixed order), then
		// the good one.
		var refused atomic.Bool
		c1, _ := newClient(srv.URL(), apiKey, realtime.WithAccessToken(func(context.Context) (string, error) {
			if refused.Load() {
				return goodToken, nil
			}
			return badToken, nil
		}))
		ch1, _ := c1.Channel("room1")
		_, err := c1.Subscribe(ctx, ch1)
		Expect(err).To(MatchError(realtime.ErrAuth))
		errs = append(errs, err)
		refused.Store(true)
		// With a good token the channel joins.
		Expect(c1.SetAuth(ctx, goodToken)).To(Succeed())
		Eventually(func() realtime.ChannelState { return c1.ChannelState(ch1) }, wait).Should(Equal(realtime.ChannelJoined))
		Expect(c1.SetAuth(ctx, refreshed)).To(Succeed())
		Expect(c1.SetChannelAuth(ctx, ch1, channelToken)).To(Succeed())
		Eventually(func() int { return len(srv.AccessTokens()) }, wait).Should(BeNumerically(">=", 2))
		Expect(c1.URL()).NotTo(ContainSubstring(apiKey))

		// 2. Connect failure: 401 with the (wrong) key in the URL.
		c2, rec2 := newClient(srv.URL(), wrongKey, realtime.WithMaxReconnectAttempts(2))
		Eventually(func() int {
			n := 0
			for _, ev := range rec2.all() {
				if s, ok := ev.(realtime.ConnectionStateEvent); ok && s.Err != nil {
					n++
				}
			}
			return n
		}, wait).Should(BeNumerically(">=", 1))
		var ce *realtime.ConnectError
		for _, ev := range rec2.all() {
			if s, ok := ev.(realtime.ConnectionStateEvent); ok && s.Err != nil && errors.As(s.Err, &ce) {
				break
			}
		}
		Expect(ce).NotTo(BeNil())
		Expect(ce.StatusCode).To(Equal(http.StatusUnauthorized))
		Expect(ce.URL).To(ContainSubstring("apikey=REDACTED"))
		ch2, _ := c2.Channel("room2")
		_, err = c2.Subscribe(ctx, ch2)
		errs = append(errs, err)

		// 3. A server that echoes the key and the bearer token back, on the
		// socket handshake, HTTPSend and the HTTP fallback of Broadcast.
		c3, rec3 := newClient(echo.URL, echoKey, realtime.WithMaxReconnectAttempts(1), realtime.WithHTTPFallback(true))
		Expect(c3.SetAuth(ctx, echoToken)).To(Succeed())
		ch3, _ := c3.Channel("room3")
		err = c3.HTTPSend(ctx, ch3, "e", map[string]int{"n": 1})
		var he *realtime.HTTPError
		Expect(errors.As(err, &he)).To(BeTrue())
		Expect(he.Message).To(ContainSubstring("REDACTED"), "the echoed secrets were replaced")
		errs = append(errs, err)
		errs = append(errs, c3.Broadcast(ctx, ch3, "e", map[string]int{"n": 2}))
		Eventually(func() bool {
			for _, ev := range rec3.all() {
				if s, ok := ev.(realtime.ConnectionStateEvent); ok && errors.As(s.Err, &ce) && ce.StatusCode == 401 {
					return true
				}
			}
			return false
		}, wait).Should(BeTrue())
		Expect(ce.Message).To(Equal("invalid key REDACTED"))

		// Collect every string a user could see.
		var seen []string
		for _, e := range errs {
			if e != nil {
				seen = append(seen, e.Error(), fmt.Sprintf("%+v", e))
			}
		}
		for _, rec := range recs {
			for _, ev := range rec.all() {
				seen = append(seen, fmt.Sprintf("%+v", ev))
				switch e := ev.(type) {
				case realtime.ErrorEvent:
					seen = append(seen, e.Err.Error())
				case realtime.ConnectionStateEvent:
					if e.Err != nil {
						seen = append(seen, e.Err.Error())
					}
				case realtime.ChannelStatusEvent:
					if e.Err != nil {
						seen = append(seen, e.Err.Error())
					}
				}
			}
		}
		for _, c := range clients {
			seen = append(seen, c.URL(), fmt.Sprintf("%+v", c.Stats()))
		}
		Expect(logs.String()).To(ContainSubstring("level=DEBUG"), "debug records were captured")
		seen = append(seen, logs.String())
		all := strings.Join(seen, "\n")
		Expect(all).To(ContainSubstring("REDACTED"))
		for _, s := range secrets {
			Expect(all).NotTo(ContainSubstring(s))
			// Nor the signature or claims segment of a JWT on its own.
			for _, part := range strings.Split(s, ".") {
				if len(part) >= 16 {
					Expect(all).NotTo(ContainSubstring(part))
				}
			}
		}
	})
})

var _ = Describe("HTTP redirects", func() {
	It("are never followed, so the key and token cannot be sent elsewhere", func() {
		var mu sync.Mutex
		var stolen []http.Header
		attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			stolen = append(stolen, r.Header.Clone())
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		}))
		defer attacker.Close()
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, attacker.URL+r.URL.Path, http.StatusTemporaryRedirect)
		}))
		defer redirector.Close()

		rec := &recorder{}
		c, err := realtime.New(redirector.URL, "sk-redirect-key-0123456789", fast(realtime.WithHandler(rec),
			realtime.WithMaxReconnectAttempts(1), realtime.WithHTTPFallback(true))...)
		Expect(err).NotTo(HaveOccurred())
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			Expect(c.Close(ctx)).To(Succeed())
		}()
		ctx := specCtx()
		Expect(c.SetAuth(ctx, "user-token-0123456789")).To(Succeed())
		ch, _ := c.Channel("room1")
		err = c.HTTPSend(ctx, ch, "e", map[string]int{"n": 1})
		var he *realtime.HTTPError
		Expect(errors.As(err, &he)).To(BeTrue(), fmt.Sprint(err))
		Expect(he.StatusCode).To(Equal(http.StatusTemporaryRedirect))
		Expect(c.Broadcast(ctx, ch, "e", map[string]int{"n": 2})).To(MatchError(realtime.ErrHTTP))

		// The caller's own client may follow redirects; the client still
		// does not.
		c2, err := realtime.New(redirector.URL, "sk-redirect-key-0123456789", fast(realtime.WithHandler(&recorder{}),
			realtime.WithMaxReconnectAttempts(1), realtime.WithHTTPClient(&http.Client{}))...)
		Expect(err).NotTo(HaveOccurred())
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			Expect(c2.Close(ctx)).To(Succeed())
		}()
		ch2, _ := c2.Channel("room1")
		Expect(c2.HTTPSend(ctx, ch2, "e", 1)).To(MatchError(realtime.ErrHTTP))

		mu.Lock()
		defer mu.Unlock()
		Expect(stolen).To(BeEmpty())
	})
})
