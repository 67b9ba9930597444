package realtimetest

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/supabase-go/realtime/internal/frame"
)

// serverExt is the state of the token checks, limits, HTTP API and fault
// hooks of a Server.
type serverExt struct {
	events   rateCounter // tenant events (Options.MaxEventsPerSecond)
	joins    rateCounter // tenant joins (Options.MaxJoinsPerSecond)
	httpReqs rateWindow  // HTTP broadcast requests per second (Options.HTTPRateLimit)
	store    messageStore

	timerMu sync.Mutex
	timers  map[*channel]*time.Timer // pending token re-checks
	stopped bool                     // Close ran: no new timers

	httpMu     sync.Mutex
	httpScript *httpScript
	httpLog    []HTTPRequest
}

// trackTimer registers the pending re-check timer of ch so Close can stop
// it; after Close the timer is stopped at once.
func (s *Server) trackTimer(ch *channel, t *time.Timer) {
	s.ext.timerMu.Lock()
	defer s.ext.timerMu.Unlock()
	if s.ext.stopped {
		t.Stop()
		return
	}
	if s.ext.timers == nil {
		s.ext.timers = make(map[*channel]*time.Timer)
	}
	s.ext.timers[ch] = t
}

func (s *Server) untrackTimer(ch *channel) {
	s.ext.timerMu.Lock()
	delete(s.ext.timers, ch)
	s.ext.timerMu.Unlock()
}

// stopTimers stops every pending re-check; called by Close.
func (s *Server) stopTimers() {
	s.ext.timerMu.Lock()
	defer s.ext.timerMu.Unlock()
	s.ext.stopped = true
	for ch, t := range s.ext.timers {
		t.Stop()
		delete(s.ext.timers, ch)
	}
}

// sleep waits d, or less if the server closes first.
func (s *Server) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
	}
}

// systemPayload renders a channel system message with the keys in the
// server's order: {"channel","extension","message","status"}.
func systemPayload(subTopic, extension, status, message string) []byte {
	p, _ := json.Marshal(struct {
		Channel   string `json:"channel"`
		Extension string `json:"extension"`
		Message   string `json:"message"`
		Status    string `json:"status"`
	}{subTopic, extension, message, status})
	return p
}

// systemFrame is [join_ref,null,topic,"system",{…}], pushed by the channel.
func systemFrame(ch *channel, extension, status, message string) *frame.Frame {
	return &frame.Frame{
		JoinRef: ch.joinRef,
		Topic:   ch.topic,
		Event:   eventSystem,
		Payload: systemPayload(subTopicOf(ch.topic), extension, status, message),
	}
}

// shutdownChannel ends ch the way the server's shutdown_response does: a
// system error with message, then phx_close; the channel is dropped (its
// presence leaves). It reports false if ch was no longer joined.
func (c *Conn) shutdownChannel(ch *channel, message string) bool {
	if !c.detach(ch) {
		return false
	}
	if x := ch.x; x != nil {
		x.mu.Lock()
		x.ended = true
		if x.timer != nil {
			x.timer.Stop()
		}
		x.mu.Unlock()
		c.srv.untrackTimer(ch)
	}
	c.srv.log.Debug("realtimetest: channel shut down", "conn", c.id, "topic", ch.topic, "message", message)
	c.send(0, systemFrame(ch, extSystem, "error", message), closeFrame(ch, eventClose))
	return true
}

// SendSystem pushes a system message to every channel joined on topic
// (both namespaces, every socket):
// [join_ref,null,topic,"system",{"channel":<sub-topic>,"extension":extension,"message":message,"status":status}].
// The channels stay joined. It returns how many channels got it.
func (s *Server) SendSystem(topic, extension, status, message string) int {
	n := 0
	for _, ch := range s.hub.subscribers(WireTopic(topic)) {
		ch.conn.send(0, systemFrame(ch, extension, status, message))
		n++
	}
	return n
}

// ShutdownChannel ends topic on every socket the way the server shuts a
// channel down after an error (§4.3, §9.1): each subscriber gets a system
// message {"extension":"system","status":"error","message":message} then
// phx_close, and is dropped. For example message "Replication connection
// was not established in time". It returns how many channels were shut
// down.
func (s *Server) ShutdownChannel(topic, message string) int {
	n := 0
	for _, ch := range s.hub.subscribers(WireTopic(topic)) {
		if ch.conn.shutdownChannel(ch, message) {
			n++
		}
	}
	return n
}
