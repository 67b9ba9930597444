package realtimetest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/supabase-go/realtime/internal/jsonscan"
)

// pgStream is the state of one START_REPLICATION stream; it is owned by
// the replication goroutine.
type pgStream struct {
	slot string
	pos  pglogrepl.LSN // last WAL position received, reported in status updates
	rels map[uint32]*pgRelation

	// current transaction (from its Begin message)
	txLSN  pglogrepl.LSN
	txTime time.Time
}

// pgRelation describes a table as announced by a pgoutput Relation message
// plus what the catalog says about its primary key and RLS.
type pgRelation struct {
	id       uint32
	schema   string
	table    string
	identity byte // replica identity: 'd' default, 'f' full, 'i' index, 'n' nothing
	cols     []pgRelColumn
	rls      bool
	hasPK    bool
	// rlsQuery selects whether the row with the primary key $1, $2, … (as
	// text) is visible (realtime.build_prepared_statement_sql).
	rlsQuery string
}

type pgRelColumn struct {
	name string
	typ  *pgType
	key  bool // part of the replica identity
	pk   bool // part of the primary key
}

func (r *pgRelation) column(name string) int {
	for i, c := range r.cols {
		if c.name == name {
			return i
		}
	}
	return -1
}

// startStream creates a temporary pgoutput slot and starts streaming from
// its consistent point.
func startStream(ctx context.Context, repl *pgconn.PgConn) (*pgStream, error) {
	slot := randomSlotName()
	cctx, cancel := context.WithTimeout(ctx, pgQueryTimeout)
	res, err := pglogrepl.CreateReplicationSlot(cctx, repl, slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{
		Temporary:      true,
		Mode:           pglogrepl.LogicalReplication,
		SnapshotAction: "NOEXPORT_SNAPSHOT",
	})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("realtimetest: create replication slot: %w", err)
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return nil, fmt.Errorf("realtimetest: replication slot consistent point %q: %w", res.ConsistentPoint, err)
	}
	cctx, cancel = context.WithTimeout(ctx, pgQueryTimeout)
	err = pglogrepl.StartReplication(cctx, repl, slot, lsn, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication,
		PluginArgs: []string{
			"proto_version '1'",
			"publication_names '" + PostgresPublication + "'",
		},
	})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("realtimetest: start replication: %w", err)
	}
	return &pgStream{slot: slot, pos: lsn, rels: make(map[uint32]*pgRelation)}, nil
}

// stream reads the replication stream until an error or Close, sending a
// standby status update every pgStandbyInterval and when asked.
func (e *pgEngine) stream(repl *pgconn.PgConn, st *pgStream) error {
	nextStatus := time.Now().Add(pgStandbyInterval)
	for {
		if !time.Now().Before(nextStatus) {
			if err := pglogrepl.SendStandbyStatusUpdate(e.ctx, repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: st.pos}); err != nil {
				return fmt.Errorf("realtimetest: standby status update: %w", err)
			}
			nextStatus = time.Now().Add(pgStandbyInterval)
		}
		ctx, cancel := context.WithDeadline(e.ctx, nextStatus)
		raw, err := repl.ReceiveMessage(ctx)
		cancel()
		if err != nil {
			if e.ctx.Err() == nil && pgconn.Timeout(err) {
				continue
			}
			return err
		}
		switch msg := raw.(type) {
		case *pgproto3.ErrorResponse:
			return pgconn.ErrorResponseToPgError(msg)
		case *pgproto3.CopyData:
			if len(msg.Data) == 0 {
				continue
			}
			switch msg.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(msg.Data[1:])
				if err != nil {
					return err
				}
				if pkm.ServerWALEnd > st.pos {
					st.pos = pkm.ServerWALEnd
				}
				if pkm.ReplyRequested {
					nextStatus = time.Time{}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(msg.Data[1:])
				if err != nil {
					return err
				}
				if err := e.handleWAL(st, xld.WALData); err != nil {
					return err
				}
				if end := xld.WALStart + pglogrepl.LSN(len(xld.WALData)); end > st.pos {
					st.pos = end
				}
			}
		}
	}
}

// handleWAL decodes one pgoutput message.
func (e *pgEngine) handleWAL(st *pgStream, data []byte) error {
	msg, err := pglogrepl.Parse(data)
	if err != nil {
		return fmt.Errorf("realtimetest: decode pgoutput message: %w", err)
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		rel, err := e.loadRelation(m)
		if err != nil {
			return err
		}
		st.rels[m.RelationID] = rel
	case *pglogrepl.BeginMessage:
		st.txLSN, st.txTime = m.FinalLSN, m.CommitTime
	case *pglogrepl.InsertMessage:
		if rel := st.rels[m.RelationID]; rel != nil {
			e.route(newChange(st, rel, "INSERT", 0, nil, m.Tuple))
		}
	case *pglogrepl.UpdateMessage:
		if rel := st.rels[m.RelationID]; rel != nil {
			e.route(newChange(st, rel, "UPDATE", m.OldTupleType, m.OldTuple, m.NewTuple))
		}
	case *pglogrepl.DeleteMessage:
		if rel := st.rels[m.RelationID]; rel != nil {
			e.route(newChange(st, rel, "DELETE", m.OldTupleType, m.OldTuple, nil))
		}
	}
	return nil
}

// loadRelation resolves a Relation message's column types, primary key
// and RLS flag through the catalog connection.
func (e *pgEngine) loadRelation(m *pglogrepl.RelationMessage) (*pgRelation, error) {
	rel := &pgRelation{
		id:       m.RelationID,
		schema:   m.Namespace,
		table:    m.RelationName,
		identity: m.ReplicaIdentity,
	}
	err := e.withCatalog(func(ctx context.Context, conn *pgx.Conn) error {
		oids := make([]uint32, len(m.Columns))
		for i, c := range m.Columns {
			oids[i] = c.DataType
		}
		if err := e.loadTypes(ctx, conn, oids); err != nil {
			return err
		}
		var pk, pkTypes []string
		err := conn.QueryRow(ctx, `
			select c.relrowsecurity,
			       array(select a.attname::text
			             from pg_index i
			             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
			             where i.indrelid = c.oid and i.indisprimary order by a.attnum),
			       array(select a.atttypid::regtype::text
			             from pg_index i
			             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
			             where i.indrelid = c.oid and i.indisprimary order by a.attnum)
			from pg_class c where c.oid = $1`, m.RelationID).Scan(&rel.rls, &pk, &pkTypes)
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		rel.hasPK = len(pk) > 0
		rel.rlsQuery = rlsExistsQuery(m.Namespace, m.RelationName, pk, pkTypes)
		for _, c := range m.Columns {
			rel.cols = append(rel.cols, pgRelColumn{
				name: c.Name,
				typ:  e.types[c.DataType],
				key:  c.Flags&1 != 0,
				pk:   slices.Contains(pk, c.Name),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("realtimetest: load relation %s.%s: %w", m.Namespace, m.RelationName, err)
	}
	return rel, nil
}

// loadTypes adds the given types (and the domains' base types and arrays'
// element types they need) to the cache. catMu must be held.
func (e *pgEngine) loadTypes(ctx context.Context, conn *pgx.Conn, oids []uint32) error {
	type rawType struct {
		t        *pgType
		typtype  string
		baseOID  uint32
		elemOID  uint32
		category string
		delim    string
	}
	loaded := map[uint32]*rawType{}
	pending := oids
	for len(pending) > 0 {
		var missing []uint32
		for _, o := range pending {
			if _, ok := e.types[o]; !ok && loaded[o] == nil && !slices.Contains(missing, o) {
				missing = append(missing, o)
			}
		}
		if len(missing) == 0 {
			break
		}
		rows, err := conn.Query(ctx, `
			select oid, typname::text, typtype::text, typbasetype, typelem, typcategory::text, typdelim::text
			from pg_type where oid = any($1)`, missing)
		if err != nil {
			return err
		}
		pending = nil
		for rows.Next() {
			r := &rawType{t: &pgType{}}
			if err := rows.Scan(&r.t.oid, &r.t.name, &r.typtype, &r.baseOID, &r.elemOID, &r.category, &r.delim); err != nil {
				rows.Close()
				return err
			}
			loaded[r.t.oid] = r
			if r.typtype == "d" && r.baseOID != 0 {
				pending = append(pending, r.baseOID)
			}
			if r.category == "A" && r.elemOID != 0 {
				pending = append(pending, r.elemOID)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	get := func(o uint32) *pgType {
		if t := e.types[o]; t != nil {
			return t
		}
		if r := loaded[o]; r != nil {
			return r.t
		}
		return nil
	}
	// Resolve in two passes: own fields first, then what comes from the
	// base type (domains may chain).
	for _, r := range loaded {
		if r.category != "" {
			r.t.category = r.category[0]
		}
		r.t.delim = ','
		if r.typtype != "d" && r.category == "A" {
			r.t.elem = get(r.elemOID)
			if r.t.elem != nil && r.t.elem.name == "box" {
				r.t.delim = ';'
			}
		}
	}
	baseOf := func(r *rawType) *pgType {
		cur := r
		for range 16 { // domains over domains
			if next := loaded[cur.baseOID]; next != nil {
				if next.typtype != "d" {
					return next.t
				}
				cur = next
				continue
			}
			if t := e.types[cur.baseOID]; t != nil {
				if t.base != nil {
					return t.base
				}
				return t
			}
			return nil
		}
		return nil
	}
	for _, r := range loaded {
		if r.typtype != "d" {
			continue
		}
		if b := baseOf(r); b != nil {
			r.t.base = b
			r.t.category, r.t.elem, r.t.delim = b.category, b.elem, b.delim
		}
	}
	for o, r := range loaded {
		e.types[o] = r.t
	}
	return nil
}

// pgChange is one decoded row change.
type pgChange struct {
	rel        *pgRelation
	kind       string // INSERT, UPDATE, DELETE
	lsn        pglogrepl.LSN
	commitTime time.Time
	record     []pgCell // INSERT/UPDATE: the new row (TOAST filled from old when possible)
	oldRecord  []pgCell // UPDATE/DELETE: the replica identity (or whole old row)
	noPK       bool     // Error 400 (INSERT/UPDATE on a table without primary key)

	rendered map[string][]byte // data JSON per select set
}

// decodeTuple maps a tuple onto the relation's columns; unchanged TOAST
// values ('u') are absent.
func decodeTuple(rel *pgRelation, td *pglogrepl.TupleData) []pgCell {
	cells := make([]pgCell, len(rel.cols))
	if td == nil {
		return cells
	}
	for i, c := range td.Columns {
		if i >= len(cells) {
			break
		}
		switch c.DataType {
		case pglogrepl.TupleDataTypeNull:
			cells[i] = pgCell{present: true, null: true}
		case pglogrepl.TupleDataTypeText, pglogrepl.TupleDataTypeBinary:
			cells[i] = pgCell{present: true, text: string(c.Data)}
		}
	}
	return cells
}

func newChange(st *pgStream, rel *pgRelation, kind string, oldType uint8, oldTuple, newTuple *pglogrepl.TupleData) *pgChange {
	c := &pgChange{rel: rel, kind: kind, lsn: st.txLSN, commitTime: st.txTime, rendered: map[string][]byte{}}
	var old []pgCell
	if oldTuple != nil {
		old = decodeTuple(rel, oldTuple)
		if oldType == pglogrepl.UpdateMessageTupleTypeKey {
			// A key tuple carries NULLs for the non-key columns.
			for i := range old {
				if !rel.cols[i].key {
					old[i] = pgCell{}
				}
			}
		}
	}
	if kind != "DELETE" {
		c.record = decodeTuple(rel, newTuple)
		for i := range c.record {
			if !c.record[i].present && old != nil && old[i].present {
				c.record[i] = old[i] // unchanged TOAST value
			}
		}
		c.noPK = !rel.hasPK
	}
	switch kind {
	case "UPDATE":
		if old == nil {
			// The identity did not change: pgoutput sends no old tuple;
			// the identity columns are those of the new row.
			old = make([]pgCell, len(rel.cols))
			for i := range old {
				if rel.cols[i].key {
					old[i] = c.record[i]
				}
			}
		}
		c.oldRecord = old
	case "DELETE":
		if old == nil {
			old = make([]pgCell, len(rel.cols))
		}
		if rel.rls {
			// DELETE on an RLS table: only the primary key is revealed.
			for i := range old {
				if !rel.cols[i].pk {
					old[i] = pgCell{}
				}
			}
		}
		c.oldRecord = old
	}
	return c
}

// filterRow is the row filters are evaluated against (§7.4): the new row,
// or the old one for DELETE.
func (c *pgChange) filterRow() func(string) pgCell {
	row := c.record
	if c.kind == "DELETE" {
		row = c.oldRecord
	}
	return func(name string) pgCell {
		if i := c.rel.column(name); i >= 0 {
			return row[i]
		}
		return pgCell{}
	}
}

// data renders the change object (§7.2) restricted to sel (nil = every
// column; otherwise sel plus the primary key).
//
// mask, when not nil, holds the columns the subscriber's role may select
// (has_column_privilege); the others are left out of columns, record and
// old_record. unauthorized renders the "Error 401: Unauthorized" form.
func (c *pgChange) data(sel []string, mask []bool, unauthorized bool) []byte {
	key := selectKey(sel) + maskKey(mask)
	if unauthorized {
		key = "\x01401"
	}
	if b, ok := c.rendered[key]; ok {
		return b
	}
	visible := func(i int) bool {
		if mask != nil && !mask[i] {
			return false
		}
		return sel == nil || c.rel.cols[i].pk || slices.Contains(sel, c.rel.cols[i].name)
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"schema":`...)
	b = jsonscan.AppendQuote(b, c.rel.schema)
	b = append(b, `,"table":`...)
	b = jsonscan.AppendQuote(b, c.rel.table)
	b = append(b, `,"type":`...)
	b = jsonscan.AppendQuote(b, c.kind)
	if c.noPK || unauthorized {
		b = append(b, `,"commit_timestamp":null,"columns":[],"record":{}`...)
		if c.kind == "UPDATE" {
			b = append(b, `,"old_record":{}`...)
		}
		if c.noPK {
			b = append(b, `,"errors":["Error 400: Bad Request, no primary key"]}`...)
		} else {
			b = append(b, `,"errors":["Error 401: Unauthorized"]}`...)
		}
		c.rendered[key] = b
		return b
	}
	b = append(b, `,"commit_timestamp":`...)
	b = jsonscan.AppendQuote(b, c.commitTime.UTC().Format("2006-01-02T15:04:05.000Z"))
	b = append(b, `,"columns":[`...)
	first := true
	for i, col := range c.rel.cols {
		if !visible(i) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"name":`...)
		b = jsonscan.AppendQuote(b, col.name)
		b = append(b, `,"type":`...)
		name := ""
		if col.typ != nil {
			name = col.typ.name
		}
		b = jsonscan.AppendQuote(b, name)
		b = append(b, '}')
	}
	b = append(b, ']')
	if c.record != nil {
		b = append(b, `,"record":`...)
		b = c.appendRow(b, c.record, visible)
	}
	if c.oldRecord != nil {
		b = append(b, `,"old_record":`...)
		b = c.appendRow(b, c.oldRecord, visible)
	}
	b = append(b, `,"errors":null}`...)
	c.rendered[key] = b
	return b
}

func (c *pgChange) appendRow(b []byte, row []pgCell, visible func(int) bool) []byte {
	b = append(b, '{')
	first := true
	for i, cell := range row {
		if !cell.present || !visible(i) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsonscan.AppendQuote(b, c.rel.cols[i].name)
		b = append(b, ':')
		if cell.null {
			b = append(b, "null"...)
		} else {
			b = appendValueJSON(b, c.rel.cols[i].typ, []byte(cell.text))
		}
	}
	return append(b, '}')
}

// selectKey identifies a select column set; "" is every column.
func selectKey(sel []string) string {
	if sel == nil {
		return ""
	}
	s := slices.Clone(sel)
	sort.Strings(s)
	return "\x00" + strings.Join(s, "\x00")
}
