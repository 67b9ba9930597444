package main

import (
	"context"
	"strings"
	"testing"
)

func TestDemoPrintsBroadcastsAndSummary(t *testing.T) {
	r := runCLI(t, "demo", "--messages", "3")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"channel lobby SUBSCRIBED",
		"system postgres_changes: Subscribed to PostgreSQL",
		"presence join  alice", "presence join  bob",
		"broadcast chat  from alice #3", "broadcast chat  from bob #3",
		"postgres INSERT public.todos id=9223372036854775807", "amount=123456789012345678901234567890.123456789",
		"postgres UPDATE public.todos id=1", "postgres DELETE public.todos id=1",
		"presence leave alice", "presence leave bob",
		"broadcast       6", "postgres        4", "latency (send → Handler): p50",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDemoWithoutPostgres(t *testing.T) {
	r := runCLI(t, "demo", "--no-postgres", "--messages", "1")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "postgres") || !strings.Contains(r.stdout, "broadcast       2") {
		t.Fatalf("output:\n%s", r.stdout)
	}
}

func TestDemoFollowStopsOnInterrupt(t *testing.T) {
	d := start("demo", "--no-postgres", "--messages", "1", "--follow")
	waitFor(t, "the scenario to end", func() bool { return strings.Contains(d.out.String(), "following; press Ctrl-C to stop") })
	if code := d.stop(t); code != 0 || !strings.Contains(d.err.String(), "stopped after") {
		t.Fatalf("exit %d, stderr:\n%s", code, d.err.String())
	}
}

func TestDemoInterruptedEarlyExitsZero(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C before anything ran
	var out, errOut strings.Builder
	if code := run(ctx, []string{"demo", "--no-postgres"}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "demo interrupted after") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
}
