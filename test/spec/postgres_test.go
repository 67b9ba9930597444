package spec_test

import (
	"encoding/json"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/filter"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// These specs drive the client with the exact frames of docs/protocol.md §7
// injected by the test server; the end-to-end specs with a real
// PostgreSQL live in pg_e2e_test.go.
var _ = Describe("Postgres changes (protocol frames)", func() {
	var (
		srv *realtimetest.Server
		rec *recorder
		c   *realtime.Client
	)
	BeforeEach(func() {
		srv = realtimetest.NewServer(realtimetest.Options{})
		rec = &recorder{}
		var err error
		c, err = realtime.New(srv.URL(), "k", realtime.WithHandler(rec))
		Expect(err).NotTo(HaveOccurred())
	})
	AfterEach(func() { closeAndCheckLeaks(c, srv) })

	changeFrame := func(typ string, record string, ids ...uint32) frame.Frame {
		idJSON, _ := json.Marshal(ids)
		payload := fmt.Sprintf(`{"ids":%s,"data":{"schema":"public","table":"todos","type":%q,"commit_timestamp":"2026-08-21T10:15:30.123Z","columns":[{"name":"id","type":"int8"},{"name":"amount","type":"numeric"},{"name":"title","type":"text"}],"record":%s,"old_record":{"id":1},"errors":null}}`, idJSON, typ, record)
		return frame.Frame{Topic: "realtime:db", Event: "postgres_changes", Payload: []byte(payload)}
	}

	It("puts the bindings in the join, routes by binding ids plus event type, and decodes int8 and numeric exactly", func() {
		ctx := specCtx()
		ch, _ := c.Channel("db")
		inserts := realtime.PostgresChanges{Event: realtime.PostgresInsert, Schema: "public", Table: "todos"}
		one := realtime.PostgresChanges{Schema: "public", Table: "todos", Filter: filter.Eq("id", 1).String()}
		Expect(c.On(ch, inserts)).To(Succeed())
		Expect(c.On(ch, one)).To(Succeed())
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		join := srv.Joins()[0]
		var payload struct {
			Config struct {
				PostgresChanges []json.RawMessage `json:"postgres_changes"`
			}
		}
		Expect(json.Unmarshal(join.Payload, &payload)).To(Succeed())
		Expect(payload.Config.PostgresChanges).To(HaveLen(2))
		Expect(string(payload.Config.PostgresChanges[0])).To(MatchJSON(`{"event":"INSERT","schema":"public","table":"todos"}`))
		Expect(string(payload.Config.PostgresChanges[1])).To(MatchJSON(`{"event":"*","schema":"public","table":"todos","filter":"id=eq.1"}`))
		idInsert := realtimetest.BindingID(payload.Config.PostgresChanges[0])
		idOne := realtimetest.BindingID(payload.Config.PostgresChanges[1])

		conn := srv.Conns()[0]
		big := `{"id":9223372036854775807,"amount":123456789012345678901234567890.123456789,"title":"max"}`
		Expect(conn.Push(changeFrame("INSERT", big, idInsert, idOne))).To(Succeed()) // both match: one event
		Expect(conn.Push(changeFrame("UPDATE", `{"id":1}`, idOne))).To(Succeed())    // the "*" binding
		Expect(conn.Push(changeFrame("DELETE", `{"id":2}`, idInsert))).To(Succeed()) // INSERT-only binding: dropped
		Expect(conn.Push(changeFrame("INSERT", `{"id":3}`, 42))).To(Succeed())       // unknown id: dropped
		Expect(conn.Push(changeFrame("INSERT", `{"id":4}`, idInsert))).To(Succeed()) // ordering marker
		Eventually(func() int { return len(rec.changes()) }, wait).Should(Equal(3))
		got := rec.changes()
		Expect(got[0].Type).To(Equal(realtime.PostgresInsert))
		Expect(got[1].Type).To(Equal(realtime.PostgresUpdate))
		Expect(got[2].Type).To(Equal(realtime.PostgresInsert))
		Expect(got[0].Channel).To(Equal("db"))
		Expect(got[0].CommitTimestamp).To(Equal(time.Date(2026, 8, 21, 10, 15, 30, 123e6, time.UTC)))

		type todo struct {
			ID     int64            `json:"id"`
			Amount realtime.Numeric `json:"amount"`
			Title  string           `json:"title"`
		}
		row, err := realtime.DecodeRecord[todo](got[0].Record, got[0].Columns)
		Expect(err).NotTo(HaveOccurred())
		Expect(row.ID).To(Equal(int64(9223372036854775807)))
		Expect(string(row.Amount)).To(Equal("123456789012345678901234567890.123456789"))
		Expect(row.Title).To(Equal("max"))
		var untyped map[string]any
		Expect(got[0].DecodeRecord(&untyped)).To(Succeed())
		Expect(untyped["id"]).To(Equal(json.Number("9223372036854775807")))
	})

	It("delivers the server's system messages verbatim", func() {
		pgErr := "Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [event: *, schema: public, table: todos, filters: [{\"id\", \"eq\", \"hey\", false}], select: nil]. Exception: ERROR 22P02 (invalid_text_representation) invalid input syntax for type bigint: \"hey\""
		ctx := specCtx()
		ch, _ := c.Channel("db")
		Expect(c.On(ch, realtime.PostgresChanges{Schema: "public", Table: "todos", Filter: "id=eq.hey"})).To(Succeed())
		_, err := c.Subscribe(ctx, ch)
		Expect(err).NotTo(HaveOccurred())
		conn := srv.Conns()[0]
		joinRef := srv.Joins()[0].JoinRef
		Expect(conn.Push(systemFrame("realtime:db", joinRef, "postgres_changes", "error", pgErr))).To(Succeed())
		Eventually(func() []realtime.SystemEvent {
			var out []realtime.SystemEvent
			for _, ev := range rec.all() {
				if s, ok := ev.(realtime.SystemEvent); ok && s.Status == "error" {
					out = append(out, s)
				}
			}
			return out
		}, wait).Should(ConsistOf(realtime.SystemEvent{Channel: "db", Topic: "realtime:db", Extension: "postgres_changes",
			Status: "error", Message: pgErr}))
	})

	It("reports a binding mismatch in the join reply as CHANNEL_ERROR and leaves", func() {
		srv.OnJoin(func(realtimetest.JoinRequest) realtimetest.JoinAction { return realtimetest.Ignore })
		ch, _ := c.Channel("db")
		Expect(c.On(ch, realtime.PostgresChanges{Event: realtime.PostgresInsert, Schema: "public", Table: "todos"})).To(Succeed())
		done := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			_, err := c.Subscribe(specCtx(), ch)
			done <- err
		}()
		Eventually(func() int { return len(srv.Joins()) }, wait).Should(Equal(1))
		j := srv.Joins()[0]
		reply := `{"status":"ok","response":{"postgres_changes":[{"id":7,"event":"UPDATE","schema":"public","table":"todos"}]}}`
		Expect(srv.Conns()[0].Push(frame.Frame{JoinRef: j.JoinRef, Ref: j.Ref, Topic: "realtime:db", Event: "phx_reply", Payload: []byte(reply)})).To(Succeed())
		var err error
		Eventually(done, wait).Should(Receive(&err))
		var detail *realtime.ChannelErrorDetail
		Expect(err).To(BeAssignableToTypeOf(detail))
		Expect(err.Error()).To(ContainSubstring("mismatch between server and client bindings for postgres changes"))
		Expect(c.ChannelState(ch)).To(Equal(realtime.ChannelClosed))
		Eventually(func() int { return len(framesFrom(srv, "phx_leave")) }, wait).Should(Equal(1))
	})

	It("validates bindings and filters before anything is sent", func() {
		ch, _ := c.Channel("db")
		Expect(c.On(ch, realtime.PostgresChanges{})).To(MatchError(realtime.ErrInvalidOption))
		Expect(c.On(ch, realtime.PostgresChanges{Schema: "public", Filter: "id=eq.1"})).To(MatchError(realtime.ErrInvalidOption))
		Expect(filter.In("status", "a", "b,c").String()).To(Equal(`status=in.(a,"b,c")`))
		many := make([]any, 101)
		for i := range many {
			many[i] = i
		}
		Expect(filter.In("id", many...).Validate()).To(MatchError(realtime.ErrInvalidOption))
	})
})
