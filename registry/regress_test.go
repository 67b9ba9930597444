//go:build realtime_testhooks

package registry_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/registry"
	"github.com/supabase-go/realtime/store"
)

// These tests drive the registry actor directly: a real store actor, a
// fake connection actor that records outbound frames, and a manual clock.
// They pin the fixes of a review's findings. "Nothing was sent" is proven
// with mailbox barriers (both actors answer a request after everything
// queued before it), never with sleeps.

type harness struct {
	t     *testing.T
	sys   *actor.ActorSystem
	reg   *actor.PID
	conn  *actor.PID
	table *store.Table
	clock *actors.ManualClock
	inbox *wire.Inbox

	mu     sync.Mutex
	out    []frame.Frame
	events []messages.Event
}

type connBarrier struct{ done chan struct{} }

func (h *harness) HandleEvent(_ context.Context, ev messages.Event) {
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
}

func newHarness(t *testing.T, cfgf func(*registry.Config)) *harness {
	h := &harness{t: t, sys: actors.NewSystem(nil), table: store.NewTable(), inbox: wire.NewInbox(), clock: actors.NewManualClock(time.Unix(0, 0))}
	st, err := h.sys.Root.SpawnNamed(store.Props(h.table), t.Name()+"-store")
	if err != nil {
		t.Fatal(err)
	}
	h.conn, _ = h.sys.Root.SpawnNamed(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *messages.Outbound:
			h.mu.Lock()
			h.out = append(h.out, m.Frame)
			h.mu.Unlock()
		case *connBarrier:
			close(m.done)
		}
	}), t.Name()+"-conn")
	var refs wire.Refs
	cfg := registry.Config{Handler: h, Timeout: 10 * time.Second, BufferSize: 100, Refs: &refs, Store: st, Table: h.table, Connection: h.conn, Clock: h.clock}
	if cfgf != nil {
		cfgf(&cfg)
	}
	h.reg, _ = h.sys.Root.SpawnNamed(registry.Props(cfg), t.Name()+"-reg")
	t.Cleanup(func() {
		_ = h.sys.Root.PoisonFuture(h.reg).Wait()
		_ = h.sys.Root.PoisonFuture(h.conn).Wait()
		_ = h.sys.Root.PoisonFuture(st).Wait()
	})
	return h
}

func (h *harness) send(m any) { h.sys.Root.Send(h.reg, m) }

// receive hands the registry a frame as the socket reader does.
func (h *harness) receive(f frame.Frame) {
	if h.inbox.Put(messages.Inbound{Frame: f}) {
		h.send(h.inbox.Ready)
	}
}

// settle waits until the registry and then the connection have processed
// everything sent so far.
func (h *harness) settle() {
	h.t.Helper()
	reply := make(chan error, 1)
	h.send(&messages.WaitAck{Ref: "barrier", Reply: reply})
	select {
	case <-reply:
	case <-time.After(10 * time.Second):
		h.t.Fatal("registry did not answer")
	}
	done := make(chan struct{})
	h.sys.Root.Send(h.conn, &connBarrier{done: done})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.t.Fatal("connection did not answer")
	}
}

// sent returns the frames sent so far with the given event, after settling.
func (h *harness) sent(event string) []frame.Frame {
	h.settle()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []frame.Frame
	for _, f := range h.out {
		if f.Event == event {
			out = append(out, f)
		}
	}
	return out
}

func (h *harness) last(event string) frame.Frame {
	h.t.Helper()
	fs := h.sent(event)
	if len(fs) == 0 {
		h.t.Fatalf("no %s frame sent", event)
	}
	return fs[len(fs)-1]
}

func (h *harness) reply(f frame.Frame, payload string) {
	h.receive(frame.Frame{JoinRef: f.JoinRef, Ref: f.Ref, Topic: f.Topic, Event: "phx_reply", Payload: []byte(payload)})
}

func await[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
		var zero T
		return zero
	}
}

const topic = "realtime:room1"

const okJoin = `{"status":"ok","response":{"postgres_changes":[]}}`

func (h *harness) open(epoch uint64, token string) {
	h.send(&messages.ConnectionChanged{Epoch: epoch, New: messages.ConnOpen, Token: token})
}

func (h *harness) subscribeAsync(cfg messages.ChannelConfig) chan messages.SubscribeResult {
	h.send(&messages.CreateChannel{Topic: topic, Name: "room1", Config: cfg})
	res := make(chan messages.SubscribeResult, 1)
	h.send(&messages.Subscribe{Topic: topic, Reply: res})
	return res
}

func jwt(exp time.Time) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	return enc(map[string]string{"alg": "HS256"}) + "." + enc(map[string]any{"role": "authenticated", "exp": exp.Unix()}) + ".c2ln"
}

func TestExpiredTokenFromCallbackDoesNotSpin(t *testing.T) {
	var calls atomic.Int64
	h := newHarness(t, func(c *registry.Config) {
		c.AccessToken = func(context.Context) (string, error) { calls.Add(1); return jwt(time.Unix(-60, 0)), nil }
	})
	h.open(1, jwt(time.Unix(-60, 0)))
	h.settle()
	// Each refresh is at least 5 s after the last, doubling while the
	// callback keeps returning an expired token.
	for i := 0; i < 20; i++ {
		h.clock.Advance(time.Second)
		h.settle()
	}
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the callback runs on its own goroutine
	}
	if n := calls.Load(); n < 1 || n > 3 {
		t.Fatalf("callback called %d times in 20 s of clock time, want 1..3", n)
	}
}

func TestCloseOfATimedOutJoinIsStale(t *testing.T) {
	h := newHarness(t, func(c *registry.Config) { c.RejoinAfter = func(int) time.Duration { return time.Second } })
	h.open(1, "")
	res := h.subscribeAsync(messages.ChannelConfig{})
	j := h.last("phx_join")
	h.clock.Advance(10 * time.Second)
	if r := await(t, res); r.Status != messages.TimedOut {
		t.Fatalf("status %s", r.Status)
	}
	leave := h.last("phx_leave")
	// A slow server answers everything about the abandoned join.
	h.reply(j, okJoin)
	h.reply(leave, `{"status":"ok","response":{}}`)
	h.receive(frame.Frame{Ref: j.JoinRef, Topic: topic, Event: "phx_close", Payload: []byte(`{}`)})
	h.settle()
	h.clock.Advance(time.Second)
	if joins := h.sent("phx_join"); len(joins) != 2 {
		t.Fatalf("%d joins: the channel must rejoin after a timeout, whatever the old join's close says", len(joins))
	}
}

func TestTokenSetDuringJoinIsPushedAfterIt(t *testing.T) {
	h := newHarness(t, nil)
	h.open(1, "")
	res := h.subscribeAsync(messages.ChannelConfig{})
	j := h.last("phx_join")
	set := make(chan error, 1)
	h.send(&messages.SetAuth{Token: "new-token", Reply: set})
	await(t, set)
	h.reply(j, okJoin)
	await(t, res)
	pushes := h.sent("access_token")
	if len(pushes) != 1 || string(pushes[0].Payload) != `{"access_token":"new-token"}` {
		t.Fatalf("access_token pushes: %v", pushes)
	}
}

func TestAfterTheReconnectLimitCallsFailFast(t *testing.T) {
	h := newHarness(t, nil)
	res := h.subscribeAsync(messages.ChannelConfig{}) // waits for the socket
	h.settle()
	h.send(&messages.ConnectionChanged{New: messages.ConnClosed, Err: messages.ErrReconnectLimit})
	if r := await(t, res); r.Err == nil {
		t.Fatal("the waiting Subscribe was not answered")
	}
	push := make(chan messages.PushResult, 1)
	h.send(&messages.Push{Topic: topic, Frame: frame.Frame{Event: "broadcast", Payload: []byte(`{}`)}, Reply: push})
	if r := await(t, push); r.Err == nil {
		t.Fatal("a push after giving up was accepted into a buffer that will never drain")
	}
}

func TestTimedOutAckedPushIsNeverSent(t *testing.T) {
	h := newHarness(t, func(c *registry.Config) { c.RejoinAfter = func(int) time.Duration { return time.Second } })
	h.open(1, "")
	res := h.subscribeAsync(messages.ChannelConfig{Ack: true})
	h.settle()
	push := make(chan messages.PushResult, 1)
	h.send(&messages.Push{Topic: topic, Ack: true, Frame: frame.Frame{Event: "broadcast", Payload: []byte(`{"type":"broadcast","event":"e","payload":{}}`)}, Reply: push})
	pr := await(t, push)
	h.clock.Advance(10 * time.Second) // the join and the push time out
	await(t, res)
	ack := make(chan error, 1)
	h.send(&messages.WaitAck{Ref: pr.Ref, Reply: ack})
	if err := await(t, ack); err != messages.ErrPushTimeout {
		t.Fatalf("ack: %v", err)
	}
	h.clock.Advance(time.Second)
	h.reply(h.last("phx_join"), okJoin)
	if b := h.sent("broadcast"); len(b) != 0 {
		t.Fatalf("the push reported as timed out was sent after the rejoin: %v", b)
	}
}

func TestRemoveDuringUnsubscribeDoesNotResurrectTheRecord(t *testing.T) {
	h := newHarness(t, nil)
	h.open(1, "")
	res := h.subscribeAsync(messages.ChannelConfig{})
	h.reply(h.last("phx_join"), okJoin)
	await(t, res)
	un, rm := make(chan error, 1), make(chan error, 1)
	h.send(&messages.Unsubscribe{Topic: topic, Reply: un})
	h.send(&messages.Unsubscribe{Topic: topic, Remove: true, Reply: rm})
	leaves := h.sent("phx_leave")
	if len(leaves) != 1 {
		t.Fatalf("%d leaves", len(leaves))
	}
	h.reply(leaves[0], `{"status":"ok","response":{}}`)
	if err := await(t, un); err != nil {
		t.Fatal(err)
	}
	if err := await(t, rm); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if _, ok := h.table.Get(topic); ok {
		t.Fatal("the removed channel is back in the store")
	}
	sub := make(chan messages.SubscribeResult, 1)
	h.send(&messages.Subscribe{Topic: topic, Reply: sub})
	if r := await(t, sub); r.Err != messages.ErrUnknownChannel {
		t.Fatalf("subscribe after remove: %+v", r)
	}
}

func TestTrackDuringAJoinWithoutPresenceRejoinsWithPresence(t *testing.T) {
	h := newHarness(t, nil)
	h.open(1, "")
	res := h.subscribeAsync(messages.ChannelConfig{})
	first := h.last("phx_join")
	track := make(chan error, 1)
	h.send(&messages.Track{Topic: topic, Payload: []byte(`{"u":1}`), Reply: track})
	h.reply(first, okJoin)
	await(t, res)
	joins := h.sent("phx_join")
	if len(joins) != 2 {
		t.Fatalf("%d joins, want a second one with presence enabled", len(joins))
	}
	var p struct {
		Config struct{ Presence struct{ Enabled bool } }
	}
	_ = json.Unmarshal(joins[1].Payload, &p)
	if !p.Config.Presence.Enabled {
		t.Fatalf("second join: %s", joins[1].Payload)
	}
	h.reply(joins[1], okJoin)
	h.reply(h.last("presence"), `{"status":"ok","response":{}}`)
	if err := await(t, track); err != nil {
		t.Fatal(err)
	}
}

func TestAuthBlockedChannelIsNotRejoinedOnReconnect(t *testing.T) {
	h := newHarness(t, nil)
	h.open(1, "")
	res := h.subscribeAsync(messages.ChannelConfig{})
	h.reply(h.last("phx_join"), `{"status":"error","response":{"reason":"InvalidJWTToken: Token has expired 5 seconds ago"}}`)
	if r := await(t, res); r.Status != messages.ChannelError {
		t.Fatalf("status %s", r.Status)
	}
	h.send(&messages.ConnectionChanged{Epoch: 1, New: messages.ConnClosed})
	h.open(2, "")
	if joins := h.sent("phx_join"); len(joins) != 1 {
		t.Fatalf("%d joins: the blocked channel rejoined with the same token", len(joins))
	}
	set := make(chan error, 1)
	h.send(&messages.SetAuth{Token: "fresh", Reply: set})
	await(t, set)
	if joins := h.sent("phx_join"); len(joins) != 2 {
		t.Fatalf("%d joins: SetAuth must unblock the channel", len(joins))
	}
}

func TestRegistryRestartAnswersTrackAndKeepsTheRefresh(t *testing.T) {
	fetched := make(chan struct{}, 8)
	h := newHarness(t, func(c *registry.Config) {
		c.AccessToken = func(context.Context) (string, error) {
			fetched <- struct{}{}
			return jwt(time.Unix(0, 0).Add(2 * time.Hour)), nil
		}
		c.Token = &registry.Token{}
	})
	h.open(1, jwt(time.Unix(0, 0).Add(time.Hour)))
	res := h.subscribeAsync(messages.ChannelConfig{})
	track := make(chan error, 1)
	h.send(&messages.Track{Topic: topic, Payload: []byte(`{"a":1}`), Reply: track})
	h.settle()
	h.send(&registry.Crash{Reason: "test"})
	if err := await(t, track); err != messages.ErrRestarted {
		t.Fatalf("track: %v", err)
	}
	await(t, res)
	h.settle()
	h.clock.Advance(59 * time.Minute)
	select {
	case <-fetched:
	case <-time.After(10 * time.Second):
		t.Fatal("the restarted registry lost the token refresh")
	}
}
