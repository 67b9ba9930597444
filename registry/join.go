package registry

import "encoding/json"

type joinPayload struct {
	Config      joinConfig `json:"config"`
	AccessToken string     `json:"access_token,omitempty"`
}

type joinConfig struct {
	Broadcast       joinBroadcast     `json:"broadcast"`
	Presence        joinPresence      `json:"presence"`
	PostgresChanges []json.RawMessage `json:"postgres_changes"`
	Private         bool              `json:"private"`
}

type joinBroadcast struct {
	Ack              bool        `json:"ack"`
	Self             bool        `json:"self"`
	Replay           *joinReplay `json:"replay,omitempty"`
	ReplicationReady bool        `json:"replication_ready,omitempty"`
}

type joinReplay struct {
	Since int64 `json:"since"`
	Limit int   `json:"limit,omitempty"`
}

type joinPresence struct {
	Enabled bool   `json:"enabled"`
	Key     string `json:"key"`
}

// joinPayloadFor builds the phx_join payload of a channel with the given
// access token ("" = none, the server then uses the socket's API key).
func joinPayloadFor(ch *channel, token string) []byte {
	cfg := ch.rec.Config
	p := joinPayload{
		Config: joinConfig{
			Broadcast:       joinBroadcast{Ack: cfg.Ack, Self: cfg.Self, ReplicationReady: cfg.ReplicationReady},
			Presence:        joinPresence{Key: cfg.PresenceKey, Enabled: ch.presenceEnabled()},
			PostgresChanges: postgresJoinObjects(ch),
			Private:         cfg.Private,
		},
		AccessToken: token,
	}
	if cfg.Replay != nil {
		p.Config.Broadcast.Replay = &joinReplay{Since: cfg.Replay.Since, Limit: cfg.Replay.Limit}
	}
	data, err := json.Marshal(p)
	if err != nil {
		// Every field is a plain string or bool; Marshal cannot fail.
		panic(err)
	}
	return data
}

func (r *reg) tokenFor(ch *channel) string {
	if ch.rec.Token != "" {
		return ch.rec.Token
	}
	return r.cfg.Token.Get()
}
