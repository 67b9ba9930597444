package registry

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// Routes is the data plane's routing table: what the socket reader needs
// to hand a data frame (a broadcast or a postgres change) of a joined
// channel straight to the Dispatcher, without the registry actor. The
// registry publishes a channel's route when the channel is joined and
// replaces or withdraws it, before it sends or delivers anything else,
// whenever what the route holds changes (join_ref, state, bindings,
// postgres binding ids) or the channel goes. Every other frame, and every
// frame the route cannot decide exactly as the registry would (another
// join_ref, a payload that does not parse), takes the registry's path.
//
// Order. A frame takes the fast path only while nothing its reader queued
// for the registry is still unhandled (wire.Inbox.Drained): every earlier
// frame's events are then in the Dispatcher's queues already. A route is
// checked again, under the Dispatcher's lock, when the event is queued:
// if the registry replaced it meanwhile, the frame goes the registry's
// way instead. So a fast-path event is queued either before the registry
// changed the channel (and before every event the change produced), or
// not at all — as if the registry had routed it before the change.
//
// The table is created with the Dispatcher and shared by every registry
// incarnation and every reader. Safe for concurrent use.
type Routes struct {
	d     *Dispatcher
	slots sync.Map // topic → *routeSlot
}

// routeSlot holds the current route of one topic; nil when it has none.
// It is stored under the Dispatcher's lock, so a reader holding that lock
// sees whether the route it routed by is still current.
type routeSlot struct{ cur atomic.Pointer[route] }

// route is an immutable snapshot of what routing a data frame of a
// joined channel needs.
type route struct {
	name, topic, joinRef string
	h                    messages.Handler
	key                  string                     // Dispatcher queue
	bindings             []messages.Binding         // the channel's, capped
	pg                   []messages.PostgresChanges // postgresBindings
	pgIDs                []json.RawMessage          // the server's ids
	bindingsAt, idsAt    unsafe.Pointer             // identity, see same
	nBindings, nIDs      int
}

// NewRoutes returns an empty routing table whose routes deliver to d.
func NewRoutes(d *Dispatcher) *Routes { return &Routes{d: d} }

// set publishes rt as topic's route (nil withdraws it).
func (t *Routes) set(topic string, rt *route) {
	v, ok := t.slots.Load(topic)
	if !ok {
		if rt == nil {
			return
		}
		v, _ = t.slots.LoadOrStore(topic, &routeSlot{})
	}
	slot := v.(*routeSlot)
	t.d.mu.Lock()
	slot.cur.Store(rt)
	t.d.mu.Unlock()
}

// drop forgets a removed topic.
func (t *Routes) drop(topic string) {
	t.set(topic, nil)
	t.slots.Delete(topic)
}

// route publishes, replaces or withdraws ch's route after a change to it.
// Only a joined channel has one.
func (r *reg) route(ch *channel) {
	if r.cfg.Routes == nil {
		return
	}
	topic := ch.rec.Topic
	if ch.rec.State != messages.ChannelJoined {
		if ch.routed {
			ch.routed = false
			r.cfg.Routes.set(topic, nil)
		}
		return
	}
	if v, ok := r.cfg.Routes.slots.Load(topic); ok && ch.routed {
		if cur := v.(*routeSlot).cur.Load(); cur != nil && cur.same(ch) {
			return
		}
	}
	b := ch.rec.Bindings
	rt := &route{
		name: ch.rec.Name, topic: topic, joinRef: ch.rec.JoinRef,
		h: ch.handler(r.cfg.Handler), bindings: b[:len(b):len(b)],
		pg: postgresBindings(ch), pgIDs: ch.rec.PostgresIDs[:len(ch.rec.PostgresIDs):len(ch.rec.PostgresIDs)],
		bindingsAt: unsafe.Pointer(unsafe.SliceData(b)), nBindings: len(b),
		idsAt: unsafe.Pointer(unsafe.SliceData(ch.rec.PostgresIDs)), nIDs: len(ch.rec.PostgresIDs),
	}
	if ch.rec.Config.Handler != nil {
		rt.key = topic
	}
	ch.routed = true
	r.cfg.Routes.set(topic, rt)
}

// republish replaces the routes an earlier registry instance published
// with this one's, from the channels it resumed: a route for a topic it
// does not know, or that is not joined, is withdrawn.
func (r *reg) republish() {
	if r.cfg.Routes == nil {
		return
	}
	r.cfg.Routes.slots.Range(func(k, _ any) bool {
		if topic := k.(string); r.channels[topic] == nil {
			r.cfg.Routes.drop(topic)
		}
		return true
	})
	for topic, ch := range r.channels {
		if ch.rec.State != messages.ChannelJoined {
			r.cfg.Routes.set(topic, nil)
			continue
		}
		r.route(ch)
	}
}

// unroute withdraws the route of a channel that goes away.
func (r *reg) unroute(topic string) {
	if r.cfg.Routes != nil {
		r.cfg.Routes.drop(topic)
	}
}

// same reports whether rt still describes ch: the fields a route copies
// only change by assignment (join_ref, the binding ids) or by append (the
// bindings), so the same backing arrays and lengths mean the same route.
func (rt *route) same(ch *channel) bool {
	return rt.joinRef == ch.rec.JoinRef &&
		rt.bindingsAt == unsafe.Pointer(unsafe.SliceData(ch.rec.Bindings)) && rt.nBindings == len(ch.rec.Bindings) &&
		rt.idsAt == unsafe.Pointer(unsafe.SliceData(ch.rec.PostgresIDs)) && rt.nIDs == len(ch.rec.PostgresIDs)
}

// Router routes the data frames of one socket reader. It is not safe for
// concurrent use: each reader goroutine makes its own (NewRouter).
type Router struct {
	t      *Routes
	intern wire.InternFunc
	// slab is where the payloads handed to Handlers are copied: one
	// allocation per slabSize bytes of payloads instead of one per frame.
	slab []byte
}

// slabSize is the size of the buffers payload copies are cut from. A
// Handler that keeps one payload keeps its slab alive: at most 8 KiB.
// Payloads over a quarter of it get an allocation of their own.
const slabSize = 8 << 10

// NewRouter returns a Router for one reader goroutine; intern interns
// event names (a wire.NameCache that goroutine owns).
func (t *Routes) NewRouter(intern wire.InternFunc) *Router {
	return &Router{t: t, intern: intern}
}

// Route hands in's frame to the Dispatcher if its channel has a route
// and the frame is a data frame the route decides exactly as the
// registry would, and reports whether it did (a frame no binding
// matches counts as routed: the registry drops it too). The caller must
// hold no frame for the registry that the registry has not handled (see
// Routes). On false the frame is untouched and goes to the registry.
func (rt *Router) Route(in *messages.Inbound) bool {
	f := &in.Frame
	if in.Err != nil || (f.Event != "broadcast" && f.Event != "postgres_changes") {
		return false
	}
	v, ok := rt.t.slots.Load(f.Topic)
	if !ok {
		return false
	}
	slot := v.(*routeSlot)
	r := slot.cur.Load()
	if r == nil || (f.JoinRef != "" && f.JoinRef != r.joinRef) {
		return false
	}
	var ev messages.Event
	if f.Event == "broadcast" {
		e, ok := rt.broadcast(r, in)
		if !ok {
			return false
		}
		if !wantsBroadcast(r.bindings, e.Event) {
			return true
		}
		ev = e
	} else {
		e, ok, matched := rt.postgresChange(r, in)
		if !ok {
			return false
		}
		if !matched {
			return true
		}
		ev = e
	}
	if r.h == nil {
		return true // the registry delivers nothing either
	}
	return rt.t.d.deliverRouted(slot, r, r.key, r.h, ev)
}

// broadcast builds the event the registry's broadcast would, from copies
// of the parts it hands out; ok is false when the payload has to be parsed
// and does not parse (the registry reports that).
func (rt *Router) broadcast(r *route, in *messages.Inbound) (ev messages.BroadcastEvent, ok bool) {
	ev, err := broadcastEvent(r.name, r.topic, in, rt.intern)
	if err != nil {
		return ev, false
	}
	ev.Payload, ev.Binary, ev.Meta = rt.own(ev.Payload), rt.own(ev.Binary), rt.own(ev.Meta)
	return ev, true
}

// postgresChange builds the event the registry's postgresChange would,
// from a copy of the payload (the event aliases what it parses); ok is
// false when the payload does not parse, matched when a binding takes the
// change.
func (rt *Router) postgresChange(r *route, in *messages.Inbound) (ev messages.ChangeEvent, ok, matched bool) {
	ids, ev, err := wire.ParsePostgresChange(rt.own(in.Frame.Payload))
	if err != nil {
		return ev, false, false
	}
	if !matchesChange(r.pg, r.pgIDs, ids, ev.Type) {
		return ev, true, false
	}
	ev.Channel, ev.Topic, ev.Received = r.name, r.topic, in.Received
	return ev, true, true
}

// own copies b out of the read buffer (nil stays nil, empty stays
// empty), into the slab when it is small.
func (rt *Router) own(b []byte) []byte {
	if b == nil {
		return nil
	}
	n := len(b)
	if n == 0 {
		return []byte{}
	}
	if n > slabSize/4 {
		return append([]byte(nil), b...)
	}
	if cap(rt.slab)-len(rt.slab) < n {
		rt.slab = make([]byte, 0, slabSize)
	}
	start := len(rt.slab)
	rt.slab = append(rt.slab, b...)
	return rt.slab[start:len(rt.slab):len(rt.slab)]
}
