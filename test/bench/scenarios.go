package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// bench runs the scenarios and fills the report.
type bench struct {
	cfg        *config
	rep        *report
	seq        int
	minimalExe string   // built ./minimal (calibration), once per run
	cleanup    []func() // run when the scenarios are done
}

func (b *bench) logf(format string, a ...any) {
	if !b.cfg.quiet {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	}
}

// newServer starts a fresh server with the channel limit raised and the
// recording of inbound frames off.
func (b *bench) newServer() *realtimetest.Server {
	limit := max(b.cfg.b2Channels, b.cfg.b3Channels, b.cfg.b5Channels) + 100
	return realtimetest.NewServer(realtimetest.Options{MaxChannelsPerClient: limit, DiscardReceived: true})
}

// client is one started child with its socket on the server.
type client struct {
	*peer
	srv *realtimetest.Server
}

// start starts a child of kind and connects it with vsn.
func (b *bench) start(srv *realtimetest.Server, kind string, vsn frame.Vsn, backoff time.Duration) (*client, error) {
	b.seq++
	id := fmt.Sprintf("%s-%d", kind, b.seq)
	p, err := startPeer(b.cfg, kind, id)
	if err != nil {
		return nil, err
	}
	c := &client{peer: p, srv: srv}
	if _, err := p.call(request{Op: opConnect, URL: srv.URL(), Vsn: string(vsn), ID: id, BackoffMs: int(backoff / time.Millisecond)}, time.Minute); err != nil {
		p.kill()
		return nil, err
	}
	if _, err := c.conn(); err != nil {
		p.kill()
		return nil, err
	}
	return c, nil
}

// conn returns the client's open socket on the server (the newest one).
func (c *client) conn() (*realtimetest.Conn, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conns := c.srv.ActiveConns()
		for i := len(conns) - 1; i >= 0; i-- {
			if conns[i].Query().Get(idParam) == c.id {
				return conns[i], nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s client: no open socket on the server", c.kind)
		}
		time.Sleep(time.Millisecond)
	}
}

// subscribe joins every topic; anything short of all SUBSCRIBED within
// the 5 minute default is an error.
func (c *client) subscribe(topics []string, self, ack bool, conc int) (response, error) {
	resp, err := c.call(request{Op: opSubscribe, Topics: topics, Self: self, Ack: ack, Concurrency: conc}, 10*time.Minute)
	if err == nil && resp.TimedOut {
		err = fmt.Errorf("%s client: %d of %d channels joined in 5 minutes: %w", c.kind, resp.Joined, len(topics), errShort)
	}
	return resp, err
}

func topicNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	return out
}

func wireTopics(subs []string) []string {
	out := make([]string, len(subs))
	for i, s := range subs {
		out[i] = messages.Topic(s)
	}
	return out
}

// blastPlan is a chunk of frames and how often to write it.
type blastPlan struct {
	chunk   []byte
	repeat  int
	frames  int // chunk frames × repeat
	msgSize float64
}

func newBlastPlan(variant string, topics []string, frames int) (blastPlan, error) {
	per := min(frames, max(1000, len(topics)))
	repeat := (frames + per - 1) / per
	chunk, size, err := blastChunk(variant, topics, per)
	if err != nil {
		return blastPlan{}, err
	}
	return blastPlan{chunk: chunk, repeat: repeat, frames: per * repeat, msgSize: size}, nil
}

// receiveRun arms the client, blasts the plan on its socket and waits for
// every frame: frames per second from the blast start to the last
// delivery, and (Go) allocations per frame.
func (b *bench) receiveRun(c *client, plan blastPlan, typed bool) (rate, allocs, bytesPer, cpuPer float64, err error) {
	if _, err := c.call(request{Op: opArm, N: plan.frames, Typed: typed}, time.Minute); err != nil {
		return 0, 0, 0, 0, err
	}
	conn, err := c.conn()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.waitLimit)
	defer cancel()
	start := nowNs()
	if err := conn.Blast(ctx, plan.chunk, plan.repeat); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("blast to %s client: %w", c.kind, err)
	}
	resp, err := c.call(request{Op: opWait, TimeoutMs: int(b.cfg.waitLimit / time.Millisecond)}, b.cfg.waitLimit+time.Minute)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if resp.Delivered != plan.frames || resp.Bad != 0 {
		return 0, 0, 0, 0, fmt.Errorf("%s client: %d of %d frames delivered, %d malformed: %w", c.kind, resp.Delivered, plan.frames, resp.Bad, errShort)
	}
	sec := float64(resp.EndNs-start) / 1e9
	n := float64(plan.frames)
	return n / sec, float64(resp.Mallocs) / n, float64(resp.Bytes) / n, float64(resp.CPUNs) / n, nil
}

// b1 runs B1 and B1t: one channel, three frame variants; every client of
// a variant is started once and the runs alternate between clients.
func (b *bench) b1() error {
	for _, variant := range b.cfg.variants {
		if err := b.b1Variant(variant); err != nil {
			return fmt.Errorf("%s: %w", variant, err)
		}
	}
	return nil
}

func (b *bench) b1Variant(variant string) error {
	srv := b.newServer()
	defer srv.Close()
	plan, err := newBlastPlan(variant, []string{messages.Topic("room")}, b.cfg.frames)
	if err != nil {
		return err
	}
	b.rep.msgSize[variant] = plan.msgSize
	var clients []*client
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	for _, kind := range b.cfg.clients {
		c, err := b.start(srv, kind, vsnOf(variant), time.Second)
		if err != nil {
			return err
		}
		clients = append(clients, c)
		if _, err := c.subscribe([]string{"room"}, false, false, 0); err != nil {
			return err
		}
	}
	mins, err := b.startCalibration(srv, variant, plan.frames)
	defer func() {
		for _, m := range mins {
			m.stop()
		}
	}()
	if err != nil {
		return err
	}
	// One step per run of a round: each client untyped and typed, each
	// preceded by its calibration program. The order rotates round by round, so that
	// no client always follows the same one (a Go process that has just
	// finished a blast still collects garbage and returns memory to the
	// kernel for a while, on the same two cores).
	type step struct {
		m     *minimalProc
		c     *client
		typed bool
	}
	var steps []step
	for _, c := range clients {
		// A calibration program runs right before its harness child, so
		// that the pair sees the same moment of the machine.
		for _, m := range mins {
			if m.kind == minimalOf[c.kind] {
				steps = append(steps, step{m: m})
			}
		}
		for _, typed := range []bool{false, true} {
			scen := "B1"
			if typed {
				scen = "B1t"
			}
			// B1t: vsn 2.0.0 text only; the ceiling has no Handler.
			if !b.cfg.scen[scen] || (typed && (c.kind == kindRaw || variant != variantV2Text)) {
				continue
			}
			steps = append(steps, step{c: c, typed: typed})
		}
	}
	for r := 0; r < b.cfg.warmup+b.cfg.runs; r++ {
		measured := r >= b.cfg.warmup
		round := map[string]float64{} // this round's B1 rates by kind
		for i := range steps {
			st := steps[(i+r)%len(steps)]
			if st.m != nil {
				rate, cpuPer, err := b.minimalRun(st.m, srv, plan)
				if err != nil {
					return err
				}
				b.logf("B1 %s %s run %d: %.0f frames/s, %.0f CPU ns/frame", variant, st.m.kind, r+1, rate, cpuPer)
				round[st.m.kind] = rate
				if measured {
					b.rep.add(key("B1", variant, st.m.kind, "rate"), rate)
					b.rep.add(key("B1", variant, st.m.kind, "cpu"), cpuPer)
				}
				continue
			}
			c, scen := st.c, "B1"
			if st.typed {
				scen = "B1t"
			}
			rate, allocs, bytesPer, cpuPer, err := b.receiveRun(c, plan, st.typed)
			if err != nil {
				return err
			}
			b.logf("%s %s %s run %d: %.0f frames/s, %.0f CPU ns/frame", scen, variant, c.kind, r+1, rate, cpuPer)
			if !st.typed {
				round[c.kind] = rate
			}
			if measured {
				k := key(scen, variant, c.kind)
				b.rep.add(k+"/rate", rate)
				b.rep.add(k+"/cpu", cpuPer)
				if c.kind == kindGo {
					b.rep.add(k+"/allocs", allocs)
					b.rep.add(k+"/bytes", bytesPer)
				}
			}
		}
		if measured {
			b.calibrationRatios(variant, round)
		}
	}
	return nil
}

// b2 is B1's v2 text frames spread round-robin over many channels.
func (b *bench) b2() error {
	srv := b.newServer()
	defer srv.Close()
	subs := topicNames("fan", b.cfg.b2Channels)
	plan, err := newBlastPlan(variantV2Text, wireTopics(subs), b.cfg.frames)
	if err != nil {
		return err
	}
	// The same frames to one of the channels, run right before each B2
	// run on the same socket: the B1 reference the target is measured
	// against, taken in the same process at the same moment, so that the
	// machine's drift between B1 and B2 does not enter the ratio.
	ref, err := newBlastPlan(variantV2Text, wireTopics(subs[:1]), b.cfg.frames)
	if err != nil {
		return err
	}
	var clients []*client
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	for _, kind := range b.cfg.clients {
		c, err := b.start(srv, kind, frame.V2, time.Second)
		if err != nil {
			return err
		}
		clients = append(clients, c)
		if _, err := c.subscribe(subs, false, false, b.cfg.b3Conc); err != nil {
			return err
		}
	}
	for r := 0; r < b.cfg.warmup+b.cfg.runs; r++ {
		for _, c := range clients {
			one, _, _, _, err := b.receiveRun(c, ref, false)
			if err != nil {
				return err
			}
			rate, allocs, bytesPer, cpuPer, err := b.receiveRun(c, plan, false)
			if err != nil {
				return err
			}
			b.logf("B2 %s run %d: %.0f frames/s (one channel, same socket, just before: %.0f)", c.kind, r+1, rate, one)
			if r >= b.cfg.warmup {
				b.rep.add(key("B2", c.kind, "rate"), rate)
				b.rep.add(key("B2", c.kind, "paired"), rate/one)
				b.rep.add(key("B2", c.kind, "cpu"), cpuPer)
				if c.kind == kindGo {
					b.rep.add(key("B2", c.kind, "allocs"), allocs)
					b.rep.add(key("B2", c.kind, "bytes"), bytesPer)
				}
			}
		}
	}
	return nil
}

// b3 joins many channels on one socket, a fresh process per run, and
// measures the time and the heap and RSS growth. A client that has not
// joined them all within -b3-limit is reported as such and not run again.
func (b *bench) b3() error {
	srv := b.newServer()
	defer srv.Close()
	subs := topicNames("join", b.cfg.b3Channels)
	n := float64(len(subs))
	limit := int(b.cfg.b3Limit / time.Millisecond)
	gaveUp := map[string]bool{}
	for r := 0; r < b.cfg.b3Runs; r++ {
		for _, kind := range b.cfg.clients {
			if gaveUp[kind] {
				continue
			}
			c, err := b.start(srv, kind, frame.V2, time.Second)
			if err != nil {
				return err
			}
			err = func() error {
				defer c.close()
				before, err := c.call(request{Op: opMemory}, time.Minute)
				if err != nil {
					return err
				}
				sub, err := c.call(request{Op: opSubscribe, Topics: subs, Concurrency: b.cfg.b3Conc, TimeoutMs: limit}, b.cfg.b3Limit+2*time.Minute)
				if err != nil {
					return err
				}
				k := key("B3", kind)
				if sub.TimedOut {
					gaveUp[kind] = true
					b.rep.add(k+"/timeout", float64(sub.Joined))
					b.logf("B3 %s run %d: only %d of %d joined within %s; not run again", kind, r+1, sub.Joined, len(subs), b.cfg.b3Limit)
					return b.b3Smaller(srv, kind, len(subs)/5)
				}
				after, err := c.call(request{Op: opMemory}, time.Minute)
				if err != nil {
					return err
				}
				heap := (float64(after.Heap) - float64(before.Heap)) / n
				b.rep.add(k+"/seconds", float64(sub.JoinNs)/1e9)
				b.rep.add(k+"/heap", heap)
				b.rep.add(k+"/rss", (float64(after.RSS)-float64(before.RSS))/n)
				b.logf("B3 %s run %d: %d joins in %.3f s, heap %+.0f B/channel", kind, r+1, len(subs), float64(sub.JoinNs)/1e9, heap)
				return nil
			}()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// startAll starts one child of every client kind with vsn 2.0.0 and the
// given backoff and runs setup on it; the returned stop closes them all.
func (b *bench) startAll(srv *realtimetest.Server, backoff time.Duration, setup func(*client) error) ([]*client, func(), error) {
	var clients []*client
	stop := func() {
		for _, c := range clients {
			c.close()
		}
	}
	for _, kind := range b.cfg.clients {
		c, err := b.start(srv, kind, frame.V2, backoff)
		if err != nil {
			stop()
			return nil, nil, err
		}
		clients = append(clients, c)
		if err := setup(c); err != nil {
			stop()
			return nil, nil, err
		}
	}
	return clients, stop, nil
}

// b3Smaller measures one run at n channels for a client that gave up on
// the full count, so that the report still shows how it scales.
func (b *bench) b3Smaller(srv *realtimetest.Server, kind string, n int) error {
	if n < 1 {
		return nil
	}
	c, err := b.start(srv, kind, frame.V2, time.Second)
	if err != nil {
		return err
	}
	defer c.close()
	before, err := c.call(request{Op: opMemory}, time.Minute)
	if err != nil {
		return err
	}
	subs := topicNames("small", n)
	sub, err := c.call(request{Op: opSubscribe, Topics: subs, Concurrency: b.cfg.b3Conc, TimeoutMs: int(b.cfg.b3Limit / time.Millisecond)}, b.cfg.b3Limit+2*time.Minute)
	if err != nil {
		return err
	}
	if sub.TimedOut {
		b.logf("B3 %s at %d channels: only %d joined within %s either", kind, n, sub.Joined, b.cfg.b3Limit)
		return nil
	}
	after, err := c.call(request{Op: opMemory}, time.Minute)
	if err != nil {
		return err
	}
	k := key("B3", kind, "smaller")
	b.rep.add(k+"/n", float64(n))
	b.rep.add(k+"/seconds", float64(sub.JoinNs)/1e9)
	b.rep.add(k+"/heap", (float64(after.Heap)-float64(before.Heap))/float64(n))
	b.rep.add(k+"/rss", (float64(after.RSS)-float64(before.RSS))/float64(n))
	b.logf("B3 %s at %d channels: %.3f s", kind, n, float64(sub.JoinNs)/1e9)
	return nil
}

// b4 sends acknowledged self-broadcasts at a steady rate and pools the
// send→ack latencies of every run. Each client has its own channel; the
// clients take turns run by run, so that load from elsewhere on the
// machine hits them alike.
func (b *bench) b4() error {
	srv := b.newServer()
	defer srv.Close()
	clients, stop, err := b.startAll(srv, time.Second, func(c *client) error {
		_, err := c.subscribe([]string{"acks-" + c.kind}, true, true, 0)
		return err
	})
	if err != nil {
		return err
	}
	defer stop()
	for r := 0; r < b.cfg.warmup+b.cfg.b4Runs; r++ {
		measured := r >= b.cfg.warmup
		d := b.cfg.b4Duration
		if !measured {
			d = min(d, 2*time.Second) // warm-up
		}
		p99 := map[string]float64{}
		for _, c := range clients {
			resp, err := c.call(request{Op: opAcks, Topic: "acks-" + c.kind, Rate: b.cfg.b4Rate, DurationMs: int(d / time.Millisecond)},
				d+b.cfg.waitLimit)
			if err != nil {
				return err
			}
			if resp.Errors > 0 {
				return fmt.Errorf("%s client: %d broadcasts not acknowledged: %w", c.kind, resp.Errors, errShort)
			}
			p99[c.kind] = percentile(resp.LatenciesUs, 99)
			if measured {
				b.rep.addAll(key("B4", c.kind, "latency"), resp.LatenciesUs)
				b.rep.add(key("B4", c.kind, "p99run"), p99[c.kind])
			}
			b.logf("B4 %s run %d: %d acks, p99 %.0f µs", c.kind, r+1, len(resp.LatenciesUs), percentile(resp.LatenciesUs, 99))
		}
		if g, j := p99[kindGo], p99[kindJS]; measured && g > 0 && j > 0 {
			b.rep.add(key("B4", "p99ratio"), g/j)
		}
	}
	return nil
}

// b5 drops the socket of a client with many joined channels and measures
// until every channel is SUBSCRIBED again, minus the fixed backoff. The
// clients take turns drop by drop.
func (b *bench) b5() error {
	srv := b.newServer()
	defer srv.Close()
	subs := topicNames("re", b.cfg.b5Channels)
	backoff := b.cfg.b5Backoff
	clients, stop, err := b.startAll(srv, backoff, func(c *client) error {
		_, err := c.subscribe(subs, false, false, b.cfg.b3Conc)
		return err
	})
	if err != nil {
		return err
	}
	defer stop()
	for r := 0; r < b.cfg.b5Runs; r++ {
		for _, c := range clients {
			conn, err := c.conn()
			if err != nil {
				return err
			}
			if _, err := c.call(request{Op: opRejoinArm}, time.Minute); err != nil {
				return err
			}
			drop := nowNs()
			conn.Close(realtimetest.CloseAbnormal, "")
			resp, err := c.call(request{Op: opRejoinWait, TimeoutMs: int(b.cfg.waitLimit / time.Millisecond)}, b.cfg.waitLimit+time.Minute)
			if err != nil {
				return err
			}
			if resp.Rejoined != len(subs) {
				return fmt.Errorf("%s client: %d of %d channels rejoined: %w", c.kind, resp.Rejoined, len(subs), errShort)
			}
			beyond := float64(resp.EndNs-drop-backoff.Nanoseconds()) / 1e6
			b.rep.add(key("B5", c.kind, "ms"), beyond)
			b.logf("B5 %s run %d: all %d channels joined %.1f ms after drop + backoff", c.kind, r+1, len(subs), beyond)
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// b6 pushes broadcasts as fast as the client accepts them and counts them
// on the server. Each client has its own channel; the clients take turns.
func (b *bench) b6() error {
	srv := b.newServer()
	defer srv.Close()
	clients, stop, err := b.startAll(srv, time.Second, func(c *client) error {
		_, err := c.subscribe([]string{"sink-" + c.kind}, false, false, 0)
		return err
	})
	if err != nil {
		return err
	}
	defer stop()
	for r := 0; r < b.cfg.warmup+b.cfg.runs; r++ {
		for _, c := range clients {
			// The ceiling pushes text frames (ours' format), then binary
			// kind 3 (realtime-js's): the server's cost differs.
			for _, kind3 := range []bool{false, true} {
				if kind3 && c.kind != kindRaw {
					continue
				}
				rate, err := b.sendRun(c, kind3)
				if err != nil {
					return err
				}
				name := c.kind
				if kind3 {
					name += "-kind3"
				}
				b.logf("B6 %s run %d: %.0f broadcasts/s received by the server", name, r+1, rate)
				if r >= b.cfg.warmup {
					b.rep.add(key("B6", name, "rate"), rate)
				}
			}
		}
	}
	return nil
}

// sendRun is one B6 run: the server-side count is polled every 100 µs
// from before the first push.
func (b *bench) sendRun(c *client, kind3 bool) (float64, error) {
	conn, err := c.conn()
	if err != nil {
		return 0, err
	}
	n := int64(b.cfg.b6N)
	want := conn.BroadcastsReceived() + n
	reached := make(chan int64, 1)
	stop := make(chan struct{})
	go func() {
		for conn.BroadcastsReceived() < want {
			select {
			case <-stop:
				reached <- 0
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
		reached <- nowNs()
	}()
	resp, err := c.call(request{Op: opSend, Topic: "sink-" + c.kind, N: b.cfg.b6N, Typed: kind3}, b.cfg.waitLimit)
	if err != nil {
		close(stop)
		<-reached
		return 0, err
	}
	select {
	case end := <-reached:
		return float64(n) / (float64(end-resp.StartNs) / 1e9), nil
	case <-time.After(b.cfg.waitLimit):
		close(stop)
		<-reached
		return 0, fmt.Errorf("%s client: server received %d of %d broadcasts: %w", c.kind, conn.BroadcastsReceived()-(want-n), n, errShort)
	}
}

// b7 runs many clients in one process: for each client kind but the
// ceiling (which has no client to multiply), a fresh child per run opens
// and closes one warm-up client, measures, opens N clients with one joined
// channel each one after another, measures again, closes them all at once,
// then opens N all at once and closes them all at once. The kinds take
// turns run by run.
func (b *bench) b7() error {
	srv := b.newServer()
	defer srv.Close()
	for r := 0; r < b.cfg.b7Runs; r++ {
		for _, kind := range b.cfg.clients {
			if kind == kindRaw {
				continue
			}
			if err := b.b7Run(srv, kind, r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *bench) b7Run(srv *realtimetest.Server, kind string, r int) error {
	b.seq++
	id := fmt.Sprintf("%s-%d", kind, b.seq)
	p, err := startPeer(b.cfg, kind, id)
	if err != nil {
		return err
	}
	defer p.close()
	n := b.cfg.b7Clients
	limit := b.cfg.waitLimit
	open := func(phase string, n int, all bool) (response, error) {
		resp, err := p.call(request{Op: opManyOpen, URL: srv.URL(), Vsn: string(frame.V2), ID: id + "-" + phase, Topic: phase,
			N: n, All: all, TimeoutMs: int(limit / time.Millisecond)}, limit+time.Minute)
		if err == nil && resp.Joined < n {
			err = fmt.Errorf("%s client: %d of %d clients joined their channel within %s: %w", kind, resp.Joined, n, limit, errShort)
		}
		return resp, err
	}
	closeAll := func() (response, error) { return p.call(request{Op: opManyClose}, 6*time.Minute) }
	// Warm-up: the shared actor system, pools and code paths (Go), the JIT
	// (Node) are made before the baseline.
	if _, err := open("warm", 1, false); err != nil {
		return err
	}
	if _, err := closeAll(); err != nil {
		return err
	}
	before, err := p.call(request{Op: opMemory}, time.Minute)
	if err != nil {
		return err
	}
	seq, err := open("seq", n, false)
	if err != nil {
		return err
	}
	after, err := p.call(request{Op: opMemory}, time.Minute)
	if err != nil {
		return err
	}
	closed, err := closeAll()
	if err != nil {
		return err
	}
	all, err := open("all", n, true)
	if err != nil {
		return err
	}
	closedAll, err := closeAll()
	if err != nil {
		return err
	}
	k := key("B7", kind)
	per := float64(n)
	heap := (float64(after.Heap) - float64(before.Heap)) / per
	b.rep.add(k+"/heap", heap)
	b.rep.add(k+"/rss", (float64(after.RSS)-float64(before.RSS))/per)
	b.rep.add(k+"/seq", float64(seq.JoinNs)/1e9)
	b.rep.add(k+"/all", float64(all.JoinNs)/1e9)
	b.rep.add(k+"/close", float64(closed.CloseNs)/1e9)
	b.rep.add(k+"/close", float64(closedAll.CloseNs)/1e9)
	if kind == kindGo {
		b.rep.add(k+"/goroutines", float64(after.Goroutines-before.Goroutines)/per)
		b.rep.add(k+"/left", float64(max(closed.Left, closedAll.Left)))
		for _, g := range append(closed.LeftBy, closedAll.LeftBy...) {
			b.rep.b7LeftBy = append(b.rep.b7LeftBy, fmt.Sprintf("run %d: %s", r+1, g))
		}
	}
	left := ""
	if kind == kindGo {
		left = fmt.Sprintf(", %d goroutines left", max(closed.Left, closedAll.Left))
	}
	b.logf("B7 %s run %d: %d clients, heap %.1f KiB/client, one after another %.3f s, all at once %.3f s, close %.3f s%s",
		kind, r+1, n, heap/1024, float64(seq.JoinNs)/1e9, float64(all.JoinNs)/1e9, float64(closed.CloseNs)/1e9, left)
	return nil
}
