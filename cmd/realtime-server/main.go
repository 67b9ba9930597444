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
// verbatim. -postgres enables postgres_changes from that database.
// -log-level debug logs every frame on stderr.
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

// run parses args, serves until ctx ends and closes the server.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("realtime-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4000", "TCP address to listen on")
	secret := fs.String("jwt-secret", "", "JWT secret: tokens must be HS256 JWTs signed with it (empty: no JWT verification)")
	anonKey := fs.String("anon-key", "", "API key accepted from clients (with -jwt-secret and empty: an anon JWT is minted)")
	dsn := fs.String("postgres", "", "PostgreSQL DSN for postgres_changes (empty: none)")
	logLevel := fs.String("log-level", "info", "log level on stderr: debug (every frame), info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	key := *anonKey
	if *secret != "" && key == "" {
		now := time.Now()
		key = realtimetest.SignJWT(*secret, map[string]any{
			"iss":  "supabase-demo",
			"role": "anon",
			"iat":  now.Unix(),
			"exp":  now.Add(anonKeyLifetime).Unix(),
		})
	}
	if *secret != "" && strings.Count(key, ".") != 2 {
		logger.Warn("realtime-server: -anon-key is not a JWT; with -jwt-secret clients presenting it will be refused")
	}
	opts := realtimetest.Options{
		Addr:        *addr,
		JWTSecret:   *secret,
		Logger:      logger,
		PostgresDSN: *dsn,
	}
	if *secret == "" {
		opts.APIKey = key
	}
	srv, err := realtimetest.Listen(opts)
	if err != nil {
		return err
	}
	defer srv.Close()

	host := clientHost(*addr, srv.Addr())
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
	logger.Info("realtime-server: serving", "addr", srv.Addr().String(), "jwt", *secret != "", "postgres", *dsn != "")

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
