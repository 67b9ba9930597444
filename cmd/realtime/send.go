package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	realtime "github.com/supabase-go/realtime"
)

// runBroadcast sends one broadcast over the socket (optionally waiting for
// the server's ack) or over HTTP.
func runBroadcast(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("broadcast", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg common
	cfg.register(fs)
	channel := fs.String("channel", "", "channel to send on")
	event := fs.String("event", "", "broadcast event name")
	payload := fs.String("payload", "{}", "JSON payload")
	ack := fs.Bool("ack", false, "ask the server to acknowledge and wait for it")
	viaHTTP := fs.Bool("http", false, "send over HTTP (POST …/api/broadcast/{topic}/events/{event}) instead of the socket")
	private := fs.Bool("private", false, "the channel is private")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	if *channel == "" || *event == "" {
		return errors.New("broadcast: --channel and --event are required")
	}
	if !json.Valid([]byte(*payload)) {
		return fmt.Errorf("broadcast: --payload is not valid JSON")
	}
	p := &printer{stdout: stdout, stderr: stderr}
	f := newFatal()
	c, err := cfg.connect(realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) {
		if _, ok := ev.(realtime.ErrorEvent); ok {
			p.event(ev)
		}
	}), f, stderr)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	ch, err := c.Channel(*channel, realtime.Private(*private), realtime.BroadcastAck(*ack))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*cfg.timeout)
	defer cancel()
	if *viaHTTP {
		if err := c.HTTPSend(ctx, ch, *event, json.RawMessage(*payload)); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "sent over HTTP (202 Accepted)")
		return nil
	}
	if err := subscribe(ctx, c, ch, f, cfg); err != nil {
		return err
	}
	ref, err := c.BroadcastWithAck(ctx, ch, *event, json.RawMessage(*payload))
	if err != nil {
		return err
	}
	if *ack {
		if err := c.WaitForAck(ctx, ref); err != nil {
			return fmt.Errorf("not acknowledged: %w", err)
		}
		fmt.Fprintln(stdout, "acknowledged")
	} else {
		fmt.Fprintln(stdout, "sent")
	}
	leaveCtx, cancelLeave := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancelLeave()
	_ = c.RemoveAllChannels(leaveCtx)
	return c.Close(leaveCtx)
}

// runTrack tracks presence on a channel until interrupted.
func runTrack(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("track", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg common
	cfg.register(fs)
	channel := fs.String("channel", "", "channel to track presence on")
	state := fs.String("state", "{}", "presence state, a JSON object")
	key := fs.String("key", "", "presence key (default: chosen by the server)")
	private := fs.Bool("private", false, "the channel is private")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	if *channel == "" {
		return errors.New("track: --channel is required")
	}
	p := &printer{stdout: stdout, stderr: stderr}
	f := newFatal()
	c, err := cfg.connect(realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) { p.event(ev) }), f, stderr)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	ch, err := c.Channel(*channel, realtime.Private(*private), realtime.PresenceKey(*key))
	if err != nil {
		return err
	}
	if err := c.On(ch, realtime.Presence{}); err != nil {
		return err
	}
	if err := subscribe(ctx, c, ch, f, cfg); err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	err = c.Track(tctx, ch, json.RawMessage(*state))
	cancel()
	if err != nil {
		return fmt.Errorf("track: %w", err)
	}
	p.status("tracking on %s; press Ctrl-C to stop", ch.Name())
	select {
	case <-ctx.Done():
	case err := <-f.ch:
		return err
	}
	leaveCtx, cancelLeave := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancelLeave()
	_ = c.Untrack(leaveCtx, ch)
	_ = c.RemoveAllChannels(leaveCtx)
	return c.Close(leaveCtx)
}
