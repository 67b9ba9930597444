package actors

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// The process's shared ActorSystem (see Shared). protoactor-go's process
// registry alone allocates about 2.4 MB per system, so clients share one
// instead of building one each.
var (
	sharedOnce   sync.Once
	sharedSystem *actor.ActorSystem
	sharedLogs   = &logRoutes{}
)

// Shared returns the process's shared ActorSystem, creating it on first
// use. It is never shut down: it lives as long as the process, and while
// no actor runs in it, it holds no goroutine (protoactor-go starts only a
// short-lived dead-letter throttle timer, at most one per system, and
// only when something is sent to a stopped actor). Every top-level actor
// spawned in it must have a unique name.
//
// protoactor-go logs through the system; the shared system hands each
// record that names an actor (an actor's failure and recovery, for
// instance) to the logger registered with RouteLogs for that actor's
// top-level name, sanitized as LoggerFactory does, and drops the others
// (such as "actor system started"). Dead letters are throttled as in
// NewSystem, for the whole process: protoactor-go then logs only their
// count, which names no actor and is dropped.
func Shared() *actor.ActorSystem {
	sharedOnce.Do(func() {
		sharedSystem = actor.NewActorSystem(
			actor.WithLoggerFactory(func(system *actor.ActorSystem) *slog.Logger {
				return slog.New(&routingHandler{routes: sharedLogs}).
					With(slog.String("lib", "protoactor"), slog.String("system", system.ID))
			}),
			actor.WithDeadLetterThrottleInterval(time.Second),
			actor.WithDeadLetterThrottleCount(1),
		)
	})
	return sharedSystem
}

// RouteLogs sends the shared system's records about the actor tree whose
// top-level actor is named name (and its descendants) to l, until the
// returned function is called. A nil l routes nothing.
func RouteLogs(name string, l *slog.Logger) (unroute func()) {
	if l == nil || l.Handler() == slog.DiscardHandler {
		return func() {}
	}
	h := sanitizingHandler{l.Handler()}
	sharedLogs.m.Store(name, h)
	sharedLogs.n.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			sharedLogs.m.CompareAndDelete(name, h)
			sharedLogs.n.Add(-1)
		})
	}
}

// logRoutes maps a top-level actor name to the handler of its client.
type logRoutes struct {
	m sync.Map // string → slog.Handler
	n atomic.Int64
}

// routingHandler is the shared system's slog.Handler. ops replays the
// WithAttrs and WithGroup calls made on it onto the handler a record is
// routed to.
type routingHandler struct {
	routes *logRoutes
	ops    []func(slog.Handler) slog.Handler
}

func (h *routingHandler) Enabled(context.Context, slog.Level) bool {
	return h.routes.n.Load() > 0
}

func (h *routingHandler) Handle(ctx context.Context, r slog.Record) error {
	var target slog.Handler
	r.Attrs(func(a slog.Attr) bool {
		pid, ok := a.Value.Any().(*actor.PID)
		if !ok || pid == nil {
			return true
		}
		top, _, _ := strings.Cut(pid.Id, "/")
		if v, ok := h.routes.m.Load(top); ok {
			target = v.(slog.Handler)
			return false
		}
		return true
	})
	if target == nil {
		return nil
	}
	for _, op := range h.ops {
		target = op(target)
	}
	if !target.Enabled(ctx, r.Level) {
		return nil
	}
	return target.Handle(ctx, r)
}

func (h *routingHandler) with(op func(slog.Handler) slog.Handler) slog.Handler {
	ops := append(h.ops[:len(h.ops):len(h.ops)], op)
	return &routingHandler{routes: h.routes, ops: ops}
}

func (h *routingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.with(func(t slog.Handler) slog.Handler { return t.WithAttrs(attrs) })
}

func (h *routingHandler) WithGroup(name string) slog.Handler {
	return h.with(func(t slog.Handler) slog.Handler { return t.WithGroup(name) })
}
