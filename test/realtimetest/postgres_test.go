package realtimetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// pgWait bounds every asynchronous assertion of the postgres specs (the
// replication stream adds latency).
const pgWait = 10 * time.Second

var commitTSRE = regexp.MustCompile(`"commit_timestamp":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"`)

// exact decodes JSON keeping numbers as their text, so int8 and numeric
// values are compared digit for digit.
func exact(raw []byte) any {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	ExpectWithOffset(1, d.Decode(&v)).To(Succeed(), string(raw))
	return v
}

func exactString(s string) any { return exact([]byte(s)) }

// pgChange is a decoded postgres_changes payload.
type pgChange struct {
	IDs  []json.Number
	Data map[string]any
	Raw  []byte
}

// decodeChange decodes a postgres_changes payload, checks the format of
// commit_timestamp and replaces it with "<ts>".
func decodeChange(w wire) pgChange {
	m := commitTSRE.FindSubmatch(w.Payload)
	ExpectWithOffset(1, m).NotTo(BeNil(), "commit_timestamp in %s", w.Payload)
	ts, err := time.Parse("2006-01-02T15:04:05.000Z", string(m[1]))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ExpectWithOffset(1, ts).To(BeTemporally("~", time.Now(), time.Minute))
	raw := commitTSRE.ReplaceAll(w.Payload, []byte(`"commit_timestamp":"<ts>"`))
	var p struct {
		IDs  []json.Number `json:"ids"`
		Data json.RawMessage
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	ExpectWithOffset(1, d.Decode(&p)).To(Succeed())
	return pgChange{IDs: p.IDs, Data: exact(p.Data).(map[string]any), Raw: raw}
}

// bindingIDs returns the ids of the join reply's postgres_changes.
func bindingIDs(reply wire) []json.Number {
	var r struct {
		PostgresChanges []struct {
			ID json.Number `json:"id"`
		} `json:"postgres_changes"`
	}
	d := json.NewDecoder(bytes.NewReader(replyResponse(reply)))
	d.UseNumber()
	ExpectWithOffset(1, d.Decode(&r)).To(Succeed())
	ids := make([]json.Number, len(r.PostgresChanges))
	for i, pc := range r.PostgresChanges {
		ids[i] = pc.ID
	}
	return ids
}

// expectPG waits (pgWait) for the next frame after the cursor that matches.
func expectPG(c *rawClient, desc string, match func(wire) bool) wire {
	var got wire
	EventuallyWithOffset(1, func() bool {
		w, ok := c.find(match)
		if ok {
			got = w
		}
		return ok
	}, pgWait, pollEvery).Should(BeTrue(), "waiting for %s; frames so far: %s", desc, c.dump)
	return got
}

func isEvent(topic, event string) func(wire) bool {
	return func(w wire) bool { return w.Topic == topic && w.Event == event }
}

// systemPayload is the postgres_changes system message payload.
func systemPayload(sub, status, message string) string {
	return fmt.Sprintf(`{"channel":%s,"extension":"postgres_changes","message":%s,"status":%s}`,
		jsonString(sub), jsonString(message), jsonString(status))
}

// jackcGoroutines returns the stacks of live goroutines of the pgx and
// pglogrepl libraries.
func jackcGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/jackc/") {
			out = append(out, g)
		}
	}
	return out
}

var _ = Describe("postgres_changes (§7)", Ordered, ContinueOnFailure, func() {
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

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = pgtest.Start(ctx, pgtest.Options{})
		Expect(err).NotTo(HaveOccurred())
		db, err = pgx.Connect(ctx, cluster.DSN())
		Expect(err).NotTo(HaveOccurred())
		exec(`create table todos (id bigint primary key, title text, done bool, amount numeric, tags text[], meta jsonb, at timestamptz)`)
		exec(`create table todos_full (id bigint primary key, title text, done bool)`)
		exec(`alter table todos_full replica identity full`)
		exec(`create table sync (id serial primary key)`)
		exec(`create table nopk (v text)`)
		exec(`create table docs (id int primary key, note text, body text)`)
		exec(`create table secret (id int primary key, v text)`)
		exec(`alter table secret replica identity full`)
		exec(`alter table secret enable row level security`)
		exec(`create table kinds (
			id int4 primary key, i2 int2, f8 float8, n numeric, nan numeric, inf float8, b bool, j json, u uuid,
			vc varchar(10), ts timestamp, d date, tm time, by bytea, ia int4[], ja jsonb[], nul text, iv interval)`)
	}, NodeTimeout(2*time.Minute))

	AfterAll(func() {
		if db != nil {
			_ = db.Close(context.Background())
		}
		if cluster != nil {
			Expect(cluster.Stop()).To(Succeed())
		}
	})

	connect := func(vsn string) *rawClient {
		c := dial(srv, vsn, nil)
		clients = append(clients, c)
		return c
	}

	BeforeEach(func() {
		exec(`truncate todos, todos_full, sync, nopk, docs, kinds, secret`)
		exec(`alter table docs replica identity default`)
		clients = nil
		srv = realtimetest.NewServer(realtimetest.Options{PostgresDSN: cluster.DSN()})
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

	// subscribe joins topic with the bindings and waits for "Subscribed to
	// PostgreSQL"; it returns the join ref and the binding ids.
	subscribe := func(c *rawClient, topic string, bindings ...string) (string, []json.Number) {
		jr, reply := c.joinOK(topic, `{"config":{"postgres_changes":[`+strings.Join(bindings, ",")+`]}}`)
		ids := bindingIDs(reply)
		ExpectWithOffset(1, ids).To(HaveLen(len(bindings)))
		sys := expectPG(c, "Subscribed to PostgreSQL", isEvent(topic, "system"))
		ExpectWithOffset(1, string(sys.Payload)).To(Equal(systemPayload(strings.TrimPrefix(topic, "realtime:"), "ok", "Subscribed to PostgreSQL")))
		return jr, ids
	}

	// systemError joins with the bindings and returns the system message
	// that follows (the join itself succeeds).
	systemError := func(c *rawClient, topic string, bindings ...string) string {
		_, reply := c.joinOK(topic, `{"config":{"postgres_changes":[`+strings.Join(bindings, ",")+`]}}`)
		Expect(bindingIDs(reply)).To(HaveLen(len(bindings)))
		sys := expectPG(c, "system message", isEvent(topic, "system"))
		var p map[string]string
		Expect(json.Unmarshal(sys.Payload, &p)).To(Succeed())
		Expect(p).To(HaveKeyWithValue("status", "error"))
		Expect(p).To(HaveKeyWithValue("extension", "postgres_changes"))
		Expect(p).To(HaveKeyWithValue("channel", strings.TrimPrefix(topic, "realtime:")))
		return p["message"]
	}

	changes := func(c *rawClient, topic string) []pgChange {
		var out []pgChange
		for _, w := range c.all() {
			if w.Topic == topic && w.Event == "postgres_changes" {
				out = append(out, decodeChange(w))
			}
		}
		return out
	}

	// syncChannel inserts into "sync" and waits for that change on topic
	// (which must have a binding on it): every change committed before has
	// been delivered by then.
	syncChannel := func(c *rawClient, topic string) {
		exec(`insert into sync default values`)
		expectPG(c, "sync change", func(w wire) bool {
			return w.Topic == topic && w.Event == "postgres_changes" && bytes.Contains(w.Payload, []byte(`"table":"sync"`))
		})
	}
	syncBinding := `{"event":"INSERT","schema":"public","table":"sync"}`

	It("replies with integer ids, confirms the subscription and delivers exact INSERT, UPDATE and DELETE frames", func() {
		c := connect("2.0.0")
		binding := `{"event":"*","schema":"public","table":"todos"}`
		jr, ids := subscribe(c, "realtime:room", binding)
		Expect(ids[0].String()).To(Equal(fmt.Sprint(realtimetest.BindingID([]byte(binding)))))
		Expect(string(c.all()[1].Raw)).To(Equal(`["` + jr + `",null,"realtime:room","system",` +
			systemPayload("room", "ok", "Subscribed to PostgreSQL") + `]`))

		exec(`insert into todos values (9223372036854775807, 'buy milk', true, 123456789012345678901234567890.123, '{a,"b c"}', '{"k": 1, "n": [1, 2.50]}', '2026-08-21 10:15:30.123456+00')`)
		ins := expectPG(c, "INSERT", isEvent("realtime:room", "postgres_changes"))
		Expect(ins.JoinRef).To(BeNil())
		Expect(ins.Ref).To(BeNil())
		columns := `[{"name":"id","type":"int8"},{"name":"title","type":"text"},{"name":"done","type":"bool"},{"name":"amount","type":"numeric"},{"name":"tags","type":"_text"},{"name":"meta","type":"jsonb"},{"name":"at","type":"timestamptz"}]`
		record := `{"id":9223372036854775807,"title":"buy milk","done":true,"amount":123456789012345678901234567890.123,"tags":["a","b c"],"meta":{"k":1,"n":[1,2.50]},"at":"2026-08-21T10:15:30.123456+00:00"}`
		// The exact bytes: big numbers keep every digit.
		Expect(string(decodeChange(ins).Raw)).To(Equal(`{"ids":[` + ids[0].String() + `],"data":{"schema":"public","table":"todos","type":"INSERT","commit_timestamp":"<ts>","columns":` +
			columns + `,"record":` + record + `,"errors":null}}`))

		exec(`update todos set done = false, title = null where id = 9223372036854775807`)
		upd := decodeChange(expectPG(c, "UPDATE", isEvent("realtime:room", "postgres_changes")))
		Expect(upd.IDs).To(Equal(ids))
		Expect(upd.Data).To(Equal(exactString(`{"schema":"public","table":"todos","type":"UPDATE","commit_timestamp":"<ts>","columns":` + columns +
			`,"record":{"id":9223372036854775807,"title":null,"done":false,"amount":123456789012345678901234567890.123,"tags":["a","b c"],"meta":{"k":1,"n":[1,2.50]},"at":"2026-08-21T10:15:30.123456+00:00"}` +
			`,"old_record":{"id":9223372036854775807},"errors":null}`)))

		exec(`delete from todos where id = 9223372036854775807`)
		del := decodeChange(expectPG(c, "DELETE", isEvent("realtime:room", "postgres_changes")))
		Expect(del.Data).To(Equal(exactString(`{"schema":"public","table":"todos","type":"DELETE","commit_timestamp":"<ts>","columns":` + columns +
			`,"old_record":{"id":9223372036854775807},"errors":null}`)))
		Expect(del.Data).NotTo(HaveKey("record"))
	})

	It("types values like to_jsonb", func() {
		c := connect("2.0.0")
		subscribe(c, "realtime:kinds", `{"event":"INSERT","schema":"public","table":"kinds"}`)
		exec(`insert into kinds values (1, -32768, 1.5e300, 0.000100, 'NaN', '-Infinity', false, '{"a" : [true, null]}',
			'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'héllo "q"', '2026-08-21 10:15:30', '2026-08-21', '10:15:30.5', '\x0102ff',
			'{{1,2},{3,NULL}}', array['{"x": 1}'::jsonb, 'null'::jsonb], null, '1 day 02:00:00')`)
		ch := decodeChange(expectPG(c, "INSERT", isEvent("realtime:kinds", "postgres_changes")))
		Expect(ch.Data["record"]).To(Equal(exactString(`{"id":1,"i2":-32768,"f8":1.5e+300,"n":0.000100,"nan":"NaN","inf":"-Infinity","b":false,
			"j":{"a":[true,null]},"u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","vc":"héllo \"q\"","ts":"2026-08-21T10:15:30",
			"d":"2026-08-21","tm":"10:15:30.5","by":"0102ff","ia":[[1,2],[3,null]],"ja":[{"x":1},null],"nul":null,"iv":"1 day 02:00:00"}`)))
		Expect(ch.Data["columns"]).To(Equal(exactString(`[{"name":"id","type":"int4"},{"name":"i2","type":"int2"},{"name":"f8","type":"float8"},
			{"name":"n","type":"numeric"},{"name":"nan","type":"numeric"},{"name":"inf","type":"float8"},{"name":"b","type":"bool"},
			{"name":"j","type":"json"},{"name":"u","type":"uuid"},{"name":"vc","type":"varchar"},{"name":"ts","type":"timestamp"},
			{"name":"d","type":"date"},{"name":"tm","type":"time"},{"name":"by","type":"bytea"},{"name":"ia","type":"_int4"},
			{"name":"ja","type":"_jsonb"},{"name":"nul","type":"text"},{"name":"iv","type":"interval"}]`)))
	})

	It("delivers only rows matching id=eq.1", func() {
		c := connect("2.0.0")
		_, ids := subscribe(c, "realtime:one", `{"event":"*","schema":"public","table":"todos","filter":"id=eq.1"}`)
		exec(`insert into todos (id, title) values (2, 'two')`)
		exec(`insert into todos (id, title) values (1, 'one')`)
		got := decodeChange(expectPG(c, "INSERT of id 1", isEvent("realtime:one", "postgres_changes")))
		Expect(got.IDs).To(Equal(ids))
		Expect(got.Data["record"]).To(HaveKeyWithValue("id", json.Number("1")))
		// id 2 committed first and would have arrived first.
		Expect(changes(c, "realtime:one")).To(HaveLen(1))
	})

	It("sends one frame with both ids when two bindings of a channel match", func() {
		c := connect("2.0.0")
		_, ids := subscribe(c, "realtime:two",
			`{"event":"*","schema":"public","table":"todos"}`,
			`{"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.5"}`,
			`{"event":"DELETE","schema":"public","table":"todos"}`,
			syncBinding)
		Expect(ids[0]).NotTo(Equal(ids[1]))
		exec(`insert into todos (id) values (5)`)
		syncChannel(c, "realtime:two")
		got := changes(c, "realtime:two")
		Expect(got).To(HaveLen(2)) // the insert and the sync row
		Expect(got[0].Data["table"]).To(Equal("todos"))
		Expect(got[0].IDs).To(Equal([]json.Number{ids[0], ids[1]}))
		Expect(got[1].IDs).To(Equal([]json.Number{ids[3]}))
	})

	It("routes a change to every matching channel on every socket, in the V1 object form too", func() {
		c1 := connect("1.0.0")
		c2 := connect("2.0.0")
		_, ids1 := subscribe(c1, "realtime:v1", `{"event":"INSERT","schema":"public","table":"todos"}`)
		_, ids2 := subscribe(c2, "realtime:v2", `{"event":"insert","schema":"*","table":"todos"}`)
		subscribe(c2, "realtime:other", `{"event":"UPDATE","schema":"public","table":"todos"}`, syncBinding)
		exec(`insert into todos (id, title) values (7, 'x')`)
		w1 := expectPG(c1, "V1 change", isEvent("realtime:v1", "postgres_changes"))
		Expect(w1.HasJoinRefKey).To(BeFalse())
		Expect(w1.Ref).To(BeNil())
		Expect(string(w1.Raw)).To(HavePrefix(`{"topic":"realtime:v1","event":"postgres_changes","payload":{"ids":[` + ids1[0].String() + `]`))
		Expect(decodeChange(w1).Data["record"]).To(HaveKeyWithValue("title", "x"))
		Expect(decodeChange(expectPG(c2, "V2 change", isEvent("realtime:v2", "postgres_changes"))).IDs).To(Equal(ids2))
		syncChannel(c2, "realtime:other")
		Expect(changes(c2, "realtime:other")).To(HaveLen(1)) // only the sync row: the UPDATE binding did not match
	})

	It("reports filter parse errors in a system message and keeps the join", func() {
		c := connect("2.0.0")
		Expect(systemError(c, "realtime:bad", `{"event":"*","schema":"public","table":"todos","filter":"wrong"}`)).
			To(Equal("Error parsing `filter` params: [\"wrong\"]"))
		Expect(c.all()[len(c.all())-1].Raw).To(MatchRegexp(`^\["\d+",null,"realtime:bad","system",`))
		Expect(systemError(c, "realtime:bad2", `{"schema":"public","table":"todos","filter":"subject=foo.hey"}`)).
			To(Equal("Error parsing `filter` params: [\"foo\", \"hey\"]"))
		Expect(systemError(c, "realtime:bad3", `{"schema":"public","table":"todos","filter":"id=in.1,2"}`)).
			To(Equal("Error parsing `filter` params: `in` filter value must be wrapped by parentheses"))
		Expect(systemError(c, "realtime:bad4", `{"schema":"public","table":"todos","filter":"id=eq.1,,done=is.true"}`)).
			To(Equal("Error parsing `filter` params: filter must not contain empty segments (check for extra commas)"))
		Expect(systemError(c, "realtime:bad5", `{"event":"*"}`)).
			To(Equal("No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: %{\"event\" => \"*\"}"))
		Expect(systemError(c, "realtime:bad6", `{"schema":"*","select":["id"]}`)).
			To(Equal("Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name."))
		Expect(srv.ActiveConns()[0].Joined()).To(ConsistOf("realtime:bad", "realtime:bad2", "realtime:bad3", "realtime:bad4", "realtime:bad5", "realtime:bad6"))
	})

	It("reports database-stage errors with the server's messages", func() {
		c := connect("2.0.0")
		Expect(systemError(c, "realtime:col", `{"schema":"public","table":"todos","filter":"nope=eq.1"}`)).To(Equal(
			"Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: " +
				`[event: *, schema: public, table: todos, filters: [{"nope", "eq", "1", false}], select: nil]. ` +
				"Exception: ERROR P0001 (raise_exception) invalid column for filter nope"))
		Expect(systemError(c, "realtime:val", `{"event":"UPDATE","schema":"public","table":"todos","filter":"id=not.eq.hey"}`)).To(Equal(
			"Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: " +
				`[event: UPDATE, schema: public, table: todos, filters: [{"id", "eq", "hey", true}], select: nil]. ` +
				`Exception: ERROR 22P02 (invalid_text_representation) invalid input syntax for type bigint: "hey"`))
		Expect(systemError(c, "realtime:is", `{"schema":"public","table":"todos","filter":"title=is.true"}`)).To(HaveSuffix(
			"Exception: ERROR P0001 (raise_exception) is true filter requires a boolean column, got text"))
		Expect(systemError(c, "realtime:missing", `{"event":"INSERT","schema":"public","table":"nope"}`)).To(Equal(
			"Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: " +
				"[event: INSERT, schema: public, table: nope, filters: [], select: nil]"))
		Expect(systemError(c, "realtime:sel", `{"schema":"public","table":"todos","select":["title","zzz"]}`)).To(HaveSuffix(
			`filters: [], select: ["title", "zzz"]]. Exception: ERROR P0001 (raise_exception) invalid column for select zzz`))
	})

	It("evaluates the filter operators, negation and AND", func() {
		c := connect("2.0.0")
		filters := map[string]string{
			"neq":   "id=neq.1",
			"lt":    "id=lt.3",
			"gte":   "amount=gte.10.5",
			"in":    "title=in.(a,\"b,c\")",
			"notin": "id=not.in.(1,2,3)",
			"isnul": "title=is.null",
			"istru": "done=is.true",
			"like":  "title=like.b%",
			"ilike": "title=ilike.B%",
			"and":   "id=gt.1,done=is.false",
			"time":  "at=gt.2026-01-01T00:00:00Z",
			"num":   "amount=lt.9",
		}
		for name, f := range filters {
			subscribe(c, "realtime:"+name, fmt.Sprintf(`{"event":"INSERT","schema":"public","table":"todos","filter":%s}`, jsonString(f)), syncBinding)
		}
		exec(`insert into todos (id, title, done, amount, at) values
			(1, 'a', true, 10.5, '2026-08-21 10:00:00+00'),
			(2, 'b,c', false, 9, '2025-01-01 00:00:00+00'),
			(3, null, null, 100, null),
			(4, 'Bob', false, 8.99, '2026-01-01 00:00:01+00')`)
		want := map[string][]string{
			"neq":   {"2", "3", "4"},
			"lt":    {"1", "2"},
			"gte":   {"1", "3"},
			"in":    {"1", "2"},
			"notin": {"4"},
			"isnul": {"3"},
			"istru": {"1"},
			"like":  {"2"},
			"ilike": {"2", "4"},
			"and":   {"2", "4"},
			"time":  {"1", "4"},
			"num":   {"4"},
		}
		for name := range filters {
			topic := "realtime:" + name
			syncChannel(c, topic)
			var got []string
			for _, ch := range changes(c, topic) {
				if ch.Data["table"] == "todos" {
					got = append(got, string(ch.Data["record"].(map[string]any)["id"].(json.Number)))
				}
			}
			Expect(got).To(Equal(want[name]), "filter %s", filters[name])
		}
	})

	It("evaluates DELETE filters against the old record and gives a full old_record with REPLICA IDENTITY FULL", func() {
		c := connect("2.0.0")
		subscribe(c, "realtime:full", `{"event":"*","schema":"public","table":"todos_full","filter":"done=eq.true"}`)
		subscribe(c, "realtime:dflt", `{"event":"DELETE","schema":"public","table":"todos","filter":"done=eq.true"}`, syncBinding)
		subscribe(c, "realtime:rls", `{"event":"DELETE","schema":"public","table":"secret"}`)
		exec(`insert into todos_full values (1, 'a', true)`)
		exec(`update todos_full set title = 'b' where id = 1`)
		exec(`delete from todos_full where id = 1`)
		expectPG(c, "INSERT", isEvent("realtime:full", "postgres_changes"))
		upd := decodeChange(expectPG(c, "UPDATE", isEvent("realtime:full", "postgres_changes")))
		Expect(upd.Data["old_record"]).To(Equal(exactString(`{"id":1,"title":"a","done":true}`)))
		Expect(upd.Data["record"]).To(Equal(exactString(`{"id":1,"title":"b","done":true}`)))
		del := decodeChange(expectPG(c, "DELETE", isEvent("realtime:full", "postgres_changes")))
		Expect(del.Data["type"]).To(Equal("DELETE"))
		Expect(del.Data["old_record"]).To(Equal(exactString(`{"id":1,"title":"b","done":true}`)))

		// With the default identity the old row only has the key: a filter
		// on another column hides the DELETE.
		exec(`insert into todos (id, done) values (1, true)`)
		exec(`delete from todos where id = 1`)
		syncChannel(c, "realtime:dflt")
		Expect(changes(c, "realtime:dflt")).To(HaveLen(1)) // the sync row only

		// DELETE on an RLS table reveals the primary key only.
		exec(`insert into secret values (1, 'hidden')`)
		exec(`delete from secret`)
		rls := decodeChange(expectPG(c, "RLS DELETE", isEvent("realtime:rls", "postgres_changes")))
		Expect(rls.Data["old_record"]).To(Equal(exactString(`{"id":1}`)))
	})

	It("fills unchanged TOAST columns from the old record when there is one, else omits them", func() {
		c := connect("2.0.0")
		subscribe(c, "realtime:toast", `{"event":"UPDATE","schema":"public","table":"docs"}`)
		exec(`insert into docs values (1, 'n', (select string_agg(md5(random()::text), '') from generate_series(1, 400)))`)
		exec(`update docs set note = 'm' where id = 1`)
		upd := decodeChange(expectPG(c, "UPDATE", isEvent("realtime:toast", "postgres_changes")))
		Expect(upd.Data["record"]).To(Equal(exactString(`{"id":1,"note":"m"}`)))
		Expect(upd.Data["old_record"]).To(Equal(exactString(`{"id":1}`)))

		exec(`alter table docs replica identity full`)
		exec(`update docs set note = 'o' where id = 1`)
		upd = decodeChange(expectPG(c, "UPDATE", isEvent("realtime:toast", "postgres_changes")))
		rec := upd.Data["record"].(map[string]any)
		Expect(rec).To(HaveKeyWithValue("note", "o"))
		Expect(rec["body"]).To(HaveLen(400 * 32))
	})

	It("limits columns to select plus the primary key", func() {
		c := connect("2.0.0")
		subscribe(c, "realtime:sel", `{"event":"INSERT","schema":"public","table":"todos","select":["title"]}`)
		exec(`insert into todos (id, title, done) values (3, 't', true)`)
		ch := decodeChange(expectPG(c, "INSERT", isEvent("realtime:sel", "postgres_changes")))
		Expect(ch.Data["columns"]).To(Equal(exactString(`[{"name":"id","type":"int8"},{"name":"title","type":"text"}]`)))
		Expect(ch.Data["record"]).To(Equal(exactString(`{"id":3,"title":"t"}`)))
	})

	It("sends Error 400 for a table without primary key", func() {
		c := connect("2.0.0")
		subscribe(c, "realtime:nopk", `{"event":"INSERT","schema":"public","table":"nopk"}`)
		exec(`insert into nopk values ('x')`)
		w := expectPG(c, "INSERT", isEvent("realtime:nopk", "postgres_changes"))
		var p struct{ Data json.RawMessage }
		Expect(json.Unmarshal(w.Payload, &p)).To(Succeed())
		Expect(string(p.Data)).To(Equal(`{"schema":"public","table":"nopk","type":"INSERT","commit_timestamp":null,"columns":[],"record":{},"errors":["Error 400: Bad Request, no primary key"]}`))
	})

	It("answers replication_ready and serves the legacy topic API", func() {
		c := connect("2.0.0")
		jr, _ := c.joinOK("realtime:ready", `{"config":{"broadcast":{"replication_ready":true},"postgres_changes":[]}}`)
		w := expectPG(c, "replication ready", isEvent("realtime:ready", "system"))
		Expect(string(w.Raw)).To(Equal(`["` + jr + `",null,"realtime:ready","system",{"channel":"ready","extension":"system","message":"Replication connection established","status":"ok"}]`))

		c.joinOK("realtime:public:todos:id=eq.8", `{}`)
		expectPG(c, "Subscribed", isEvent("realtime:public:todos:id=eq.8", "system"))
		exec(`insert into todos (id) values (9), (8)`)
		ev := expectPG(c, "legacy INSERT", isEvent("realtime:public:todos:id=eq.8", "INSERT"))
		Expect(ev.Payload).To(ContainSubstring(`"record":{"id":8,`))
		Expect(ev.Payload).NotTo(ContainSubstring(`"ids"`))
	})

	It("captures only changes committed after the subscription and stops at Close, dropping the slot", func() {
		exec(`insert into todos (id) values (1)`) // before anyone subscribed
		c := connect("2.0.0")
		subscribe(c, "realtime:late", `{"event":"*","schema":"public","table":"todos"}`)
		exec(`insert into todos (id) values (2)`)
		got := decodeChange(expectPG(c, "INSERT", isEvent("realtime:late", "postgres_changes")))
		Expect(got.Data["record"]).To(HaveKeyWithValue("id", json.Number("2")))
		Expect(srv.PostgresSubscriptions()).To(Equal(1))

		srv.Close() // returns once the temporary slot is gone
		var slots int
		Expect(db.QueryRow(context.Background(), `select count(*) from pg_replication_slots where slot_name like 'supabase_realtime_replication_slot_%'`).Scan(&slots)).To(Succeed())
		Expect(slots).To(BeZero())
	})

	// realtime_channel.ex: Connect.lookup_or_start_connection fails with
	// :tenant_database_unavailable → "UnableToConnectToProject: …".
	It("fails joins with UnableToConnectToProject while the database is unreachable, reports it through WaitPostgres and closes cleanly", func() {
		srv2 := realtimetest.NewServer(realtimetest.Options{PostgresDSN: "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=1"})
		c := dial(srv2, "2.0.0", nil)
		Expect(joinError(c, "realtime:wait", `{"config":{"postgres_changes":[{"event":"*","schema":"public"}]}}`)).
			To(Equal("UnableToConnectToProject: Realtime was unable to connect to the project database"))
		Expect(joinError(c, "realtime:plain", `{"config":{}}`)).To(Equal(realtimetest.ReasonUnableToConnect))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err := srv2.WaitPostgres(ctx)
		Expect(err).To(MatchError(ContainSubstring("last error")))
		Expect(err).To(MatchError(ContainSubstring("cannot connect to the database")))
		c.close()
		srv2.Close()
	})

	// The server never creates the publication (subscriptions.ex: no
	// published table → "Please check Realtime is enabled…"); it says what
	// is missing and starts streaming once the publication exists.
	It("does not create the publication: subscriptions are refused until it exists, then changes flow", func() {
		exec(`create database empty`)
		srv2 := realtimetest.NewServer(realtimetest.Options{PostgresDSN: cluster.DSNFor("empty")})
		short, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		err := srv2.WaitPostgres(short)
		Expect(err).To(MatchError(realtimetest.ErrNoPublication))
		Expect(err).To(MatchError(ContainSubstring("CREATE PUBLICATION supabase_realtime")))
		Expect(realtimetest.CheckPostgres(context.Background(), cluster.DSNFor("empty"))).To(MatchError(realtimetest.ErrNoPublication))
		c := dial(srv2, "2.0.0", nil)
		Expect(systemError(c, "realtime:any", `{"event":"INSERT","schema":"public"}`)).To(Equal(
			"Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: " +
				"[event: INSERT, schema: public, table: *, filters: [], select: nil]"))

		ctx, cancel2 := context.WithTimeout(context.Background(), pgWait)
		defer cancel2()
		Expect(cluster.CreatePublication(ctx, "empty")).To(Succeed())
		Expect(srv2.WaitPostgres(ctx)).To(Succeed())
		Expect(realtimetest.CheckPostgres(ctx, cluster.DSNFor("empty"))).To(Succeed())
		c.close()
		srv2.Close()
		exec(`drop database empty with (force)`)
	})
})
