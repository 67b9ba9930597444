package realtimetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/test/realtimetest"
)

const testSecret = "super-secret-jwt-token-with-at-least-32-characters-long"

// fakeClock is an adjustable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Unix returns the clock's time in seconds plus d.
func (c *fakeClock) Unix(d time.Duration) int64 { return c.Now().Add(d).Unix() }

// token signs claims role (if not empty) and exp (if not 0).
func token(role string, exp int64) string {
	claims := map[string]any{"sub": "user-1"}
	if role != "" {
		claims["role"] = role
	}
	if exp != 0 {
		claims["exp"] = exp
	}
	return realtimetest.SignJWT(testSecret, claims)
}

// wireText renders the text form of a server frame for a vsn: V2 arrays
// carry join_ref, V1 objects never do. nil refs are JSON null.
func wireText(vsn string, joinRef, ref any, topic, event, payload string) string {
	js := func(v any) string {
		if v == nil {
			return "null"
		}
		return jsonString(v.(string))
	}
	if vsn == "1.0.0" {
		return `{"topic":` + jsonString(topic) + `,"event":` + jsonString(event) + `,"payload":` + payload + `,"ref":` + js(ref) + `}`
	}
	return "[" + js(joinRef) + "," + js(ref) + "," + jsonString(topic) + "," + jsonString(event) + "," + payload + "]"
}

// systemError is the payload of a channel shutdown system message.
func systemError(sub, message string) string {
	return `{"channel":` + jsonString(sub) + `,"extension":"system","message":` + jsonString(message) + `,"status":"error"}`
}

// expectShutdown waits for the system error then the phx_close of a
// channel shutdown (§8.1) and checks both frames byte for byte.
func expectShutdown(c *rawClient, topic, joinRef, message string) {
	sub := strings.TrimPrefix(topic, "realtime:")
	w := c.expectOffset(1, "system on "+topic, func(w wire) bool { return w.Topic == topic && w.Event == "system" })
	ExpectWithOffset(1, string(w.Raw)).To(Equal(wireText(c.vsn, joinRef, nil, topic, "system", systemError(sub, message))))
	w = c.expectOffset(1, "phx_close on "+topic, func(w wire) bool { return w.Topic == topic && w.Event == "phx_close" })
	ExpectWithOffset(1, string(w.Raw)).To(Equal(wireText(c.vsn, joinRef, joinRef, topic, "phx_close", "{}")))
}

// joinError joins and returns the error reason.
func joinError(c *rawClient, topic, payload string) string {
	jr := c.join(topic, payload)
	r := c.expectReplyOffset(1, topic, jr)
	ExpectWithOffset(1, replyStatus(r)).To(Equal("error"), string(r.Payload))
	return replyReason(r)
}

var _ = Describe("JWT authentication", func() {
	var (
		srv     *realtimetest.Server
		opts    realtimetest.Options
		clock   *fakeClock
		clients []*rawClient
	)

	BeforeEach(func() {
		clock = newFakeClock()
		opts = realtimetest.Options{JWTSecret: testSecret, Now: clock.Now}
		clients = nil
		srv = nil
	})
	start := func() { srv = realtimetest.NewServer(opts) }
	connect := func(vsn, tok string) *rawClient {
		c := dial(srv, vsn, url.Values{"apikey": {tok}})
		clients = append(clients, c)
		return c
	}
	AfterEach(func() {
		for _, c := range clients {
			c.close()
		}
		if srv != nil {
			srv.Close()
		}
	})

	It("SignJWT produces a verifiable HS256 token", func() {
		tok := realtimetest.SignJWT("s", map[string]any{"role": "anon", "exp": 2})
		parts := strings.Split(tok, ".")
		Expect(parts).To(HaveLen(3))
		Expect(parts[0]).To(Equal("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9")) // {"alg":"HS256","typ":"JWT"}
	})

	Describe("handshake (§1.5)", func() {
		BeforeEach(start)

		It("answers every refused token with the exact status and body", func() {
			// A token whose header says {"alg":"RS256","typ":"JWT"}.
			rs256 := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + strings.Split(token("anon", clock.Unix(time.Hour)), ".")[1] + ".sig"
			cases := []struct {
				query  url.Values
				status int
				body   string
			}{
				{url.Values{}, 401, `{"error":"API key is missing"}`},
				{url.Values{"apikey": {""}}, 401, `{"error":"The token provided is not a valid JWT"}`},
				{url.Values{"apikey": {"potato"}}, 401, `{"error":"The token provided is not a valid JWT"}`},
				{url.Values{"apikey": {"sb_publishable_abc"}}, 401, `{"error":"The token provided is not a valid JWT"}`},
				{url.Values{"apikey": {realtimetest.SignJWT("other-secret", map[string]any{"role": "anon", "exp": clock.Unix(time.Hour)})}}, 401, `{"error":"Failed to validate JWT signature"}`},
				{url.Values{"apikey": {token("anon", clock.Unix(-time.Second))}}, 401, `{"error":"Token has expired"}`},
				{url.Values{"apikey": {token("", clock.Unix(time.Hour))}}, 401, "{\"error\":\"Fields `role` and `exp` are required in JWT\"}"},
				{url.Values{"apikey": {token("anon", 0)}}, 401, "{\"error\":\"Fields `role` and `exp` are required in JWT\"}"},
				{url.Values{"apikey": {rs256}}, 401, `{"error":"Failed to generate JWT signer, check your JWT secret or JWKS configuration"}`},
				{url.Values{"apikey": {realtimetest.SignJWT(testSecret, map[string]any{"role": "anon", "exp": clock.Unix(time.Hour), "iat": "now"})}}, 500, `{"error":"Error connecting to Realtime"}`},
			}
			for _, tc := range cases {
				status, ctype, body := dialStatus(dialURL(srv, "2.0.0", tc.query), nil)
				Expect(status).To(Equal(tc.status), "query %v", tc.query)
				Expect(body).To(Equal(tc.body), "query %v", tc.query)
				Expect(ctype).To(Equal("application/json; charset=utf-8"))
			}
			Expect(srv.Conns()).To(BeEmpty())
		})

		It("accepts a valid token, from x-api-key before apikey, URL-decoded and without whitespace", func() {
			good := token("anon", clock.Unix(time.Hour))
			c := connect("2.0.0", good)
			c.sync()

			// The header wins even when the query token is valid.
			status, _, _ := dialStatus(dialURL(srv, "2.0.0", url.Values{"apikey": {good}}), http.Header{"X-Api-Key": {"potato"}})
			Expect(status).To(Equal(http.StatusUnauthorized))
			ws, _, err := websocket.DefaultDialer.Dial(dialURL(srv, "2.0.0", url.Values{"apikey": {"potato"}}), http.Header{"X-Api-Key": {good}})
			Expect(err).NotTo(HaveOccurred())
			_ = ws.Close()

			// A token with a line break and percent-escapes still verifies.
			mangled := strings.Replace(good, ".", "%2E\n", 1)
			ws, _, err = websocket.DefaultDialer.Dial(dialURL(srv, "2.0.0", url.Values{"apikey": {mangled}}), nil)
			Expect(err).NotTo(HaveOccurred())
			_ = ws.Close()
		})

		It("delays refusals by ConnectErrorDelay", func() {
			srv.Close()
			opts.ConnectErrorDelay = 300 * time.Millisecond
			start()
			t0 := time.Now()
			status, _, _ := dialStatus(dialURL(srv, "2.0.0", url.Values{"apikey": {"potato"}}), nil)
			Expect(status).To(Equal(http.StatusUnauthorized))
			Expect(time.Since(t0)).To(BeNumerically(">=", 300*time.Millisecond))

			// A bad vsn is refused by Phoenix before connect: no delay.
			t0 = time.Now()
			status, _, _ = dialStatus(dialURL(srv, "9.0.0", url.Values{"apikey": {"potato"}}), nil)
			Expect(status).To(Equal(http.StatusForbidden))
			Expect(time.Since(t0)).To(BeNumerically("<", 300*time.Millisecond))
		})

		It("Close interrupts a pending ConnectErrorDelay", func() {
			srv.Close()
			opts.ConnectErrorDelay = time.Hour
			start()
			done := make(chan struct{})
			go func() {
				defer close(done)
				ws, _, err := websocket.DefaultDialer.Dial(dialURL(srv, "2.0.0", url.Values{"apikey": {"potato"}}), nil)
				if err == nil {
					_ = ws.Close()
				}
			}()
			sleeping := func() bool {
				for _, g := range leakcheck.Goroutines() {
					if strings.Contains(g, "(*Server).sleep") {
						return true
					}
				}
				return false
			}
			Eventually(sleeping, waitTimeout, pollEvery).Should(BeTrue())
			t0 := time.Now()
			srv.Close()
			Expect(time.Since(t0)).To(BeNumerically("<", waitTimeout))
			Eventually(done, waitTimeout).Should(BeClosed())
			Expect(sleeping()).To(BeFalse())
		})
	})

	for _, vsn := range vsns {
		Describe("channel token, vsn "+vsn+" (§3.3 step 7)", func() {
			BeforeEach(start)

			It("refuses bad channel tokens with the exact prefixed reasons", func() {
				c := connect(vsn, token("anon", clock.Unix(time.Hour)))
				join := func(tok string) string {
					return joinError(c, "realtime:room", `{"config":{},"access_token":`+jsonString(tok)+`}`)
				}
				Expect(join(token("authenticated", clock.Unix(-100*time.Second)))).To(Equal("InvalidJWTToken: Token has expired 100 seconds ago"))
				Expect(join(token("", clock.Unix(time.Hour)))).To(Equal("InvalidJWTToken: Fields `role` and `exp` are required in JWT"))
				Expect(join("potato")).To(Equal("MalformedJWT: The token provided is not a valid JWT"))
				Expect(join(realtimetest.SignJWT("nope", map[string]any{"role": "anon", "exp": clock.Unix(time.Hour)}))).To(Equal("JwtSignatureError: Failed to validate JWT signature"))
				Expect(srv.Conns()[0].Joined()).To(BeEmpty())

				// user_token wins over access_token.
				jr, _ := c.joinOK("realtime:room", `{"config":{},"access_token":"potato","user_token":`+jsonString(token("authenticated", clock.Unix(time.Hour)))+`}`)
				Expect(jr).NotTo(BeEmpty())
				Expect(srv.Conns()[0].ChannelClaims("room")).To(HaveKeyWithValue("role", "authenticated"))
			})

			It("ignores sb_ tokens and falls back to the socket token", func() {
				sock := token("anon", clock.Unix(30*time.Second))
				c := connect(vsn, sock)
				c.joinOK("realtime:a", `{"config":{},"access_token":"sb_publishable_xyz"}`)
				Expect(srv.Conns()[0].ChannelClaims("a")).To(HaveKeyWithValue("role", "anon"))
				c.joinOK("realtime:b", `{"config":{}}`)

				// Once the socket token has expired, joins without a channel token fail.
				clock.Advance(time.Minute)
				Expect(joinError(c, "realtime:c", `{"config":{}}`)).To(Equal("InvalidJWTToken: Token has expired 30 seconds ago"))
				Expect(joinError(c, "realtime:c", `{"config":{},"access_token":"sb_secret"}`)).To(Equal("InvalidJWTToken: Token has expired 30 seconds ago"))
			})

			It("keeps the pipeline order: topic, private_only, channel limit, token, read policy, replay", func() {
				srv.Close()
				opts.PrivateOnly = true
				opts.MaxChannelsPerClient = 1
				opts.Authorize = func(claims map[string]any, sub, ext string, write bool) bool { return sub != "denied" }
				start()
				c := connect(vsn, token("anon", clock.Unix(time.Hour)))
				bad := `"access_token":"potato"`
				Expect(joinError(c, "realtime:", `{"config":{"private":true},`+bad+`}`)).To(Equal("TopicNameRequired: You must provide a topic name"))
				Expect(joinError(c, "realtime:pub", `{"config":{"private":false},`+bad+`}`)).To(Equal("PrivateOnly: This project only allows private channels"))
				Expect(joinError(c, "realtime:denied", `{"config":{"private":true},`+bad+`}`)).To(Equal("MalformedJWT: The token provided is not a valid JWT"))
				Expect(joinError(c, "realtime:denied", `{"config":{"private":true,"broadcast":{"replay":{"since":"x"}}}}`)).
					To(Equal("Unauthorized: You do not have permissions to read from this Channel topic: denied"))
				Expect(joinError(c, "realtime:ok", `{"config":{"private":true,"broadcast":{"replay":{"since":"x"}}}}`)).
					To(Equal("UnableToReplayMessages: Replay params are not valid"))
				c.joinOK("realtime:ok", `{"config":{"private":true}}`)
				Expect(joinError(c, "realtime:other", `{"config":{"private":true},`+bad+`}`)).To(Equal("ChannelRateLimitReached: Too many channels"))
			})

			It("holds join errors back by JoinErrorDelay", func() {
				srv.Close()
				opts.JoinErrorDelay = 300 * time.Millisecond
				start()
				c := connect(vsn, token("anon", clock.Unix(time.Hour)))
				t0 := time.Now()
				Expect(joinError(c, "realtime:", `{"config":{}}`)).To(Equal(realtimetest.ReasonTopicNameRequired))
				Expect(time.Since(t0)).To(BeNumerically(">=", 300*time.Millisecond))
				t0 = time.Now()
				c.joinOK("realtime:fine", `{"config":{}}`)
				Expect(time.Since(t0)).To(BeNumerically("<", 300*time.Millisecond))
			})

			It("refreshes with access_token silently and ignores equal, null and sb_ tokens", func() {
				t1 := token("anon", clock.Unix(time.Hour))
				c := connect(vsn, t1)
				jr, _ := c.joinOK("realtime:room", `{"config":{},"access_token":`+jsonString(t1)+`}`)
				m := c.mark()
				t2 := token("authenticated", clock.Unix(2*time.Hour))
				for _, p := range []string{`{"access_token":` + jsonString(t1) + `}`, `{"access_token":null}`, `{"access_token":"sb_publishable_x"}`, `{"access_token":` + jsonString(t2) + `}`} {
					c.push(jr, "realtime:room", "access_token", p)
				}
				c.sync()
				Expect(c.since(m)).To(HaveLen(1), "only the heartbeat reply")
				Expect(srv.Conns()[0].ChannelClaims("room")).To(HaveKeyWithValue("role", "authenticated"))
				Expect(srv.AccessTokens()).To(HaveLen(4))
				Expect(srv.AccessTokens()[3].Token).To(Equal(t2))
			})

			It("shuts the channel down on a refused refresh", func() {
				c := connect(vsn, token("anon", clock.Unix(time.Hour)))
				refresh := func(topic, tok string) string {
					jr, _ := c.joinOK(topic, `{"config":{}}`)
					c.push(jr, topic, "access_token", `{"access_token":`+jsonString(tok)+`}`)
					return jr
				}
				jr := refresh("realtime:a", token("anon", clock.Unix(-7*time.Second)))
				expectShutdown(c, "realtime:a", jr, "Token has expired 7 seconds ago")
				jr = refresh("realtime:b", token("", clock.Unix(time.Hour)))
				expectShutdown(c, "realtime:b", jr, "Fields `role` and `exp` are required in JWT")
				jr = refresh("realtime:c", "potato")
				expectShutdown(c, "realtime:c", jr, "The token provided is not a valid JWT")
				Expect(srv.Conns()[0].Joined()).To(BeEmpty())

				// The socket and other channels are unaffected; a rejoin works.
				c.joinOK("realtime:a", `{"config":{}}`)
			})

			It("re-checks the token expiry and shuts the channel down when it has expired (§8.2)", func() {
				c := connect(vsn, token("anon", clock.Unix(time.Hour)))
				jr, _ := c.joinOK("realtime:room", `{"config":{},"access_token":`+jsonString(token("anon", clock.Unix(10*time.Second)))+`}`)
				jr2, _ := c.joinOK("realtime:later", `{"config":{},"access_token":`+jsonString(token("anon", clock.Unix(10*time.Second)))+`}`)
				c.push(jr2, "realtime:later", "access_token", `{"access_token":`+jsonString(token("anon", clock.Unix(100*time.Second)))+`}`)
				c.sync()
				Expect(srv.CheckTokens()).To(Equal(0))

				clock.Advance(20 * time.Second)
				Expect(srv.CheckTokens()).To(Equal(1))
				expectShutdown(c, "realtime:room", jr, "Token has expired 10 seconds ago")
				Expect(srv.Conns()[0].Joined()).To(Equal([]string{"realtime:later"}))

				clock.Advance(100 * time.Second)
				Expect(srv.CheckTokens()).To(Equal(1))
				expectShutdown(c, "realtime:later", jr2, "Token has expired 20 seconds ago")
			})
		})
	}

	It("runs the expiry re-check on a real timer: Token has expired 0 seconds ago", func() {
		opts.Now = nil
		opts.TokenCheckInterval = 50 * time.Millisecond
		start()
		// At least half a second of validity left when joining.
		exp := time.Now().Add(1500 * time.Millisecond).Unix()
		c := connect("2.0.0", realtimetest.SignJWT(testSecret, map[string]any{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()}))
		jr, _ := c.joinOK("realtime:room", `{"config":{},"access_token":`+jsonString(realtimetest.SignJWT(testSecret, map[string]any{"role": "anon", "exp": exp}))+`}`)
		expectShutdown(c, "realtime:room", jr, "Token has expired 0 seconds ago")
	})

	It("ExpireTokens shuts every channel down, with or without a secret", func() {
		opts = realtimetest.Options{}
		start()
		c := connect("2.0.0", "anything")
		jr, _ := c.joinOK("realtime:a", `{"config":{}}`)
		jr2, _ := c.joinOK("realtime:b", `{"config":{}}`)
		Expect(srv.ExpireTokens()).To(Equal(2))
		for topic, ref := range map[string]string{"realtime:a": jr, "realtime:b": jr2} {
			c.cursor = 0
			expectShutdown(c, topic, ref, "Token has expired 0 seconds ago")
		}
		Expect(srv.ExpireTokens()).To(Equal(0))
	})

	Describe("private channels (§8.3)", func() {
		type call struct {
			Role  any
			Sub   string
			Ext   string
			Write bool
		}
		var (
			mu    sync.Mutex
			calls []call
		)
		BeforeEach(func() {
			calls = nil
			// authenticated may read and write everything; anon may only
			// read presence; "reader" may read but not write.
			opts.Authorize = func(claims map[string]any, sub, ext string, write bool) bool {
				mu.Lock()
				calls = append(calls, call{claims["role"], sub, ext, write})
				mu.Unlock()
				switch claims["role"] {
				case "authenticated":
					return true
				case "reader":
					return !write
				case "anon":
					return ext == "presence" && !write
				}
				return false
			}
			start()
		})

		It("authorizes joins with the read policies and passes claims and sub-topic", func() {
			c := connect("2.0.0", token("anon", clock.Unix(time.Hour)))
			Expect(joinError(c, "realtime:room:1", `{"config":{"private":true}}`)).
				To(Equal("Unauthorized: You do not have permissions to read from this Channel topic: room:1"))
			mu.Lock()
			Expect(calls).To(ContainElement(call{"anon", "room:1", "broadcast", false}))
			mu.Unlock()
			// Presence read is enough when presence is enabled.
			c.joinOK("realtime:room:1", `{"config":{"private":true,"presence":{"enabled":true}}}`)
			// Public channels are never authorized.
			c.joinOK("realtime:public", `{"config":{}}`)
			c.sync()
		})

		It("withholds broadcasts from channels without broadcast read, and drops writes without permission", func() {
			anon := connect("2.0.0", token("anon", clock.Unix(time.Hour)))
			reader := connect("2.0.0", token("reader", clock.Unix(time.Hour)))
			writer := connect("2.0.0", token("authenticated", clock.Unix(time.Hour)))
			anon.joinOK("realtime:r", `{"config":{"private":true,"presence":{"enabled":true}}}`)
			anon.expectEvent("realtime:r", "presence_state")
			rjr, _ := reader.joinOK("realtime:r", `{"config":{"private":true,"broadcast":{"ack":true},"presence":{"enabled":true}}}`)
			wjr, _ := writer.joinOK("realtime:r", `{"config":{"private":true,"broadcast":{"ack":true}}}`)

			// The writer's broadcast reaches the reader but not anon.
			ref := writer.push(wjr, "realtime:r", "broadcast", `{"type":"broadcast","event":"e","payload":{}}`)
			Expect(replyStatus(writer.expectReply("realtime:r", ref))).To(Equal("ok"))
			reader.expectEvent("realtime:r", "broadcast")
			anon.sync()
			Expect(anon.all()).NotTo(ContainElement(HaveField("Event", "broadcast")))

			// The reader's broadcast is dropped without ack; its track is refused.
			m := writer.mark()
			rm := reader.mark()
			reader.push(rjr, "realtime:r", "broadcast", `{"type":"broadcast","event":"e","payload":{}}`)
			reader.push(rjr, "realtime:r", "broadcast", `{"type":"broadcast","event":"e","payload":{}}`)
			ref = reader.push(rjr, "realtime:r", "presence", `{"type":"presence","event":"track","payload":{"a":1}}`)
			r := reader.expectReply("realtime:r", ref)
			Expect(string(r.Payload)).To(Equal(`{"status":"error","response":{}}`))
			reader.sync()
			writer.sync()
			Expect(writer.since(m)).NotTo(ContainElement(HaveField("Event", "broadcast")))
			Expect(reader.since(rm)).To(HaveLen(2), "the track reply and the heartbeat reply only")

			// Write policies are evaluated once per token.
			mu.Lock()
			n := 0
			for _, c := range calls {
				if c.Role == "reader" && c.Write && c.Ext == "broadcast" {
					n++
				}
			}
			mu.Unlock()
			Expect(n).To(Equal(1))
		})

		It("re-evaluates the read policies on refresh", func() {
			c := connect("2.0.0", token("authenticated", clock.Unix(time.Hour)))
			jr, _ := c.joinOK("realtime:x", `{"config":{"private":true}}`)
			c.push(jr, "realtime:x", "access_token", `{"access_token":`+jsonString(token("anon", clock.Unix(time.Hour)))+`}`)
			expectShutdown(c, "realtime:x", jr, "You do not have permissions to read from this Channel topic: x")

			jr, _ = c.joinOK("realtime:y", `{"config":{"private":true,"presence":{"enabled":true}}}`)
			c.push(jr, "realtime:y", "access_token", `{"access_token":`+jsonString(token("anon", clock.Unix(time.Hour)))+`}`)
			expectShutdown(c, "realtime:y", jr, "You no longer have permission to read from this Channel topic: y")
		})

		It("replays stored messages to private channels (§5.5)", func() {
			t0 := clock.Now()
			for i, ev := range []string{"old", "a", "b", "c"} {
				srv.StoreMessage(realtimetest.StoredMessage{
					ID: "00000000-0000-4000-8000-00000000000" + string(rune('0'+i)), Topic: "realtime:room", Event: ev,
					Payload: json.RawMessage(`{"i": ` + string(rune('0'+i)) + `}`), Private: true,
					InsertedAt: t0.Add(time.Duration(i) * time.Second),
				})
			}
			srv.StoreMessage(realtimetest.StoredMessage{ID: "00000000-0000-4000-8000-000000000009", Topic: "room", Event: "bin", Binary: []byte{1, 2}, Private: true, InsertedAt: t0.Add(9 * time.Second)})
			srv.StoreMessage(realtimetest.StoredMessage{Topic: "room", Event: "public", Private: false, InsertedAt: t0.Add(5 * time.Second)})

			since := t0.Add(time.Second).UnixMilli()
			for _, vsn := range vsns {
				c := connect(vsn, token("authenticated", clock.Unix(time.Hour)))
				jr, _ := c.joinOK("realtime:room", `{"config":{"private":true,"broadcast":{"replay":{"since":`+jsonInt(since)+`,"limit":3}}}}`)
				want := []string{
					wireText(vsn, jr, nil, "realtime:room", "broadcast", `{"payload":{"i":2},"event":"b","type":"broadcast","meta":{"replayed":true,"id":"00000000-0000-4000-8000-000000000002"}}`),
					wireText(vsn, jr, nil, "realtime:room", "broadcast", `{"payload":{"i":3},"event":"c","type":"broadcast","meta":{"replayed":true,"id":"00000000-0000-4000-8000-000000000003"}}`),
				}
				c.sync()
				var got []string
				var bins [][]byte
				for _, w := range c.all() {
					switch {
					case w.Binary:
						bins = append(bins, w.Raw)
					case w.Event == "broadcast":
						got = append(got, string(w.Raw))
					}
				}
				Expect(got).To(Equal(want), "oldest first, newest 3 rows, binary rows skipped on V1")
				if vsn == "2.0.0" {
					meta := `{"replayed":true,"id":"00000000-0000-4000-8000-000000000009"}`
					Expect(bins).To(Equal([][]byte{append(append([]byte{4, 13, 3, byte(len(meta)), 0}, "realtime:roombin"+meta...), 1, 2)}))
				} else {
					Expect(bins).To(BeEmpty())
				}
			}
			c := connect("2.0.0", token("authenticated", clock.Unix(time.Hour)))
			Expect(joinError(c, "realtime:room", `{"config":{"broadcast":{"replay":{"since":0}}}}`)).To(Equal("UnableToReplayMessages: Replay is not allowed for public channels"))
			Expect(joinError(c, "realtime:room", `{"config":{"private":true,"broadcast":{"replay":{"since":1.5}}}}`)).To(Equal("UnableToReplayMessages: Replay params are not valid"))
			Expect(joinError(c, "realtime:room", `{"config":{"private":true,"broadcast":{"replay":{"since":0,"limit":"x"}}}}`)).To(Equal("UnableToReplayMessages: Replay params are not valid"))
			// realtime_channel.ex: "since" is required (Messages.replay wants an integer).
			Expect(joinError(c, "realtime:room", `{"config":{"private":true,"broadcast":{"replay":{}}}}`)).To(Equal("UnableToReplayMessages: Replay params are not valid"))
			Expect(joinError(c, "realtime:room", `{"config":{"private":true,"broadcast":{"replay":{"since":null,"limit":3}}}}`)).To(Equal("UnableToReplayMessages: Replay params are not valid"))
			Expect(srv.StoredMessages()).To(HaveLen(6))
			// Without "limit" up to 25 rows are replayed.
			for i := 0; i < 30; i++ {
				srv.StoreMessage(realtimetest.StoredMessage{Topic: "many", Event: "e", Payload: json.RawMessage(`{}`), Private: true})
			}
			jr, _ := c.joinOK("realtime:many", `{"config":{"private":true,"broadcast":{"replay":{"since":0}}}}`)
			Eventually(func() int {
				n := 0
				for _, w := range c.all() {
					if w.Topic == "realtime:many" && w.Event == "broadcast" && w.JoinRef == jr {
						n++
					}
				}
				return n
			}, waitTimeout, pollEvery).Should(Equal(25))
		})
	})

	It("leaves no goroutine behind with pending token re-checks", func() {
		opts.Now = nil
		start()
		c := dial(srv, "2.0.0", url.Values{"apikey": {realtimetest.SignJWT(testSecret, map[string]any{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()})}})
		c.joinOK("realtime:a", `{"config":{}}`)
		c.joinOK("realtime:b", `{"config":{}}`)
		srv.Close()
		c.close()
		Eventually(leakcheck.Goroutines, waitTimeout).Should(BeEmpty())
	})
})

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
