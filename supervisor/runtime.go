package supervisor

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/connection"
	"github.com/supabase-go/realtime/internal/rtstate"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/registry"
	"github.com/supabase-go/realtime/store"
)

// Config configures the runtime. Connection and Registry are the child
// configurations; the PIDs, counters and lifetime in them are filled in by
// the runtime.
type Config struct {
	Connection connection.Config
	Registry   registry.Config
	// ReconnectAfter overrides DefaultBackoff (optional).
	ReconnectAfter func(tries int) time.Duration
	// MaxAttempts stops reconnecting after this many consecutive failed
	// attempts; 0 means never give up. A connection that opened and then
	// closed before it proved healthy (see HealthyAfter) is a failed
	// attempt too.
	MaxAttempts int
	// HealthyAfter is how long an open connection must stay up to reset
	// the attempt count when nothing else proved it healthy first (a
	// heartbeat answered, a join answered). Default: DefaultHealthyAfter.
	HealthyAfter time.Duration
	// Clock drives backoff timers (optional, real clock by default).
	Clock actors.Clock
	// Logger (optional, silent by default).
	Logger *slog.Logger
}

// Runtime is the state of one client's actor tree that outlives every
// actor restart: the channel table, the ref counter, the connection epoch,
// counters and the current connection state. None of it is exported: an
// application that embeds the tree spawns Props(rt), waits on Stopped, may
// send actor messages (package messages) with Tell and reads
// ConnectionState; the client API reaches the rest through
// internal/rtstate.
type Runtime struct {
	// children holds the children's configurations until the supervisor
	// first starts: it builds their props from them (props) and drops it,
	// so the configurations live once per client, in the props.
	children *Config
	props    childProps
	// The supervisor's own configuration (Config's other fields).
	reconnectAfter func(tries int) time.Duration
	maxAttempts    int
	healthyAfter   time.Duration
	clock          actors.Clock
	logger         *slog.Logger

	// st is what the actors share with the client API (internal/rtstate).
	st         rtstate.State
	lifetime   context.Context
	cancel     context.CancelFunc
	state      atomic.Value // messages.ConnectionState
	openEpoch  atomic.Uint64
	bindOnce   sync.Once
	bound      chan struct{}
	stopOnce   sync.Once
	stopped    chan struct{}
	mu         sync.Mutex
	system     *actor.ActorSystem
	pid        *actor.PID
	registryID string
	// early holds messages for the registry told before the supervisor
	// started; bind delivers them in order.
	early []any
	// goroutines runs every mailbox of the tree (see Wait).
	goroutines actors.Goroutines
	// afterStop runs once the tree has stopped (see AfterStop).
	afterStop []func()
}

func init() {
	rtstate.Of = func(x any) *rtstate.State { return &x.(*Runtime).st }
}

// New returns a runtime ready to be spawned with Props.
func New(cfg Config) *Runtime {
	if cfg.Clock == nil {
		cfg.Clock = actors.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = actors.DiscardLogger()
	}
	if cfg.ReconnectAfter == nil {
		cfg.ReconnectAfter = DefaultBackoff
	}
	if cfg.HealthyAfter <= 0 {
		cfg.HealthyAfter = DefaultHealthyAfter
	}
	rt := &Runtime{
		children:       &cfg,
		reconnectAfter: cfg.ReconnectAfter,
		maxAttempts:    cfg.MaxAttempts,
		healthyAfter:   cfg.HealthyAfter,
		clock:          cfg.Clock,
		logger:         cfg.Logger,
		bound:          make(chan struct{}),
		stopped:        make(chan struct{}),
	}
	rt.st.Table = store.NewTable()
	rt.lifetime, rt.cancel = context.WithCancel(context.Background())
	rt.st.Dispatch = registry.NewDispatcher(cfg.Registry.HandlerQueue, &rt.st.RegStats, cfg.Logger, rt.lifetime).
		LimitBytes(cfg.Registry.HandlerQueueBytes)
	rt.state.Store(messages.ConnClosed)
	return rt
}

// Lifetime is cancelled when the runtime stops or Cancel is called.
func (rt *Runtime) Lifetime() context.Context { return rt.lifetime }

// Cancel ends the lifetime: pending dials and token calls are abandoned.
func (rt *Runtime) Cancel() { rt.cancel() }

// Bound is closed once the supervisor has started and its PIDs are known.
func (rt *Runtime) Bound() <-chan struct{} { return rt.bound }

// Stopped is closed once the supervisor has stopped.
func (rt *Runtime) Stopped() <-chan struct{} { return rt.stopped }

// System returns the actor system the supervisor runs in (nil before
// Bound).
func (rt *Runtime) System() *actor.ActorSystem {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.system
}

// PID returns the supervisor's PID (nil before Bound).
func (rt *Runtime) PID() *actor.PID {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.pid
}

// RegistryPID returns the registry's PID (nil before Bound).
func (rt *Runtime) RegistryPID() *actor.PID {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.pid == nil {
		return nil
	}
	return actor.NewPID(rt.pid.Address, rt.registryID)
}

// ConnectionState returns the current connection state without a mailbox
// round trip.
func (rt *Runtime) ConnectionState() messages.ConnectionState {
	return rt.state.Load().(messages.ConnectionState)
}

// Tell sends msg to the registry without waiting. Before the supervisor
// has started (an embedded runtime not spawned yet), messages are kept and
// delivered, in order, when it starts.
func (rt *Runtime) Tell(msg any) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.pid == nil {
		rt.early = append(rt.early, msg)
		return
	}
	rt.system.Root.Send(actor.NewPID(rt.pid.Address, rt.registryID), msg)
}

func (rt *Runtime) bind(system *actor.ActorSystem, pid *actor.PID) {
	rt.mu.Lock()
	rt.system, rt.pid = system, pid
	rt.registryID = pid.Id + "/" + RegistryName
	reg := actor.NewPID(pid.Address, rt.registryID)
	for _, m := range rt.early {
		system.Root.Send(reg, m)
	}
	rt.early = nil
	rt.mu.Unlock()
	rt.bindOnce.Do(func() { close(rt.bound) })
}

// handlerWait bounds how long stopping waits for Handler calls in
// progress (their context is cancelled first).
const handlerWait = 5 * time.Second

func (rt *Runtime) markStopped() {
	rt.cancel()
	rt.st.Dispatch.Close(handlerWait)
	rt.stopOnce.Do(func() {
		rt.mu.Lock()
		fns := rt.afterStop
		rt.afterStop = nil
		rt.mu.Unlock()
		for _, f := range fns {
			f()
		}
		close(rt.stopped)
	})
}

// AfterStop registers f to run once, on the supervisor's goroutine, when
// the tree has stopped (before Stopped is closed). Call it before the
// supervisor is spawned.
func (rt *Runtime) AfterStop(f func()) {
	rt.mu.Lock()
	rt.afterStop = append(rt.afterStop, f)
	rt.mu.Unlock()
}

func (rt *Runtime) dispatcher() actor.PropsOption {
	return actor.WithDispatcher(&rt.goroutines)
}

// Wait returns nil once the tree has stopped and every goroutine it
// started has returned: the actors' mailbox goroutines, the socket reader
// and the dial (both joined by the connection actor as it stops) and the
// Handler goroutines (joined, for at most 5 s each, when the tree stops).
// It returns ctx's error if ctx ends first. Backoff and heartbeat timers
// are stopped with the actors that own them.
func (rt *Runtime) Wait(ctx context.Context) error {
	select {
	case <-rt.stopped:
	case <-ctx.Done():
		return ctx.Err()
	}
	return rt.goroutines.Wait(ctx)
}
