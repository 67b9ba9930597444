// Package soak holds the soak test of the client (make soak), behind the
// build tag "soak" so that make test never runs it.
//
// TestSoak starts a throwaway PostgreSQL (test/pgtest) and the local
// Realtime server (cmd/realtime-server) in a separate process, so that the
// heap and goroutine figures are the client's, not the test server's. A
// client under test connects through test/faultproxy and keeps
// acknowledged broadcast, presence and postgres_changes traffic going while
// the proxy cuts its connection every 20–60 s (seeded random). An observer
// client, connected straight to the server, sees what the server fanned
// out. Every sample interval (a tenth of the run, 1 min by default) the
// test records HeapAlloc after a GC and the goroutine count, and at the
// end it checks:
//
//   - every broadcast push has exactly one outcome: acknowledged (the
//     observer saw it exactly once), refused with an error (never seen),
//     or reported lost with the socket (seen at most once);
//   - no broadcast or postgres change was delivered twice;
//   - after every cut, the channels rejoined and the presence converged
//     (the observer sees the client's key with exactly one meta);
//   - heap and goroutines plateau: the mean of the last third of the
//     samples is not more than 50 % + 1 MiB (heap) or 25 % + 5 (goroutines)
//     above the mean of the first third;
//   - after Close no goroutine of the client is left.
//
// Run it with
//
//	make soak                         # 10 minutes
//	make soak SOAK_DURATION=2m        # shorter
//	go test -tags soak -run TestSoak -v -timeout 30m ./test/soak/ -soak.duration=10m -soak.seed=1
//
// # Concurrency
//
// The test's goroutines (sender, ack waiter, inserter, cutter, sampler)
// all end with the run's context.
//
// # Lifecycle
//
// Everything the test starts (server process, PostgreSQL cluster, proxy,
// clients) is stopped before it returns.
package soak
