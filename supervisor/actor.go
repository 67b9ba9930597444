package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	return actor.PropsFromProducer(func() actor.Actor { return &supActor{rt: rt} }, rt.dispatcher(), quietMailbox)
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
	// stopping is set once the tree stops: state changes are no longer
	// sent to the registry.
	stopping bool
	attempts int
	gen      uint64
	timer    actors.Timer
	given    bool // gave up after MaxAttempts
	// open describes the connection opened last, until it fails.
	open openProof
	// failedEpoch is the epoch of the last connection failure handled.
	failedEpoch uint64
	// sup is this actor's context as a Supervisor, captured in
	// HandleFailure; it is only used on this actor's goroutine.
	sup actor.Supervisor
}

func (s *supActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		s.start(ctx)
	case *actor.Restarting:
		s.stopTimer()
	case *actor.Stopping:
		s.stopTimer()
		s.stopping = true
	case *actor.Stopped:
		s.rt.state.Store(messages.ConnClosed)
		s.rt.markStopped()
	case *connection.Connecting:
		if s.failed(m.Epoch) {
			return
		}
		s.rt.openEpoch.Store(0)
		s.changed(ctx, &messages.ConnectionChanged{Epoch: m.Epoch, New: messages.ConnConnecting, Attempt: s.attempts})
	case *connection.Opened:
		if s.failed(m.Epoch) {
			return
		}
		// The attempt count is not reset yet: a server that accepts and
		// then closes must still meet a growing backoff (healthy).
		s.open = openProof{
			epoch:       m.Epoch,
			at:          s.rt.clock.Now(),
			heartbeats:  s.rt.st.ConnStats.HeartbeatsOK.Load(),
			joinReplies: s.rt.st.RegStats.JoinReplies.Load(),
		}
		s.rt.openEpoch.Store(m.Epoch)
		s.changed(ctx, &messages.ConnectionChanged{Epoch: m.Epoch, New: messages.ConnOpen, Token: m.Token})
	case *connection.Closing:
		if s.failed(m.Epoch) {
			return
		}
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

	if s.rt.props.registry == nil {
		s.rt.props = s.childProps()
	}
	must := func(pid *actor.PID, err error) {
		if err != nil {
			panic(fmt.Errorf("realtime: spawn child: %w", err))
		}
	}
	must(ctx.SpawnNamed(s.rt.props.store, StoreName))
	must(ctx.SpawnNamed(s.rt.props.registry, RegistryName))
	must(ctx.SpawnNamed(s.rt.props.connection, ConnectionName))
	s.rt.bind(ctx.ActorSystem(), s.self)
}

// childProps builds the children's props from the runtime's
// configuration, once: a restarted supervisor spawns its children from the
// same props (their PIDs are the same, "<supervisor id>/<name>"), and the
// configuration is then dropped, so each child's lives once, in its props.
func (s *supActor) childProps() childProps {
	cfg := s.rt.children
	s.rt.children = nil
	// Data frames of joined channels go from the reader to the
	// Dispatcher by the routes the registry publishes (registry.Routes).
	routes := registry.NewRoutes(s.rt.st.Dispatch)
	rc := cfg.Registry
	rc.Routes = routes
	rc.Refs = &s.rt.st.Refs
	rc.Table = s.rt.st.Table
	rc.Store = s.store
	rc.Connection = s.conn
	rc.Lifetime = s.rt.lifetime
	rc.Stats = &s.rt.st.RegStats
	rc.OpenEpoch = s.rt.openEpoch.Load
	rc.Token = &s.rt.st.Token
	rc.Presence = &s.rt.st.Presence
	rc.Dispatch = s.rt.st.Dispatch
	rc.Gens = &s.rt.st.Gens

	cc := cfg.Connection
	cc.Refs = &s.rt.st.Refs
	cc.Epochs = &s.rt.st.Epochs
	cc.Registry = s.registry
	cc.Stats = &s.rt.st.ConnStats
	cc.Routes = routes
	if cc.Codec != nil {
		// Decode known topics without allocating a string per frame.
		if codec, err := wire.NewCodec(cc.Codec.Vsn(), s.rt.st.Table.Intern); err == nil {
			cc.Codec = codec
		}
	}
	return childProps{
		store:      store.Props(s.rt.st.Table).Configure(s.rt.dispatcher(), quietMailbox),
		registry:   registry.Props(rc).Configure(s.rt.dispatcher()),
		connection: connection.Props(cc).Configure(s.rt.dispatcher()),
	}
}

// quietMailbox is the mailbox of the actors that get a handful of
// messages in a client's life (the supervisor, the store): protoactor-go's
// lock-free queue costs an allocation per message but about 50 bytes
// while empty, where its default queue keeps a ring of 10 slots (about 230
// bytes, measured in B7's heap per client). The registry and the
// connection, which get a message per push and per batch of frames, keep
// the default.
var quietMailbox = actor.WithMailbox(actor.UnboundedLockfree())

// childProps are the props of the supervisor's children.
type childProps struct{ store, registry, connection *actor.Props }

// changed records a connection state change and tells the registry.
func (s *supActor) changed(ctx actor.Context, m *messages.ConnectionChanged) {
	m.Old = s.rt.ConnectionState()
	s.rt.state.Store(m.New)
	if s.stopping {
		// The tree is stopping (Close): the registry may be gone
		// already, and a message to it would only be a dead letter.
		return
	}
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
		s.rt.logger.Warn("realtime: actor failed; restarting", slog.String("actor", child.Id), slog.Any("err", err))
		sup.RestartChildren(child)
		return
	}
	s.sup = sup
	s.failedEpoch = s.rt.st.Epochs.Current()
	if s.healthy() {
		s.attempts = 0
	}
	s.open = openProof{}
	s.attempts++
	s.stopTimer()
	old := s.rt.ConnectionState()
	s.rt.state.Store(messages.ConnClosed)
	s.rt.openEpoch.Store(0)
	ev := &messages.ConnectionChanged{Epoch: s.rt.st.Epochs.Current(), Old: old, New: messages.ConnClosed, Err: err, Attempt: s.attempts}
	if max := s.rt.maxAttempts; max > 0 && s.attempts >= max {
		s.given = true
		ev.Err = errors.Join(messages.ErrReconnectLimit, err)
		s.root.Send(s.registry, ev)
		sup.StopChildren(child)
		return
	}
	delay := s.rt.reconnectAfter(s.attempts)
	if delay < 0 {
		delay = 0
	}
	ev.RetryIn = delay
	s.rt.logger.Debug("realtime: connection failed; reconnecting", slog.Int("attempt", s.attempts), slog.Duration("in", delay), slog.Any("err", err))
	s.root.Send(s.registry, ev)
	if delay == 0 {
		sup.RestartChildren(child)
		return
	}
	gen, root, self := s.gen, s.root, s.self
	s.timer = s.rt.clock.AfterFunc(delay, func() { root.Send(self, &restartConnection{gen: gen}) })
}

// openProof is what the supervisor knew when the last connection opened.
type openProof struct {
	epoch       uint64    // the connection's epoch; 0: none open
	at          time.Time // when it opened (the injected clock)
	heartbeats  uint64    // ConnStats.HeartbeatsOK then
	joinReplies uint64    // RegStats.JoinReplies then
}

// healthy reports whether the connection that just failed had proved
// itself before: a heartbeat round trip, an answered join, or
// HealthyAfter of uptime. Only then does the attempt count start over.
// Counters are read when the failure is handled: the connection actor
// counts a heartbeat before it fails on the same goroutine, and a join
// reply still in the registry's mailbox is not counted (the next failure
// then backs off once more, never less).
func (s *supActor) healthy() bool {
	p := s.open
	if p.epoch == 0 || p.epoch != s.rt.st.Epochs.Current() {
		// None open, or a late Opened of an earlier connection: failures
		// are handled before messages, so an accept-then-close connection
		// can fail before its Opened arrives.
		return false
	}
	return s.rt.st.ConnStats.HeartbeatsOK.Load() > p.heartbeats ||
		s.rt.st.RegStats.JoinReplies.Load() > p.joinReplies ||
		s.rt.clock.Now().Sub(p.at) >= s.rt.healthyAfter
}

// failed reports news from a connection whose failure was already handled.
// protoactor-go hands a failure (a system message) to HandleFailure before
// the user messages queued ahead of it, so a socket that opens and dies at
// once can report Connecting or Opened after its failure; passing those on
// would show a dead connection as open.
func (s *supActor) failed(epoch uint64) bool {
	return epoch != 0 && epoch <= s.failedEpoch
}
