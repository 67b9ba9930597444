package realtime

import (
	"context"
	"encoding/json"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/messages"
)

// AckRef names an acknowledged broadcast for WaitForAck.
type AckRef string

// NotAcknowledged is the AckRef of a broadcast on a channel without
// BroadcastAck(true): the server will not answer it, and WaitForAck says
// so with ErrAckDisabled.
const NotAcknowledged AckRef = ""

// Broadcast sends a broadcast on the channel. payload is encoded as JSON,
// except json.RawMessage (sent as is; must be valid JSON) and []byte (sent
// as a binary payload; vsn 2.0.0 only).
//
// It returns once the message was written to the socket or accepted into
// the send buffer (while the socket is down or the channel is joining; the
// buffer is flushed in order after the channel joins), or ErrBufferFull.
// With WithHTTPFallback, a broadcast made while the socket is not open or
// the channel not joined is sent over HTTP instead and returns the HTTP
// outcome. The channel must be subscribed. If ctx ends before the client
// accepted the push, Broadcast returns ctx.Err() and the push is never
// sent.
func (c *Client) Broadcast(ctx context.Context, ch *Channel, event string, payload any) error {
	_, err := c.broadcast(ctx, ch, event, payload, false)
	return err
}

// BroadcastWithAck sends a broadcast like Broadcast and returns the ref to
// pass to WaitForAck. On a channel without BroadcastAck(true) it returns
// NotAcknowledged. The ack timeout (WithTimeout) starts now, even if the
// message waits in the send buffer.
func (c *Client) BroadcastWithAck(ctx context.Context, ch *Channel, event string, payload any) (AckRef, error) {
	return c.broadcast(ctx, ch, event, payload, true)
}

// WaitForAck waits for the server's answer to an acknowledged broadcast.
// It returns nil when the server acknowledged it; ErrPushTimeout when no
// answer came within the timeout; ErrAckDisabled for NotAcknowledged; a
// *PushError for an error answer (such as "payload_size_exceeded");
// ErrConnectionLost when the socket died after the message was sent,
// however it died (it wraps the cause: a *CloseError, ErrHeartbeatTimeout);
// ErrUnknownAck for a ref already waited for. A result is kept until it is
// waited for (the 1024 newest are kept).
func (c *Client) WaitForAck(ctx context.Context, ref AckRef) error {
	if ref == NotAcknowledged {
		return ErrAckDisabled
	}
	err, rerr := requestClaimed(ctx, c, func(reply chan<- error, claim *actors.Claim) any {
		return &messages.WaitAck{Ref: string(ref), Reply: reply, Claim: claim}
	})
	if rerr != nil {
		return rerr
	}
	return err
}

func (c *Client) broadcast(ctx context.Context, ch *Channel, event string, payload any, ack bool) (AckRef, error) {
	if err := c.own(ch); err != nil {
		return "", err
	}
	if c.opts.httpFallback && !c.canPush(ch) {
		return NotAcknowledged, c.httpBatch(ctx, ch, event, payload)
	}
	f, err := c.broadcastFrame(ch, event, payload)
	if err != nil {
		return "", err
	}
	res, err := c.push(ctx, ch, f, ack)
	return AckRef(res.Ref), err
}

// canPush reports whether a push would go straight to the socket.
func (c *Client) canPush(ch *Channel) bool {
	return c.ConnectionState() == ConnOpen && c.ChannelState(ch) == ChannelJoined
}

// Send pushes a raw message with the given Phoenix event on the channel.
// payload is encoded as in Broadcast (JSON only). It returns like
// Broadcast.
func (c *Client) Send(ctx context.Context, ch *Channel, event string, payload any) error {
	if err := c.own(ch); err != nil {
		return err
	}
	if event == "" {
		return invalid("event", "must not be empty")
	}
	raw, err := encodeJSON(payload)
	if err != nil {
		return err
	}
	_, err = c.push(ctx, ch, frame.Frame{Event: event, Payload: raw}, false)
	return err
}

// push hands a push to the registry. If ctx ends while the push still
// waits in the registry's mailbox, the caller gets ctx.Err() and the push
// is never sent; once the registry has taken it, the caller gets its
// answer.
func (c *Client) push(ctx context.Context, ch *Channel, f frame.Frame, ack bool) (messages.PushResult, error) {
	res, err := requestClaimed(ctx, c, func(reply chan<- messages.PushResult, claim *actors.Claim) any {
		return &messages.Push{Topic: ch.topic, Frame: f, Ack: ack, Reply: reply, Claim: claim}
	})
	if err != nil {
		return res, err
	}
	return res, res.Err
}

func (c *Client) broadcastFrame(ch *Channel, event string, payload any) (frame.Frame, error) {
	if event == "" {
		return frame.Frame{}, invalid("event", "must not be empty")
	}
	if b, ok := payload.([]byte); ok {
		if c.opts.vsn != Vsn2 {
			return frame.Frame{}, invalid("payload", "binary payloads need vsn 2.0.0")
		}
		if len(event) > frame.MaxHeaderLen || len(ch.topic) > frame.MaxHeaderLen {
			return frame.Frame{}, invalid("event", "binary broadcasts need topic and event of at most 255 bytes")
		}
		return frame.Frame{
			Event: "broadcast", Kind: frame.KindUserBroadcastPush,
			UserEvent: event, Encoding: frame.EncodingBinary, Payload: b,
		}, nil
	}
	raw, err := encodeJSON(payload)
	if err != nil {
		return frame.Frame{}, err
	}
	buf := make([]byte, 0, len(raw)+len(event)+48)
	buf = append(buf, `{"type":"broadcast","event":`...)
	buf = jsonscan.AppendQuote(buf, event)
	buf = append(buf, `,"payload":`...)
	buf = append(buf, raw...)
	buf = append(buf, '}')
	return frame.Frame{Event: "broadcast", Payload: buf}, nil
}

func encodeJSON(payload any) ([]byte, error) {
	switch p := payload.(type) {
	case json.RawMessage:
		if !json.Valid(p) {
			return nil, invalid("payload", "is not valid JSON")
		}
		return p, nil
	case []byte:
		return nil, invalid("payload", "[]byte is binary; only Broadcast sends binary payloads")
	case nil:
		return []byte("{}"), nil
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, &messages.OptionError{Option: "payload", Reason: err.Error()}
	}
	return raw, nil
}
