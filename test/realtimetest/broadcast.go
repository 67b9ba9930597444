package realtimetest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/supabase-go/realtime/internal/frame"
)

// handleBroadcast implements §5.1–5.3 for a push on a joined channel: size
// check, fan-out by origin and receiver version (§5.2), self and ack.
func (c *Conn) handleBroadcast(ch *channel, f *frame.Frame) {
	c.broadcasts.Add(1)
	ack := ch.cfg.ack && !c.srv.hooks.withholdAcks.Load()
	if !c.writeAllowed(ch, extBroadcast) {
		// Private channel without write permission: dropped, no ack (§5.1).
		return
	}
	if len(f.Payload) > c.srv.opts.MaxPayloadBytes {
		c.srv.log.Debug("realtimetest: broadcast payload too large", "conn", c.id, "topic", f.Topic, "bytes", len(f.Payload))
		if ack {
			c.reply(f, f.JoinRef, "error", []byte(`"payload_size_exceeded"`), c.srv.hooks.replyDelay())
		}
		return
	}
	var d delivery
	switch f.Kind {
	case frame.KindText:
		// JSON pushes are forwarded verbatim, whatever the map holds.
		d = sameForAll(&frame.Frame{Topic: f.Topic, Event: eventBroadcast, Payload: f.Payload})
	case frame.KindUserBroadcastPush:
		// Client metadata is discarded by the server.
		d = userBroadcastDelivery(f.Topic, f.UserEvent, f.Encoding, f.Payload)
	case frame.KindPush:
		// A kind-0 binary push is fanned out as Phoenix's kind 2, which
		// realtime-js cannot read; V1 sockets never get binary frames.
		d = delivery{v2: &frame.Frame{Kind: frame.KindBroadcast, Topic: f.Topic, Event: eventBroadcast, Payload: f.Payload}}
	default:
		c.srv.log.Debug("realtimetest: unexpected broadcast kind", "conn", c.id, "kind", f.Kind)
		return
	}
	exclude := ch
	if ch.cfg.self {
		exclude = nil
	}
	c.srv.countEvents(1)
	c.srv.deliver(ch.key, exclude, d)
	if ack {
		c.reply(f, f.JoinRef, "ok", []byte(`{}`), c.srv.hooks.replyDelay())
	}
}

// userBroadcastDelivery builds the §5.2 "user broadcast" delivery: binary
// kind 4 for V2 receivers; for V1 receivers the JSON-converted text form
// {"event","payload","type"} when the payload is JSON, nothing otherwise.
func userBroadcastDelivery(topic, event string, enc frame.Encoding, payload []byte) delivery {
	d := delivery{v2: &frame.Frame{
		Kind:      frame.KindUserBroadcast,
		Topic:     topic,
		Event:     eventBroadcast,
		UserEvent: event,
		Encoding:  enc,
		Payload:   payload,
	}}
	if enc == frame.EncodingJSON && json.Valid(payload) {
		ev, _ := json.Marshal(event)
		p := make([]byte, 0, len(payload)+len(ev)+40)
		p = append(p, `{"event":`...)
		p = append(p, ev...)
		p = append(p, `,"payload":`...)
		p = append(p, payload...)
		p = append(p, `,"type":"broadcast"}`...)
		d.v1 = &frame.Frame{Topic: topic, Event: eventBroadcast, Payload: p}
	}
	return d
}

// fanout delivers d to every subscriber of key except exclude.
func (h *hub) fanout(key topicKey, exclude *channel, d delivery) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fanoutLocked(h.topics[key], exclude, d)
}

// Broadcast sends a server-originated JSON broadcast (like the HTTP batch
// API) to every subscriber of the public topic: receivers get
// {"type":"broadcast","event":event,"payload":payload} as
// [null,null,topic,"broadcast",…] (object form on V1). payload is marshalled
// with encoding/json (json.RawMessage passes through unchanged). A topic
// without the "realtime:" prefix gets it added.
func (s *Server) Broadcast(topic, event string, payload any) error {
	return s.broadcast(topic, false, event, payload)
}

// BroadcastPrivate is Broadcast for the private namespace of topic.
func (s *Server) BroadcastPrivate(topic, event string, payload any) error {
	return s.broadcast(topic, true, event, payload)
}

func (s *Server) broadcast(topic string, private bool, event string, payload any) error {
	p, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("realtimetest: marshal broadcast payload: %w", err)
	}
	ev, _ := json.Marshal(event)
	body := make([]byte, 0, len(p)+len(ev)+40)
	body = append(body, `{"type":"broadcast","event":`...)
	body = append(body, ev...)
	body = append(body, `,"payload":`...)
	body = append(body, p...)
	body = append(body, '}')
	topic = WireTopic(topic)
	s.deliver(topicKey{topic, private}, nil, sameForAll(&frame.Frame{Topic: topic, Event: eventBroadcast, Payload: body}))
	return nil
}

// UserBroadcast sends a server-originated user broadcast (like the HTTP
// single-event API) to every subscriber of the public topic: binary kind 4
// without metadata to V2 sockets and, when enc is EncodingJSON, the
// JSON-converted text form to V1 sockets.
func (s *Server) UserBroadcast(topic, event string, enc frame.Encoding, payload []byte) {
	topic = WireTopic(topic)
	s.deliver(topicKey{topic, false}, nil, userBroadcastDelivery(topic, event, enc, payload))
}

// WireTopic returns topic with the "realtime:" prefix, adding it if absent.
func WireTopic(topic string) string {
	if strings.HasPrefix(topic, TopicPrefix) {
		return topic
	}
	return TopicPrefix + topic
}
