// Package fleetrig runs a fleet of member processes (package fleet, the
// automanaged provider) against a local Realtime server on a real
// PostgreSQL (package test/realtimetest/devenv), for the multi-process
// specs, the fleet demo and the fleet benchmark.
//
// Each member is the program in ./member, built once per Rig and started as
// a child process; it reports what it does as JSON lines (Line) on stdout,
// which the Rig collects with the member's index and the time they arrived.
// Rows are inserted into public.fleet_events (Table); subscription i
// (SubID(i)) receives the INSERTs whose column sub is i.
//
// # Concurrency
//
// A Rig's methods are safe for concurrent use. Lines are collected by one
// goroutine per member process, which exits when the process does.
//
// # Lifecycle
//
// Start builds the member program and starts the database and the server;
// StartMember starts members. Kill sends SIGKILL, Stop SIGTERM (a graceful
// Node.Close). Close kills every member still running, waits for their
// reader goroutines, then stops the server and the database.
package fleetrig

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supabase-go/realtime/fleet"

	"github.com/supabase-go/realtime/test/realtimetest/devenv"
)

// Table is the table the members subscribe to.
const Table = "fleet_events"

// SubID is the ID of subscription i.
func SubID(i int) string { return fmt.Sprintf("sub-%02d", i) }

// Line is one line a member prints.
type Line struct {
	Ev     string `json:"ev"`               // ready, acquired, released, status, system, change, error, mem, closed
	ID     string `json:"id,omitempty"`     // subscription
	State  string `json:"state,omitempty"`  // status: the channel state; system: extension:status
	Row    int64  `json:"row,omitempty"`    // change: fleet_events.id
	Missed int64  `json:"missed,omitempty"` // acquired, status: MissedSince, unix ns
	T      int64  `json:"t"`                // when, unix ns (the member's clock: the same machine)
	Err    string `json:"err,omitempty"`
	Member string `json:"member,omitempty"` // ready: cluster address
	PID    int    `json:"pid,omitempty"`    // ready
	Heap   uint64 `json:"heap,omitempty"`   // mem: HeapAlloc after GC
	Owned  int    `json:"owned,omitempty"`  // mem: subscriptions owned
}

// Event is a Line from member Member (a slot), printed by its process
// number Proc (each process started gets the next number).
type Event struct {
	Line
	Member int
	Proc   int
}

// Time is when the line's event happened.
func (e Event) Time() time.Time { return time.Unix(0, e.T) }

// Options configures a Rig. Zero fields take the defaults in brackets.
type Options struct {
	Subs     int           // subscriptions [20]
	Refresh  time.Duration // automanaged refresh interval [500ms]
	Ensure   time.Duration // fleet EnsureInterval [500ms]
	Coverage time.Duration // fleet CoverageInterval [250ms]
	Mem      time.Duration // heap sample interval [0: none]
	// Slots is the number of member slots, each with fixed ports that
	// every member lists as automanaged hosts [3].
	Slots int
	// Stderr receives the members' stderr [discarded].
	Stderr *os.File
}

// Addr is the cluster address of the process running in slot i ("" if
// none is).
func (r *Rig) Addr(i int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.members[i]; m != nil && !m.exited() {
		return m.Addr
	}
	return ""
}

// Member is a member process.
type Member struct {
	Index int
	Addr  string // cluster address, from its ready line
	cmd   *exec.Cmd
	proc  int           // process number (Event.Proc)
	done  chan struct{} // closed when its reader goroutine has exited
}

// Rig is a running database, server and member processes.
type Rig struct {
	Env  *devenv.Env
	opts Options
	bin  string
	dir  string
	pool *pgxpool.Pool

	ports   [][2]int // per slot: remote, automanaged
	hosts   string
	readers sync.WaitGroup

	mu      sync.Mutex
	members map[int]*Member
	procs   int
	events  []Event
}

// Start builds the member program and starts the database and server.
func Start(ctx context.Context, opts Options) (*Rig, error) {
	if opts.Subs == 0 {
		opts.Subs = 20
	}
	if opts.Refresh == 0 {
		opts.Refresh = 500 * time.Millisecond
	}
	if opts.Ensure == 0 {
		opts.Ensure = 500 * time.Millisecond
	}
	if opts.Coverage == 0 {
		opts.Coverage = 250 * time.Millisecond
	}
	if opts.Slots == 0 {
		opts.Slots = 3
	}
	dir, err := os.MkdirTemp("", "fleetrig-")
	if err != nil {
		return nil, err
	}
	r := &Rig{opts: opts, dir: dir, bin: filepath.Join(dir, "member"), members: map[int]*Member{}}
	if err := r.build(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	var hosts []string
	for i := 0; i < opts.Slots; i++ {
		p, err := freePorts(2)
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		r.ports = append(r.ports, [2]int{p[0], p[1]})
		hosts = append(hosts, fmt.Sprintf("127.0.0.1:%d", p[1]))
	}
	r.hosts = strings.Join(hosts, ",")
	env, err := devenv.Start(ctx, devenv.Options{TestLimits: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	r.Env = env
	if r.pool, err = pgxpool.New(ctx, env.DSN); err != nil {
		r.Close()
		return nil, err
	}
	if _, err := r.pool.Exec(ctx, `create table `+Table+` (
		id bigserial primary key,
		sub int not null,
		at timestamptz not null default clock_timestamp())`); err != nil {
		r.Close()
		return nil, fmt.Errorf("fleetrig: %w", err)
	}
	return r, nil
}

// build compiles ./member with the go command on PATH, inside the
// repository's workspace.
func (r *Rig) build(ctx context.Context) error {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return errors.New("fleetrig: cannot locate the member program")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", r.bin, "./member")
	cmd.Dir = filepath.Dir(file)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fleetrig: building the member program: %w\n%s", err, out)
	}
	return nil
}

// StartMember starts a member in slot i (its ports) and waits for its
// ready line.
func (r *Rig) StartMember(ctx context.Context, i int) (*Member, error) {
	return r.StartMemberSubs(ctx, i, r.opts.Subs)
}

// StartMemberSubs starts a member with the first subs subscriptions only,
// for a member alone (members of one fleet must have the same ones).
func (r *Rig) StartMemberSubs(ctx context.Context, i, subs int) (*Member, error) {
	if i < 0 || i >= len(r.ports) {
		return nil, fmt.Errorf("fleetrig: no slot %d", i)
	}
	r.mu.Lock()
	if m := r.members[i]; m != nil && !m.exited() {
		r.mu.Unlock()
		return nil, fmt.Errorf("fleetrig: slot %d is running", i)
	}
	r.mu.Unlock()
	args := []string{
		"-url", r.Env.URL, "-key", r.Env.AnonKey,
		"-port", strconv.Itoa(r.ports[i][0]), "-automanaged-port", strconv.Itoa(r.ports[i][1]),
		"-hosts", r.hosts, "-subs", strconv.Itoa(subs),
		"-refresh", r.opts.Refresh.String(), "-ensure", r.opts.Ensure.String(),
		"-coverage", r.opts.Coverage.String(), "-mem", r.opts.Mem.String(),
	}
	cmd := exec.Command(r.bin, args...)
	cmd.Stderr = r.opts.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m := &Member{Index: i, cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	r.mu.Lock()
	r.procs++
	m.proc = r.procs
	r.members[i] = m
	r.mu.Unlock()
	r.readers.Add(1)
	go func() {
		defer r.readers.Done()
		defer close(m.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l Line
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			if l.Ev == "ready" {
				select {
				case ready <- l.Member:
				default:
				}
			}
			r.mu.Lock()
			r.events = append(r.events, Event{Line: l, Member: i, Proc: m.proc})
			r.mu.Unlock()
		}
		_ = cmd.Wait()
	}()
	select {
	case addr := <-ready:
		m.Addr = addr
		return m, nil
	case <-m.done:
		return nil, fmt.Errorf("fleetrig: member %d exited before it was ready (%v)", i, cmd.ProcessState)
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-m.done
		return nil, ctx.Err()
	}
}

func (m *Member) exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL to member i, waits for it to exit and returns when
// the signal was sent.
func (r *Rig) Kill(i int) (time.Time, error) {
	t, err := r.signal(i, syscall.SIGKILL)
	if err == nil {
		r.wait(i)
	}
	return t, err
}

// Stop sends SIGTERM to member i (a graceful Close) and waits for it to
// exit.
func (r *Rig) Stop(i int) (time.Time, error) {
	t, err := r.signal(i, syscall.SIGTERM)
	if err == nil {
		r.wait(i)
	}
	return t, err
}

func (r *Rig) wait(i int) {
	r.mu.Lock()
	m := r.members[i]
	r.mu.Unlock()
	<-m.done
}

func (r *Rig) signal(i int, sig syscall.Signal) (time.Time, error) {
	r.mu.Lock()
	m := r.members[i]
	r.mu.Unlock()
	if m == nil || m.exited() {
		return time.Time{}, fmt.Errorf("fleetrig: member %d is not running", i)
	}
	t := time.Now()
	return t, m.cmd.Process.Signal(sig)
}

// Running reports whether member i is running.
func (r *Rig) Running(i int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[i]
	return m != nil && !m.exited()
}

// Insert inserts a row for subscription sub and returns its id and
// commit-side timestamp (clock_timestamp() at insert).
func (r *Rig) Insert(ctx context.Context, sub int) (id int64, at time.Time, err error) {
	err = r.pool.QueryRow(ctx, `insert into `+Table+` (sub) values ($1) returning id, at`, sub).Scan(&id, &at)
	return id, at, err
}

// Events returns a copy of every line collected so far.
func (r *Rig) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Owners returns, per subscription, the running members that hold it
// (acquired and not released since by the process now running in the
// slot), from the collected lines.
func (r *Rig) Owners() map[string][]int {
	evs := r.Events()
	held := map[string]map[int]int{} // id → proc → slot
	for _, e := range evs {
		switch e.Ev {
		case "acquired":
			if held[e.ID] == nil {
				held[e.ID] = map[int]int{}
			}
			held[e.ID][e.Proc] = e.Member
		case "released":
			delete(held[e.ID], e.Proc)
		}
	}
	r.mu.Lock()
	current := map[int]bool{}
	for _, m := range r.members {
		if !m.exited() {
			current[m.proc] = true
		}
	}
	r.mu.Unlock()
	out := map[string][]int{}
	for id, ps := range held {
		for p, slot := range ps {
			if current[p] {
				out[id] = append(out[id], slot)
			}
		}
	}
	return out
}

// Placement computes, with protoactor-go's rendezvous hashing over the
// running members' addresses (as the disthash identity lookup places
// identities of kind fleet.DefaultKind), the slot that should own each
// subscription.
func (r *Rig) Placement() map[string]int {
	var members []*cluster.Member
	slotOf := map[string]int{}
	r.mu.Lock()
	for i, m := range r.members {
		if m.exited() || m.Addr == "" {
			continue
		}
		host, port, err := net.SplitHostPort(m.Addr)
		if err != nil {
			continue
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			continue
		}
		members = append(members, &cluster.Member{Id: m.Addr, Host: host, Port: int32(p), Kinds: []string{fleet.DefaultKind}})
		slotOf[m.Addr] = i
	}
	r.mu.Unlock()
	rdv := cluster.NewRendezvous()
	rdv.UpdateMembers(members)
	out := map[string]int{}
	for k := 0; k < r.opts.Subs; k++ {
		id := SubID(k)
		out[id] = slotOf[rdv.GetByClusterIdentity(cluster.NewClusterIdentity(id, fleet.DefaultKind))]
	}
	return out
}

// Close kills the members still running and stops the server and the
// database.
func (r *Rig) Close() {
	r.mu.Lock()
	for _, m := range r.members {
		if !m.exited() {
			_ = m.cmd.Process.Kill()
		}
	}
	r.mu.Unlock()
	r.readers.Wait()
	if r.pool != nil {
		r.pool.Close()
	}
	if r.Env != nil {
		_ = r.Env.Close()
	}
	_ = os.RemoveAll(r.dir)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
