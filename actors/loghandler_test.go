package actors_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/logbuf"
)

type secretMessage struct{ Token string }

// A message sent to a dead actor is logged by protoactor-go as a dead
// letter; its content (here a token) must not reach the user's log. (The
// system NewSystem builds allows one dead letter per second, which
// protoactor-go's throttle turns into a count only; this system allows
// ten, so the message itself would be logged.)
func TestDeadLetterLogsOnlyTheMessageType(t *testing.T) {
	for _, name := range []string{"text", "json"} {
		t.Run(name, func(t *testing.T) {
			var buf logbuf.Buffer
			opts := &slog.HandlerOptions{Level: slog.LevelDebug}
			var h slog.Handler = slog.NewTextHandler(&buf, opts)
			if name == "json" {
				h = slog.NewJSONHandler(&buf, opts)
			}
			system := actor.NewActorSystem(actor.WithLoggerFactory(actors.LoggerFactory(slog.New(h))),
				actor.WithDeadLetterThrottleCount(10))
			pid, err := system.Root.SpawnNamed(actor.PropsFromFunc(func(actor.Context) {}), "victim")
			if err != nil {
				t.Fatal(err)
			}
			if err := system.Root.StopFuture(pid).Wait(); err != nil {
				t.Fatal(err)
			}
			const secret = "eyJhbGciOi.super-secret-token.sig"
			system.Root.Send(pid, &secretMessage{Token: secret})
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(buf.String(), "DeadLetter") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			out := buf.String()
			if !strings.Contains(out, "DeadLetter") {
				t.Fatalf("no dead-letter record logged:\n%s", out)
			}
			if strings.Contains(out, "super-secret-token") {
				t.Fatalf("the message content was logged:\n%s", out)
			}
			if !strings.Contains(out, "*actors_test.secretMessage") {
				t.Fatalf("the message type was not logged:\n%s", out)
			}
		})
	}
}
