package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/leakcheck"
)

// TestMain fails the run when a command left a goroutine of the client or
// of the test server behind: every command closes what it started.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(10 * time.Second)
		for {
			left := leakcheck.Goroutines()
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "goroutines left behind:\n%s\n", strings.Join(left, "\n\n"))
				code = 1
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	os.Exit(code)
}
