package supervisor

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/connection"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/registry"
	"github.com/supabase-go/realtime/store"
)

// Child names; the children's PIDs are "<supervisor id>/<name>".
const (
	StoreName      = "store"
	RegistryName   = "registry"
	ConnectionName = "connection"
)

// Props returns the props of the supervisor actor of rt. Spawn it once,
// either at the top of a system (under a name unique in it) or as a child
// of an actor of yours. Every actor of the tree runs its mailbox on
// goroutines the runtime counts (see Runtime.Wait).
func Props(rt *Runtime) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &supActor{rt: rt} }, rt.dispatcher())
}

// restartConnection is sent by a backoff timer; gen ties it to one failure.
type restartConnection struct{ gen uint64 }

type supActor struct {
	rt       *Runtime
	self     *actor.PID
	root     *actor.RootContext
	store    *actor.PID
	registry *actor.PID
	conn     *actor.PID
	attempts int
	gen      uint64
	timer    actors.Timer
	given    bool // gave up after MaxAttempts
	// sup is this actor's context as a Supervisor, captured in
	// HandleFailure; it is only used on this actor's goroutine.
	sup actor.Supervisor
}

func (s *supActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		s.start(ctx)
	case *actor.Restarting, *actor.Stopping:
		s.stopTimer()
	case *actor.Stopped:
		s.rt.state.Store(messages.ConnClosed)
		s.rt.markStopped()
	case *connection.Connecting:
		s.rt.openEpoch.Store(0)
		s.changed(ctx, &messages.ConnectionChanged{Epoch: m.Epoch, New: messages.ConnConnecting, Attempt: s.attempts})
	case *connection.Opened:
		s.attempts = 0
		s.rt.openEpoch.Store(m.Epoch)
		s.changed(ctx, &messages.ConnectionChanged{Epoch: m.Epoch, New: messages.ConnOpen, Token: m.Token})
	case *connection.Closing:
		s.changed(ctx, &messages.ConnectionChanged{Epoch: m.Epoch, New: messages.ConnClosing})
	case *restartConnection:
		if m.gen == s.gen && !s.given && s.sup != nil {
			s.sup.RestartChildren(s.conn)
		}
	}
}

func (s *supActor) start(ctx actor.Context) {
	s.self = ctx.Self()
	s.root = ctx.ActorSystem().Root
	id := s.self.Id
	s.store = actor.NewPID(s.self.Address, id+"/"+StoreName)
	s.registry = actor.NewPID(s.self.Address, id+"/"+RegistryName)
	s.conn = actor.NewPID(s.self.Address, id+"/"+ConnectionName)

	rc := s.rt.cfg.Registry
	rc.Refs = &s.rt.Refs
	rc.Table = s.rt.Table
	rc.Store = s.store
	rc.Connection = s.conn
	rc.Lifetime = s.rt.lifetime
	rc.Stats = &s.rt.RegStats
	rc.OpenEpoch = s.rt.openEpoch.Load
	rc.Token = &s.rt.Token
	rc.Presence = &s.rt.Presence
	rc.Dispatch = s.rt.Dispatch
	rc.Gens = &s.rt.Gens

	cc := s.rt.cfg.Connection
	cc.Refs = &s.rt.Refs
	cc.Epochs = &s.rt.Epochs
	cc.Registry = s.registry
	cc.Lifetime = s.rt.lifetime
	cc.Stats = &s.rt.ConnStats
	if cc.Codec != nil {
		// Decode known topics without allocating a string per frame.
		if codec, err := wire.NewCodec(cc.Codec.Vsn(), s.rt.Table.Intern); err == nil {
			cc.Codec = codec
		}
	}

	must := func(pid *actor.PID, err error) {
		if err != nil {
			panic(fmt.Errorf("realtime: spawn child: %w", err))
		}
	}
	must(ctx.SpawnNamed(store.Props(s.rt.Table).Configure(s.rt.dispatcher()), StoreName))
	must(ctx.SpawnNamed(registry.Props(rc).Configure(s.rt.dispatcher()), RegistryName))
	must(ctx.SpawnNamed(connection.Props(cc).Configure(s.rt.dispatcher()), ConnectionName))
	s.rt.bind(ctx.ActorSystem(), s.self)
}

// changed records a connection state change and tells the registry.
func (s *supActor) changed(ctx actor.Context, m *messages.ConnectionChanged) {
	m.Old = s.rt.ConnectionState()
	s.rt.state.Store(m.New)
	ctx.Send(s.registry, m)
}

func (s *supActor) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.gen++
}

// HandleFailure implements actor.SupervisorStrategy. protoactor-go calls it
// on this actor's goroutine when a child panics.
func (s *supActor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, _ any) {
	err, ok := reason.(error)
	if !ok {
		err = fmt.Errorf("realtime: panic: %v", reason)
	}
	if child.Id != s.conn.Id {
		s.rt.cfg.Logger.Warn("realtime: actor failed; restarting", slog.String("actor", child.Id), slog.Any("err", err))
		sup.RestartChildren(child)
		return
	}
	s.sup = sup
	s.attempts++
	s.stopTimer()
	old := s.rt.ConnectionState()
	s.rt.state.Store(messages.ConnClosed)
	s.rt.openEpoch.Store(0)
	ev := &messages.ConnectionChanged{Epoch: s.rt.Epochs.Current(), Old: old, New: messages.ConnClosed, Err: err, Attempt: s.attempts}
	if max := s.rt.cfg.MaxAttempts; max > 0 && s.attempts >= max {
		s.given = true
		ev.Err = errors.Join(messages.ErrReconnectLimit, err)
		s.root.Send(s.registry, ev)
		sup.StopChildren(child)
		return
	}
	delay := s.rt.cfg.ReconnectAfter(s.attempts)
	if delay < 0 {
		delay = 0
	}
	ev.RetryIn = delay
	s.rt.cfg.Logger.Debug("realtime: connection failed; reconnecting", slog.Int("attempt", s.attempts), slog.Duration("in", delay), slog.Any("err", err))
	s.root.Send(s.registry, ev)
	if delay == 0 {
		sup.RestartChildren(child)
		return
	}
	gen, root, self := s.gen, s.root, s.self
	s.timer = s.rt.cfg.Clock.AfterFunc(delay, func() { root.Send(self, &restartConnection{gen: gen}) })
}
