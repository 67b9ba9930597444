package fleet

import "github.com/asynkron/protoactor-go/remote"

// DefaultEndpointQueue is the initial size of protoactor-go's per-peer
// endpoint queues in Remote's configuration. They grow (doubling) when
// full, so this is not a bound.
const DefaultEndpointQueue = 1024

// Remote is remote.Configure(host, port, opts...) with protoactor-go's
// per-peer endpoint queues starting at DefaultEndpointQueue slots instead
// of its default 1,000,000: that ring buffer is allocated whole for every
// member a member talks to, 16 MB each, and a fleet sends a few small
// messages per subscription per second. opts come after, so
// remote.WithEndpointWriterQueueSize still overrides it. Use it for
// Config.Remote.
func Remote(host string, port int, opts ...remote.ConfigOption) *remote.Config {
	lean := []remote.ConfigOption{
		remote.WithEndpointWriterQueueSize(DefaultEndpointQueue),
		remote.WithEndpointManagerQueueSize(DefaultEndpointQueue),
	}
	return remote.Configure(host, port, append(lean, opts...)...)
}
