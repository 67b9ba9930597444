package realtimetest_test

import (
	"context"
	"log/slog"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/supabase-go/realtime/internal/leakcheck"
	"github.com/supabase-go/realtime/internal/logbuf"
	"github.com/supabase-go/realtime/test/pgtest"
	"github.com/supabase-go/realtime/test/realtimetest"
)

// A database that is reachable but cannot stream: the check names every
// problem with its fix, the server logs it at warning level (not debug),
// joins still succeed (the database is reachable) and postgres
// subscriptions wait with "Realtime was unable to connect to the project
// database".
var _ = Describe("postgres_changes on a database that cannot replicate", Ordered, func() {
	var cluster *pgtest.Cluster

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = pgtest.Start(ctx, pgtest.Options{NoPublication: true, Settings: map[string]string{"wal_level": "replica"}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(cluster.Stop()).To(Succeed()) })
	}, NodeTimeout(time.Minute))

	It("says what is wrong and how to fix it", func(ctx SpecContext) {
		err := realtimetest.CheckPostgres(ctx, cluster.DSN())
		Expect(err).To(MatchError(realtimetest.ErrWalLevel))
		Expect(err).To(MatchError(realtimetest.ErrNoPublication))
		Expect(err).NotTo(MatchError(realtimetest.ErrNoReplicationPrivilege), "postgres is a superuser")
		Expect(err.Error()).To(ContainSubstring("wal_level is not logical (it is replica); fix: ALTER SYSTEM SET wal_level = logical"))
		Expect(err.Error()).To(ContainSubstring("fix: CREATE PUBLICATION supabase_realtime FOR TABLE"))

		var logs logbuf.Buffer
		srv := realtimetest.NewServer(realtimetest.Options{
			PostgresDSN: cluster.DSN(),
			Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		defer func() {
			srv.Close()
			Eventually(leakcheck.Goroutines, pgWait).Should(BeEmpty())
		}()
		Eventually(logs.String, pgWait).Should(And(ContainSubstring("level=WARN"), ContainSubstring("wal_level is not logical")))
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		Expect(srv.WaitPostgres(short)).To(MatchError(realtimetest.ErrWalLevel))

		c := dial(srv, "2.0.0", nil)
		defer c.close()
		c.joinOK("realtime:wait", `{"config":{"postgres_changes":[{"event":"*","schema":"public"}]}}`)
		sys := expectPG(c, "unable to connect", isEvent("realtime:wait", "system"))
		Expect(string(sys.Payload)).To(Equal(systemPayload("wait", "error", realtimetest.MessageUnableToConnect)))
	}, NodeTimeout(time.Minute))
})
