package store

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/messages"
)

// Record is everything the runtime knows about one channel that must
// survive a registry restart. Records are values; a Record stored in a
// Table is never mutated.
type Record struct {
	Topic    string
	Name     string
	Config   messages.ChannelConfig
	Bindings []messages.Binding
	// Wanted is true while the user wants the channel joined (between
	// Subscribe and Unsubscribe or a server phx_close).
	Wanted bool
	State  messages.ChannelState
	// JoinRef is the ref of the phx_join of the current incarnation.
	JoinRef string
	// Token is a channel-specific access token ("" = the client's).
	Token string
	// DownSince is when a wanted channel stopped being joined (socket
	// lost, channel error), or before its first join the client's
	// WithMissedSince; zero while joined or not wanted.
	DownSince time.Time
	// AuthBlocked is set when the server refused the channel's token and
	// no fresh one could be had; SetAuth clears it and rejoins.
	AuthBlocked bool
	// PostgresIDs are the server's ids of the postgres_changes bindings, in
	// join order, from the last join reply.
	PostgresIDs []json.RawMessage
	// Tracked is the presence payload this client tracks on the channel
	// (nil if none); it is tracked again after every rejoin.
	Tracked []byte
	// Presence is the channel's presence state, for readers.
	Presence messages.PresenceState
	// Outbox holds the pushes accepted while the channel could not send,
	// in order. Frames are never mutated after they are buffered.
	Outbox []frame.Frame
	// Seq orders records by creation.
	Seq uint64
	// Ext holds feature state keyed by feature name (presence, postgres
	// binding ids…). Values must be immutable.
	Ext map[string]any
}

// Clone returns a copy whose slices and maps are not shared with r.
func (r Record) Clone() Record {
	r.Bindings = slices.Clone(r.Bindings)
	r.Outbox = slices.Clone(r.Outbox)
	r.PostgresIDs = slices.Clone(r.PostgresIDs)
	if r.Ext != nil {
		ext := make(map[string]any, len(r.Ext))
		for k, v := range r.Ext {
			ext[k] = v
		}
		r.Ext = ext
	}
	return r
}
