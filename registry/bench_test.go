package registry_test

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/registry"
	"github.com/supabase-go/realtime/store"
)

type countingHandler struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (h *countingHandler) HandleEvent(_ context.Context, ev messages.Event) {
	if _, ok := ev.(messages.BroadcastEvent); ok && h.n.Add(1) == h.want {
		close(h.done)
	}
}

// BenchmarkHotPath measures the client's hot path without the socket: the
// bytes of a broadcast frame are decoded (as the reader goroutine does),
// sent to the registry actor, routed by binding and handed to a Handler.
func BenchmarkHotPath(b *testing.B) {
	system := actors.NewSystem(nil)
	table := store.NewTable()
	st, err := system.Root.SpawnNamed(store.Props(table), "bench-store")
	if err != nil {
		b.Fatal(err)
	}
	h := &countingHandler{want: int64(b.N), done: make(chan struct{})}
	var refs wire.Refs
	reg, err := system.Root.SpawnNamed(registry.Props(registry.Config{
		Handler: h, Timeout: 10 * time.Second, BufferSize: 100,
		Refs: &refs, Store: st, Table: table, Connection: st, // writes are never made here
	}), "bench-registry")
	if err != nil {
		b.Fatal(err)
	}
	topic := "realtime:room1"
	system.Root.Send(reg, &messages.CreateChannel{Topic: topic, Name: "room1"})
	system.Root.Send(reg, &messages.AddBinding{Topic: topic, Binding: messages.Broadcast{Event: "cursor"}})
	raw := []byte(`[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"user":"alice","x":120,"y":348,"color":"#ff8800","ts":"2026-11-28T10:15:30.123Z"}}]`)
	// As the supervisor does: known topics are interned from the table.
	codec, err := wire.NewCodec(frame.V2, table.Intern)
	if err != nil {
		b.Fatal(err)
	}
	// Wait until the channel is in the table.
	for table.Len() == 0 {
		time.Sleep(time.Millisecond)
	}

	// As the socket reader does: frames are read back to back into a
	// shared chunk, decoded and queued in the Inbox; the registry is told
	// once per batch.
	inbox := wire.NewInbox()
	chunk := make([]byte, 0, 64<<10)
	var in messages.Inbound // reused, as the reader does
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if cap(chunk)-len(chunk) < len(raw) {
			chunk = make([]byte, 0, 64<<10)
		}
		start := len(chunk)
		chunk = append(chunk, raw...)
		in = messages.Inbound{Received: time.Now()}
		if err := codec.Decode(chunk[start:len(chunk):len(chunk)], false, &in.Frame); err != nil {
			b.Fatal(err)
		}
		if inbox.Put(in) {
			system.Root.Send(reg, inbox.Ready)
		}
	}
	select {
	case <-h.done:
	case <-time.After(time.Minute):
		b.Fatalf("delivered %d of %d", h.n.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	// CPU time of every goroutine (decode, registry, Handler) per frame:
	// unlike ns/op, it barely moves when other processes compete for the
	// cores.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/frame")
	_ = system.Root.PoisonFuture(reg).Wait()
	_ = system.Root.PoisonFuture(st).Wait()
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
