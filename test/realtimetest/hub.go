package realtimetest

import (
	"sync"

	"github.com/supabase-go/realtime/internal/frame"
)

// topicKey identifies a fan-out namespace: public and private channels with
// the same topic are separate on the server (§3.1).
type topicKey struct {
	topic   string
	private bool
}

// topicState is the subscribers and presence of one namespace.
type topicState struct {
	subs     []*channel       // in join order
	presence []*presenceEntry // in track order
}

// hub is the topic → subscribers registry used for every fan-out.
//
// Lock order: Conn.mu may be held while taking nothing else; hub.mu is taken
// without Conn.mu held and may take outQueue.mu (a leaf). Frames are queued
// while hub.mu is held, which gives every subscriber of a topic the same
// order of broadcasts and presence diffs, and makes a join reply precede
// everything fanned out to the new channel.
type hub struct {
	srv *Server

	mu      sync.Mutex
	topics  map[topicKey]*topicState
	presSeq uint64 // presence ref counter, guarded by mu
}

func newHub(s *Server) *hub {
	return &hub{srv: s, topics: make(map[topicKey]*topicState)}
}

// subscribe adds ch to its topic and calls onJoined, under the hub lock,
// with the current presence snapshot (JSON).
func (h *hub) subscribe(ch *channel, onJoined func(presenceState []byte)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.topics[ch.key]
	if ts == nil {
		ts = &topicState{}
		h.topics[ch.key] = ts
	}
	ts.subs = append(ts.subs, ch)
	onJoined(ts.presenceStateLocked())
}

// unsubscribe removes ch from its topic, untracking its presence (the
// leave is fanned out to the remaining subscribers).
func (h *hub) unsubscribe(ch *channel) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.topics[ch.key]
	if ts == nil {
		return
	}
	for i, s := range ts.subs {
		if s == ch {
			ts.subs = append(ts.subs[:i:i], ts.subs[i+1:]...)
			break
		}
	}
	h.untrackLocked(ts, ch)
	if len(ts.subs) == 0 && len(ts.presence) == 0 {
		delete(h.topics, ch.key)
	}
}

// subscribers returns the channels joined on topic, in both namespaces.
func (h *hub) subscribers(topic string) []*channel {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*channel
	for _, private := range []bool{false, true} {
		if ts := h.topics[topicKey{topic, private}]; ts != nil {
			out = append(out, ts.subs...)
		}
	}
	return out
}

// delivery is what one fan-out sends, per receiver serializer. A nil frame
// means receivers of that version get nothing.
type delivery struct {
	v1, v2 *frame.Frame
}

// sameForAll is a delivery of one text frame to every receiver.
func sameForAll(f *frame.Frame) delivery { return delivery{v1: f, v2: f} }

// fanoutLocked queues d to every subscriber of ts except exclude (nil for
// none). Each frame is encoded once per serializer version.
func (h *hub) fanoutLocked(ts *topicState, exclude *channel, d delivery) {
	if ts == nil {
		return
	}
	var cache [2]struct {
		done bool
		item outItem
		ok   bool
	}
	for _, sub := range ts.subs {
		if sub == exclude || !sub.x.receives(d.event()) {
			continue // private channels without read permission are skipped
		}
		f, idx := d.v2, 1
		if sub.conn.vsn == frame.V1 {
			f, idx = d.v1, 0
		}
		if f == nil {
			continue
		}
		e := &cache[idx]
		if !e.done {
			e.done = true
			it, err := sub.conn.encode(f)
			if err != nil {
				h.srv.log.Debug("realtimetest: fan-out encode failed", "topic", f.Topic, "event", f.Event, "vsn", string(sub.conn.vsn), "err", err)
			} else {
				e.item, e.ok = it, true
			}
		}
		if e.ok {
			sub.conn.out.push(e.item)
		}
	}
}
