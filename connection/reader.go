package connection

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/gorilla/websocket"
	"github.com/supabase-go/realtime/messages"
)

// readLoop is the reader goroutine of one incarnation. It decodes frames
// and forwards them; it never runs user code and never waits on a consumer
// (Send only enqueues into an unbounded mailbox). It exits on the first read
// error, which closing the socket provokes.
func readLoop(conn *websocket.Conn, cfg Config, epoch uint64, root *actor.RootContext, self *actor.PID, done chan<- struct{}) {
	defer close(done)
	for {
		mt, data, err := conn.ReadMessage()
		if err != nil {
			root.Send(self, &readerExited{epoch: epoch, err: err})
			return
		}
		cfg.Stats.FramesIn.Add(1)
		in := &messages.Inbound{Epoch: epoch, Received: cfg.Clock.Now()}
		if err := cfg.Codec.Decode(data, mt == websocket.BinaryMessage, &in.Frame); err != nil {
			cfg.Stats.Malformed.Add(1)
			root.Send(cfg.Registry, &messages.FrameDropped{Epoch: epoch, Err: err})
			continue
		}
		if in.Frame.Topic == "phoenix" && in.Frame.Event == "phx_reply" {
			root.Send(self, &heartbeatReply{epoch: epoch, ref: in.Frame.Ref, at: in.Received})
			continue
		}
		// Bound what the registry's mailbox holds: a Handler slower than
		// the server must not let it grow without limit.
		in.Size = len(data)
		if cfg.Stats.Pending.Add(int64(in.Size)) > cfg.MaxPending {
			cfg.Stats.Pending.Add(-int64(in.Size))
			root.Send(self, &readerExited{epoch: epoch, err: messages.ErrSlowConsumer})
			return
		}
		root.Send(cfg.Registry, in)
	}
}
