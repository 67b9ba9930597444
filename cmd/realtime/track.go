package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	realtime "github.com/supabase-go/realtime"
)

func newTrackCmd() *cobra.Command {
	var (
		cfg                 conn
		channel, state, key string
		priv                bool
		output              string
	)
	cmd := &cobra.Command{
		Use:   "track --channel NAME [--state JSON] [--presence-key KEY]",
		Short: "Track presence on a channel until interrupted",
		Long: `Join a channel, track a presence state on it and print the channel's presence
events (joins, leaves, syncs) until interrupted.

The connection is retried forever by default (--max-attempts changes that);
the state is tracked again after every reconnect. Ctrl-C untracks, leaves,
prints a one-line summary and exits 0.`,
		Example: `  realtime track --channel room1 --state '{"status":"online"}' --presence-key alice`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.resolve(cmd); err != nil {
				return err
			}
			if channel == "" {
				return usagef("--channel is required")
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal([]byte(state), &obj); err != nil || obj == nil {
				return usagef("--state is not a JSON object")
			}
			if output != "pretty" && output != "json" {
				return usagef("--output %q: want pretty or json", output)
			}
			p := &printer{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(), json: output == "json"}
			s := newSession(&cfg, p, p.event)
			defer s.close()
			return track(cmd.Context(), s, channel, json.RawMessage(state), key, priv)
		},
	}
	cfg.register(cmd, 0)
	f := cmd.Flags()
	f.StringVar(&channel, "channel", "", "channel to track presence on")
	f.StringVar(&state, "state", "{}", "presence state, a JSON object")
	f.StringVar(&key, "presence-key", "", "presence key (default: chosen by the server)")
	f.BoolVar(&priv, "private", false, "the channel is private (authorized by RLS policies)")
	f.StringVarP(&output, "output", "o", "pretty", "output format of presence events: pretty or json")
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion("pretty", "json"))
	return cmd
}

func track(ctx context.Context, s *session, channel string, state json.RawMessage, key string, priv bool) error {
	if err := s.connect(); err != nil {
		return err
	}
	ch, err := s.client.Channel(channel, realtime.Private(priv), realtime.PresenceKey(key))
	if err != nil {
		return &usageError{fmt.Errorf("--channel %q: %w", channel, err)}
	}
	if err := s.client.On(ch, realtime.Presence{}); err != nil {
		return err
	}
	stopped := func() error {
		line := fmt.Sprintf("stopped after %v", s.elapsed())
		if c := s.connectionSummary(); c != "" {
			line += ": " + c
		} else {
			line += fmt.Sprintf(": tracked on %s, %d presence %s", ch.Name(), s.eventCount(), plural(s.eventCount(), "event"))
		}
		s.p.status("%s", line)
		return nil
	}
	if err := s.subscribe(ctx, ch, true); err != nil {
		if err == errInterrupted {
			return stopped()
		}
		return err
	}
	// The client keeps the state and tracks it again after every rejoin;
	// while a join is still pending the track goes out once it succeeds.
	// The server's reply is bounded by --timeout inside the client.
	if err := s.client.Track(ctx, ch, state); err != nil {
		if ctx.Err() != nil {
			return stopped()
		}
		return fmt.Errorf("track: %w", err)
	}
	s.p.status("tracking on %s; press Ctrl-C to stop", ch.Name())
	if err := s.wait(ctx); err != nil {
		return err
	}
	uctx, cancel := context.WithTimeout(context.Background(), s.cfg.timeout)
	defer cancel()
	if s.client.ConnectionState() == realtime.ConnOpen {
		_ = s.client.Untrack(uctx, ch)
	}
	return stopped()
}
