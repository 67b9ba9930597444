// Package devenv starts a local, Docker-free Supabase Realtime for
// development: a throwaway PostgreSQL with logical replication and the
// "supabase_realtime" publication (package test/pgtest), and the
// protocol-faithful server of package test/realtimetest on it, with JWT
// verification, row-level security and the real server's limits. It is
// the library behind "realtime dev", like "supabase start" for this one
// service.
//
//	env, err := devenv.Start(ctx, devenv.Options{})
//	if err != nil { … }
//	defer env.Close()
//	fmt.Println(env.URL, env.AnonKey, env.UserJWT, env.DSN)
//
// The database looks like a Supabase project's: the roles anon,
// authenticated and service_role exist (NOLOGIN), may use schema public,
// and get every privilege on tables created there later (ALTER DEFAULT
// PRIVILEGES); the publication is FOR ALL TABLES. Row-level security
// policies written for Supabase (auth.uid() aside: use
// current_setting('request.jwt.claims', true)::jsonb ->> 'sub') apply to
// postgres_changes as on the real server.
//
// # Concurrency
//
// Start and Close may be called from any goroutine; an Env's fields are
// read-only after Start. The server's goroutines and the postgres process
// belong to the Env.
//
// # Lifecycle
//
// Start returns once the database accepts connections and the server
// streams changes (or fails, leaving nothing behind). Close stops the
// server (every goroutine it started has exited when Close returns), then
// PostgreSQL; with Options.DataDir the data directory is kept for the
// next Start, otherwise it is removed. Close is idempotent.
package devenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// Defaults applied to zero Options fields.
const (
	// DefaultTokenLifetime is the validity of the minted user JWT.
	DefaultTokenLifetime = 24 * time.Hour
	// anonKeyLifetime is the validity of the minted anon key.
	anonKeyLifetime = 10 * 365 * 24 * time.Hour
)

// Options configures Start. The zero value is ready to use.
type Options struct {
	// Addr is the server's listen address. Default: "127.0.0.1:0" (a
	// random port).
	Addr string
	// DataDir keeps the database in that directory across runs
	// (pgtest.Options.DataDir). Default: "" (a throwaway database).
	DataDir string
	// JWTSecret signs and verifies every token. Default: "" (a random
	// secret per Start; pass one to keep tokens valid across runs).
	JWTSecret string
	// UserID is the "sub" of the minted user JWT. Default: "" (a random
	// UUID).
	UserID string
	// TokenLifetime is the validity of the minted user JWT. Default: 24 h.
	TokenLifetime time.Duration
	// TestLimits turns the real server's limits and delays off (the
	// realtimetest.Options defaults), for scripts that go fast. Default:
	// false (realtimetest.RealLimits).
	TestLimits bool
	// PostgresSettings are extra postgresql.conf settings. Default: none.
	PostgresSettings map[string]string
	// Logger receives the server's logs. Default: nil (silent).
	Logger *slog.Logger
}

// Validate reports invalid options.
func (o Options) Validate() error {
	if o.TokenLifetime < 0 {
		return errors.New("devenv: TokenLifetime must not be negative")
	}
	if o.JWTSecret != "" && len(o.JWTSecret) < 32 {
		return errors.New("devenv: JWTSecret must have at least 32 characters")
	}
	return nil
}

// Env is a running development environment.
type Env struct {
	// URL is the project URL ("http://127.0.0.1:<port>"), what clients
	// are created with.
	URL string
	// WebSocketURL is the socket URL without query string.
	WebSocketURL string
	// DSN is the PostgreSQL superuser connection string.
	DSN string
	// JWTSecret signs the tokens below.
	JWTSecret string
	// AnonKey is an API key JWT with role "anon".
	AnonKey string
	// UserJWT is a user's access token: role "authenticated", sub UserID.
	UserJWT string
	// UserID is the "sub" of UserJWT.
	UserID string

	Server  *realtimetest.Server
	Cluster *pgtest.Cluster

	closeOnce sync.Once
	closeErr  error
}

// Start starts PostgreSQL and the server; see the package doc.
func Start(ctx context.Context, opts Options) (*Env, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = DefaultTokenLifetime
	}
	secret := opts.JWTSecret
	if secret == "" {
		secret = randomHex(32)
	}
	user := opts.UserID
	if user == "" {
		user = randomUUID()
	}
	cluster, err := pgtest.Start(ctx, pgtest.Options{DataDir: opts.DataDir, Settings: opts.PostgresSettings})
	if err != nil {
		return nil, err
	}
	if err := prepareDatabase(ctx, cluster.DSN()); err != nil {
		_ = cluster.Stop()
		return nil, err
	}
	sopts := realtimetest.RealLimits()
	if opts.TestLimits {
		sopts = realtimetest.Options{}
	}
	sopts.Addr = opts.Addr
	sopts.JWTSecret = secret
	sopts.PostgresDSN = cluster.DSN()
	sopts.Logger = opts.Logger
	srv, err := realtimetest.Listen(sopts)
	if err != nil {
		_ = cluster.Stop()
		return nil, fmt.Errorf("devenv: %w", err)
	}
	if err := srv.WaitPostgres(ctx); err != nil {
		srv.Close()
		_ = cluster.Stop()
		return nil, fmt.Errorf("devenv: replication did not start: %w", err)
	}
	now := time.Now()
	return &Env{
		URL:          srv.URL(),
		WebSocketURL: srv.WebSocketURL(),
		DSN:          cluster.DSN(),
		JWTSecret:    secret,
		AnonKey: realtimetest.SignJWT(secret, map[string]any{
			"iss": "supabase-demo", "role": "anon", "iat": now.Unix(), "exp": now.Add(anonKeyLifetime).Unix(),
		}),
		UserJWT: realtimetest.SignJWT(secret, map[string]any{
			"iss": "supabase-demo", "role": "authenticated", "aud": "authenticated", "sub": user,
			"iat": now.Unix(), "exp": now.Add(opts.TokenLifetime).Unix(),
		}),
		UserID:  user,
		Server:  srv,
		Cluster: cluster,
	}, nil
}

// prepareDatabase creates the Supabase API roles and their grants (once;
// a kept data directory already has them).
func prepareDatabase(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("devenv: %w", err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, `do $$
	declare r text;
	begin
		foreach r in array array['anon', 'authenticated', 'service_role'] loop
			if not exists (select 1 from pg_roles where rolname = r) then
				execute format('create role %I nologin', r);
			end if;
			execute format('grant usage on schema public to %I', r);
			execute format('alter default privileges in schema public grant all on tables to %I', r);
			execute format('alter default privileges in schema public grant all on sequences to %I', r);
		end loop;
	end $$`)
	if err != nil {
		return fmt.Errorf("devenv: create the API roles: %w", err)
	}
	return nil
}

// Close stops the server, then PostgreSQL. It is idempotent.
func (e *Env) Close() error {
	e.closeOnce.Do(func() {
		e.Server.Close()
		e.closeErr = e.Cluster.Stop()
	})
	return e.closeErr
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
