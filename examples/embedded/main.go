// Command embedded runs the realtime runtime as a supervised child of an
// application's own protoactor actor tree.
//
//	go run ./examples/embedded
//
// The application actor spawns supervisor.Props(client.Runtime()) in its
// Started handler; stopping the application actor stops the realtime tree.
// The client handle is used from ordinary goroutines as usual.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/supervisor"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// app is the application's own actor. It supervises the realtime tree and
// receives the broadcasts the Handler forwards to it.
type app struct {
	rt   *supervisor.Runtime
	out  io.Writer
	done chan struct{}
}

type gotBroadcast struct{ event, payload string }

func (a *app) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		ctx.Spawn(supervisor.Props(a.rt))
	case *gotBroadcast:
		fmt.Fprintf(a.out, "app actor got %s %s\n", m.event, m.payload)
		close(a.done)
	}
}

func main() {
	if err := run(os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_KEY"), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run is the example against url (the in-process server when empty).
func run(url, key string, out io.Writer) error {
	if url == "" {
		srv := realtimetest.NewServer(realtimetest.Options{})
		defer srv.Close()
		url, key = srv.URL(), "local"
	}
	system := actors.NewSystem(nil) // the application's actor system
	var appPID *actor.PID

	// The Handler runs on the client's Dispatcher goroutine, off the
	// actors; it forwards events into the application's actor.
	c, err := realtime.NewEmbedded(url, key, realtime.WithHandler(realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) {
		if b, ok := ev.(realtime.BroadcastEvent); ok {
			system.Root.Send(appPID, &gotBroadcast{event: b.Event, payload: string(b.Payload)})
		}
	})))
	if err != nil {
		return err
	}
	a := &app{rt: c.Runtime(), out: out, done: make(chan struct{})}
	appPID = system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return a }))
	defer c.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch, _ := c.Channel("embedded", realtime.BroadcastSelf(true))
	_ = c.On(ch, realtime.Broadcast{})
	status, err := c.Subscribe(ctx, ch) // waits until the child tree has started
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "subscribed:", status)
	if err := c.Broadcast(ctx, ch, "hello", map[string]string{"from": "main"}); err != nil {
		return err
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		return fmt.Errorf("no broadcast: %w", ctx.Err())
	}
	// Stopping the application actor stops the realtime tree with it.
	if err := system.Root.PoisonFuture(appPID).Wait(); err != nil {
		return err
	}
	<-c.Runtime().Stopped()
	fmt.Fprintln(out, "realtime tree stopped with its parent")
	return nil
}
