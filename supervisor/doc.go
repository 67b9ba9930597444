// Package supervisor is the root of the client's actor tree. The
// supervisor actor spawns, in order, the store actor, the channel-registry
// actor and the connection actor, and owns the reconnection policy.
//
// Reconnection is a restart policy: the connection actor panics with a
// typed error whenever its socket fails, and the supervisor — which
// implements actor.SupervisorStrategy itself — restarts it after a delay
// from Policy: capped exponential backoff with jitter by default (about
// 1 s, 2 s, 4 s, 8 s, then 10 s), or the user's ReconnectAfter function. The
// attempt count starts over only after a connection proved healthy — a
// heartbeat answered, a join answered, or Config.HealthyAfter of uptime —
// so a server that accepts and then closes meets a growing backoff; an
// optional attempt limit stops the connection for good. protoactor-go's own
// ExponentialBackoffStrategy is linear and uncapped, so it is not used.
// The registry and the store are restarted at once if they ever fail; they
// lose nothing, because channel records live in the store's Table.
//
// To run the runtime inside your own actor tree, build a Runtime with New,
// spawn Props(rt) as a child of one of your actors, and talk to it through
// the root package's client (realtime.NewEmbedded does exactly this).
//
// # Concurrency
//
// HandleFailure runs on the supervisor's own goroutine, so the attempt
// count needs no lock. Backoff timers only Send a message tagged with a
// generation number; a timer that fires after a newer failure or after the
// supervisor stopped is ignored. Runtime's accessors are safe for
// concurrent use.
//
// # Lifecycle
//
// Started spawns the three children (again after a restart of the
// supervisor itself, with the same names, so their PIDs are stable).
// Poisoning the supervisor (PoisonFuture) stops the whole tree: each child
// tears down before the supervisor reports Stopped, which closes
// Runtime.Stopped. ActorSystem.Shutdown stops nothing in protoactor-go.
package supervisor
