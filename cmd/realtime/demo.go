package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// runDemo starts the in-process server, connects two clients and runs a
// short scripted scenario, printing every event the Handlers receive.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	messages := fs.Int("messages", 5, "broadcasts each user sends")
	follow := fs.Bool("follow", false, "keep running after the scenario until interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *messages < 1 {
		return fmt.Errorf("-messages must be at least 1")
	}

	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()
	fmt.Fprintf(stdout, "in-process Realtime server at %s\n", srv.URL())

	p := &demoPrinter{w: stdout, start: time.Now(), counts: map[string]int{}}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	users := []string{"alice", "bob"}
	clients := map[string]*realtime.Client{}
	chans := map[string]*realtime.Channel{}
	for _, u := range users {
		c, err := realtime.New(srv.URL(), "demo-anon-key", realtime.WithHandler(p.handler(u)))
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		ch, err := c.Channel("demo:lobby")
		if err != nil {
			return err
		}
		if err := c.On(ch, realtime.Broadcast{Event: "*"}); err != nil {
			return err
		}
		if _, err := c.Subscribe(ctx, ch); err != nil {
			return fmt.Errorf("%s: subscribe: %w", u, err)
		}
		clients[u], chans[u] = c, ch
	}

	want := *messages * len(users)
	for i := 1; i <= *messages; i++ {
		for _, u := range users {
			msg := map[string]any{"from": u, "n": i, "sent_at": time.Now().UnixNano()}
			if err := clients[u].Broadcast(ctx, chans[u], "chat", msg); err != nil {
				return fmt.Errorf("%s: broadcast: %w", u, err)
			}
		}
	}
	// Each user receives the other's broadcasts (self is off).
	if err := p.waitBroadcasts(ctx, want); err != nil {
		return err
	}
	p.summary()
	if *follow {
		fmt.Fprintln(stdout, "following; press Ctrl-C to stop")
		<-ctx.Done()
	}
	return nil
}

type demoPrinter struct {
	mu        sync.Mutex
	w         io.Writer
	start     time.Time
	counts    map[string]int
	latencies []time.Duration
	got       int
	changed   chan struct{}
}

func (p *demoPrinter) handler(user string) realtime.Handler {
	return realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
		p.mu.Lock()
		defer p.mu.Unlock()
		at := time.Since(p.start).Round(time.Millisecond)
		switch e := ev.(type) {
		case realtime.BroadcastEvent:
			var m struct {
				From   string `json:"from"`
				N      int    `json:"n"`
				SentAt int64  `json:"sent_at"`
			}
			_ = e.Decode(&m)
			lat := time.Since(time.Unix(0, m.SentAt))
			p.latencies = append(p.latencies, lat)
			p.counts["broadcast"]++
			p.got++
			fmt.Fprintf(p.w, "%8v %-5s broadcast %s/%s from %s #%d (%v)\n", at, user, e.Channel, e.Event, m.From, m.N, lat.Round(time.Microsecond))
		case realtime.ConnectionStateEvent:
			p.counts["connection"]++
			fmt.Fprintf(p.w, "%8v %-5s connection %s\n", at, user, e.New)
		case realtime.ChannelStatusEvent:
			p.counts["channel"]++
			if e.Status != "" {
				fmt.Fprintf(p.w, "%8v %-5s channel %s %s\n", at, user, e.Channel, e.Status)
			}
		case realtime.SystemEvent:
			p.counts["system"]++
			fmt.Fprintf(p.w, "%8v %-5s system %s %s: %s\n", at, user, e.Extension, e.Status, e.Message)
		case realtime.ErrorEvent:
			p.counts["error"]++
			fmt.Fprintf(p.w, "%8v %-5s error %v\n", at, user, e.Err)
		}
		if p.changed != nil {
			close(p.changed)
			p.changed = nil
		}
	})
}

func (p *demoPrinter) waitBroadcasts(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		if p.got >= n {
			p.mu.Unlock()
			return nil
		}
		ch := make(chan struct{})
		p.changed = ch
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for broadcasts: %w", ctx.Err())
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
	fmt.Fprintln(p.w, "summary:")
	for _, k := range kinds {
		fmt.Fprintf(p.w, "  %-10s %d events\n", k, p.counts[k])
	}
	if len(p.latencies) > 0 {
		l := append([]time.Duration(nil), p.latencies...)
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		pct := func(q float64) time.Duration { return l[int(q*float64(len(l)-1))] }
		fmt.Fprintf(p.w, "  broadcast latency p50 %v, p99 %v (n=%d)\n", pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), len(l))
	}
}
