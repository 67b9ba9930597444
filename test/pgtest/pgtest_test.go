package pgtest_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supabase-go/realtime/test/pgtest"
)

func TestStartStop(t *testing.T) {
	baseline := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.DSN())
	if err != nil {
		_ = c.Stop()
		t.Fatal(err)
	}
	var walLevel string
	if err := conn.QueryRow(ctx, "show wal_level").Scan(&walLevel); err != nil {
		t.Fatal(err)
	}
	if walLevel != "logical" {
		t.Errorf("wal_level = %q, want logical", walLevel)
	}
	var enc string
	if err := conn.QueryRow(ctx, "show server_encoding").Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if enc != "UTF8" {
		t.Errorf("server_encoding = %q, want UTF8", enc)
	}
	_ = conn.Close(ctx)
	if !strings.HasPrefix(c.SocketDir(), c.Dir()) {
		t.Errorf("socket dir %s is not inside %s", c.SocketDir(), c.Dir())
	}

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil { // idempotent
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (err=%v)", c.Dir(), err)
	}
	if _, err := pgx.Connect(ctx, c.DSN()+"&connect_timeout=1"); err == nil {
		t.Error("server still accepts connections after Stop")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Stop, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	defer pgtest.SetLibGlob(t.TempDir() + "/*/bin")()
	c, err := pgtest.Start(context.Background(), pgtest.Options{BinDir: t.TempDir()})
	if err == nil {
		_ = c.Stop()
		t.Fatal("Start succeeded without binaries")
	}
	if err.Error() != "pgtest: initdb not found on PATH or in /usr/lib/postgresql/*/bin; install postgresql-15" {
		t.Fatalf("unexpected error: %v", err)
	}
}

// The default cluster has the supabase_realtime publication FOR ALL
// TABLES; NoPublication leaves it out; DataDir keeps the data across runs.
func TestPublicationAndKeptDataDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := t.TempDir()
	// As root the server runs as the postgres user, which must reach it.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dataDir := filepath.Join(base, "data")
	c, err := pgtest.Start(ctx, pgtest.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.DSN())
	if err != nil {
		_ = c.Stop()
		t.Fatal(err)
	}
	var allTables bool
	if err := conn.QueryRow(ctx, `select puballtables from pg_publication where pubname = 'supabase_realtime'`).Scan(&allTables); err != nil || !allTables {
		t.Errorf("publication: all tables %v, err %v", allTables, err)
	}
	if _, err := conn.Exec(ctx, `create table kept (id int primary key)`); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dataDir + "/PG_VERSION"); err != nil {
		t.Fatalf("the data directory was not kept: %v", err)
	}

	c, err = pgtest.Start(ctx, pgtest.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	conn, err = pgx.Connect(ctx, c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `select count(*) from kept`).Scan(&n); err != nil {
		t.Fatalf("the table of the first run is gone: %v", err)
	}
	if _, err := conn.Exec(ctx, `create database bare`); err != nil {
		t.Fatal(err)
	}
	if err := c.CreatePublication(ctx, "bare", "public.nothing"); err == nil {
		t.Error("a publication of a missing table should fail")
	}
	bare, err := pgx.Connect(ctx, c.DSNFor("bare"))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close(ctx)
	if _, err := bare.Exec(ctx, `create table t (id int primary key)`); err != nil {
		t.Fatal(err)
	}
	if err := c.CreatePublication(ctx, "bare", "public.t"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreatePublication(ctx, "bare"); err != nil { // exists: left as it is
		t.Fatal(err)
	}
	var tables []string
	if err := bare.QueryRow(ctx, `select array_agg(tablename::text) from pg_publication_tables where pubname = 'supabase_realtime'`).Scan(&tables); err != nil || len(tables) != 1 || tables[0] != "t" {
		t.Errorf("published tables %v, err %v", tables, err)
	}
}

func TestNoPublication(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgtest.Start(ctx, pgtest.Options{NoPublication: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	conn, err := pgx.Connect(ctx, c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `select count(*) from pg_publication`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d publications, err %v", n, err)
	}
}
