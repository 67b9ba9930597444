package actors_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/logbuf"
)

func TestSharedIsOneSystem(t *testing.T) {
	a, b := actors.Shared(), actors.Shared()
	if a == nil || a != b {
		t.Fatalf("Shared returned %p then %p, want one system", a, b)
	}
}

type boom struct{ Token string }

// protoactor-go's records about an actor of the shared system (here the
// failure of a child that panics) reach the logger routed for that actor's
// tree, sanitized, and no other; after unroute, none.
func TestSharedSystemRoutesRecordsToTheTreesLogger(t *testing.T) {
	system := actors.Shared()
	var bufA, bufB logbuf.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	unrouteA := actors.RouteLogs("route-test-a", slog.New(slog.NewTextHandler(&bufA, opts)))
	unrouteB := actors.RouteLogs("route-test-b", slog.New(slog.NewTextHandler(&bufB, opts)))
	defer unrouteB()

	started := make(chan struct{}, 4)
	props := actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Started:
			started <- struct{}{}
		case *boom:
			panic("boom " + m.Token)
		}
	})
	pidA, err := system.Root.SpawnNamed(props, "route-test-a")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = system.Root.StopFuture(pidA).Wait() }()
	pidB, err := system.Root.SpawnNamed(actor.PropsFromFunc(func(actor.Context) {}), "route-test-b")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = system.Root.StopFuture(pidB).Wait() }()
	<-started

	// The failure is logged ("[ACTOR] Recovering") before the restart
	// starts the actor again.
	system.Root.Send(pidA, &boom{Token: "one"})
	<-started
	out := bufA.String()
	if !strings.Contains(out, "Recovering") || !strings.Contains(out, "route-test-a") {
		t.Fatalf("no failure record about route-test-a in its logger:\n%s", out)
	}
	if b := bufB.String(); strings.Contains(b, "route-test-a") {
		t.Fatalf("a record about route-test-a reached route-test-b's logger:\n%s", b)
	}

	unrouteA()
	n := len(bufA.String())
	system.Root.Send(pidA, &boom{Token: "two"})
	<-started
	if len(bufA.String()) != n {
		t.Fatalf("a record reached the logger after unroute:\n%s", bufA.String()[n:])
	}
}

func TestGoroutinesWaitsForEveryScheduledFunction(t *testing.T) {
	var g actors.Goroutines
	release := make(chan struct{})
	for range 3 {
		g.Schedule(func() { <-release })
	}
	if n := g.Running(); n != 3 {
		t.Fatalf("Running() = %d, want 3", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.Wait(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Wait with running goroutines = %v, want the ctx error", err)
	}
	close(release)
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := g.Running(); n != 0 {
		t.Fatalf("Running() after Wait = %d, want 0", n)
	}
}
