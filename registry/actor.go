package registry

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
	"github.com/supabase-go/realtime/store"
)

// Props returns the props of a registry actor.
func Props(config Config) *actor.Props {
	// One copy, shared by every incarnation of the actor.
	cfg := &config
	if cfg.Clock == nil {
		cfg.Clock = actors.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = actors.DiscardLogger()
	}
	if cfg.RejoinAfter == nil {
		cfg.RejoinAfter = DefaultRejoin
	}
	if cfg.Stats == nil {
		cfg.Stats = &Stats{}
	}
	if cfg.Token == nil {
		cfg.Token = &Token{}
	}
	if cfg.Presence == nil {
		cfg.Presence = &PresenceView{}
	}
	if cfg.Table == nil {
		cfg.Table = store.NewTable()
	}
	if cfg.Gens == nil {
		cfg.Gens = &atomic.Uint64{}
	}
	if cfg.Lifetime == nil {
		cfg.Lifetime = context.Background()
	}
	if cfg.Dispatch == nil {
		cfg.Dispatch = NewDispatcher(cfg.HandlerQueue, cfg.Stats, cfg.Logger, cfg.Lifetime).LimitBytes(cfg.HandlerQueueBytes)
	}
	return actor.PropsFromProducer(func() actor.Actor {
		r := &reg{cfg: cfg, channels: map[string]*channel{}}
		r.intern = wire.NewNameCache().Intern
		return r
	})
}

// Timer messages. Each names what it belongs to so a stale one is ignored.
type (
	replyTimeout struct{ ref string }
	rejoinDue    struct {
		topic string
		gen   uint64
	}
)

type reg struct {
	cfg  *Config
	self *actor.PID
	root *actor.RootContext

	channels map[string]*channel
	open     bool
	// openEpoch is the epoch of the open connection the registry has
	// accounted for.
	openEpoch uint64
	pending   map[string]*pending
	buffered  int
	acks      acks
	auth      authState
	// gaveUp is set when the connection stopped for good (reconnect
	// limit); every call then fails fast with it.
	gaveUp error
	// intern interns broadcast event names (a messages.NameCache).
	intern wire.InternFunc
}

func (r *reg) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		r.start(ctx)
	case *actor.Restarting:
		r.stopTimers()
		r.abortInFlight(messages.ErrRestarted)
	case *actor.Stopping:
		r.stopTimers()
		r.abortInFlight(messages.ErrClosed)
		r.waitFetches()
	case *wire.InboxReady:
		r.takeInbox(m.Inbox)
	case *messages.ConnectionChanged:
		r.connectionChanged(m)
	case *messages.Heartbeat:
		r.deliver(nil, m.Event)
	case *messages.OutboundFailed:
		r.outboundFailed(m)
	case *messages.CreateChannel:
		r.create(m)
	case *messages.AddBinding:
		r.addBinding(m)
	case *messages.Subscribe:
		r.subscribe(m)
	case *messages.Unsubscribe:
		r.unsubscribe(m.Topic, m.Remove, func(err error) { actors.Reply(m.Reply, err) })
	case *messages.RemoveAll:
		r.removeAll(m)
	case *messages.Push:
		actors.Reply(m.Reply, r.push(m))
	case *messages.WaitAck:
		r.waitAck(m)
	case *messages.Track:
		r.track_(m)
	case *messages.SetAuth:
		r.setAuth(m)
	case *messages.RefreshAuth:
		r.refreshAuth(m)
	case *tokenFetched:
		r.tokenFetched(m)
	case *refreshDue:
		r.refreshDue(m)
	case *replyTimeout:
		r.replyTimedOut(m.ref)
	case *rejoinDue:
		r.rejoinDue(m)
	default:
		testHook(m)
	}
}

func (r *reg) start(ctx actor.Context) {
	r.self = ctx.Self()
	r.root = ctx.ActorSystem().Root
	// Every write went through the Table synchronously, so it is
	// complete; no round trip through the store's mailbox is needed.
	recs := r.cfg.Table.All()
	if r.cfg.OpenEpoch != nil {
		// A connection may have opened before this instance started; its
		// ConnectionChanged is then still queued and must not rejoin twice.
		r.openEpoch = r.cfg.OpenEpoch()
		r.open = r.openEpoch != 0
	}
	for _, rec := range recs {
		ch := &channel{rec: rec.Clone()}
		if p, ok := rec.Ext[extPresence].(*presenceState); ok {
			ch.presence = p.clone()
			r.cfg.Presence.set(rec.Topic, ch.presence.list())
		}
		r.setBuffered(r.buffered + len(rec.Outbox))
		r.channels[rec.Topic] = ch
	}
	// Resume: timers and in-flight pushes were lost with the old instance.
	// Routes an earlier instance published are replaced (see republish).
	r.republish()
	for _, ch := range r.ordered() {
		switch ch.rec.State {
		case messages.ChannelLeaving:
			r.setState(ch, messages.ChannelClosed, "", nil)
		case messages.ChannelJoined:
			if !r.open {
				r.setState(ch, messages.ChannelErrored, "", messages.ErrConnectionLost)
			}
		case messages.ChannelJoining, messages.ChannelErrored:
			if ch.rec.Wanted && r.open && !ch.rec.AuthBlocked {
				r.join(ch)
			}
		}
	}
	r.scheduleRefresh()
}

// takeInbox routes the frames queued in inbox. The batch is released
// even if routing panics (the registry restarts; the rest of the batch is
// lost, as it was before), so the reader's fast path resumes (see Routes).
func (r *reg) takeInbox(inbox *wire.Inbox) {
	batch := inbox.Take()
	defer inbox.Release(batch)
	for i := range batch {
		r.inbound(&batch[i])
	}
}

// abortInFlight answers the callers waiting on this instance, which is
// going away: Subscribe callers get err (the channel itself carries on in
// the next instance), pending leaves complete locally.
func (r *reg) abortInFlight(err error) {
	for _, ch := range r.channels {
		waiters := ch.subWaiters
		ch.subWaiters = nil
		for _, w := range waiters {
			actors.Reply(w, messages.SubscribeResult{Err: err})
		}
		for _, w := range ch.trackWaiters {
			actors.Reply(w, err)
		}
		ch.trackWaiters = nil
	}
	for ref, p := range r.pending {
		delete(r.pending, ref)
		if p.kind != pendingJoin && p.done != nil {
			p.done(wire.Reply{}, err)
		}
	}
	r.acks.abort(err)
	r.abortRefreshes(err)
}

// waitFetches waits (bounded by Timeout) for access-token callbacks still
// running; the client's lifetime is cancelled by now, so a callback that
// honours its context returns at once.
func (r *reg) waitFetches() {
	done := make(chan struct{})
	go func() {
		r.auth.fetches.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(r.cfg.Timeout):
		r.cfg.Logger.Warn("realtime: an access token callback ignores its context and outlives Close")
	}
}

// giveUp fails everything that waits for a connection that will not come
// back, and makes later calls fail fast.
func (r *reg) giveUp(err error) {
	r.gaveUp = err
	for _, ch := range r.ordered() {
		ch.stopRejoin()
		r.resolve(ch, messages.SubscribeResult{Err: err})
		r.discard(ch, err)
	}
	for ref, p := range r.pending {
		p.timer.Stop()
		delete(r.pending, ref)
		r.abandon(p, err)
	}
}

func (r *reg) stopTimers() {
	for _, p := range r.pending {
		p.timer.Stop()
	}
	for _, ch := range r.channels {
		ch.stopRejoin()
	}
	r.auth.stop()
}

// ordered returns the channels in creation order.
func (r *reg) ordered() []*channel {
	out := make([]*channel, 0, len(r.channels))
	for _, ch := range r.channels {
		out = append(out, ch)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].rec.Seq < out[j-1].rec.Seq; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// persist writes the channel's record through to the store.
func (r *reg) persist(ch *channel) {
	r.cfg.Table.Put(ch.rec.Clone())
	r.route(ch)
}

// resolve answers the channel's Subscribe callers with res, after the
// state change that goes with it is persisted.
func (r *reg) resolve(ch *channel, res messages.SubscribeResult) {
	if len(ch.subWaiters) == 0 {
		return
	}
	waiters := ch.subWaiters
	ch.subWaiters = nil
	for _, w := range waiters {
		actors.Reply(w, res)
	}
}

// send hands a frame to the connection actor.
func (r *reg) send(f frame.Frame) {
	r.root.Send(r.cfg.Connection, &messages.Outbound{Frame: f})
}

// sendAck hands an acknowledged push to the connection actor.
func (r *reg) sendAck(f frame.Frame) {
	r.root.Send(r.cfg.Connection, &messages.Outbound{Frame: f, Ack: true})
}

// setState changes a channel's state, persists it and reports it.
func (r *reg) setState(ch *channel, s messages.ChannelState, status messages.SubscribeStatus, err error) {
	changed := ch.rec.State != s
	ev := messages.ChannelStatusEvent{Channel: ch.rec.Name, Topic: ch.rec.Topic, State: s, Status: status, Err: err}
	switch {
	case ch.rec.State == messages.ChannelJoined && s != messages.ChannelJoined && ch.rec.Wanted:
		// The channel stops receiving while the user still wants it:
		// remember since when, to report the gap once it is back.
		ch.rec.DownSince = r.cfg.Clock.Now()
	case s == messages.ChannelJoined:
		ev.MissedSince = ch.rec.DownSince
		ch.rec.DownSince = time.Time{}
	case !ch.rec.Wanted:
		ch.rec.DownSince = time.Time{}
	}
	ch.rec.State = s
	r.persist(ch)
	if changed || status != "" {
		r.deliver(ch, ev)
	}
}

// create makes the registry own a channel. Client.Channel has normally
// created its record in the Table already (so it is visible when Channel
// returns); the registry adopts that record. If the record is gone (the
// channel was removed between the Table.Create and this message), it is
// created again from the message.
func (r *reg) create(m *messages.CreateChannel) {
	if _, ok := r.channels[m.Topic]; ok {
		return
	}
	rec, _ := r.cfg.Table.Create(store.Record{
		Topic: m.Topic, Name: m.Name, Config: m.Config, State: messages.ChannelClosed,
	})
	r.channels[m.Topic] = &channel{rec: rec.Clone()}
}

func (r *reg) addBinding(m *messages.AddBinding) {
	ch := r.channels[m.Topic]
	if ch == nil {
		r.deliver(nil, messages.ErrorEvent{Channel: messages.SubTopic(m.Topic), Err: messages.ErrUnknownChannel})
		return
	}
	ch.rec.Bindings = append(ch.rec.Bindings, m.Binding)
	r.persist(ch)
	if !bindingsNeedRejoin(ch, m.Binding) {
		return
	}
	switch ch.rec.State {
	case messages.ChannelJoined:
		// The join config changed: rejoin transparently.
		if r.open {
			r.join(ch)
		}
	case messages.ChannelJoining:
		if _, inFlight := r.pending[ch.rec.JoinRef]; inFlight {
			ch.dirty = true
		}
	}
}

func (r *reg) subscribe(m *messages.Subscribe) {
	ch := r.channels[m.Topic]
	if ch == nil {
		actors.Reply(m.Reply, messages.SubscribeResult{Err: messages.ErrUnknownChannel})
		return
	}
	if ch.rec.State == messages.ChannelJoined {
		actors.Reply(m.Reply, messages.SubscribeResult{Status: messages.Subscribed})
		return
	}
	if r.gaveUp != nil {
		actors.Reply(m.Reply, messages.SubscribeResult{Err: r.gaveUp})
		return
	}
	if ch.leaving != nil && ch.leaving.remove {
		actors.Reply(m.Reply, messages.SubscribeResult{Err: messages.ErrUnknownChannel})
		return
	}
	ch.subWaiters = append(ch.subWaiters, m.Reply)
	ch.rec.Wanted = true
	if ch.leaving != nil {
		return // joins again when the leave completes
	}
	if _, inFlight := r.pending[ch.rec.JoinRef]; inFlight && ch.rec.State == messages.ChannelJoining {
		return
	}
	if r.open {
		r.join(ch)
		return
	}
	// Not connected yet: the join goes out when the socket opens.
	r.setState(ch, messages.ChannelJoining, "", nil)
}

// join sends a phx_join with a fresh ref (the new join_ref) and token.
func (r *reg) join(ch *channel) {
	ch.stopRejoin()
	if old, ok := r.pending[ch.rec.JoinRef]; ok && old.kind == pendingJoin {
		old.timer.Stop()
		delete(r.pending, ch.rec.JoinRef)
	}
	ref := r.cfg.Refs.Next()
	ch.rec.JoinRef = ref
	ch.dirty = false
	ch.authErr = nil
	ch.sentToken = r.tokenFor(ch)
	ch.joinedPresence = ch.presenceEnabled()
	r.track(&pending{kind: pendingJoin, topic: ch.rec.Topic, joinRef: ref}, ref)
	r.send(frame.Frame{
		JoinRef: ref, Ref: ref, Topic: ch.rec.Topic, Event: "phx_join",
		Payload: joinPayloadFor(ch, ch.sentToken),
	})
	r.setState(ch, messages.ChannelJoining, "", nil)
}

func (r *reg) scheduleRejoin(ch *channel) {
	ch.stopRejoin()
	if !ch.rec.Wanted {
		return
	}
	ch.rejoinTries++
	d := r.cfg.RejoinAfter(ch.rejoinTries)
	ch.rejoinGen = r.cfg.Gens.Add(1)
	gen, topic, root, self := ch.rejoinGen, ch.rec.Topic, r.root, r.self
	ch.rejoinTimer = r.cfg.Clock.AfterFunc(d, func() { root.Send(self, &rejoinDue{topic: topic, gen: gen}) })
}

func (r *reg) rejoinDue(m *rejoinDue) {
	ch := r.channels[m.topic]
	if ch == nil || ch.rejoinGen == 0 || ch.rejoinGen != m.gen {
		return
	}
	ch.rejoinTimer = nil
	if ch.rec.Wanted && r.open && ch.rec.State == messages.ChannelErrored {
		r.joinWithFreshToken(ch)
	}
}

func (r *reg) connectionChanged(m *messages.ConnectionChanged) {
	r.deliver(nil, messages.ConnectionStateEvent{Old: m.Old, New: m.New, Err: m.Err, Attempt: m.Attempt, RetryIn: m.RetryIn})
	if m.New == messages.ConnOpen {
		if m.Token != "" {
			r.cfg.Redact.Add(m.Token)
			r.cfg.Token.Set(m.Token)
			r.scheduleRefresh()
		}
		if r.open && m.Epoch == r.openEpoch {
			return // already accounted for at Started
		}
		r.open = true
		r.openEpoch = m.Epoch
		for _, ch := range r.ordered() {
			if ch.rec.Wanted && !ch.rec.AuthBlocked && ch.leaving == nil {
				ch.rejoinTries = 0
				r.join(ch)
			}
		}
		return
	}
	if m.Err != nil && errors.Is(m.Err, messages.ErrReconnectLimit) {
		r.giveUp(m.Err)
	}
	if !r.open {
		return
	}
	if m.Epoch != 0 && (m.Epoch < r.openEpoch || (m.New == messages.ConnConnecting && m.Epoch == r.openEpoch)) {
		// News about an older incarnation (or the dial that led to the
		// open socket), queued while this instance started and already
		// accounted for: the socket is open.
		return
	}
	r.open = false
	r.openEpoch = 0
	// Everything in flight on the old socket is lost.
	for ref, p := range r.pending {
		if p.kind == pendingPush && !p.sent {
			continue // still buffered: it goes out after the rejoin
		}
		p.timer.Stop()
		delete(r.pending, ref)
		r.abandon(p, connectionLost(m.Err))
	}
	for _, ch := range r.ordered() {
		ch.stopRejoin()
		switch ch.rec.State {
		case messages.ChannelJoined, messages.ChannelJoining:
			r.setState(ch, messages.ChannelErrored, "", m.Err)
		}
	}
}
