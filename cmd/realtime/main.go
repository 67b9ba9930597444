// Command realtime is a command-line tool over the Go Supabase Realtime
// client.
//
//	realtime listen      join channels and print broadcasts, presence and postgres changes
//	realtime broadcast   send one broadcast (over the socket, --ack to wait for the server, or --http)
//	realtime track       track presence on a channel until interrupted
//	realtime demo        the scripted demo on an in-process server (and PostgreSQL)
//	realtime completion  shell completion scripts (bash, zsh, fish, powershell)
//
// --url or SUPABASE_URL and --key or SUPABASE_KEY select the project;
// --token or SUPABASE_ACCESS_TOKEN sets the user JWT. "realtime help
// <command>" or "realtime <command> --help" lists a command's flags.
//
// Exit codes: 0 when the command did what was asked or was interrupted
// (Ctrl-C, SIGTERM; a one-line summary goes to stderr), 1 when it failed
// (the cause goes to stderr), 2 for a usage error (unknown command or
// flag, extra arguments, an unsupported combination, a malformed value).
package main

import (
	"context"
	"errors"
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

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// run executes the command line args and returns the exit code. ctx ends
// on Ctrl-C or SIGTERM.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "realtime: %s\n", clean(err))
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	fmt.Fprintf(stderr, "realtime: %s\n", clean(err))
	return exitFailure
}

// usageError is a mistake on the command line: an unknown command or flag,
// extra arguments, a malformed value or an unsupported combination. It
// exits with exitUsage.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// clean renders err for the terminal: the library prefixes its errors with
// "realtime: ", and the command line adds its own once, so the prefixes
// inside the chain are removed.
func clean(err error) string {
	return strings.ReplaceAll(err.Error(), "realtime: ", "")
}
