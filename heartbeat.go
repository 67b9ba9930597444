package realtime

import "github.com/supabase-go/realtime/messages"

// Heartbeat health, the Go form of realtime-js's heartbeatCallback: every
// heartbeat reaches the Handler as a HeartbeatEvent when it is sent and
// again with its outcome, and Stats counts the outcomes
// (HeartbeatsSent, HeartbeatsAcknowledged, HeartbeatErrors,
// HeartbeatTimeouts) and keeps the last one and the last round trip.
type (
	// HeartbeatEvent reports one heartbeat outcome: Status, the
	// heartbeat's Ref, the round trip RTT (for answered heartbeats) and
	// Err (for HeartbeatError and HeartbeatTimeout).
	HeartbeatEvent = messages.HeartbeatEvent
	// HeartbeatStatus is sent, ok, error or timeout.
	HeartbeatStatus = messages.HeartbeatStatus
)

// Heartbeat statuses.
const (
	HeartbeatSent    = messages.HeartbeatSent
	HeartbeatOK      = messages.HeartbeatOK
	HeartbeatError   = messages.HeartbeatError
	HeartbeatTimeout = messages.HeartbeatTimeout
)
