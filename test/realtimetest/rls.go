package realtimetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/supabase-go/realtime/internal/frame"
)

// Row-level security of postgres_changes, after the server's
// realtime.apply_rls (priv/repo/tenant_schema/realtime/functions/apply_rls.sql)
// and realtime.build_prepared_statement_sql.
//
// Each subscription carries the role and claims of the channel token at
// subscribe time (an access_token refresh subscribes again with the new
// ones). For every change routed to subscriptions with a role:
//
//   - per distinct role, the columns it may select (has_column_privilege)
//     bound what columns, record and old_record show; a role that may not
//     select every primary key column gets, for INSERT and UPDATE, the
//     "Error 401: Unauthorized" form without values;
//   - on a table with row-level security, per distinct role and claims,
//     INSERT and UPDATE rows are delivered only if
//     "select exists(select 1 from <table> where <pk> = <value> …)" returns
//     true with set_config('role', <role>, true) and
//     set_config('request.jwt.claims', <claims>, true), i.e. the row as it
//     is in the table when the change is routed, seen through the
//     policies; DELETEs are not checked (their old_record is cut to the
//     primary key, see newChange).
//
// Cost: nothing for subscriptions without a role (tokens that are not
// JWTs); otherwise one round trip per change, a pipelined batch of one
// privilege query per distinct role, and for INSERT and UPDATE on RLS
// tables a second one: a rolled-back transaction of two statements per
// distinct role and claims set (on a local pgtest cluster, 2000 inserted
// rows reached one subscriber at about 26 000 changes/s without a role,
// 3 600/s with a role on a plain table and 2 000/s on an RLS table; the
// real server's default limit is 100 events/s). It
// runs on the replication goroutine, outside the hub lock; the DSN's user
// must be allowed to SET ROLE to the token roles (a superuser, or GRANT
// <role> TO <user>).

// rlsExistsQuery renders the visibility query of a table with primary key
// columns pk (typed as types, regtype text); "" without primary key.
func rlsExistsQuery(schema, table string, pk, types []string) string {
	if len(pk) == 0 || len(pk) != len(types) {
		return ""
	}
	var b strings.Builder
	b.WriteString("select exists(select 1 from ")
	b.WriteString(pgx.Identifier{schema, table}.Sanitize())
	b.WriteString(" where ")
	for i, col := range pk {
		if i > 0 {
			b.WriteString(" and ")
		}
		b.WriteString(pgx.Identifier{col}.Sanitize())
		b.WriteString(" = $")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString("::text::")
		b.WriteString(types[i])
	}
	b.WriteString(")")
	return b.String()
}

// maskKey identifies a column privilege mask in the rendering cache.
func maskKey(mask []bool) string {
	if mask == nil {
		return ""
	}
	b := make([]byte, 0, len(mask)+1)
	b = append(b, '\x02')
	for _, m := range mask {
		if m {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
	}
	return string(b)
}

// pgTarget is one subscription a change matched, with its binding groups
// (one per distinct select set).
type pgTarget struct {
	sub    *pgSubscription
	groups []*pgGroup
}

type pgGroup struct {
	sel []string
	ids []uint32
}

// pgView is what one role (and, on RLS tables, one claims set) may see of
// a change.
type pgView struct {
	mask         []bool // selectable columns; nil = all (no role)
	unauthorized bool   // Error 401: a primary key column is not selectable
	hidden       map[string]bool
}

// route delivers a change to every subscribed channel with matching
// bindings (§7.2, §7.8): one frame per channel listing all matching binding
// ids (one per distinct select set). Legacy channels (§7.9) get the change
// object as an INSERT/UPDATE/DELETE event. Targets are collected under the
// hub lock, checked against the roles without it, and the frames queued
// under it again, only to channels still joined (so always after their
// "Subscribed to PostgreSQL" message).
func (e *pgEngine) route(c *pgChange) {
	targets := e.match(c)
	if len(targets) == 0 {
		return
	}
	views := e.views(c, targets)

	h := e.srv.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range targets {
		sub := t.sub
		if !h.hasLocked(sub.ch) {
			continue
		}
		var v *pgView
		if sub.role != "" {
			v = views[sub.role]
			if v == nil || v.hidden[sub.claims] {
				continue
			}
		}
		for _, g := range t.groups {
			var data []byte
			if v == nil {
				data = c.data(g.sel, nil, false)
			} else {
				data = c.data(g.sel, v.mask, v.unauthorized && !c.noPK)
			}
			if sub.legacy {
				sub.ch.conn.send(0, &frame.Frame{Topic: sub.ch.topic, Event: c.kind, Payload: data})
				continue
			}
			p := make([]byte, 0, len(data)+32)
			p = append(p, `{"ids":[`...)
			for i, id := range g.ids {
				if i > 0 {
					p = append(p, ',')
				}
				p = strconv.AppendUint(p, uint64(id), 10)
			}
			p = append(p, `],"data":`...)
			p = append(p, data...)
			p = append(p, '}')
			sub.ch.conn.send(0, &frame.Frame{Topic: sub.ch.topic, Event: "postgres_changes", Payload: p})
		}
	}
}

// match returns the live subscriptions with bindings matching c (and
// forgets the subscriptions of channels that left).
func (e *pgEngine) match(c *pgChange) []pgTarget {
	get := c.filterRow()
	h := e.srv.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []pgTarget
	live := e.subs[:0]
	for _, sub := range e.subs {
		if !h.hasLocked(sub.ch) {
			continue
		}
		live = append(live, sub)
		if c.lsn < sub.lsn {
			continue // committed before the subscription
		}
		var groups []*pgGroup
		for _, b := range sub.bindings {
			if !b.matches(c, get) {
				continue
			}
			key := selectKey(b.sel)
			var g *pgGroup
			for _, x := range groups {
				if selectKey(x.sel) == key {
					g = x
					break
				}
			}
			if g == nil {
				g = &pgGroup{sel: b.sel}
				groups = append(groups, g)
			}
			if !slices.Contains(g.ids, b.id) {
				g.ids = append(g.ids, b.id)
			}
		}
		if len(groups) > 0 {
			out = append(out, pgTarget{sub: sub, groups: groups})
		}
	}
	clear(e.subs[len(live):])
	e.subs = live
	return out
}

// views evaluates, in one batch, what each distinct role of the targets
// may see of c. A role missing from the result (its queries failed, e.g.
// the role was dropped) sees nothing.
func (e *pgEngine) views(c *pgChange, targets []pgTarget) map[string]*pgView {
	type pair struct{ role, claims string }
	var (
		roles []string
		pairs []pair
	)
	for _, t := range targets {
		if t.sub.role == "" {
			continue
		}
		if !slices.Contains(roles, t.sub.role) {
			roles = append(roles, t.sub.role)
		}
		p := pair{t.sub.role, t.sub.claims}
		if !slices.Contains(pairs, p) {
			pairs = append(pairs, p)
		}
	}
	if len(roles) == 0 {
		return nil
	}
	checkRows := c.rel.rls && c.kind != "DELETE" && !c.noPK && c.rel.rlsQuery != ""
	var pkArgs []any
	if checkRows {
		for i, col := range c.rel.cols {
			if !col.pk {
				continue
			}
			cell := c.record[i]
			if !cell.present || cell.null {
				pkArgs = append(pkArgs, nil)
			} else {
				pkArgs = append(pkArgs, cell.text)
			}
		}
	}

	views := make(map[string]*pgView, len(roles))
	err := e.withCatalog(func(ctx context.Context, conn *pgx.Conn) error {
		batch := &pgx.Batch{}
		for _, r := range roles {
			batch.Queue(`
				select coalesce(array_agg(attname::text), '{}')
				from pg_attribute
				where attrelid = $1 and attnum > 0 and not attisdropped
				  and has_column_privilege($2::text, attrelid, attnum, 'SELECT')`, c.rel.id, r)
		}
		res := conn.SendBatch(ctx, batch)
		for _, r := range roles {
			var cols []string
			if err := res.QueryRow().Scan(&cols); err != nil {
				_ = res.Close()
				return fmt.Errorf("column privileges of role %q: %w", r, err)
			}
			v := &pgView{mask: make([]bool, len(c.rel.cols)), hidden: map[string]bool{}}
			for i, col := range c.rel.cols {
				v.mask[i] = slices.Contains(cols, col.name)
				if col.pk && !v.mask[i] && c.kind != "DELETE" {
					v.unauthorized = true
				}
			}
			views[r] = v
		}
		if err := res.Close(); err != nil {
			return err
		}
		if !checkRows {
			return nil
		}
		// The rows, seen through the policies by each authorized role and
		// claims set (a role without SELECT on the key got the 401 form).
		var checked []pair
		batch = &pgx.Batch{}
		batch.Queue(`begin`)
		for _, p := range pairs {
			if views[p.role].unauthorized {
				continue
			}
			checked = append(checked, p)
			batch.Queue(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, p.role, p.claims)
			batch.Queue(c.rel.rlsQuery, pkArgs...)
		}
		if len(checked) == 0 {
			return nil
		}
		batch.Queue(`rollback`)
		res = conn.SendBatch(ctx, batch)
		err := func() error {
			if _, err := res.Exec(); err != nil {
				return err
			}
			for _, p := range checked {
				var visible bool
				if _, err := res.Exec(); err != nil {
					return err
				}
				if err := res.QueryRow().Scan(&visible); err != nil {
					return fmt.Errorf("row visibility for role %q: %w", p.role, err)
				}
				if !visible {
					views[p.role].hidden[p.claims] = true
				}
			}
			_, err := res.Exec()
			return err
		}()
		if cerr := res.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_, _ = conn.Exec(ctx, `rollback`) // leave the aborted transaction
		}
		return err
	})
	if err != nil {
		// A failed batch (a dropped role, a policy raising an error) hides
		// the change from every role of this round; the real server's
		// apply_rls fails the whole poll the same way.
		e.srv.log.Warn("realtimetest: row-level security check failed; change not delivered to subscribers with a role",
			"table", c.rel.schema+"."+c.rel.table, "err", err)
		return map[string]*pgView{}
	}
	return views
}
