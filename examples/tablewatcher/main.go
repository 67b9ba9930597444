// Command tablewatcher prints typed row changes of a table.
//
//	go run ./examples/tablewatcher          # throwaway PostgreSQL + in-process server
//	SUPABASE_URL=… SUPABASE_KEY=… go run ./examples/tablewatcher -table orders
//
// Rows are decoded into a Go struct with Postgres-correct types: int8 as
// int64, numeric as realtime.Numeric (every digit kept), timestamptz as
// time.Time, text[] as []string and jsonb as a struct.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/jackc/pgx/v5"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// Order is a row of the watched table.
type Order struct {
	ID       int64            `json:"id"`
	Customer string           `json:"customer"`
	Total    realtime.Numeric `json:"total"`
	Tags     []string         `json:"tags"`
	Meta     struct {
		Channel string `json:"channel"`
	} `json:"meta"`
	PlacedAt time.Time `json:"placed_at"`
}

// watcher prints the changes. HandleEvent runs on one of the client's
// Dispatcher goroutines, off the actors, one event at a time; it may block
// or call the client.
type watcher struct {
	out   io.Writer
	ready chan struct{} // gets a value on "Subscribed to PostgreSQL"
	done  chan struct{} // gets a value on the first DELETE
}

func (w watcher) HandleEvent(ctx context.Context, ev realtime.Event) {
	switch e := ev.(type) {
	case realtime.ChangeEvent:
		if e.Type == realtime.PostgresDelete {
			w.deleted(e)
			return
		}
		o, err := realtime.DecodeRecord[Order](e.Record, e.Columns)
		if err != nil {
			fmt.Fprintln(w.out, "decode:", err)
			return
		}
		fmt.Fprintf(w.out, "%-6s order %d %s total=%s tags=%v via=%s placed=%s (committed %s)\n",
			e.Type, o.ID, o.Customer, o.Total, o.Tags, o.Meta.Channel, o.PlacedAt.Format(time.RFC3339), e.CommitTimestamp.Format(time.RFC3339Nano))
	case realtime.SystemEvent:
		fmt.Fprintf(w.out, "server: %s\n", e.Message)
		if e.Message == "Subscribed to PostgreSQL" {
			select {
			case w.ready <- struct{}{}:
			default:
			}
		}
	case realtime.ChannelStatusEvent:
		if e.Err != nil {
			fmt.Fprintf(w.out, "channel %s: %v\n", e.Status, e.Err)
		}
	}
}

// deleted prints a DELETE. A deleted row has no Record; OldRecord holds
// the old row's replica identity: only the primary key by default, every
// column once the table is ALTER TABLE … REPLICA IDENTITY FULL. Printing
// the other fields of a key-only OldRecord would show zero values.
func (w watcher) deleted(e realtime.ChangeEvent) {
	o, err := realtime.DecodeRecord[Order](e.OldRecord, e.Columns)
	if err != nil {
		fmt.Fprintln(w.out, "decode:", err)
		return
	}
	var cols map[string]json.RawMessage
	_ = json.Unmarshal(e.OldRecord, &cols)
	if len(cols) > 1 {
		fmt.Fprintf(w.out, "%-6s order %d %s total=%s (committed %s)\n",
			e.Type, o.ID, o.Customer, o.Total, e.CommitTimestamp.Format(time.RFC3339Nano))
	} else {
		fmt.Fprintf(w.out, "%-6s order %d (old row: the primary key only; REPLICA IDENTITY FULL sends every column) (committed %s)\n",
			e.Type, o.ID, e.CommitTimestamp.Format(time.RFC3339Nano))
	}
	select {
	case w.done <- struct{}{}:
	default:
	}
}

func main() {
	table := flag.String("table", "orders", "table to watch (schema public)")
	filter := flag.String("filter", "", `optional filter, e.g. "customer=eq.alice"`)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_KEY"), *table, *filter, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run watches table until ctx ends. An empty url starts a throwaway
// PostgreSQL and the in-process server, makes a few changes and returns
// once the DELETE was seen.
func run(ctx context.Context, url, key, table, filter string, out io.Writer) error {
	var db *pgx.Conn
	if url == "" {
		cluster, err := pgtest.Start(ctx, pgtest.Options{})
		if err != nil {
			return fmt.Errorf("no SUPABASE_URL and no local PostgreSQL: %w", err)
		}
		defer cluster.Stop()
		if db, err = pgx.Connect(ctx, cluster.DSN()); err != nil {
			return err
		}
		defer db.Close(context.Background())
		if _, err := db.Exec(ctx, `create table `+pgx.Identifier{table}.Sanitize()+` (id bigint primary key, customer text, total numeric, tags text[], meta jsonb, placed_at timestamptz)`); err != nil {
			return err
		}
		srv := realtimetest.NewServer(realtimetest.Options{PostgresDSN: cluster.DSN()})
		defer srv.Close()
		if err := srv.WaitPostgres(ctx); err != nil {
			return err
		}
		url, key = srv.URL(), "local"
		fmt.Fprintln(out, "no SUPABASE_URL: using a throwaway PostgreSQL and the in-process server")
	}

	w := watcher{out: out, ready: make(chan struct{}, 1), done: make(chan struct{}, 1)}
	c, err := realtime.New(url, key, realtime.WithHandler(w))
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	ch, _ := c.Channel("table-" + table)
	if err := c.On(ch, realtime.PostgresChanges{Event: realtime.PostgresAll, Schema: "public", Table: table, Filter: filter}); err != nil {
		return err
	}
	if _, err := c.Subscribe(ctx, ch); err != nil {
		return err
	}
	if db == nil {
		fmt.Fprintln(out, "watching; press Ctrl-C to stop")
		<-ctx.Done()
		return nil
	}
	// Local mode: changes committed after "Subscribed to PostgreSQL" are
	// delivered; make some.
	select {
	case <-w.ready:
	case <-time.After(10 * time.Second):
		return errors.New("the server did not subscribe to PostgreSQL")
	}
	t := pgx.Identifier{table}.Sanitize()
	for _, stmt := range []string{
		`insert into ` + t + ` values (9223372036854775807, 'alice', 99999999999999999999.99, '{gift,express}', '{"channel":"web"}', '2026-11-28T10:00:00Z')`,
		`update ` + t + ` set total = total + 0.01 where id = 9223372036854775807`,
		`delete from ` + t + ` where id = 9223372036854775807`,
	} {
		if _, err := db.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		return errors.New("no DELETE seen")
	case <-ctx.Done():
	}
	return nil
}
