// Command realtime is a command-line tool over the Go Supabase Realtime
// client.
//
//	realtime demo        the scripted demo on an in-process server (and PostgreSQL)
//	realtime listen      join channels and print broadcasts, presence and changes
//	realtime broadcast   send one broadcast (socket, with --ack, or --http)
//	realtime track       track presence until interrupted
//
// SUPABASE_URL and SUPABASE_KEY (or --url and --key) select the project;
// --token or SUPABASE_ACCESS_TOKEN sets the user JWT. Run "realtime help"
// or "realtime <command> -h" for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// commands maps a subcommand to its entry point.
var commands = map[string]struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}{
	"demo":      {"run a scripted scenario against an in-process Realtime server and print every event", runDemo},
	"listen":    {"join channels and print broadcasts, presence and postgres changes until interrupted", runListen},
	"broadcast": {"send one broadcast over the socket (--ack waits for the server) or over HTTP (--http)", runBroadcast},
	"track":     {"track presence on a channel until interrupted", runTrack},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "realtime: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "realtime:", strings.TrimPrefix(err.Error(), "realtime: "))
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: realtime <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, name := range []string{"demo", "listen", "broadcast", "track"} {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
}
