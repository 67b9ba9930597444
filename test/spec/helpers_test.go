package spec_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// wait is the generous bound every Eventually uses.
const wait = 10 * time.Second

// recorder is a Handler that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []realtime.Event
	hook   func(realtime.Event)
}

func (r *recorder) HandleEvent(_ context.Context, ev realtime.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		hook(ev)
	}
}

func (r *recorder) all() []realtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]realtime.Event(nil), r.events...)
}

func (r *recorder) broadcasts() []realtime.BroadcastEvent {
	var out []realtime.BroadcastEvent
	for _, ev := range r.all() {
		if b, ok := ev.(realtime.BroadcastEvent); ok {
			out = append(out, b)
		}
	}
	return out
}

func (r *recorder) changes() []realtime.ChangeEvent {
	var out []realtime.ChangeEvent
	for _, ev := range r.all() {
		if ce, ok := ev.(realtime.ChangeEvent); ok {
			out = append(out, ce)
		}
	}
	return out
}

func (r *recorder) broadcastPayloads() []string {
	var out []string
	for _, b := range r.broadcasts() {
		out = append(out, b.Event+" "+string(b.Payload))
	}
	return out
}

func (r *recorder) statuses(channel string) []realtime.SubscribeStatus {
	var out []realtime.SubscribeStatus
	for _, ev := range r.all() {
		if s, ok := ev.(realtime.ChannelStatusEvent); ok && s.Channel == channel && s.Status != "" {
			out = append(out, s.Status)
		}
	}
	return out
}

func (r *recorder) connStates() []realtime.ConnectionState {
	var out []realtime.ConnectionState
	for _, ev := range r.all() {
		if s, ok := ev.(realtime.ConnectionStateEvent); ok {
			out = append(out, s.New)
		}
	}
	return out
}

func (r *recorder) errors() []error {
	var out []error
	for _, ev := range r.all() {
		if e, ok := ev.(realtime.ErrorEvent); ok {
			out = append(out, e.Err)
		}
	}
	return out
}

// framesFrom returns the frames the server received with the given event.
func framesFrom(s *realtimetest.Server, event string) []frame.Frame {
	var out []frame.Frame
	for _, rf := range s.Received() {
		if rf.Frame.Event == event {
			out = append(out, rf.Frame)
		}
	}
	return out
}

// joinsOf returns the phx_join frames the server received for a topic.
func joinsOf(s *realtimetest.Server, topic string) []frame.Frame {
	var out []frame.Frame
	for _, f := range framesFrom(s, "phx_join") {
		if f.Topic == topic {
			out = append(out, f)
		}
	}
	return out
}

// closeAndCheckLeaks closes the client and the server and waits until none
// of their goroutines is left.
func closeAndCheckLeaks(c *realtime.Client, s *realtimetest.Server) {
	if c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		Expect(c.Close(ctx)).To(Succeed())
	}
	if s != nil {
		s.Close()
	}
	Eventually(leakcheck.Goroutines, wait).Should(BeEmpty())
}

// freshClient sets a spec's fixture up: before each spec *srv is a new
// server (API key "anon-key"), *rec a new recorder, *c nil and *n 0; after
// each, the client and the server are closed and checked for leaks. The
// returned start makes *c, a client of *srv with the fast options and *rec
// as its Handler, plus opts.
func freshClient(srv **realtimetest.Server, rec **recorder, c **realtime.Client, n *int) (start func(opts ...realtime.Option)) {
	BeforeEach(func() {
		*srv = realtimetest.NewServer(realtimetest.Options{APIKey: "anon-key"})
		*rec = &recorder{}
		*c, *n = nil, 0
	})
	AfterEach(func() {
		closeAndCheckLeaks(*c, *srv)
	})
	return func(opts ...realtime.Option) {
		GinkgoHelper()
		var err error
		*c, err = realtime.New((*srv).URL(), "anon-key", fast(append([]realtime.Option{realtime.WithHandler(*rec)}, opts...)...)...)
		Expect(err).NotTo(HaveOccurred())
	}
}

// subscribeAll creates channel name on c, binds every broadcast, subscribes
// it and expects SUBSCRIBED.
func subscribeAll(c *realtime.Client, name string, opts ...realtime.ChannelOption) *realtime.Channel {
	GinkgoHelper()
	ch, err := c.Channel(name, opts...)
	Expect(err).NotTo(HaveOccurred())
	Expect(c.On(ch, realtime.Broadcast{Event: "*"})).To(Succeed())
	st, err := c.Subscribe(specCtx(), ch)
	Expect(err).NotTo(HaveOccurred())
	Expect(st).To(Equal(realtime.Subscribed))
	return ch
}

// specCtx returns a context bounded by wait, cancelled when the spec ends.
func specCtx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	DeferCleanup(cancel)
	return ctx
}

// fast are options that keep specs quick without sleeping: immediate
// reconnects and rejoins, a short join timeout.
func fast(extra ...realtime.Option) []realtime.Option {
	return append([]realtime.Option{
		realtime.WithReconnectAfter(func(int) time.Duration { return 0 }),
		realtime.WithRejoinAfter(func(int) time.Duration { return 10 * time.Millisecond }),
		realtime.WithTimeout(5 * time.Second),
	}, extra...)
}

// testJWT returns an unsigned JWT-shaped token with the given exp. The test
// server verifies tokens only when it has a JWT secret.
func testJWT(sub string, exp time.Time) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." +
		enc(map[string]any{"sub": sub, "role": "authenticated", "exp": exp.Unix()}) + ".c2ln"
}

// systemFrame is the server's system message for a channel.
func systemFrame(topic, joinRef, extension, status, message string) frame.Frame {
	payload, _ := json.Marshal(map[string]string{
		"channel": strings.TrimPrefix(topic, "realtime:"), "extension": extension, "status": status, "message": message,
	})
	return frame.Frame{JoinRef: joinRef, Topic: topic, Event: "system", Payload: payload}
}
