package actors

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// DiscardLogger returns a logger that drops every record. It is the default
// for the client and for protoactor-go, whose own default prints coloured
// INFO lines to stderr.
func DiscardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// LoggerFactory wires a *slog.Logger into protoactor-go's logger factory.
// A nil logger means silence. Actor messages that protoactor-go logs (dead
// letters, the message behind a failure) appear as their type name only:
// they may carry tokens and payloads.
func LoggerFactory(l *slog.Logger) func(*actor.ActorSystem) *slog.Logger {
	if l == nil {
		l = DiscardLogger()
	}
	sl := slog.New(sanitizingHandler{l.Handler()})
	return func(system *actor.ActorSystem) *slog.Logger {
		return sl.With(slog.String("lib", "protoactor"), slog.String("system", system.ID))
	}
}

// NewSystem creates an ActorSystem that logs through l (nil: silent).
// Dead-letter logging is throttled to one line per second.
func NewSystem(l *slog.Logger) *actor.ActorSystem {
	return actor.NewActorSystem(
		actor.WithLoggerFactory(LoggerFactory(l)),
		actor.WithDeadLetterThrottleInterval(time.Second),
		actor.WithDeadLetterThrottleCount(1),
	)
}
