package realtime

import "github.com/supabase-go/realtime/messages"

// ConnectionState is the state of the socket: connecting, open, closing or
// closed.
type ConnectionState = messages.ConnectionState

// Connection states.
const (
	ConnConnecting = messages.ConnConnecting
	ConnOpen       = messages.ConnOpen
	ConnClosing    = messages.ConnClosing
	ConnClosed     = messages.ConnClosed
)

// ChannelState is the state of a channel: closed, errored, joined, joining
// or leaving.
type ChannelState = messages.ChannelState

// Channel states.
const (
	ChannelClosed  = messages.ChannelClosed
	ChannelErrored = messages.ChannelErrored
	ChannelJoined  = messages.ChannelJoined
	ChannelJoining = messages.ChannelJoining
	ChannelLeaving = messages.ChannelLeaving
)

// SubscribeStatus is the outcome of a join attempt: SUBSCRIBED, TIMED_OUT,
// CLOSED or CHANNEL_ERROR.
type SubscribeStatus = messages.SubscribeStatus

// Subscribe outcomes.
const (
	// Subscribed: the server accepted the join; events flow.
	Subscribed = messages.Subscribed
	// TimedOut: no reply within the timeout. The channel leaves and
	// retries with backoff by itself; check the network and server.
	TimedOut = messages.TimedOut
	// Closed: the server closed the channel. Terminal: call Subscribe again
	// if you want it back (after fixing the cause, e.g. a token).
	Closed = messages.Closed
	// ChannelError: the server rejected the join or the channel crashed.
	// The reason is in the *ChannelErrorDetail; the channel retries with
	// backoff.
	ChannelError = messages.ChannelError
)
