package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supabase-go/realtime/internal/logbuf"
	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// A one-shot command gives up after --max-attempts, with the cause of
// every failure printed as it happens.
func TestBroadcastGivesUpWhenTheServerIsDown(t *testing.T) {
	url := "http://" + freeAddr(t)
	r := runCLI(t, "broadcast", "--url", url, "--key", "k", "--channel", "x", "--event", "e", "--max-attempts", "2")
	if r.code != exitFailure {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^connecting to ` + regexp.QuoteMeta(url) + `$`),
		regexp.MustCompile(`^connection attempt 1 failed: dial tcp .*connection refused; next attempt \(2 of 2\) in [0-9.]+m?s$`),
		regexp.MustCompile(`^realtime: giving up after 2 failed connection attempts \(--max-attempts 2; 0 retries forever\): dial tcp .*connection refused$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(want), r.stderr)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d %q does not match %s", i+1, lines[i], re)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout: %q", r.stdout)
	}
}

// The default rule for broadcast is three attempts.
func TestBroadcastDefaultGiveUpRule(t *testing.T) {
	r := runCLI(t, "broadcast", "--url", "http://"+freeAddr(t), "--key", "k", "--channel", "x", "--event", "e")
	if r.code != exitFailure || !strings.Contains(r.stderr, "giving up after 3 failed connection attempts (--max-attempts 3;") ||
		!strings.Contains(r.stderr, "next attempt (3 of 3) in") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// listen retries forever by default: started before the server, it
// connects once the server is up.
func TestListenRetriesUntilTheServerComesUp(t *testing.T) {
	addr := freeAddr(t)
	l := start("listen", "--url", "http://"+addr, "--key", "k", "--channel", "room", "--broadcast", "*")
	l.waitErr(t, "connection attempt 2 failed")
	if !strings.Contains(l.err.String(), "connection attempt 1 failed: dial tcp "+addr+": connect: connection refused; next attempt in ") {
		t.Fatalf("stderr:\n%s", l.err.String())
	}
	srv, err := realtimetest.Listen(realtimetest.Options{Addr: addr})
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	defer srv.Close()
	l.waitErr(t, "channel room SUBSCRIBED")
	if !regexp.MustCompile(`\nconnected after \d+ failed attempts\n`).MatchString(l.err.String()) {
		t.Fatalf("stderr:\n%s", l.err.String())
	}
	if code := l.stop(t); code != 0 || !strings.Contains(l.err.String(), "stopped after") {
		t.Fatalf("exit %d, stderr:\n%s", code, l.err.String())
	}
}

// --max-attempts makes listen give up too.
func TestListenMaxAttempts(t *testing.T) {
	r := runCLI(t, "listen", "--url", "http://"+freeAddr(t), "--key", "k", "--channel", "room", "--presence", "--max-attempts", "1")
	if r.code != exitFailure || !strings.Contains(r.stderr, "giving up after 1 failed connection attempt (--max-attempts 1;") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// Ctrl-C while connecting exits 0 with a summary that names the cause.
func TestInterruptWhileConnecting(t *testing.T) {
	url := "http://" + freeAddr(t)
	for _, cmd := range [][]string{
		{"broadcast", "--event", "e", "--max-attempts", "0"},
		{"listen", "--broadcast", "*"},
		{"track"},
	} {
		b := start(append(cmd, "--url", url, "--key", "k", "--channel", "x")...)
		b.waitErr(t, "connection attempt 1 failed")
		if code := b.stop(t); code != 0 {
			t.Fatalf("%s: exit %d, stderr:\n%s", cmd[0], code, b.err.String())
		}
		lines := strings.Split(strings.TrimSpace(b.err.String()), "\n")
		last := lines[len(lines)-1]
		if !regexp.MustCompile(`^(interrupted|stopped) after [0-9.]+m?s: .*never connected \(last error: dial tcp .*connection refused\)$`).MatchString(last) {
			t.Errorf("%s: summary %q", cmd[0], last)
		}
		if cmd[0] == "broadcast" && !strings.Contains(last, "nothing was sent") {
			t.Errorf("broadcast summary %q", last)
		}
		checkOnePrefix(t, b.err.String())
	}
}

// A binding the server refuses fails the command with the server's
// error; a good one prints the changes.
func TestListenPostgresChanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	defer cluster.Stop()
	db, err := pgx.Connect(ctx, cluster.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	if _, err := db.Exec(ctx, `create table todos (id bigint primary key, title text)`); err != nil {
		t.Fatal(err)
	}
	srv := realtimetest.NewServer(realtimetest.Options{PostgresDSN: cluster.DSN()})
	defer srv.Close()
	if err := srv.WaitPostgres(ctx); err != nil {
		t.Fatal(err)
	}
	conn := []string{"--url", srv.URL(), "--key", "k", "--channel", "db"}

	r := runCLI(t, append([]string{"listen", "--postgres", "INSERT:public.todos:nosuchcol=eq.1"}, conn...)...)
	if r.code != exitFailure || !regexp.MustCompile(`\nrealtime: channel db: the server refused the postgres changes binding: .*nosuchcol`).MatchString(r.stderr) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	checkOnePrefix(t, r.stderr)

	l := start(append([]string{"listen", "--postgres", "*:public.todos"}, conn...)...)
	l.waitErr(t, "channel db postgres_changes: Subscribed to PostgreSQL")
	for _, stmt := range []string{`insert into todos values (1, 'a')`, `delete from todos where id = 1`} {
		if _, err := db.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the delete", func() bool { return strings.Contains(l.out.String(), `db postgres DELETE public.todos old={"id":1`) })
	if !strings.Contains(l.out.String(), `db postgres INSERT public.todos {"id":1,"title":"a"}`) {
		t.Fatalf("stdout:\n%s", l.out.String())
	}
	if code := l.stop(t); code != 0 || !strings.Contains(l.err.String(), "2 events on db") {
		t.Fatalf("exit %d, stderr:\n%s", code, l.err.String())
	}
}

// The built binary: SIGINT (Ctrl-C) ends listen with exit 0 and a
// summary, and --version answers.
func TestBinaryInterruptAndVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "realtime")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || string(out) != "realtime "+fallbackVersion+"\n" {
		t.Fatalf("--version: %v %q", err, out)
	}

	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()
	cmd := exec.Command(bin, "listen", "--url", srv.URL(), "--key", "k", "--channel", "room", "--presence")
	var stderr logbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the join", func() bool { return strings.Contains(stderr.String(), "channel room SUBSCRIBED") })
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	if !regexp.MustCompile(`\nstopped after [0-9.]+m?s: \d+ events? on room\n$`).MatchString(stderr.String()) {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
}

// A join the server refuses fails the command with the server's reason.
func TestRefusedJoinFails(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{MaxChannelsPerClient: 1})
	defer srv.Close()
	r := runCLI(t, "listen", "--url", srv.URL(), "--key", "k", "--channel", "a", "--channel", "b", "--presence")
	if r.code != exitFailure || !strings.Contains(r.stderr, "channel a SUBSCRIBED") ||
		!regexp.MustCompile(`\nrealtime: channel b: the server refused the join: ChannelRateLimitReached: Too many channels\n`).MatchString(r.stderr) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	checkOnePrefix(t, r.stderr)
}

// A connection lost while listening is reported with its cause and the
// next attempt; the channel joins again once the server is back.
func TestListenReportsALostConnection(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{})
	addr := strings.TrimPrefix(srv.URL(), "http://")
	l := start("listen", "--url", srv.URL(), "--key", "k", "--channel", "room", "--presence")
	l.waitErr(t, "channel room SUBSCRIBED")
	srv.Close()
	l.waitErr(t, "connection lost: ")
	if !regexp.MustCompile(`\nconnection lost: .+; next attempt in [0-9.]+m?s\n`).MatchString(l.err.String()) {
		t.Fatalf("stderr:\n%s", l.err.String())
	}
	srv2, err := realtimetest.Listen(realtimetest.Options{Addr: addr})
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	defer srv2.Close()
	l.waitErr(t, "channel room SUBSCRIBED again; events since")
	if code := l.stop(t); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, l.err.String())
	}
}

// A channel the server closes is never rejoined: listen exits 1.
func TestListenFailsWhenTheServerClosesTheChannel(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()
	l := start("listen", "--url", srv.URL(), "--key", "k", "--channel", "room", "--presence")
	l.waitErr(t, "channel room SUBSCRIBED")
	if n := srv.CloseChannel("room"); n != 1 {
		t.Fatalf("closed %d channels", n)
	}
	select {
	case code := <-l.done:
		if code != exitFailure || !strings.Contains(l.err.String(), "realtime: channel room was closed by the server; nothing more arrives on it") {
			t.Fatalf("exit %d, stderr:\n%s", code, l.err.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("listen kept running; stderr:\n%s", l.err.String())
	}
	l.cancel()
}
