// Command bench is the benchmark harness behind BENCHMARKS.md: it runs this
// module's client, @supabase/realtime-js (pinned in test/conformance, on
// Node) and a bare gorilla/websocket client (the read-only ceiling)
// against the same in-process test/realtimetest server, scenario by
// scenario, and rewrites BENCHMARKS.md. `make bench` runs it; the Method
// section it writes (method.go) explains what is measured and how.
//
//	go run ./test/bench -out BENCHMARKS.md            # defaults, 5–10 min on 2 cores
//	go run ./test/bench -runs 3 -frames 50000 -out "" # quicker, report on stdout
//	go run ./test/bench -scenarios B3 -clients go -cpuprofile /tmp/prof
//
// Scenarios: B1 receive throughput on one channel (vsn 2.0.0 text, binary
// kind 4, vsn 1.0.0), B1t the same with the payload decoded into a struct,
// B2 fan-in over 1,000 channels, B3 join scale (10,000 channels: time,
// heap and RSS per channel), B4 acknowledged broadcast round trip
// percentiles, B5 time to rejoin 1,000 channels after a socket drop, B6
// send throughput counted by the server, B7 many clients in one process
// (1,000 with one channel each: heap, RSS and goroutines per client, time
// to connect and join them one after another and all at once, to close
// them, goroutines left after Close).
//
// Every client runs in a child process speaking the line-delimited JSON
// protocol of proto.go: ours and the ceiling are this binary re-executed
// with REALTIME_BENCH_CHILD=go|raw (child_go.go, child_raw.go), realtime-js
// is `node js/bench.mjs`. B1 also runs two calibration programs that only
// count broadcasts, with no request protocol (calibrate.go): js/minimal.mjs
// and ./minimal, a Go program on the public API that the harness builds at
// the start of a run; their rates are compared round by round with the
// children's. Hand-written profile notes live in notes.md and are copied
// into BENCHMARKS.md verbatim.
//
// # Concurrency
//
// The orchestrator is sequential: it runs one scenario at a time, one
// client request at a time, and the clients of a scenario take turns, so
// that they never compete for the CPU with each other. Each child process
// is owned by a peer (peer.go), each calibration program by a minimalProc
// (calibrate.go), with one goroutine reading its stdout; the
// server in the orchestrator has its own goroutines (test/realtimetest).
// In the Go child the Handler runs on the client's Dispatcher goroutine and
// shares only atomics with the request loop; B7's clients share that
// Handler, and the request loop waits for the goroutines it starts to open
// or close them before it answers.
//
// # Lifecycle
//
// Each scenario starts a fresh server and closes it at its end; each child
// is asked to close (its client is closed, the process exits) and killed
// if it has not exited 15 s later, or at once when it does not answer a
// request within its time limit; a calibration program exits when its
// stdin is closed at the end of its B1 variant (killed 15 s later if not).
// The built ./minimal lives in a temporary directory removed when run
// returns. When run returns, no child process and
// no server goroutine is left.
package main
