package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	realtime "github.com/supabase-go/realtime"
)

// goChild is our client, used only through the public API of package
// realtime.
type goChild struct {
	client   *realtime.Client
	channels map[string]*realtime.Channel // by sub-topic
	h        *benchHandler

	many     []*realtime.Client // B7: the clients of the last many_open
	manyBase int                // B7: goroutines running before that many_open
	manyIDs  map[string]bool    // B7: and their ids ("goroutine 1")
}

// armState counts the deliveries of one B1/B2 run. Only the Handler
// writes it (one call at a time); the wait request reads it after done.
type armState struct {
	want             int64
	typed            bool
	mallocs0, bytes0 uint64 // at arm
	cpu0             int64  // process CPU time at arm
	count            atomic.Int64
	bad              atomic.Int64
	firstNs          atomic.Int64
	endNs            atomic.Int64
	done             chan struct{}
}

// rejoinState collects the channels that reported SUBSCRIBED after the
// arm request (B5).
type rejoinState struct {
	want  int
	seen  map[string]bool // Handler goroutine only
	count atomic.Int64
	endNs atomic.Int64
	done  chan struct{}
}

// waitRejoin answers rejoin_wait: it waits (bounded by the request's
// timeout) until every channel armed in r has rejoined.
func waitRejoin(r *rejoinState, req request) response {
	if r == nil {
		return errResp("rejoin_wait before rejoin_arm")
	}
	t := time.NewTimer(timeout(req.TimeoutMs, time.Minute))
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
	}
	return response{Rejoined: int(r.count.Load()), EndNs: r.endNs.Load()}
}

// benchHandler is the Handler of the Go child. It does the minimum a real
// application does per broadcast: check the event name, look at the raw
// payload (B1) or decode it into a struct (B1t), count.
type benchHandler struct {
	arm    atomic.Pointer[armState]
	rejoin atomic.Pointer[rejoinState]
}

func (h *benchHandler) HandleEvent(_ context.Context, ev realtime.Event) {
	switch e := ev.(type) {
	case realtime.BroadcastEvent:
		a := h.arm.Load()
		if a == nil || e.Event != broadcastName {
			return
		}
		ok := len(e.Topic) > 0 && len(e.Payload) > 0
		if a.typed {
			var c cursor
			ok = ok && e.Decode(&c) == nil && c.UserID != ""
		}
		if !ok {
			a.bad.Add(1)
		}
		n := a.count.Add(1)
		if n == 1 {
			a.firstNs.Store(nowNs())
		}
		if n == a.want {
			a.endNs.Store(nowNs())
			close(a.done)
		}
	case realtime.ChannelStatusEvent:
		r := h.rejoin.Load()
		if r == nil || e.Status != realtime.Subscribed || r.seen[e.Topic] {
			return
		}
		r.seen[e.Topic] = true
		if n := r.count.Add(1); int(n) == r.want {
			r.endNs.Store(nowNs())
			close(r.done)
		}
	}
}

func runGoChild(in io.Reader, out io.Writer) error {
	c := &goChild{channels: map[string]*realtime.Channel{}, h: &benchHandler{}}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c.client != nil {
			_ = c.client.Close(ctx)
		}
		for _, m := range c.many {
			_ = m.Close(ctx)
		}
	}()
	return serveChild(in, out, c.handle)
}

func (c *goChild) handle(req request) (response, bool) {
	switch req.Op {
	case opConnect:
		return c.connect(req), false
	case opSubscribe:
		return c.subscribe(req), false
	case opArm:
		a := &armState{want: int64(req.N), typed: req.Typed, done: make(chan struct{})}
		a.mallocs0, a.bytes0 = mallocs()
		a.cpu0 = cpuNs()
		c.h.arm.Store(a)
		return response{}, false
	case opWait:
		return c.wait(req), false
	case opRejoinArm:
		c.h.rejoin.Store(&rejoinState{want: len(c.channels), seen: map[string]bool{}, done: make(chan struct{})})
		return response{}, false
	case opRejoinWait:
		return waitRejoin(c.h.rejoin.Load(), req), false
	case opAcks:
		return c.acks(req), false
	case opSend:
		return c.send(req), false
	case opMemory:
		heap, rss := memory()
		return response{Heap: heap, RSS: rss, Goroutines: runtime.NumGoroutine()}, false
	case opManyOpen:
		return c.manyOpen(req), false
	case opManyClose:
		return c.manyClose(), false
	case opClose:
		return response{}, true
	}
	return errResp("unknown op %q", req.Op), false
}

func (c *goChild) connect(req request) response {
	backoff := timeout(req.BackoffMs, time.Second)
	client, err := realtime.New(req.URL, apiKey,
		realtime.WithVsn(realtime.Vsn(req.Vsn)),
		realtime.WithParams(url.Values{idParam: {req.ID}}),
		realtime.WithHandler(c.h),
		realtime.WithTimeout(2*time.Minute),
		realtime.WithReconnectAfter(func(int) time.Duration { return backoff }),
		// Room for a whole blast: realtime-js never drops an event, so
		// neither may ours while its Handler catches up (B1t). Drops
		// would fail the run (they are reported as Stats.HandlerDropped).
		realtime.WithHandlerQueue(1<<20),
	)
	if err != nil {
		return errResp("new: %v", err)
	}
	c.client = client
	deadline := time.Now().Add(30 * time.Second)
	for client.ConnectionState() != realtime.ConnOpen {
		if time.Now().After(deadline) {
			return errResp("socket not open after 30 s: %s", client.ConnectionState())
		}
		time.Sleep(time.Millisecond)
	}
	return response{}
}

// subscribe creates the channels with one broadcast binding each and joins
// them with req.Concurrency Subscribe calls in flight (default: all). When
// req.TimeoutMs expires first it reports how many joined.
func (c *goChild) subscribe(req request) response {
	ctx, cancel := context.WithTimeout(context.Background(), timeout(req.TimeoutMs, 5*time.Minute))
	defer cancel()
	opts := []realtime.ChannelOption{realtime.BroadcastSelf(req.Self), realtime.BroadcastAck(req.Ack)}
	chans := make([]*realtime.Channel, len(req.Topics))
	start := time.Now()
	for i, t := range req.Topics {
		ch, err := c.client.Channel(t, opts...)
		if err != nil {
			return errResp("channel %s: %v", t, err)
		}
		if err := c.client.On(ch, realtime.Broadcast{Event: "*"}); err != nil {
			return errResp("on %s: %v", t, err)
		}
		chans[i] = ch
	}
	workers := req.Concurrency
	if workers <= 0 || workers > len(chans) {
		workers = len(chans)
	}
	var (
		next   atomic.Int64
		joined atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		errMsg string
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(chans) {
					return
				}
				st, err := c.client.Subscribe(ctx, chans[i])
				if ctx.Err() != nil {
					return
				}
				if err != nil || st != realtime.Subscribed {
					mu.Lock()
					errMsg = "subscribe " + chans[i].Name() + ": " + string(st) + " " + errString(err)
					mu.Unlock()
					return
				}
				joined.Add(1)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if errMsg != "" {
		return errResp("%s", errMsg)
	}
	for i, t := range req.Topics {
		c.channels[t] = chans[i]
	}
	n := int(joined.Load())
	return response{JoinNs: took.Nanoseconds(), Joined: n, TimedOut: n < len(chans)}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (c *goChild) wait(req request) response {
	a := c.h.arm.Load()
	if a == nil {
		return errResp("wait before arm")
	}
	m0, b0 := a.mallocs0, a.bytes0
	t := time.NewTimer(timeout(req.TimeoutMs, time.Minute))
	defer t.Stop()
	select {
	case <-a.done:
	case <-t.C:
	}
	m1, b1 := mallocs()
	cpu := cpuNs() - a.cpu0
	c.h.arm.Store(nil)
	if d := c.client.Stats().HandlerDropped; d > 0 {
		return errResp("the client dropped %d events (handler queue full)", d)
	}
	return response{
		Delivered: int(a.count.Load()),
		Bad:       int(a.bad.Load()),
		FirstNs:   a.firstNs.Load(),
		EndNs:     a.endNs.Load(),
		Mallocs:   m1 - m0,
		Bytes:     b1 - b0,
		CPUNs:     cpu,
	}
}

// acks sends acknowledged self-broadcasts open-loop at req.Rate per second
// for req.DurationMs and returns the send→ack latency of each.
func (c *goChild) acks(req request) response {
	ch := c.channels[req.Topic]
	if ch == nil {
		return errResp("acks: channel %q not subscribed", req.Topic)
	}
	total := req.Rate * req.DurationMs / 1000
	interval := time.Second / time.Duration(req.Rate)
	payload := json.RawMessage(cursorPayload(0))
	lat := make([]float64, total)
	failed := make([]bool, total)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(req.DurationMs)*time.Millisecond+2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		t0 := time.Now()
		ref, err := c.client.BroadcastWithAck(ctx, ch, ackEvent, payload)
		if err != nil {
			failed[i] = true
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := c.client.WaitForAck(ctx, ref); err != nil {
				failed[i] = true
				return
			}
			lat[i] = float64(time.Since(t0).Nanoseconds()) / 1e3
		}(i)
	}
	wg.Wait()
	var resp response
	for i := range lat {
		if failed[i] {
			resp.Errors++
			continue
		}
		resp.LatenciesUs = append(resp.LatenciesUs, lat[i])
	}
	return resp
}

// send pushes req.N broadcasts on req.Topic as fast as Broadcast returns.
func (c *goChild) send(req request) response {
	ch := c.channels[req.Topic]
	if ch == nil {
		return errResp("send: channel %q not subscribed", req.Topic)
	}
	payload := json.RawMessage(cursorPayload(0))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := nowNs()
	for i := 0; i < req.N; i++ {
		if err := c.client.Broadcast(ctx, ch, broadcastName, payload); err != nil {
			return errResp("broadcast %d: %v", i, err)
		}
	}
	return response{StartNs: start, SentNs: nowNs()}
}

// manyOpen is B7's many_open: req.N clients made with New and its defaults
// (plus the Handler, the vsn and the bench_id parameter), each with one
// channel bound to every broadcast and joined, one client after another or
// (req.All) every client on its own goroutine at once.
func (c *goChild) manyOpen(req request) response {
	if len(c.many) > 0 {
		return errResp("many_open: %d clients of the last many_open still open", len(c.many))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout(req.TimeoutMs, 5*time.Minute))
	defer cancel()
	c.manyBase = runtime.NumGoroutine()
	c.manyIDs = goroutineIDs()
	clients := make([]*realtime.Client, req.N)
	open := func(i int) error {
		cl, err := realtime.New(req.URL, apiKey,
			realtime.WithVsn(realtime.Vsn(req.Vsn)),
			realtime.WithParams(url.Values{idParam: {fmt.Sprintf("%s-%d", req.ID, i)}}),
			realtime.WithHandler(c.h),
		)
		if err != nil {
			return fmt.Errorf("new %d: %w", i, err)
		}
		clients[i] = cl
		ch, err := cl.Channel(fmt.Sprintf("%s-%05d", req.Topic, i))
		if err != nil {
			return fmt.Errorf("channel %d: %w", i, err)
		}
		if err := cl.On(ch, realtime.Broadcast{Event: "*"}); err != nil {
			return fmt.Errorf("on %d: %w", i, err)
		}
		st, err := cl.Subscribe(ctx, ch)
		if err != nil || st != realtime.Subscribed {
			return fmt.Errorf("subscribe %d: %s %s", i, st, errString(err))
		}
		return nil
	}
	var (
		joined atomic.Int64
		mu     sync.Mutex
		first  error
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	start := time.Now()
	if req.All {
		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := open(i); err != nil {
					fail(err)
					return
				}
				joined.Add(1)
			}()
		}
		wg.Wait()
	} else {
		for i := range clients {
			if err := open(i); err != nil {
				fail(err)
				break
			}
			joined.Add(1)
		}
	}
	took := time.Since(start)
	for _, cl := range clients {
		if cl != nil {
			c.many = append(c.many, cl)
		}
	}
	n := int(joined.Load())
	if first != nil && ctx.Err() == nil {
		return errResp("many_open: %v", first)
	}
	return response{JoinNs: took.Nanoseconds(), Joined: n, TimedOut: n < req.N}
}

// manyClose is B7's many_close: Close on every client of the last
// many_open, all at once (one goroutine each), then the goroutines beyond
// those running before that many_open and, when there are any, what
// created them. Close returns only when every goroutine of its client has
// exited, so nothing is waited for here.
func (c *goChild) manyClose() response {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed error
	)
	start := time.Now()
	for _, cl := range c.many {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cl.Close(ctx); err != nil {
				mu.Lock()
				if failed == nil {
					failed = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	left := runtime.NumGoroutine() - c.manyBase
	var by []string
	if left > 0 {
		by = createdBy(c.manyIDs)
	}
	c.many = nil
	if failed != nil {
		return errResp("many_close: %v", failed)
	}
	return response{CloseNs: took.Nanoseconds(), Left: left, LeftBy: by}
}

// goroutineIDs returns the ids of every goroutine now.
func goroutineIDs() map[string]bool {
	ids := map[string]bool{}
	for _, g := range strings.Split(allStacks(), "\n\n") {
		id, _, _ := strings.Cut(g, " [")
		ids[id] = true
	}
	return ids
}

// createdBy names, for every goroutine now whose id is not in before,
// the function it runs in and the one that created it.
func createdBy(before map[string]bool) []string {
	var out []string
	for _, g := range strings.Split(allStacks(), "\n\n") {
		lines := strings.Split(g, "\n")
		id, _, _ := strings.Cut(lines[0], " [")
		if before[id] || len(lines) < 2 {
			continue
		}
		top, _, _ := strings.Cut(lines[1], "(")
		desc := top
		for _, l := range lines {
			if strings.HasPrefix(l, "created by ") {
				by, _, _ := strings.Cut(strings.TrimPrefix(l, "created by "), " in goroutine")
				desc += ", created by " + by
			}
		}
		out = append(out, desc)
	}
	return out
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}
