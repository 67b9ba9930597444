package realtimetest_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/test/realtimetest"
)

// post sends a POST and returns status, Content-Type and body.
func post(rawURL string, header http.Header, body []byte) (int, string, string) {
	req, err := http.NewRequest(http.MethodPost, rawURL, bytes.NewReader(body))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

var _ = Describe("HTTP broadcast API (§5.6)", func() {
	var (
		srv     *realtimetest.Server
		opts    realtimetest.Options
		clock   *fakeClock
		clients []*rawClient
		bearer  http.Header
		sockTok string
	)

	BeforeEach(func() {
		clock = newFakeClock()
		opts = realtimetest.Options{
			JWTSecret: testSecret,
			Now:       clock.Now,
			Authorize: func(claims map[string]any, sub, ext string, write bool) bool {
				return claims["role"] == "authenticated" || !strings.HasPrefix(sub, "secret")
			},
		}
		clients = nil
		sockTok = token("authenticated", clock.Unix(time.Hour))
		bearer = http.Header{
			"Authorization": {"Bearer " + token("authenticated", clock.Unix(time.Hour))},
			"Content-Type":  {"application/json"},
			"Apikey":        {token("anon", clock.Unix(time.Hour))},
		}
	})
	start := func() { srv = realtimetest.NewServer(opts) }
	connect := func(vsn string) *rawClient {
		c := dial(srv, vsn, url.Values{"apikey": {sockTok}})
		clients = append(clients, c)
		return c
	}
	AfterEach(func() {
		for _, c := range clients {
			c.close()
		}
		srv.Close()
	})

	// gateway is the batch URL as realtime-js builds it, query string included.
	gateway := func() string { return srv.BroadcastURL() + "?apikey=x&vsn=2.0.0" }
	single := func(topic, event, query string) string {
		return srv.URL() + "/realtime/v1/api/broadcast/" + topic + "/events/" + event + query
	}

	Describe("batch", func() {
		BeforeEach(start)

		It("delivers text broadcasts to the public and private namespaces and answers 202", func() {
			v1, v2 := connect("1.0.0"), connect("2.0.0")
			v1.joinOK("realtime:room1", `{"config":{}}`)
			v2.joinOK("realtime:room1", `{"config":{}}`)
			priv := connect("2.0.0")
			priv.joinOK("realtime:room1", `{"config":{"private":true}}`)
			secret := connect("2.0.0")
			secret.joinOK("realtime:secret-room", `{"config":{"private":true}}`)

			body := `{"messages":[
				{"topic":"room1","event":"cursor","payload":{"x":1}},
				{"topic":"room1","event":"chat","payload":{"text":"hi"},"private":true,"id":"8c1e5f4c-2b1a-4d3e-9f00-0123456789ab"},
				{"topic":"secret-room","event":"no","payload":{},"private":true}]}`
			// An anon token may not write to secret-*: that message is skipped.
			anon := bearer.Clone()
			anon.Set("Authorization", "Bearer "+token("anon", clock.Unix(time.Hour)))
			status, _, resp := post(gateway(), anon, []byte(body))
			Expect(status).To(Equal(http.StatusAccepted))
			Expect(resp).To(BeEmpty())

			w := v1.expectEvent("realtime:room1", "broadcast")
			Expect(string(w.Raw)).To(Equal(`{"topic":"realtime:room1","event":"broadcast","payload":{"payload":{"x":1},"event":"cursor","type":"broadcast"},"ref":null}`))
			w = v2.expectEvent("realtime:room1", "broadcast")
			Expect(string(w.Raw)).To(Equal(`[null,null,"realtime:room1","broadcast",{"payload":{"x":1},"event":"cursor","type":"broadcast"}]`))
			w = priv.expectEvent("realtime:room1", "broadcast")
			Expect(string(w.Raw)).To(Equal(`[null,null,"realtime:room1","broadcast",{"payload":{"text":"hi"},"event":"chat","type":"broadcast","meta":{"id":"8c1e5f4c-2b1a-4d3e-9f00-0123456789ab"}}]`))
			v2.sync()
			priv.sync()
			secret.sync()
			Expect(v2.all()).To(HaveLen(3), "join reply, one broadcast, heartbeat reply")
			Expect(priv.all()).To(HaveLen(3))
			Expect(secret.all()).To(HaveLen(2), "join reply, heartbeat reply")

			// The server's own path works too.
			status, _, _ = post(srv.URL()+realtimetest.BroadcastPath, bearer, []byte(`{"messages":[{"topic":"room1","event":"e","payload":{}}]}`))
			Expect(status).To(Equal(http.StatusAccepted))
			v2.expectEvent("realtime:room1", "broadcast")

			Eventually(srv.HTTPRequests, waitTimeout).Should(HaveLen(2)) // recorded after answering
			reqs := srv.HTTPRequests()
			Expect(reqs[0].Path).To(Equal(realtimetest.GatewayBroadcastPath))
			Expect(reqs[0].Query.Get("vsn")).To(Equal("2.0.0"))
			Expect(reqs[0].Status).To(Equal(http.StatusAccepted))
			Expect(string(reqs[0].Body)).To(Equal(body))
		})

		It("answers 401 without a valid token", func() {
			for _, h := range []http.Header{
				{"Content-Type": {"application/json"}},
				{"Authorization": {"Bearer potato"}},
				{"Authorization": {"Bearer " + token("anon", clock.Unix(-time.Second))}},
				{"Authorization": {"Bearer " + token("", clock.Unix(time.Hour))}},
				{"Apikey": {"sb_publishable_key"}},
			} {
				status, ctype, body := post(gateway(), h, []byte(`{"messages":[]}`))
				Expect(status).To(Equal(http.StatusUnauthorized), "%v", h)
				Expect(ctype).To(Equal("application/json; charset=utf-8"))
				Expect(body).To(Equal(`{"message":"Unauthorized"}`))
			}
			// The apikey header is used when there is no bearer token.
			status, _, _ := post(gateway(), http.Header{"Apikey": {token("anon", clock.Unix(time.Hour))}, "Content-Type": {"application/json"}}, []byte(`{"messages":[]}`))
			Expect(status).To(Equal(http.StatusAccepted))
		})

		It("answers 422 with per-message errors in the server's shape", func() {
			cases := map[string]string{
				`{}`:                `{"errors":{"messages":["can't be blank"]}}`,
				`{"messages":null}`: `{"errors":{"messages":["can't be blank"]}}`,
				`{"messages":"x"}`:  `{"errors":{"messages":["is invalid"]}}`,
				`{"messages":[1]}`:  `{"errors":{"messages":["is invalid"]}}`,
				`[{"topic":"t"}]`:   `{"errors":{"messages":["can't be blank"]}}`,
				`{"messages":[{"topic":"t"},{"payload":{},"event":" "},{"topic":"t","event":"e","payload":{}}]}`: `{"errors":{"messages":[{"event":["can't be blank"],"payload":["can't be blank"]},{"event":["can't be blank"],"topic":["can't be blank"]},{}]}}`,
				`{"messages":[{"topic":1,"event":"e","payload":[],"private":"maybe","id":"nope"}]}`:              `{"errors":{"messages":[{"id":["is invalid"],"payload":["is invalid"],"private":["is invalid"],"topic":["is invalid"]}]}}`,
			}
			for body, want := range cases {
				status, _, resp := post(gateway(), bearer, []byte(body))
				Expect(status).To(Equal(http.StatusUnprocessableEntity), body)
				Expect(resp).To(Equal(want), body)
			}
			// Without a JSON content type the body is not parsed.
			h := bearer.Clone()
			h.Del("Content-Type")
			status, _, resp := post(gateway(), h, []byte(`{"messages":[{"topic":"t","event":"e","payload":{}}]}`))
			Expect(status).To(Equal(http.StatusUnprocessableEntity))
			Expect(resp).To(Equal(`{"errors":{"messages":["can't be blank"]}}`))
		})

		It("answers 422 for payloads over the size limit", func() {
			srv.Close()
			opts.MaxPayloadBytes = 50
			start()
			big := `{"a":"` + strings.Repeat("x", 60) + `"}`
			status, _, resp := post(gateway(), bearer, []byte(`{"messages":[{"topic":"t","event":"e","payload":{}},{"topic":"t","event":"e","payload":`+big+`}]}`))
			Expect(status).To(Equal(http.StatusUnprocessableEntity))
			Expect(resp).To(Equal(`{"errors":{"messages":[{},{"payload":["Payload size exceeds tenant limit"]}]}}`))
		})

		It("answers 429 over HTTPRateLimit and MaxEventsPerSecond", func() {
			srv.Close()
			opts.HTTPRateLimit = 2
			start()
			one := []byte(`{"messages":[{"topic":"t","event":"e","payload":{}}]}`)
			for i := 0; i < 2; i++ {
				status, _, _ := post(gateway(), bearer, one)
				Expect(status).To(Equal(http.StatusAccepted))
			}
			status, _, resp := post(gateway(), bearer, one)
			Expect(status).To(Equal(http.StatusTooManyRequests))
			Expect(resp).To(Equal(`{"message":"You have exceeded your rate limit"}`))
			clock.Advance(time.Second) // a new window
			status, _, _ = post(gateway(), bearer, one)
			Expect(status).To(Equal(http.StatusAccepted))

			srv.Close()
			opts.HTTPRateLimit = 0
			opts.MaxEventsPerSecond = 3
			start()
			three := []byte(`{"messages":[{"topic":"t","event":"e","payload":{}},{"topic":"t","event":"e","payload":{}},{"topic":"t","event":"e","payload":{}}]}`)
			status, _, _ = post(gateway(), bearer, three)
			Expect(status).To(Equal(http.StatusAccepted))
			Expect(srv.EventsPerSecond()).To(Equal(3))
			status, _, resp = post(gateway(), bearer, one)
			Expect(status).To(Equal(http.StatusTooManyRequests))
			Expect(resp).To(Equal(`{"message":"Too many messages to broadcast, please reduce the batch size"}`))
			status, _, resp = post(single("t", "e", ""), bearer, []byte(`{}`))
			Expect(status).To(Equal(http.StatusTooManyRequests))
			Expect(resp).To(Equal(`{"message":"You have exceeded your rate limit"}`))
		})

		It("scripts answers with SetHTTPStatus and answers CORS preflights", func() {
			srv.SetHTTPStatus(http.StatusTooManyRequests, realtimetest.BodyRateLimited, 2)
			for i := 0; i < 2; i++ {
				status, ctype, resp := post(gateway(), nil, nil)
				Expect(status).To(Equal(http.StatusTooManyRequests))
				Expect(ctype).To(Equal("application/json; charset=utf-8"))
				Expect(resp).To(Equal(`{"message":"You have exceeded your rate limit"}`))
			}
			status, _, _ := post(gateway(), bearer, []byte(`{"messages":[]}`))
			Expect(status).To(Equal(http.StatusAccepted))

			srv.SetHTTPStatus(http.StatusUnauthorized, realtimetest.BodyUnauthorized, 0)
			for i := 0; i < 3; i++ {
				status, _, _ = post(single("t", "e", ""), bearer, []byte(`{}`))
				Expect(status).To(Equal(http.StatusUnauthorized))
			}
			srv.SetHTTPStatus(0, "", 0)
			status, _, _ = post(single("t", "e", ""), bearer, []byte(`{}`))
			Expect(status).To(Equal(http.StatusAccepted))

			req, _ := http.NewRequest(http.MethodOptions, gateway(), nil)
			resp, err := http.DefaultClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			_ = resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusNoContent))
			Expect(resp.Header.Get("Access-Control-Allow-Origin")).To(Equal("*"))
		})
	})

	Describe("single event", func() {
		BeforeEach(start)

		It("delivers JSON bodies as user broadcasts: kind 4 to V2, converted for V1", func() {
			v1, v2 := connect("1.0.0"), connect("2.0.0")
			v1.joinOK("realtime:room:42", `{"config":{}}`)
			v2.joinOK("realtime:room:42", `{"config":{}}`)
			status, _, resp := post(single("room%3A42", "user%2Fjoined", "?apikey=x&vsn=2.0.0"), bearer, []byte(`{"z":1,"a":"<b>","n":{"y":true,"x":null}}`))
			Expect(status).To(Equal(http.StatusAccepted))
			Expect(resp).To(BeEmpty())
			payload := `{"a":"<b>","n":{"x":null,"y":true},"z":1}`
			w := v2.expect("kind 4", func(w wire) bool { return w.Binary })
			Expect(w.Raw).To(Equal(append([]byte{4, 16, 11, 0, 1}, "realtime:room:42user/joined"+payload...)))
			w = v1.expectEvent("realtime:room:42", "broadcast")
			Expect(string(w.Raw)).To(Equal(`{"topic":"realtime:room:42","event":"broadcast","payload":{"event":"user/joined","payload":` + payload + `,"type":"broadcast"},"ref":null}`))

			// A JSON body that is not an object is wrapped by the parser.
			status, _, _ = post(single("room:42", "arr", ""), bearer, []byte(`[1,2]`))
			Expect(status).To(Equal(http.StatusAccepted))
			w = v2.expect("wrapped", func(w wire) bool { return w.Binary && w.UserEvent == "arr" })
			Expect(string(w.Payload)).To(Equal(`{"_json":[1,2]}`))
		})

		It("delivers octet-stream bodies as binary kind 4 to V2 only, and {} without a content type", func() {
			v1, v2 := connect("1.0.0"), connect("2.0.0")
			v1.joinOK("realtime:bin", `{"config":{}}`)
			v2.joinOK("realtime:bin", `{"config":{}}`)
			h := bearer.Clone()
			h.Set("Content-Type", "application/octet-stream")
			status, _, _ := post(single("bin", "blob", ""), h, []byte{0, 1, 2})
			Expect(status).To(Equal(http.StatusAccepted))
			w := v2.expect("binary", func(w wire) bool { return w.Binary && w.UserEvent == "blob" })
			Expect(w.Raw).To(Equal(append([]byte{4, 12, 4, 0, 0}, "realtime:binblob\x00\x01\x02"...)))

			h.Del("Content-Type")
			status, _, _ = post(single("bin", "empty", ""), h, []byte(`{"ignored":true}`))
			Expect(status).To(Equal(http.StatusAccepted))
			w = v2.expect("no content type", func(w wire) bool { return w.Binary && w.UserEvent == "empty" })
			Expect(string(w.Payload)).To(Equal(`{}`))
			w = v1.expectEvent("realtime:bin", "broadcast")
			Expect(string(w.Payload)).To(Equal(`{"event":"empty","payload":{},"type":"broadcast"}`))
			v1.sync()
			Expect(v1.all()).To(HaveLen(3), "join reply, the JSON broadcast, heartbeat reply: no binary")
		})

		It("answers 415, 422, 403 and 401 with the exact bodies", func() {
			h := bearer.Clone()
			h.Set("Content-Type", "text/plain")
			status, ctype, resp := post(single("t", "e", ""), h, []byte(`hi`))
			Expect(status).To(Equal(http.StatusUnsupportedMediaType))
			Expect(ctype).To(Equal("application/json; charset=utf-8"))
			Expect(resp).To(Equal(`{"error":"Unsupported Media Type. Use application/json or application/octet-stream"}`))

			srv.Close()
			opts.MaxPayloadBytes = 10
			start()
			status, _, resp = post(single("t", "e", ""), bearer, []byte(`{"a":"0123456789"}`))
			Expect(status).To(Equal(http.StatusUnprocessableEntity))
			Expect(resp).To(Equal(`{"errors":{"payload":["Payload size exceeds tenant limit"]}}`))

			anon := bearer.Clone()
			anon.Set("Authorization", "Bearer "+token("anon", clock.Unix(time.Hour)))
			status, _, resp = post(single("secret-room", "e", "?private=true"), anon, []byte(`{}`))
			Expect(status).To(Equal(http.StatusForbidden))
			Expect(resp).To(Equal(`{"message":"Unauthorized"}`))

			status, _, resp = post(single("t", "e", ""), http.Header{"Authorization": {"Bearer x"}}, []byte(`{}`))
			Expect(status).To(Equal(http.StatusUnauthorized))
			Expect(resp).To(Equal(`{"message":"Unauthorized"}`))
		})

		It("routes ?private=true to the private namespace", func() {
			pub, priv := connect("2.0.0"), connect("2.0.0")
			pub.joinOK("realtime:secret-room", `{"config":{}}`)
			priv.joinOK("realtime:secret-room", `{"config":{"private":true}}`)
			status, _, _ := post(single("secret-room", "e", "?private=true"), bearer, []byte(`{}`))
			Expect(status).To(Equal(http.StatusAccepted))
			priv.expect("private kind 4", func(w wire) bool { return w.Binary })
			pub.sync()
			Expect(pub.all()).NotTo(ContainElement(HaveField("Binary", true)))
		})
	})

	It("accepts the API key instead of a JWT without JWTSecret", func() {
		opts = realtimetest.Options{APIKey: "anon-key"}
		start()
		status, _, _ := post(gateway(), http.Header{"Apikey": {"anon-key"}, "Authorization": {"Bearer user-token"}, "Content-Type": {"application/json"}}, []byte(`{"messages":[]}`))
		Expect(status).To(Equal(http.StatusAccepted))
		status, _, _ = post(gateway(), http.Header{"Apikey": {"wrong"}}, []byte(`{"messages":[]}`))
		Expect(status).To(Equal(http.StatusUnauthorized))
	})
})
