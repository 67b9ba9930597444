//go:build realtime_testhooks

package registry

import "fmt"

// Crash makes the registry fail as if it had a bug. It exists for fault
// injection, only in builds with the realtime_testhooks tag: tests use it
// to prove that a registry restart loses no channel.
type Crash struct{ Reason string }

// testHook handles the messages that exist only for tests.
func testHook(msg any) {
	if m, ok := msg.(*Crash); ok {
		panic(fmt.Errorf("realtime: registry crash requested: %s", m.Reason))
	}
}
