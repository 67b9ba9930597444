package supervisor

import (
	"testing"
	"time"
)

func TestDefaultBackoffIsExponentialCappedAndJittered(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}
	for tries, max := range want {
		seen := map[time.Duration]bool{}
		for i := 0; i < 200; i++ {
			d := DefaultBackoff(tries + 1)
			if d > max || d < max*8/10 {
				t.Fatalf("DefaultBackoff(%d) = %v, want within [%v, %v]", tries+1, d, max*8/10, max)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Fatalf("DefaultBackoff(%d) has no jitter: %d distinct values in 200 draws", tries+1, len(seen))
		}
	}
	if d := DefaultBackoff(1000); d > BackoffCap {
		t.Fatalf("DefaultBackoff(1000) = %v exceeds the cap", d)
	}
	if d := DefaultBackoff(0); d > BackoffBase {
		t.Fatalf("DefaultBackoff(0) = %v, want at most the base", d)
	}
}
