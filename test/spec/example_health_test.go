package spec_test

import (
	"context"
	"fmt"
	"time"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// RefreshAuth asks the access token callback for a fresh token now (after
// a sign-in, say) and pushes it to every joined channel, like realtime-js
// setAuth() without a token.
func Example_refreshAuth() {
	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()

	tokens := make(chan string, 2)
	tokens <- "token-at-connect"
	tokens <- "token-after-sign-in"
	c, _ := realtime.New(srv.URL(), "anon-key",
		realtime.WithAccessToken(func(ctx context.Context) (string, error) {
			select {
			case t := <-tokens:
				return t, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("room1")
	_, _ = c.Subscribe(ctx, ch)
	fmt.Println(c.RefreshAuth(ctx))
	for len(srv.AccessTokens()) == 0 {
		time.Sleep(time.Millisecond)
	}
	p := srv.AccessTokens()[0]
	fmt.Println(p.Topic, p.Token)
	// Output:
	// <nil>
	// realtime:room1 token-after-sign-in
}

// Every heartbeat reaches the Handler twice: when it is sent and with its
// outcome (ok and the round trip, error, or timeout). Stats keeps the
// counts and the last outcome.
func Example_heartbeatEvent() {
	srv := realtimetest.NewServer(realtimetest.Options{})
	defer srv.Close()

	beats := make(chan realtime.HeartbeatEvent, 16)
	c, _ := realtime.New(srv.URL(), "anon-key",
		realtime.WithHeartbeatInterval(20*time.Millisecond),
		realtime.WithHandler(realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
			if h, ok := ev.(realtime.HeartbeatEvent); ok {
				select {
				case beats <- h:
				default:
				}
			}
		})))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	sent := <-beats
	answered := <-beats
	fmt.Println(sent.Status, answered.Status, answered.Ref == sent.Ref, answered.RTT > 0)
	fmt.Println(c.Stats().HeartbeatsAcknowledged >= 1)
	// Output:
	// sent ok true true
	// true
}
