// Package conformance_test runs the official client, @supabase/realtime-js
// (pinned in package.json), against the in-process Realtime server of
// test/realtimetest, and checks interop between realtime-js and this
// module's Go client on the same server.
//
// It starts a throwaway PostgreSQL (test/pgtest; the binaries are required,
// the suite fails without them), creates the tables and the
// supabase_realtime publication, starts realtimetest with a JWT secret and
// the database, and serves a small control endpoint for the Node scripts
// (SQL on the database, the server's recordings). Then:
//
//   - realtime-js: `node conformance.mjs` — every case against vsn 2.0.0
//     and 1.0.0; output streamed; exit status 0 and the final
//     "N passed, N failed" line (N passed > 0, 0 failed) are required.
//   - interop/vsn=…: the Go client and `node interop.mjs` on one channel:
//     broadcasts both ways (JSON, and binary on 2.0.0), presence both
//     ways, and the same postgres change for the same row on both sides.
//
// Node 20+ and test/conformance/node_modules are required: run `npm ci` in
// test/conformance (or `make node-deps`).
package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

const (
	// realtimeJSVersion must match package.json / package-lock.json.
	realtimeJSVersion = "2.119.0"
	jwtSecret         = "conformance-suite-jwt-secret-with-at-least-32-characters"
	minNodeMajor      = 20

	conformanceTimeout = 100 * time.Second
	interopTimeout     = 60 * time.Second
	waitTimeout        = 10 * time.Second

	// conformanceEventsLimit is MaxEventsPerSecond of the limited server.
	conformanceEventsLimit = 4
)

// summaryRE matches the last line of the Node scripts.
var summaryRE = regexp.MustCompile(`^(\d+) passed, (\d+) failed$`)

// tables are created before the server starts; the publication lists them
// (docs/protocol.md §7.1: only published tables can be subscribed).
var setupSQL = []string{
	`create table public.conformance_items (id int primary key, title text, done bool, tags text[], meta jsonb, amount numeric, at timestamptz)`,
	`create table public.interop_items (id int primary key, title text, done bool, tags text[], meta jsonb, amount numeric, at timestamptz)`,
	`create table public.conformance_unpublished (id int primary key)`, // §7.4 "Please check Realtime is enabled…"
	// Row-level security (apply_rls.sql): the API roles of a Supabase
	// project, a table whose policy shows each user its own rows, and one
	// the roles may not select (Error 401).
	`create role anon nologin`,
	`create role authenticated nologin`,
	`grant usage on schema public to anon, authenticated`,
	`create table public.conformance_rls (id int primary key, owner text not null, body text)`,
	`alter table public.conformance_rls enable row level security`,
	`create policy own_rows on public.conformance_rls for select to authenticated
	   using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub')`,
	`create table public.conformance_noselect (id int primary key)`,
	`grant select on public.conformance_items, public.interop_items, public.conformance_unpublished, public.conformance_rls to anon, authenticated`,
	`create publication supabase_realtime for table public.conformance_items, public.interop_items, public.conformance_rls, public.conformance_noselect`,
}

// env is what every sub-test shares.
type env struct {
	dir     string // test/conformance
	node    string
	srv     *realtimetest.Server
	dsn     string
	anonKey string
	control string // control endpoint URL

	downURL    string // a server whose database is unreachable
	limitedURL string // a server with MaxEventsPerSecond = conformanceEventsLimit

	dbMu sync.Mutex
	db   *pgx.Conn
}

func TestConformance(t *testing.T) {
	start := time.Now()
	e := &env{}
	var err error
	if e.dir, err = os.Getwd(); err != nil {
		t.Fatal(err)
	}
	e.node = requireNode(t)
	requireNodeModules(t, e.dir)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cluster, err := pgtest.Start(ctx, pgtest.Options{NoPublication: true}) // setupSQL creates it
	if err != nil {
		t.Fatalf("the conformance suite needs PostgreSQL (postgres_changes cases); install it (e.g. postgresql-15) or put initdb/postgres on PATH: %v", err)
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	}()
	e.dsn = cluster.DSN()
	if e.db, err = pgx.Connect(ctx, e.dsn); err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer e.db.Close(context.Background())
	for _, q := range setupSQL {
		if _, err := e.db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	e.srv, err = realtimetest.Listen(realtimetest.Options{
		Addr:        "127.0.0.1:0",
		JWTSecret:   jwtSecret,
		PostgresDSN: e.dsn,
	})
	if err != nil {
		t.Fatalf("start realtimetest server: %v", err)
	}
	defer e.srv.Close()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	err = e.srv.WaitPostgres(wctx)
	wcancel()
	if err != nil {
		t.Fatalf("realtimetest: replication not ready: %v", err)
	}
	now := time.Now()
	e.anonKey = realtimetest.SignJWT(jwtSecret, map[string]any{
		"iss": "supabase-demo", "role": "anon", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})

	// Two more servers for the cases of the real server's database and
	// limit handling: one whose database is unreachable
	// (UnableToConnectToProject), one with a small events limit.
	down, err := realtimetest.Listen(realtimetest.Options{
		JWTSecret:   jwtSecret,
		PostgresDSN: "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2",
	})
	if err != nil {
		t.Fatalf("start the unreachable-database server: %v", err)
	}
	defer down.Close()
	e.downURL = down.URL()
	limitedOpts := realtimetest.RealLimits()
	limitedOpts.JWTSecret = jwtSecret
	limitedOpts.MaxEventsPerSecond = conformanceEventsLimit
	limitedOpts.RateTick = 0 // evaluated at every event: the case needs no 5 s tick
	limited, err := realtimetest.Listen(limitedOpts)
	if err != nil {
		t.Fatalf("start the limited server: %v", err)
	}
	defer limited.Close()
	e.limitedURL = limited.URL()

	ctl := httptest.NewServer(e.controlHandler())
	defer ctl.Close()
	e.control = ctl.URL

	var summaries []string
	t.Run("realtime-js", func(t *testing.T) {
		summaries = append(summaries, "realtime-js conformance: "+e.runConformance(t))
	})
	for _, vsn := range []realtime.Vsn{realtime.Vsn2, realtime.Vsn1} {
		t.Run("interop/vsn="+string(vsn), func(t *testing.T) {
			summaries = append(summaries, fmt.Sprintf("interop vsn=%s: %s", vsn, e.runInterop(t, vsn)))
		})
	}
	fmt.Printf("\n=== conformance summary (%.1fs)\n", time.Since(start).Seconds())
	for _, s := range summaries {
		fmt.Println(s)
	}
}

// ---------------------------------------------------------------------------
// Node and node_modules

func requireNode(t *testing.T) string {
	t.Helper()
	node := os.Getenv("NODE")
	if node == "" {
		var err error
		if node, err = exec.LookPath("node"); err != nil {
			t.Fatalf("node not found on PATH (set NODE=/path/to/node): the conformance suite runs @supabase/realtime-js on Node %d+", minNodeMajor)
		}
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if major < minNodeMajor {
		t.Fatalf("node %s is too old: need Node %d+", v, minNodeMajor)
	}
	return node
}

func requireNodeModules(t *testing.T, dir string) {
	t.Helper()
	hint := "run `npm ci` in test/conformance (or `make node-deps`)"
	raw, err := os.ReadFile(filepath.Join(dir, "node_modules", "@supabase", "realtime-js", "package.json"))
	if err != nil {
		t.Fatalf("test/conformance/node_modules is missing @supabase/realtime-js: %s", hint)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(raw, &pkg); err != nil || pkg.Version != realtimeJSVersion {
		t.Fatalf("node_modules has @supabase/realtime-js %q, want %s: %s", pkg.Version, realtimeJSVersion, hint)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		t.Fatalf("test/conformance/node_modules is missing ws: %s", hint)
	}
}

// ---------------------------------------------------------------------------
// Control endpoint for the Node scripts

type accessTokenJSON struct {
	ConnID  int    `json:"conn_id"`
	Topic   string `json:"topic"`
	JoinRef string `json:"join_ref"`
	Token   string `json:"token"`
}

type joinJSON struct {
	ConnID      int             `json:"conn_id"`
	Topic       string          `json:"topic"`
	JoinRef     string          `json:"join_ref"`
	AccessToken string          `json:"access_token"`
	Payload     json.RawMessage `json:"payload"`
}

type httpRequestJSON struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   map[string]string `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	Status  int               `json:"status"`
}

func (e *env) controlHandler() http.Handler {
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /sql", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n, err := e.exec(r.Context(), string(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]int64{"rows_affected": n})
	})
	mux.HandleFunc("GET /access-tokens", func(w http.ResponseWriter, _ *http.Request) {
		out := []accessTokenJSON{}
		for _, a := range e.srv.AccessTokens() {
			out = append(out, accessTokenJSON{a.ConnID, a.Topic, a.JoinRef, a.Token})
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /joins", func(w http.ResponseWriter, _ *http.Request) {
		out := []joinJSON{}
		for _, j := range e.srv.Joins() {
			out = append(out, joinJSON{j.ConnID, j.Topic, j.JoinRef, j.AccessToken, j.Payload})
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /http-requests", func(w http.ResponseWriter, _ *http.Request) {
		out := []httpRequestJSON{}
		for _, r := range e.srv.HTTPRequests() {
			q := map[string]string{}
			for k, v := range r.Query {
				q[k] = v[0]
			}
			h := map[string]string{}
			for k, v := range r.Header {
				h[strings.ToLower(k)] = v[0]
			}
			out = append(out, httpRequestJSON{r.Method, r.Path, q, h, string(r.Body), r.Status})
		}
		writeJSON(w, out)
	})
	return mux
}

func (e *env) exec(ctx context.Context, sql string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	e.dbMu.Lock()
	defer e.dbMu.Unlock()
	tag, err := e.db.Exec(ctx, sql)
	return tag.RowsAffected(), err
}

// ---------------------------------------------------------------------------
// Running the Node scripts

// nodeProc is a running Node script whose stdout lines are echoed and
// collected.
type nodeProc struct {
	cmd   *exec.Cmd
	lines chan string // closed at EOF
	done  chan struct{}
	err   error // exit error, valid after done

	mu  sync.Mutex
	all []string
}

func (e *env) startNode(ctx context.Context, t *testing.T, script, echoPrefix string, extra ...string) *nodeProc {
	t.Helper()
	cmd := exec.CommandContext(ctx, e.node, script)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(),
		"CONFORMANCE_URL="+e.srv.URL(),
		"CONFORMANCE_APIKEY="+e.anonKey,
		"CONFORMANCE_JWT_SECRET="+jwtSecret,
		"CONFORMANCE_DSN="+e.dsn,
		"CONFORMANCE_CONTROL_URL="+e.control,
		"CONFORMANCE_DOWN_URL="+e.downURL,
		"CONFORMANCE_LIMITED_URL="+e.limitedURL,
		"CONFORMANCE_EVENTS_LIMIT="+strconv.Itoa(conformanceEventsLimit),
	)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s %s: %v", e.node, script, err)
	}
	p := &nodeProc{cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			line := sc.Text()
			// Streamed as is, so "N passed, N failed" stays a plain line.
			fmt.Println(echoPrefix + line)
			p.mu.Lock()
			p.all = append(p.all, line)
			p.mu.Unlock()
			select {
			case p.lines <- line:
			default: // nobody reading; the line is kept in all
			}
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p
}

// wait waits for the process to end and returns its summary counts.
func (p *nodeProc) wait(t *testing.T, script string) (passed, failed int) {
	t.Helper()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	var fails []string
	found := false
	for _, l := range p.all {
		if m := summaryRE.FindStringSubmatch(l); m != nil {
			passed, _ = strconv.Atoi(m[1])
			failed, _ = strconv.Atoi(m[2])
			found = true
		}
		if strings.HasPrefix(l, "FAIL ") {
			fails = append(fails, l)
		}
	}
	if p.err != nil {
		t.Errorf("node %s: %v", script, p.err)
	}
	switch {
	case !found:
		t.Errorf("node %s printed no `N passed, N failed` line", script)
	case passed == 0:
		t.Errorf("node %s: 0 cases passed", script)
	case failed > 0:
		t.Errorf("node %s: %d passed, %d failed:\n%s", script, passed, failed, strings.Join(fails, "\n"))
	}
	return passed, failed
}

func (e *env) runConformance(t *testing.T) string {
	ctx, cancel := context.WithTimeout(context.Background(), conformanceTimeout)
	defer cancel()
	p := e.startNode(ctx, t, "conformance.mjs", "")
	passed, failed := p.wait(t, "conformance.mjs")
	if ctx.Err() != nil {
		t.Errorf("conformance.mjs killed after %s", conformanceTimeout)
	}
	return fmt.Sprintf("%d passed, %d failed", passed, failed)
}

// ---------------------------------------------------------------------------
// Interop: the Go client and realtime-js on one channel

// recorder is a realtime.Handler keeping every event.
type recorder struct {
	mu     sync.Mutex
	events []realtime.Event
}

func (r *recorder) HandleEvent(_ context.Context, ev realtime.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) find(pred func(realtime.Event) bool) (realtime.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if pred(ev) {
			return ev, true
		}
	}
	return nil, false
}

func (r *recorder) filter(pred func(realtime.Event) bool) []realtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []realtime.Event
	for _, ev := range r.events {
		if pred(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// waitFor polls f until it returns true or d passes.
func waitFor(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checker prints `ok <name>` / `FAIL <name>: <reason>` lines for the Go side.
type checker struct {
	t              *testing.T
	passed, failed int
}

func (c *checker) check(name string, err error) bool {
	if err != nil {
		c.failed++
		fmt.Printf("FAIL %s: %v\n", name, err)
		c.t.Errorf("%s: %v", name, err)
		return false
	}
	c.passed++
	fmt.Printf("ok %s\n", name)
	return true
}

// change is one postgres change, normalized for comparing both clients.
type change struct {
	Type, Schema, Table, CommitTimestamp string
	New, Old                             any
}

// generic decodes JSON into float64-based values (12.50 == 12.5), {} for empty.
func generic(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err
}

func (e *env) runInterop(t *testing.T, vsn realtime.Vsn) string {
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()
	ck := &checker{t: t}
	tag := fmt.Sprintf("[vsn=%s]", vsn)
	binary := vsn == realtime.Vsn2
	const table = "interop_items"

	if _, err := e.exec(ctx, "delete from public."+table); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	c, err := realtime.New(e.srv.URL(), e.anonKey, realtime.WithHandler(rec), realtime.WithVsn(vsn),
		realtime.WithTimeout(5*time.Second), realtime.WithName("interop-"+strings.ReplaceAll(string(vsn), ".", "-")))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), waitTimeout)
		defer ccancel()
		if err := c.Close(cctx); err != nil {
			t.Errorf("close Go client: %v", err)
		}
	}()
	topic := "interop-" + randomHex()
	ch, err := c.Channel(topic, realtime.PresenceKey("go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []realtime.Binding{
		realtime.Broadcast{Event: "*"},
		realtime.Presence{},
		realtime.PostgresChanges{Event: realtime.PostgresAll, Schema: "public", Table: table, Filter: "id=eq.1"},
	} {
		if err := c.On(ch, b); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := c.Subscribe(ctx, ch); st != realtime.Subscribed || err != nil {
		t.Fatalf("Go client subscribe: %s %v", st, err)
	}
	subscribedPG := func(ev realtime.Event) bool {
		s, ok := ev.(realtime.SystemEvent)
		return ok && s.Extension == "postgres_changes"
	}
	if !waitFor(waitTimeout, func() bool { _, ok := rec.find(subscribedPG); return ok }) {
		t.Fatal("Go client: no postgres_changes system message")
	}
	if ev, _ := rec.find(subscribedPG); ev.(realtime.SystemEvent).Message != "Subscribed to PostgreSQL" || ev.(realtime.SystemEvent).Status != "ok" {
		t.Fatalf("Go client: postgres_changes system message %+v", ev)
	}
	if err := c.Track(ctx, ch, map[string]any{"who": "go", "vsn": string(vsn)}); err != nil {
		t.Fatalf("Go client track: %v", err)
	}

	p := e.startNode(ctx, t, "interop.mjs", "",
		"INTEROP_TOPIC="+topic, "INTEROP_VSN="+string(vsn), "INTEROP_TABLE="+table)
	defer func() {
		if p.cmd.Process != nil {
			select {
			case <-p.done:
			default:
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
	}()
	var records []string
	var recMu sync.Mutex
	readyCh := make(chan struct{})
	go func() {
		readyOnce := sync.Once{}
		for line := range p.lines {
			switch {
			case line == "READY":
				readyOnce.Do(func() { close(readyCh) })
			case strings.HasPrefix(line, "RECORD "):
				recMu.Lock()
				records = append(records, strings.TrimPrefix(line, "RECORD "))
				recMu.Unlock()
			}
		}
	}()
	select {
	case <-readyCh:
	case <-p.done:
		t.Fatalf("interop.mjs ended before READY")
	case <-ctx.Done():
		t.Fatalf("interop.mjs: no READY line")
	}

	// §6: presence both ways (the JS side checks its view itself).
	ck.check("go sees js presence "+tag, func() error {
		if !waitFor(waitTimeout, func() bool { return len(c.PresenceState(ch)["js"]) == 1 }) {
			return fmt.Errorf("presence state %v has no key js", c.PresenceState(ch))
		}
		var m map[string]any
		if err := c.PresenceState(ch)["js"][0].Decode(&m); err != nil {
			return err
		}
		if m["who"] != "js" || m["vsn"] != string(vsn) {
			return fmt.Errorf("js meta %v", m)
		}
		if c.PresenceState(ch)["js"][0].Ref == "" {
			return errors.New("js meta has no phx_ref")
		}
		return nil
	}())

	// Broadcasts both ways (§5).
	ck.check("go sends broadcasts "+tag, func() error {
		if err := c.Broadcast(ctx, ch, "from-go", map[string]any{"from": "go", "n": 2, "text": "héllo", "list": []any{1, "a", nil}}); err != nil {
			return err
		}
		if binary {
			return c.Broadcast(ctx, ch, "from-go-bin", []byte{9, 8, 7, 0, 255})
		}
		return nil
	}())
	isBroadcast := func(event string) func(realtime.Event) bool {
		return func(ev realtime.Event) bool {
			b, ok := ev.(realtime.BroadcastEvent)
			return ok && b.Event == event
		}
	}
	ck.check("go receives js JSON broadcast "+tag, func() error {
		if !waitFor(waitTimeout, func() bool { _, ok := rec.find(isBroadcast("from-js")); return ok }) {
			return errors.New("no from-js broadcast")
		}
		ev, _ := rec.find(isBroadcast("from-js"))
		b := ev.(realtime.BroadcastEvent)
		got, err := generic(b.Payload)
		if err != nil {
			return err
		}
		want := map[string]any{"from": "js", "n": 1.0, "nested": map[string]any{"a": []any{1.0, 2.0}}, "s": "ünï"}
		if !reflect.DeepEqual(got, want) || b.Binary != nil {
			return fmt.Errorf("payload %s (binary %v), want %v", b.Payload, b.Binary, want)
		}
		return nil
	}())
	if binary {
		ck.check("go receives js binary broadcast "+tag, func() error {
			if !waitFor(waitTimeout, func() bool { _, ok := rec.find(isBroadcast("from-js-bin")); return ok }) {
				return errors.New("no from-js-bin broadcast")
			}
			ev, _ := rec.find(isBroadcast("from-js-bin"))
			b := ev.(realtime.BroadcastEvent)
			if !bytes.Equal(b.Binary, []byte{1, 2, 3, 0, 255}) || b.Payload != nil {
				return fmt.Errorf("binary %v payload %s, want [1 2 3 0 255]", b.Binary, b.Payload)
			}
			return nil
		}())
	} else {
		// §5.2: binary broadcasts are never delivered to vsn 1.0.0 sockets;
		// realtime-js on 1.0.0 did not send one, so nothing binary arrives.
		ck.check("go (vsn 1.0.0) receives no binary broadcast "+tag, func() error {
			if evs := rec.filter(func(ev realtime.Event) bool { b, ok := ev.(realtime.BroadcastEvent); return ok && b.Binary != nil }); len(evs) > 0 {
				return fmt.Errorf("got %d binary broadcasts", len(evs))
			}
			return nil
		}())
	}

	// The same postgres changes on both sides (§7.2, §7.3).
	for _, q := range []string{
		`insert into public.interop_items (id, title, done, tags, meta, amount, at) values (2, 'other', false, '{}', '{}', 0, now())`,
		`insert into public.interop_items (id, title, done, tags, meta, amount, at) values (1, 'first', false, '{x,"y z"}', '{"k":1,"nested":{"s":"v"}}', 12.50, '2026-01-02 03:04:05.123456+00')`,
		`update public.interop_items set title = 'second', done = true, amount = 13 where id = 1`,
		`delete from public.interop_items where id = 1`,
		`delete from public.interop_items where id = 2`,
	} {
		if _, err := e.exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	isChange := func(ev realtime.Event) bool { _, ok := ev.(realtime.ChangeEvent); return ok }
	ck.check("go receives postgres changes "+tag, func() error {
		if !waitFor(2*waitTimeout, func() bool { return len(rec.filter(isChange)) >= 3 }) {
			return fmt.Errorf("got %d changes, want 3", len(rec.filter(isChange)))
		}
		return nil
	}())
	goChanges := []change{}
	for _, ev := range rec.filter(isChange) {
		ce := ev.(realtime.ChangeEvent)
		n, err1 := generic(ce.Record)
		o, err2 := generic(ce.OldRecord)
		if err := errors.Join(err1, err2); err != nil {
			t.Errorf("decode Go change: %v", err)
		}
		goChanges = append(goChanges, change{
			Type: string(ce.Type), Schema: ce.Schema, Table: ce.Table,
			CommitTimestamp: ce.CommitTimestamp.UTC().Format("2006-01-02T15:04:05.000Z"),
			New:             n, Old: o,
		})
	}
	ck.check("js receives the same postgres changes "+tag, func() error {
		if !waitFor(2*waitTimeout, func() bool { recMu.Lock(); defer recMu.Unlock(); return len(records) >= 3 }) {
			return errors.New("fewer than 3 RECORD lines from interop.mjs")
		}
		recMu.Lock()
		defer recMu.Unlock()
		var jsChanges []change
		for _, r := range records {
			var p struct {
				EventType       string          `json:"eventType"`
				Schema          string          `json:"schema"`
				Table           string          `json:"table"`
				CommitTimestamp string          `json:"commit_timestamp"`
				New             json.RawMessage `json:"new"`
				Old             json.RawMessage `json:"old"`
			}
			if err := json.Unmarshal([]byte(r), &p); err != nil {
				return fmt.Errorf("RECORD %s: %v", r, err)
			}
			n, err1 := generic(p.New)
			o, err2 := generic(p.Old)
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			jsChanges = append(jsChanges, change{p.EventType, p.Schema, p.Table, p.CommitTimestamp, n, o})
		}
		row := map[string]any{
			"id": 1.0, "title": "first", "done": false, "tags": []any{"x", "y z"},
			"meta": map[string]any{"k": 1.0, "nested": map[string]any{"s": "v"}}, "amount": 12.5,
			"at": "2026-01-02T03:04:05.123456+00:00",
		}
		updated := map[string]any{}
		for k, v := range row {
			updated[k] = v
		}
		updated["title"], updated["done"], updated["amount"] = "second", true, 13.0
		pk := map[string]any{"id": 1.0}
		want := []change{
			{Type: "INSERT", Schema: "public", Table: table, New: row, Old: map[string]any{}},
			{Type: "UPDATE", Schema: "public", Table: table, New: updated, Old: pk},
			{Type: "DELETE", Schema: "public", Table: table, New: map[string]any{}, Old: pk},
		}
		if len(goChanges) != 3 || len(jsChanges) != 3 {
			return fmt.Errorf("go %d changes, js %d changes, want 3 each", len(goChanges), len(jsChanges))
		}
		for i := range want {
			g, j := goChanges[i], jsChanges[i]
			if !reflect.DeepEqual(g, j) {
				return fmt.Errorf("change #%d differs:\n  go %+v\n  js %+v", i+1, g, j)
			}
			w := want[i]
			w.CommitTimestamp = g.CommitTimestamp
			if !reflect.DeepEqual(g, w) {
				return fmt.Errorf("change #%d:\n  got  %+v\n  want %+v", i+1, g, w)
			}
		}
		return nil
	}())

	// realtime-js disconnects when done: §6.2 the disconnect is a presence leave.
	ck.check("go sees js leave on disconnect "+tag, func() error {
		if !waitFor(2*waitTimeout, func() bool {
			_, ok := rec.find(func(ev realtime.Event) bool {
				pe, ok := ev.(realtime.PresenceEvent)
				return ok && pe.Type == realtime.PresenceLeave && pe.Key == "js"
			})
			return ok
		}) {
			return errors.New("no presence leave for key js")
		}
		if _, ok := c.PresenceState(ch)["js"]; ok {
			return errors.New("key js still in presence state")
		}
		return nil
	}())

	jsPassed, jsFailed := p.wait(t, "interop.mjs")
	passed, failed := ck.passed+jsPassed, ck.failed+jsFailed
	return fmt.Sprintf("%d passed, %d failed", passed, failed)
}

func randomHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
