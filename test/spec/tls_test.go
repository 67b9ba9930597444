package spec_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// TLS: certificates are verified by default, on the socket and on the HTTP
// endpoints. The test server's certificate is self-signed, so the client
// must refuse it unless the caller hands it the test's CA.
var _ = Describe("TLS", func() {
	var (
		srv   *realtimetest.Server
		front *httptest.Server // TLS in front of srv (WebSocket upgrades included)
		rec   *recorder
		c     *realtime.Client
	)

	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{APIKey: "tls-secret-key"})
		target, err := url.Parse(srv.URL())
		Expect(err).NotTo(HaveOccurred())
		front = httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
		rec = &recorder{}
		c = nil
	})

	AfterEach(func() {
		if c != nil {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			Expect(c.Close(ctx)).To(Succeed())
		}
		front.CloseClientConnections()
		front.Close()
		closeAndCheckLeaks(nil, srv)
	})

	It("refuses an untrusted certificate on the socket and on HTTP, with an error that says so", func() {
		var err error
		c, err = realtime.New(front.URL, "tls-secret-key", fast(realtime.WithHandler(rec), realtime.WithMaxReconnectAttempts(1))...)
		Expect(err).NotTo(HaveOccurred())
		Expect(front.URL).To(HavePrefix("https://"))

		var dialErr error
		Eventually(func() error {
			for _, ev := range rec.all() {
				if s, ok := ev.(realtime.ConnectionStateEvent); ok && s.Err != nil {
					dialErr = s.Err
					return s.Err
				}
			}
			return nil
		}, wait).Should(HaveOccurred())
		Expect(dialErr).To(MatchError(realtime.ErrDial))
		var ce *realtime.ConnectError
		Expect(errors.As(dialErr, &ce)).To(BeTrue())
		Expect(ce.URL).To(HavePrefix("wss://"))
		Expect(dialErr.Error()).To(ContainSubstring("certificate"))
		Expect(dialErr.Error()).NotTo(ContainSubstring("tls-secret-key"))
		Expect(srv.Conns()).To(BeEmpty(), "no socket reached the server")

		ch, err := c.Channel("room1")
		Expect(err).NotTo(HaveOccurred())
		err = c.HTTPSend(specCtx(), ch, "e", map[string]int{"n": 1})
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("certificate"))
		Expect(err.Error()).NotTo(ContainSubstring("tls-secret-key"))
		Expect(srv.HTTPRequests()).To(BeEmpty(), "no HTTP request reached the server")
	})

	It("connects and sends over HTTP when the caller trusts the test CA (verification on, not skipped)", func() {
		pool := x509.NewCertPool()
		pool.AddCert(front.Certificate())
		dialer := *websocket.DefaultDialer
		dialer.TLSClientConfig = &tls.Config{RootCAs: pool}
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

		var err error
		c, err = realtime.New(front.URL, "tls-secret-key", fast(realtime.WithHandler(rec),
			realtime.WithDialer(&dialer), realtime.WithHTTPClient(hc))...)
		Expect(err).NotTo(HaveOccurred())
		ctx := specCtx()
		ch, _ := c.Channel("room1", realtime.BroadcastSelf(true))
		Expect(c.On(ch, realtime.Broadcast{Event: "*"})).To(Succeed())
		_, err = c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Broadcast(ctx, ch, "over-tls", map[string]int{"n": 1})).To(Succeed())
		Expect(c.HTTPSend(ctx, ch, "over-https", map[string]int{"n": 2})).To(Succeed())
		Eventually(rec.broadcastPayloads, wait).Should(ConsistOf(`over-tls {"n":1}`, `over-https {"n":2}`))
		Expect(srv.Conns()).To(HaveLen(1))
		hc.CloseIdleConnections()
	})

	It("has no InsecureSkipVerify anywhere outside tests", func() {
		var offenders []string
		err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.Contains(string(b), "InsecureSkipVerify") {
				offenders = append(offenders, path)
			}
			return nil
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(offenders).To(BeEmpty())
	})
})
