package realtime

import "testing"

func TestClientNumbersAreUniqueAmongLiveClientsAndReused(t *testing.T) {
	var n numbers
	a, b, c := n.take(), n.take(), n.take()
	if a == b || b == c || a == c || a == 0 {
		t.Fatalf("numbers of live clients collide: %d %d %d", a, b, c)
	}
	n.release(b)
	if got := n.take(); got != b {
		t.Fatalf("take after release = %d, want the released %d", got, b)
	}
	if got := n.take(); got == a || got == b || got == c {
		t.Fatalf("take = %d, a number still in use", got)
	}
}
