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
//
// # Concurrency
//
// A network command owns one client. Its Handler (session.HandleEvent)
// runs on the client's Dispatcher goroutines, one event at a time, while
// the command's goroutine waits for the join, the ack or the end; the two
// share the session's state under its mutex. The printer serializes every
// line (and --debug log records) so that output never interleaves.
//
// # Lifecycle
//
// Every run builds a fresh command tree, so no flag value outlives it. A
// network command starts its client, waits for what was asked, then
// leaves its channels (when the socket is open) and closes the client
// before returning: no goroutine of the client outlives the run.
// Ctrl-C and SIGTERM cancel the run's context.
package main
