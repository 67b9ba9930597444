package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	realtime "github.com/supabase-go/realtime"
)

// The examples that talk to a server read the project URL and key from the
// environment; test/spec runs the same flows against the in-process server
// and checks their output.

// A client that joins a channel, broadcasts to itself and prints what its
// Handler receives.
func Example() {
	got := make(chan realtime.BroadcastEvent, 1)
	c, err := realtime.New(os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_ANON_KEY"),
		realtime.WithHandler(realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
			if b, ok := ev.(realtime.BroadcastEvent); ok {
				got <- b
			}
		})))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("room1", realtime.BroadcastSelf(true))
	_ = c.On(ch, realtime.Broadcast{Event: "cursor"})
	if _, err := c.Subscribe(ctx, ch); err != nil {
		log.Fatal(err)
	}
	_ = c.Broadcast(ctx, ch, "cursor", map[string]int{"x": 3, "y": 4})
	b := <-got
	var pos struct{ X, Y int }
	_ = b.Decode(&pos)
	fmt.Println(b.Channel, b.Event, pos.X, pos.Y) // room1 cursor 3 4
}

// Subscribe waits for the first outcome of the join. A rejected join
// carries the server's reason; a refused token is an *AuthError, and
// without an AccessToken callback the channel waits for SetAuth instead of
// retrying with the same token.
func ExampleClient_Subscribe() {
	c, _ := realtime.New(os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_ANON_KEY"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("vault", realtime.Private(true))
	status, err := c.Subscribe(ctx, ch)
	var authErr *realtime.AuthError
	switch {
	case errors.As(err, &authErr):
		fmt.Println(status, "-", authErr.Reason) // CHANNEL_ERROR - Unauthorized: …
	case err != nil:
		fmt.Println(status, err)
	}
}

// Options validate themselves: a bad value fails New, before anything
// starts.
func ExampleNew_invalidOption() {
	_, err := realtime.New("https://project.supabase.co", "anon-key", realtime.WithHeartbeatInterval(-time.Second))
	fmt.Println(err)
	fmt.Println(errors.Is(err, realtime.ErrInvalidOption))
	// Output:
	// realtime: invalid heartbeat interval: must be positive
	// true
}

// HandlerFunc adapts a function. Events arrive one at a time, in order, on
// the client's Dispatcher goroutine, so state touched only by the Handler
// needs no lock.
func ExampleHandlerFunc() {
	joined := 0
	h := realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
		switch e := ev.(type) {
		case realtime.ConnectionStateEvent:
			log.Println("connection:", e.New)
		case realtime.ChannelStatusEvent:
			if e.Status == realtime.Subscribed {
				joined++
			}
		}
	})
	_, _ = realtime.New(os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_ANON_KEY"), realtime.WithHandler(h))
}

// Track publishes presence and waits for the server's reply; the state of
// every channel member is then in PresenceState.
func ExampleClient_Track() {
	c, _ := realtime.New(os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_ANON_KEY"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("room1", realtime.PresenceKey("alice"))
	_ = c.On(ch, realtime.Presence{Event: realtime.PresenceSync})
	_, _ = c.Subscribe(ctx, ch)
	if err := c.Track(ctx, ch, map[string]string{"status": "online"}); err != nil {
		log.Fatal(err)
	}
	for key, metas := range c.PresenceState(ch) {
		fmt.Println(key, len(metas))
	}
}

// DecodeRecord turns a change's record into a struct with Postgres-correct
// types: int8 keeps every digit, numeric never passes through float64.
func ExampleDecodeRecord() {
	type Order struct {
		ID    int64            `json:"id"`
		Total realtime.Numeric `json:"total"`
		Due   time.Time        `json:"due"`
	}
	record := []byte(`{"id":9223372036854775807,"total":123456789012345678901234567890.123456789,"due":"2026-08-21T10:15:30.123456+00:00"}`)
	columns := []realtime.Column{{Name: "id", Type: "int8"}, {Name: "total", Type: "numeric"}, {Name: "due", Type: "timestamptz"}}
	o, err := realtime.DecodeRecord[Order](record, columns)
	fmt.Println(o.ID, o.Total, o.Due.Format(time.RFC3339Nano), err)
	// Output:
	// 9223372036854775807 123456789012345678901234567890.123456789 2026-08-21T10:15:30.123456Z <nil>
}

// BroadcastWithAck returns a ref; WaitForAck reports the server's answer: nil,
// or a *PushError such as payload_size_exceeded.
func ExampleClient_BroadcastWithAck() {
	c, _ := realtime.New(os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_ANON_KEY"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("room1", realtime.BroadcastAck(true))
	_, _ = c.Subscribe(ctx, ch)
	ref, _ := c.BroadcastWithAck(ctx, ch, "cursor", map[string]int{"x": 1})
	var pe *realtime.PushError
	if err := c.WaitForAck(ctx, ref); errors.As(err, &pe) {
		fmt.Println("refused:", pe.Reason)
	}
}
