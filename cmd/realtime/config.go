package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	realtime "github.com/supabase-go/realtime"
)

// Environment variables read when the matching flag is not given.
const (
	envURL   = "SUPABASE_URL"
	envKey   = "SUPABASE_KEY"
	envToken = "SUPABASE_ACCESS_TOKEN"
)

// conn holds the flags every network command shares.
type conn struct {
	url, key, token string
	vsn             string
	timeout         time.Duration
	maxAttempts     int
	debug           bool
}

// register adds the shared flags. attempts is the command's default for
// --max-attempts (0: retry forever). Defaults from the environment are read
// after parsing (resolve), so --help never prints a key or token.
func (c *conn) register(cmd *cobra.Command, attempts int) {
	f := cmd.Flags()
	f.StringVar(&c.url, "url", "", "project URL (https://<ref>.supabase.co, http://127.0.0.1:54321) or ws(s) socket URL (env "+envURL+")")
	f.StringVar(&c.key, "key", "", "project API key, anon or publishable (env "+envKey+")")
	f.StringVar(&c.token, "token", "", "user JWT sent with every join (env "+envToken+")")
	f.StringVar(&c.vsn, "vsn", string(realtime.Vsn2), "serializer version: 2.0.0 or 1.0.0")
	f.DurationVar(&c.timeout, "timeout", 10*time.Second, "bound on each connection attempt, each join and each acknowledgement")
	rule := "0 retries forever"
	if attempts > 0 {
		rule = "then give up and exit 1; 0 retries forever"
	}
	f.IntVar(&c.maxAttempts, "max-attempts", attempts, "consecutive failed connection attempts before giving up ("+rule+")")
	f.BoolVar(&c.debug, "debug", false, "output debug logs to stderr")
	_ = cmd.RegisterFlagCompletionFunc("vsn", fixedCompletion(string(realtime.Vsn2), string(realtime.Vsn1)))
}

// resolve fills unset flags from the environment and checks every value;
// mistakes are usage errors with the fix in the message.
func (c *conn) resolve(cmd *cobra.Command) error {
	fromEnv := func(flag, env string, v *string) {
		if !cmd.Flags().Changed(flag) {
			*v = os.Getenv(env)
		}
	}
	fromEnv("url", envURL, &c.url)
	fromEnv("key", envKey, &c.key)
	fromEnv("token", envToken, &c.token)
	if c.url == "" {
		return usagef("no project URL: pass --url or set %s", envURL)
	}
	if err := checkURL(c.url); err != nil {
		return err
	}
	if c.key == "" {
		return usagef("no API key: pass --key or set %s", envKey)
	}
	switch realtime.Vsn(c.vsn) {
	case realtime.Vsn1, realtime.Vsn2:
	default:
		return usagef("--vsn %q: want %s or %s", c.vsn, realtime.Vsn2, realtime.Vsn1)
	}
	if c.timeout <= 0 {
		return usagef("--timeout %v: must be positive", c.timeout)
	}
	if c.maxAttempts < 0 {
		return usagef("--max-attempts %d: must be 0 (retry forever) or more", c.maxAttempts)
	}
	return nil
}

// options turns the flags into client options.
func (c *conn) options(s *session) []realtime.Option {
	opts := []realtime.Option{
		realtime.WithVsn(realtime.Vsn(c.vsn)),
		realtime.WithTimeout(c.timeout),
		realtime.WithMaxReconnectAttempts(c.maxAttempts),
		realtime.WithHandler(s),
	}
	if c.debug {
		opts = append(opts, realtime.WithLogger(slog.New(slog.NewTextHandler(logWriter{s.p}, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	return opts
}

// checkURL checks a project or socket URL and suggests the fix for the
// usual slips: a missing scheme (localhost:4000, 127.0.0.1:4000,
// <ref>.supabase.co) or a scheme the client does not speak. The URL is only
// echoed when it cannot carry a secret (no query, no user info).
func checkURL(raw string) error {
	show, secret := fmt.Sprintf("%q", raw), strings.ContainsAny(raw, "?@")
	if secret {
		show = "(not shown: it has a query or user info)"
	}
	if !strings.Contains(raw, "://") {
		if secret {
			scheme, _, _ := strings.Cut(suggestScheme(raw), "//")
			return usagef("--url %s has no scheme; did you mean %s// in front?", show, scheme)
		}
		return usagef("--url %s has no scheme; did you mean %s?", show, suggestScheme(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return usagef("--url %s cannot be parsed: want http(s)://host[:port] or ws(s)://host[:port]/path", show)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return usagef("--url %s: scheme %q is not supported; use http, https, ws or wss", show, u.Scheme)
	}
	if u.Host == "" {
		return usagef("--url %s has no host: want %s://host[:port]", show, u.Scheme)
	}
	return nil
}

// suggestScheme returns raw with the scheme it most likely lacks: http://
// for loopback and local names, https:// for everything else.
func suggestScheme(raw string) string {
	host := raw
	if i := strings.IndexAny(host, "/"); i >= 0 {
		host = host[:i]
	}
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	switch {
	case host == "localhost", strings.HasPrefix(host, "127."), strings.HasPrefix(host, "[::1]"),
		host == "0.0.0.0", strings.HasSuffix(host, ".local"), !strings.Contains(host, "."):
		return "http://" + raw
	}
	return "https://" + raw
}

// fixedCompletion completes a flag's value from a fixed list.
func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// parsePostgres parses EVENT:schema.table[:filter], e.g.
// "INSERT:public.todos:id=eq.1" or "*:public.*".
func parsePostgres(spec string) (realtime.PostgresChanges, error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) < 2 {
		return realtime.PostgresChanges{}, usagef("--postgres %q: want EVENT:schema.table[:filter], e.g. INSERT:public.todos:id=eq.1", spec)
	}
	b := realtime.PostgresChanges{Event: realtime.PostgresEvent(strings.ToUpper(parts[0]))}
	st := strings.SplitN(parts[1], ".", 2)
	if len(st) == 2 {
		b.Schema, b.Table = st[0], st[1]
	} else {
		b.Schema, b.Table = "public", st[0]
	}
	if len(parts) == 3 {
		b.Filter = parts[2]
	}
	if err := b.Validate(); err != nil {
		return b, usagef("--postgres %q: %w", spec, err)
	}
	return b, nil
}
