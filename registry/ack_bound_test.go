package registry

import (
	"errors"
	"fmt"
	"testing"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/messages"
)

// The results kept for WaitForAck calls that have not come yet are
// bounded: replies can only finish refs the client pushed, and of those
// only the newest maxAckResults are remembered.
func TestAckResultsAreBounded(t *testing.T) {
	var a acks
	const n = maxAckResults + 100
	for i := 0; i < n; i++ {
		var err error
		if i%2 == 1 {
			err = messages.ErrPushTimeout
		}
		a.finish(fmt.Sprint(i), err)
	}
	if len(a.results) != maxAckResults || len(a.order) != maxAckResults {
		t.Fatalf("kept %d results (%d in order), want %d", len(a.results), len(a.order), maxAckResults)
	}
	wait := func(ref string) error {
		ch := make(chan error, 1)
		a.wait(ref, false, ackWaiter{reply: ch})
		return <-ch
	}
	if err := wait("0"); !errors.Is(err, messages.ErrUnknownAck) {
		t.Fatalf("oldest result: %v, want ErrUnknownAck", err)
	}
	if err := wait(fmt.Sprint(n - 1)); !errors.Is(err, messages.ErrPushTimeout) {
		t.Fatalf("newest result: %v, want ErrPushTimeout", err)
	}
	if err := wait(fmt.Sprint(n - 2)); err != nil {
		t.Fatalf("second newest result: %v, want nil", err)
	}
	// A result is handed out once.
	if err := wait(fmt.Sprint(n - 2)); !errors.Is(err, messages.ErrUnknownAck) {
		t.Fatalf("result waited for twice: %v, want ErrUnknownAck", err)
	}
}

// A WaitForAck whose caller gave up (its claim abandoned) does not consume
// the result: the next WaitForAck of that ref gets it.
func TestAbandonedAckWaiterLeavesTheResult(t *testing.T) {
	var a acks
	gone := &actors.Claim{}
	if !gone.Abandon() {
		t.Fatal("Abandon on an open claim failed")
	}
	first := make(chan error, 1)
	a.wait("7", true, ackWaiter{reply: first, claim: gone})
	a.finish("7", messages.ErrPushTimeout)
	if len(first) != 0 {
		t.Fatalf("the abandoned waiter was answered: %v", <-first)
	}
	second := make(chan error, 1)
	a.wait("7", false, ackWaiter{reply: second, claim: &actors.Claim{}})
	if err := <-second; !errors.Is(err, messages.ErrPushTimeout) {
		t.Fatalf("second wait = %v, want ErrPushTimeout", err)
	}
}
