package store

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/supabase-go/realtime/actors"
)

// Put stores (or replaces) a record through the store actor, for writers
// other than the registry (which writes the Table directly). The record
// must not be mutated after it is sent.
type Put struct{ Record Record }

// Delete removes a topic's record through the store actor.
type Delete struct{ Topic string }

// Load replies with every record in creation order, including every write
// made before it was sent.
type Load struct{ Reply chan<- []Record }

// Props returns the props of a store actor that writes to t.
func Props(t *Table) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &storeActor{table: t} })
}

type storeActor struct{ table *Table }

func (s *storeActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Put:
		s.table.Put(m.Record)
	case *Delete:
		s.table.Delete(m.Topic)
	case *Load:
		actors.Reply(m.Reply, s.table.All())
	}
}
