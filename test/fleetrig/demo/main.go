// Command demo is the fleet demo (make fleet-demo): three member processes
// share six subscriptions to row changes on a local Realtime server and
// PostgreSQL; one is killed with SIGKILL and its subscriptions move to the
// others. See fleetrig.Demo.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/supabase-go/realtime/test/fleetrig"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := fleetrig.Demo(ctx, os.Stdout, fleetrig.DemoOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, "fleet demo:", err)
		os.Exit(1)
	}
}
