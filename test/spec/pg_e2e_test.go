package spec_test

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/filter"
	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// End to end: a real PostgreSQL (logical replication) → the test server →
// the client → typed decoding. PostgreSQL must be installed (make test
// installs it); these specs never skip.
var _ = Describe("Postgres changes from a real database", Ordered, func() {
	var (
		cluster *pgtest.Cluster
		db      *pgx.Conn
		srv     *realtimetest.Server
		rec     *recorder
		c       *realtime.Client
	)

	BeforeAll(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var err error
		cluster, err = pgtest.Start(ctx, pgtest.Options{})
		Expect(err).NotTo(HaveOccurred())
		db, err = pgx.Connect(ctx, cluster.DSN())
		Expect(err).NotTo(HaveOccurred())
		_, err = db.Exec(ctx, `create table todos (
			id bigint primary key, title text, done bool, amount numeric,
			tags text[], meta jsonb, due timestamptz)`)
		Expect(err).NotTo(HaveOccurred())
	})
	AfterAll(func() {
		if db != nil {
			Expect(db.Close(context.Background())).To(Succeed())
		}
		if cluster != nil {
			Expect(cluster.Stop()).To(Succeed())
		}
	})

	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{PostgresDSN: cluster.DSN()})
		Expect(srv.WaitPostgres(specCtx())).To(Succeed())
		rec = &recorder{}
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec))
		Expect(err).NotTo(HaveOccurred())
	})
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	subscribed := func() bool {
		for _, ev := range rec.all() {
			if s, ok := ev.(realtime.SystemEvent); ok && s.Message == "Subscribed to PostgreSQL" {
				return true
			}
		}
		return false
	}

	type todo struct {
		ID     int64            `json:"id"`
		Title  string           `json:"title"`
		Done   bool             `json:"done"`
		Amount realtime.Numeric `json:"amount"`
		Tags   []string         `json:"tags"`
		Meta   struct {
			Prio int64 `json:"prio"`
		} `json:"meta"`
		Due time.Time `json:"due"`
	}

	It("delivers INSERT, UPDATE and DELETE of a filtered row with exact int8 and numeric", func() {
		ctx := specCtx()
		ch, _ := c.Channel("todos")
		Expect(c.On(ch, realtime.PostgresChanges{Schema: "public", Table: "todos",
			Filter: filter.Eq("id", int64(9223372036854775807)).String()})).To(Succeed())
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		Eventually(subscribed, wait).Should(BeTrue())

		_, err = db.Exec(ctx, `insert into todos values (1, 'other row', false, 1, '{}', '{}', now())`)
		Expect(err).NotTo(HaveOccurred())
		_, err = db.Exec(ctx, `insert into todos values (9223372036854775807, 'buy milk', false,
			123456789012345678901234567890.123456789, '{a,b}', '{"prio": 9007199254740993}', '2026-08-21T10:15:30.123456Z')`)
		Expect(err).NotTo(HaveOccurred())
		_, err = db.Exec(ctx, `update todos set done = true where id = 9223372036854775807`)
		Expect(err).NotTo(HaveOccurred())
		_, err = db.Exec(ctx, `delete from todos where id = 9223372036854775807`)
		Expect(err).NotTo(HaveOccurred())

		Eventually(func() int { return len(rec.changes()) }, wait).Should(Equal(3))
		got := rec.changes()
		Expect([]realtime.PostgresEvent{got[0].Type, got[1].Type, got[2].Type}).To(Equal(
			[]realtime.PostgresEvent{realtime.PostgresInsert, realtime.PostgresUpdate, realtime.PostgresDelete}))
		row, err := realtime.DecodeRecord[todo](got[0].Record, got[0].Columns)
		Expect(err).NotTo(HaveOccurred())
		Expect(row.ID).To(Equal(int64(9223372036854775807)))
		Expect(string(row.Amount)).To(Equal("123456789012345678901234567890.123456789"))
		Expect(row.Tags).To(Equal([]string{"a", "b"}))
		Expect(row.Meta.Prio).To(Equal(int64(9007199254740993)))
		Expect(row.Due).To(Equal(time.Date(2026, 8, 21, 10, 15, 30, 123456000, time.UTC)))
		Expect(got[0].Schema + "." + got[0].Table).To(Equal("public.todos"))
		Expect(got[0].CommitTimestamp).NotTo(BeZero())

		updated, err := realtime.DecodeRecord[todo](got[1].Record, got[1].Columns)
		Expect(err).NotTo(HaveOccurred())
		Expect(updated.Done).To(BeTrue())
		old, err := realtime.DecodeRecord[todo](got[2].OldRecord, got[2].Columns)
		Expect(err).NotTo(HaveOccurred())
		Expect(old.ID).To(Equal(int64(9223372036854775807)))
	})

	It("shows the server's message for a filter the database rejects", func() {
		ch, _ := c.Channel("bad")
		Expect(c.On(ch, realtime.PostgresChanges{Schema: "public", Table: "todos", Filter: "id=eq.hey"})).To(Succeed())
		_, err := c.Subscribe(specCtx(), ch)
		Expect(err).NotTo(HaveOccurred(), "a bad filter does not fail the join")
		Eventually(func() string {
			for _, ev := range rec.all() {
				if s, ok := ev.(realtime.SystemEvent); ok && s.Status == "error" {
					return s.Message
				}
			}
			return ""
		}, wait).Should(And(HavePrefix("Unable to subscribe to changes with given parameters."), ContainSubstring(`"hey"`)))
	})
})
