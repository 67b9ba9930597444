package pgtest_test

import (
	"context"
	"os"
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
