package realtimetest_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// Row-level security of postgres_changes, after the server's
// realtime.apply_rls (priv/repo/tenant_schema/realtime/functions/apply_rls.sql),
// realtime.subscription's claims_role and subscription_check_filters, and
// realtime_channel.ex's re-subscription on access_token.
var _ = Describe("postgres_changes row-level security", Ordered, ContinueOnFailure, func() {
	const secret = "rls-spec-secret-with-at-least-32-chars!"
	var (
		cluster *pgtest.Cluster
		db      *pgx.Conn
		srv     *realtimetest.Server
		clients []*rawClient
	)
	exec := func(sql string, args ...any) {
		ctx, cancel := context.WithTimeout(context.Background(), pgWait)
		defer cancel()
		_, err := db.Exec(ctx, sql, args...)
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), sql)
	}
	token := func(role, sub string) string {
		return realtimetest.SignJWT(secret, map[string]any{"role": role, "sub": sub, "exp": time.Now().Add(time.Hour).Unix()})
	}
	connect := func() *rawClient {
		c := dial(srv, "2.0.0", url.Values{"apikey": {token("anon", "")}})
		clients = append(clients, c)
		return c
	}
	join := func(c *rawClient, topic, tok string, bindings ...string) string {
		return c.join(topic, `{"config":{"postgres_changes":[`+strings.Join(bindings, ",")+`]},"access_token":`+jsonString(tok)+`}`)
	}
	subscribed := func(c *rawClient, topic string) {
		sys := expectPG(c, "Subscribed to PostgreSQL", isEvent(topic, "system"))
		ExpectWithOffset(1, string(sys.Payload)).To(Equal(systemPayload(strings.TrimPrefix(topic, "realtime:"), "ok", "Subscribed to PostgreSQL")))
	}
	notes := `{"event":"*","schema":"public","table":"notes"}`
	nextChange := func(c *rawClient, topic string) pgChange {
		return decodeChange(expectPG(c, "change on "+topic, isEvent(topic, "postgres_changes")))
	}

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = pgtest.Start(ctx, pgtest.Options{})
		Expect(err).NotTo(HaveOccurred())
		db, err = pgx.Connect(ctx, cluster.DSN())
		Expect(err).NotTo(HaveOccurred())
		exec(`create role authenticated nologin`)
		exec(`create role anon nologin`)
		exec(`create role nobody nologin`)
		exec(`grant usage on schema public to authenticated, anon, nobody`)
		exec(`create table notes (id bigint primary key, owner text not null, body text)`)
		exec(`alter table notes replica identity full`)
		exec(`alter table notes enable row level security`)
		exec(`create policy own_rows on notes for select to authenticated
		      using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub')`)
		exec(`grant select on notes to authenticated`)
		exec(`create table posts (id bigint primary key, body text, secret text)`)
		exec(`grant select (id, body) on posts to anon`)
	}, NodeTimeout(2*time.Minute))

	AfterAll(func() {
		if db != nil {
			_ = db.Close(context.Background())
		}
		if cluster != nil {
			Expect(cluster.Stop()).To(Succeed())
		}
	})

	BeforeEach(func() {
		exec(`truncate notes, posts`)
		clients = nil
		srv = realtimetest.NewServer(realtimetest.Options{PostgresDSN: cluster.DSN(), JWTSecret: secret})
		ctx, cancel := context.WithTimeout(context.Background(), pgWait)
		defer cancel()
		Expect(srv.WaitPostgres(ctx)).To(Succeed())
	})

	AfterEach(func() {
		for _, c := range clients {
			c.close()
		}
		srv.Close()
		Eventually(leakcheck.Goroutines, pgWait).Should(BeEmpty())
		Eventually(jackcGoroutines, pgWait).Should(BeEmpty())
	})

	It("delivers each subscriber only the rows its policies show (own rows only)", func() {
		alice, bob := connect(), connect()
		join(alice, "realtime:a", token("authenticated", "alice"), notes)
		join(bob, "realtime:b", token("authenticated", "bob"), notes)
		subscribed(alice, "realtime:a")
		subscribed(bob, "realtime:b")

		exec(`insert into notes values (1, 'alice', 'for alice')`)
		exec(`insert into notes values (2, 'bob', 'for bob')`)
		exec(`update notes set body = 'still alice' where id = 1`)
		exec(`update notes set body = 'still bob' where id = 2`)

		got := nextChange(bob, "realtime:b") // alice's insert was withheld
		Expect(got.Data).To(HaveKeyWithValue("type", "INSERT"))
		Expect(got.Data["record"]).To(Equal(exactString(`{"id":2,"owner":"bob","body":"for bob"}`)))
		got = nextChange(bob, "realtime:b")
		Expect(got.Data).To(HaveKeyWithValue("type", "UPDATE"))
		Expect(got.Data["record"]).To(HaveKeyWithValue("body", "still bob"))

		got = nextChange(alice, "realtime:a")
		Expect(got.Data["record"]).To(Equal(exactString(`{"id":1,"owner":"alice","body":"for alice"}`)))
		got = nextChange(alice, "realtime:a")
		Expect(got.Data["record"]).To(HaveKeyWithValue("body", "still alice"))
		Expect(got.Data["errors"]).To(BeNil())
	})

	It("sends an RLS table's DELETE to every subscriber with only the primary key in old_record", func() {
		exec(`insert into notes values (7, 'alice', 'private')`)
		alice, bob := connect(), connect()
		join(alice, "realtime:a", token("authenticated", "alice"), notes)
		join(bob, "realtime:b", token("authenticated", "bob"), notes)
		subscribed(alice, "realtime:a")
		subscribed(bob, "realtime:b")
		exec(`delete from notes where id = 7`)
		for _, c := range []*rawClient{alice, bob} {
			topic := "realtime:a"
			if c == bob {
				topic = "realtime:b"
			}
			got := nextChange(c, topic)
			Expect(got.Data).To(HaveKeyWithValue("type", "DELETE"))
			Expect(got.Data["old_record"]).To(Equal(exactString(`{"id":7}`)))
		}
	})

	It("answers a role without SELECT on the primary key with Error 401: Unauthorized", func() {
		c := connect()
		join(c, "realtime:n", token("nobody", "x"), notes)
		subscribed(c, "realtime:n")
		exec(`insert into notes values (3, 'nobody', 'hidden')`)
		w := expectPG(c, "401", isEvent("realtime:n", "postgres_changes"))
		var p struct {
			Data map[string]any `json:"data"`
		}
		Expect(json.Unmarshal(w.Payload, &p)).To(Succeed())
		Expect(p.Data).To(HaveKeyWithValue("errors", ConsistOf("Error 401: Unauthorized")))
		Expect(p.Data).To(HaveKeyWithValue("record", BeEmpty()))
		Expect(string(w.Payload)).NotTo(ContainSubstring("hidden"))
	})

	It("shows only the columns the role may select, and refuses filters on the others", func() {
		c := connect()
		join(c, "realtime:p", token("anon", ""), `{"event":"INSERT","schema":"public","table":"posts"}`)
		subscribed(c, "realtime:p")
		exec(`insert into posts values (1, 'hello', 'password')`)
		got := nextChange(c, "realtime:p")
		Expect(got.Data["record"]).To(Equal(exactString(`{"id":1,"body":"hello"}`)))
		Expect(got.Data["columns"]).To(Equal(exactString(`[{"name":"id","type":"int8"},{"name":"body","type":"text"}]`)))

		join(c, "realtime:pf", token("anon", ""), `{"event":"*","schema":"public","table":"posts","filter":"secret=eq.x"}`)
		sys := expectPG(c, "filter error", isEvent("realtime:pf", "system"))
		Expect(string(sys.Payload)).To(ContainSubstring(`invalid column for filter secret`))
	})

	It("fails the subscription of a role that does not exist", func() {
		c := connect()
		join(c, "realtime:g", token("ghost", ""), notes)
		sys := expectPG(c, "system error", isEvent("realtime:g", "system"))
		Expect(string(sys.Payload)).To(Equal(systemPayload("g", "error",
			`Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: `+
				`[event: *, schema: public, table: notes, filters: [], select: nil]. Exception: ERROR 42704 (undefined_object) role "ghost" does not exist`)))
		Expect(srv.PostgresSubscriptions()).To(BeZero())
	})

	It("subscribes again with the claims of a refreshed access_token", func() {
		c := connect()
		jr := join(c, "realtime:r", token("authenticated", "alice"), notes)
		subscribed(c, "realtime:r")
		mark := c.mark()
		c.push(jr, "realtime:r", "access_token", `{"access_token":`+jsonString(token("authenticated", "bob"))+`}`)
		Eventually(func() int {
			n := 0
			for _, w := range c.since(mark) {
				if w.Topic == "realtime:r" && w.Event == "system" && strings.Contains(string(w.Payload), "Subscribed to PostgreSQL") {
					n++
				}
			}
			return n
		}, pgWait, pollEvery).Should(Equal(1), "a second Subscribed to PostgreSQL")
		exec(`insert into notes values (10, 'alice', 'old identity')`)
		exec(`insert into notes values (11, 'bob', 'new identity')`)
		got := nextChange(c, "realtime:r")
		Expect(got.Data["record"]).To(HaveKeyWithValue("owner", "bob"))
		Expect(srv.PostgresSubscriptions()).To(Equal(1))
	})
})
