package realtime

import "github.com/supabase-go/realtime/messages"

// Sentinel errors; match them with errors.Is.
var (
	ErrClosed           = messages.ErrClosed
	ErrNotConnected     = messages.ErrNotConnected
	ErrBufferFull       = messages.ErrBufferFull
	ErrUnknownChannel   = messages.ErrUnknownChannel
	ErrChannelClosed    = messages.ErrChannelClosed
	ErrJoinTimeout      = messages.ErrJoinTimeout
	ErrPushTimeout      = messages.ErrPushTimeout
	ErrHeartbeatTimeout = messages.ErrHeartbeatTimeout
	ErrReconnectLimit   = messages.ErrReconnectLimit
	ErrChannelError     = messages.ErrChannelError
	ErrInvalidOption    = messages.ErrInvalidOption
	ErrHandlerPanic     = messages.ErrHandlerPanic
	ErrHandlerOverflow  = messages.ErrHandlerOverflow
	ErrConnectionLost   = messages.ErrConnectionLost
	ErrDial             = messages.ErrDial
	ErrMalformedFrame   = messages.ErrMalformed
	ErrBinaryPayload    = messages.ErrBinaryPayload
	ErrRestarted        = messages.ErrRestarted
	ErrAuth             = messages.ErrAuth
	ErrAckDisabled      = messages.ErrAckDisabled
	ErrUnknownAck       = messages.ErrUnknownAck
	ErrHTTP             = messages.ErrHTTP
	ErrFrameTooLarge    = messages.ErrFrameTooLarge
	ErrPresenceLimit    = messages.ErrPresenceLimit
	ErrNoTokenCallback  = messages.ErrNoTokenCallback
)

// Typed errors; match them with errors.As.
type (
	// OptionError: an invalid option or argument (wraps ErrInvalidOption).
	OptionError = messages.OptionError
	// ChannelErrorDetail: the server's reason for a channel error (wraps
	// ErrChannelError).
	ChannelErrorDetail = messages.ChannelErrorDetail
	// HandlerPanicError: a recovered Handler panic (wraps ErrHandlerPanic).
	HandlerPanicError = messages.HandlerPanicError
	// HandlerOverflowError: events dropped because a Handler fell behind
	// by more than WithHandlerQueue or WithHandlerQueueBytes (wraps
	// ErrHandlerOverflow).
	HandlerOverflowError = messages.HandlerOverflowError
	// ConnectError: a failed dial, with the HTTP status and the server's
	// message of a rejected upgrade (wraps ErrDial).
	ConnectError = messages.ConnectError
	// CloseError: the socket closed or failed while open (wraps
	// ErrConnectionLost).
	CloseError = messages.CloseError
	// AuthError: the server refused a channel's token (wraps ErrAuth and
	// ErrChannelError).
	AuthError = messages.AuthError
	// PushError: an error reply to a push, such as an acknowledged
	// broadcast answered "payload_size_exceeded".
	PushError = messages.PushError
	// HTTPError: a non-2xx answer of the HTTP broadcast endpoints (wraps
	// ErrHTTP).
	HTTPError = messages.HTTPError
	// PresenceLimitError: presence metas a channel refused at its limits
	// (wraps ErrPresenceLimit).
	PresenceLimitError = messages.PresenceLimitError
)
