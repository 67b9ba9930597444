package messages

import (
	"time"

	"github.com/supabase-go/realtime/internal/frame"
)

// This file holds the messages exchanged between the client API and the
// actors, and between the actors. Commands are imperative (Subscribe),
// facts are past tense (ConnectionChanged). Messages that can cross a
// connection restart carry the connection Epoch.

// CreateChannel registers a channel with the registry. It is a no-op when a
// channel with the same topic exists.
type CreateChannel struct {
	Topic  string
	Name   string
	Config ChannelConfig
}

// AddBinding adds a binding to a channel. A binding that changes the join
// config of a joined channel makes the registry rejoin it.
type AddBinding struct {
	Topic   string
	Binding Binding
}

// SubscribeResult is the first outcome of a Subscribe.
type SubscribeResult struct {
	Status SubscribeStatus
	Err    error
}

// Subscribe asks the registry to join a channel; Reply receives the first
// outcome.
type Subscribe struct {
	Topic string
	Reply chan<- SubscribeResult
}

// Unsubscribe asks the registry to leave a channel; with Remove it also
// forgets the channel. Reply receives nil once the server replied, or the
// error.
type Unsubscribe struct {
	Topic  string
	Remove bool
	Reply  chan<- error
}

// RemoveAll leaves and forgets every channel.
type RemoveAll struct {
	Reply chan<- error
}

// Push sends a message on a channel. The registry fills in join_ref, ref
// and topic of Frame. Reply receives the outcome once the push was written
// to the socket or accepted into the send buffer (or ErrBufferFull). With
// Ack set on a channel whose join config asks for acks, the push is tracked
// until its reply and PushResult.Ref names it for WaitAck.
//
// Claim, when set, is taken (Take) by the registry before it commits the
// push; a failed Take means the caller already returned its ctx error, and
// the push is dropped unsent.
type Push struct {
	Topic string
	Frame frame.Frame
	Ack   bool
	Reply chan<- PushResult
	Claim interface{ Take() bool }
}

// PushResult answers a Push.
type PushResult struct {
	// Ref is the push's ref when it is tracked for an ack, "" otherwise.
	Ref string
	Err error
}

// WaitAck waits for the reply to an acknowledged push. Reply receives nil
// (acknowledged), ErrPushTimeout, a *PushError, ErrConnectionLost or
// ErrUnknownAck.
//
// Claim, when set, is taken when the answer is written: a caller that gave
// up before (its ctx ended) has abandoned it, and the result stays for the
// next WaitAck of the same ref.
type WaitAck struct {
	Ref   string
	Reply chan<- error
	Claim interface{ Take() bool }
}

// SetAuth replaces the access token of every channel (Topic "") or of one
// channel, pushes it to the joined ones and rejoins channels that were
// blocked by an authorization error.
type SetAuth struct {
	Topic string
	Token string
	Reply chan<- error
}

// Track and Untrack push presence for the channel and wait for the reply.
type Track struct {
	Topic   string
	Payload []byte // JSON object; nil for untrack
	Untrack bool
	Reply   chan<- error
}

// Inbound is a decoded frame read from the socket. The frame's slices alias
// the reader's read buffer and are valid only until the batch holding the
// Inbound is released (see Inbox): whoever keeps frame bytes copies them.
// Err is set, and Frame empty, for a frame the reader could not decode.
type Inbound struct {
	Epoch    uint64
	Frame    frame.Frame
	Received time.Time
	Err      error
}

// Outbound asks the connection to write a frame. If the socket is not open
// or the write fails, the connection returns it in an OutboundFailed.
type Outbound struct {
	Frame frame.Frame
	// Ack marks an acknowledged push, whose outcome the registry tracks.
	Ack bool
}

// OutboundFailed returns a frame the connection could not write.
type OutboundFailed struct {
	Frame frame.Frame
	Ack   bool // copied from Outbound
	Err   error
}

// ConnectionChanged reports a connection state change. Token is the access
// token fetched before the connect (New == ConnOpen only).
type ConnectionChanged struct {
	Epoch   uint64
	Old     ConnectionState
	New     ConnectionState
	Err     error
	Token   string
	Attempt int
	RetryIn time.Duration
}

// RefreshAuth asks the registry to pull a fresh token from the access
// token callback and push it to every channel that uses the client's
// token. Reply receives nil once the token is applied, or why not.
type RefreshAuth struct {
	Reply chan<- error
}
