package realtime

import (
	"context"

	"github.com/supabase-go/realtime/messages"
)

// SetAuth sets the access token (the user's JWT) of every channel that has
// no token of its own: joined channels get it at once as an access_token
// message, later joins carry it, and channels closed by an authorization
// error rejoin. A token set while disconnected is kept for the next join.
// With WithAccessToken, the callback's tokens replace it at the next
// connect, rejoin or refresh.
func (c *Client) SetAuth(ctx context.Context, token string) error {
	return c.setAuth(ctx, "", token)
}

// SetChannelAuth sets the access token of one channel, overriding the
// client's token for it (the Elixir client's set_auth/2).
func (c *Client) SetChannelAuth(ctx context.Context, ch *Channel, token string) error {
	if err := c.own(ch); err != nil {
		return err
	}
	return c.setAuth(ctx, ch.topic, token)
}

// RefreshAuth pulls a fresh token from the access token callback
// (WithAccessToken) now, like realtime-js setAuth() without a token, and
// waits until it is applied: it becomes the client's token, joined
// channels without a token of their own get it at once as an access_token
// message (when it differs from the one they have), later joins carry it,
// and channels closed by an authorization error rejoin. It returns
// ErrNoTokenCallback without a callback, the callback's error (wrapped),
// or an error wrapping ErrAuth when the token has already expired; then
// the previous token stays. A call made while another fetch is running
// waits for a fetch of its own, so the token is never older than the call.
// The callback runs with the client's timeout (WithTimeout).
func (c *Client) RefreshAuth(ctx context.Context) error {
	err, rerr := request(ctx, c, func(reply chan<- error) any {
		return &messages.RefreshAuth{Reply: reply}
	})
	if rerr != nil {
		return rerr
	}
	return err
}

func (c *Client) setAuth(ctx context.Context, topic, token string) error {
	c.redact.Add(token)
	err, rerr := request(ctx, c, func(reply chan<- error) any {
		return &messages.SetAuth{Topic: topic, Token: token, Reply: reply}
	})
	if rerr != nil {
		return rerr
	}
	return err
}
