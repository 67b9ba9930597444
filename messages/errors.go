package messages

import (
	"errors"
	"fmt"
	"strings"

	"github.com/supabase-go/realtime/filter"
	"github.com/supabase-go/realtime/internal/frame"
)

// Sentinel errors. Every error this module returns wraps one of these or is
// one of the typed errors below, so callers use errors.Is / errors.As.
var (
	// ErrMalformed wraps every frame or payload decoding failure.
	ErrMalformed = frame.ErrMalformed
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("realtime: client closed")
	// ErrNotConnected: the socket is not open.
	ErrNotConnected = errors.New("realtime: not connected")
	// ErrBufferFull: the send buffer is full; the push was not accepted.
	ErrBufferFull = errors.New("realtime: send buffer full")
	// ErrUnknownChannel: the channel was removed or never created.
	ErrUnknownChannel = errors.New("realtime: unknown channel")
	// ErrChannelClosed: the channel is closed (never subscribed, left, or
	// closed by the server).
	ErrChannelClosed = errors.New("realtime: channel closed")
	// ErrJoinTimeout: the server did not answer a join within the timeout.
	ErrJoinTimeout = errors.New("realtime: join timed out")
	// ErrPushTimeout: the server did not answer a push within the timeout.
	ErrPushTimeout = errors.New("realtime: push timed out")
	// ErrHeartbeatTimeout: a heartbeat was still unanswered at the next
	// tick; the socket is closed and reconnected.
	ErrHeartbeatTimeout = errors.New("realtime: heartbeat timeout")
	// ErrReconnectLimit: the optional reconnect attempt limit was reached.
	ErrReconnectLimit = errors.New("realtime: reconnect attempts exhausted")
	// ErrChannelError: the server rejected a join or reported an error for
	// a channel. *ChannelErrorDetail carries the server's reason.
	ErrChannelError = errors.New("realtime: channel error")
	// ErrInvalidOption: an option or argument failed validation.
	ErrInvalidOption = filter.ErrInvalidOption
	// ErrHandlerPanic: a Handler panicked; see *HandlerPanicError.
	ErrHandlerPanic = errors.New("realtime: handler panicked")
	// ErrHandlerOverflow: a Handler's queue was full and events were
	// dropped; see *HandlerOverflowError.
	ErrHandlerOverflow = errors.New("realtime: handler queue overflow")
	// ErrConnectionLost: the socket closed or failed while open.
	ErrConnectionLost = errors.New("realtime: connection lost")
	// ErrDial: the socket could not be opened.
	ErrDial = errors.New("realtime: dial failed")
	// ErrAuth: the server refused the access token (expired, invalid, or
	// without permission). See *AuthError.
	ErrAuth = errors.New("realtime: authorization failed")
	// ErrAckDisabled: WaitForAck on a broadcast sent on a channel without
	// BroadcastAck.
	ErrAckDisabled = errors.New("realtime: broadcast acknowledgements are not enabled on this channel")
	// ErrUnknownAck: WaitForAck for a ref that is not pending and has no
	// stored result (already waited for, or too old).
	ErrUnknownAck = errors.New("realtime: unknown or expired ack ref")
	// ErrHTTP: an HTTP broadcast failed; see *HTTPError.
	ErrHTTP = errors.New("realtime: HTTP broadcast failed")
	// ErrRestarted: the registry restarted while the call was in flight;
	// the channel carries on, retry the call.
	ErrRestarted = errors.New("realtime: registry restarted during the call")
	// ErrStaleFrame: a frame carried a join_ref that is not the channel's
	// current one and was dropped.
	ErrStaleFrame = errors.New("realtime: stale frame dropped")
	// ErrFrameTooLarge: an inbound message exceeded the read limit
	// (WithReadLimit); the client closed the socket with 1009 and
	// reconnects.
	ErrFrameTooLarge = errors.New("realtime: inbound message exceeds the read limit")
	// ErrPresenceLimit: a presence_state or presence_diff would have grown
	// a channel's presence state beyond its limits; the excess metas were
	// not applied. See *PresenceLimitError.
	ErrPresenceLimit = errors.New("realtime: presence state limit reached")
	// ErrNoTokenCallback: RefreshAuth needs an access token callback
	// (WithAccessToken) to pull a token from.
	ErrNoTokenCallback = errors.New("realtime: no access token callback to refresh from (WithAccessToken)")
)

// OptionError reports an invalid option or argument.
type OptionError struct {
	Option string // the option or argument name
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("realtime: invalid %s: %s", e.Option, e.Reason)
}

// Unwrap returns ErrInvalidOption.
func (e *OptionError) Unwrap() error { return ErrInvalidOption }

// ChannelErrorDetail is a server-side channel failure: a join error reply, a
// phx_error, or a system error that closed the channel.
type ChannelErrorDetail struct {
	Topic  string
	Reason string // the server's reason string, with the client's secrets redacted
}

func (e *ChannelErrorDetail) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("realtime: channel error on %s", e.Topic)
	}
	return fmt.Sprintf("realtime: channel error on %s: %s", e.Topic, e.Reason)
}

// Unwrap returns ErrChannelError.
func (e *ChannelErrorDetail) Unwrap() error { return ErrChannelError }

// HandlerPanicError is reported as an ErrorEvent when a Handler panics.
type HandlerPanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the goroutine stack at the panic
	Event Event  // the event being handled
}

func (e *HandlerPanicError) Error() string {
	return fmt.Sprintf("realtime: handler panicked: %v", e.Value)
}

// Unwrap returns ErrHandlerPanic.
func (e *HandlerPanicError) Unwrap() error { return ErrHandlerPanic }

// ConnectError reports a failed dial. The URL is redacted: the apikey query
// parameter and any token never appear in it.
type ConnectError struct {
	URL        string // redacted socket URL
	StatusCode int    // HTTP status of a rejected upgrade, 0 if none
	Message    string // the server's "error" text of a rejected upgrade
	Err        error  // the underlying error
}

func (e *ConnectError) Error() string {
	var b strings.Builder
	b.WriteString("realtime: dial ")
	b.WriteString(e.URL)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns ErrDial and the underlying error.
func (e *ConnectError) Unwrap() []error { return []error{ErrDial, e.Err} }

// CloseError reports a socket that closed or failed while open.
type CloseError struct {
	Code int    // WebSocket close code, 0 when the socket failed without one
	Text string // close reason text (secrets redacted)
	Err  error  // the underlying read or write error
}

func (e *CloseError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("realtime: connection lost: close %d %s", e.Code, e.Text)
	}
	if e.Err != nil {
		return "realtime: connection lost: " + e.Err.Error()
	}
	return "realtime: connection lost"
}

// Unwrap returns ErrConnectionLost and the underlying error.
func (e *CloseError) Unwrap() []error { return []error{ErrConnectionLost, e.Err} }

// AuthError is the server refusing a channel's token: a join error such
// as "InvalidJWTToken: Token has expired 12 seconds ago", or a system error
// ("Token has expired 0 seconds ago", lost permissions) that closed the
// channel.
type AuthError struct {
	Topic  string
	Reason string // the server's text, with the client's secrets redacted
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("realtime: authorization failed on %s: %s", e.Topic, e.Reason)
}

// Unwrap returns ErrAuth and ErrChannelError.
func (e *AuthError) Unwrap() []error { return []error{ErrAuth, ErrChannelError} }

// PushError is an error reply to a push, e.g. an acknowledged broadcast
// answered {"status":"error","response":"payload_size_exceeded"}.
type PushError struct {
	Topic    string
	Status   string // the reply status, e.g. "error"
	Reason   string // response.reason, or the response itself when it is a string (secrets redacted)
	Response []byte // the raw response JSON (secrets redacted)
}

func (e *PushError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("realtime: push on %s answered %s: %s", e.Topic, e.Status, e.Reason)
	}
	return fmt.Sprintf("realtime: push on %s answered %s", e.Topic, e.Status)
}

// HTTPError is a non-2xx answer of the HTTP broadcast endpoints.
type HTTPError struct {
	StatusCode int
	Message    string // the body's "message" or "error" text, or the raw body
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("realtime: HTTP broadcast: %d %s", e.StatusCode, e.Message)
}

// Unwrap returns ErrHTTP.
func (e *HTTPError) Unwrap() error { return ErrHTTP }

// PresenceLimitError reports presence metas a channel refused because its
// presence state was at its limits (WithPresenceLimits): those members are
// missing from PresenceState and got no join event.
type PresenceLimitError struct {
	Topic    string
	Dropped  int // metas refused by this presence_state or presence_diff
	MaxMetas int // the limits in force
	MaxBytes int
}

func (e *PresenceLimitError) Error() string {
	return fmt.Sprintf("realtime: presence state limit reached on %s (%d metas, %d bytes): %d metas not applied",
		e.Topic, e.MaxMetas, e.MaxBytes, e.Dropped)
}

// Unwrap returns ErrPresenceLimit.
func (e *PresenceLimitError) Unwrap() error { return ErrPresenceLimit }

// HandlerOverflowError is reported as an ErrorEvent, in the place of the
// events it stands for, when a Handler fell so far behind that its queue
// was full and events had to be dropped.
type HandlerOverflowError struct {
	Channel string // the channel whose queue overflowed ("" = the client's Handler)
	Dropped uint64 // events dropped since the previous report
}

func (e *HandlerOverflowError) Error() string {
	return fmt.Sprintf("realtime: handler too slow: %d events dropped (queue full)", e.Dropped)
}

// Unwrap returns ErrHandlerOverflow.
func (e *HandlerOverflowError) Unwrap() error { return ErrHandlerOverflow }
