package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	realtime "github.com/supabase-go/realtime"
)

// common holds the flags every network command shares.
type common struct {
	url, key, token string
	vsn             string
	timeout         time.Duration
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "url", os.Getenv("SUPABASE_URL"), "project URL (https://<ref>.supabase.co) or ws(s) socket URL; default $SUPABASE_URL")
	fs.StringVar(&c.key, "key", os.Getenv("SUPABASE_KEY"), "project API key (anon/publishable); default $SUPABASE_KEY")
	fs.StringVar(&c.token, "token", os.Getenv("SUPABASE_ACCESS_TOKEN"), "user JWT sent with every join; default $SUPABASE_ACCESS_TOKEN")
	fs.StringVar(&c.vsn, "vsn", "2.0.0", "serializer version: 2.0.0 or 1.0.0")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "timeout for connecting, joining and acks")
}

func (c *common) check() error {
	if c.url == "" {
		return errors.New("no project URL: pass --url or set SUPABASE_URL")
	}
	if c.key == "" {
		return errors.New("no API key: pass --key or set SUPABASE_KEY")
	}
	return nil
}

// fatal collects the first error that must stop a command: a rejected
// connection (bad key, bad URL) or a channel that cannot join.
type fatal struct{ ch chan error }

func newFatal() *fatal { return &fatal{ch: make(chan error, 1)} }

func (f *fatal) report(err error) {
	select {
	case f.ch <- err:
	default:
	}
}

// connect creates the client with the shared options. The Handler gets
// every event; connection failures the user must fix (4xx on the upgrade)
// are reported to f.
func (c *common) connect(h realtime.Handler, f *fatal, stderr io.Writer, extra ...realtime.Option) (*realtime.Client, error) {
	opts := []realtime.Option{
		realtime.WithVsn(realtime.Vsn(c.vsn)),
		realtime.WithTimeout(c.timeout),
		realtime.WithHandler(realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
			if s, ok := ev.(realtime.ConnectionStateEvent); ok {
				var ce *realtime.ConnectError
				if errors.As(s.Err, &ce) && ce.StatusCode >= 400 && ce.StatusCode < 500 {
					f.report(fmt.Errorf("the server refused the connection: %s", describeConnectError(ce)))
				}
			}
			h.HandleEvent(ctx, ev)
		})),
	}
	client, err := realtime.New(c.url, c.key, append(opts, extra...)...)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		if err := client.SetAuth(ctx, c.token); err != nil {
			client.Close(context.Background())
			return nil, err
		}
	}
	return client, nil
}

func describeConnectError(ce *realtime.ConnectError) string {
	if ce.Message != "" {
		return fmt.Sprintf("HTTP %d: %s", ce.StatusCode, ce.Message)
	}
	return fmt.Sprintf("HTTP %d", ce.StatusCode)
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// parsePostgres parses EVENT:schema.table[:filter], e.g.
// "INSERT:public.todos:id=eq.1" or "*:public.*".
func parsePostgres(spec string) (realtime.PostgresChanges, error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) < 2 {
		return realtime.PostgresChanges{}, fmt.Errorf("--postgres %q: want EVENT:schema.table[:filter]", spec)
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
		return b, fmt.Errorf("--postgres %q: %w", spec, err)
	}
	return b, nil
}
