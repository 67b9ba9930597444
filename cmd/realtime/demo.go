package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

func newDemoCmd() *cobra.Command {
	var (
		messages   int
		follow     bool
		noPostgres bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the scripted demo on an in-process Realtime server (and a throwaway PostgreSQL)",
		Long: `Start an in-process Realtime server backed by a throwaway PostgreSQL (when
PostgreSQL 15 is installed), and a watcher whose Handler prints every event
of a short script: two users join, track presence, broadcast and leave;
rows are inserted, updated and deleted. Ends with a summary (event counts,
broadcast latency). Needs no project and no network.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if messages < 1 {
				return usagef("--messages %d: must be at least 1", messages)
			}
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), messages, follow, noPostgres)
		},
	}
	f := cmd.Flags()
	f.IntVar(&messages, "messages", 3, "broadcasts each user sends")
	f.BoolVar(&follow, "follow", false, "keep running after the scenario until interrupted")
	f.BoolVar(&noPostgres, "no-postgres", false, "skip PostgreSQL even if it is installed")
	return cmd
}

// runDemo is the main job on an embedded default: an in-process Realtime
// server backed by a throwaway PostgreSQL (when the binaries exist), a
// watcher client whose Handler prints every event, and a short scripted
// scenario — rows inserted, updated and deleted; two users who join,
// broadcast and leave. Interrupted, it prints how far it got and returns
// nil.
func runDemo(ctx context.Context, stdout, stderr io.Writer, messages int, follow, noPostgres bool) (err error) {
	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	defer func() {
		if err != nil && ctx.Err() != nil {
			fmt.Fprintf(stderr, "demo interrupted after %v\n", time.Since(start).Round(100*time.Millisecond))
			err = nil
		}
	}()

	// PostgreSQL, when available.
	var (
		cluster *pgtest.Cluster
		db      *pgx.Conn
	)
	if !noPostgres {
		var err error
		cluster, err = pgtest.Start(runCtx, pgtest.Options{})
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			fmt.Fprintf(stdout, "PostgreSQL is not available (%v);\nrunning broadcast and presence only. Install postgresql-15 for postgres changes.\n", err)
		} else {
			defer cluster.Stop()
			if db, err = pgx.Connect(runCtx, cluster.DSN()); err != nil {
				return fmt.Errorf("connect to the throwaway PostgreSQL: %w", err)
			}
			defer db.Close(context.Background())
			if _, err := db.Exec(runCtx, `create table todos (id bigint primary key, title text not null, done bool not null default false, amount numeric)`); err != nil {
				return fmt.Errorf("create table: %w", err)
			}
			fmt.Fprintf(stdout, "throwaway PostgreSQL at %s\n", cluster.DSN())
		}
	}
	opts := realtimetest.Options{}
	if cluster != nil {
		opts.PostgresDSN = cluster.DSN()
	}
	srv := realtimetest.NewServer(opts)
	defer srv.Close()
	if cluster != nil {
		if err := srv.WaitPostgres(runCtx); err != nil {
			return fmt.Errorf("replication: %w", err)
		}
	}
	fmt.Fprintf(stdout, "in-process Realtime server at %s\n\n", srv.URL())

	// The watcher: one channel with broadcast, presence and postgres
	// bindings, and a Handler that prints every event.
	p := &demoPrinter{w: stdout, start: start, counts: map[string]int{}}
	watcher, err := realtime.New(srv.URL(), "demo-anon-key", realtime.WithHandler(p))
	if err != nil {
		return err
	}
	defer watcher.Close(context.Background())
	lobby, err := watcher.Channel("lobby", realtime.ReplicationReady(cluster != nil))
	if err != nil {
		return err
	}
	_ = watcher.On(lobby, realtime.Broadcast{Event: "*"})
	_ = watcher.On(lobby, realtime.Presence{Event: realtime.PresenceAll})
	if cluster != nil {
		_ = watcher.On(lobby, realtime.PostgresChanges{Event: realtime.PostgresAll, Schema: "public", Table: "todos"})
	}
	if _, err := watcher.Subscribe(runCtx, lobby); err != nil {
		return fmt.Errorf("watcher: subscribe: %w", err)
	}
	if cluster != nil {
		if err := p.waitFor(runCtx, "Subscribed to PostgreSQL", func() bool { return p.pgReady }); err != nil {
			return err
		}
	}

	// Two users join, track presence and chat.
	users := []string{"alice", "bob"}
	type user struct {
		c  *realtime.Client
		ch *realtime.Channel
	}
	us := map[string]user{}
	for _, name := range users {
		c, err := realtime.New(srv.URL(), "demo-anon-key")
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		ch, _ := c.Channel("lobby", realtime.PresenceKey(name))
		if _, err := c.Subscribe(runCtx, ch); err != nil {
			return fmt.Errorf("%s: subscribe: %w", name, err)
		}
		if err := c.Track(runCtx, ch, map[string]any{"name": name, "online_at": time.Now().UTC().Format(time.RFC3339)}); err != nil {
			return fmt.Errorf("%s: track: %w", name, err)
		}
		us[name] = user{c, ch}
	}
	for i := 1; i <= messages; i++ {
		for _, name := range users {
			msg := map[string]any{"from": name, "n": i, "sent_at": time.Now().UnixNano()}
			if err := us[name].c.Broadcast(runCtx, us[name].ch, "chat", msg); err != nil {
				return fmt.Errorf("%s: broadcast: %w", name, err)
			}
		}
	}
	// Rows change.
	if db != nil {
		for _, stmt := range []string{
			`insert into todos (id, title, amount) values (1, 'write the demo', 12.50)`,
			`insert into todos (id, title, amount) values (9223372036854775807, 'int8 max stays exact', 123456789012345678901234567890.123456789)`,
			`update todos set done = true where id = 1`,
			`delete from todos where id = 1`,
		} {
			if _, err := db.Exec(runCtx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
	}
	// The users leave.
	for _, name := range users {
		if err := us[name].c.Untrack(runCtx, us[name].ch); err != nil {
			return fmt.Errorf("%s: untrack: %w", name, err)
		}
		if err := us[name].c.RemoveChannel(runCtx, us[name].ch); err != nil {
			return fmt.Errorf("%s: leave: %w", name, err)
		}
	}

	wantChanges := 0
	if db != nil {
		wantChanges = 4
	}
	err = p.waitFor(runCtx, "every event of the scenario", func() bool {
		return p.counts["broadcast"] >= messages*len(users) && p.counts["postgres"] >= wantChanges &&
			p.counts["presence join"] >= len(users) && p.counts["presence leave"] >= len(users)
	})
	if err != nil {
		return err
	}
	p.summary()
	if follow {
		fmt.Fprintln(stdout, "following; press Ctrl-C to stop")
		<-ctx.Done()
		fmt.Fprintf(stderr, "stopped after %v\n", time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}

// todo is a row of the demo table, decoded with Postgres-correct types.
type todo struct {
	ID     int64            `json:"id"`
	Title  string           `json:"title"`
	Done   bool             `json:"done"`
	Amount realtime.Numeric `json:"amount"`
}

// demoPrinter is the watcher's Handler: it prints every event and counts
// them. HandleEvent runs on the client's Dispatcher goroutine, one event at
// a time (see realtime.Handler); the mutex is for the summary and waitFor,
// which run on the command's goroutine.
type demoPrinter struct {
	mu        sync.Mutex
	w         io.Writer
	start     time.Time
	counts    map[string]int
	latencies []time.Duration
	pgReady   bool
	changed   chan struct{}
}

func (p *demoPrinter) HandleEvent(ctx context.Context, ev realtime.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := time.Since(p.start).Round(time.Millisecond)
	line := ""
	switch e := ev.(type) {
	case realtime.ConnectionStateEvent:
		line = fmt.Sprintf("connection %s", e.New)
	case realtime.ChannelStatusEvent:
		if e.Status == "" {
			break
		}
		line = fmt.Sprintf("channel %s %s", e.Channel, e.Status)
	case realtime.SystemEvent:
		p.counts["system"]++
		if e.Message == "Subscribed to PostgreSQL" {
			p.pgReady = true
		}
		line = fmt.Sprintf("system %s: %s", e.Extension, e.Message)
	case realtime.BroadcastEvent:
		var m struct {
			From   string `json:"from"`
			N      int    `json:"n"`
			SentAt int64  `json:"sent_at"`
		}
		_ = e.Decode(&m)
		lat := e.Received.Sub(time.Unix(0, m.SentAt))
		p.latencies = append(p.latencies, lat)
		p.counts["broadcast"]++
		line = fmt.Sprintf("broadcast %-5s from %s #%d (%v after sending)", e.Event, m.From, m.N, lat.Round(time.Microsecond))
	case realtime.PresenceEvent:
		p.counts["presence "+string(e.Type)]++
		switch e.Type {
		case realtime.PresenceJoin:
			line = fmt.Sprintf("presence join  %s %s", e.Key, metaPayloads(e.Joined))
		case realtime.PresenceLeave:
			line = fmt.Sprintf("presence leave %s", e.Key)
		default:
			line = "presence sync"
		}
	case realtime.ChangeEvent:
		p.counts["postgres"]++
		raw := e.Record
		if e.Type == realtime.PostgresDelete {
			raw = e.OldRecord
		}
		row, err := realtime.DecodeRecord[todo](raw, e.Columns)
		if err != nil {
			line = fmt.Sprintf("postgres %-6s %s.%s: %v", e.Type, e.Schema, e.Table, err)
			break
		}
		if e.Type == realtime.PostgresDelete {
			line = fmt.Sprintf("postgres %-6s %s.%s id=%d", e.Type, e.Schema, e.Table, row.ID)
		} else {
			line = fmt.Sprintf("postgres %-6s %s.%s id=%d title=%q done=%t amount=%s", e.Type, e.Schema, e.Table, row.ID, row.Title, row.Done, row.Amount)
		}
	case realtime.ErrorEvent:
		p.counts["error"]++
		line = fmt.Sprintf("error %v", e.Err)
	}
	if line != "" {
		fmt.Fprintf(p.w, "%7v  %s\n", at, line)
	}
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}

// waitFor blocks until cond (checked under the lock) holds.
func (p *demoPrinter) waitFor(ctx context.Context, what string, cond func() bool) error {
	for {
		p.mu.Lock()
		if cond() {
			p.mu.Unlock()
			return nil
		}
		ch := make(chan struct{})
		p.changed = ch
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

func (p *demoPrinter) summary() {
	p.mu.Lock()
	defer p.mu.Unlock()
	kinds := make([]string, 0, len(p.counts))
	for k := range p.counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprintf(p.w, "\nsummary after %v:\n", time.Since(p.start).Round(time.Millisecond))
	for _, k := range kinds {
		fmt.Fprintf(p.w, "  %-15s %d\n", k, p.counts[k])
	}
	if len(p.latencies) > 0 {
		l := append([]time.Duration(nil), p.latencies...)
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		pct := func(q float64) time.Duration { return l[int(q*float64(len(l)-1)+0.5)] }
		fmt.Fprintf(p.w, "  broadcast latency (send → Handler): p50 %v, p99 %v over %d messages\n",
			pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), len(l))
	}
}
