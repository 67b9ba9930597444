package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	realtime "github.com/supabase-go/realtime"
)

// runListen subscribes to channels and prints what arrives until
// interrupted; Ctrl-C leaves the channels and closes cleanly.
func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg common
	cfg.register(fs)
	var channels, postgres multi
	fs.Var(&channels, "channel", "channel to join (repeatable)")
	broadcast := fs.String("broadcast", "", `broadcast event to print, or "*" for all`)
	presence := fs.Bool("presence", false, "print presence join, leave and sync")
	fs.Var(&postgres, "postgres", `postgres changes, EVENT:schema.table[:filter], e.g. "INSERT:public.todos:id=eq.1" (repeatable)`)
	private := fs.Bool("private", false, "join the channels as private (RLS-authorized)")
	asJSON := fs.Bool("json", false, "print one JSON object per event on stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	if len(channels) == 0 {
		return errors.New("listen: at least one --channel is needed")
	}
	var bindings []realtime.Binding
	if *broadcast != "" {
		bindings = append(bindings, realtime.Broadcast{Event: *broadcast})
	}
	if *presence {
		bindings = append(bindings, realtime.Presence{})
	}
	for _, spec := range postgres {
		b, err := parsePostgres(spec)
		if err != nil {
			return err
		}
		bindings = append(bindings, b)
	}
	if len(bindings) == 0 {
		return errors.New("listen: nothing to listen to: pass --broadcast, --presence or --postgres")
	}

	p := &printer{stdout: stdout, stderr: stderr, json: *asJSON}
	f := newFatal()
	c, err := cfg.connect(realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) { p.event(ev) }), f, stderr)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())

	var joined []*realtime.Channel
	for _, name := range channels {
		ch, err := c.Channel(name, realtime.Private(*private))
		if err != nil {
			return err
		}
		for _, b := range bindings {
			if err := c.On(ch, b); err != nil {
				return err
			}
		}
		joined = append(joined, ch)
	}
	for _, ch := range joined {
		if err := subscribe(ctx, c, ch, f, cfg); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
	case err := <-f.ch:
		return err
	}
	p.status("leaving")
	leaveCtx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	_ = c.RemoveAllChannels(leaveCtx)
	return c.Close(leaveCtx)
}

// subscribe waits for the first outcome of a join, or a fatal connection
// error, and turns failures into clear errors.
func subscribe(ctx context.Context, c *realtime.Client, ch *realtime.Channel, f *fatal, cfg common) error {
	type result struct {
		status realtime.SubscribeStatus
		err    error
	}
	done := make(chan result, 1)
	sctx, cancel := context.WithTimeout(ctx, 3*cfg.timeout)
	defer cancel()
	go func() {
		s, err := c.Subscribe(sctx, ch)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			if errors.Is(r.err, context.DeadlineExceeded) {
				return fmt.Errorf("channel %s: no answer from %s within %v", ch.Name(), c.URL(), 3*cfg.timeout)
			}
			return fmt.Errorf("channel %s: %s: %w", ch.Name(), r.status, r.err)
		}
		return nil
	case err := <-f.ch:
		cancel()
		<-done
		return err
	}
}
