package realtimetest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// What CheckPostgres finds wrong with a database, for errors.Is.
var (
	// ErrPostgresUnreachable: no connection could be made (bad DSN, server
	// down, wrong port, authentication failed).
	ErrPostgresUnreachable = errors.New("realtimetest: cannot connect to the database")
	// ErrWalLevel: wal_level is not "logical".
	ErrWalLevel = errors.New("realtimetest: wal_level is not logical")
	// ErrNoReplicationPrivilege: the DSN's role is neither a superuser nor
	// has REPLICATION.
	ErrNoReplicationPrivilege = errors.New("realtimetest: the role may not replicate")
	// ErrNoPublication: the "supabase_realtime" publication does not exist.
	ErrNoPublication = errors.New("realtimetest: the supabase_realtime publication does not exist")
)

// PostgresCheckError lists every problem CheckPostgres found, each with
// how to fix it. errors.Is matches each problem's sentinel.
type PostgresCheckError struct {
	Problems []PostgresProblem
}

// PostgresProblem is one finding of CheckPostgres.
type PostgresProblem struct {
	Err error  // one of the sentinels above
	Fix string // what to do about it
	// Detail is the driver's error for ErrPostgresUnreachable (it never
	// holds the password).
	Detail string
}

func (e *PostgresCheckError) Error() string {
	var b strings.Builder
	b.WriteString("realtimetest: the PostgresDSN database cannot serve postgres_changes:")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(strings.TrimPrefix(p.Err.Error(), "realtimetest: "))
		if p.Detail != "" {
			b.WriteString(" (")
			b.WriteString(p.Detail)
			b.WriteString(")")
		}
		b.WriteString("; fix: ")
		b.WriteString(p.Fix)
	}
	return b.String()
}

// Unwrap returns the sentinels of the problems.
func (e *PostgresCheckError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Err
	}
	return out
}

// has reports whether only problems in want were found.
func (e *PostgresCheckError) only(want ...error) bool {
	for _, p := range e.Problems {
		found := false
		for _, w := range want {
			if p.Err == w {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// CheckPostgres connects to dsn and checks what postgres_changes needs
// (Options.PostgresDSN): a reachable database, wal_level=logical, a role
// with REPLICATION (or a superuser) and the "supabase_realtime"
// publication. It returns nil or a *PostgresCheckError naming every
// problem and its fix. The server runs the same check at every session
// start (and logs it at warning level); cmd/realtime-server runs it at
// start.
func CheckPostgres(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return &PostgresCheckError{Problems: []PostgresProblem{{
			Err: ErrPostgresUnreachable, Detail: "the DSN does not parse",
			Fix: `use a URL such as "postgres://user:password@127.0.0.1:5432/postgres?sslmode=disable"`,
		}}}
	}
	cctx, cancel := context.WithTimeout(ctx, pgConnectTimeout)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return unreachable(err)
	}
	defer conn.Close(context.Background())
	return checkConn(ctx, conn)
}

func unreachable(err error) *PostgresCheckError {
	return &PostgresCheckError{Problems: []PostgresProblem{{
		Err: ErrPostgresUnreachable, Detail: err.Error(),
		Fix: "check the host, port, user and password of the DSN and that PostgreSQL is running",
	}}}
}

// checkConn runs the checks on an open connection; nil when all pass.
func checkConn(ctx context.Context, conn *pgx.Conn) error {
	qctx, cancel := context.WithTimeout(ctx, pgQueryTimeout)
	defer cancel()
	var (
		walLevel, user string
		mayReplicate   bool
		published      bool
	)
	err := conn.QueryRow(qctx, `
		select current_setting('wal_level'), current_user::text,
		       coalesce((select rolsuper or rolreplication from pg_roles where rolname = current_user), false),
		       exists(select 1 from pg_publication where pubname = $1)`, PostgresPublication).
		Scan(&walLevel, &user, &mayReplicate, &published)
	if err != nil {
		return unreachable(err)
	}
	var e PostgresCheckError
	if walLevel != "logical" {
		e.Problems = append(e.Problems, PostgresProblem{
			Err: ErrWalLevel, Detail: "it is " + walLevel,
			Fix: "ALTER SYSTEM SET wal_level = logical (or wal_level = logical in postgresql.conf), then restart PostgreSQL",
		})
	}
	if !mayReplicate {
		e.Problems = append(e.Problems, PostgresProblem{
			Err: ErrNoReplicationPrivilege, Detail: "role " + user,
			Fix: fmt.Sprintf("ALTER ROLE %s WITH REPLICATION (the role also needs SET ROLE to the roles of the JWTs, e.g. GRANT anon, authenticated TO %s)", pgx.Identifier{user}.Sanitize(), pgx.Identifier{user}.Sanitize()),
		})
	}
	if !published {
		e.Problems = append(e.Problems, PostgresProblem{
			Err: ErrNoPublication,
			Fix: "CREATE PUBLICATION supabase_realtime FOR TABLE <your tables> (or FOR ALL TABLES); until then every subscription gets \"Unable to subscribe to changes … Please check Realtime is enabled…\"",
		})
	}
	if len(e.Problems) == 0 {
		return nil
	}
	return &e
}
