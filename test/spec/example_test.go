package spec_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// These examples run the root package's documented examples against the
// in-process server and check their output (the root package's own
// examples cannot start a server: its module does not depend on the test
// rig).

// A client that joins a channel, broadcasts to itself and prints what its
// Handler receives. The in-process server stands in for a Supabase project.
func Example_broadcastToSelf() {
	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()

	got := make(chan realtime.BroadcastEvent, 1)
	c, err := realtime.New(srv.URL(), "anon-key",
		realtime.WithHandler(realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
			if b, ok := ev.(realtime.BroadcastEvent); ok {
				got <- b
			}
		})))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("room1", realtime.BroadcastSelf(true))
	_ = c.On(ch, realtime.Broadcast{Event: "cursor"})
	status, err := c.Subscribe(ctx, ch)
	fmt.Println(status, err)

	_ = c.Broadcast(ctx, ch, "cursor", map[string]int{"x": 3, "y": 4})
	b := <-got
	var pos struct{ X, Y int }
	_ = b.Decode(&pos)
	fmt.Println(b.Channel, b.Event, pos.X, pos.Y)
	// Output:
	// SUBSCRIBED <nil>
	// room1 cursor 3 4
}

// Subscribe waits for the first outcome of the join. A rejected join
// carries the server's reason. A refused token is an *AuthError: without an
// AccessToken callback the channel waits for SetAuth instead of retrying
// with the same token.
func Example_subscribeRejected() {
	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()
	srv.OnJoin(func(j realtimetest.JoinRequest) realtimetest.JoinAction {
		return realtimetest.Reject("Unauthorized: You do not have permissions to read from this Channel topic: vault")
	})

	c, _ := realtime.New(srv.URL(), "anon-key")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("vault")
	status, err := c.Subscribe(ctx, ch)
	var authErr *realtime.AuthError
	if errors.As(err, &authErr) {
		fmt.Println(status, "-", authErr.Reason)
	}
	// Output:
	// CHANNEL_ERROR - Unauthorized: You do not have permissions to read from this Channel topic: vault
}

// HandlerFunc adapts a function; events arrive one at a time, in order.
func Example_handlerFunc() {
	subscribed := false // only touched by the Handler: no lock needed
	done := make(chan struct{})
	h := realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
		if subscribed {
			return // stop printing once joined; Close adds more events
		}
		switch e := ev.(type) {
		case realtime.ConnectionStateEvent:
			fmt.Println("connection:", e.New)
		case realtime.ChannelStatusEvent:
			if e.Status != "" {
				fmt.Println(e.Channel+":", e.Status)
				if subscribed = e.Status == realtime.Subscribed; subscribed {
					close(done)
				}
			}
		}
	})
	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()
	c, _ := realtime.New(srv.URL(), "anon-key", realtime.WithHandler(h))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch, _ := c.Channel("lobby")
	_, _ = c.Subscribe(ctx, ch)
	// Subscribe can return before the Handler has seen the events that led
	// to it (they run on the Dispatcher), and Close discards events not yet
	// started: wait for the last one first.
	<-done
	_ = c.Close(ctx)
	// Output:
	// connection: connecting
	// connection: open
	// lobby: SUBSCRIBED
}

// Track publishes presence and waits for the server's reply; the state of
// every channel member is then in PresenceState.
func Example_track() {
	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()
	synced := make(chan struct{}, 1)
	c, _ := realtime.New(srv.URL(), "anon-key", realtime.WithHandler(realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
		if p, ok := ev.(realtime.PresenceEvent); ok && p.Type == realtime.PresenceJoin {
			select {
			case synced <- struct{}{}:
			default:
			}
		}
	})))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("room1", realtime.PresenceKey("alice"))
	_ = c.On(ch, realtime.Presence{Event: realtime.PresenceJoin})
	_, _ = c.Subscribe(ctx, ch)
	err := c.Track(ctx, ch, map[string]string{"status": "online"})
	fmt.Println("track:", err)
	<-synced
	for key, metas := range c.PresenceState(ch) {
		fmt.Println(key, string(metas[0].Payload))
	}
	// Output:
	// track: <nil>
	// alice {"status":"online"}
}

// BroadcastWithAck returns a ref; WaitForAck reports the server's answer.
func Example_broadcastWithAck() {
	srv := realtimetest.NewServer(realtimetest.Options{MaxPayloadBytes: 64})
	defer srv.Close()
	c, _ := realtime.New(srv.URL(), "anon-key")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("room1", realtime.BroadcastAck(true))
	_, _ = c.Subscribe(ctx, ch)
	ref, _ := c.BroadcastWithAck(ctx, ch, "small", map[string]int{"x": 1})
	fmt.Println("small:", c.WaitForAck(ctx, ref))
	ref, _ = c.BroadcastWithAck(ctx, ch, "big", map[string]string{"blob": strings.Repeat("x", 100)})
	var pe *realtime.PushError
	if err := c.WaitForAck(ctx, ref); errors.As(err, &pe) {
		fmt.Println("big:", pe.Reason)
	}
	// Output:
	// small: <nil>
	// big: payload_size_exceeded
}
