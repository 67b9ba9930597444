package messages

import "strings"

// Binding selects which server messages of a channel reach the Handler.
// Bindings are added with Client.On. The concrete types are Broadcast,
// Presence and PostgresChanges.
type Binding interface {
	// Validate reports an invalid binding as an *OptionError.
	Validate() error
	isBinding()
}

// Broadcast binds broadcast messages by user event name. Matching is
// case-insensitive; "" and "*" match every event.
type Broadcast struct {
	Event string
}

// Validate accepts every event name.
func (Broadcast) Validate() error { return nil }

// Matches reports whether a broadcast with the given event name is bound.
func (b Broadcast) Matches(event string) bool {
	return b.Event == "" || b.Event == "*" || strings.EqualFold(b.Event, event)
}

func (Broadcast) isBinding() {}

// ChannelConfig is the per-channel configuration sent in phx_join.
type ChannelConfig struct {
	// Self asks the server to echo this client's own broadcasts
	// (config.broadcast.self). Default false.
	Self bool
	// Ack asks the server to acknowledge each broadcast push
	// (config.broadcast.ack). Default false.
	Ack bool
	// PresenceKey is config.presence.key. Default "" (the server picks a
	// random key per join).
	PresenceKey string
	// Private marks an RLS-authorized channel (config.private). Default
	// false.
	Private bool
	// Replay asks a private channel for stored broadcasts
	// (config.broadcast.replay). Default nil (none).
	Replay *Replay
	// ReplicationReady asks the server for a "Replication connection
	// established" system message (config.broadcast.replication_ready).
	// Default false.
	ReplicationReady bool
	// Handler overrides the client's Handler for this channel. Default nil
	// (use the client's).
	Handler Handler
}

// Replay selects stored broadcasts to replay on join: those since Since
// (Unix milliseconds), at most Limit (the server clamps it to 1..25; 0
// lets the server choose 25).
type Replay struct {
	Since int64
	Limit int
}

// TopicPrefix prefixes every channel topic on the wire.
const TopicPrefix = "realtime:"

// Topic normalises a channel name to its wire topic: "room1" →
// "realtime:room1"; a name that already has the prefix is kept.
func Topic(name string) string {
	if strings.HasPrefix(name, TopicPrefix) {
		return name
	}
	return TopicPrefix + name
}

// SubTopic returns the channel name of a wire topic.
func SubTopic(topic string) string { return strings.TrimPrefix(topic, TopicPrefix) }
