// Package fleet runs Realtime subscriptions on a protoactor-go cluster so
// that each one is handled by one member at a time: fleet mode (see "What a
// handover loses and duplicates" for the exceptions).
//
// A service that reacts to database changes (send a mail on INSERT, sync a
// search index, invalidate a cache) runs on several nodes for
// availability. With plain clients every node that subscribes gets every
// change, and the work is done once per node. In fleet mode each
// Subscription is a virtual actor (a grain) of protoactor-go's cluster,
// identified by Subscription.ID: the cluster's identity lookup places it
// on one member, which runs a client tree for it and calls its Handler;
// when that member leaves or dies, the subscription is activated on
// another member and joins again there, and its Handler learns the window
// it may have missed (ChannelStatusEvent.MissedSince), as after a
// reconnect.
//
//	node, err := fleet.Start(ctx, fleet.Config{
//		ProjectURL: url, APIKey: key,
//		Provider:   automanaged.NewWithConfig(2*time.Second, 6330, "node-a:6330", "node-b:6330", "node-c:6330"),
//		Remote:     fleet.Remote("0.0.0.0", 8090, remote.WithAdvertisedHost("node-a:8090")),
//		Subscriptions: []fleet.Subscription{{
//			ID: "orders",
//			Setup: func(c *realtime.Client) ([]*realtime.Channel, error) {
//				ch, err := c.Channel("orders")
//				if err != nil {
//					return nil, err
//				}
//				return []*realtime.Channel{ch}, c.On(ch, realtime.PostgresChanges{Event: realtime.PostgresInsert, Schema: "public", Table: "orders"})
//			},
//			Handler: realtime.HandlerFunc(handleOrder),
//		}},
//	})
//	defer node.Close(ctx)
//
// Every member is started with the same subscriptions: code cannot travel
// between processes, so each member holds every definition and the
// cluster only decides where each one runs.
//
// # How ownership is decided
//
// Nothing here decides membership or placement; protoactor-go does:
//
//   - Membership comes from a cluster provider (Config.Provider).
//   - Placement is protoactor-go's disthash identity lookup: rendezvous
//     hashing of the ID over the members that host the kind, no storage;
//     each member's placement actor activates the grains it is asked for,
//     and when the topology changes it stops the grains whose owner
//     changed.
//   - A grain is activated by the first message sent to it. Every member
//     runs a keeper that, on every topology change and every
//     Config.EnsureInterval, asks the owner's placement actor to activate
//     every subscription and sends it an "ensure" request, so a
//     subscription whose owner died is activated on its new owner as soon
//     as any member's provider noticed. The keeper computes the owner
//     itself (the same rendezvous over the same topology) instead of
//     calling cluster.Request, because disthash's Manager.Get reads its
//     rendezvous unsynchronized while topology updates replace it (a data
//     race at the pinned protoactor-go and at its upstream HEAD).
//
// One rule is the fleet's own: a grain activates, and stays active, only
// while this member's own membership view says it is the owner. Members
// do not learn of a topology change at the same instant; without the rule,
// a member with a stale view could activate a subscription on a member
// that no longer owns it in the final view, where it would stay, next to
// the real owner's, for good (the multi-process specs in test/fleetrig fail
// without it).
//
// # What a handover loses and duplicates
//
// While a subscription's owner is dead and until the new owner has joined,
// nobody receives its changes, and Postgres changes are never replayed.
// Each activation records its coverage in the cluster's gossip: when it
// started (or the MissedSince it inherited), then every
// Config.CoverageInterval while all its channels are joined. The next
// owner makes its client with realtime.WithMissedSince set to the latest
// record, so the first joined ChannelStatusEvent of each channel carries
// it. A member that has just joined first waits (up to 3 s) to have heard
// from every member in the gossip; if it has not, or the gossip cannot be
// read, MissedSince is when that member started (or an earlier record),
// and OwnershipEvent.Err says so. Changes committed after MissedSince may
// not have been handled; changes committed up to about the delivery
// latency before it (replication, server, socket: normally well under a
// second) may also have been in flight. For postgres_changes the new owner
// receives changes from the server's "Subscribed to PostgreSQL" system
// message on, a moment after the join, as after any rejoin. Fetch what
// changed since MissedSince minus that allowance if it matters.
//
// Outside that window each change is handled by exactly one member, as
// long as the members see each other. A graceful Close stops its
// subscriptions before it leaves, so it leaves a gap, not an overlap. When
// a member joins, the placement moves some subscriptions to it, and the old
// and the new owner may overlap for a moment (until the old one's
// membership view has changed); and members that cannot reach each other
// (a network partition) each own what their own view gives them. Make
// Handlers idempotent where a duplicate would matter.
//
// Coverage records of members that left stay in the gossip (protoactor-go
// has no purge at the pinned version): one small value per subscription
// per member that ever owned it, all sent to each new member. With
// frequent rolling restarts of many members, that grows.
//
// BENCHMARKS.md (B8, make bench) has the handover times after a SIGKILL
// and the memory per subscription per member.
//
// # Providers for production
//
// The tests and the demo use automanaged, which needs no external service:
// every member serves its state over HTTP on its own port and polls the
// list of every member's host:port given to
// automanaged.NewWithConfig(refresh, port, hosts...). A dead member is
// noticed at the next poll (refresh: 2 s in automanaged.New). Other
// providers are in protoactor-go's cluster/clusterproviders (same module,
// same version as this package's go.mod):
//
//   - etcd: etcd.NewWithConfig("/protoactor", clientv3.Config{Endpoints:
//     []string{"etcd-0:2379"}, DialTimeout: 5 * time.Second}); members
//     register under the base key with a 3 s lease, so a dead member
//     drops out within about 3 s.
//   - consul: consul.NewWithConfig(&api.Config{Address: "consul:8500"},
//     consul.WithTTL(3*time.Second), consul.WithRefreshTTL(time.Second));
//     a member is a service with a TTL health check; consul deregisters a
//     critical one after 60 s, but it leaves the topology as soon as its
//     check fails (TTL).
//   - Kubernetes: k8s.New() inside the cluster (it uses the pod's service
//     account, which needs get/list/watch/patch on pods in its namespace;
//     it labels its own pod); give the remote the pod IP with
//     fleet.Remote("0.0.0.0", port, remote.WithAdvertisedHost(podIP+":"+port)).
//
// With any provider, each member's Config.Remote must be reachable by the
// others at the address it advertises, and all members must use the same
// ClusterName and Kind. Build Config.Remote with Remote rather than
// remote.Configure: protoactor-go's default allocates a 16 MB queue per
// peer up front (see Remote).
//
// # Concurrency
//
// Start and Close may be called from any goroutine, and a Node's methods
// are safe for concurrent use. A subscription's Handler runs on its
// client's goroutine, with the contract of realtime.Handler; two
// activations of one subscription on a member never call it at once.
// OnOwnership is called from the fleet's goroutines and actors, possibly
// concurrently for different subscriptions; it must not block or call
// Close. Goroutines: the keeper, one per ensure request under way, one per
// active subscription (its activation phases), and one per client being
// closed.
//
// # Lifecycle
//
// Start validates the config (every subscription's client options
// included), builds an actor system for this member, starts the member
// (protoactor-go waits about a second for the provider) and the keeper; if
// the member cannot start, what started is shut down and Start fails.
// Subscriptions this member owns are activated in the background.
// Close leaves gracefully: the keeper stops, the member's subscriptions
// stop and their clients close, then the member leaves (protoactor-go
// waits about two seconds for ownership to move). Close returns once every
// goroutine this package started has exited, or with ctx's error, the
// shutdown going on (ensure requests under way can take a few seconds to
// time out). protoactor-go's cluster leaves some goroutines of its own,
// such as the automanaged provider's poller, which stop only with the
// process. A Node is not restarted; start a new one.
package fleet
