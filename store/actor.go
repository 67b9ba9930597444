package store

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/supabase-go/realtime/actors"
)

// Put stores (or replaces) a record. The record must not be mutated after
// it is sent.
type Put struct{ Record Record }

// Delete removes a topic's record.
type Delete struct{ Topic string }

// Barrier runs Fn after every write sent before it has been published.
// The registry uses it to answer a client call only once the state that
// call changed is visible in Table.Snapshot (read-your-writes).
type Barrier struct{ Fn func() }

// Load replies with the snapshot that includes every write sent before it.
type Load struct{ Reply chan<- *Snapshot }

// Props returns the props of a store actor that writes to t.
func Props(t *Table) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &storeActor{table: t} })
}

type storeActor struct{ table *Table }

func (s *storeActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Put:
		rec := m.Record
		s.table.apply(func(recs map[string]Record) { recs[rec.Topic] = rec })
	case *Delete:
		s.table.apply(func(recs map[string]Record) { delete(recs, m.Topic) })
	case *Barrier:
		m.Fn()
	case *Load:
		actors.Reply(m.Reply, s.table.Snapshot())
	}
}
