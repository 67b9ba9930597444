package devenv_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/test/realtimetest/devenv"
)

// readUntil reads V2 frames until one has the event and its payload
// contains want; it returns that payload.
func readUntil(t *testing.T, ws *websocket.Conn, event, want string) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s %q: %v", event, want, err)
		}
		var f []json.RawMessage
		if json.Unmarshal(msg, &f) != nil || len(f) != 5 {
			continue
		}
		var ev string
		_ = json.Unmarshal(f[3], &ev)
		if ev == event && strings.Contains(string(f[4]), want) {
			return string(f[4])
		}
	}
}

func TestDevEnvServesRLSChangesAndKeepsItsData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} { // reachable by the postgres user when root
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := devenv.Options{DataDir: filepath.Join(base, "pg")}
	env, err := devenv.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if env.URL == "" || env.DSN == "" || strings.Count(env.AnonKey, ".") != 2 || strings.Count(env.UserJWT, ".") != 2 || env.UserID == "" {
		t.Fatalf("incomplete env: %+v", env)
	}

	db, err := pgx.Connect(ctx, env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`create table todos (id bigint primary key, owner text not null, title text)`,
		`alter table todos enable row level security`,
		`create policy own on todos for select to authenticated using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub')`,
	} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatal(sql, err)
		}
	}

	ws, _, err := websocket.DefaultDialer.DialContext(ctx, env.WebSocketURL+"?vsn=2.0.0&apikey="+env.AnonKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	join := `["1","1","realtime:todos","phx_join",{"config":{"postgres_changes":[{"event":"INSERT","schema":"public","table":"todos"}]},"access_token":"` + env.UserJWT + `"}]`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(join)); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "system", "Subscribed to PostgreSQL")
	if _, err := db.Exec(ctx, `insert into todos values (1, 'someone else', 'not mine')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `insert into todos values (2, $1, 'mine')`, env.UserID); err != nil {
		t.Fatal(err)
	}
	got := readUntil(t, ws, "postgres_changes", `"table":"todos"`)
	if !strings.Contains(got, `"record":{"id":2,`) {
		t.Fatalf("first change %s, want the user's own row (id 2) only", got)
	}
	_ = db.Close(ctx)
	_ = ws.Close()
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if err := env.Close(); err != nil { // idempotent
		t.Fatal(err)
	}

	env2, err := devenv.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer env2.Close()
	db, err = pgx.Connect(ctx, env2.DSN)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(ctx, `select count(*) from todos`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("kept data: %d rows, err %v", n, err)
	}
	_ = db.Close(ctx)
	if err := env2.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(leakcheck.Goroutines()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := leakcheck.Goroutines(); len(g) > 0 {
		t.Fatalf("goroutines left after Close:\n%s", strings.Join(g, "\n\n"))
	}
}

func TestInvalidOptions(t *testing.T) {
	for _, o := range []devenv.Options{{TokenLifetime: -time.Second}, {JWTSecret: "short"}} {
		if _, err := devenv.Start(context.Background(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
