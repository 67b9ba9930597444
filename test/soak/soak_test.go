//go:build soak

package soak

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/test/faultproxy"
	"github.com/supabase-go/realtime/test/pgtest"
)

var (
	duration = flag.Duration("soak.duration", envDuration("SOAK_DURATION", 10*time.Minute), "how long the traffic runs")
	seed     = flag.Uint64("soak.seed", 1, "seed of the cut schedule")
	cutMin   = flag.Duration("soak.cutmin", 20*time.Second, "shortest time between two cuts")
	cutMax   = flag.Duration("soak.cutmax", 60*time.Second, "longest time between two cuts")
)

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// Traffic rates.
const (
	broadcastEvery = 20 * time.Millisecond  // 50 acknowledged broadcasts per second
	insertEvery    = 100 * time.Millisecond // 10 rows per second
	convergeWithin = 60 * time.Second       // after a cut
)

// Outcomes of a broadcast push.
const (
	unsent int32 = iota
	pending
	acked
	refused
	lost
)

type sample struct {
	at         time.Duration
	heap       uint64
	goroutines int
	cuts       int
	acked      int
	lost       int
	refused    int
	changes    int
}

func TestSoak(t *testing.T) {
	if *duration <= 0 {
		t.Fatal("-soak.duration must be positive")
	}
	fmt.Printf("soak: %v of traffic, cuts every %v–%v (seed %d)\n", *duration, *cutMin, *cutMax, *seed)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// PostgreSQL and the server, in its own process.
	cluster, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer cluster.Stop()
	db, err := pgx.Connect(ctx, cluster.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	if _, err := db.Exec(ctx, `create table soak_items (id bigint primary key, n int)`); err != nil {
		t.Fatal(err)
	}
	projectURL, stopServer := startServer(t, cluster.DSN())
	defer stopServer()
	proxy, err := faultproxy.New(strings.TrimPrefix(projectURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()

	maxSeq := int(duration.Seconds()*float64(time.Second/broadcastEvery))*2 + 1000
	maxID := int(duration.Seconds()*float64(time.Second/insertEvery))*2 + 100
	outcome := make([]atomic.Int32, maxSeq)
	observed := make([]atomic.Uint32, maxSeq) // observer's copies per seq
	ownCopies := make([]atomic.Uint32, maxSeq)
	changes := make([]atomic.Uint32, maxID)
	var changeTotal, pgReady atomic.Int64

	// The client under test, through the proxy.
	h := realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) {
		switch e := ev.(type) {
		case realtime.BroadcastEvent:
			if s, ok := seqOf(e.Payload); ok && s < maxSeq {
				ownCopies[s].Add(1)
			}
		case realtime.ChangeEvent:
			var row struct{ ID int64 }
			if json.Unmarshal(e.Record, &row) == nil && row.ID >= 0 && int(row.ID) < maxID {
				changes[row.ID].Add(1)
				changeTotal.Add(1)
			}
		case realtime.SystemEvent:
			if e.Message == "Subscribed to PostgreSQL" {
				pgReady.Add(1)
			}
		}
	})
	c, err := realtime.New(proxy.URL(), "soak", realtime.WithHandler(h), realtime.WithHeartbeatInterval(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	bc := mustChannel(t, c, "soak-bc", realtime.Broadcast{}, realtime.BroadcastAck(true), realtime.BroadcastSelf(true))
	pres := mustChannel(t, c, "soak-pres", realtime.Presence{}, realtime.PresenceKey("soaker"))
	dbch := mustChannel(t, c, "soak-db", realtime.PostgresChanges{Event: realtime.PostgresInsert, Schema: "public", Table: "soak_items"})
	chans := []*realtime.Channel{bc, pres, dbch}
	for _, ch := range chans {
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		if _, err := c.Subscribe(sctx, ch); err != nil {
			t.Fatalf("subscribe %s: %v", ch.Name(), err)
		}
		scancel()
	}
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	if err := c.Track(tctx, pres, map[string]string{"name": "soaker"}); err != nil {
		t.Fatalf("track: %v", err)
	}
	tcancel()

	// The observer, straight to the server.
	obsH := realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) {
		if e, ok := ev.(realtime.BroadcastEvent); ok {
			if s, ok := seqOf(e.Payload); ok && s < maxSeq {
				observed[s].Add(1)
			}
		}
	})
	obs, err := realtime.New(projectURL, "soak", realtime.WithHandler(obsH))
	if err != nil {
		t.Fatal(err)
	}
	obc := mustChannel(t, obs, "soak-bc", realtime.Broadcast{})
	opres := mustChannel(t, obs, "soak-pres", realtime.Presence{}, realtime.PresenceKey("observer"))
	for _, ch := range []*realtime.Channel{obc, opres} {
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		if _, err := obs.Subscribe(sctx, ch); err != nil {
			t.Fatalf("observer subscribe %s: %v", ch.Name(), err)
		}
		scancel()
	}
	waitFor(t, convergeWithin, "postgres subscription", func() bool { return pgReady.Load() > 0 })

	traffic, stopTraffic := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var sent atomic.Int64
	var failures sync.Map // description → struct{}, reported at the end
	fail := func(format string, args ...any) { failures.Store(fmt.Sprintf(format, args...), struct{}{}) }

	// Broadcast sender and ack waiter.
	type waitItem struct {
		seq int
		ref realtime.AckRef
	}
	acks := make(chan waitItem, 8192)
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(acks)
		tick := time.NewTicker(broadcastEvery)
		defer tick.Stop()
		for s := 0; s < maxSeq; s++ {
			select {
			case <-traffic.Done():
				return
			case <-tick.C:
			}
			outcome[s].Store(pending)
			sent.Store(int64(s + 1))
			ref, err := c.BroadcastWithAck(ctx, bc, "m", map[string]int{"seq": s})
			if err != nil {
				if !errors.Is(err, realtime.ErrBufferFull) {
					fail("broadcast %d refused with an unexpected error: %v", s, err)
				}
				outcome[s].Store(refused)
				continue
			}
			acks <- waitItem{s, ref}
		}
	}()
	go func() {
		defer wg.Done()
		for it := range acks {
			wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
			err := c.WaitForAck(wctx, it.ref)
			wcancel()
			switch {
			case err == nil:
				outcome[it.seq].Store(acked)
			case errors.Is(err, realtime.ErrConnectionLost), errors.Is(err, realtime.ErrPushTimeout):
				outcome[it.seq].Store(lost)
			default:
				fail("ack %d: unexpected error %v", it.seq, err)
				outcome[it.seq].Store(lost)
			}
		}
	}()

	// Row inserter.
	var inserted atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(insertEvery)
		defer tick.Stop()
		for id := 0; id < maxID; id++ {
			select {
			case <-traffic.Done():
				return
			case <-tick.C:
			}
			if _, err := db.Exec(ctx, `insert into soak_items (id, n) values ($1, $2)`, id, id); err != nil {
				fail("insert %d: %v", id, err)
				return
			}
			inserted.Store(int64(id + 1))
		}
	}()

	// Cutter: cut, then check convergence.
	var cuts atomic.Int64
	var convergeMu sync.Mutex
	var convergeTimes []time.Duration
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(*seed, *seed^0x5eed))
		for {
			span := *cutMax - *cutMin
			d := *cutMin
			if span > 0 {
				d += time.Duration(rng.Int64N(int64(span)))
			}
			tm := time.NewTimer(d)
			select {
			case <-traffic.Done():
				tm.Stop()
				return
			case <-tm.C:
			}
			epoch := c.Stats().ConnectionEpoch
			ref := presenceRef(obs, opres)
			proxy.Cut()
			cuts.Add(1)
			start := time.Now()
			if !poll(traffic, convergeWithin, func() bool { return converged(c, epoch, chans, obs, opres, ref) }) {
				if traffic.Err() == nil {
					fail("cut %d: not converged within %v (state %s, channels %v, observer presence %v)",
						cuts.Load(), convergeWithin, c.ConnectionState(), c.ListChannels(), obs.PresenceState(opres)["soaker"])
				}
				continue
			}
			convergeMu.Lock()
			convergeTimes = append(convergeTimes, time.Since(start))
			convergeMu.Unlock()
		}
	}()

	// Sampler.
	interval := max(*duration/10, 5*time.Second)
	count := func() (a, l, r int) {
		n := int(sent.Load())
		for s := 0; s < n; s++ {
			switch outcome[s].Load() {
			case acked:
				a++
			case lost:
				l++
			case refused:
				r++
			}
		}
		return
	}
	began := time.Now()
	var samples []sample
	take := func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		a, l, r := count()
		s := sample{at: time.Since(began).Round(time.Second), heap: ms.HeapAlloc, goroutines: runtime.NumGoroutine(),
			cuts: int(cuts.Load()), acked: a, lost: l, refused: r, changes: int(changeTotal.Load())}
		samples = append(samples, s)
		fmt.Printf("soak: %8v heap %6.2f MiB goroutines %4d cuts %3d acked %6d lost %4d refused %4d changes %5d\n",
			s.at, float64(s.heap)/(1<<20), s.goroutines, s.cuts, s.acked, s.lost, s.refused, s.changes)
	}
	take()
	end := time.NewTimer(*duration)
	tick := time.NewTicker(interval)
loop:
	for {
		select {
		case <-tick.C:
			take()
		case <-end.C:
			break loop
		}
	}
	tick.Stop()
	if len(samples) < 11 && time.Since(began) >= interval*10 {
		take()
	}
	stopTraffic()
	wg.Wait()

	// Let the last acks and deliveries arrive.
	n := int(sent.Load())
	waitFor(t, 30*time.Second, "observer copies of acked broadcasts", func() bool {
		for s := 0; s < n; s++ {
			if outcome[s].Load() == acked && observed[s].Load() == 0 {
				return false
			}
		}
		return true
	})

	// Exactly-once checks.
	a, l, r := count()
	for s := 0; s < n; s++ {
		switch o := outcome[s].Load(); o {
		case acked:
			if observed[s].Load() != 1 {
				fail("acked broadcast %d reached the observer %d times", s, observed[s].Load())
			}
		case refused:
			if observed[s].Load() != 0 {
				fail("refused broadcast %d was sent anyway", s)
			}
		case lost:
			if observed[s].Load() > 1 {
				fail("broadcast %d reported lost was delivered %d times", s, observed[s].Load())
			}
		default:
			fail("broadcast %d has no outcome (%d)", s, o)
		}
		if ownCopies[s].Load() > 1 {
			fail("broadcast %d came back to the sender %d times", s, ownCopies[s].Load())
		}
	}
	dup := 0
	for id := range changes {
		if changes[id].Load() > 1 {
			dup++
		}
	}
	if dup > 0 {
		fail("%d postgres changes were delivered more than once", dup)
	}
	if changeTotal.Load() == 0 {
		fail("no postgres change was delivered")
	}
	if cuts.Load() == 0 {
		fail("the run was too short for a cut")
	}

	// Plateau.
	heapOK, gorOK, heapFirst, heapLast, gorFirst, gorLast := plateau(samples[1:])
	if !heapOK {
		fail("heap keeps growing: first third %.2f MiB, last third %.2f MiB", heapFirst/(1<<20), heapLast/(1<<20))
	}
	if !gorOK {
		fail("goroutines keep growing: first third %.1f, last third %.1f", gorFirst, gorLast)
	}

	// Close, then nothing of the client may be left.
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	if err := c.Close(cctx); err != nil {
		fail("close: %v", err)
	}
	if err := obs.Close(cctx); err != nil {
		fail("observer close: %v", err)
	}
	proxy.Close()
	if !poll(context.Background(), 30*time.Second, func() bool { return len(leakcheck.Goroutines()) == 0 }) {
		fail("goroutines left after Close: %d", len(leakcheck.Goroutines()))
	}

	// Report.
	convergeMu.Lock()
	var worst, sum time.Duration
	for _, d := range convergeTimes {
		sum += d
		worst = max(worst, d)
	}
	nConv := len(convergeTimes)
	convergeMu.Unlock()
	fmt.Println()
	fmt.Println("| t | HeapAlloc after GC | goroutines | cuts | acked | lost with socket | refused (buffer full) | postgres changes |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, s := range samples {
		fmt.Printf("| %v | %.2f MiB | %d | %d | %d | %d | %d | %d |\n", s.at, float64(s.heap)/(1<<20), s.goroutines, s.cuts, s.acked, s.lost, s.refused, s.changes)
	}
	fmt.Println()
	fmt.Printf("broadcasts: %d pushed, %d acked (each seen once by the observer), %d lost with the socket (each seen at most once), %d refused with ErrBufferFull (none sent)\n", n, a, l, r)
	fmt.Printf("postgres: %d rows inserted, %d changes delivered, %d duplicates (changes made while disconnected are not replayed by Realtime)\n", inserted.Load(), changeTotal.Load(), dup)
	if nConv > 0 {
		fmt.Printf("cuts: %d, converged after each (rejoined + presence exactly once at the observer): mean %v, worst %v\n", cuts.Load(), (sum / time.Duration(nConv)).Round(time.Millisecond), worst.Round(time.Millisecond))
	}
	fmt.Printf("plateau: heap first third %.2f MiB, last third %.2f MiB; goroutines first third %.1f, last third %.1f\n", heapFirst/(1<<20), heapLast/(1<<20), gorFirst, gorLast)
	failures.Range(func(k, _ any) bool {
		t.Error(k)
		return true
	})
}

// plateau compares the mean of the last third of the samples with the
// mean of the first third.
func plateau(samples []sample) (heapOK, gorOK bool, heapFirst, heapLast, gorFirst, gorLast float64) {
	third := max(len(samples)/3, 1)
	mean := func(ss []sample, f func(sample) float64) float64 {
		var sum float64
		for _, s := range ss {
			sum += f(s)
		}
		return sum / float64(len(ss))
	}
	heap := func(s sample) float64 { return float64(s.heap) }
	gor := func(s sample) float64 { return float64(s.goroutines) }
	if len(samples) == 0 {
		return true, true, 0, 0, 0, 0
	}
	first, last := samples[:third], samples[len(samples)-third:]
	heapFirst, heapLast = mean(first, heap), mean(last, heap)
	gorFirst, gorLast = mean(first, gor), mean(last, gor)
	heapOK = heapLast <= heapFirst*1.5+1<<20
	gorOK = gorLast <= gorFirst*1.25+5
	return
}

// converged reports whether the client is back after a cut: a new
// connection (epoch) is open, every channel is joined, and the observer
// sees the client's presence key with exactly one meta, a new one (the
// presence of the cut socket left, the re-track joined).
func converged(c *realtime.Client, epoch uint64, chans []*realtime.Channel, obs *realtime.Client, opres *realtime.Channel, oldRef string) bool {
	if c.Stats().ConnectionEpoch <= epoch || c.ConnectionState() != realtime.ConnOpen {
		return false
	}
	for _, ch := range chans {
		if c.ChannelState(ch) != realtime.ChannelJoined {
			return false
		}
	}
	metas := obs.PresenceState(opres)["soaker"]
	return len(metas) == 1 && metas[0].Ref != oldRef
}

// presenceRef returns the phx_ref of the client's presence as the
// observer sees it ("" if none).
func presenceRef(obs *realtime.Client, opres *realtime.Channel) string {
	metas := obs.PresenceState(opres)["soaker"]
	if len(metas) == 0 {
		return ""
	}
	return metas[0].Ref
}

func seqOf(payload []byte) (int, bool) {
	var p struct{ Seq *int }
	if json.Unmarshal(payload, &p) != nil || p.Seq == nil || *p.Seq < 0 {
		return 0, false
	}
	return *p.Seq, true
}

func mustChannel(t *testing.T, c *realtime.Client, name string, b realtime.Binding, opts ...realtime.ChannelOption) *realtime.Channel {
	t.Helper()
	ch, err := c.Channel(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.On(ch, b); err != nil {
		t.Fatal(err)
	}
	return ch
}

// poll checks cond every 50 ms until it holds (true), d passes or ctx
// ends (false).
func poll(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(context.Background(), d, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// startServer builds and starts cmd/realtime-server on a random port and
// returns its project URL.
func startServer(t *testing.T, dsn string) (string, func()) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "realtime-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/supabase-go/realtime/cmd/realtime-server")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build realtime-server: %v", err)
	}
	// The soak measures the client, not the server's limits: the real
	// server's defaults (events, joins, users, presence, error delays)
	// are turned off.
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-postgres", dsn, "-log-level", "error",
		"-max-events-per-second", "0", "-max-joins-per-second", "0", "-max-users", "0", "-presence-per-30s", "0",
		"-join-error-delay", "0", "-connect-error-delay", "0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "project URL:"); ok {
				urlCh <- strings.TrimSpace(u)
			}
		}
	}()
	select {
	case u := <-urlCh:
		return u, stop
	case <-time.After(60 * time.Second):
		stop()
		t.Fatal("realtime-server did not print its URL")
		return "", nil
	}
}
