package actors_test

import (
	"testing"
	"time"

	"github.com/supabase-go/realtime/actors"
)

func TestManualClockFiresInOrderAndReschedules(t *testing.T) {
	c := actors.NewManualClock(time.Unix(0, 0))
	var fired []int
	var resched func()
	resched = func() {
		fired = append(fired, int(c.Now().Unix()))
		if len(fired) < 3 {
			c.AfterFunc(30*time.Second, resched)
		}
	}
	c.AfterFunc(30*time.Second, resched)
	stopped := c.AfterFunc(10*time.Second, func() { t.Error("stopped timer fired") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop must report true once")
	}
	c.Advance(30 * time.Second)
	c.Advance(30 * time.Second)
	c.Advance(30 * time.Second)
	if len(fired) != 3 || fired[0] != 30 || fired[1] != 60 || fired[2] != 90 {
		t.Fatalf("fired at %v, want [30 60 90]", fired)
	}
	if c.Pending() != 0 {
		t.Fatalf("pending = %d", c.Pending())
	}
}
