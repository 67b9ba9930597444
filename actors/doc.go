// Package actors is the small actor toolkit shared by the connection,
// registry, store and supervisor packages.
//
// It holds the pieces every actor here needs and protoactor-go does not
// provide in a usable form:
//
//   - Request: request/reply over a reply channel that honours a
//     context.Context, instead of protoactor futures (which take no context,
//     wake only one waiter and race under -race).
//   - RequestClaimed and Claim: the same for messages with side effects; a
//     caller whose ctx ends before the actor took the message gets its ctx
//     error and the actor drops the message, so "failed" means "not done".
//   - NewSystem and LoggerFactory: an ActorSystem whose logger is the
//     user's *slog.Logger (silent by default).
//   - Shared and RouteLogs: the process's one shared ActorSystem, whose
//     protoactor-go records go to the logger of the actor tree they are
//     about.
//   - Goroutines: a dispatcher that counts an actor tree's mailbox
//     goroutines, so its owner can wait until they have all returned.
//   - Epoch: a counter that outlives actor restarts, used to tag the
//     messages of one connection incarnation.
//   - Clock: an injectable clock (real or manual) for heartbeats, timeouts
//     and backoff, so tests never sleep.
//
// # Concurrency
//
// Request, RequestClaimed, Claim, Epoch, RealClock, ManualClock, Shared,
// RouteLogs and Goroutines are safe for concurrent use.
// Timer callbacks run on their own goroutine (RealClock) or on the goroutine
// that calls ManualClock.Advance; callbacks used by actors only Send to a
// PID and never touch actor state.
//
// # Lifecycle
//
// Nothing here owns a long-lived goroutine. A timer returned by a Clock must
// be stopped by its owner; Stop is idempotent. An ActorSystem returned by
// NewSystem is stopped by poisoning its top actor (ActorSystem.Shutdown
// stops nothing in protoactor-go). The Shared system is created on first
// use and lives as long as the process; only the actors spawned in it
// stop. A Goroutines dispatcher owns the goroutines it starts; each ends
// when its mailbox has no message left.
package actors
