package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/supabase-go/realtime/test/realtimetest/devenv"
)

func newDevCmd() *cobra.Command {
	var (
		addr       string
		dataDir    string
		jwtSecret  string
		testLimits bool
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local Realtime for development: PostgreSQL and the server, no Docker",
		Long: `Start a throwaway PostgreSQL 15 with logical replication and the
supabase_realtime publication, and the local Realtime server on it (JWT
verification, row-level security for postgres_changes and the real server's
limits), then print what a client needs: the URL, an anon key, a signed user
JWT and the database DSN. Runs until Ctrl-C, then stops both.

With --data-dir the database is kept in that directory for the next run;
with --jwt-secret the printed keys stay valid across runs.`,
		Example: `  realtime dev
  realtime dev --addr 127.0.0.1:4000 --data-dir ./.realtime-db --jwt-secret my-dev-secret
  # in another terminal, with the printed values:
  realtime listen --url http://127.0.0.1:4000 --key <anon key> --channel room1`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := devenv.Options{Addr: addr, DataDir: dataDir, JWTSecret: jwtSecret, TestLimits: testLimits}
			if _, err := net.ResolveTCPAddr("tcp", addr); err != nil {
				return usagef("--addr %q: want host:port, e.g. 127.0.0.1:4000", addr)
			}
			if err := opts.Validate(); err != nil {
				return usagef("%v", err)
			}
			return runDev(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:0", "listen address of the server (port 0: a free port)")
	f.StringVar(&dataDir, "data-dir", "", "keep the database in this directory across runs (default: a throwaway one)")
	f.StringVar(&jwtSecret, "jwt-secret", "", "secret that signs the keys (default: a random one per run)")
	f.BoolVar(&testLimits, "test-limits", false, "turn the real server's rate limits and error delays off")
	return cmd
}

// runDev starts the environment, prints its coordinates and waits for
// ctx (Ctrl-C). Interrupted while starting, it exits 0 like every
// long-running command.
func runDev(ctx context.Context, stdout, stderr io.Writer, opts devenv.Options) error {
	start := time.Now()
	env, err := devenv.Start(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "dev interrupted while starting after %v\n", time.Since(start).Round(100*time.Millisecond))
			return nil
		}
		return fmt.Errorf("dev: %w", err)
	}
	fmt.Fprintf(stdout, "Local Realtime is running (started in %v).\n\n", time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintf(stdout, "  URL        %s\n", env.URL)
	fmt.Fprintf(stdout, "  anon key   %s\n", env.AnonKey)
	fmt.Fprintf(stdout, "  user JWT   %s\n", env.UserJWT)
	fmt.Fprintf(stdout, "  user id    %s\n", env.UserID)
	fmt.Fprintf(stdout, "  DSN        %s\n\n", env.DSN)
	fmt.Fprintf(stdout, "Try: realtime listen --url %s --key <anon key> --channel room1\n", env.URL)
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	<-ctx.Done()
	up := time.Since(start).Round(time.Second)
	if err := env.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("dev: stopping: %w", err)
	}
	fmt.Fprintf(stderr, "dev stopped after %v\n", up)
	return nil
}
