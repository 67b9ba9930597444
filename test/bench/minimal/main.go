// Command minimal is B1's calibration program for this client: the least
// a Go service does to count broadcasts, on the public API only (New,
// Channel, On, Subscribe, a counting HandlerFunc), every option at its
// default. test/bench builds and runs it next to the harness's children
// (test/bench/calibrate.go).
//
// Usage: minimal URL VSN ID N
// Prints "ready" once the channel is SUBSCRIBED, then at every N-th
// delivery the wall-clock Unix nanoseconds and the CPU nanoseconds the
// process used since the previous line; exits when stdin closes. A dropped
// event (Handler queue full) is printed as "dropped" and ends the program.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	realtime "github.com/supabase-go/realtime"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "minimal:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 4 {
		return errors.New("usage: minimal URL VSN ID N")
	}
	want, err := strconv.Atoi(args[3])
	if err != nil || want <= 0 {
		return fmt.Errorf("frame count %q is not a positive number", args[3])
	}
	marks := make(chan string, 64)
	count := 0            // the Handler runs one call at a time
	var cpu0 atomic.Int64 // set before "ready", then by the Handler
	h := realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) {
		switch e := ev.(type) {
		case realtime.BroadcastEvent:
			if count++; count%want == 0 {
				end, cpu := time.Now().UnixNano(), cpuNs()
				marks <- fmt.Sprintf("%d %d", end, cpu-cpu0.Swap(cpu))
			}
		case realtime.ErrorEvent:
			var over *realtime.HandlerOverflowError
			if errors.As(e.Err, &over) {
				marks <- "dropped"
			}
		}
	})
	c, err := realtime.New(args[0], "bench-anon-key",
		realtime.WithVsn(realtime.Vsn(args[1])),
		realtime.WithParams(url.Values{"bench_id": {args[2]}}),
		realtime.WithHandler(h))
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	}()
	ch, err := c.Channel("room")
	if err != nil {
		return err
	}
	if err := c.On(ch, realtime.Broadcast{Event: "cursor"}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if st, err := c.Subscribe(ctx, ch); err != nil || st != realtime.Subscribed {
		return fmt.Errorf("subscribe: %s %v", st, err)
	}
	cpu0.Store(cpuNs()) // before "ready": the Handler sees no broadcast until the first blast
	fmt.Println("ready")
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	for {
		select {
		case m := <-marks:
			fmt.Println(m)
		case <-eof:
			return nil
		}
	}
}

// cpuNs returns the CPU time (user and system) this process has used.
func cpuNs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
