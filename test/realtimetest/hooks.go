package realtimetest

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/supabase-go/realtime/internal/frame"
)

// JoinRequest describes one phx_join as seen by an OnJoin hook.
type JoinRequest struct {
	ConnID  int
	Topic   string
	JoinRef string
	Ref     string
	// Payload is the raw join payload.
	Payload json.RawMessage
	// AccessToken is the decoded channel token ("user_token" if set, else
	// "access_token"; "" if neither).
	AccessToken string
}

// JoinVerdict says how a join is answered.
type JoinVerdict int

const (
	// JoinAccept processes the join normally (it can still fail the
	// built-in checks, such as the channel limit).
	JoinAccept JoinVerdict = iota
	// JoinReject answers an error reply with JoinAction.Reason.
	JoinReject
	// JoinIgnore never answers, to provoke client join timeouts. The
	// channel is not registered.
	JoinIgnore
)

// JoinAction is an OnJoin hook's answer. The zero value is Accept.
type JoinAction struct {
	Verdict JoinVerdict
	// Reason is the error reason of a JoinReject, e.g.
	// "Unauthorized: You do not have permissions to read from this Channel topic: room1".
	Reason string
	// Delay holds the reply (and everything queued after it on that
	// socket) back; it adds to SetReplyDelay.
	Delay time.Duration
}

var (
	// Accept is the default JoinAction.
	Accept = JoinAction{Verdict: JoinAccept}
	// Ignore never replies to the join.
	Ignore = JoinAction{Verdict: JoinIgnore}
)

// Reject answers the join with {"status":"error","response":{"reason":reason}}.
func Reject(reason string) JoinAction { return JoinAction{Verdict: JoinReject, Reason: reason} }

// After returns a copy of a with Delay set to d.
func (a JoinAction) After(d time.Duration) JoinAction {
	a.Delay = d
	return a
}

// ReceivedFrame is one decoded inbound frame and the socket it came on.
type ReceivedFrame struct {
	ConnID int
	Frame  frame.Frame
}

// AccessTokenPush records one access_token push on a joined channel.
type AccessTokenPush struct {
	ConnID  int
	Topic   string
	JoinRef string
	Token   string
}

// hooks holds the fault-injection settings and recordings of a Server.
type hooks struct {
	withholdHeartbeats atomic.Bool
	withholdAcks       atomic.Bool
	closeOnAccept      atomic.Int64 // close code; 0: off
	replyDelayNs       atomic.Int64
	trailer            atomic.Pointer[[]byte] // SetHandshakeTrailer

	mu     sync.Mutex // guards the fields below
	onJoin func(JoinRequest) JoinAction
	joins  []JoinRequest
	frames []ReceivedFrame
	tokens []AccessTokenPush
}

func (h *hooks) replyDelay() time.Duration { return time.Duration(h.replyDelayNs.Load()) }

// join records req and asks the OnJoin hook, outside any lock.
func (h *hooks) join(req JoinRequest) JoinAction {
	h.mu.Lock()
	h.joins = append(h.joins, req)
	fn := h.onJoin
	h.mu.Unlock()
	if fn == nil {
		return Accept
	}
	return fn(req)
}

func (h *hooks) recordFrame(connID int, f frame.Frame) {
	h.mu.Lock()
	h.frames = append(h.frames, ReceivedFrame{ConnID: connID, Frame: f})
	h.mu.Unlock()
}

func (h *hooks) recordToken(t AccessTokenPush) {
	h.mu.Lock()
	h.tokens = append(h.tokens, t)
	h.mu.Unlock()
}

// OnJoin installs fn to script join replies; nil restores the default
// (Accept). fn runs on the joining socket's reader goroutine, after topic
// routing (non-"realtime:" topics never reach it) and the duplicate-join
// close, and before the built-in checks; it may block, which stalls that
// socket only.
func (s *Server) OnJoin(fn func(JoinRequest) JoinAction) {
	s.hooks.mu.Lock()
	s.hooks.onJoin = fn
	s.hooks.mu.Unlock()
}

// SetWithholdHeartbeats makes the server stop (true) or resume (false)
// replying to heartbeats. Heartbeats are still recorded.
func (s *Server) SetWithholdHeartbeats(withhold bool) { s.hooks.withholdHeartbeats.Store(withhold) }

// SetCloseOnAccept makes the server close every socket it accepts from
// now on at once, with a close frame of the given code, before it answers
// anything (an accept-then-close server); 0 turns it off. The client's
// first frames may still be read and recorded.
func (s *Server) SetCloseOnAccept(code int) { s.hooks.closeOnAccept.Store(int64(code)) }

// SetWithholdAcks makes the server stop (true) or resume (false) answering
// acknowledged broadcasts (ok and error replies alike) and accepted
// presence tracks; the broadcasts are still fanned out and the tracks
// applied.
func (s *Server) SetWithholdAcks(withhold bool) { s.hooks.withholdAcks.Store(withhold) }

// SetReplyDelay holds every phx_reply (heartbeat, join, leave, ack,
// presence) back by d. Because each socket's outbound queue is FIFO, frames
// queued after a delayed reply on the same socket wait too.
func (s *Server) SetReplyDelay(d time.Duration) { s.hooks.replyDelayNs.Store(int64(d)) }

// Joins returns every phx_join that reached the hook stage, in order.
func (s *Server) Joins() []JoinRequest {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return append([]JoinRequest(nil), s.hooks.joins...)
}

// Received returns deep copies of every decoded frame received on any
// socket, in arrival order.
func (s *Server) Received() []ReceivedFrame {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	out := make([]ReceivedFrame, len(s.hooks.frames))
	for i, rf := range s.hooks.frames {
		out[i] = ReceivedFrame{ConnID: rf.ConnID, Frame: copyFrame(&rf.Frame)}
	}
	return out
}

// AccessTokens returns every access_token push on a joined channel, in
// order.
func (s *Server) AccessTokens() []AccessTokenPush {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return append([]AccessTokenPush(nil), s.hooks.tokens...)
}

// CloseAll closes every open socket with code and text (see Conn.Close).
func (s *Server) CloseAll(code int, text string) {
	for _, c := range s.ActiveConns() {
		c.Close(code, text)
	}
}

// CrashChannel simulates a channel process crash on topic (both
// namespaces, every socket): each subscriber gets
// [join_ref,join_ref,topic,"phx_error",{}] and is dropped (its presence
// leaves). It returns how many channels were crashed.
func (s *Server) CrashChannel(topic string) int {
	return s.endChannels(WireTopic(topic), eventError)
}

// CloseChannel ends topic on every socket as after a leave: each subscriber
// gets [join_ref,join_ref,topic,"phx_close",{}] and is dropped. It returns
// how many channels were closed.
func (s *Server) CloseChannel(topic string) int {
	return s.endChannels(WireTopic(topic), eventClose)
}

func (s *Server) endChannels(topic, event string) int {
	n := 0
	for _, ch := range s.hub.subscribers(topic) {
		if ch.conn.detach(ch) {
			ch.conn.send(0, closeFrame(ch, event))
			n++
		}
	}
	return n
}

// SystemDisconnectMessage is the payload of the operator disconnect (§4.4).
const SystemDisconnectMessage = `{"extension":"system","status":"ok","message":"Server requested disconnect"}`

// SystemDisconnect simulates an operator disconnect (§4.4): every open
// socket gets [null,null,topic,"system",{…"Server requested disconnect"}]
// on each joined topic, then close code 1012.
func (s *Server) SystemDisconnect() {
	for _, c := range s.ActiveConns() {
		for _, topic := range c.Joined() {
			c.send(0, &frame.Frame{Topic: topic, Event: eventSystem, Payload: []byte(SystemDisconnectMessage)})
		}
		c.Close(websocket.CloseServiceRestart, "")
	}
}
