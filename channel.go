package realtime

import (
	"time"

	"github.com/supabase-go/realtime/messages"
)

// Channel is a handle on one channel of a Client. It is a small value that
// names the channel; the channel itself lives in the runtime. Handles are
// safe to copy and to use from any goroutine.
type Channel struct {
	name  string
	topic string
	c     *Client
	// private is Private as given to the Channel call that returned this
	// handle, for HTTPSend on a channel that has been removed since.
	private bool
}

// Name returns the channel name (the sub-topic), e.g. "room1".
func (ch *Channel) Name() string { return ch.name }

// Topic returns the wire topic, e.g. "realtime:room1".
func (ch *Channel) Topic() string { return ch.topic }

// ChannelOption configures a channel's join. Each option validates its
// argument; Client.Channel fails on the first invalid one.
type ChannelOption func(*messages.ChannelConfig) error

// BroadcastSelf makes the server send this client's own broadcasts back
// to it (config.broadcast.self). Default: false.
func BroadcastSelf(on bool) ChannelOption {
	return func(c *messages.ChannelConfig) error { c.Self = on; return nil }
}

// BroadcastAck makes the server acknowledge every broadcast push
// (config.broadcast.ack). Default: false.
func BroadcastAck(on bool) ChannelOption {
	return func(c *messages.ChannelConfig) error { c.Ack = on; return nil }
}

// PresenceKey sets the presence key of this client on the channel
// (config.presence.key). Default: "" (the server picks one per join).
func PresenceKey(key string) ChannelOption {
	return func(c *messages.ChannelConfig) error { c.PresenceKey = key; return nil }
}

// Private marks the channel private: the server authorizes it with RLS
// policies on realtime.messages (config.private). Default: false.
func Private(on bool) ChannelOption {
	return func(c *messages.ChannelConfig) error { c.Private = on; return nil }
}

// Replay asks a private channel for the broadcasts stored since since, at
// most limit of them (the server clamps limit to 1..25; 0 lets it choose
// 25) (config.broadcast.replay). Replay needs Private(true): Channel
// refuses it on a public channel, as realtime-js does. Default: none.
func Replay(since time.Time, limit int) ChannelOption {
	return func(c *messages.ChannelConfig) error {
		if limit < 0 {
			return invalid("replay", "limit must not be negative")
		}
		c.Replay = &messages.Replay{Since: since.UnixMilli(), Limit: limit}
		return nil
	}
}

// ReplicationReady asks the server for a "Replication connection
// established" SystemEvent once its database replication is up, so you
// know postgres changes written from then on are delivered
// (config.broadcast.replication_ready). Default: false.
func ReplicationReady(on bool) ChannelOption {
	return func(c *messages.ChannelConfig) error { c.ReplicationReady = on; return nil }
}

// ChannelHandler routes this channel's events to h instead of the
// client's Handler. Default: the client's Handler.
func ChannelHandler(h Handler) ChannelOption {
	return func(c *messages.ChannelConfig) error {
		if h == nil {
			return invalid("channel handler", "must not be nil")
		}
		c.Handler = h
		return nil
	}
}

// ChannelInfo describes a channel, as returned by ListChannels.
type ChannelInfo struct {
	Name  string
	Topic string
	State ChannelState
	// Subscribed is true while the client wants the channel joined.
	Subscribed bool
}
