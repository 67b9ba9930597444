package registry

import (
	"errors"
	"fmt"
	"testing"

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
		a.wait(ref, false, ch)
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
