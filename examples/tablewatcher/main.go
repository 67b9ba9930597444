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
	"flag"
	"fmt"
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

type watcher struct {
	ready chan struct{} // gets a value on "Subscribed to PostgreSQL"
	done  chan struct{} // gets a value on the first DELETE
}

func (w watcher) HandleEvent(ctx context.Context, ev realtime.Event) {
	switch e := ev.(type) {
	case realtime.ChangeEvent:
		raw := e.Record
		if e.Type == realtime.PostgresDelete {
			raw = e.OldRecord
		}
		o, err := realtime.DecodeRecord[Order](raw, e.Columns)
		if err != nil {
			fmt.Println("decode:", err)
			return
		}
		fmt.Printf("%-6s order %d %s total=%s tags=%v via=%s placed=%s (committed %s)\n",
			e.Type, o.ID, o.Customer, o.Total, o.Tags, o.Meta.Channel, o.PlacedAt.Format(time.RFC3339), e.CommitTimestamp.Format(time.RFC3339Nano))
		if e.Type == realtime.PostgresDelete {
			select {
			case w.done <- struct{}{}:
			default:
			}
		}
	case realtime.SystemEvent:
		fmt.Printf("server: %s\n", e.Message)
		if e.Message == "Subscribed to PostgreSQL" {
			select {
			case w.ready <- struct{}{}:
			default:
			}
		}
	case realtime.ChannelStatusEvent:
		if e.Err != nil {
			fmt.Printf("channel %s: %v\n", e.Status, e.Err)
		}
	}
}

func main() {
	table := flag.String("table", "orders", "table to watch (schema public)")
	filter := flag.String("filter", "", `optional filter, e.g. "customer=eq.alice"`)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	url, key := os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_KEY")
	var db *pgx.Conn
	if url == "" {
		cluster, err := pgtest.Start(ctx, pgtest.Options{})
		if err != nil {
			log.Fatalf("no SUPABASE_URL and no local PostgreSQL: %v", err)
		}
		defer cluster.Stop()
		if db, err = pgx.Connect(ctx, cluster.DSN()); err != nil {
			log.Fatal(err)
		}
		defer db.Close(context.Background())
		if _, err := db.Exec(ctx, `create table `+pgx.Identifier{*table}.Sanitize()+` (id bigint primary key, customer text, total numeric, tags text[], meta jsonb, placed_at timestamptz)`); err != nil {
			log.Fatal(err)
		}
		srv := realtimetest.NewServer(realtimetest.Options{PostgresDSN: cluster.DSN()})
		defer srv.Close()
		if err := srv.WaitPostgres(ctx); err != nil {
			log.Fatal(err)
		}
		url, key = srv.URL(), "local"
		fmt.Println("no SUPABASE_URL: using a throwaway PostgreSQL and the in-process server")
	}

	w := watcher{ready: make(chan struct{}, 1), done: make(chan struct{}, 1)}
	c, err := realtime.New(url, key, realtime.WithHandler(w))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(context.Background())
	ch, _ := c.Channel("table-" + *table)
	if err := c.On(ch, realtime.PostgresChanges{Event: realtime.PostgresAll, Schema: "public", Table: *table, Filter: *filter}); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, ch); err != nil {
		log.Fatal(err)
	}
	if db == nil {
		fmt.Println("watching; press Ctrl-C to stop")
		<-ctx.Done()
		return
	}
	// Local mode: changes committed after "Subscribed to PostgreSQL" are
	// delivered; make some.
	select {
	case <-w.ready:
	case <-time.After(10 * time.Second):
		log.Fatal("the server did not subscribe to PostgreSQL")
	}
	for _, stmt := range []string{
		`insert into orders values (9223372036854775807, 'alice', 99999999999999999999.99, '{gift,express}', '{"channel":"web"}', '2026-11-28T10:00:00Z')`,
		`update orders set total = total + 0.01 where id = 9223372036854775807`,
		`delete from orders where id = 9223372036854775807`,
	} {
		if _, err := db.Exec(ctx, stmt); err != nil {
			log.Fatal(err)
		}
	}
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		log.Fatal("no DELETE seen")
	case <-ctx.Done():
	}
}
