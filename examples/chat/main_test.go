package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/logbuf"
)

func waitFor(t *testing.T, out *logbuf.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q in:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The chat against the in-process server and the bot: the first line
// lists us online (never "online: []"), others' joins are announced, a
// typed line gets the bot's answer, the end of stdin ends the chat.
func TestChat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in, typed := io.Pipe()
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, "", "", "alice", "lobby", in, &out) }()
	waitFor(t, &out, "; type a message and press enter")
	if !regexp.MustCompile(`joined lobby as alice; online: \[(alice|alice bob)\];`).MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}
	// The bot answers what it receives once it joined the room, which it
	// does on its own time: wait for its presence.
	waitFor(t, &out, "* bob joined")
	if _, err := io.WriteString(typed, "hello\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &out, `<bob> you said "hello"`)
	if strings.Contains(out.String(), "* alice joined") {
		t.Errorf("our own join was announced:\n%s", out.String())
	}
	typed.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the chat did not end with its input")
	}
}
