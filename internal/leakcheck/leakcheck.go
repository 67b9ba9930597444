// Package leakcheck finds goroutines left behind by the client, the test
// server or the libraries they use. Tests call it after Close, inside
// Gomega's Eventually, because some goroutines (a dead-letter throttle, a
// closing socket) take a moment to exit.
//
// # Concurrency
//
// Goroutines is safe to call from any goroutine; it reads a snapshot of all
// stacks.
//
// # Lifecycle
//
// Nothing to start or stop.
package leakcheck

import (
	"bytes"
	"runtime"
	"strings"
)

// Owned lists the stack frames that mark a goroutine as belonging to the
// client, the test server or their libraries.
var Owned = []string{
	"github.com/supabase-go/realtime/connection.",
	"github.com/supabase-go/realtime/registry.",
	"github.com/supabase-go/realtime/supervisor.",
	"github.com/supabase-go/realtime/store.",
	"github.com/supabase-go/realtime/actors.",
	"github.com/supabase-go/realtime/test/realtimetest.",
	"github.com/supabase-go/realtime/test/faultproxy.",
	"github.com/asynkron/protoactor-go/",
	"github.com/gorilla/websocket.",
}

// Goroutines returns the stacks of live goroutines (other than the caller)
// that contain any of the Owned frames.
func Goroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	self := make([]byte, 64)
	self = self[:runtime.Stack(self, false)]
	selfHeader := string(self[:bytes.IndexByte(self, '\n')+1])
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.HasPrefix(g, strings.TrimSpace(selfHeader)) {
			continue
		}
		for _, mark := range Owned {
			if strings.Contains(g, mark) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
