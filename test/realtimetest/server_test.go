package realtimetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/test/realtimetest"
)

var vsns = []string{"1.0.0", "2.0.0"}

// checkRefs asserts the refs of a server frame: V2 arrays carry join_ref
// and ref; V1 objects carry ref only and never a "join_ref" key.
func checkRefs(c *rawClient, w wire, joinRef, ref any) {
	if c.vsn == "1.0.0" {
		ExpectWithOffset(1, w.HasJoinRefKey).To(BeFalse(), "V1 frames never carry join_ref: %s", w.Raw)
	} else {
		ExpectWithOffset(1, w.JoinRef).To(refMatcher(joinRef), "join_ref of %s", w.Raw)
	}
	ExpectWithOffset(1, w.Ref).To(refMatcher(ref), "ref of %s", w.Raw)
}

// refMatcher matches a decoded ref: nil for JSON null, else the string.
func refMatcher(v any) types.GomegaMatcher {
	if v == nil {
		return BeNil()
	}
	return Equal(v)
}

// presenceDiff is a decoded presence_diff payload.
type presenceDiff struct {
	Joins  map[string]struct{ Metas []map[string]any } `json:"joins"`
	Leaves map[string]struct{ Metas []map[string]any } `json:"leaves"`
}

func decodeDiff(w wire) presenceDiff {
	var d presenceDiff
	ExpectWithOffset(1, json.Unmarshal(w.Payload, &d)).To(Succeed(), string(w.Payload))
	return d
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

var _ = Describe("Server", func() {
	var (
		srv     *realtimetest.Server
		opts    realtimetest.Options
		clients []*rawClient
	)

	// connect dials a client that is closed after the spec.
	connect := func(vsn string) *rawClient {
		c := dial(srv, vsn, nil)
		clients = append(clients, c)
		return c
	}

	BeforeEach(func() {
		opts = realtimetest.Options{}
		clients = nil
		srv = nil
	})

	// start creates the server with the spec's opts.
	start := func() {
		srv = realtimetest.NewServer(opts)
	}

	AfterEach(func() {
		for _, c := range clients {
			c.close()
		}
		if srv != nil {
			srv.Close()
		}
	})

	Describe("handshake", func() {
		BeforeEach(func() {
			opts.APIKey = "anon-key"
			start()
		})

		It("rejects an unsupported vsn with 403 and an empty body", func() {
			for _, v := range []string{"3.0.0", "1.1.0", "abc", ""} {
				q := url.Values{"apikey": {"anon-key"}, "vsn": {v}}
				status, _, body := dialStatus(srv.WebSocketURL()+"?"+q.Encode(), nil)
				Expect(status).To(Equal(http.StatusForbidden), "vsn %q", v)
				Expect(body).To(BeEmpty())
			}
		})

		It("rejects a missing API key with 401", func() {
			status, ctype, body := dialStatus(dialURL(srv, "2.0.0", nil), nil)
			Expect(status).To(Equal(http.StatusUnauthorized))
			Expect(ctype).To(HavePrefix("application/json"))
			Expect(body).To(Equal(`{"error":"API key is missing"}`))
		})

		It("rejects a wrong API key with 401", func() {
			status, ctype, body := dialStatus(dialURL(srv, "1.0.0", url.Values{"apikey": {"nope"}}), nil)
			Expect(status).To(Equal(http.StatusUnauthorized))
			Expect(ctype).To(HavePrefix("application/json"))
			Expect(body).To(Equal(`{"error":"The token provided is not a valid JWT"}`))
		})

		It("prefers the x-api-key header over the query parameter", func() {
			h := http.Header{"X-Api-Key": {"anon-key"}}
			ws, _, err := websocket.DefaultDialer.Dial(dialURL(srv, "2.0.0", url.Values{"apikey": {"wrong"}}), h)
			Expect(err).NotTo(HaveOccurred())
			_ = ws.Close()

			status, _, _ := dialStatus(dialURL(srv, "2.0.0", url.Values{"apikey": {"anon-key"}}), http.Header{"X-Api-Key": {"wrong"}})
			Expect(status).To(Equal(http.StatusUnauthorized))
		})

		It("serves both paths, negotiates vsn and records the query", func() {
			q := url.Values{"apikey": {"anon-key"}, "log_level": {"info"}, "vsn": {"2.0.0"}}
			ws1, _, err := websocket.DefaultDialer.Dial(srv.WebSocketURL()+"?"+q.Encode(), nil)
			Expect(err).NotTo(HaveOccurred())
			defer ws1.Close()
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			_, err = srv.WaitForConns(ctx, 1)
			Expect(err).NotTo(HaveOccurred())
			direct := strings.Replace(srv.WebSocketURL(), realtimetest.GatewayPath, realtimetest.SocketPath, 1)
			ws2, _, err := websocket.DefaultDialer.Dial(direct+"?apikey=anon-key", nil)
			Expect(err).NotTo(HaveOccurred())
			defer ws2.Close()

			conns, err := srv.WaitForConns(ctx, 2)
			Expect(err).NotTo(HaveOccurred())
			Expect(conns).To(HaveLen(2))
			Expect(conns[0].ID()).To(Equal(1))
			Expect(conns[0].Vsn()).To(Equal(frame.V2))
			Expect(conns[0].Query()).To(Equal(q))
			Expect(conns[0].Path()).To(Equal(realtimetest.GatewayPath))
			Expect(conns[1].Vsn()).To(Equal(frame.V1), "absent vsn means 1.0.0")
			Expect(conns[1].Path()).To(Equal(realtimetest.SocketPath))

			hs := srv.Handshakes()
			Expect(hs).To(HaveLen(2))
			Expect(hs[0].Status).To(Equal(http.StatusSwitchingProtocols))
			Expect(hs[0].ConnID).To(Equal(1))
		})

		It("records rejected handshakes", func() {
			_, _, _ = dialStatus(dialURL(srv, "2.0.0", nil), nil)
			Expect(srv.Handshakes()).To(ConsistOf(HaveField("Status", http.StatusUnauthorized)))
			Expect(srv.Conns()).To(BeEmpty())
		})
	})

	for _, vsn := range vsns {
		Describe("vsn "+vsn, func() {
			BeforeEach(start)

			It("answers heartbeats on topic phoenix", func() {
				c := connect(vsn)
				ref := c.heartbeat()
				r := c.expectReply("phoenix", ref)
				checkRefs(c, r, nil, ref)
				if vsn == "1.0.0" {
					Expect(string(r.Raw)).To(Equal(`{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"` + ref + `"}`))
				} else {
					Expect(string(r.Raw)).To(Equal(`[null,"` + ref + `","phoenix","phx_reply",{"status":"ok","response":{}}]`))
				}
			})

			It("joins and echoes postgres_changes bindings with integer ids", func() {
				c := connect(vsn)
				b1 := `{"event":"INSERT","schema":"public"}`
				b2 := `{"schema":"public","event":"INSERT"}`
				b3 := `{"event":"*","schema":"public","table":"todos","filter":"id=eq.1","select":["id","title"]}`
				payload := `{"config":{"broadcast":{"ack":false,"self":false},"presence":{"enabled":false,"key":""},"postgres_changes":[` +
					b1 + `,` + b2 + `,null,` + b3 + `],"private":false},"access_token":"tok"}`
				jr, r := c.joinOK("realtime:room1", payload)
				checkRefs(c, r, jr, jr)

				id1, id3 := realtimetest.BindingID([]byte(b1)), realtimetest.BindingID([]byte(b3))
				Expect(realtimetest.BindingID([]byte(b2))).To(Equal(id1), "identical objects get identical ids")
				Expect(id3).NotTo(Equal(id1))
				with := func(b string, id uint32) string {
					return strings.TrimSuffix(b, "}") + `,"id":` + strconv.FormatUint(uint64(id), 10) + `}`
				}
				Expect(string(r.Payload)).To(Equal(`{"status":"ok","response":{"postgres_changes":[` +
					with(b1, id1) + `,` + with(b2, id1) + `,` + with(b3, id3) + `]}}`))

				var resp struct {
					PostgresChanges []map[string]any `json:"postgres_changes"`
				}
				d := json.NewDecoder(bytes.NewReader(replyResponse(r)))
				d.UseNumber()
				Expect(d.Decode(&resp)).To(Succeed())
				for _, pc := range resp.PostgresChanges {
					n, ok := pc["id"].(json.Number)
					Expect(ok).To(BeTrue(), "id is a JSON number")
					_, err := strconv.ParseInt(n.String(), 10, 64)
					Expect(err).NotTo(HaveOccurred(), "id %s is an integer", n)
				}

				// Stable across sockets.
				c2 := connect(vsn)
				_, r2 := c2.joinOK("realtime:other", `{"config":{"postgres_changes":[`+b3+`]}}`)
				Expect(string(replyResponse(r2))).To(Equal(`{"postgres_changes":[` + with(b3, id3) + `]}`))

				// An empty or absent list echoes [].
				_, r3 := c2.joinOK("realtime:empty", `{"config":{}}`)
				Expect(string(replyResponse(r3))).To(Equal(`{"postgres_changes":[]}`))

				conn := srv.Conns()[0]
				Expect(conn.Joined()).To(Equal([]string{"realtime:room1"}))
				info := conn.Channels()[0]
				Expect(info.JoinRef).To(Equal(jr))
				Expect(info.AccessToken).To(Equal("tok"))
				Expect(info.PostgresChanges).To(HaveLen(3))
			})

			It("answers join errors", func() {
				c := connect(vsn)
				jr := c.join("realtime:", `{"config":{}}`)
				r := c.expectReply("realtime:", jr)
				checkRefs(c, r, jr, jr)
				Expect(string(r.Payload)).To(Equal(`{"status":"error","response":{"reason":"TopicNameRequired: You must provide a topic name"}}`))

				// Phoenix's %Reply{} for an unmatched topic has no join_ref.
				jr = c.join("room1", `{"config":{}}`)
				r = c.expectReply("room1", jr)
				checkRefs(c, r, nil, jr)
				Expect(string(r.Payload)).To(Equal(`{"status":"error","response":{"reason":"unmatched topic"}}`))

				srv.OnJoin(func(j realtimetest.JoinRequest) realtimetest.JoinAction {
					if j.Topic == "realtime:private" {
						return realtimetest.Reject("Unauthorized: You do not have permissions to read from this Channel topic: private")
					}
					return realtimetest.Accept
				})
				jr = c.join("realtime:private", `{"config":{"private":true}}`)
				r = c.expectReply("realtime:private", jr)
				Expect(replyStatus(r)).To(Equal("error"))
				Expect(replyReason(r)).To(Equal("Unauthorized: You do not have permissions to read from this Channel topic: private"))
				Expect(srv.Conns()[0].Joined()).To(BeEmpty())
			})

			It("limits the channels per socket", func() {
				srv.Close()
				opts.MaxChannelsPerClient = 2
				start()
				c := connect(vsn)
				c.joinOK("realtime:a", `{"config":{}}`)
				c.joinOK("realtime:b", `{"config":{}}`)
				jr := c.join("realtime:c", `{"config":{}}`)
				r := c.expectReply("realtime:c", jr)
				Expect(string(r.Payload)).To(Equal(`{"status":"error","response":{"reason":"ChannelRateLimitReached: Too many channels"}}`))
				// Rejoining a joined topic replaces it and is not limited.
				c.joinOK("realtime:a", `{"config":{}}`)
			})

			It("replies to a leave and then sends phx_close", func() {
				c := connect(vsn)
				jr, _ := c.joinOK("realtime:room1", `{"config":{}}`)
				ref := c.push(jr, "realtime:room1", "phx_leave", "{}")
				r := c.expectReply("realtime:room1", ref)
				checkRefs(c, r, jr, ref)
				Expect(string(r.Payload)).To(Equal(`{"status":"ok","response":{}}`))
				cl := c.expectEvent("realtime:room1", "phx_close")
				checkRefs(c, cl, jr, jr)
				Expect(string(cl.Payload)).To(Equal(`{}`))
				Expect(srv.Conns()[0].Joined()).To(BeEmpty())

				// Leaving a topic that is not joined is ok too, without phx_close.
				m := c.mark()
				ref = c.push("", "realtime:nope", "phx_leave", "{}")
				r = c.expectReply("realtime:nope", ref)
				Expect(replyStatus(r)).To(Equal("ok"))
				c.sync()
				for _, w := range c.since(m) {
					Expect(w.Event).NotTo(Equal("phx_close"))
				}
			})

			It("answers pushes on a topic that is not joined with unmatched topic", func() {
				c := connect(vsn)
				ref := c.push("7", "realtime:ghost", "broadcast", `{"type":"broadcast","event":"e","payload":{}}`)
				r := c.expectReply("realtime:ghost", ref)
				checkRefs(c, r, nil, ref)
				Expect(string(r.Payload)).To(Equal(`{"status":"error","response":{"reason":"unmatched topic"}}`))
			})

			It("closes the old incarnation on a duplicate join", func() {
				c := connect(vsn)
				jr1, _ := c.joinOK("realtime:room1", `{"config":{}}`)
				jr2 := c.join("realtime:room1", `{"config":{}}`)
				cl := c.expectEvent("realtime:room1", "phx_close")
				checkRefs(c, cl, jr1, jr1)
				r := c.expectReply("realtime:room1", jr2)
				Expect(replyStatus(r)).To(Equal("ok"))
				Expect(srv.Conns()[0].Channels()).To(ConsistOf(HaveField("JoinRef", jr2)))
			})

			It("fans out JSON broadcasts verbatim, honouring self", func() {
				sender := connect(vsn)
				v1 := connect("1.0.0")
				v2 := connect("2.0.0")
				jr, _ := sender.joinOK("realtime:room1", `{"config":{"broadcast":{"self":false}}}`)
				v1.joinOK("realtime:room1", `{"config":{}}`)
				v2.joinOK("realtime:room1", `{"config":{}}`)
				other := connect("2.0.0")
				other.joinOK("realtime:room2", `{"config":{}}`)

				body := `{"type":"broadcast","event":"cursor","payload":{"x":1,"y":[2,3]},"extra":"kept"}`
				m := sender.mark()
				sender.push(jr, "realtime:room1", "broadcast", body)
				for _, rc := range []*rawClient{v1, v2} {
					w := rc.expectEvent("realtime:room1", "broadcast")
					checkRefs(rc, w, nil, nil)
					Expect(string(w.Payload)).To(Equal(body))
					Expect(w.Binary).To(BeFalse())
				}
				sender.sync()
				Expect(sender.since(m)).NotTo(ContainElement(HaveField("Event", "broadcast")), "self is false")
				other.sync()
				Expect(other.all()).NotTo(ContainElement(HaveField("Event", "broadcast")))

				// self: true (also as a string) delivers to the sender too.
				self := connect(vsn)
				sjr, _ := self.joinOK("realtime:room1", `{"config":{"broadcast":{"self":"TRUE"}}}`)
				self.push(sjr, "realtime:room1", "broadcast", body)
				w := self.expectEvent("realtime:room1", "broadcast")
				Expect(string(w.Payload)).To(Equal(body))
				w = sender.expectEvent("realtime:room1", "broadcast")
				Expect(string(w.Payload)).To(Equal(body))
			})

			It("acks broadcasts and enforces the payload size", func() {
				srv.Close()
				opts.MaxPayloadBytes = 200
				start()
				sender := connect(vsn)
				recv := connect("2.0.0")
				jr, _ := sender.joinOK("realtime:room1", `{"config":{"broadcast":{"ack":true}}}`)
				recv.joinOK("realtime:room1", `{"config":{}}`)

				ref := sender.push(jr, "realtime:room1", "broadcast", `{"type":"broadcast","event":"e","payload":{"a":1}}`)
				r := sender.expectReply("realtime:room1", ref)
				checkRefs(sender, r, jr, ref)
				Expect(string(r.Payload)).To(Equal(`{"status":"ok","response":{}}`))
				recv.expectEvent("realtime:room1", "broadcast")

				big := `{"type":"broadcast","event":"e","payload":{"a":"` + strings.Repeat("x", 300) + `"}}`
				m := recv.mark()
				ref = sender.push(jr, "realtime:room1", "broadcast", big)
				r = sender.expectReply("realtime:room1", ref)
				Expect(string(r.Payload)).To(Equal(`{"status":"error","response":"payload_size_exceeded"}`))
				Expect(string(replyResponse(r))).To(Equal(`"payload_size_exceeded"`), "a bare string response")
				recv.sync()
				Expect(recv.since(m)).NotTo(ContainElement(HaveField("Event", "broadcast")))

				// Without ack an oversize broadcast is dropped silently.
				quiet := connect(vsn)
				qjr, _ := quiet.joinOK("realtime:room1", `{"config":{}}`)
				m, qm := recv.mark(), quiet.mark()
				quiet.push(qjr, "realtime:room1", "broadcast", big)
				quiet.sync()
				recv.sync()
				Expect(quiet.since(qm)).To(HaveLen(1), "only the heartbeat reply")
				Expect(recv.since(m)).NotTo(ContainElement(HaveField("Event", "broadcast")))
			})

			It("presence: state, track diff with phx_ref, retrack with phx_ref_prev, leaves", func() {
				a := connect(vsn)
				b := connect("2.0.0")
				ajr, _ := a.joinOK("realtime:lobby", `{"config":{"presence":{"enabled":true,"key":"alice"}}}`)
				st := a.expectEvent("realtime:lobby", "presence_state")
				checkRefs(a, st, ajr, nil)
				Expect(string(st.Payload)).To(Equal(`{}`))
				bjr, _ := b.joinOK("realtime:lobby", `{"config":{"presence":{"enabled":true,"key":""}}}`)
				b.expectEvent("realtime:lobby", "presence_state")

				ref := a.push(ajr, "realtime:lobby", "presence", `{"type":"presence","event":"track","payload":{"name":"alice","t":1814.7000000029802}}`)
				r := a.expectReply("realtime:lobby", ref)
				checkRefs(a, r, ajr, ref)
				Expect(string(r.Payload)).To(Equal(`{"status":"ok","response":{}}`))
				var firstRef string
				for _, rc := range []*rawClient{a, b} {
					w := rc.expectEvent("realtime:lobby", "presence_diff")
					checkRefs(rc, w, nil, nil)
					d := decodeDiff(w)
					Expect(d.Leaves).To(BeEmpty())
					Expect(d.Joins).To(HaveKey("alice"))
					metas := d.Joins["alice"].Metas
					Expect(metas).To(HaveLen(1))
					Expect(metas[0]).To(HaveKeyWithValue("name", "alice"))
					Expect(metas[0]).To(HaveKeyWithValue("t", 1814.7000000029802))
					Expect(metas[0]["phx_ref"]).To(BeAssignableToTypeOf(""))
					Expect(metas[0]["phx_ref"]).NotTo(BeEmpty())
					Expect(metas[0]).NotTo(HaveKey("phx_ref_prev"))
					firstRef = metas[0]["phx_ref"].(string)
				}

				// Re-track with a new payload (event is case-insensitive).
				a.push(ajr, "realtime:lobby", "presence", `{"type":"presence","event":"TRACK","payload":{"name":"alice2"}}`)
				w := b.expectEvent("realtime:lobby", "presence_diff")
				d := decodeDiff(w)
				Expect(d.Joins["alice"].Metas).To(HaveLen(1))
				join := d.Joins["alice"].Metas[0]
				Expect(join).To(HaveKeyWithValue("name", "alice2"))
				Expect(join).To(HaveKeyWithValue("phx_ref_prev", firstRef))
				Expect(join["phx_ref"]).NotTo(Equal(firstRef))
				Expect(d.Leaves["alice"].Metas).To(ConsistOf(HaveKeyWithValue("phx_ref", firstRef)))

				// An identical track changes nothing.
				m := b.mark()
				ref = a.push(ajr, "realtime:lobby", "presence", `{"type":"presence","event":"track","payload":{"name":"alice2"}}`)
				Expect(replyStatus(a.expectReply("realtime:lobby", ref))).To(Equal("ok"))
				a.sync()
				b.sync()
				Expect(b.since(m)).NotTo(ContainElement(HaveField("Event", "presence_diff")))

				// Non-map payloads and unknown events are errors.
				ref = a.push(ajr, "realtime:lobby", "presence", `{"type":"presence","event":"track","payload":"x"}`)
				r = a.expectReply("realtime:lobby", ref)
				Expect(string(r.Payload)).To(Equal(`{"status":"error","response":{"reason":"Presence track payload must be a map"}}`))
				ref = a.push(ajr, "realtime:lobby", "presence", `{"type":"presence","event":"foo"}`)
				Expect(string(a.expectReply("realtime:lobby", ref).Payload)).To(Equal(`{"status":"error","response":{}}`))

				// b tracks under a random UUID key; a late joiner gets the full state.
				b.push(bjr, "realtime:lobby", "presence", `{"type":"presence","event":"track","payload":{"name":"bob"}}`)
				d = decodeDiff(a.expectEvent("realtime:lobby", "presence_diff"))
				var bobKey string
				for k := range d.Joins {
					bobKey = k
				}
				Expect(bobKey).To(MatchRegexp(uuidRE.String()))
				c := connect(vsn)
				c.joinOK("realtime:lobby", `{"config":{"presence":{"enabled":true}}}`)
				var state map[string]struct{ Metas []map[string]any }
				Expect(json.Unmarshal(c.expectEvent("realtime:lobby", "presence_state").Payload, &state)).To(Succeed())
				Expect(state).To(HaveLen(2))
				Expect(state["alice"].Metas).To(ConsistOf(HaveKeyWithValue("name", "alice2")))
				Expect(state[bobKey].Metas).To(ConsistOf(HaveKeyWithValue("name", "bob")))

				// Untrack, leave and disconnect produce leaves.
				a.push(ajr, "realtime:lobby", "presence", `{"type":"presence","event":"untrack"}`)
				d = decodeDiff(c.expectEvent("realtime:lobby", "presence_diff"))
				Expect(d.Joins).To(BeEmpty())
				Expect(d.Leaves).To(HaveKey("alice"))
				b.close()
				d = decodeDiff(c.expectEvent("realtime:lobby", "presence_diff"))
				Expect(d.Leaves).To(HaveKey(bobKey))
				Expect(srv.Presence("realtime:lobby")).To(MatchJSON(`{}`))
			})

			It("drops malformed frames and stays up", func() {
				c := connect(vsn)
				bad := []string{`not json`, `[null,"1","phoenix"]`, `{"topic":"phoenix"}`, `42`}
				if vsn == "1.0.0" {
					bad = append(bad, `{"topic":"phoenix","event":"heartbeat","payload":{}}`) // no ref
				}
				for _, s := range bad {
					c.writeText(s)
				}
				c.writeBinary([]byte{9, 1, 2})
				c.writeBinary([]byte{3, 5, 5, 5})
				want := int64(len(bad) + 2)
				c.sync()
				Expect(srv.Malformed()).To(Equal(want))
				Expect(srv.Conns()[0].Malformed()).To(Equal(want))
				Expect(srv.Conns()[0].Closed()).To(BeFalse())
			})

			It("accepts access_token pushes silently and records them", func() {
				c := connect(vsn)
				jr, _ := c.joinOK("realtime:room1", `{"config":{},"access_token":"t1"}`)
				m := c.mark()
				c.push(jr, "realtime:room1", "access_token", `{"access_token":"t2"}`)
				c.sync()
				Expect(c.since(m)).To(HaveLen(1), "only the heartbeat reply")
				Expect(srv.AccessTokens()).To(ConsistOf(realtimetest.AccessTokenPush{ConnID: 1, Topic: "realtime:room1", JoinRef: jr, Token: "t2"}))
				Expect(srv.Conns()[0].Channels()[0].AccessToken).To(Equal("t2"))
			})

			It("crashes and closes channels on request", func() {
				c := connect(vsn)
				jr, _ := c.joinOK("realtime:room1", `{"config":{}}`)
				jr2, _ := c.joinOK("realtime:room2", `{"config":{}}`)
				Expect(srv.CrashChannel("realtime:room1")).To(Equal(1))
				w := c.expectEvent("realtime:room1", "phx_error")
				checkRefs(c, w, jr, jr)
				Expect(string(w.Payload)).To(Equal(`{}`))
				Expect(srv.CloseChannel("room2")).To(Equal(1))
				w = c.expectEvent("realtime:room2", "phx_close")
				checkRefs(c, w, jr2, jr2)
				Expect(srv.Conns()[0].Joined()).To(BeEmpty())
			})

			It("sends server broadcasts", func() {
				c := connect(vsn)
				c.joinOK("realtime:room1", `{"config":{}}`)
				Expect(srv.Broadcast("room1", "news", map[string]int{"n": 1})).To(Succeed())
				w := c.expectEvent("realtime:room1", "broadcast")
				checkRefs(c, w, nil, nil)
				Expect(string(w.Payload)).To(Equal(`{"type":"broadcast","event":"news","payload":{"n":1}}`))
			})

			It("disconnects with system messages and close 1012", func() {
				c := connect(vsn)
				c.joinOK("realtime:a", `{"config":{}}`)
				c.joinOK("realtime:b", `{"config":{}}`)
				srv.SystemDisconnect()
				for _, topic := range []string{"realtime:a", "realtime:b"} {
					w := c.expectEvent(topic, "system")
					checkRefs(c, w, nil, nil)
					Expect(w.Payload).To(MatchJSON(`{"extension":"system","status":"ok","message":"Server requested disconnect"}`))
				}
				var ce *websocket.CloseError
				Expect(errors.As(c.closeErr(), &ce)).To(BeTrue())
				Expect(ce.Code).To(Equal(websocket.CloseServiceRestart))
				Eventually(srv.Conns()[0].Done(), waitTimeout).Should(BeClosed())
			})
		})
	}

	Describe("binary user broadcasts", func() {
		BeforeEach(start)

		It("fans kind 3 out as kind 4 to V2 and as JSON to V1", func() {
			sender := connect("2.0.0")
			v1 := connect("1.0.0")
			v2 := connect("2.0.0")
			jr, _ := sender.joinOK("realtime:room1", `{"config":{"broadcast":{"self":true,"ack":true}}}`)
			v1.joinOK("realtime:room1", `{"config":{}}`)
			v2.joinOK("realtime:room1", `{"config":{}}`)

			ref := sender.userBroadcast(jr, "realtime:room1", "cursor", 1, []byte(`{"x":1}`))
			want := append([]byte{0x04, 0x0E, 0x06, 0x00, 0x01}, "realtime:room1cursor{\"x\":1}"...)
			for _, rc := range []*rawClient{v2, sender} {
				w := rc.expect("kind 4", func(w wire) bool { return w.Binary })
				Expect(w.Raw).To(Equal(want))
			}
			// The sender gets its own copy (self) first, then the ack.
			r := sender.expectReply("realtime:room1", ref)
			Expect(r.Binary).To(BeFalse(), "acks are text even for binary pushes")
			checkRefs(sender, r, jr, ref)
			Expect(string(r.Payload)).To(Equal(`{"status":"ok","response":{}}`))
			w := v1.expectEvent("realtime:room1", "broadcast")
			checkRefs(v1, w, nil, nil)
			Expect(string(w.Payload)).To(Equal(`{"event":"cursor","payload":{"x":1},"type":"broadcast"}`))

			// Binary encoding reaches V2 only.
			m := v1.mark()
			sender.userBroadcast(jr, "realtime:room1", "blob", 0, []byte{1, 2, 3})
			w = v2.expect("kind 4 binary", func(w wire) bool { return w.Binary && w.UserEvent == "blob" })
			Expect(w.Encoding).To(Equal(byte(0)))
			Expect(w.Payload).To(Equal(json.RawMessage{1, 2, 3}))
			sender.sync()
			v1.sync()
			Expect(v1.since(m)).To(HaveLen(1), "only the heartbeat reply")

			// Server-originated user broadcasts take the same route.
			srv.UserBroadcast("room1", "srv", frame.EncodingJSON, []byte(`{"s":true}`))
			w = v2.expect("server kind 4", func(w wire) bool { return w.Binary && w.UserEvent == "srv" })
			Expect(string(w.Payload)).To(Equal(`{"s":true}`))
			w = v1.expectEvent("realtime:room1", "broadcast")
			Expect(string(w.Payload)).To(Equal(`{"event":"srv","payload":{"s":true},"type":"broadcast"}`))
		})
	})

	Describe("hooks", func() {
		BeforeEach(start)

		It("scripts join replies: delay, ignore, and records the requests", func() {
			c := connect("2.0.0")
			var delay time.Duration = 300 * time.Millisecond
			srv.OnJoin(func(j realtimetest.JoinRequest) realtimetest.JoinAction {
				switch j.Topic {
				case "realtime:slow":
					return realtimetest.Accept.After(delay)
				case "realtime:never":
					return realtimetest.Ignore
				}
				return realtimetest.Accept
			})
			t0 := time.Now()
			c.joinOK("realtime:slow", `{"config":{},"access_token":"jwt-1"}`)
			Expect(time.Since(t0)).To(BeNumerically(">=", delay))

			jr := c.join("realtime:never", `{"config":{}}`)
			c.sync()
			Expect(c.all()).NotTo(ContainElement(And(HaveField("Topic", "realtime:never"), HaveField("Ref", jr))))
			Expect(srv.Conns()[0].Joined()).To(Equal([]string{"realtime:slow"}))

			joins := srv.Joins()
			Expect(joins).To(HaveLen(2))
			Expect(joins[0].ConnID).To(Equal(1))
			Expect(joins[0].Topic).To(Equal("realtime:slow"))
			Expect(joins[0].JoinRef).To(Equal(joins[0].Ref))
			Expect(joins[0].AccessToken).To(Equal("jwt-1"))
			Expect(joins[0].Payload).To(MatchJSON(`{"config":{},"access_token":"jwt-1"}`))

			srv.OnJoin(nil)
			c.joinOK("realtime:never", `{"config":{}}`)
		})

		It("withholds heartbeat replies and delays replies", func() {
			c := connect("2.0.0")
			srv.SetWithholdHeartbeats(true)
			ref := c.heartbeat()
			lref := c.push("", "realtime:x", "phx_leave", "{}")
			c.expectReply("realtime:x", lref)
			Expect(c.all()).NotTo(ContainElement(HaveField("Ref", ref)))
			srv.SetWithholdHeartbeats(false)
			c.sync()

			srv.SetReplyDelay(200 * time.Millisecond)
			t0 := time.Now()
			c.sync()
			Expect(time.Since(t0)).To(BeNumerically(">=", 200*time.Millisecond))
			srv.SetReplyDelay(0)
		})

		It("records received frames as deep copies", func() {
			c := connect("2.0.0")
			jr, _ := c.joinOK("realtime:room1", `{"config":{}}`)
			c.userBroadcast(jr, "realtime:room1", "ev", 1, []byte(`{"k":"v"}`))
			c.sync()
			got := srv.Conns()[0].Received()
			Expect(got).To(HaveLen(3))
			Expect(got[0].Event).To(Equal("phx_join"))
			Expect(got[0].JoinRef).To(Equal(jr))
			Expect(got[1].Kind).To(Equal(frame.KindUserBroadcastPush))
			Expect(got[1].UserEvent).To(Equal("ev"))
			Expect(string(got[1].Payload)).To(Equal(`{"k":"v"}`))
			got[1].Payload[0] = 'X'
			Expect(string(srv.Conns()[0].Received()[1].Payload)).To(Equal(`{"k":"v"}`))

			all := srv.Received()
			Expect(all).To(HaveLen(3))
			Expect(all[2].ConnID).To(Equal(1))
			Expect(all[2].Frame.Event).To(Equal("heartbeat"))
		})

		It("injects raw and encoded frames", func() {
			c1 := connect("1.0.0")
			c2 := connect("2.0.0")
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			conns, err := srv.WaitForConns(ctx, 2)
			Expect(err).NotTo(HaveOccurred())
			if conns[0].Vsn() == frame.V2 {
				conns[0], conns[1] = conns[1], conns[0]
			}
			Expect(conns[1].SendRaw(true, []byte{4, 1, 1, 0, 1, 't', 'e', '{', '}'})).To(Succeed())
			Expect(c2.expect("raw", func(w wire) bool { return w.Binary }).Raw).To(Equal([]byte{4, 1, 1, 0, 1, 't', 'e', '{', '}'}))
			for _, conn := range conns {
				Expect(conn.Push(frame.Frame{JoinRef: "1", Ref: "2", Topic: "realtime:t", Event: "custom", Payload: []byte(`{"a":1}`)})).To(Succeed())
			}
			w := c1.expectEvent("realtime:t", "custom")
			Expect(string(w.Raw)).To(Equal(`{"topic":"realtime:t","event":"custom","payload":{"a":1},"ref":"2"}`))
			w = c2.expectEvent("realtime:t", "custom")
			Expect(string(w.Raw)).To(Equal(`["1","2","realtime:t","custom",{"a":1}]`))
		})

		It("closes sockets with a code, or abruptly with 1006", func() {
			c1 := connect("2.0.0")
			c1.sync() // registered before c2 connects
			c2 := connect("2.0.0")
			c2.sync()
			conns := srv.Conns()
			conns[0].Close(4001, "bye")
			var ce *websocket.CloseError
			Expect(errors.As(c1.closeErr(), &ce)).To(BeTrue())
			Expect(ce.Code).To(Equal(4001))
			Expect(ce.Text).To(Equal("bye"))

			conns[1].Close(realtimetest.CloseAbnormal, "")
			err := c2.closeErr()
			Expect(errors.As(err, &ce)).To(BeTrue())
			Expect(ce.Code).To(Equal(websocket.CloseAbnormalClosure), "no close frame: %v", err)
			Eventually(conns[1].Done(), waitTimeout).Should(BeClosed())
			Expect(conns[1].SendRaw(false, []byte("x"))).To(MatchError(realtimetest.ErrConnClosed))

			// Reconnects count in WaitForConns.
			c3 := connect("1.0.0")
			c3.sync()
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			conns, err = srv.WaitForConns(ctx, 3)
			Expect(err).NotTo(HaveOccurred())
			Expect(srv.ActiveConns()).To(ConsistOf(conns[2]))
			srv.CloseAll(websocket.CloseGoingAway, "")
			Expect(errors.As(c3.closeErr(), &ce)).To(BeTrue())
			Expect(ce.Code).To(Equal(websocket.CloseGoingAway))
		})
	})

	Describe("Close", func() {
		It("ends a socket's goroutines when the client disconnects", func() {
			start()
			warm := connect("2.0.0") // let the HTTP server settle its goroutines
			warm.sync()
			baseline := runtime.NumGoroutine()
			c := dial(srv, "2.0.0", nil)
			c.joinOK("realtime:room", `{"config":{}}`)
			Expect(runtime.NumGoroutine()).To(BeNumerically(">", baseline))
			c.close()
			Eventually(srv.Conns()[1].Done(), waitTimeout).Should(BeClosed())
			Eventually(runtime.NumGoroutine, waitTimeout, 20*time.Millisecond).Should(BeNumerically("<=", baseline))
		})

		It("is idempotent and leaves no goroutines behind", func() {
			baseline := runtime.NumGoroutine()
			opts.APIKey = "k"
			start()
			var cs []*rawClient
			for i, v := range []string{"1.0.0", "2.0.0", "2.0.0"} {
				c := dial(srv, v, url.Values{"apikey": {"k"}})
				cs = append(cs, c)
				jr, _ := c.joinOK("realtime:room", `{"config":{"presence":{"enabled":true}}}`)
				c.push(jr, "realtime:room", "presence", fmt.Sprintf(`{"type":"presence","event":"track","payload":{"i":%d}}`, i))
			}
			_, _, _ = dialStatus(dialURL(srv, "2.0.0", nil), nil) // a rejected handshake too
			srv.SetReplyDelay(time.Hour)                          // a writer parked on a delayed reply
			cs[0].heartbeat()
			Expect(srv.ActiveConns()).To(HaveLen(3))

			srv.Close()
			srv.Close()
			for _, c := range cs {
				Expect(c.closeErr()).To(HaveOccurred())
				c.close()
			}
			Expect(srv.ActiveConns()).To(BeEmpty())
			Eventually(runtime.NumGoroutine, waitTimeout, 20*time.Millisecond).Should(BeNumerically("<=", baseline))

			_, _, err := websocket.DefaultDialer.Dial(dialURL(srv, "2.0.0", url.Values{"apikey": {"k"}}), nil)
			Expect(err).To(HaveOccurred())
			_, err = srv.WaitForConns(context.Background(), 10)
			Expect(err).To(MatchError(ContainSubstring("server closed")))
		})
	})
})
