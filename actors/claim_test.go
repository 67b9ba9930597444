package actors

import (
	"sync"
	"testing"
)

func TestClaimExactlyOneSideWins(t *testing.T) {
	for i := 0; i < 1000; i++ {
		var c Claim
		var took, gaveUp bool
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); took = c.Take() }()
		go func() { defer wg.Done(); gaveUp = c.Abandon() }()
		wg.Wait()
		if took == gaveUp {
			t.Fatalf("round %d: Take %v, Abandon %v; want exactly one", i, took, gaveUp)
		}
		if c.Take() || c.Abandon() {
			t.Fatalf("round %d: a settled claim changed hands", i)
		}
	}
	var nilClaim *Claim
	if !nilClaim.Take() {
		t.Fatal("a nil claim must always be taken")
	}
}
