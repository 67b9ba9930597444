package main

import (
	"testing"

	"github.com/supabase-go/realtime/internal/logbuf"
)

func TestEmbedded(t *testing.T) {
	var out logbuf.Buffer
	if err := run("", "", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := "subscribed: SUBSCRIBED\napp actor got hello {\"from\":\"main\"}\nrealtime tree stopped with its parent\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
