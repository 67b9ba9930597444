package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/logbuf"
)

// The local mode: a throwaway PostgreSQL, the in-process server, an
// INSERT, an UPDATE and a DELETE, printed with their types; the DELETE
// shows the key it has, not zero values.
func TestTablewatcher(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out logbuf.Buffer
	if err := run(ctx, "", "", "orders", "", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"INSERT order 9223372036854775807 alice total=99999999999999999999.99 tags=[gift express] via=web placed=2026-11-28T10:00:00Z",
		"UPDATE order 9223372036854775807 alice total=100000000000000000000.00",
		"DELETE order 9223372036854775807 (old row: the primary key only",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "order 0") || strings.Contains(text, "placed=0001") {
		t.Errorf("zero values printed:\n%s", text)
	}
}
