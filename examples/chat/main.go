// Command chat is a small chat room over Supabase Realtime: broadcast for
// messages, presence for who is online.
//
//	go run ./examples/chat -name alice           # against an in-process server
//	SUPABASE_URL=… SUPABASE_KEY=… go run ./examples/chat -name alice -room lobby
//
// Lines typed on stdin are sent to the room; messages and presence changes
// are printed as they arrive. Without SUPABASE_URL it starts the in-process
// test server and a second, scripted user so there is someone to talk to.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"
	"time"

	realtime "github.com/supabase-go/realtime"
	"github.com/supabase-go/realtime/test/realtimetest"
)

type message struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// room prints what happens in the room. HandleEvent runs on the client's
// registry actor, one event at a time, so it needs no lock and must not
// block.
type room struct{ me string }

func (r room) HandleEvent(ctx context.Context, ev realtime.Event) {
	switch e := ev.(type) {
	case realtime.BroadcastEvent:
		var m message
		if err := e.Decode(&m); err == nil && m.From != r.me {
			fmt.Printf("<%s> %s\n", m.From, m.Text)
		}
	case realtime.PresenceEvent:
		switch e.Type {
		case realtime.PresenceJoin:
			if len(e.Current) == 0 {
				fmt.Printf("* %s joined\n", e.Key)
			}
		case realtime.PresenceLeave:
			if len(e.Current) == 0 {
				fmt.Printf("* %s left\n", e.Key)
			}
		}
	case realtime.ChannelStatusEvent:
		if e.Err != nil {
			fmt.Printf("! %s: %s (%v)\n", e.Channel, e.Status, e.Err)
		}
	case realtime.ErrorEvent:
		fmt.Printf("! %v\n", e.Err)
	}
}

func main() {
	name := flag.String("name", "alice", "your name (the presence key)")
	roomName := flag.String("room", "lobby", "room (channel) to join")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	url, key := os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_KEY")
	if url == "" {
		srv := realtimetest.NewServer(realtimetest.Options{})
		defer srv.Close()
		url, key = srv.URL(), "local"
		go bot(ctx, url, *roomName)
		fmt.Println("no SUPABASE_URL: using an in-process server; a bot named bob is in the room")
	}

	c, err := realtime.New(url, key, realtime.WithHandler(room{me: *name}))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(context.Background())
	ch, err := c.Channel(*roomName, realtime.PresenceKey(*name))
	if err != nil {
		log.Fatal(err)
	}
	_ = c.On(ch, realtime.Broadcast{Event: "message"})
	_ = c.On(ch, realtime.Presence{})
	if _, err := c.Subscribe(ctx, ch); err != nil {
		log.Fatal(err)
	}
	if err := c.Track(ctx, ch, map[string]any{"online_at": time.Now().UTC()}); err != nil {
		log.Fatal(err)
	}
	online := make([]string, 0)
	for k := range c.PresenceState(ch) {
		online = append(online, k)
	}
	sort.Strings(online)
	fmt.Printf("joined %s as %s; online: %v; type a message and press enter\n", *roomName, *name, online)

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case line, ok := <-lines:
			if !ok {
				return
			}
			if err := c.Broadcast(ctx, ch, "message", message{From: *name, Text: line}); err != nil {
				fmt.Println("! not sent:", err)
			}
		}
	}
}

// bot is a second user that greets, answers every message once, and stays
// online.
func bot(ctx context.Context, url, roomName string) {
	var c *realtime.Client
	var ch *realtime.Channel
	reply := make(chan string, 16)
	c, err := realtime.New(url, "local", realtime.WithHandler(realtime.HandlerFunc(func(_ context.Context, ev realtime.Event) {
		if b, ok := ev.(realtime.BroadcastEvent); ok {
			var m message
			if b.Decode(&m) == nil && m.From != "bob" {
				select {
				case reply <- m.Text:
				default:
				}
			}
		}
	})))
	if err != nil {
		return
	}
	defer c.Close(context.Background())
	ch, _ = c.Channel(roomName, realtime.PresenceKey("bob"))
	_ = c.On(ch, realtime.Broadcast{Event: "message"})
	if _, err := c.Subscribe(ctx, ch); err != nil {
		return
	}
	_ = c.Track(ctx, ch, map[string]any{"bot": true})
	for {
		select {
		case <-ctx.Done():
			return
		case text := <-reply:
			_ = c.Broadcast(ctx, ch, "message", message{From: "bob", Text: fmt.Sprintf("you said %q", text)})
		}
	}
}
