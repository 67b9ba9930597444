package main

// methodText is the Method section of BENCHMARKS.md.
const methodText = "## Method\n\n" +
	"`make bench` installs the pinned realtime-js (`make node-deps`, i.e. `npm ci` in test/conformance) and runs\n" +
	"`go run ./test/bench -out BENCHMARKS.md`. `go run ./test/bench -h` lists the flags (run counts, sizes,\n" +
	"`-clients`, `-scenarios`); `make bench BENCH_FLAGS='-runs 3 -frames 50000'` passes them through.\n\n" +
	"**Processes.** The harness process runs one in-process `test/realtimetest` server per scenario (channel\n" +
	"limit raised, inbound frame recording off) and drives three kinds of client, each in its own child process\n" +
	"so that heap and RSS are per client and no client shares a Go runtime with the server:\n\n" +
	"- *ours*: the harness binary re-executed as a child, using only the public API of package `realtime`\n" +
	"  (`New` with `WithVsn`, `WithHandler`, `WithParams`, `WithReconnectAfter`, `WithTimeout(2 min)` and\n" +
	"  `WithHandlerQueue(1<<20)` so that a whole blast fits while a slow Handler catches up; `Channel` with `BroadcastSelf`,\n" +
	"  `BroadcastAck`; `On(ch, Broadcast{Event: \"*\"})`; `Subscribe`; `BroadcastWithAck`/`WaitForAck`; `Broadcast`).\n" +
	"- *realtime-js*: `node --expose-gc test/bench/js/bench.mjs`, which loads `@supabase/realtime-js` from\n" +
	"  test/conformance/node_modules (the conformance suite's pin, no second package.json) with the `ws` transport\n" +
	"  (Node 20 has no global WebSocket), `vsn` as in the scenario, `reconnectAfterMs` fixed.\n" +
	"- *ceiling*: the harness binary as a bare gorilla/websocket client with no client logic.\n\n" +
	"All three speak the same line-delimited JSON protocol on stdin/stdout (test/bench/proto.go): connect,\n" +
	"subscribe, arm, wait, rejoin_arm, rejoin_wait, acks, send, memory, many_open, many_close, close. Times\n" +
	"that cross processes are wall-clock Unix nanoseconds on the same machine (Node:\n" +
	"`performance.timeOrigin + performance.now()`).\n" +
	"Each child's socket carries a `bench_id` query parameter so the harness finds it on the server.\n\n" +
	"**Blast mode (B1, B1t, B2).** The frames are encoded once, exactly as the server sends them\n" +
	"(`realtimetest.EncodeFrame`), wrapped as unmasked server→client WebSocket frames\n" +
	"(`realtimetest.AppendWebSocketFrame`) and concatenated into a chunk of 1,000 frames (~250 KB; in B2 the\n" +
	"chunk cycles through the channels). `(*realtimetest.Conn).Blast` writes the chunk repeatedly straight to the\n" +
	"socket's TCP connection on its writer goroutine: the server does one `write` per 1,000 frames, so its cost\n" +
	"per frame is nil and the ceiling column (a client that only reads and discards frames) shows how far above\n" +
	"both clients the server and the loopback are. The payload is a ~150-byte cursor object\n" +
	"(`{\"user_id\":…,\"x\":…,\"y\":…,\"color\":…,\"seq\":…,\"ts\":…,\"page\":…}`) with event `cursor` on topic\n" +
	"`realtime:room`: as text `[null,null,\"realtime:room\",\"broadcast\",{\"type\":\"broadcast\",\"event\":\"cursor\",\"payload\":{…}}]`,\n" +
	"as a binary kind-4 user broadcast with JSON payload encoding (what the server sends V2 sockets for\n" +
	"kind-3 pushes, the single-event HTTP API and `realtime.send`; realtime-js 2.119.0 decodes kind 4 and\n" +
	"`JSON.parse`s its payload), and as a vsn 1.0.0 object. A run: the harness arms the client (\"count the next N\n" +
	"`cursor` broadcasts\"), notes the time, blasts N frames and asks for the time of the N-th delivery; the rate\n" +
	"is N ÷ (last delivery − blast start). The Handler of ours checks the event name and that topic and raw\n" +
	"payload are present (B1) or decodes the payload into a struct with `BroadcastEvent.Decode` (B1t; the B1t\n" +
	"section also times that decode, and `json.Unmarshal`, alone with `testing.Benchmark`); realtime-js's callback checks\n" +
	"the event and the parsed payload (B1) or reads three typed fields (B1t). A run with a missing or malformed\n" +
	"delivery fails the whole benchmark. Allocations per frame (ours) are the `runtime.MemStats.Mallocs` delta\n" +
	"of the client process between arm and the last delivery, ÷ N; CPU time per frame is the client process's\n" +
	"user + system time (`getrusage`; Node: `process.cpuUsage()`) from arm to the answer to wait, ÷ N. Clients\n" +
	"alternate run by run, after the warm-up runs, in an order that rotates by one every round (B1), and the\n" +
	"median is reported with the min–max range. B1's calibration programs (test/bench/js/minimal.mjs and\n" +
	"test/bench/minimal, built with `go build` at the start of the run) take part in the same rotation: each\n" +
	"subscribes to the same channel of the same server, prints `ready`, and then, at every N-th delivery, the\n" +
	"wall-clock time and its CPU time since the previous line; the harness computes their rate exactly as for\n" +
	"its own children.\n\n" +
	"**B3.** A fresh child per run connects, measures heap (Go: `HeapAlloc` after two `runtime.GC()`; Node:\n" +
	"`heapUsed` after two `gc()`) and RSS (`/proc/self/statm`; Node: `process.memoryUsage().rss`), creates the\n" +
	"channels with one broadcast binding each and subscribes all of them at once (ours: one goroutine per\n" +
	"`Subscribe` call unless `-b3-concurrency` is set; realtime-js: `subscribe()` on every channel; ceiling: all\n" +
	"`phx_join` frames written back to back), then measures again. Join time is from the first channel created\n" +
	"to the last SUBSCRIBED; memory per channel is the growth ÷ channels.\n\n" +
	"**B4.** One channel with `self` and `ack`. Broadcasts (the same cursor payload, event `ack`) are sent\n" +
	"open-loop on a fixed schedule (send i at start + i/rate; Node's timers have millisecond resolution, so\n" +
	"realtime-js sends what is due once per millisecond); latency is from the send call to the ack. The\n" +
	"ceiling writes the push frame itself and matches the `phx_reply` by ref. Each client has its own channel;\n" +
	"after a 2 s warm-up run each, the clients take turns run by run, and the samples of all runs are pooled;\n" +
	"each run's own p99 is kept too, for the spread between runs and the ours ÷ realtime-js ratio run by run.\n" +
	"p99 and p99.9 on a shared 2-core machine are dominated by scheduling stalls: compare clients within a run.\n\n" +
	"**B5.** The client joins the channels with a fixed reconnect backoff; the harness arms it (\"report when every\n" +
	"channel has said SUBSCRIBED again\"; ours: `ChannelStatusEvent` with `Status == Subscribed`; realtime-js: the\n" +
	"`subscribe()` callback, which fires on every rejoin), notes the time and drops the socket on the server\n" +
	"(`Conn.Close(CloseAbnormal)`: TCP close without a close frame). Reported: last SUBSCRIBED − drop − backoff.\n" +
	"The ceiling redials after the backoff and pipelines the joins. The clients take turns drop by drop.\n\n" +
	"**B6.** The client pushes N broadcasts on a joined channel (no self, no ack) as fast as its API accepts them\n" +
	"(ours: `Broadcast` in a loop; realtime-js: `send()` in a loop; ceiling: pre-encoded masked frames written\n" +
	"in chunks of 1,000 straight to the TCP connection). The server counts broadcast pushes per socket\n" +
	"(`Conn.BroadcastsReceived`); the harness polls it every 100 µs. Rate = N ÷ (server has N − first send call).\n" +
	"realtime-js sends JSON broadcasts on vsn 2.0.0 as binary kind-3 frames and ours as text arrays, so the\n" +
	"ceiling is measured with both. Each client has its own channel; the clients take turns run by run.\n\n" +
	"**B7.** A fresh child per run, per client kind (ours, realtime-js; the ceiling has no client to multiply),\n" +
	"kinds taking turns run by run, all against one server. The child opens and closes one warm-up client (ours:\n" +
	"the shared actor system, pools and code paths exist from then on; Node: the JIT has run the code), measures\n" +
	"heap and RSS as in B3 and its goroutines (`runtime.NumGoroutine`), then opens N clients one after another:\n" +
	"each made with its defaults plus the vsn, the `bench_id` parameter and (ours) the Handler (ours: `New`, one\n" +
	"`Channel` with `On(ch, Broadcast{Event: \"*\"})`, `Subscribe`, which waits for the socket; realtime-js: `new\n" +
	"RealtimeClient` with the `ws` transport, `connect()`, one `channel()` with `on('broadcast', {event: '*'})`,\n" +
	"`subscribe()` awaited until SUBSCRIBED), and measures again; per client = growth ÷ N. It then closes them all\n" +
	"at once (ours: `Close` on a goroutine each; realtime-js: every `disconnect()` awaited together: awaited one\n" +
	"after another, each takes about 150 ms, because phoenix polls the socket's state 150 ms after asking it to\n" +
	"close), opens N again all at once (ours: one goroutine per client; realtime-js: `Promise.all`) and closes\n" +
	"them. Times are wall clock in the child, from the first client made to the last SUBSCRIBED or the last close\n" +
	"returned. Goroutines left (ours) are counted right after the last `Close` returned against the count before\n" +
	"the phase's first `New`, with no waiting; the child names what each one runs and what created it.\n\n" +
	"**What the numbers are not.** Everything runs on one machine over loopback, with the server in the harness\n" +
	"process; both clients pay the same kernel and server costs. Throughput numbers are for this machine only.\n"
