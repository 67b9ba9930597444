// Command realtime-server runs the protocol-faithful Supabase Realtime
// stand-in of package test/realtimetest as a standalone server, for
// realtime-js, the Go client's demo or manual testing.
//
//	realtime-server [-addr 127.0.0.1:4000] [-jwt-secret S] [-anon-key K] [-postgres DSN] [-log-level info]
//
// It prints the project URL, the WebSocket URL, the HTTP broadcast URL and
// the API key on stdout, serves until SIGINT or SIGTERM, then closes every
// socket (close code 1001) and exits.
//
// With -jwt-secret every token (socket, channel, HTTP API) must be a JWT
// signed with that secret; -anon-key is then the key printed for clients,
// and when it is empty an anon JWT (role "anon", valid 10 years) is minted
// and printed. Without -jwt-secret, -anon-key (if set) is compared
// verbatim. -log-level debug logs every frame on stderr.
//
// -postgres enables postgres_changes from that database, with row-level
// security under the roles of the tokens. The database is checked at start
// (realtimetest.CheckPostgres): an unreachable database, wal_level other
// than logical or a role without REPLICATION is an error naming the fix;
// a missing "supabase_realtime" publication is a warning (subscriptions
// are refused until it exists; the server never creates it).
//
// The limits and delays default to the real server's (config/runtime.exs,
// lib/realtime/tenants.ex, Phoenix's websocket timeout), one flag each; 0
// turns one off:
//
//	-join-error-delay 5s       CHANNEL_ERROR_BACKOFF_MS
//	-connect-error-delay 2s    CONNECT_ERROR_BACKOFF_MS
//	-max-events-per-second 100 TENANT_MAX_EVENTS_PER_SECOND
//	-max-joins-per-second 100  TENANT_MAX_JOINS_PER_SECOND
//	-max-users 200             TENANT_MAX_CONCURRENT_USERS
//	-max-channels 100          TENANT_MAX_CHANNELS_PER_CLIENT
//	-presence-per-30s 5        CLIENT_PRESENCE_MAX_CALLS per CLIENT_PRESENCE_WINDOW_MS
//	-idle-timeout 60s          Phoenix websocket timeout
//	-rate-tick 5s              rate counters' tick (averages over 12 ticks)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/supabase-go/realtime/test/realtimetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "realtime-server:", err)
		os.Exit(2)
	}
}

// anonKeyLifetime is the validity of a minted anon key.
const anonKeyLifetime = 10 * 365 * 24 * time.Hour

// config is the parsed command line.
type config struct {
	addr, secret, anonKey, dsn, logLevel string
	opts                                 realtimetest.Options // limits and delays
}

// parseFlags parses args; the limits default to the real server's.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("realtime-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:4000", "TCP address to listen on")
	fs.StringVar(&c.secret, "jwt-secret", "", "JWT secret: tokens must be HS256 JWTs signed with it (empty: no JWT verification)")
	fs.StringVar(&c.anonKey, "anon-key", "", "API key accepted from clients (with -jwt-secret and empty: an anon JWT is minted)")
	fs.StringVar(&c.dsn, "postgres", "", "PostgreSQL DSN for postgres_changes (empty: none)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level on stderr: debug (every frame), info, warn or error")
	o := &c.opts
	d := realtimetest.RealLimits()
	fs.DurationVar(&o.JoinErrorDelay, "join-error-delay", d.JoinErrorDelay, "hold join error replies back (real server: CHANNEL_ERROR_BACKOFF_MS, 5 s)")
	fs.DurationVar(&o.ConnectErrorDelay, "connect-error-delay", d.ConnectErrorDelay, "hold refused handshakes back (real server: CONNECT_ERROR_BACKOFF_MS, 2 s)")
	fs.IntVar(&o.MaxEventsPerSecond, "max-events-per-second", d.MaxEventsPerSecond, "tenant events limit, 0 = none (real server: 100)")
	fs.IntVar(&o.MaxJoinsPerSecond, "max-joins-per-second", d.MaxJoinsPerSecond, "tenant joins limit, 0 = none (real server: 100)")
	fs.IntVar(&o.MaxConcurrentUsers, "max-users", d.MaxConcurrentUsers, "concurrent users (sockets that joined), 0 = none (real server: 200)")
	fs.IntVar(&o.MaxChannelsPerClient, "max-channels", d.MaxChannelsPerClient, "channels per socket (real server: 100)")
	fs.IntVar(&o.PresencePushesPer30s, "presence-per-30s", d.PresencePushesPer30s, "client presence pushes per channel per 30 s, 0 = none (real server: 5)")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", d.IdleTimeout, "close sockets silent for this long, 0 = never (Phoenix websocket timeout: 60 s)")
	fs.DurationVar(&o.RateTick, "rate-tick", d.RateTick, "tick of the events and joins rate counters (averaged over 12 ticks); 0 = one-second windows evaluated at every event")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	for name, v := range map[string]int{"-max-events-per-second": o.MaxEventsPerSecond, "-max-joins-per-second": o.MaxJoinsPerSecond, "-max-users": o.MaxConcurrentUsers, "-presence-per-30s": o.PresencePushesPer30s} {
		if v < 0 {
			return nil, fmt.Errorf("%s must not be negative", name)
		}
	}
	if o.MaxChannelsPerClient < 1 {
		return nil, errors.New("-max-channels must be at least 1")
	}
	for name, v := range map[string]time.Duration{"-join-error-delay": o.JoinErrorDelay, "-connect-error-delay": o.ConnectErrorDelay, "-idle-timeout": o.IdleTimeout, "-rate-tick": o.RateTick} {
		if v < 0 {
			return nil, fmt.Errorf("%s must not be negative", name)
		}
	}
	return c, nil
}

// checkTimeout bounds the database check at start.
const checkTimeout = 15 * time.Second

// run parses args, serves until ctx ends and closes the server.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	key := c.anonKey
	if c.secret != "" && key == "" {
		now := time.Now()
		key = realtimetest.SignJWT(c.secret, map[string]any{
			"iss":  "supabase-demo",
			"role": "anon",
			"iat":  now.Unix(),
			"exp":  now.Add(anonKeyLifetime).Unix(),
		})
	}
	if c.secret != "" && strings.Count(key, ".") != 2 {
		logger.Warn("realtime-server: -anon-key is not a JWT; with -jwt-secret clients presenting it will be refused")
	}
	if c.dsn != "" {
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		err := realtimetest.CheckPostgres(cctx, c.dsn)
		cancel()
		var ce *realtimetest.PostgresCheckError
		switch {
		case err == nil:
		case errors.As(err, &ce) && len(ce.Problems) == 1 && errors.Is(err, realtimetest.ErrNoPublication):
			logger.Warn(err.Error())
		default:
			return err
		}
	}
	opts := c.opts
	opts.Addr = c.addr
	opts.JWTSecret = c.secret
	opts.Logger = logger
	opts.PostgresDSN = c.dsn
	if c.secret == "" {
		opts.APIKey = key
	}
	srv, err := realtimetest.Listen(opts)
	if err != nil {
		return err
	}
	defer srv.Close()

	host := clientHost(c.addr, srv.Addr())
	q := url.Values{"vsn": {"2.0.0"}}
	if key != "" {
		q.Set("apikey", key)
	}
	fmt.Fprintf(stdout, "project URL:    http://%s\n", host)
	fmt.Fprintf(stdout, "realtime URL:   ws://%s/realtime/v1\n", host)
	fmt.Fprintf(stdout, "websocket URL:  ws://%s%s?%s\n", host, realtimetest.GatewayPath, q.Encode())
	fmt.Fprintf(stdout, "broadcast URL:  http://%s%s\n", host, realtimetest.GatewayBroadcastPath)
	if key != "" {
		fmt.Fprintf(stdout, "API key:        %s\n", key)
	} else {
		fmt.Fprintln(stdout, "API key:        (none required)")
	}
	logger.Info("realtime-server: serving", "addr", srv.Addr().String(), "jwt", c.secret != "", "postgres", c.dsn != "")

	<-ctx.Done()
	logger.Info("realtime-server: shutting down")
	srv.Close()
	return nil
}

// clientHost is the listen address as clients should dial it: an
// unspecified host (empty, 0.0.0.0) becomes 127.0.0.1, and "::" becomes
// ::1.
func clientHost(requested string, a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if host, _, err := net.SplitHostPort(requested); err == nil {
		if rip := net.ParseIP(host); rip != nil && rip.Equal(net.IPv6unspecified) {
			ip = net.IPv6loopback
		}
	}
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
