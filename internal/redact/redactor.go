package redact

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
)

// Redactor knows the secrets one client has held — its API key and every
// access token it has used — and removes them from text that came from
// the server before that text goes into an error, an event's error or a
// log line. It only grows: a token replaced by a newer one is still a
// secret. The zero value and a nil *Redactor redact nothing.
type Redactor struct {
	mu      sync.Mutex               // serializes Add
	secrets atomic.Pointer[[]string] // copy on write; read without a lock
}

// NewRedactor returns a Redactor that knows secrets (empty ones and ones
// shorter than 4 bytes are ignored).
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		r.Add(s)
	}
	return r
}

// Add makes s a secret from now on.
func (r *Redactor) Add(s string) {
	if r == nil || len(s) < 4 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var cur []string
	if p := r.secrets.Load(); p != nil {
		cur = *p
	}
	for _, have := range cur {
		if have == s {
			return
		}
	}
	next := make([]string, 0, len(cur)+1)
	next = append(next, cur...)
	next = append(next, s)
	// Longest first, so a secret that contains another is replaced whole.
	for i := len(next) - 1; i > 0 && len(next[i]) > len(next[i-1]); i-- {
		next[i], next[i-1] = next[i-1], next[i]
	}
	r.secrets.Store(&next)
}

func (r *Redactor) list() []string {
	if r == nil {
		return nil
	}
	if p := r.secrets.Load(); p != nil {
		return *p
	}
	return nil
}

// String returns s with every known secret replaced by "REDACTED". It does
// not allocate when s contains none.
func (r *Redactor) String(s string) string {
	for _, sec := range r.list() {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "REDACTED")
		}
	}
	return s
}

// Bytes is String for raw bytes (a JSON response, say): b itself when it
// holds no secret, else a redacted copy. Secrets are replaced inside JSON
// strings by a plain word, so valid JSON stays valid.
func (r *Redactor) Bytes(b []byte) []byte {
	for _, sec := range r.list() {
		if bytes.Contains(b, []byte(sec)) {
			b = bytes.ReplaceAll(b, []byte(sec), []byte("REDACTED"))
		}
	}
	return b
}
