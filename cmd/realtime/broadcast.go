package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	realtime "github.com/supabase-go/realtime"
)

// broadcastAttempts is broadcast's default --max-attempts: a one-shot
// command gives up after a few seconds of a server that does not answer
// (attempts after 0 s, about 1 s and about 2 s more).
const broadcastAttempts = 3

func newBroadcastCmd() *cobra.Command {
	var (
		cfg                  conn
		channel, event, body string
		ack, viaHTTP, priv   bool
	)
	cmd := &cobra.Command{
		Use:   "broadcast --channel NAME --event NAME [--payload JSON] [--ack | --http]",
		Short: "Send one broadcast over the socket (--ack waits for the server) or over HTTP (--http)",
		Long: `Send one broadcast message and exit.

Over the socket the command joins the channel, sends, and with --ack waits
until the server acknowledges the message. With --http it posts the message
to the REST endpoint instead (one request, no join; the server answers 202
Accepted, so --ack does not apply).

The connection is attempted --max-attempts times (default 3, a few seconds),
then the command gives up with the last cause and exits 1. Exit 0 means the
message was sent (and, with --ack, acknowledged).`,
		Example: `  realtime broadcast --channel room1 --event hello --payload '{"text":"hi"}' --ack
  realtime broadcast --channel room1 --event hello --http`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.resolve(cmd); err != nil {
				return err
			}
			if channel == "" || event == "" {
				return usagef("--channel and --event are required")
			}
			if viaHTTP && ack {
				return usagef("--ack cannot be used with --http: the HTTP endpoint only answers 202 Accepted (use --ack over the socket)")
			}
			if !json.Valid([]byte(body)) {
				return usagef("--payload is not valid JSON")
			}
			p := &printer{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()}
			s := newSession(&cfg, p, nil)
			defer s.close()
			return sendBroadcast(cmd.Context(), s, channel, event, json.RawMessage(body), ack, viaHTTP, priv)
		},
	}
	cfg.register(cmd, broadcastAttempts)
	f := cmd.Flags()
	f.StringVar(&channel, "channel", "", "channel to send on")
	f.StringVar(&event, "event", "", "broadcast event name")
	f.StringVar(&body, "payload", "{}", "JSON payload")
	f.BoolVar(&ack, "ack", false, "ask the server to acknowledge the message and wait for it")
	f.BoolVar(&viaHTTP, "http", false, "send over HTTP (POST …/api/broadcast) instead of the socket")
	f.BoolVar(&priv, "private", false, "the channel is private (authorized by RLS policies)")
	return cmd
}

func sendBroadcast(ctx context.Context, s *session, channel, event string, payload json.RawMessage, ack, viaHTTP, priv bool) error {
	if viaHTTP {
		// No socket is needed: the client is built (it validates the URL
		// and key) but the answer comes from one HTTP request.
		s.cfg.maxAttempts = 1
		s.quiet = true
	}
	if err := s.connect(); err != nil {
		return err
	}
	ch, err := s.client.Channel(channel, realtime.Private(priv), realtime.BroadcastAck(ack))
	if err != nil {
		return &usageError{fmt.Errorf("--channel %q: %w", channel, err)}
	}
	interrupted := func(what string) error {
		line := fmt.Sprintf("interrupted after %v: %s", s.elapsed(), what)
		if c := s.connectionSummary(); c != "" {
			line += "; " + c
		}
		s.p.status("%s", line)
		return nil
	}
	if viaHTTP {
		if err := s.client.HTTPSend(ctx, ch, event, payload); err != nil {
			if ctx.Err() != nil {
				return interrupted("nothing was sent")
			}
			return err
		}
		fmt.Fprintln(s.p.stdout, "sent over HTTP (202 Accepted)")
		return nil
	}
	if err := s.subscribe(ctx, ch, false); err != nil {
		if err == errInterrupted {
			return interrupted("nothing was sent")
		}
		return err
	}
	ref, err := s.client.BroadcastWithAck(ctx, ch, event, payload)
	if err != nil {
		if ctx.Err() != nil {
			return interrupted("nothing was sent")
		}
		return err
	}
	if !ack {
		fmt.Fprintln(s.p.stdout, "sent")
		return nil
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	if err := s.client.WaitForAck(actx, ref); err != nil {
		if ctx.Err() != nil {
			return interrupted("sent, not acknowledged yet")
		}
		return fmt.Errorf("sent, but not acknowledged: %w", err)
	}
	fmt.Fprintln(s.p.stdout, "acknowledged")
	return nil
}
