// Command member is one member process of a test fleet (package
// test/fleetrig): a fleet.Node with the automanaged provider and N
// subscriptions to INSERTs on public.fleet_events, one per value of column
// sub. It prints one JSON object per line on stdout (see fleetrig.Line):
// "ready" once started, "acquired"/"released" on ownership changes,
// "status" for channel status changes, "system" for system messages
// (State "postgres_changes:ok" once the server streams the table's
// changes), "change" for every row handled and
// "mem" samples; it runs until SIGTERM (graceful Close) or SIGKILL.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/filter"
	"github.com/supabase-go/realtime/fleet"
	"github.com/supabase-go/realtime/test/fleetrig"
)

func main() {
	var (
		url      = flag.String("url", "", "project URL")
		key      = flag.String("key", "", "API key")
		port     = flag.Int("port", 0, "remote port")
		amPort   = flag.Int("automanaged-port", 0, "automanaged provider HTTP port")
		hosts    = flag.String("hosts", "", "every member's automanaged host:port, comma-separated")
		subs     = flag.Int("subs", 20, "subscriptions")
		refresh  = flag.Duration("refresh", 500*time.Millisecond, "automanaged refresh interval")
		ensure   = flag.Duration("ensure", 500*time.Millisecond, "fleet EnsureInterval")
		coverage = flag.Duration("coverage", 250*time.Millisecond, "fleet CoverageInterval")
		memEvery = flag.Duration("mem", 0, "print a heap sample this often (0: never)")
	)
	flag.Parse()
	out := &printer{enc: json.NewEncoder(os.Stdout)}
	if err := run(out, *url, *key, *port, *amPort, strings.Split(*hosts, ","), *subs, *refresh, *ensure, *coverage, *memEvery); err != nil {
		fmt.Fprintln(os.Stderr, "member:", err)
		os.Exit(1)
	}
}

type printer struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (p *printer) print(l fleetrig.Line) {
	if l.T == 0 {
		l.T = time.Now().UnixNano()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.enc.Encode(l)
}

func run(out *printer, url, key string, port, amPort int, hosts []string, n int, refresh, ensure, coverage, memEvery time.Duration) error {
	cfg := fleet.Config{
		ProjectURL:       url,
		APIKey:           key,
		Provider:         automanaged.NewWithConfig(refresh, amPort, hosts...),
		Remote:           fleet.Remote("127.0.0.1", port),
		EnsureInterval:   ensure,
		CoverageInterval: coverage,
		OnOwnership: func(ev fleet.OwnershipEvent) {
			kind := "released"
			if ev.Acquired {
				kind = "acquired"
			}
			out.print(fleetrig.Line{Ev: kind, ID: ev.ID, Missed: unixNano(ev.MissedSince), T: ev.At.UnixNano()})
		},
	}
	for i := 0; i < n; i++ {
		id := fleetrig.SubID(i)
		cfg.Subscriptions = append(cfg.Subscriptions, fleet.Subscription{
			ID: id,
			Setup: func(c *realtime.Client) ([]*realtime.Channel, error) {
				ch, err := c.Channel(id)
				if err != nil {
					return nil, err
				}
				b := realtime.PostgresChanges{Event: realtime.PostgresInsert, Schema: "public", Table: fleetrig.Table}.
					WithFilter(filter.Eq("sub", i))
				if err := c.On(ch, b); err != nil {
					return nil, err
				}
				return []*realtime.Channel{ch}, nil
			},
			Handler: realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) {
				switch e := ev.(type) {
				case realtime.ChangeEvent:
					var row struct {
						ID int64 `json:"id"`
					}
					if err := e.DecodeRecord(&row); err != nil {
						out.print(fleetrig.Line{Ev: "error", ID: id, Err: err.Error()})
						return
					}
					out.print(fleetrig.Line{Ev: "change", ID: id, Row: row.ID})
				case realtime.ChannelStatusEvent:
					l := fleetrig.Line{Ev: "status", ID: id, State: string(e.State), Missed: unixNano(e.MissedSince)}
					if e.Err != nil {
						l.Err = e.Err.Error()
					}
					out.print(l)
				case realtime.SystemEvent:
					out.print(fleetrig.Line{Ev: "system", ID: id, State: e.Extension + ":" + e.Status})
				case realtime.ErrorEvent:
					out.print(fleetrig.Line{Ev: "error", ID: id, Err: e.Err.Error()})
				}
			}),
		})
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	node, err := fleet.Start(ctx, cfg)
	if err != nil {
		return err
	}
	out.print(fleetrig.Line{Ev: "ready", Member: node.Address(), PID: os.Getpid()})
	var tick <-chan time.Time
	if memEvery > 0 {
		t := time.NewTicker(memEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err := node.Close(cctx)
			out.print(fleetrig.Line{Ev: "closed"})
			return err
		case <-tick:
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			out.print(fleetrig.Line{Ev: "mem", Heap: ms.HeapAlloc, Owned: len(node.Owned())})
		}
	}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
