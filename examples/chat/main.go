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
	"errors"
	"flag"
	"fmt"
	"io"
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

// room prints what happens in the room. HandleEvent runs on one of the
// client's Dispatcher goroutines, off the actors, one event at a time, so
// it needs no lock of its own; it may block or call the client (a slow
// Handler only delays the events queued behind it).
type room struct {
	me  string
	out io.Writer
	// present gets a value when the server's presence state first
	// includes this user, i.e. when the track has gone round.
	present chan struct{}
}

func (r room) HandleEvent(ctx context.Context, ev realtime.Event) {
	if p, ok := ev.(realtime.PresenceEvent); ok && p.Type == realtime.PresenceJoin && p.Key == r.me {
		select {
		case r.present <- struct{}{}:
		default:
		}
	}
	switch e := ev.(type) {
	case realtime.BroadcastEvent:
		var m message
		if err := e.Decode(&m); err == nil && m.From != r.me {
			fmt.Fprintf(r.out, "<%s> %s\n", m.From, m.Text)
		}
	case realtime.PresenceEvent:
		switch e.Type {
		case realtime.PresenceJoin:
			if len(e.Current) == 0 && e.Key != r.me {
				fmt.Fprintf(r.out, "* %s joined\n", e.Key)
			}
		case realtime.PresenceLeave:
			if len(e.Current) == 0 {
				fmt.Fprintf(r.out, "* %s left\n", e.Key)
			}
		}
	case realtime.ChannelStatusEvent:
		if e.Err != nil {
			fmt.Fprintf(r.out, "! %s: %s (%v)\n", e.Channel, e.Status, e.Err)
		}
	case realtime.ErrorEvent:
		fmt.Fprintf(r.out, "! %v\n", e.Err)
	}
}

func main() {
	name := flag.String("name", "alice", "your name (the presence key)")
	roomName := flag.String("room", "lobby", "room (channel) to join")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_KEY"), *name, *roomName, os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run chats in roomName as name until ctx ends or in ends. An empty url
// starts the in-process server and a bot.
func run(ctx context.Context, url, key, name, roomName string, in io.Reader, out io.Writer) error {
	if url == "" {
		srv := realtimetest.NewServer(realtimetest.Options{})
		defer srv.Close()
		url, key = srv.URL(), "local"
		botCtx, stopBot := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); bot(botCtx, url, roomName) }()
		defer func() { stopBot(); <-done }()
		fmt.Fprintln(out, "no SUPABASE_URL: using an in-process server; a bot named bob is in the room")
	}

	r := room{me: name, out: out, present: make(chan struct{}, 1)}
	c, err := realtime.New(url, key, realtime.WithHandler(r))
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	ch, err := c.Channel(roomName, realtime.PresenceKey(name))
	if err != nil {
		return err
	}
	_ = c.On(ch, realtime.Broadcast{Event: "message"})
	_ = c.On(ch, realtime.Presence{})
	if _, err := c.Subscribe(ctx, ch); err != nil {
		return err
	}
	if err := c.Track(ctx, ch, map[string]any{"online_at": time.Now().UTC()}); err != nil {
		return err
	}
	// Track returns when the server accepted the state; the presence
	// state that lists us (and whoever was already there) arrives as
	// events right after. Wait for it before reading PresenceState.
	select {
	case <-r.present:
	case <-time.After(10 * time.Second):
		return errors.New("the server never listed us as present")
	case <-ctx.Done():
		return nil
	}
	online := make([]string, 0)
	for k := range c.PresenceState(ch) {
		online = append(online, k)
	}
	sort.Strings(online)
	fmt.Fprintf(out, "joined %s as %s; online: %v; type a message and press enter\n", roomName, name, online)

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if err := c.Broadcast(ctx, ch, "message", message{From: name, Text: line}); err != nil {
				fmt.Fprintln(out, "! not sent:", err)
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
