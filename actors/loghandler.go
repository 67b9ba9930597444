package actors

import (
	"context"
	"fmt"
	"log/slog"
)

// sanitizedAttrs are the attribute keys under which protoactor-go logs
// whole actor messages: dead letters ("[DeadLetter]"), the message of a
// failure ("[Supervision]") and unknown system messages. Those messages
// can carry access tokens and payloads (SetAuth, an access_token push, a
// track), so only their type is logged.
var sanitizedAttrs = map[string]bool{"message": true}

// sanitizingHandler replaces the value of every "message" attribute with
// the value's type name. It wraps the handler protoactor-go logs through.
type sanitizingHandler struct{ h slog.Handler }

func (s sanitizingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return s.h.Enabled(ctx, l)
}

func (s sanitizingHandler) Handle(ctx context.Context, r slog.Record) error {
	clean := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		clean.AddAttrs(sanitize(a))
		return true
	})
	return s.h.Handle(ctx, clean)
}

func (s sanitizingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = sanitize(a)
	}
	return sanitizingHandler{s.h.WithAttrs(out)}
}

func (s sanitizingHandler) WithGroup(name string) slog.Handler {
	return sanitizingHandler{s.h.WithGroup(name)}
}

func sanitize(a slog.Attr) slog.Attr {
	if sanitizedAttrs[a.Key] {
		return slog.String(a.Key, fmt.Sprintf("%T", a.Value.Any()))
	}
	return a
}
