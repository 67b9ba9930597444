// Package pgtest runs a throwaway PostgreSQL server for tests and demos.
//
//	cluster, err := pgtest.Start(ctx, pgtest.Options{})
//	if err != nil { … }
//	defer cluster.Stop()
//	conn, err := pgx.Connect(ctx, cluster.DSN())
//
// Start runs initdb in a fresh temporary directory (trust authentication,
// UTF8, C locale, superuser "postgres"), then starts postgres listening on
// 127.0.0.1 at a free port with its unix socket inside that directory and
// waits until it accepts connections. The server is configured for speed
// and for logical replication: fsync=off, full_page_writes=off,
// wal_level=logical, generous max_replication_slots / max_wal_senders,
// TimeZone=UTC, DateStyle=ISO.
//
// Like the database of a Supabase project, the "postgres" database gets a
// "supabase_realtime" publication (FOR ALL TABLES here, so every table a
// test creates is published; PostgreSQL then refuses UPDATE and DELETE on
// tables without primary key or replica identity). Options.NoPublication
// leaves it out, for tests that create their own (CreatePublication) or
// check what a server does without one.
//
// Options.DataDir keeps the data directory between runs (initdb only when
// it holds no cluster yet; Stop leaves it in place), for a local
// development database.
//
// PostgreSQL refuses to run as root. When the test process runs as root
// (os.Geteuid() == 0) the binaries are run as the "postgres" system user
// (uid/gid looked up with os/user) and the temporary directory is chowned to
// it.
//
// Binaries are looked up in Options.BinDir, then on PATH, then in
// /usr/lib/postgresql/<version>/bin (highest version first). A missing
// binary is reported as, e.g.,
// "pgtest: initdb not found on PATH or in /usr/lib/postgresql/*/bin; install postgresql-15".
//
// # Concurrency
//
// A Cluster's methods are safe for concurrent use; the cluster itself is a
// separate process, so tests in parallel may share it (give each its own
// tables or database, see DSNFor).
//
// # Lifecycle
//
// Stop shuts the server down (SIGINT, then SIGKILL after a grace period),
// removes the temporary directory and returns once the process has exited;
// it is idempotent and safe for concurrent use. The only goroutine a Cluster
// owns waits for the postgres process and has exited when Stop returns. On
// Linux the postmaster also gets SIGKILL if the test process dies; the
// directory it leaves behind is removed by a later Start once it is older
// than ten minutes.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Defaults applied to zero Options fields.
const (
	// DefaultStartTimeout bounds initdb plus server startup.
	DefaultStartTimeout = 60 * time.Second
	// DefaultStopTimeout is how long Stop waits after SIGINT before SIGKILL.
	DefaultStopTimeout = 10 * time.Second
	// SuperUser is the superuser created by initdb.
	SuperUser = "postgres"
	// Database is the database DSN points to.
	Database = "postgres"
)

// Options configures Start. The zero value is ready to use.
type Options struct {
	// BinDir, when set, is searched first for initdb and postgres.
	BinDir string
	// BaseDir is where the temporary directory is created. Default: the
	// system temporary directory.
	BaseDir string
	// Settings are extra postgresql.conf settings (name → value), applied
	// last, so they override the defaults (e.g. "max_connections": "50").
	Settings map[string]string
	// StartTimeout bounds the whole Start call in addition to its context.
	// Default: 60 s.
	StartTimeout time.Duration
	// NoPublication skips creating the "supabase_realtime" publication
	// (FOR ALL TABLES) in the "postgres" database. Default: false (the
	// publication is created unless it exists).
	NoPublication bool
	// DataDir, when set, is the data directory, kept across runs: initdb
	// runs only if it holds no cluster (no PG_VERSION file), and Stop
	// leaves it. It must not be in use by another server; when running as
	// root, the "postgres" user must be able to reach it. Default: ""
	// (a data directory inside the temporary directory, removed by Stop).
	DataDir string
}

// Publication is the publication a Supabase project streams changes from.
const Publication = "supabase_realtime"

// Cluster is a running throwaway PostgreSQL server. Create it with Start,
// stop it with Stop.
type Cluster struct {
	dir     string
	dataDir string
	sockDir string
	logPath string
	port    int
	binDir  string

	cmd    *exec.Cmd
	logF   *os.File
	exited chan struct{} // closed when the postgres process has exited

	kept bool // dataDir is Options.DataDir, left by Stop

	stopOnce sync.Once
	stopErr  error
}

// DSN returns a URL connection string for the superuser on the "postgres"
// database over TCP, e.g. "postgres://postgres@127.0.0.1:54321/postgres?sslmode=disable".
func (c *Cluster) DSN() string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", SuperUser, c.port, Database)
}

// DSNFor returns DSN() for another database of the cluster.
func (c *Cluster) DSNFor(database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", SuperUser, c.port, database)
}

// Port returns the TCP port the server listens on (127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// Dir returns the temporary directory holding the data directory, the
// socket directory and the server log.
func (c *Cluster) Dir() string { return c.dir }

// SocketDir returns the directory of the server's unix socket.
func (c *Cluster) SocketDir() string { return c.sockDir }

// LogPath returns the path of the server log file (removed by Stop).
func (c *Cluster) LogPath() string { return c.logPath }

// Start creates and starts a throwaway cluster. It fails if a binary is
// missing, initdb or postgres fails, or the server does not accept
// connections before ctx ends or Options.StartTimeout elapses. On failure
// everything it created is removed.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	initdb, err := findBinary("initdb", opts.BinDir)
	if err != nil {
		return nil, err
	}
	postgres, err := findBinary("postgres", opts.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}

	sweepStale(opts.BaseDir)
	dir, err := os.MkdirTemp(opts.BaseDir, "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: create temp dir: %w", err)
	}
	c := &Cluster{
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		kept:    opts.DataDir != "",
		sockDir: filepath.Join(dir, "sock"),
		logPath: filepath.Join(dir, "postgres.log"),
		binDir:  filepath.Dir(postgres),
		exited:  make(chan struct{}),
	}
	fail := func(err error) (*Cluster, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := os.Mkdir(c.sockDir, 0o700); err != nil {
		return fail(fmt.Errorf("pgtest: %w", err))
	}
	if cred != nil {
		if err := chownTree(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(fmt.Errorf("pgtest: chown %s to the postgres user: %w", dir, err))
		}
	}

	if c.kept {
		abs, err := filepath.Abs(opts.DataDir)
		if err != nil {
			return fail(fmt.Errorf("pgtest: data directory: %w", err))
		}
		c.dataDir = abs
		if err := prepareDataDir(abs, cred); err != nil {
			return fail(err)
		}
	}
	if err := c.initdb(ctx, initdb, cred); err != nil {
		return fail(err)
	}

	// postgres; retry when the chosen free port was taken meanwhile.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return fail(fmt.Errorf("pgtest: pick a free port: %w", err))
		}
		c.port = port
		err = c.startServer(postgres, cred, opts.Settings)
		if err == nil {
			err = c.waitReady(ctx)
			if err == nil && !opts.NoPublication {
				err = c.CreatePublication(ctx, Database)
			}
			if err == nil {
				return c, nil
			}
			c.kill()
		}
		if attempt < 3 && errors.Is(err, errPortInUse) && ctx.Err() == nil {
			continue
		}
		return fail(err)
	}
}

// prepareDataDir creates a kept data directory (mode 0700, owned by the
// postgres user when running as root).
func prepareDataDir(dir string, cred *syscall.Credential) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pgtest: data directory: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: chown %s to the postgres user: %w", dir, err)
		}
	}
	return nil
}

// initdb creates the cluster unless the data directory already holds one.
func (c *Cluster) initdb(ctx context.Context, initdb string, cred *syscall.Credential) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		return nil
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, initdb,
		"-D", c.dataDir,
		"-U", SuperUser,
		"-A", "trust",
		"-E", "UTF8",
		"--locale=C",
		"--no-sync",
	)
	cmd.Env = childEnv()
	cmd.Dir = c.dir
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = sysProcAttr(cred)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: initdb failed: %w\n%s", err, tail(out.Bytes(), 4000))
	}
	return nil
}

// CreatePublication creates the "supabase_realtime" publication in the
// given database of the cluster: FOR ALL TABLES without tables, else FOR
// TABLE with the given (possibly schema-qualified, already quoted where
// needed) names. An existing publication is left as it is.
func (c *Cluster) CreatePublication(ctx context.Context, database string, tables ...string) error {
	conn, err := pgconn.Connect(ctx, c.DSNFor(database))
	if err != nil {
		return fmt.Errorf("pgtest: create publication: %w", err)
	}
	defer conn.Close(context.Background())
	what := "for all tables"
	if len(tables) > 0 {
		what = "for table " + strings.Join(tables, ", ")
	}
	sql := `do $$ begin
		if not exists (select 1 from pg_publication where pubname = '` + Publication + `') then
			create publication ` + Publication + ` ` + what + `;
		end if;
	end $$`
	if _, err := conn.Exec(ctx, sql).ReadAll(); err != nil {
		return fmt.Errorf("pgtest: create publication: %w", err)
	}
	return nil
}

// libGlob is where distribution packages install the binaries.
var libGlob = "/usr/lib/postgresql/*/bin"

var errPortInUse = errors.New("pgtest: port already in use")

// startServer starts the postmaster; it returns errPortInUse when the
// server exited at once because the port was taken.
func (c *Cluster) startServer(postgres string, cred *syscall.Credential, extra map[string]string) error {
	settings := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    strconv.Itoa(c.port),
		"unix_socket_directories": c.sockDir,
		"wal_level":               "logical",
		"max_replication_slots":   "64",
		"max_wal_senders":         "64",
		"max_connections":         "200",
		"fsync":                   "off",
		"full_page_writes":        "off",
		"synchronous_commit":      "on",
		"shared_buffers":          "32MB",
		"TimeZone":                "UTC",
		"DateStyle":               "ISO, YMD",
		"logging_collector":       "off",
		"log_min_messages":        "warning",
		"max_worker_processes":    "16",
		"autovacuum":              "off",
		"wal_sender_timeout":      "0",
	}
	for k, v := range extra {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []string{"-D", c.dataDir}
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}

	logF, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: open log: %w", err)
	}
	// Not CommandContext: the server must outlive Start's context.
	cmd := exec.Command(postgres, args...)
	cmd.Env = childEnv()
	cmd.Dir = c.dir
	cmd.Stdout = logF // *os.File: no copying goroutines
	cmd.Stderr = logF
	cmd.SysProcAttr = sysProcAttr(cred)
	if err := cmd.Start(); err != nil {
		_ = logF.Close()
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	c.cmd, c.logF = cmd, logF
	c.exited = make(chan struct{})
	exited := c.exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return nil
}

// waitReady polls until the server accepts a connection.
func (c *Cluster) waitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		select {
		case <-c.exited:
			log := c.logTail()
			if strings.Contains(log, "Address already in use") || strings.Contains(log, "could not bind") {
				return errPortInUse
			}
			return fmt.Errorf("pgtest: postgres exited during startup\n%s", log)
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgconn.Connect(cctx, c.DSN()+"&connect_timeout=2")
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgtest: postgres did not accept connections: %w (last error: %v)\n%s", ctx.Err(), lastErr, c.logTail())
		case <-c.exited:
		case <-tick.C:
		}
	}
}

func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return ""
	}
	return string(tail(b, 4000))
}

// Stop shuts the server down, waits for it to exit and removes the
// temporary directory. It is idempotent; every call returns the result of
// the first.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.stopErr = c.stop()
	})
	return c.stopErr
}

func (c *Cluster) stop() error {
	if c.cmd != nil && c.cmd.Process != nil {
		// SIGINT = fast shutdown: disconnect clients, shut down cleanly.
		_ = c.cmd.Process.Signal(os.Interrupt)
		t := time.NewTimer(DefaultStopTimeout)
		select {
		case <-c.exited:
		case <-t.C:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
		t.Stop()
	}
	if c.logF != nil {
		_ = c.logF.Close()
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("pgtest: remove %s: %w", c.dir, err)
	}
	return nil
}

// kill stops a server that failed to come up.
func (c *Cluster) kill() {
	if c.cmd != nil && c.cmd.Process != nil {
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	if c.logF != nil {
		_ = c.logF.Close()
	}
}

// staleAge is how old a leftover directory must be before Start removes it.
const staleAge = 10 * time.Minute

// sweepStale removes the directories of clusters whose test process died
// without Stop (the postmaster was killed with it, see sysProcAttr): old
// "pgtest-*" directories without a live postmaster. Errors are ignored.
func sweepStale(base string) {
	if base == "" {
		base = os.TempDir()
	}
	dirs, _ := filepath.Glob(filepath.Join(base, "pgtest-*"))
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() || time.Since(st.ModTime()) < staleAge {
			continue
		}
		if pidAlive(filepath.Join(d, "data", "postmaster.pid")) {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

// pidAlive reports whether the postmaster.pid file names a live process.
func pidAlive(pidFile string) bool {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM)
}

// findBinary looks name up in binDir, on PATH, then in
// /usr/lib/postgresql/*/bin, highest version first.
func findBinary(name, binDir string) (string, error) {
	if binDir != "" {
		p := filepath.Join(binDir, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob(libGlob)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("pgtest: %s not found on PATH or in /usr/lib/postgresql/*/bin; install postgresql-15", name)
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// credential returns the postgres user's credential when running as root,
// nil otherwise.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root and the \"postgres\" system user does not exist (PostgreSQL refuses to run as root): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: postgres gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// childEnv is the environment without PG* variables (which would change
// initdb/postgres behaviour) and with a C locale.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LANG=C", "LC_ALL=C")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
