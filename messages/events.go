package messages

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Event is delivered to a Handler. The concrete types are value structs:
// BroadcastEvent, PresenceEvent, ChangeEvent, ChannelStatusEvent,
// ConnectionStateEvent, HeartbeatEvent, SystemEvent and ErrorEvent.
// Switch on the type.
type Event interface {
	// ChannelName is the sub-topic the event belongs to ("room1"), or ""
	// for connection-wide events.
	ChannelName() string
	isEvent()
}

// Handler receives events. See the root package for the contract.
type Handler interface {
	HandleEvent(ctx context.Context, ev Event)
}

// BroadcastEvent is a broadcast message received on a channel.
type BroadcastEvent struct {
	Channel string // sub-topic, "room1"
	Topic   string // wire topic, "realtime:room1"
	Event   string // the user event name, as sent
	// Payload is the user payload as raw JSON, or nil for a binary
	// payload. It is owned by the receiver and may be retained.
	Payload json.RawMessage
	// Binary is the raw payload of a binary broadcast (vsn 2.0.0,
	// payload_encoding 0), nil otherwise.
	Binary []byte
	// Meta is the optional metadata object (e.g. {"id":…} or
	// {"replayed":true,…}), raw JSON, nil if absent.
	Meta json.RawMessage
	// Received is when the frame was read from the socket: when the
	// socket read that completed it returned. Frames that one read
	// completed share the time.
	Received time.Time
}

// ErrBinaryPayload is returned by Decode for binary broadcasts.
var ErrBinaryPayload = errors.New("realtime: broadcast payload is binary")

// Decode unmarshals the JSON payload into v, with numbers decoded as
// json.Number when v is an interface or map.
func (e BroadcastEvent) Decode(v any) error {
	if e.Payload == nil {
		if e.Binary != nil {
			return ErrBinaryPayload
		}
		return json.Unmarshal([]byte("null"), v)
	}
	return DecodeJSON(e.Payload, v)
}

// ChannelStatusEvent reports a channel state change, and for subscribe
// attempts their outcome.
type ChannelStatusEvent struct {
	Channel string
	Topic   string
	State   ChannelState
	// Status is the subscribe outcome when this change ends a join
	// attempt, "" otherwise.
	Status SubscribeStatus
	// Err explains CHANNEL_ERROR, TIMED_OUT and errored states.
	Err error
	// MissedSince is set on a rejoin (State joined after the channel had
	// stopped receiving: socket lost, channel crashed, auth refused…) to
	// when the channel stopped. Broadcasts, presence diffs and postgres
	// changes sent between MissedSince and this event were not received;
	// postgres changes are never replayed, so fetch what changed since
	// then if it matters. Zero on the first join.
	MissedSince time.Time
}

// ConnectionStateEvent reports a connection state change.
type ConnectionStateEvent struct {
	Old, New ConnectionState
	// Err is why the connection closed (nil for a requested close).
	Err error
	// Attempt counts consecutive failed connection attempts (0 once open).
	Attempt int
	// RetryIn is the delay before the next attempt when New is closed and
	// a reconnect is scheduled, 0 otherwise.
	RetryIn time.Duration
}

// SystemEvent is a "system" message from the server, with its text
// verbatim (not redacted: see "Secrets and the server's text" in package
// realtime), e.g. postgres_changes "Subscribed to PostgreSQL" or
// "Server requested disconnect".
type SystemEvent struct {
	Channel   string
	Topic     string
	Extension string // "postgres_changes" or "system"
	Status    string // "ok" or "error"
	Message   string
}

// ErrorEvent reports a problem that has no caller to return to: a handler
// panic, a malformed or stale frame, a failed rejoin.
type ErrorEvent struct {
	Channel string // "" when not tied to a channel
	Err     error
}

func (e BroadcastEvent) ChannelName() string       { return e.Channel }
func (e ChannelStatusEvent) ChannelName() string   { return e.Channel }
func (e ConnectionStateEvent) ChannelName() string { return "" }
func (e SystemEvent) ChannelName() string          { return e.Channel }
func (e ErrorEvent) ChannelName() string           { return e.Channel }

func (BroadcastEvent) isEvent()       {}
func (ChannelStatusEvent) isEvent()   {}
func (ConnectionStateEvent) isEvent() {}
func (SystemEvent) isEvent()          {}
func (ErrorEvent) isEvent()           {}
