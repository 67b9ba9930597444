package fleet_test

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/fleet"
)

// A member of a three-node fleet that sends a mail for every new order,
// once per order across the fleet. Run the same program on each node with
// its own addresses. (Compiled, not run: it needs the other nodes and a
// server; test/fleetrig runs this setup as member processes.)
func Example() {
	ctx := context.Background()
	node, err := fleet.Start(ctx, fleet.Config{
		ProjectURL: "https://project-ref.supabase.co",
		APIKey:     "anon-key",
		Provider:   automanaged.NewWithConfig(2*time.Second, 6330, "10.0.0.1:6330", "10.0.0.2:6330", "10.0.0.3:6330"),
		Remote:     fleet.Remote("10.0.0.1", 8090),
		Subscriptions: []fleet.Subscription{{
			ID: "orders",
			Setup: func(c *realtime.Client) ([]*realtime.Channel, error) {
				ch, err := c.Channel("orders")
				if err != nil {
					return nil, err
				}
				b := realtime.PostgresChanges{Event: realtime.PostgresInsert, Schema: "public", Table: "orders"}
				return []*realtime.Channel{ch}, c.On(ch, b)
			},
			Handler: realtime.HandlerFunc(func(ctx context.Context, ev realtime.Event) {
				switch e := ev.(type) {
				case realtime.ChangeEvent:
					fmt.Println("mail for order", string(e.Record))
				case realtime.ChannelStatusEvent:
					if !e.MissedSince.IsZero() {
						fmt.Println("took over; look for orders since", e.MissedSince)
					}
				}
			}),
		}},
		OnOwnership: func(ev fleet.OwnershipEvent) {
			fmt.Println(ev.ID, "acquired:", ev.Acquired)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer node.Close(ctx)
}
