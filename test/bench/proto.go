package main

// The orchestrator drives every client (ours, realtime-js, the bare
// gorilla/websocket ceiling) as a child process speaking the same
// line-delimited JSON protocol on stdin/stdout: one request line, one
// response line. test/bench/js/bench.mjs implements it for realtime-js.
// Times exchanged between processes are wall-clock Unix nanoseconds (all
// processes run on the same machine).

// Ops.
const (
	opConnect     = "connect"     // open the socket and wait until it is open
	opSubscribe   = "subscribe"   // join Topics, wait for every SUBSCRIBED
	opArm         = "arm"         // count the next N "cursor" broadcasts
	opWait        = "wait"        // wait until N were delivered (or TimeoutMs)
	opRejoinArm   = "rejoin_arm"  // count channels SUBSCRIBED again from now on
	opRejoinWait  = "rejoin_wait" // wait until every subscribed channel rejoined
	opAcks        = "acks"        // B4: acked self-broadcasts at Rate/s for DurationMs
	opSend        = "send"        // B6: push N broadcasts as fast as the client takes them
	opMemory      = "memory"      // heap and RSS now (after a GC), and goroutines (Go)
	opManyOpen    = "many_open"   // B7: N more clients, one joined channel each
	opManyClose   = "many_close"  // B7: close every client of many_open, all at once
	opClose       = "close"       // close the client and exit
	broadcastName = "cursor"      // user event of every blasted broadcast
	ackEvent      = "ack"         // user event of B4's broadcasts
	idParam       = "bench_id"    // query parameter naming a child's socket on the server
	apiKey        = "bench-anon-key"
)

// request is one orchestrator → child line.
type request struct {
	Op string `json:"op"`

	// connect
	URL       string `json:"url,omitempty"` // project URL http://127.0.0.1:port
	Vsn       string `json:"vsn,omitempty"`
	ID        string `json:"id,omitempty"`
	BackoffMs int    `json:"backoff_ms,omitempty"` // fixed reconnect backoff

	// subscribe
	Topics      []string `json:"topics,omitempty"` // sub-topics
	Self        bool     `json:"self,omitempty"`
	Ack         bool     `json:"ack,omitempty"`
	Concurrency int      `json:"concurrency,omitempty"` // Go: Subscribe calls in flight

	// arm, send, many_open (clients)
	N     int  `json:"n,omitempty"`
	Typed bool `json:"typed,omitempty"` // decode every payload into a struct

	// subscribe, wait, rejoin_wait, many_open
	TimeoutMs int `json:"timeout_ms,omitempty"`

	// many_open: URL, Vsn, N and TimeoutMs as above; client i's socket
	// carries bench_id ID-i and it joins the channel Topic-i (5 digits).
	// All opens and joins them all at once instead of one after another.
	All bool `json:"all,omitempty"`

	// acks, send, many_open
	Topic      string `json:"topic,omitempty"`
	Rate       int    `json:"rate,omitempty"`
	DurationMs int    `json:"duration_ms,omitempty"`
}

// response is one child → orchestrator line.
type response struct {
	Error string `json:"error,omitempty"`

	// subscribe: wall time from the first join sent to the last SUBSCRIBED
	// (or to the timeout), channels SUBSCRIBED, whether TimeoutMs expired
	JoinNs   int64 `json:"join_ns,omitempty"`
	Joined   int   `json:"joined,omitempty"`
	TimedOut bool  `json:"timed_out,omitempty"`

	// memory (and subscribe): bytes; Go only: runtime.NumGoroutine()
	Heap       uint64 `json:"heap,omitempty"`
	RSS        uint64 `json:"rss,omitempty"`
	Goroutines int    `json:"goroutines,omitempty"`

	// many_open: JoinNs (first client made → last SUBSCRIBED) and Joined
	// as for subscribe. many_close: CloseNs, the time the closes took, and
	// (Go only) Left, the goroutines beyond those running before
	// many_open, counted right after the last Close returned, and LeftBy,
	// for each of them, the function it runs and what created it.
	CloseNs int64    `json:"close_ns,omitempty"`
	Left    int      `json:"left,omitempty"`
	LeftBy  []string `json:"left_by,omitempty"`

	// wait
	Delivered int    `json:"delivered,omitempty"`
	Bad       int    `json:"bad,omitempty"` // deliveries with a wrong topic, event or payload
	FirstNs   int64  `json:"first_ns,omitempty"`
	EndNs     int64  `json:"end_ns,omitempty"`
	Mallocs   uint64 `json:"mallocs,omitempty"` // Go only: heap allocations between arm and the last delivery
	Bytes     uint64 `json:"bytes,omitempty"`   // Go only: bytes allocated in the same window
	CPUNs     int64  `json:"cpu_ns,omitempty"`  // the child's CPU time (user + system) from arm to this answer

	// rejoin_wait: channels SUBSCRIBED again, EndNs when the last one did

	Rejoined int `json:"rejoined,omitempty"`

	// acks: send→ack latencies in microseconds, failed acks
	LatenciesUs []float64 `json:"latencies_us,omitempty"`
	Errors      int       `json:"errors,omitempty"`

	// send: wall clock when the first push was handed to the client and
	// when the last call returned
	StartNs int64 `json:"start_ns,omitempty"`
	SentNs  int64 `json:"sent_ns,omitempty"`
}

// cursor is the typed form of the benchmark payload (B1t).
type cursor struct {
	UserID string  `json:"user_id"`
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Color  string  `json:"color"`
	Seq    int64   `json:"seq"`
	TS     int64   `json:"ts"`
	Page   string  `json:"page"`
}
