package realtime_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	realtime "github.com/supabase-go/realtime"
)

// RefreshAuth asks the access token callback for a fresh token now (after
// a sign-in, say) and pushes it to every joined channel, like realtime-js
// setAuth() without a token. (test/spec runs this flow against the
// in-process server.)
func ExampleClient_RefreshAuth() {
	session := func(ctx context.Context) (string, error) {
		return os.Getenv("SUPABASE_USER_JWT"), nil // your auth library's current token
	}
	c, _ := realtime.New(os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_ANON_KEY"), realtime.WithAccessToken(session))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)

	ch, _ := c.Channel("room1", realtime.Private(true))
	_, _ = c.Subscribe(ctx, ch)
	// … the user signed in again: hand the new session to every channel.
	if err := c.RefreshAuth(ctx); err != nil {
		log.Println("token refresh:", err)
	}
}

// Every heartbeat reaches the Handler twice: when it is sent and with its
// outcome (ok with the round trip, error, or timeout, which reconnects).
// Stats keeps the counts, the last outcome and the last round trip.
func ExampleHeartbeatEvent() {
	h := realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
		if hb, ok := ev.(realtime.HeartbeatEvent); ok {
			switch hb.Status {
			case realtime.HeartbeatOK:
				fmt.Println("heartbeat", hb.Ref, "answered in", hb.RTT)
			case realtime.HeartbeatError, realtime.HeartbeatTimeout:
				log.Println("heartbeat", hb.Ref, hb.Status, hb.Err)
			}
		}
	})
	c, _ := realtime.New(os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_ANON_KEY"), realtime.WithHandler(h))
	defer c.Close(context.Background())
	st := c.Stats()
	fmt.Println(st.HeartbeatsSent, st.HeartbeatsAcknowledged, st.HeartbeatErrors, st.HeartbeatTimeouts, st.LastHeartbeat, st.LastHeartbeatRTT)
}
