package registry

import (
	"testing"
	"time"
)

func TestDefaultRejoinFollowsPhoenix(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := DefaultRejoin(i + 1); got != w {
			t.Fatalf("DefaultRejoin(%d) = %v, want %v", i+1, got, w)
		}
	}
}
