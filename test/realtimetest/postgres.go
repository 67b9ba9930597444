package realtimetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/jsonscan"
)

// postgres_changes (§7) backed by a real PostgreSQL database.
//
// When Options.PostgresDSN is set the server runs a pgEngine with two
// goroutines (both counted in Server.wg, both ended by Server.Close):
//
//   - the replication goroutine (run) keeps a session up: a catalog
//     connection (pgx), the publication "supabase_realtime", a replication
//     connection with a temporary pgoutput slot
//     ("supabase_realtime_replication_slot_<random>", dropped by PostgreSQL
//     when the connection ends) and the START_REPLICATION stream
//     (proto_version 1, publication_names 'supabase_realtime') it decodes,
//     sending standby status updates. Each INSERT/UPDATE/DELETE becomes a
//     change object that is routed to the subscribed channels. After an
//     error it reconnects with a new slot (changes in between are lost).
//   - the subscription goroutine (subscribeLoop) handles joins in order:
//     parse and validate each channel's bindings, register them and push
//     the §7.6 system messages.
//
// # Behaviour
//
// Database checks (pgcheck.go): every session starts with CheckPostgres's
// checks. An unreachable database fails every join with
// ReasonUnableToConnect (realtime_channel.ex); wal_level other than
// logical or a role without REPLICATION end the session (retried, logged
// at warning level with the fix; postgres subscriptions wait). The
// "supabase_realtime" publication is never created: without it the
// catalog serves subscriptions ("Please check Realtime is enabled…", as
// on the real server), the warning names the CREATE PUBLICATION to run,
// and the stream starts within a second of the publication appearing.
// pgtest creates one FOR ALL TABLES by default (pgtest.Options).
//
// Row-level security (rls.go): subscriptions carry the role and claims of
// the channel token; changes are filtered and cut per role as
// realtime.apply_rls does.
//
// Joins: after the join reply, a join with bindings gets exactly one
// system message, [join_ref,null,topic,"system",{"channel":<sub-topic>,
// "extension":"postgres_changes","message":…,"status":"ok"|"error"}]:
// "Subscribed to PostgreSQL", or the first error of the parse stage (§7.1,
// §7.4: missing schema/table, filter and select parse errors, select on a
// wildcard) or of the database stage (no published table matches → "Please
// check Realtime is enabled…"; unknown column, value not castable, bad
// `is` value, like/match on a non-text column, invalid regex, more than
// 100 `in` values, unknown select column → "An exception happened…" with
// the PostgreSQL error rendered like Postgrex). The join reply is never
// affected. Changes committed after "Subscribed to PostgreSQL" was pushed
// are delivered; changes committed before the subscription never are.
// Joins without "config" use the legacy topic form (§7.9) and receive
// INSERT/UPDATE/DELETE events. With config.broadcast.replication_ready the
// join also gets {"extension":"system","message":"Replication connection
// established",…} once the stream is up. While the replication cannot
// start (the database is reachable: wal_level, REPLICATION), joins wait
// and get MessageUnableToConnect every 5 s. An access_token refresh
// subscribes the bindings again with the new claims (a second
// "Subscribed to PostgreSQL").
//
// Changes: one [null,null,topic,"postgres_changes",{"ids":[…],"data":…}]
// per channel and change listing every matching binding id (one frame per
// distinct select set). data holds schema, table, type, commit_timestamp
// (commit time, UTC, milliseconds), columns (pg_type typname, column
// order), record (INSERT/UPDATE), old_record (UPDATE/DELETE: the replica
// identity, the primary key by default, the whole row with REPLICA
// IDENTITY FULL; only the primary key for DELETE on an RLS table) and
// errors null; INSERT/UPDATE on a table without primary key gives the
// "Error 400: Bad Request, no primary key" form. Values are typed like
// to_jsonb (values.go). Unchanged TOAST values are filled from the old row
// when it has them, else omitted. Filters are evaluated against the new
// row (the old one for DELETE) with PostgreSQL's canonical values
// (filter.go); a condition on a column absent from the row hides it.
//
// Not reproduced: Error 413 (max_record_bytes); the events-per-second
// limit on database changes; roles of tokens that are not JWTs (or have
// no "role") are not switched to: those subscribers see rows as the DSN's
// user; "Replication connection was not established in time"; the retries of
// the real server (validation errors are final here, transient query
// errors are pushed as their text and retried every second); Elixir's
// pretty-printing line breaks in the parameter lists of error messages;
// broadcast from the database (§5.7). Comparisons outside numbers,
// booleans and date/time types are bytewise (exact with the C collation
// pgtest uses; enum order and citext are not honoured); match/imatch use
// Go's RE2; json (not jsonb) values are compacted but not key-normalized;
// composite and range values are JSON strings; keys of data are in a
// fixed order rather than the server's sorted map order (same JSON).
//
// Locks: pgEngine.mu guards the ready state and the job queue; catMu
// serializes use of the catalog connection and guards the type cache;
// subs is guarded by the hub lock (so registering a subscription, pushing
// "Subscribed to PostgreSQL" and routing changes are ordered per channel).
// Order: catMu is never held while taking hub.mu or mu; mu is a leaf.

// Names used in the database.
const (
	// PostgresPublication is the publication changes are streamed from.
	PostgresPublication = "supabase_realtime"
	// postgresSlotPrefix prefixes the temporary replication slot name.
	postgresSlotPrefix = "supabase_realtime_replication_slot_"
)

// System message texts (§7.6, §9.1).
const (
	MessageSubscribedToPostgres   = "Subscribed to PostgreSQL"
	MessageReplicationEstablished = "Replication connection established"
	// MessageUnableToConnect is pushed (status "error", extension
	// "postgres_changes") every few seconds while a join waits for a
	// database that cannot be reached.
	MessageUnableToConnect = "Realtime was unable to connect to the project database"
)

// Timing of the engine.
const (
	pgStandbyInterval  = 10 * time.Second
	pgQueryTimeout     = 10 * time.Second
	pgConnectTimeout   = 10 * time.Second
	pgMaxRetryDelay    = 2 * time.Second
	pgWaitErrorEvery   = 5 * time.Second
	pgSubscribeRetryIn = time.Second
	pgPublicationPoll  = time.Second
)

// ReasonUnableToConnect is the join error while Options.PostgresDSN cannot
// be reached (realtime_channel.ex, {:error, :tenant_database_unavailable}).
const ReasonUnableToConnect = "UnableToConnectToProject: " + MessageUnableToConnect

// errPostgresNotReady is returned while no session is up.
var errPostgresNotReady = errors.New("realtimetest: postgres replication is not ready")

// pgEngine implements postgres_changes for one Server.
type pgEngine struct {
	srv    *Server
	dsn    string
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex // guards the fields below
	ready     bool
	reachable int8 // catalog connection of the last attempt: 0 none yet, 1 made, -1 failed
	noPub     bool // connected, but waiting for the publication to exist
	lastErr   error
	logged    string        // the last session error logged at warning level
	notify    chan struct{} // closed and replaced when ready/lastErr change
	jobs      []pgJob
	jobWake   chan struct{} // capacity 1

	catMu sync.Mutex         // serializes the catalog connection
	cat   *pgx.Conn          // nil while no session is up
	types map[uint32]*pgType // type cache (guarded by catMu)

	// subs holds the channels whose bindings were subscribed, in order.
	// Guarded by srv.hub.mu.
	subs []*pgSubscription
}

// pgJob is one join to subscribe.
type pgJob struct {
	ch               *channel
	replicationReady bool
}

// startPostgres starts the engine when Options.PostgresDSN is set.
func (s *Server) startPostgres() {
	if s.opts.PostgresDSN == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &pgEngine{
		srv:     s,
		dsn:     s.opts.PostgresDSN,
		ctx:     ctx,
		cancel:  cancel,
		notify:  make(chan struct{}),
		jobWake: make(chan struct{}, 1),
		types:   make(map[uint32]*pgType),
	}
	s.pg = e
	s.wg.Add(2)
	go e.run()
	go e.subscribeLoop()
}

// stopPostgres makes the engine's goroutines exit (Close waits for them).
func (s *Server) stopPostgres() {
	if s.pg != nil {
		s.pg.cancel()
	}
}

// postgresJoined is called by handleJoin once the join reply is queued. It
// schedules the postgres_changes subscription of the channel's bindings
// (or of the legacy topic binding, §7.9) and the replication_ready system
// message.
//
// Without PostgresDSN there is no database: bindings get their ids in the
// reply but no system message follows, and replication_ready is answered
// at once (nothing to wait for).
func (s *Server) postgresJoined(ch *channel) {
	replReady := replicationReadyRequested(ch.payload)
	if s.pg == nil {
		if replReady {
			s.pushSystemLocked(ch, "system", "ok", MessageReplicationEstablished, false)
		}
		return
	}
	if len(ch.cfg.bindings) > 0 || replReady {
		s.pg.enqueue(pgJob{ch: ch, replicationReady: replReady})
	}
}

// postgresResubscribe subscribes the channel's bindings again with the
// claims of a refreshed token (realtime_channel.ex, handle_in
// "access_token": postgres_subscribe), which pushes a second "Subscribed
// to PostgreSQL" and replaces the old subscription.
func (s *Server) postgresResubscribe(ch *channel) {
	if s.pg != nil && len(ch.cfg.bindings) > 0 {
		s.pg.enqueue(pgJob{ch: ch})
	}
}

// WaitPostgres blocks until the replication stream is up (changes
// committed from now on are captured) and reports the last connection error
// when ctx ends first. It fails at once without Options.PostgresDSN.
func (s *Server) WaitPostgres(ctx context.Context) error {
	if s.pg == nil {
		return errors.New("realtimetest: no PostgresDSN configured")
	}
	for {
		ready, lastErr, notify := s.pg.state()
		if ready {
			return nil
		}
		select {
		case <-notify:
		case <-s.pg.ctx.Done():
			return errors.New("realtimetest: server closed")
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("%w (last error: %w)", ctx.Err(), lastErr)
			}
			return ctx.Err()
		}
	}
}

// PostgresSubscriptions returns how many joined channels currently have
// subscribed postgres_changes bindings.
func (s *Server) PostgresSubscriptions() int {
	if s.pg == nil {
		return 0
	}
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	n := 0
	for _, sub := range s.pg.subs {
		if s.hub.hasLocked(sub.ch) {
			n++
		}
	}
	return n
}

// replicationReadyRequested reads config.broadcast.replication_ready.
func replicationReadyRequested(payload []byte) bool {
	cfg := objectFields(objectFields(payload)["config"])
	return flexBool(objectFields(cfg["broadcast"])["replication_ready"])
}

// hasLocked reports whether ch is still subscribed; h.mu must be held.
func (h *hub) hasLocked(ch *channel) bool {
	if ts := h.topics[ch.key]; ts != nil {
		for _, s := range ts.subs {
			if s == ch {
				return true
			}
		}
	}
	return false
}

// pushSystem queues a system message to ch if it is still joined:
// [join_ref,null,topic,"system",{"channel","extension","message","status"}].
func (s *Server) pushSystem(ch *channel, extension, status, message string) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.pushSystemLocked(ch, extension, status, message, true)
}

// pushSystemLocked queues the system message; when check is set, only if
// ch is still subscribed (h.mu must then be held).
func (s *Server) pushSystemLocked(ch *channel, extension, status, message string, check bool) {
	if check && !s.hub.hasLocked(ch) {
		return
	}
	p := make([]byte, 0, 96+len(message))
	p = append(p, `{"channel":`...)
	p = jsonscan.AppendQuote(p, strings.TrimPrefix(ch.topic, TopicPrefix))
	p = append(p, `,"extension":`...)
	p = jsonscan.AppendQuote(p, extension)
	p = append(p, `,"message":`...)
	p = jsonscan.AppendQuote(p, message)
	p = append(p, `,"status":`...)
	p = jsonscan.AppendQuote(p, status)
	p = append(p, '}')
	ch.conn.send(0, &frame.Frame{JoinRef: ch.joinRef, Topic: ch.topic, Event: eventSystem, Payload: p})
}

// state returns the ready flag, the last session error and a channel
// closed at the next change.
//
//lint:ignore ST1008 the error sits between the flag and the channel on purpose
func (e *pgEngine) state() (bool, error, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ready, e.lastErr, e.notify
}

func (e *pgEngine) setState(ready bool, err error) {
	e.mu.Lock()
	e.ready = ready
	if err != nil || ready {
		e.lastErr = err
	}
	close(e.notify)
	e.notify = make(chan struct{})
	e.mu.Unlock()
}

func (e *pgEngine) enqueue(j pgJob) {
	e.mu.Lock()
	e.jobs = append(e.jobs, j)
	e.mu.Unlock()
	select {
	case e.jobWake <- struct{}{}:
	default:
	}
}

// nextJob waits for a job; false once the engine stops.
func (e *pgEngine) nextJob() (pgJob, bool) {
	for {
		e.mu.Lock()
		if len(e.jobs) > 0 {
			j := e.jobs[0]
			e.jobs[0] = pgJob{}
			e.jobs = e.jobs[1:]
			e.mu.Unlock()
			return j, true
		}
		e.mu.Unlock()
		select {
		case <-e.jobWake:
		case <-e.ctx.Done():
			return pgJob{}, false
		}
	}
}

// waitReady waits until a session is up. While it waits it pushes
// MessageUnableToConnect to ch every few seconds if connecting failed. It
// returns false when the engine stops or ch leaves.
func (e *pgEngine) waitReady(ch *channel) bool {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	since := time.Now()
	for {
		ready, lastErr, notify := e.state()
		e.mu.Lock()
		noPub := e.noPub
		e.mu.Unlock()
		if ready || noPub {
			return true
		}
		if !e.joined(ch) {
			return false
		}
		if lastErr != nil && time.Since(since) >= pgWaitErrorEvery {
			since = time.Now()
			e.srv.pushSystem(ch, "postgres_changes", "error", MessageUnableToConnect)
		}
		select {
		case <-notify:
		case <-t.C:
		case <-e.ctx.Done():
			return false
		}
	}
}

func (e *pgEngine) joined(ch *channel) bool {
	e.srv.hub.mu.Lock()
	defer e.srv.hub.mu.Unlock()
	return e.srv.hub.hasLocked(ch)
}

// sleep waits d; false when the engine stops first.
func (e *pgEngine) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.ctx.Done():
		return false
	}
}

// withCatalog runs fn with the catalog connection of the current session.
func (e *pgEngine) withCatalog(fn func(ctx context.Context, conn *pgx.Conn) error) error {
	e.catMu.Lock()
	defer e.catMu.Unlock()
	if e.cat == nil {
		return errPostgresNotReady
	}
	ctx, cancel := context.WithTimeout(e.ctx, pgQueryTimeout)
	defer cancel()
	return fn(ctx, e.cat)
}

// run is the replication goroutine: it keeps a session up until Close.
func (e *pgEngine) run() {
	defer e.srv.wg.Done()
	delay := 100 * time.Millisecond
	for {
		wasReady, err := e.session()
		if e.ctx.Err() != nil {
			e.setState(false, nil)
			return
		}
		e.setState(false, err)
		e.warn(err)
		if wasReady {
			delay = 100 * time.Millisecond
		}
		if !e.sleep(delay) {
			return
		}
		delay = min(2*delay, pgMaxRetryDelay)
	}
}

// session connects, sets up the publication and a temporary slot, streams
// until an error or Close, and cleans up. wasReady reports whether the
// stream had started.
func (e *pgEngine) session() (wasReady bool, err error) {
	ctx := e.ctx

	catCfg, err := pgx.ParseConfig(e.dsn)
	if err != nil {
		return false, fmt.Errorf("realtimetest: parse PostgresDSN: %w", err)
	}
	setSessionParams(catCfg.RuntimeParams, "realtime_catalog")
	cctx, cancel := context.WithTimeout(ctx, pgConnectTimeout)
	cat, err := pgx.ConnectConfig(cctx, catCfg)
	cancel()
	if err != nil {
		e.setReachable(false)
		return false, unreachable(err)
	}
	e.setReachable(true)
	var slot string // set once the temporary slot exists
	defer func() {
		e.catMu.Lock()
		e.cat = nil
		e.catMu.Unlock()
		closeCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if slot != "" {
			// The replication connection is closed by now (deferred
			// later, so run earlier): wait until PostgreSQL has released
			// and dropped the temporary slot, so Close leaves none behind.
			waitSlotGone(closeCtx, cat, slot)
		}
		_ = cat.Close(closeCtx)
	}()
	if err := e.checkDatabase(cat); err != nil {
		return false, err
	}

	replCfg, err := pgconn.ParseConfig(e.dsn)
	if err != nil {
		return false, fmt.Errorf("realtimetest: parse PostgresDSN: %w", err)
	}
	setSessionParams(replCfg.RuntimeParams, "realtime_rls")
	replCfg.RuntimeParams["replication"] = "database"
	cctx, cancel = context.WithTimeout(ctx, pgConnectTimeout)
	repl, err := pgconn.ConnectConfig(cctx, replCfg)
	cancel()
	if err != nil {
		return false, err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = repl.Close(closeCtx) // the temporary slot goes with the connection
		cancel()
	}()

	st, err := startStream(ctx, repl)
	if err != nil {
		return false, err
	}
	slot = st.slot
	e.catMu.Lock()
	e.cat = cat
	e.catMu.Unlock()
	e.setState(true, nil)
	e.srv.log.Debug("realtimetest: postgres replication started", "slot", st.slot, "lsn", st.pos.String())
	return true, e.stream(repl, st)
}

// checkDatabase runs CheckPostgres's checks on the catalog connection.
// Without the publication it serves subscriptions from the catalog (they
// get "Please check Realtime is enabled…", as on the real server) and
// polls every pgPublicationPoll until the publication appears; any other
// problem ends the session.
func (e *pgEngine) checkDatabase(cat *pgx.Conn) error {
	for first := true; ; first = false {
		err := checkConn(e.ctx, cat)
		var ce *PostgresCheckError
		if err == nil || !errors.As(err, &ce) || !ce.only(ErrNoPublication) {
			if !first {
				e.setNoPublication(nil, false)
			}
			return err
		}
		if first {
			e.warn(err)
			e.setNoPublication(cat, true)
			e.mu.Lock()
			e.lastErr = err
			e.mu.Unlock()
		}
		if !e.sleep(pgPublicationPoll) {
			return e.ctx.Err()
		}
	}
}

// setNoPublication publishes the catalog connection for subscriptions
// while the publication is missing (on) and withdraws it (off).
func (e *pgEngine) setNoPublication(cat *pgx.Conn, on bool) {
	e.catMu.Lock()
	e.cat = cat
	e.catMu.Unlock()
	e.mu.Lock()
	e.noPub = on
	close(e.notify)
	e.notify = make(chan struct{})
	e.mu.Unlock()
}

// setReachable records the outcome of a catalog connection attempt.
func (e *pgEngine) setReachable(ok bool) {
	e.mu.Lock()
	e.reachable = -1
	if ok {
		e.reachable = 1
	}
	close(e.notify)
	e.notify = make(chan struct{})
	e.mu.Unlock()
}

// unavailable reports whether the database could not be reached on the
// last attempt (waiting for the first attempt, at most until ctx ends):
// joins then fail with ReasonUnableToConnect, like the real server's
// Connect.lookup_or_start_connection.
func (e *pgEngine) unavailable(ctx context.Context) bool {
	for {
		e.mu.Lock()
		r, notify := e.reachable, e.notify
		e.mu.Unlock()
		if r != 0 {
			return r < 0
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return true
		case <-e.ctx.Done():
			return true
		}
	}
}

// warn logs a session error at warning level, once per distinct text.
func (e *pgEngine) warn(err error) {
	msg := err.Error()
	e.mu.Lock()
	dup := msg == e.logged
	e.logged = msg
	e.mu.Unlock()
	if !dup {
		e.srv.log.Warn(msg)
	}
}

// waitSlotGone polls until the replication slot no longer exists.
func waitSlotGone(ctx context.Context, cat *pgx.Conn, slot string) {
	for {
		var n int
		if err := cat.QueryRow(ctx, `select count(*) from pg_replication_slots where slot_name = $1`, slot).Scan(&n); err != nil || n == 0 {
			return
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// setSessionParams fixes the GUCs every value conversion relies on.
func setSessionParams(p map[string]string, app string) {
	p["application_name"] = app
	p["TimeZone"] = "UTC"
	p["DateStyle"] = "ISO, YMD"
	p["IntervalStyle"] = "postgres"
	p["extra_float_digits"] = "1"
	p["bytea_output"] = "hex"
}

// randomSlotName returns a unique temporary slot name.
func randomSlotName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return postgresSlotPrefix + hex.EncodeToString(b[:])
}
