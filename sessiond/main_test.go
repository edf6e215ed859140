package sessiond

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/sessiond/pgtest"
)

// One throwaway PostgreSQL for the package; each test has its own tenants.
var testDSN string

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	pg, err := pgtest.Start(ctx)
	cancel()
	if err != nil {
		// A failure, not a skip: these tests need the real database.
		fmt.Fprintln(os.Stderr, "sessiond tests: throwaway PostgreSQL:", err)
		os.Exit(1)
	}
	// SESSIOND_TEST_DSN_EXTRA adds connection settings, e.g. " default_query_exec_mode=exec"
	// (no prepared statements, as behind PgBouncer in transaction mode: docs/FLEET.md).
	testDSN = pg.DSN() + os.Getenv("SESSIOND_TEST_DSN_EXTRA")
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

var tenantSeq atomic.Int64

// openService opens a Service on the test database with short TTLs allowed.
func openService(t *testing.T) *Service {
	t.Helper()
	s, err := Open(context.Background(), testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.Limits.MinTTL = 50 * time.Millisecond
	return s
}

// newTenant adds a tenant with a unique name and returns its token.
func newTenant(t *testing.T, s *Service, mode string) (name, token string) {
	t.Helper()
	name = fmt.Sprintf("t%d_%d", os.Getpid(), tenantSeq.Add(1))
	token, err := s.AddTenant(context.Background(), name, mode)
	if err != nil {
		t.Fatal(err)
	}
	return name, token
}
