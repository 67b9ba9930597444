package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/supabase-go/realtime/store"
)

func TestTableOrderAndIntern(t *testing.T) {
	tb := store.NewTable()
	for i := 3; i >= 1; i-- {
		tb.Put(store.Record{Topic: fmt.Sprintf("realtime:%d", i), Seq: uint64(i)})
	}
	tb.Put(store.Record{Topic: "realtime:2", Seq: 2, Name: "replaced"})
	all := tb.All()
	if len(all) != 3 || tb.Len() != 3 {
		t.Fatalf("len = %d/%d, want 3", len(all), tb.Len())
	}
	for i, r := range all {
		if r.Seq != uint64(i+1) {
			t.Fatalf("All()[%d].Seq = %d: not in creation order", i, r.Seq)
		}
	}
	if r, ok := tb.Get("realtime:2"); !ok || r.Name != "replaced" {
		t.Fatalf("Get = %+v, %v", r, ok)
	}
	if s, ok := tb.Intern([]byte("realtime:1")); !ok || s != "realtime:1" {
		t.Fatalf("Intern = %q, %v", s, ok)
	}
	if _, ok := tb.Intern([]byte("realtime:9")); ok {
		t.Fatal("Intern of an unknown topic succeeded")
	}
	if n := testing.AllocsPerRun(100, func() { tb.Intern([]byte("realtime:1")) }); n != 0 {
		t.Fatalf("Intern allocates %.0f times", n)
	}
	tb.Delete("realtime:1")
	if _, ok := tb.Get("realtime:1"); ok || tb.Len() != 2 {
		t.Fatal("Delete left the record")
	}
}

// Readers run concurrently with a writer (run with -race).
func TestTableConcurrentReaders(t *testing.T) {
	tb := store.NewTable()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				tb.Get("realtime:5")
				tb.Intern([]byte("realtime:5"))
				_ = tb.All()
			}
		}()
	}
	for i := 0; i < 2000; i++ {
		tb.Put(store.Record{Topic: fmt.Sprintf("realtime:%d", i%50), Seq: uint64(i)})
	}
	close(stop)
	wg.Wait()
	if tb.Len() != 50 {
		t.Fatalf("len = %d, want 50", tb.Len())
	}
}

// BenchmarkTablePut shows that a write does not depend on the number of
// channels (it copied the whole table before).
func BenchmarkTablePut10k(b *testing.B) {
	tb := store.NewTable()
	for i := 0; i < 10000; i++ {
		tb.Put(store.Record{Topic: fmt.Sprintf("realtime:%d", i), Seq: uint64(i)})
	}
	rec := store.Record{Topic: "realtime:5000", Seq: 5000}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tb.Put(rec)
	}
}
