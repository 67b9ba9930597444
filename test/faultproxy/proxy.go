package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// chunkSize is the most a direction reads from its source at once.
const chunkSize = 32 << 10

// queueLen is how many chunks a direction holds (during latency or a black
// hole) before its reader stops reading, so the sender's kernel buffers
// fill up as they would on a real network.
const queueLen = 16

// dialTimeout bounds the proxy's own dial to the target.
const dialTimeout = 5 * time.Second

// Proxy is a fault-injecting TCP proxy to one target address. Create it
// with New; all methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener

	latency   atomic.Int64 // nanoseconds
	bandwidth atomic.Int64 // bytes per second; 0 = unlimited
	refuse    atomic.Bool

	accepted    atomic.Int64
	refused     atomic.Int64
	cuts        atomic.Int64
	failedDials atomic.Int64

	mu     sync.Mutex // guards the fields below
	closed bool
	holeOn bool
	hole   chan struct{} // closed when the black hole is lifted
	pairs  map[*pair]struct{}

	wg        sync.WaitGroup // every goroutine of the proxy
	closeOnce sync.Once
	done      chan struct{}
}

// New starts a proxy listening on a random port of 127.0.0.1 that forwards
// to target ("host:port").
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, ln: ln, pairs: map[*pair]struct{}{}, done: make(chan struct{})}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the proxy's listen address, "127.0.0.1:<port>".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns "http://127.0.0.1:<port>", usable as a project URL by
// realtime.New when the target is a realtimetest.Server.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Cut resets every proxied connection: both sockets are closed with
// SO_LINGER 0, so each peer gets a TCP RST (ECONNRESET) instead of an
// orderly close. New connections are still accepted. It returns how many
// connections were cut.
func (p *Proxy) Cut() int {
	n := 0
	for _, pr := range p.snapshot() {
		if pr.kill() {
			n++
		}
	}
	p.cuts.Add(int64(n))
	return n
}

// Blackhole stops (true) or resumes (false) forwarding in both directions
// of every connection, existing and new, without closing anything: the
// sockets stay open and nothing arrives. Held bytes are forwarded, in
// order, once the hole is lifted.
func (p *Proxy) Blackhole(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case on && !p.holeOn:
		p.holeOn = true
		p.hole = make(chan struct{})
	case !on && p.holeOn:
		p.holeOn = false
		close(p.hole)
	}
}

// SetLatency delays every chunk of bytes read from now on by d in its
// direction (a one-way latency; a round trip costs 2d). 0 turns it off.
func (p *Proxy) SetLatency(d time.Duration) {
	if d < 0 {
		d = 0
	}
	p.latency.Store(int64(d))
}

// SetBandwidth throttles each direction of each connection to about
// bytesPerSec bytes per second. 0 (or less) removes the limit.
func (p *Proxy) SetBandwidth(bytesPerSec int) {
	if bytesPerSec < 0 {
		bytesPerSec = 0
	}
	p.bandwidth.Store(int64(bytesPerSec))
}

// Refuse makes the proxy reset every new connection right after accepting
// it (true), so dials fail with a reset, or accept them normally again
// (false). Existing connections are not touched; Cut them to force a
// reconnect into the refusal.
func (p *Proxy) Refuse(on bool) { p.refuse.Store(on) }

// Accepted returns how many connections were accepted and forwarded.
func (p *Proxy) Accepted() int { return int(p.accepted.Load()) }

// Refused returns how many connections were reset by Refuse.
func (p *Proxy) Refused() int { return int(p.refused.Load()) }

// Cuts returns how many connections Cut has reset.
func (p *Proxy) Cuts() int { return int(p.cuts.Load()) }

// FailedDials returns how many accepted connections were reset because
// the target could not be dialed (it was down).
func (p *Proxy) FailedDials() int { return int(p.failedDials.Load()) }

// Active returns how many proxied connections are open.
func (p *Proxy) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pairs)
}

// Close stops accepting, resets every connection and waits until every
// goroutine of the proxy has exited. It is idempotent.
func (p *Proxy) Close() {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.done)
		_ = p.ln.Close()
		for _, pr := range p.snapshot() {
			pr.kill()
		}
		p.wg.Wait()
	})
}

func (p *Proxy) snapshot() []*pair {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*pair, 0, len(p.pairs))
	for pr := range p.pairs {
		out = append(out, pr)
	}
	return out
}

// blackhole returns a channel closed when the black hole is lifted, or nil
// when there is none.
func (p *Proxy) blackhole() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.holeOn {
		return nil
	}
	return p.hole
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-p.done:
				return
			case <-time.After(10 * time.Millisecond): // transient (EMFILE…)
			}
			continue
		}
		client := c.(*net.TCPConn)
		if p.refuse.Load() {
			p.refused.Add(1)
			reset(client)
			continue
		}
		p.wg.Add(1)
		go p.serve(client)
	}
}

// serve dials the target for one accepted connection and starts the two
// directions.
func (p *Proxy) serve(client *net.TCPConn) {
	defer p.wg.Done()
	d := net.Dialer{Timeout: dialTimeout}
	sc, err := d.Dial("tcp", p.target)
	if err != nil {
		p.failedDials.Add(1)
		reset(client)
		return
	}
	server := sc.(*net.TCPConn)
	pr := &pair{p: p, client: client, server: server, done: make(chan struct{})}
	pr.left.Store(2)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		reset(client)
		reset(server)
		return
	}
	p.pairs[pr] = struct{}{}
	p.mu.Unlock()
	p.accepted.Add(1)
	p.wg.Add(4)
	go pr.direction(client, server)
	go pr.direction(server, client)
}

// reset closes c with SO_LINGER 0: the peer gets a RST.
func reset(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

// pair is one proxied connection: the accepted client socket and the
// socket dialed to the target.
type pair struct {
	p              *Proxy
	client, server *net.TCPConn
	done           chan struct{} // closed when the pair ends
	once           sync.Once
	left           atomic.Int32 // directions still running
}

// kill resets both sockets. It reports whether this call ended the pair.
func (pr *pair) kill() bool { return pr.end(true) }

func (pr *pair) end(hard bool) bool {
	ended := false
	pr.once.Do(func() {
		ended = true
		close(pr.done)
		if hard {
			reset(pr.client)
			reset(pr.server)
		} else {
			_ = pr.client.Close()
			_ = pr.server.Close()
		}
		pr.p.mu.Lock()
		delete(pr.p.pairs, pr)
		pr.p.mu.Unlock()
	})
	return ended
}

type chunk struct {
	data []byte
	due  time.Time
}

// direction forwards src to dst: a reader goroutine fills a queue of
// chunks, and this goroutine (the writer) applies the black hole, latency
// and bandwidth before writing. The caller added 2 to the proxy's
// WaitGroup for the two goroutines.
func (pr *pair) direction(src, dst *net.TCPConn) {
	defer pr.p.wg.Done()
	q := make(chan chunk, queueLen)
	readErr := make(chan error, 1)
	go pr.read(src, q, readErr)
	if pr.write(dst, q) && pr.holdWhileBlackholed() {
		// The source said EOF (or was reset) and everything was
		// forwarded: pass the half-close (or the reset) on, as TCP would
		// — not through a black hole, which swallows FINs and RSTs too.
		if err := <-readErr; errors.Is(err, io.EOF) {
			_ = dst.CloseWrite()
		} else {
			pr.kill() // a reset propagates as a reset
		}
	}
	if pr.left.Add(-1) == 0 {
		pr.end(false)
	}
}

// read is the reader goroutine of one direction.
func (pr *pair) read(src *net.TCPConn, q chan<- chunk, readErr chan<- error) {
	defer pr.p.wg.Done()
	defer close(q)
	for {
		buf := make([]byte, chunkSize)
		n, err := src.Read(buf)
		if n > 0 {
			c := chunk{data: buf[:n], due: time.Now().Add(time.Duration(pr.p.latency.Load()))}
			select {
			case q <- c:
			case <-pr.done:
				readErr <- net.ErrClosed
				return
			}
		}
		if err != nil {
			readErr <- err // the writer passes it on once the queue is forwarded
			return
		}
	}
}

// write forwards the queued chunks. It returns true when the queue was
// closed by the reader and fully forwarded, false when the pair ended.
func (pr *pair) write(dst *net.TCPConn, q <-chan chunk) bool {
	for c := range q {
		if !pr.holdWhileBlackholed() || !pr.sleepUntil(c.due) {
			return false
		}
		if !pr.throttledWrite(dst, c.data) {
			return false
		}
	}
	select {
	case <-pr.done:
		return false
	default:
		return true
	}
}

func (pr *pair) holdWhileBlackholed() bool {
	for {
		h := pr.p.blackhole()
		if h == nil {
			return true
		}
		select {
		case <-h:
		case <-pr.done:
			return false
		}
	}
}

// sleepUntil waits until t or the end of the pair (false).
func (pr *pair) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		select {
		case <-pr.done:
			return false
		default:
			return true
		}
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-pr.done:
		return false
	}
}

// throttledWrite writes data, in slices of about 20 ms worth of the
// bandwidth limit when there is one.
func (pr *pair) throttledWrite(dst *net.TCPConn, data []byte) bool {
	for len(data) > 0 {
		bw := pr.p.bandwidth.Load()
		n := len(data)
		if bw > 0 {
			n = min(n, max(1, int(bw/50)))
		}
		if _, err := dst.Write(data[:n]); err != nil {
			pr.kill()
			return false
		}
		data = data[n:]
		if bw > 0 && !pr.sleepUntil(time.Now().Add(time.Duration(int64(n)*int64(time.Second)/bw))) {
			return false
		}
		if !pr.holdWhileBlackholed() {
			return false
		}
	}
	return true
}
