//go:build realtime_testhooks

package registry_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/registry"
)

// The routing table takes a joined channel's broadcasts past the registry,
// and nothing else: frames of other join_refs, control frames and frames
// of channels that are not joined are left to the registry (Route reports
// false). test/spec holds both paths to one order and one stale rule.
func TestRoutesTakeOnlyDataFramesOfJoinedChannels(t *testing.T) {
	var routes *registry.Routes
	h := newHarness(t, func(c *registry.Config) {
		c.Dispatch = registry.NewDispatcher(0, nil, nil, nil)
		routes = registry.NewRoutes(c.Dispatch)
		c.Routes = routes
		c.Handler = nil // set below: the harness records events
	})
	router := routes.NewRouter(wire.NewNameCache().Intern)
	codec, err := wire.NewCodec(frame.V2, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	frameOf := func(joinRef, event string) *messages.Inbound {
		n++
		jr := "null"
		if joinRef != "" {
			jr = fmt.Sprintf("%q", joinRef)
		}
		raw := fmt.Sprintf(`[%s,null,%q,%q,{"type":"broadcast","event":"e","payload":{"n":%d}}]`, jr, topic, event, n)
		in := &messages.Inbound{Epoch: 1, Received: time.Now()}
		if err := codec.Decode([]byte(raw), false, &in.Frame); err != nil {
			t.Fatal(err)
		}
		return in
	}
	h.send(&messages.ConnectionChanged{Epoch: 1, New: messages.ConnOpen})
	h.send(&messages.CreateChannel{Topic: topic, Name: "room1", Config: messages.ChannelConfig{Handler: h}})
	h.send(&messages.AddBinding{Topic: topic, Binding: messages.Broadcast{Event: "e"}})
	sub := make(chan messages.SubscribeResult, 1)
	h.send(&messages.Subscribe{Topic: topic, Reply: sub})
	join := h.last("phx_join")
	if router.Route(frameOf("", "broadcast")) {
		t.Fatal("a broadcast of a joining channel took the routing table")
	}
	h.reply(join, `{"status":"ok","response":{}}`)
	if res := await(t, sub); res.Status != messages.Subscribed {
		t.Fatalf("subscribe: %v %v", res.Status, res.Err)
	}
	for _, c := range []struct {
		joinRef, event string
		routed         bool
	}{
		{join.JoinRef, "broadcast", true},
		{"", "broadcast", true},
		{"other", "broadcast", false},
		{join.JoinRef, "presence_diff", false},
		{join.JoinRef, "system", false},
		{join.JoinRef, "phx_close", false},
	} {
		if got := router.Route(frameOf(c.joinRef, c.event)); got != c.routed {
			t.Errorf("%s with join_ref %q: routed %v, want %v", c.event, c.joinRef, got, c.routed)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		var got []string
		for _, ev := range h.events {
			if b, ok := ev.(messages.BroadcastEvent); ok {
				got = append(got, string(b.Payload))
			}
		}
		h.mu.Unlock()
		if len(got) == 2 {
			if got[0] != `{"n":2}` || got[1] != `{"n":3}` {
				t.Fatalf("delivered %q", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered %q, want the two routed broadcasts", got)
		}
		time.Sleep(time.Millisecond)
	}
	left := make(chan error, 1)
	h.send(&messages.Unsubscribe{Topic: topic, Reply: left})
	h.settle()
	if router.Route(frameOf(join.JoinRef, "broadcast")) {
		t.Fatal("a broadcast of a leaving channel took the routing table")
	}
}
