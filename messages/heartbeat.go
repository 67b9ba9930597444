package messages

import (
	"sync/atomic"
	"time"
)

// HeartbeatStatus is the outcome of one heartbeat, named as realtime-js
// names the statuses of its heartbeatCallback.
type HeartbeatStatus string

const (
	// HeartbeatSent: the heartbeat was written to the socket.
	HeartbeatSent HeartbeatStatus = "sent"
	// HeartbeatOK: the server answered it with status "ok".
	HeartbeatOK HeartbeatStatus = "ok"
	// HeartbeatError: the server answered it with another status, or it
	// could not be written (the socket is then closed and reconnects).
	HeartbeatError HeartbeatStatus = "error"
	// HeartbeatTimeout: it was still unanswered when the next one was
	// due; the socket is closed and reconnects (ErrHeartbeatTimeout).
	HeartbeatTimeout HeartbeatStatus = "timeout"
)

// HeartbeatEvent reports one outcome of a heartbeat: every heartbeat gives
// a HeartbeatSent event, then one of HeartbeatOK, HeartbeatError or
// HeartbeatTimeout. (realtime-js's "disconnected" has no counterpart:
// heartbeats run only while the socket is open.)
type HeartbeatEvent struct {
	Status HeartbeatStatus
	// Ref is the heartbeat's message ref, the same in its sent event and
	// its outcome.
	Ref string
	// RTT is the round trip from the write to the server's answer, set
	// for HeartbeatOK and for an error answer; 0 otherwise.
	RTT time.Duration
	// Err explains HeartbeatError and HeartbeatTimeout.
	Err error
}

// ChannelName returns "": heartbeats belong to the connection.
func (e HeartbeatEvent) ChannelName() string { return "" }

func (HeartbeatEvent) isEvent() {}

// Heartbeat carries a HeartbeatEvent from the connection actor to the
// registry, which delivers it to the client's Handler.
type Heartbeat struct{ Event HeartbeatEvent }

// HeartbeatRecord keeps the last heartbeat outcome for Stats. Safe for
// concurrent use.
type HeartbeatRecord struct {
	v atomic.Pointer[HeartbeatEvent]
}

// Store records ev.
func (h *HeartbeatRecord) Store(ev HeartbeatEvent) { h.v.Store(&ev) }

// Load returns the last event recorded (the zero value if none).
func (h *HeartbeatRecord) Load() HeartbeatEvent {
	if p := h.v.Load(); p != nil {
		return *p
	}
	return HeartbeatEvent{}
}
