package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// realtime dev prints a URL, keys and a DSN that work: listen (with the
// printed anon key and user JWT) receives a row inserted through the DSN
// into a table whose policy lets that user see it; Ctrl-C stops both.
func TestDevServesWhatItPrints(t *testing.T) {
	d := start("dev", "--test-limits")
	waitFor(t, "dev to start", func() bool { return strings.Contains(d.out.String(), "Press Ctrl-C to stop.") })
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^  ` + name + ` +(\S+)$`).FindStringSubmatch(d.out.String())
		if m == nil {
			t.Fatalf("no %q line in:\n%s", name, d.out.String())
		}
		return m[1]
	}
	url, anon, user, uid, dsn := field("URL"), field("anon key"), field("user JWT"), field("user id"), field("DSN")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	for _, stmt := range []string{
		`create table notes (id bigint primary key, owner text, body text)`,
		`alter table notes enable row level security`,
		`create policy own on notes for select to authenticated using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub')`,
	} {
		if _, err := db.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}

	l := start("listen", "--url", url, "--key", anon, "--token", user, "--channel", "db", "--postgres", "INSERT:public.notes")
	l.waitErr(t, "channel db postgres_changes: Subscribed to PostgreSQL")
	if _, err := db.Exec(ctx, `insert into notes values (1, 'someone-else', 'hidden'), (2, $1, 'mine')`, uid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the user's own row", func() bool { return strings.Contains(l.out.String(), `"body":"mine"`) })
	if code := l.stop(t); code != 0 {
		t.Fatalf("listen exit %d, stderr:\n%s", code, l.err.String())
	}
	if strings.Contains(l.out.String(), "hidden") {
		t.Fatalf("a row the policy hides reached the user:\n%s", l.out.String())
	}
	if code := d.stop(t); code != 0 || !strings.Contains(d.err.String(), "dev stopped after") {
		t.Fatalf("dev exit %d, stderr:\n%s", code, d.err.String())
	}
}

func TestDevUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"dev", "extra"}, {"dev", "--addr", "not an address"}} {
		r := runCLI(t, args...)
		if r.code != exitUsage {
			t.Errorf("%q: exit %d, stderr: %s", args, r.code, r.stderr)
		}
	}
}
