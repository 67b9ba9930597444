// Package faultproxy is a fault-injecting TCP proxy for tests. It listens on
// 127.0.0.1 and forwards every accepted connection to one target address,
// byte for byte, while a test makes the network misbehave:
//
//   - Cut resets every connection (RST on both sides, SO_LINGER 0), as a
//     crashed NAT box or a pulled cable followed by a timeout does;
//   - Blackhole(true) stops forwarding in both directions but keeps the
//     sockets open — a half-open connection that only an application
//     heartbeat can detect. Bytes, and a peer's FIN or RST, are held,
//     not lost, so the stream stays intact when the hole closes again, as
//     TCP retransmission would make it;
//   - SetLatency delays every chunk of bytes by a fixed one-way latency;
//   - SetBandwidth throttles each direction of each connection to a number
//     of bytes per second;
//   - Refuse(true) accepts new connections and resets them at once, so
//     dials fail until Refuse(false).
//
// A typical use puts the proxy between a client and realtimetest.Server:
//
//	srv := realtimetest.NewServer(realtimetest.Options{})
//	p, _ := faultproxy.New(srv.Addr().String())
//	c, _ := realtime.New(p.URL(), "anon-key")
//	p.Cut() // the client sees a reset socket and reconnects through p
//
// # Concurrency
//
// Every method is safe for concurrent use. Each proxied connection has two
// directions; each direction runs a reader goroutine (reading the source
// socket into chunks) and a writer goroutine (waiting out the latency, the
// bandwidth budget and a black hole, then writing to the other socket). One
// accept goroutine serves the listener.
//
// # Lifecycle
//
// New starts listening. Close stops accepting, resets every connection and
// returns when every goroutine of the proxy has exited; it is idempotent.
// Faults can be switched at any time; settings apply to connections that
// exist and to new ones.
package faultproxy
