package realtimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgSubscription is a joined channel whose bindings were subscribed.
type pgSubscription struct {
	ch *channel
	// lsn is the WAL insert position when the subscription was made:
	// transactions that committed before it are not delivered.
	lsn      pglogrepl.LSN
	legacy   bool // §7.9: changes are pushed as INSERT/UPDATE/DELETE events
	bindings []*pgBinding
	// role is the "role" claim of the channel token at subscribe time
	// (realtime.subscription.claims_role), claims the token's claims as
	// JSON (request.jwt.claims). role "" (a token that is not a JWT, or
	// has no role) means no role switch: rows are seen as the DSN's user.
	role   string
	claims string
}

// pgBinding is one subscribed binding.
type pgBinding struct {
	id     uint32
	action string   // "*", "INSERT", "UPDATE", "DELETE"
	sel    []string // select columns; nil = all
	// entities maps each table the binding covers (resolved at subscribe
	// time, like the server's realtime.subscription rows) to its compiled
	// filters.
	entities map[uint32][]*pgCond
}

func (b *pgBinding) matches(c *pgChange, get func(string) pgCell) bool {
	if b.action != "*" && b.action != c.kind {
		return false
	}
	conds, ok := b.entities[c.rel.id]
	if !ok {
		return false
	}
	if c.noPK {
		return true // error payloads skip the filters
	}
	for _, cond := range conds {
		if !cond.holds(get) {
			return false
		}
	}
	return true
}

// pgParams are parsed subscription parameters (§7.1).
type pgParams struct {
	id      uint32
	action  string
	schema  string
	table   string
	filters []pgFilter
	sel     []string
}

// log renders the parameters as the server does in its error messages:
// "event: *, schema: public, table: test, filters: [{"id", "eq", "hey", false}], select: nil".
func (p pgParams) log() string {
	sel := "nil"
	if p.sel != nil {
		sel = inspectStrings(p.sel)
	}
	return "event: " + p.action + ", schema: " + p.schema + ", table: " + p.table +
		", filters: " + inspectFilters(p.filters) + ", select: " + sel
}

// Messages of the parse stage (§7.1, §7.4).
const (
	msgNoParams       = "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: "
	msgFilterParse    = "Error parsing `filter` params: "
	msgSelectParse    = "Error parsing `select` params: expected a list of column name strings, e.g. select: [\"col1\", \"col2\"]"
	msgSelectWildcard = "Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name."
	msgNotEnabled     = "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: ["
	msgException      = "Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: ["
)

// parseSubscriptionParams validates a binding object; the string is the
// error message ("" when ok).
func parseSubscriptionParams(m map[string]any) (pgParams, string) {
	p := pgParams{action: "*"}
	if ev, ok := m["event"].(string); ok {
		switch up := strings.ToUpper(ev); up {
		case "INSERT", "UPDATE", "DELETE":
			p.action = up
		}
	}
	if v, ok := m["select"]; ok {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					p.sel = append(p.sel, s)
				}
			}
		case string:
			return p, msgSelectParse
		}
	}
	schemaV, hasSchema := m["schema"]
	tableV, hasTable := m["table"]
	filterV, hasFilter := m["filter"]
	schema, schemaOK := schemaV.(string)
	table, tableOK := tableV.(string)
	filter, filterOK := filterV.(string)
	switch {
	case schemaOK && tableOK && filterOK:
		fs, errText := parseFilters(filter)
		if errText != "" {
			return p, msgFilterParse + errText
		}
		p.schema, p.table, p.filters = schema, table, fs
	case schemaOK && tableOK && !hasFilter:
		p.schema, p.table = schema, table
	case schemaOK && !hasTable && !hasFilter:
		p.schema, p.table = schema, "*"
	case tableOK && !hasSchema && !hasFilter:
		p.schema, p.table = "public", table
	default:
		_, ut := m["user_token"]
		_, at := m["auth_token"]
		if ut || at {
			return p, msgNoParams + "<redacted>"
		}
		return p, msgNoParams + inspectJSON(m)
	}
	if p.sel != nil && (p.schema == "*" || p.table == "*") {
		return p, msgSelectWildcard
	}
	return p, ""
}

// legacyParams builds the single binding of a join without "config"
// (§7.9): the sub-topic is schema[:table[:filter]].
func legacyParams(topic string) map[string]any {
	parts := strings.SplitN(strings.TrimPrefix(topic, TopicPrefix), ":", 3)
	m := map[string]any{"schema": parts[0]}
	if len(parts) > 1 {
		m["table"] = parts[1]
	}
	if len(parts) > 2 {
		m["filter"] = parts[2]
	}
	return m
}

// subscribeLoop is the subscription goroutine.
func (e *pgEngine) subscribeLoop() {
	defer e.srv.wg.Done()
	for {
		j, ok := e.nextJob()
		if !ok {
			return
		}
		e.process(j)
	}
}

// process subscribes a join's bindings, then answers replication_ready.
func (e *pgEngine) process(j pgJob) {
	ch := j.ch
	var (
		params []map[string]any
		ids    []uint32
	)
	legacy := !ch.cfg.hasConfig
	if legacy {
		params, ids = []map[string]any{legacyParams(ch.topic)}, []uint32{0}
	} else {
		for _, b := range ch.cfg.bindings {
			var m map[string]any
			d := json.NewDecoder(bytes.NewReader(b.raw))
			d.UseNumber()
			if d.Decode(&m) != nil {
				m = map[string]any{}
			}
			params = append(params, m)
			ids = append(ids, b.id)
		}
	}
	if len(params) > 0 && !e.subscribe(ch, legacy, params, ids) {
		return
	}
	if j.replicationReady && e.waitReady(ch) {
		e.srv.pushSystem(ch, "system", "ok", MessageReplicationEstablished)
	}
}

// subscribe runs the parse and database stages for a join and pushes the
// outcome as a system message. It returns false when the engine stopped or
// the channel left while waiting for the database.
func (e *pgEngine) subscribe(ch *channel, legacy bool, params []map[string]any, ids []uint32) bool {
	parsed := make([]pgParams, len(params))
	for i, m := range params {
		p, msg := parseSubscriptionParams(m)
		if msg != "" {
			e.srv.pushSystem(ch, "postgres_changes", "error", msg)
			return true
		}
		p.id = ids[i]
		parsed[i] = p
	}
	for {
		if !e.waitReady(ch) {
			return false
		}
		sub, msg, err := e.subscribeDB(ch, legacy, parsed)
		switch {
		case err != nil:
			if e.ctx.Err() != nil {
				return false
			}
			e.srv.log.Debug("realtimetest: postgres subscribe failed", "topic", ch.topic, "err", err)
			if !errors.Is(err, errPostgresNotReady) {
				e.srv.pushSystem(ch, "postgres_changes", "error", err.Error())
			}
			if !e.sleep(pgSubscribeRetryIn) {
				return false
			}
			continue
		case msg != "":
			e.srv.pushSystem(ch, "postgres_changes", "error", msg)
			return true
		}
		h := e.srv.hub
		h.mu.Lock()
		if h.hasLocked(ch) {
			e.subs = slices.DeleteFunc(e.subs, func(s *pgSubscription) bool { return s.ch == ch || !h.hasLocked(s.ch) })
			e.subs = append(e.subs, sub)
			e.srv.pushSystemLocked(ch, "postgres_changes", "ok", MessageSubscribedToPostgres, false)
		}
		h.mu.Unlock()
		return true
	}
}

// subscribeDB resolves and validates every binding against the database
// (the server's realtime.subscription insert and its check trigger). A
// validation failure is returned as the message; err is a transient
// (connection) failure.
func (e *pgEngine) subscribeDB(ch *channel, legacy bool, parsed []pgParams) (*pgSubscription, string, error) {
	sub := &pgSubscription{ch: ch, legacy: legacy}
	if x := ch.x; x != nil {
		x.mu.Lock()
		if role, ok := x.claims["role"].(string); ok && role != "" {
			sub.role = role
			if b, err := json.Marshal(x.claims); err == nil {
				sub.claims = string(b)
			}
		}
		x.mu.Unlock()
	}
	var msg string
	err := e.withCatalog(func(ctx context.Context, conn *pgx.Conn) error {
		var lsnText string
		if err := conn.QueryRow(ctx, `select pg_current_wal_insert_lsn()::text`).Scan(&lsnText); err != nil {
			return err
		}
		lsn, err := pglogrepl.ParseLSN(lsnText)
		if err != nil {
			return err
		}
		sub.lsn = lsn
		for _, p := range parsed {
			b, m, err := e.bindingDB(ctx, conn, p, sub.role)
			if err != nil {
				return err
			}
			if m != "" {
				msg = m
				return nil
			}
			sub.bindings = append(sub.bindings, b)
		}
		return nil
	})
	return sub, msg, err
}

// bindingDB resolves the tables of one binding and compiles its filters.
func (e *pgEngine) bindingDB(ctx context.Context, conn *pgx.Conn, p pgParams, role string) (*pgBinding, string, error) {
	exception := func(err error) (*pgBinding, string, error) {
		if m, ok := postgrexMessage(err); ok {
			return nil, msgException + p.log() + "]. Exception: " + m, nil
		}
		return nil, "", err
	}
	rows, err := conn.Query(ctx, `
		select format('%I.%I', schemaname, tablename)::regclass::oid
		from pg_publication_tables
		where pubname = $1
		  and schemaname like (case $2::text when '*' then '%' else $2::text end) escape ''
		  and tablename like (case $3::text when '*' then '%' else $3::text end) escape ''`,
		PostgresPublication, p.schema, p.table)
	if err != nil {
		return exception(err)
	}
	oids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return exception(err)
	}
	if len(oids) == 0 {
		return nil, msgNotEnabled + p.log() + "]", nil
	}
	if role != "" {
		// realtime.subscription.claims_role is (claims ->> 'role')::regrole.
		var exists bool
		if err := conn.QueryRow(ctx, `select to_regrole($1) is not null`, role).Scan(&exists); err != nil {
			return exception(err)
		}
		if !exists {
			return exception(&pgconn.PgError{Severity: "ERROR", Code: "42704", Message: `role "` + role + `" does not exist`})
		}
	}
	b := &pgBinding{id: p.id, action: p.action, sel: p.sel, entities: make(map[uint32][]*pgCond, len(oids))}
	for _, oid := range oids {
		conds, err := e.compileEntity(ctx, conn, oid, p, role)
		if err != nil {
			return exception(err)
		}
		b.entities[oid] = conds
	}
	return b, "", nil
}

// pgRaise is an error raised by the server's check trigger (SQLSTATE
// P0001).
type pgRaise string

func (r pgRaise) Error() string { return string(r) }

// compileEntity validates p's filters and select list against one table
// and compiles the filters (the checks of realtime.subscription_check_filters).
//
// Only columns the subscriber's role may select exist for filters and
// select lists (role "": every column).
func (e *pgEngine) compileEntity(ctx context.Context, conn *pgx.Conn, relid uint32, p pgParams, role string) ([]*pgCond, error) {
	type column struct {
		name    string
		typOID  uint32
		regtype string
	}
	rows, err := conn.Query(ctx, `
		select attname::text, atttypid, atttypid::regtype::text
		from pg_attribute
		where attrelid = $1 and attnum > 0 and not attisdropped
		  and ($2::text = '' or has_column_privilege($2::text, attrelid, attnum, 'SELECT'))
		order by attnum`, relid, role)
	if err != nil {
		return nil, err
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.name, &c.typOID, &c.regtype)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	find := func(name string) *column {
		for i := range cols {
			if cols[i].name == name {
				return &cols[i]
			}
		}
		return nil
	}
	var oids []uint32
	for _, c := range cols {
		oids = append(oids, c.typOID)
	}
	if err := e.loadTypes(ctx, conn, oids); err != nil {
		return nil, err
	}

	var conds []*pgCond
	for _, f := range p.filters {
		col := find(f.column)
		if col == nil {
			return nil, pgRaise("invalid column for filter " + f.column)
		}
		c := &pgCond{column: f.column, op: f.op, negate: f.negate, typ: e.types[col.typOID]}
		switch f.op {
		case "in":
			rows, err := conn.Query(ctx, fmt.Sprintf(`select x::text from unnest($1::text::%s[]) x`, col.regtype), f.value)
			if err != nil {
				return nil, err
			}
			vals, err := pgx.CollectRows(rows, pgx.RowTo[*string])
			if err != nil {
				return nil, err
			}
			if len(vals) > maxInValues {
				return nil, pgRaise("too many values for `in` filter. Maximum 100")
			}
			for _, v := range vals {
				if v == nil {
					c.inNull = true
				} else {
					c.values = append(c.values, *v)
				}
			}
		case "is":
			switch f.value {
			case "null", "true", "false", "unknown":
			default:
				return nil, pgRaise("invalid value for is filter: must be null, true, false, or unknown")
			}
			if f.value != "null" && col.regtype != "boolean" {
				return nil, pgRaise(fmt.Sprintf("is %s filter requires a boolean column, got %s", f.value, col.regtype))
			}
			c.value = f.value
		case "like", "ilike":
			var ok bool
			if err := conn.QueryRow(ctx, `select exists(select 1 from pg_operator where oprname = '~~' and oprleft = $1)`, col.typOID).Scan(&ok); err != nil {
				return nil, err
			}
			if !ok {
				return nil, pgRaise(fmt.Sprintf("operator %s requires a text-compatible column type, got %s", f.op, col.regtype))
			}
			c.re = likeRegexp(f.value, f.op == "ilike")
		case "match", "imatch":
			opr := "~"
			if f.op == "imatch" {
				opr = "~*"
			}
			var ok bool
			if err := conn.QueryRow(ctx, `
				select exists(select 1 from pg_operator
				              where oprname = $1 and oprleft = $2 and oprright = $2 and oprresult = 'boolean'::regtype)`,
				opr, col.typOID).Scan(&ok); err != nil {
				return nil, err
			}
			if !ok {
				return nil, pgRaise(fmt.Sprintf("operator %s requires a text-compatible column type, got %s", f.op, col.regtype))
			}
			var dummy bool
			if err := conn.QueryRow(ctx, `select '' ~ $1::text`, f.value).Scan(&dummy); err != nil {
				var pgErr *pgconn.PgError
				if errors.As(err, &pgErr) {
					return nil, pgRaise(fmt.Sprintf("invalid regular expression for %s filter: %s", f.op, pgErr.Message))
				}
				return nil, err
			}
			c.re = posixRegexp(f.value, f.op == "imatch")
		default: // eq, neq, lt, lte, gt, gte, isdistinct: the value must cast
			var canon *string
			if err := conn.QueryRow(ctx, fmt.Sprintf(`select ($1::text::%s)::text`, col.regtype), f.value).Scan(&canon); err != nil {
				return nil, err
			}
			if canon != nil {
				c.value = *canon
			}
		}
		conds = append(conds, c)
	}
	for _, s := range p.sel {
		if find(s) == nil {
			return nil, pgRaise("invalid column for select " + s)
		}
	}
	return conds, nil
}

// postgrexMessage renders a database error the way the server's Postgrex
// driver does ("ERROR 22P02 (invalid_text_representation) invalid input
// syntax for type integer: \"hey\""); ok is false for errors that are not
// database errors (connection failures).
func postgrexMessage(err error) (string, bool) {
	var raise pgRaise
	if errors.As(err, &raise) {
		return "ERROR P0001 (raise_exception) " + string(raise), true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		name := sqlStateNames[pgErr.Code]
		if name == "" {
			name = pgErr.Code
		}
		sev := pgErr.Severity
		if sev == "" {
			sev = "ERROR"
		}
		return sev + " " + pgErr.Code + " (" + name + ") " + pgErr.Message, true
	}
	return "", false
}

// sqlStateNames maps the SQLSTATEs a subscription can run into to
// Postgrex's condition names.
var sqlStateNames = map[string]string{
	"0A000": "feature_not_supported",
	"22001": "string_data_right_truncation",
	"22003": "numeric_value_out_of_range",
	"22007": "invalid_datetime_format",
	"22008": "datetime_field_overflow",
	"22012": "division_by_zero",
	"22018": "invalid_character_value_for_cast",
	"22019": "invalid_escape_character",
	"22021": "character_not_in_repertoire",
	"22023": "invalid_parameter_value",
	"22025": "invalid_escape_sequence",
	"2201B": "invalid_regular_expression",
	"22P02": "invalid_text_representation",
	"22P03": "invalid_binary_representation",
	"22P05": "untranslatable_character",
	"2200N": "invalid_xml_content",
	"3F000": "invalid_schema_name",
	"42501": "insufficient_privilege",
	"42601": "syntax_error",
	"42703": "undefined_column",
	"42704": "undefined_object",
	"42725": "ambiguous_function",
	"42804": "datatype_mismatch",
	"42846": "cannot_coerce",
	"42883": "undefined_function",
	"42P01": "undefined_table",
	"42P18": "indeterminate_datatype",
	"P0001": "raise_exception",
}
