package fleet

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/remote"

	realtime "github.com/supabase-go/realtime"
)

// Defaults applied to zero Config fields.
const (
	// DefaultClusterName is Config.ClusterName's default.
	DefaultClusterName = "realtime-fleet"
	// DefaultKind is Config.Kind's default: the cluster kind of
	// subscription grains.
	DefaultKind = "realtime-subscription"
	// DefaultEnsureInterval is Config.EnsureInterval's default.
	DefaultEnsureInterval = time.Second
	// DefaultCoverageInterval is Config.CoverageInterval's default.
	DefaultCoverageInterval = time.Second
	// DefaultCloseTimeout bounds how long a released subscription's client
	// gets to close (Config.CloseTimeout's default).
	DefaultCloseTimeout = 5 * time.Second
)

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("realtime: invalid fleet config")

// idPattern is what a subscription ID may hold: it is a cluster identity
// and a gossip key, and appears in logs and actor names.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// Subscription is one unit of ownership: a client with the channels Setup
// creates, run on exactly one member of the fleet at a time. Every member
// must be started with the same subscriptions (same IDs, same Setup):
// code cannot travel, so each member holds the definitions and the cluster
// only decides where each one runs.
type Subscription struct {
	// ID is the subscription's cluster identity, unique in the fleet
	// (for example a tenant, a table or a channel name). Letters, digits
	// and ". _ : -", at most 128 characters. Required.
	ID string
	// Setup creates the subscription's channels on a fresh client and
	// adds their bindings (Client.Channel, Client.On), and returns the
	// channels the fleet should subscribe. It runs on the owning member
	// each time the subscription is activated there, before any join is
	// sent; it must not block. An error stops the activation and is
	// reported in OwnershipEvent.Err; the keeper tries again. Required.
	Setup func(c *realtime.Client) ([]*realtime.Channel, error)
	// Handler receives the client's events on the owning member (the
	// client's WithHandler). After a handover, the first joined
	// ChannelStatusEvent of each channel carries MissedSince (the client
	// is made with realtime.WithMissedSince; a channel's own
	// ChannelHandler gets it too): see "What a handover loses and
	// duplicates" in the package doc. Two activations of a subscription on
	// one member never call it at once: the next waits for the previous
	// client to close. Required.
	Handler realtime.Handler
	// Options are extra client options for this subscription's client
	// (WithHandler and WithName are set by the fleet). Default: none.
	Options []realtime.Option
}

// Config configures a fleet member. ProjectURL, APIKey, Subscriptions,
// Provider and Remote are required; the rest have defaults.
type Config struct {
	// ProjectURL and APIKey are those of realtime.New, for every
	// subscription's client. Required.
	ProjectURL string
	APIKey     string
	// ClientOptions apply to every subscription's client, before the
	// subscription's own Options. Default: none.
	ClientOptions []realtime.Option
	// Subscriptions are the fleet's subscriptions; see Subscription.
	// Required, IDs unique.
	Subscriptions []Subscription

	// ClusterName names the protoactor-go cluster; members with another
	// name are ignored. Letters, digits and ". _ : -". Default:
	// DefaultClusterName.
	ClusterName string
	// Kind is the cluster kind of subscription grains. Letters, digits
	// and ". _ : -". Default: DefaultKind.
	Kind string
	// Provider is protoactor-go's membership provider: automanaged.New…
	// (no external service; what the tests and the demo use), etcd.New,
	// consul.New or k8s.New (see the package doc). Required.
	Provider cluster.ClusterProvider
	// Remote is this member's protoactor-go remote endpoint, built with
	// Remote(host, port, …); other members must reach it. Required.
	Remote *remote.Config
	// ClusterOptions are passed to cluster.Configure after the fleet's
	// own (cluster.WithKinds). Default: none.
	ClusterOptions []cluster.ConfigOption

	// EnsureInterval is how often each member asks the cluster to
	// activate every subscription (it also does so on every topology
	// change): a subscription whose owner died is activated again within
	// this interval once the membership provider noticed. Default:
	// DefaultEnsureInterval.
	EnsureInterval time.Duration
	// CoverageInterval is how often an owner records in the cluster's
	// gossip that its channels are joined; the next owner's MissedSince
	// is the last such record. Default: DefaultCoverageInterval.
	CoverageInterval time.Duration
	// CloseTimeout bounds the close of a released subscription's client.
	// Default: DefaultCloseTimeout.
	CloseTimeout time.Duration
	// OnOwnership is called on this member when it acquires or releases
	// a subscription, from the fleet's goroutines; it must not block.
	// Default: nil.
	OnOwnership func(OwnershipEvent)
	// Logger receives protoactor-go's actor system and cluster records.
	// Default: nil (discarded: the automanaged provider logs an error
	// on every poll of a member that is gone).
	Logger *slog.Logger
}

// Validate reports the first invalid field, wrapping ErrInvalidConfig.
func (c *Config) Validate() error {
	bad := func(field, why string) error {
		return fmt.Errorf("%w: %s %s", ErrInvalidConfig, field, why)
	}
	switch {
	case c.ProjectURL == "":
		return bad("ProjectURL", "is required")
	case c.APIKey == "":
		return bad("APIKey", "is required")
	case len(c.Subscriptions) == 0:
		return bad("Subscriptions", "must not be empty")
	case c.Provider == nil:
		return bad("Provider", "is required")
	case c.Remote == nil:
		return bad("Remote", "is required")
	case c.EnsureInterval < 0:
		return bad("EnsureInterval", "must not be negative")
	case c.CoverageInterval < 0:
		return bad("CoverageInterval", "must not be negative")
	case c.CloseTimeout < 0:
		return bad("CloseTimeout", "must not be negative")
	case c.Kind != "" && !idPattern.MatchString(c.Kind):
		// disthash splits "kind/identity" at the first "/".
		return bad("Kind", fmt.Sprintf("%q must match %s", c.Kind, idPattern))
	case c.ClusterName != "" && !idPattern.MatchString(c.ClusterName):
		return bad("ClusterName", fmt.Sprintf("%q must match %s", c.ClusterName, idPattern))
	}
	seen := make(map[string]bool, len(c.Subscriptions))
	for i, s := range c.Subscriptions {
		field := fmt.Sprintf("Subscriptions[%d]", i)
		switch {
		case !idPattern.MatchString(s.ID):
			return bad(field+".ID", fmt.Sprintf("%q must match %s", s.ID, idPattern))
		case seen[s.ID]:
			return bad(field+".ID", fmt.Sprintf("%q is not unique", s.ID))
		case s.Setup == nil:
			return bad(field+".Setup", "is required")
		case s.Handler == nil:
			return bad(field+".Handler", "is required")
		}
		seen[s.ID] = true
	}
	return nil
}

// withDefaults returns a copy with defaults applied.
func (c Config) withDefaults() Config {
	if c.ClusterName == "" {
		c.ClusterName = DefaultClusterName
	}
	if c.Kind == "" {
		c.Kind = DefaultKind
	}
	if c.EnsureInterval == 0 {
		c.EnsureInterval = DefaultEnsureInterval
	}
	if c.CoverageInterval == 0 {
		c.CoverageInterval = DefaultCoverageInterval
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	return c
}
