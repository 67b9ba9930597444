package realtimetest_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/test/realtimetest"
)

// Join details where the stand-in follows the real server's payload
// handling (lib/realtime_web/channels/payloads/join.ex,
// realtime_channel.ex, presence_handler.ex).
var _ = Describe("Join payload details", func() {
	var (
		srv     *realtimetest.Server
		clients []*rawClient
	)
	connect := func() *rawClient {
		c := dial(srv, "2.0.0", nil)
		clients = append(clients, c)
		return c
	}
	BeforeEach(func() {
		clients = nil
		srv = realtimetest.NewServer(realtimetest.Options{})
	})
	AfterEach(func() {
		for _, c := range clients {
			c.close()
		}
		srv.Close()
	})

	It("gives joins without config.presence a random UUID presence key (join.ex presence_key/1), so clients do not merge", func() {
		a, b := connect(), connect()
		ajr, _ := a.joinOK("realtime:lobby", `{"config":{}}`)
		bjr, _ := b.joinOK("realtime:lobby", `{}`)
		keys := map[string]bool{}
		for _, conn := range srv.Conns() {
			for _, ch := range conn.Channels() {
				Expect(ch.PresenceKey).To(MatchRegexp(uuidRE.String()))
				keys[ch.PresenceKey] = true
			}
		}
		Expect(keys).To(HaveLen(2))
		// Tracks of both show up under two keys.
		a.push(ajr, "realtime:lobby", "presence", `{"type":"presence","event":"track","payload":{"n":1}}`)
		b.push(bjr, "realtime:lobby", "presence", `{"type":"presence","event":"track","payload":{"n":2}}`)
		Eventually(func() int {
			joined := map[string]bool{}
			for _, w := range a.all() {
				if w.Event == "presence_diff" {
					for k := range decodeDiff(w).Joins {
						joined[k] = true
					}
				}
			}
			return len(joined)
		}, waitTimeout, pollEvery).Should(Equal(2))
	})

	It("echoes the binding derived from the topic of a join without config (pg_change_params(false, …))", func() {
		c := connect()
		_, reply := c.joinOK("realtime:public:todos:id=eq.8", `{}`)
		var r struct {
			PostgresChanges []map[string]any `json:"postgres_changes"`
		}
		Expect(json.Unmarshal(replyResponse(reply), &r)).To(Succeed())
		Expect(r.PostgresChanges).To(HaveLen(1))
		Expect(r.PostgresChanges[0]).To(HaveKeyWithValue("schema", "public"))
		Expect(r.PostgresChanges[0]).To(HaveKeyWithValue("table", "todos"))
		Expect(r.PostgresChanges[0]).To(HaveKeyWithValue("filter", "id=eq.8"))
		Expect(r.PostgresChanges[0]).To(HaveKey("id"))

		_, reply = c.joinOK("realtime:room", `{"config":{}}`)
		Expect(string(replyResponse(reply))).To(Equal(`{"postgres_changes":[]}`))
	})

	It(`reads "private":"true" as true (Ecto's boolean cast)`, func() {
		c := connect()
		c.joinOK("realtime:p", `{"config":{"private":"true"}}`)
		c.joinOK("realtime:q", `{"config":{"private":"false"}}`)
		infos := map[string]bool{}
		for _, ch := range srv.Conns()[0].Channels() {
			infos[ch.Topic] = ch.Private
		}
		Expect(infos).To(Equal(map[string]bool{"realtime:p": true, "realtime:q": false}))
	})

	It("tracks {} for a track without payload (presence_handler.ex: Map.get(payload, \"payload\", %{}))", func() {
		c := connect()
		jr, _ := c.joinOK("realtime:lobby", `{"config":{"presence":{"enabled":true,"key":"k"}}}`)
		ref := c.push(jr, "realtime:lobby", "presence", `{"type":"presence","event":"track"}`)
		Expect(replyStatus(c.expectReply("realtime:lobby", ref))).To(Equal("ok"))
		d := decodeDiff(c.expectEvent("realtime:lobby", "presence_diff"))
		Expect(d.Joins).To(HaveKey("k"))
		Expect(d.Joins["k"].Metas).To(HaveLen(1))
		Expect(d.Joins["k"].Metas[0]).To(HaveKey("phx_ref"))
		Expect(d.Joins["k"].Metas[0]).To(HaveLen(1), "only phx_ref")
	})
})
