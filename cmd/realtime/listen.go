package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	realtime "github.com/supabase-go/realtime"
)

func newListenCmd() *cobra.Command {
	var (
		cfg                conn
		channels, postgres []string
		broadcast          string
		presence, private  bool
		output             string
		asJSON             bool
	)
	cmd := &cobra.Command{
		Use:   "listen --channel NAME [--broadcast EVENT] [--presence] [--postgres SPEC]...",
		Short: "Join channels and print broadcasts, presence and postgres changes until interrupted",
		Long: `Join channels and print what arrives until interrupted.

Events go to stdout, one line each (--output json: one JSON object each);
connection and channel status lines go to stderr. The connection is retried
forever by default (--max-attempts changes that). The command fails (exit 1)
when the server refuses the connection, a join or a postgres changes
binding. Ctrl-C leaves the channels, prints a one-line summary and exits 0.`,
		Example: `  realtime listen --channel room1 --broadcast '*' --presence
  realtime listen --channel db --postgres 'INSERT:public.todos' --postgres 'DELETE:public.todos:id=eq.1' -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.resolve(cmd); err != nil {
				return err
			}
			if asJSON {
				output = "json"
			}
			if output != "pretty" && output != "json" {
				return usagef("--output %q: want pretty or json", output)
			}
			if len(channels) == 0 {
				return usagef("at least one --channel is needed")
			}
			var bindings []realtime.Binding
			if broadcast != "" {
				bindings = append(bindings, realtime.Broadcast{Event: broadcast})
			}
			if presence {
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
				return usagef("nothing to listen to: pass --broadcast, --presence or --postgres")
			}
			p := &printer{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(), json: output == "json"}
			s := newSession(&cfg, p, p.event)
			defer s.close()
			return listen(cmd, s, channels, bindings, private, len(postgres) > 0)
		},
	}
	cfg.register(cmd, 0)
	f := cmd.Flags()
	f.StringArrayVar(&channels, "channel", nil, "channel to join (repeatable)")
	f.StringVar(&broadcast, "broadcast", "", `broadcast event to print, or "*" for all`)
	f.BoolVar(&presence, "presence", false, "print presence join, leave and sync")
	f.StringArrayVar(&postgres, "postgres", nil, `postgres changes to print, EVENT:schema.table[:filter], e.g. "INSERT:public.todos:id=eq.1" (repeatable)`)
	f.BoolVar(&private, "private", false, "join the channels as private (authorized by RLS policies)")
	f.StringVarP(&output, "output", "o", "pretty", "output format of events: pretty or json")
	f.BoolVar(&asJSON, "json", false, "same as --output json")
	_ = f.MarkDeprecated("json", "use --output json")
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion("pretty", "json"))
	_ = cmd.RegisterFlagCompletionFunc("postgres", fixedCompletion("*:public.", "INSERT:public.", "UPDATE:public.", "DELETE:public."))
	return cmd
}

func listen(cmd *cobra.Command, s *session, channels []string, bindings []realtime.Binding, private, pg bool) error {
	ctx := cmd.Context()
	if err := s.connect(); err != nil {
		return err
	}
	var joined []*realtime.Channel
	for _, name := range channels {
		ch, err := s.client.Channel(name, realtime.Private(private))
		if err != nil {
			return &usageError{fmt.Errorf("--channel %q: %w", name, err)}
		}
		for _, b := range bindings {
			if err := s.client.On(ch, b); err != nil {
				return err
			}
		}
		if pg {
			s.expectPostgres(ch.Name())
		}
		joined = append(joined, ch)
	}
	names := make([]string, len(joined))
	for i, ch := range joined {
		names[i] = ch.Name()
		if err := s.subscribe(ctx, ch, true); err != nil {
			if err == errInterrupted {
				s.p.status("stopped after %v: %s", s.elapsed(), s.connectionSummary())
				return nil
			}
			return err
		}
	}
	if err := s.wait(ctx); err != nil {
		return err
	}
	line := fmt.Sprintf("stopped after %v: %d %s on %s", s.elapsed(), s.eventCount(), plural(s.eventCount(), "event"), strings.Join(names, ", "))
	if c := s.connectionSummary(); c != "" {
		line += "; " + c
	}
	s.p.status("%s", line)
	return nil
}
