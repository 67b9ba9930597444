// Package logbuf is a goroutine-safe buffer for tests that capture log
// output (a slog handler or a CLI's output written from several
// goroutines).
//
// # Concurrency
//
// Every method of Buffer is safe for concurrent use.
//
// # Lifecycle
//
// A Buffer needs no setup and owns no goroutine; its zero value is ready.
package logbuf

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer behind a mutex.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
